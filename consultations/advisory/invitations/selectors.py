"""What the invitation pages read."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from consultations.advisory.invitations.models import Invitation, InvitationUse
from consultations.advisory.models import AdvisoryForum
from forums.permissions import can_participate


def takes_part(user: Any, advisory: AdvisoryForum) -> bool:
    """Whether ``user`` may take part in the advisory forum already (an invitation needs no use)."""
    return can_participate(user, advisory.forum)


def invitations_of(advisory: AdvisoryForum) -> list[Invitation]:
    """The forum's links, newest first, each with its ``status`` and the guests who came in
    through it (``uses``, newest first): two queries, whatever the number of links and guests."""
    uses = InvitationUse.objects.select_related("guest", "ended_by").order_by("-joined_at", "-pk")
    invitations = list(
        advisory.invitations.select_related("organisation", "created_by").prefetch_related(
            Prefetch("uses", queryset=uses)
        )
    )
    now = timezone.now()
    for invitation in invitations:
        invitation.current_status = invitation.status(now)
    return invitations
