"""What the tracker's pages read: commitments by status and chapter, with counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from consultations.conferences.models import Commitment, CommitmentAssessment
from consultations.conferences.tracker.services import TRACKER_FORUM_SLUG
from forums.models import Forum
from forums.permissions import can_view_forum


def can_view_tracker(user: Any) -> bool:
    """Whoever may read the tracker's forum; before it exists, every active member (not guests)."""
    forum = Forum.objects.filter(slug=TRACKER_FORUM_SLUG).first()
    if forum is not None:
        return can_view_forum(user, forum)
    return bool(user.is_authenticated and user.is_active and not user.is_guest)


@dataclass
class Overview:
    commitments: list[Commitment]
    #: (status value, label, count) for every status, over all commitments
    status_counts: list[tuple[str, str, int]]
    #: (chapter, count) over all commitments
    chapters: list[tuple[str, int]]
    total: int


def overview(*, status: str = "", chapter: str = "") -> Overview:
    """The commitments (filtered by status and chapter when given), with the counts of all."""
    by_status = dict(Commitment.objects.values_list("status").annotate(n=Count("pk")).order_by())
    chapters = list(
        Commitment.objects.values_list("chapter").annotate(n=Count("pk")).order_by("chapter")
    )
    commitments: QuerySet[Commitment] = Commitment.objects.select_related("thread")
    if status in Commitment.Status.values:
        commitments = commitments.filter(status=status)
    if chapter:
        commitments = commitments.filter(chapter=chapter)
    latest = CommitmentAssessment.objects.select_related("assessed_by").order_by(
        "-assessed_at", "-pk"
    )
    commitments = commitments.prefetch_related(Prefetch("assessments", queryset=latest))
    return Overview(
        commitments=list(commitments.order_by("chapter", "position", "pk")),
        status_counts=[
            (value, label, by_status.get(value, 0)) for value, label in Commitment.Status.choices
        ],
        chapters=chapters,
        total=sum(by_status.values()),
    )


def commitment_detail(pk: int) -> Commitment | None:
    return (
        Commitment.objects.select_related("thread")
        .prefetch_related(
            Prefetch(
                "assessments",
                queryset=CommitmentAssessment.objects.select_related("assessed_by").order_by(
                    "-assessed_at", "-pk"
                ),
            ),
            "agenda_items__conference",
        )
        .filter(pk=pk)
        .first()
    )
