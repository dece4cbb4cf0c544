"""The writers of conferences, roles and agenda items (the speaker queue and polls have their own
service modules beside this one).

Every service takes keyword arguments, checks who-may (``permissions``), then when-may (phase),
writes inside ``transaction.atomic()`` and, where the conference page changes, records an event in
the conference's outbox and broadcasts it after commit (``live``). A refusal raises
:class:`forums.errors.ServiceError` and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consultations.conferences import events, live
from consultations.conferences.models import AgendaItem, Conference, ConferenceRole
from consultations.conferences.permissions import can_chair, can_organise
from deliberation import clock
from deliberation.models import Member
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Forum
from forums.permissions import is_staff


def _require_organiser(actor: Member, conference: Conference) -> None:
    if not can_organise(actor, conference):
        raise ServiceError("forbidden", _("Only the conference's organisers may do this."))


def _require_chair(actor: Member, conference: Conference) -> None:
    if not can_chair(actor, conference):
        raise ServiceError("forbidden", _("Only the conference's chairs may do this."))


def conference_create(
    *,
    actor: Member,
    title: str,
    slug: str,
    starts_at: datetime,
    ends_at: datetime,
    written_opens_at: datetime,
    written_closes_at: datetime,
    description: str = "",
    **details: Any,
) -> Conference:
    """Create a conference (staff only) with its own forum of kind ``conference``.

    ``details`` are the venue, access and video fields of :class:`Conference`.
    """
    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may create conferences."))
    if not starts_at < ends_at:
        raise ServiceError("invalid", _("The conference must end after it starts."))
    if not written_opens_at < written_closes_at:
        raise ServiceError("invalid", _("The written discussion must close after it opens."))
    allowed = {f.name for f in Conference._meta.get_fields()} - {
        "id",
        "forum",
        "phase",
        "current_item",
        "last_seq",
        "description_html",
        "slug",
    }
    unknown = set(details) - allowed
    if unknown:
        raise TypeError(f"unknown conference fields: {sorted(unknown)}")
    with transaction.atomic():
        forum = forum_services.forum_create(
            actor=actor,
            title=title,
            slug=slug,
            kind=Forum.Kind.CONFERENCE,
            description=description,
        )
        return Conference.objects.create(
            title=forum.title,
            slug=slug,
            description=description,
            description_html=forum.description_html,
            starts_at=starts_at,
            ends_at=ends_at,
            written_opens_at=written_opens_at,
            written_closes_at=written_closes_at,
            forum=forum,
            **details,
        )


def conference_role_grant(
    *, actor: Member, conference: Conference, member: Member, role: str
) -> None:
    """Make ``member`` an organiser or chair; organisers also moderate the conference's forum."""
    _require_organiser(actor, conference)
    if member.is_guest:
        raise ServiceError("invalid", _("Guests cannot run a conference."))
    with transaction.atomic():
        ConferenceRole.objects.get_or_create(conference=conference, member=member, role=role)
        if role == ConferenceRole.Role.ORGANISER:
            forum_services.forum_grant(
                actor=actor, forum=conference.forum, member=member, right="moderate"
            )


def agenda_item_create(
    *,
    actor: Member,
    conference: Conference,
    title: str,
    description: str = "",
    planned_minutes: int = 30,
    speaking_seconds: int = 180,
) -> AgendaItem:
    """Add an item at the end of the agenda, with its own thread in the conference's forum.

    The thread's first post is the item's description (or its title), by the organiser.
    """
    _require_organiser(actor, conference)
    if not 1 <= planned_minutes <= 24 * 60:
        raise ServiceError("invalid", _("Please give a duration between 1 and 1,440 minutes."))
    if not 15 <= speaking_seconds <= 60 * 60:
        raise ServiceError("invalid", _("Please give a speaking time between 15 s and 60 min."))
    with transaction.atomic():
        thread = forum_services.thread_create(
            actor=actor,
            forum=conference.forum,
            title=title,
            body=description or title,
        )
        last = conference.agenda.order_by("-position").values_list("position", flat=True).first()
        return AgendaItem.objects.create(
            conference=conference,
            position=(last or 0) + 1,
            title=thread.title,
            description=description,
            planned_minutes=planned_minutes,
            speaking_seconds=speaking_seconds,
            thread=thread,
        )


def agenda_set_current(
    *, actor: Member, conference: Conference, item: AgendaItem | None
) -> Conference:
    """The chair moves the conference to ``item`` (or to none); every page follows live.

    The item left gets its ``ended_at``, the item entered its ``started_at`` (the first time),
    which the running schedule compares with the planned durations.
    """
    _require_chair(actor, conference)
    if item is not None and item.conference_id != conference.pk:
        raise ServiceError("invalid", _("This item belongs to another conference."))
    now = clock.now()
    with transaction.atomic():
        locked = live.lock(conference)
        if locked.current_item_id == (item.pk if item else None):
            return locked
        if locked.current_item_id is not None:
            AgendaItem.objects.filter(pk=locked.current_item_id).update(ended_at=now)
        if item is not None:
            AgendaItem.objects.filter(pk=item.pk, started_at__isnull=True).update(started_at=now)
            AgendaItem.objects.filter(pk=item.pk).update(ended_at=None)
            item.refresh_from_db()
        locked.current_item = item
        live.record_and_broadcast(locked, {**events.agenda_current(locked, item)})
        Conference.objects.filter(pk=locked.pk).update(current_item=item)
    return locked


def written_discussion_open(conference: Conference, *, at: datetime | None = None) -> bool:
    """Whether members may write in the conference's threads now: from the opening of the
    preparation until the end of the follow-up, and on the live day; never once archived."""
    if conference.phase == Conference.Phase.ARCHIVED:
        return False
    if conference.phase == Conference.Phase.LIVE:
        return True
    at = at or clock.now()
    return conference.written_opens_at <= at < conference.written_closes_at


def phase_guard(actor: Member, forum: Forum) -> None:
    """A participation guard (forums.services): no written post outside the conference's window."""
    if forum.kind != Forum.Kind.CONFERENCE:
        return
    conference = Conference.objects.filter(forum=forum).first()
    if conference is None or written_discussion_open(conference):
        return
    if can_chair(actor, conference):
        return  # organisers and chairs prepare the threads before the discussion opens
    at = clock.now()
    if conference.phase != Conference.Phase.ARCHIVED and at < conference.written_opens_at:
        raise ServiceError(
            "closed",
            _("The written discussion of this conference opens on %(date)s.")
            % {"date": _format_date(conference.written_opens_at)},
        )
    raise ServiceError("closed", _("The written discussion of this conference has closed."))


def _format_date(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
