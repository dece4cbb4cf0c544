"""The writers of the speaker queue (Redeliste). Nothing else changes a speak request.

Every service checks who-may (``permissions``), then when-may (the live day, an open list),
locks the conference row (``live.lock``: every queue write of a conference runs one at a time,
so two chairs calling next never call the same entry twice and concurrent requests neither
duplicate nor lose an entry), writes, and records ``queue.changed`` with the item's complete
public queue in the conference's outbox, broadcast after commit. A refusal raises
:class:`forums.errors.ServiceError` and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from consultations.conferences import live
from consultations.conferences.models import AgendaItem, Conference
from consultations.conferences.permissions import can_chair, is_registered
from consultations.conferences.queue import events
from consultations.conferences.queue.models import SpeakerList, SpeakRequest, SubList
from consultations.conferences.queue.selectors import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_SUBLISTS,
    SPEECH_KINDS,
    Entry,
    QueueState,
    queue_state,
    sublists_of,
)
from deliberation import clock
from deliberation.models import Member
from forums.errors import ServiceError

Kind = SpeakRequest.Kind
State = SpeakRequest.State

MIN_SECONDS = 15
MAX_SECONDS = 60 * 60
NAME_MAX = 80
SUBLIST_NAME_MAX = 120
SUBLIST_SHORT_MAX = 30
MAX_SUBLISTS = 8


# --- guards ----------------------------------------------------------------------------------


def _require_chair(actor: Member, conference: Conference) -> None:
    if not can_chair(actor, conference):
        raise ServiceError("forbidden", _("Only the conference's chairs may run the speaker list."))


def _require_live(conference: Conference) -> None:
    if conference.phase != Conference.Phase.LIVE:
        raise ServiceError("closed", _("The speaker list is kept on the live day only."))


def _check_seconds(seconds: int | None) -> None:
    if seconds is not None and not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ServiceError("invalid", _("Please give a speaking time between 15 s and 60 min."))


def _check_item(conference: Conference, item: AgendaItem) -> None:
    if item.conference_id != conference.pk:
        raise ServiceError("invalid", _("This item belongs to another conference."))


# --- the locked write path -------------------------------------------------------------------


def _begin(conference: Conference, item: AgendaItem) -> tuple[Conference, SpeakerList]:
    """Lock the conference, then fetch (or create) the item's list. Inside atomic."""
    locked = live.lock(conference)
    speaker_list, _created = SpeakerList.objects.get_or_create(item=item)
    return locked, speaker_list


def _publish(
    locked: Conference, item: AgendaItem, state: QueueState | None = None
) -> dict[str, Any]:
    """Record and broadcast the item's queue as it now is (last step of every write).

    ``state``: the queue after the write where the service derived it, so it is not read again.
    """
    return live.record_and_broadcast(locked, events.queue_changed(item, state=state))


def _next_position(item: AgendaItem) -> int:
    top = SpeakRequest.objects.filter(item=item).aggregate(top=Max("position"))["top"]
    return (top or 0) + 1


def _resolve_sublist(
    item: AgendaItem, key: str, stored: list[SubList]
) -> tuple[SubList, list[SubList]]:
    """The stored sub-list for a key a speaker chose, and the item's stored sub-lists after.

    ``stored``: the item's sub-lists (``sublists_of``) as read under the lock. A default is
    stored on first use: ``default-<n>`` names the n-th default sub-list, stored or not yet (a
    form rendered before somebody else's request stored them still works).
    """
    key = (key or "").strip()
    refused = ServiceError("invalid", _("Please choose one of the lists."))
    default_index: int | None = None
    if key.startswith(DEFAULT_KEY_PREFIX):
        index_text = key[len(DEFAULT_KEY_PREFIX) :]
        if not (index_text.isascii() and index_text.isdigit() and len(index_text) < 3):
            raise refused
        default_index = int(index_text)
        if default_index >= len(DEFAULT_SUBLISTS):
            raise refused
    if stored:
        for sublist in stored:
            if (default_index is None and str(sublist.pk) == key) or (
                default_index is not None and sublist.origin == default_index
            ):
                return sublist, stored
        raise refused
    if default_index is None:
        raise refused
    defaults = _store_defaults(conference_id=item.conference_id, item=None)
    return defaults[default_index], defaults


def _store_defaults(*, conference_id: int, item: AgendaItem | None) -> list[SubList]:
    """Store the quota's default sub-lists, named in the site's language (not the asker's)."""
    with translation.override(settings.LANGUAGE_CODE):
        return [
            SubList.objects.create(
                conference_id=conference_id,
                item=item,
                name=str(n),
                short=str(s),
                position=i,
                origin=i,
            )
            for i, (n, s) in enumerate(DEFAULT_SUBLISTS)
        ]


def _insert(**fields: Any) -> SpeakRequest:
    try:
        with transaction.atomic():
            return SpeakRequest.objects.create(**fields)
    except IntegrityError as error:  # the database's unique backstop
        raise ServiceError(
            "conflict", _("You are already on the list with a request of this kind.")
        ) from error


def _finish(entries: list[Entry], now: Any) -> None:
    for entry in entries:
        entry.state = State.DONE
        entry.finished_at = now
        SpeakRequest.objects.filter(pk=entry.pk).update(state=State.DONE, finished_at=now)


def _lapse_interpositions(parent: Entry) -> None:
    SpeakRequest.objects.filter(
        parent_id=parent.pk, kind=Kind.INTERPOSITION, state=State.WAITING
    ).update(state=State.LAPSED)


def _start(entry: SpeakRequest, speaker_list: SpeakerList, seconds: int | None, now: Any) -> None:
    entry.state = State.SPEAKING
    entry.started_at = now
    entry.seconds = seconds or entry.item.speaking_seconds
    entry.save(update_fields=["state", "started_at", "seconds"])
    if entry.kind in SPEECH_KINDS and entry.sublist_id is not None:
        speaker_list.last_sublist_id = entry.sublist_id
        speaker_list.save(update_fields=["last_sublist"])


def _end_turn(state: QueueState, now: Any, *, keep_main: bool) -> None:
    """End whoever speaks; with ``keep_main`` only an interposed question, the main speaker
    then resumes with the interruption added to their time."""
    main = state.main_speaker
    interrupting = [e for e in state.speaking if e.kind == Kind.INTERPOSITION]
    _finish(interrupting, now)
    if main is None:
        return
    if keep_main:
        paused = sum(((now - e.started_at) for e in interrupting if e.started_at), timedelta())
        if paused:
            main.started_at = main.started_at + paused
            SpeakRequest.objects.filter(pk=main.pk).update(started_at=main.started_at)
        return
    _finish([main], now)
    _lapse_interpositions(main)


# --- members ---------------------------------------------------------------------------------


def speak_request_create(
    *,
    actor: Member,
    conference: Conference,
    item: AgendaItem,
    kind: str,
    sublist: str = "",
) -> SpeakRequest:
    """A registered member asks to speak on ``item``.

    Contributions and questions go on the sub-list the member chooses now (``sublist``, a key
    from ``selectors.lanes_of``), and only while the list is open; a point of order goes to the
    front and is allowed on a closed list; an interposed question is addressed to whoever
    speaks now, and only while somebody does. One waiting request of each kind group per member.
    """
    if not is_registered(actor, conference):
        raise ServiceError(
            "forbidden", _("Only members registered for this conference may ask to speak.")
        )
    _check_item(conference, item)
    if kind not in Kind.values:
        raise ServiceError("invalid", _("Please choose what you want to say."))
    _require_live(conference)
    now = clock.now()
    with transaction.atomic():
        locked, speaker_list = _begin(conference, item)
        _require_live(locked)
        state = queue_state(item, speaker_list=speaker_list)
        sublists = state.sublists
        fields: dict[str, Any] = {
            "item": item,
            "member": actor,
            "kind": kind,
            "created_at": now,
            "position": _next_position(item),
        }
        mine = {e.kind for e in state.live if e.member_id == actor.pk and e.state == State.WAITING}
        if kind in SPEECH_KINDS:
            if not speaker_list.is_open:
                raise ServiceError("closed", _("The speaker list is closed."))
            if mine & set(SPEECH_KINDS):
                raise ServiceError("conflict", _("You are already on the speaker list."))
            fields["sublist"], sublists = _resolve_sublist(item, sublist, sublists)
        elif kind == Kind.POINT_OF_ORDER:
            if kind in mine:
                raise ServiceError("conflict", _("Your point of order is already waiting."))
        else:
            main = state.main_speaker
            if main is None:
                raise ServiceError("closed", _("An interposed question needs somebody speaking."))
            if main.member_id is not None and main.member_id == actor.pk:
                raise ServiceError("invalid", _("You cannot interrupt yourself."))
            if kind in mine:
                raise ServiceError("conflict", _("Your interposed question is already waiting."))
            fields["parent_id"] = main.pk
        entry = _insert(**fields)
        _publish(locked, item, state.with_added(entry, sublists=sublists))
    return entry


def speak_request_withdraw(*, actor: Member, entry: SpeakRequest) -> SpeakRequest:
    """A member takes back their own waiting request."""
    if entry.member_id is None or entry.member_id != getattr(actor, "pk", None):
        raise ServiceError("forbidden", _("You may withdraw only your own request."))
    item = entry.item
    with transaction.atomic():
        locked, _list = _begin(item.conference, item)
        entry.refresh_from_db()
        if entry.state != State.WAITING:
            raise ServiceError("conflict", _("This request is no longer waiting."))
        entry.state = State.WITHDRAWN
        entry.finished_at = clock.now()
        entry.save(update_fields=["state", "finished_at"])
        _publish(locked, item)
    return entry


# --- the chair -------------------------------------------------------------------------------


def speak_request_add_hall(
    *,
    actor: Member,
    conference: Conference,
    item: AgendaItem,
    name: str,
    kind: str,
    sublist: str = "",
) -> SpeakRequest:
    """The chair puts a hall speaker who has no account on the list by name (even when closed)."""
    _require_chair(actor, conference)
    _check_item(conference, item)
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("invalid", _("Please give the speaker's name."))
    if len(name) > NAME_MAX:
        raise ServiceError("too_long", _("Please give a name of at most 80 characters."))
    if kind not in (Kind.CONTRIBUTION, Kind.QUESTION, Kind.POINT_OF_ORDER):
        raise ServiceError("invalid", _("Please choose what the speaker wants to say."))
    _require_live(conference)
    with transaction.atomic():
        locked, speaker_list = _begin(conference, item)
        _require_live(locked)
        state = queue_state(item, speaker_list=speaker_list)
        sublists = state.sublists
        fields: dict[str, Any] = {
            "item": item,
            "name": name,
            "kind": kind,
            "created_at": clock.now(),
            "position": _next_position(item),
        }
        if kind in SPEECH_KINDS:
            fields["sublist"], sublists = _resolve_sublist(item, sublist, sublists)
        entry = _insert(**fields)
        _publish(locked, item, state.with_added(entry, sublists=sublists))
    return entry


def speak_request_call_next(
    *, actor: Member, conference: Conference, item: AgendaItem, seconds: int | None = None
) -> SpeakRequest | None:
    """The chair gives the word to the next in the call order (None: nobody waits).

    The one speaking ends their turn, unless the next is an interposed question to them: then
    they pause and resume after it. ``seconds`` overrides the item's speaking time.
    """
    _require_chair(actor, conference)
    _check_item(conference, item)
    _check_seconds(seconds)
    _require_live(conference)
    now = clock.now()
    with transaction.atomic():
        locked, speaker_list = _begin(conference, item)
        _require_live(locked)
        state = queue_state(item)
        first = state.waiting[0] if state.waiting else None
        chosen = SpeakRequest.objects.get(pk=first.pk) if first is not None else None
        is_interposition = chosen is not None and chosen.kind == Kind.INTERPOSITION
        _end_turn(state, now, keep_main=is_interposition)
        if chosen is not None:
            _start(chosen, speaker_list, seconds, now)
        elif not state.speaking:
            return None
        _publish(locked, item)
    return chosen


def speak_request_finish(*, actor: Member, entry: SpeakRequest) -> SpeakRequest:
    """The chair marks the one speaking as done (an interposed question: its speaker resumes)."""
    item = entry.item
    _require_chair(actor, item.conference)
    now = clock.now()
    with transaction.atomic():
        locked, _list = _begin(item.conference, item)
        entry.refresh_from_db()
        if entry.state != State.SPEAKING:
            raise ServiceError("conflict", _("This speaker does not have the word."))
        state = queue_state(item)
        if entry.kind == Kind.INTERPOSITION:
            _end_turn(state, now, keep_main=True)
        else:
            _end_turn(state, now, keep_main=False)
        entry.refresh_from_db()
        _publish(locked, item)
    return entry


def speak_request_remove(*, actor: Member, entry: SpeakRequest) -> SpeakRequest:
    """The chair takes a waiting request off the list."""
    item = entry.item
    _require_chair(actor, item.conference)
    with transaction.atomic():
        locked, _list = _begin(item.conference, item)
        entry.refresh_from_db()
        if entry.state != State.WAITING:
            raise ServiceError("conflict", _("This request is no longer waiting."))
        entry.state = State.REMOVED
        entry.finished_at = clock.now()
        entry.save(update_fields=["state", "finished_at"])
        _publish(locked, item)
    return entry


def speak_request_move(*, actor: Member, entry: SpeakRequest, direction: str) -> SpeakRequest:
    """The chair moves a waiting request one place up or down within its own lane (its
    sub-list, or the points of order). The quota decides between the sub-lists."""
    item = entry.item
    _require_chair(actor, item.conference)
    if direction not in ("up", "down"):
        raise ServiceError("invalid", _("Please choose up or down."))
    with transaction.atomic():
        locked, _list = _begin(item.conference, item)
        entry.refresh_from_db()
        if entry.state != State.WAITING:
            raise ServiceError("conflict", _("This request is no longer waiting."))
        state = queue_state(item)
        lane = [e for e in state.waiting if _lane(e) == _lane(entry)]
        index = next(i for i, e in enumerate(lane) if e.pk == entry.pk)
        other_index = index - 1 if direction == "up" else index + 1
        if not 0 <= other_index < len(lane):
            raise ServiceError("invalid", _("This request cannot move further."))
        other = lane[other_index]
        if (
            state.first_time_priority
            and entry.kind in SPEECH_KINDS
            and ((_spoke(state, entry)) != (_spoke(state, other)))
        ):
            raise ServiceError(
                "invalid",
                _("First-time speakers go first while that is on; switch it off to move past."),
            )
        entry.position, other.position = other.position, entry.position
        if entry.position == other.position:  # equal positions: separate them
            entry.position = other.position + (1 if direction == "down" else 0)
            if direction == "up":
                other.position += 1
        SpeakRequest.objects.filter(pk=entry.pk).update(position=entry.position)
        SpeakRequest.objects.filter(pk=other.pk).update(position=other.position)
        _publish(locked, item)
    return entry


def _lane(entry: SpeakRequest | Entry) -> tuple[str, Any]:
    if entry.kind in SPEECH_KINDS:
        return ("speech", entry.sublist_id)
    return (entry.kind, entry.parent_id)


def _spoke(state: QueueState, entry: SpeakRequest | Entry) -> bool:
    from consultations.conferences.queue.selectors import speaker_key

    return speaker_key(entry) in state.spoken


def _speaker_list_set(
    *, actor: Member, conference: Conference, item: AgendaItem, field: str, value: bool
) -> SpeakerList:
    _require_chair(actor, conference)
    _check_item(conference, item)
    with transaction.atomic():
        locked, speaker_list = _begin(conference, item)
        if getattr(speaker_list, field) != value:
            setattr(speaker_list, field, value)
            speaker_list.save(update_fields=[field])
            _publish(locked, item)
    return speaker_list


def speaker_list_set_open(
    *, actor: Member, conference: Conference, item: AgendaItem, is_open: bool
) -> SpeakerList:
    """The chair closes the list (no new contributions or questions) or reopens it."""
    return _speaker_list_set(
        actor=actor, conference=conference, item=item, field="is_open", value=is_open
    )


def speaker_list_set_priority(
    *, actor: Member, conference: Conference, item: AgendaItem, first_time: bool
) -> SpeakerList:
    """The chair turns first-time priority on or off for this item."""
    return _speaker_list_set(
        actor=actor,
        conference=conference,
        item=item,
        field="first_time_priority",
        value=first_time,
    )


def speak_request_set_time(*, actor: Member, entry: SpeakRequest, seconds: int) -> SpeakRequest:
    """The chair gives the one speaking another speaking time (counted from their start)."""
    item = entry.item
    _require_chair(actor, item.conference)
    _check_seconds(seconds)
    with transaction.atomic():
        locked, _list = _begin(item.conference, item)
        entry.refresh_from_db()
        if entry.state != State.SPEAKING:
            raise ServiceError("conflict", _("This speaker does not have the word."))
        entry.seconds = seconds
        entry.save(update_fields=["seconds"])
        _publish(locked, item)
    return entry


def sublist_create(
    *,
    actor: Member,
    conference: Conference,
    name: str,
    short: str,
    item: AgendaItem | None = None,
) -> SubList:
    """The chair adds a sub-list for the whole conference, or for one item.

    An item's first sub-list of its own starts from a copy of the sub-lists it had until then,
    so configuring one item never drops the quota's lists from it.
    """
    _require_chair(actor, conference)
    if item is not None:
        _check_item(conference, item)
    if conference.phase == Conference.Phase.ARCHIVED:
        raise ServiceError("closed", _("This conference is archived."))
    name = " ".join((name or "").split())
    short = " ".join((short or "").split())
    if not name or not short:
        raise ServiceError("invalid", _("Please give the list a name and a short label."))
    if len(name) > SUBLIST_NAME_MAX or len(short) > SUBLIST_SHORT_MAX:
        raise ServiceError(
            "too_long",
            _("Please keep the name within 120 and the short label within 30 characters."),
        )
    with transaction.atomic():
        locked = live.lock(conference)
        scope = SubList.objects.filter(conference=conference, item=item)
        if item is not None and not scope.exists():
            inherited = sublists_of(item)
            if not inherited:
                inherited = [
                    SubList(name=str(n), short=str(s), position=i)
                    for i, (n, s) in enumerate(DEFAULT_SUBLISTS)
                ]
            for i, source in enumerate(inherited):
                SubList.objects.create(
                    conference=conference,
                    item=item,
                    name=source.name,
                    short=source.short,
                    position=i,
                    origin=source.origin,
                )
        elif item is None and not scope.exists():
            for i, (n, s) in enumerate(DEFAULT_SUBLISTS):
                SubList.objects.create(conference=conference, name=str(n), short=str(s), position=i)
        if scope.count() >= MAX_SUBLISTS:
            raise ServiceError("invalid", _("A speaker list has at most eight sub-lists."))
        if scope.filter(name__iexact=name).exists():
            raise ServiceError("conflict", _("There is already a list of this name."))
        top = scope.aggregate(top=Max("position"))["top"]
        sublist = SubList.objects.create(
            conference=conference, item=item, name=name, short=short, position=(top or 0) + 1
        )
        affected = [item] if item is not None else list(conference.agenda.all())
        for each in affected:
            if SpeakerList.objects.filter(item=each).exists():
                _publish(locked, each)
    return sublist
