"""What the advisory pages read. The page's queries do not grow with its meetings or
organisations (tested)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from consultations.advisory.models import AdvisoryForum, Meeting, Organisation
from consultations.advisory.permissions import visible_advisories


@dataclass
class AdvisoryPage:
    next_meeting: Meeting | None
    later_meetings: list[Meeting]
    past_count: int
    organisations: list[Organisation]


def advisory_index(*, user: Any) -> QuerySet[AdvisoryForum]:
    """The advisory forums ``user`` may see, each with its next meeting's start (one query)."""
    now = timezone.now()
    return visible_advisories(user).annotate(
        next_meeting_at=Min("meetings__starts_at", filter=Q(meetings__ends_at__gte=now)),
        organisation_count=Count("organisations", distinct=True),
    )


def advisory_page(*, advisory: AdvisoryForum) -> AdvisoryPage:
    """Meetings (the next one apart) and organisations: two queries."""
    now = timezone.now()
    meetings = list(advisory.meetings.select_related("conference"))
    upcoming = [meeting for meeting in meetings if meeting.ends_at >= now]
    return AdvisoryPage(
        next_meeting=upcoming[0] if upcoming else None,
        later_meetings=upcoming[1:],
        past_count=len(meetings) - len(upcoming),
        organisations=list(advisory.organisations.all()),
    )
