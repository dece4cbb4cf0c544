"""What the decisions pages read: the list, a month of the calendar, a topic's feed, the topics
a member follows, and the dashboard's "coming up". Writers live in ``services``; who may read
in ``permissions`` (every selector here assumes a reader already checked)."""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations.decisions.models import Decision, Topic, TopicFollow
from consultations.decisions.permissions import can_read
from deliberation import dashboard


def topics() -> list[Topic]:
    return list(Topic.objects.order_by("name"))


def followed_topic_ids(*, user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(TopicFollow.objects.filter(member=user).values_list("topic_id", flat=True))


def decision_list(*, topic: Topic | None = None) -> QuerySet[Decision]:
    """Upcoming decisions first (soonest first), then the decided ones (newest first), each
    with its topics (two queries per page, whatever its length)."""
    rows = Decision.objects.all()
    if topic is not None:
        rows = rows.filter(topics=topic)
    upcoming = Q(status=Decision.Status.UPCOMING)
    return (
        rows.annotate(
            _rank=Case(
                When(upcoming, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            _ahead=Case(When(upcoming, then=F("date"))),
            _behind=Case(When(~upcoming, then=F("date"))),
        )
        .order_by(
            "_rank",
            F("_ahead").asc(nulls_last=True),
            F("_behind").desc(nulls_last=True),
            F("time").asc(nulls_first=True),
            "pk",
        )
        .prefetch_related("topics")
    )


def feed_decisions(*, topic: Topic | None = None) -> QuerySet[Decision]:
    """Every decision (of ``topic``), by date, for the iCal feed."""
    rows = Decision.objects.order_by("date", "time", "pk")
    if topic is not None:
        rows = rows.filter(topics=topic)
    return rows.prefetch_related("topics")


@dataclass
class Day:
    day: Date
    in_month: bool
    is_today: bool
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class Month:
    first: Date
    weeks: list[list[Day]]
    previous: Date
    next: Date

    @property
    def days_with_decisions(self) -> list[Day]:
        return [d for week in self.weeks for d in week if d.in_month and d.decisions]

    @property
    def weeks_with_decisions(self) -> list[tuple[int, list[Day]]]:
        """(ISO week number, its days of this month that have decisions), for the phone list."""
        found = []
        for week in self.weeks:
            days = [d for d in week if d.in_month and d.decisions]
            if days:
                found.append((days[0].day.isocalendar()[1], days))
        return found


def month(*, year: int, month: int, topic: Topic | None = None, today: Date | None = None) -> Month:
    """The month's weeks (Monday first) with each day's decisions (two queries)."""
    today = today or timezone.localdate()
    first = Date(year, month, 1)
    weeks_of_dates = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start, end = weeks_of_dates[0][0], weeks_of_dates[-1][-1]
    rows = Decision.objects.filter(date__range=(start, end)).order_by("date", "time", "pk")
    if topic is not None:
        rows = rows.filter(topics=topic)
    by_day: dict[Date, list[Decision]] = {}
    for decision in rows.prefetch_related("topics"):
        by_day.setdefault(decision.date, []).append(decision)
    weeks = [
        [Day(d, d.month == month, d == today, by_day.get(d, [])) for d in week]
        for week in weeks_of_dates
    ]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    return Month(first=first, weeks=weeks, previous=previous, next=following)


# --- the dashboard's slot -------------------------------------------------------------------------


def dashboard_upcoming(*, user: Any, now: datetime) -> list[dashboard.UpcomingEntry]:
    """The next upcoming decisions: of the topics ``user`` follows, topped up with others when
    those are fewer than the slot holds (or all, for a member who follows none). Nothing for
    guests and visitors. One query."""
    if not can_read(user):
        return []
    today = timezone.localdate(now)
    followed = Decision.topics.through.objects.filter(
        decision=OuterRef("pk"), topic__follows__member=user
    )
    decisions = (
        Decision.objects.filter(status=Decision.Status.UPCOMING, date__gte=today)
        .annotate(_followed=Exists(followed))
        .order_by("-_followed", "date", F("time").asc(nulls_first=True), "pk")
    )[: dashboard.SLOT_LIMIT]
    entries = []
    for decision in decisions:
        entries.append(
            dashboard.UpcomingEntry(
                title=decision.title,
                url=decision.get_absolute_url(),
                starts_at=decision.starts_at,
                context=_("Decision: %(institution)s")
                % {"institution": decision.get_institution_display()},
                all_day=decision.time is None,
            )
        )
    return entries
