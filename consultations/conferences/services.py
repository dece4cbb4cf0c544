"""The writers of conferences, roles and agenda items (the speaker queue and polls have their own
service modules beside this one).

Every service takes keyword arguments, checks who-may (``permissions``), then when-may (phase),
writes inside ``transaction.atomic()`` and, where the conference page changes, records an event in
the conference's outbox and broadcasts it after commit (``live``). A refusal raises
:class:`forums.errors.ServiceError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consultations.conferences import events, live
from consultations.conferences.models import (
    AgendaItem,
    Commitment,
    Conference,
    ConferenceRole,
    Registration,
)
from consultations.conferences.permissions import can_chair, can_organise, can_register
from deliberation import clock
from deliberation.models import Member
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Forum
from forums.permissions import is_staff

#: Addresses under /konferenzen/ that are pages of their own, never a conference's short name
#: (the tracker's forum also takes "koalitionsvertrag" as its forum's short name).
RESERVED_SLUGS = frozenset({"koalitionsvertrag", "kalender"})
#: Bounds of a registration's needs (the form says the same; the service decides).
MAX_CHILDREN = 10
MAX_CHILD_AGE = 17
MAX_NEEDS_LENGTH = 2_000
#: The phases in their order; a step forward goes one phase at a time, back any number,
#: never out of "archived" (its needs are deleted then: nothing to go back to).
PHASE_ORDER = [
    Conference.Phase.PREPARATION,
    Conference.Phase.LIVE,
    Conference.Phase.FOLLOW_UP,
    Conference.Phase.ARCHIVED,
]


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
    if slug.lower() in RESERVED_SLUGS:
        raise ServiceError(
            "invalid", _("This short name is used by the site itself; please choose another.")
        )
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
    _check_durations(planned_minutes, speaking_seconds)
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


# --- phases ------------------------------------------------------------------------------------


def conference_set_phase(*, actor: Member, conference: Conference, phase: str) -> Conference:
    """Move the conference to ``phase`` (organisers and staff).

    Forward one phase at a time (preparation, live, follow-up, archived), back any number of
    phases, never out of the archive. Archiving deletes every registration's needs (childcare,
    children's ages, accessibility) in the same transaction and closes the conference's forum.
    Every page follows live (``conference.phase``).
    """
    _require_organiser(actor, conference)
    if phase not in Conference.Phase.values:
        raise ServiceError("invalid", _("Unknown phase."))
    with transaction.atomic():
        locked = live.lock(conference)
        if locked.phase == phase:
            return locked
        if locked.phase == Conference.Phase.ARCHIVED:
            raise ServiceError(
                "invalid", _("An archived conference cannot be taken out of the archive.")
            )
        if PHASE_ORDER.index(phase) > PHASE_ORDER.index(locked.phase) + 1:
            raise ServiceError("invalid", _("Please move to the next phase one step at a time."))
        locked.phase = phase
        Conference.objects.filter(pk=locked.pk).update(phase=phase)
        if phase == Conference.Phase.ARCHIVED:
            Registration.objects.filter(conference=locked).update(
                childcare=False, children_ages=[], accessibility_needs=""
            )
            forum_services.forum_set_state(
                actor=actor, forum=locked.forum, state=Forum.State.ARCHIVED
            )
        live.record_and_broadcast(locked, events.conference_phase(locked))
    conference.phase = phase
    return locked


# --- registrations -----------------------------------------------------------------------------


def _clean_ages(children_ages: Iterable[Any], conference: Conference) -> list[int]:
    ages: list[int] = []
    for age in children_ages:
        if isinstance(age, bool) or not isinstance(age, int):
            raise ServiceError("invalid", _("Please give each child's age in whole years."))
        if not 0 <= age <= MAX_CHILD_AGE:
            raise ServiceError(
                "invalid",
                _("Please give ages between 0 and %(max)d years.") % {"max": MAX_CHILD_AGE},
            )
        ages.append(age)
        if len(ages) > MAX_CHILDREN:
            raise ServiceError(
                "invalid",
                _("Childcare can be registered for at most %(max)d children.")
                % {"max": MAX_CHILDREN},
            )
    if not ages:
        raise ServiceError("invalid", _("Please give the age of each child who needs care."))
    if min(ages) < 3 and not conference.childcare_under_three:
        raise ServiceError(
            "invalid", _("This conference offers no childcare for children under three.")
        )
    return sorted(ages)


def _clean_needs(text: Any) -> str:
    if not isinstance(text, str):
        raise ServiceError("invalid", _("Please describe your needs as text."))
    text = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(text) > MAX_NEEDS_LENGTH:
        raise ServiceError(
            "too_long",
            _("Please describe your needs in at most %(max)d characters.")
            % {"max": MAX_NEEDS_LENGTH},
        )
    return text


def registration_save(
    *,
    actor: Member,
    conference: Conference,
    attendance: str,
    childcare: bool = False,
    children_ages: Iterable[Any] = (),
    accessibility_needs: str = "",
) -> Registration:
    """Register ``actor`` (or change their registration): in the hall or remote, with needs.

    Members who may view the conference, never guests; not once the live day is over. Childcare
    is for the hall, where the conference offers it; each child's age is 0 to 17, at most ten
    children. Only organisers read the needs, and archiving deletes them.
    """
    if not can_register(actor, conference):
        if getattr(actor, "is_guest", False):
            raise ServiceError("forbidden", _("Guests cannot register for a conference."))
        raise ServiceError("forbidden", _("Only members can register for a conference."))
    if conference.phase not in (Conference.Phase.PREPARATION, Conference.Phase.LIVE):
        raise ServiceError("closed", _("Registration for this conference has closed."))
    if attendance not in Registration.Attendance.values:
        raise ServiceError("invalid", _("Please choose: in the hall or remote."))
    ages: list[int] = []
    if childcare:
        if attendance != Registration.Attendance.HALL:
            raise ServiceError("invalid", _("Childcare is offered only in the hall."))
        if not conference.childcare:
            raise ServiceError("invalid", _("This conference offers no childcare."))
        ages = _clean_ages(children_ages, conference)
    needs = _clean_needs(accessibility_needs)
    fields = {
        "attendance": attendance,
        "childcare": bool(childcare),
        "children_ages": ages,
        "accessibility_needs": needs,
    }
    for _attempt in range(2):
        try:
            with transaction.atomic():
                registration, _created = Registration.objects.select_for_update().update_or_create(
                    conference=conference, member=actor, defaults=fields
                )
                return registration
        except IntegrityError:  # registered twice at once: the second one updates
            continue
    raise ServiceError("conflict", _("Please send the form again."))  # pragma: no cover


def registration_cancel(*, actor: Member, conference: Conference) -> bool:
    """Withdraw ``actor``'s registration with its needs; False if there was none."""
    if conference.phase == Conference.Phase.ARCHIVED:
        raise ServiceError("closed", _("This conference is archived."))
    with transaction.atomic():
        deleted, _rows = Registration.objects.filter(conference=conference, member=actor).delete()
    return bool(deleted)


# --- agenda ------------------------------------------------------------------------------------


def _check_durations(planned_minutes: int, speaking_seconds: int) -> None:
    if not 1 <= planned_minutes <= 24 * 60:
        raise ServiceError("invalid", _("Please give a duration between 1 and 1,440 minutes."))
    if not 15 <= speaking_seconds <= 60 * 60:
        raise ServiceError("invalid", _("Please give a speaking time between 15 s and 60 min."))


def agenda_item_update(
    *,
    actor: Member,
    item: AgendaItem,
    title: str,
    description: str = "",
    planned_minutes: int = 30,
    speaking_seconds: int = 180,
    commitments: Iterable[Commitment] | None = None,
) -> AgendaItem:
    """Change an item (organisers): title, description, durations and the commitments it
    discusses. The item's thread keeps its own title and first post (the thread's words are
    its authors'); the agenda shows the item's."""
    _require_organiser(actor, item.conference)
    title = " ".join(title.split()) if isinstance(title, str) else ""
    if not title or len(title) > 200:
        raise ServiceError("invalid", _("Please give the item a title of at most 200 characters."))
    if not isinstance(description, str) or len(description) > 5_000:
        raise ServiceError("invalid", _("The description may have at most 5,000 characters."))
    _check_durations(planned_minutes, speaking_seconds)
    with transaction.atomic():
        AgendaItem.objects.filter(pk=item.pk).update(
            title=title,
            description=description.replace("\x00", "").strip(),
            planned_minutes=planned_minutes,
            speaking_seconds=speaking_seconds,
        )
        if commitments is not None:
            item.commitments.set(list(commitments))
    item.refresh_from_db()
    return item


def agenda_item_move(*, actor: Member, item: AgendaItem, direction: str) -> AgendaItem:
    """Swap ``item`` with its neighbour ("up": earlier, "down": later); organisers only.

    Under the conference's lock, so two moves at once cannot give two items one position.
    """
    _require_organiser(actor, item.conference)
    if direction not in ("up", "down"):
        raise ServiceError("invalid", _("Unknown direction."))
    with transaction.atomic():
        live.lock(item.conference_id)
        current = AgendaItem.objects.get(pk=item.pk)
        siblings = AgendaItem.objects.filter(conference_id=current.conference_id)
        if direction == "up":
            other = siblings.filter(position__lt=current.position).order_by("-position").first()
        else:
            other = siblings.filter(position__gt=current.position).order_by("position").first()
        if other is None:
            return current
        AgendaItem.objects.filter(pk=current.pk).update(position=other.position)
        AgendaItem.objects.filter(pk=other.pk).update(position=current.position)
    item.refresh_from_db()
    return item


def agenda_next(*, actor: Member, conference: Conference) -> Conference:
    """The chair's "next item": the item after the current one (the first if none is current;
    none after the last)."""
    _require_chair(actor, conference)
    items = list(conference.agenda.order_by("position"))
    if not items:
        raise ServiceError("invalid", _("The agenda has no items yet."))
    current = next((i for i, it in enumerate(items) if it.pk == conference.current_item_id), None)
    following = items[0] if current is None else (items[current + 1 : current + 2] or [None])[0]
    return agenda_set_current(actor=actor, conference=conference, item=following)
