"""The tracker's writers: commitments of the coalition agreement and their assessments.

Who may:

* create a commitment: staff only. The commitments are the agreement's own text, entered once
  for the whole association; a conference's organisers link them to agenda items but do not
  write the agreement.
* assess a commitment (change its status, with a note): staff and the organisers of any
  conference (:func:`can_assess`). Every assessment is kept (who, when, status, note): the
  history is append-only.

Each commitment gets its own thread in one tracker forum (short name ``koalitionsvertrag``, kind
topic, readable by all members), created by :func:`tracker_forum` on first use.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from consultations.conferences.models import Commitment, CommitmentAssessment, ConferenceRole
from deliberation import clock
from deliberation.models import Member
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Forum
from forums.permissions import is_staff

TRACKER_FORUM_SLUG = "koalitionsvertrag"
MAX_NOTE_LENGTH = 2_000
MAX_TEXT_LENGTH = 5_000


def can_assess(user: Any) -> bool:
    """Staff, and members who organise any conference."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_staff(user):
        return True
    return ConferenceRole.objects.filter(member=user, role=ConferenceRole.Role.ORGANISER).exists()


def tracker_forum(*, actor: Member) -> Forum:
    """The tracker's forum, created (by staff) the first time it is needed."""
    forum = Forum.objects.filter(slug=TRACKER_FORUM_SLUG).first()
    if forum is not None:
        return forum
    return forum_services.forum_create(
        actor=actor,
        # Content, not interface: the forum's name is German like the agreement itself.
        title="Koalitionsvertrag",
        slug=TRACKER_FORUM_SLUG,
        kind=Forum.Kind.TOPIC,
        description="Ein Thema je Vorhaben des Koalitionsvertrags: Wie weit ist es, was fehlt, "
        "was sollte die Partei tun?",
    )


def _clean_text(value: Any, *, limit: int, message: str) -> str:
    text = value.replace("\x00", "").replace("\r\n", "\n").strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise ServiceError("invalid", message)
    return text


def commitment_create(
    *,
    actor: Member,
    chapter: str,
    text: str,
    reference: str = "",
    position: int = 0,
) -> Commitment:
    """Add a commitment (staff only) with its thread in the tracker forum; status "not started"."""
    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may add commitments."))
    chapter = " ".join(chapter.split()) if isinstance(chapter, str) else ""
    if not chapter or len(chapter) > 200:
        raise ServiceError("invalid", _("Please give a chapter of at most 200 characters."))
    text = _clean_text(
        text,
        limit=MAX_TEXT_LENGTH,
        message=_("Please give the commitment's text (at most 5,000 characters)."),
    )
    reference = " ".join(reference.split()) if isinstance(reference, str) else ""
    if len(reference) > 50:
        raise ServiceError("invalid", _("The reference may have at most 50 characters."))
    title = " ".join(text.split())
    if len(title) > 150:
        title = title[:149].rstrip() + "…"
    if reference:
        title = f"{reference}: {title}"
    with transaction.atomic():
        forum = tracker_forum(actor=actor)
        thread = forum_services.thread_create(actor=actor, forum=forum, title=title, body=text)
        return Commitment.objects.create(
            chapter=chapter, reference=reference, text=text, position=position, thread=thread
        )


def commitment_assess(
    *, actor: Member, commitment: Commitment, status: str, note: str = ""
) -> CommitmentAssessment:
    """Record an assessment: the commitment's new status and why (staff and organisers).

    Appends to the history (who, when) and sets the commitment's current status, under a row
    lock so two assessments at once are both kept, the later one current.
    """
    if not can_assess(actor):
        raise ServiceError(
            "forbidden", _("Only staff and conference organisers may assess commitments.")
        )
    if status not in Commitment.Status.values:
        raise ServiceError("invalid", _("Please choose a status."))
    if not isinstance(note, str):
        raise ServiceError("invalid", _("Please give your reasoning as text."))
    note = note.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ServiceError(
            "too_long",
            _("The reasoning may have at most %(max)d characters.") % {"max": MAX_NOTE_LENGTH},
        )
    with transaction.atomic():
        locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
        assessment = CommitmentAssessment.objects.create(
            commitment=locked,
            status=status,
            note=note,
            assessed_by=actor,
            assessed_at=clock.now(),
        )
        Commitment.objects.filter(pk=locked.pk).update(status=status)
    commitment.status = status
    return assessment
