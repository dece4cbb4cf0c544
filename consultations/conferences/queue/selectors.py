"""Reads of the speaker queue: the call order and the public snapshot every page shows.

The call order is computed, never stored: points of order first (in the order asked), then the
interposed questions to the current speaker, then the contributions and questions, taken from the
sub-lists in turn (the quota) starting after the sub-list that gave the last speaker. Within a
sub-list the chair's order (``position``) holds; with first-time priority on, those who have not
yet spoken on this item go before those who have.

:func:`queue_snapshot` is the complete public state of one item's queue: the page renders it on
load and ``queue.changed`` carries it, so a client applying the newest event is up to date.
It carries nothing that not everyone at the conference may see (display names, kinds, counts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.db.models import Q
from django.utils.translation import gettext_lazy

from consultations.conferences.models import AgendaItem, Conference
from consultations.conferences.queue.models import SpeakerList, SpeakRequest, SubList
from deliberation import clock

Kind = SpeakRequest.Kind
State = SpeakRequest.State

#: The quota's sub-lists where the chair configured none: the party's usage, called in turn.
DEFAULT_SUBLISTS: tuple[tuple[Any, Any], ...] = (
    (
        gettext_lazy("Quota list (women, inter, non-binary, trans and agender people)"),
        gettext_lazy("quota"),
    ),
    (gettext_lazy("Open list"), gettext_lazy("open")),
)
DEFAULT_KEY_PREFIX = "default-"
SPEECH_KINDS = (Kind.CONTRIBUTION, Kind.QUESTION)


@dataclass(frozen=True)
class Lane:
    """A sub-list as the queue uses it: ``key`` is its pk as text, or ``default-<n>`` for a
    default the chair has not changed (stored the first time somebody chooses it)."""

    key: str
    name: str
    short: str

    @classmethod
    def of(cls, sublist: SubList) -> Lane:
        return cls(key=str(sublist.pk), name=sublist.name, short=sublist.short)


def sublists_of(item: AgendaItem) -> list[SubList]:
    """The stored sub-lists that apply to ``item``: its own, else its conference's (may be [])."""
    rows = list(
        SubList.objects.filter(Q(item=item) | Q(conference_id=item.conference_id, item=None))
    )
    own = [s for s in rows if s.item_id == item.pk]
    return own or [s for s in rows if s.item_id is None]


def lanes_of(item: AgendaItem, sublists: Sequence[SubList] | None = None) -> list[Lane]:
    """The sub-lists a speaker chooses from for ``item``, in the order they are called."""
    stored = sublists_of(item) if sublists is None else list(sublists)
    if stored:
        return [Lane.of(s) for s in stored]
    return [
        Lane(key=f"{DEFAULT_KEY_PREFIX}{i}", name=str(name), short=str(short))
        for i, (name, short) in enumerate(DEFAULT_SUBLISTS)
    ]


def speaker_key(entry: SpeakRequest | Entry) -> tuple[str, Any]:
    """Who spoke: a member by id, a hall speaker without an account by name."""
    if entry.member_id is not None:
        return ("member", entry.member_id)
    return ("name", entry.name.casefold())


def call_order(
    waiting: Iterable[Entry],
    *,
    lanes: Sequence[Lane],
    last_lane: str | None,
    first_time_priority: bool,
    spoken: set[tuple[str, Any]],
    current_id: int | None,
) -> tuple[list[Entry], str | None]:
    """The waiting entries in the order the chair calls them, and whose turn the quota gives.

    ``current_id``: the main speaker now speaking (their interposed questions come next);
    ``spoken``: who has had the word on this item (for first-time priority).
    """
    waiting = list(waiting)

    def by_position(e: Entry) -> tuple[int, int]:
        return (e.position, e.pk or 0)

    points = sorted((e for e in waiting if e.kind == Kind.POINT_OF_ORDER), key=by_position)
    interpositions = sorted(
        (e for e in waiting if e.kind == Kind.INTERPOSITION and e.parent_id == current_id),
        key=by_position,
    )

    def within(e: Entry) -> tuple[int, int, int]:
        repeat = first_time_priority and speaker_key(e) in spoken
        return (1 if repeat else 0, *by_position(e))

    keys = [lane.key for lane in lanes]
    per_lane: dict[str, list[Entry]] = {}
    for e in waiting:
        if e.kind in SPEECH_KINDS:
            key = str(e.sublist_id) if e.sublist_id is not None else ""
            per_lane.setdefault(key, []).append(e)
    # Entries of a sub-list the chair has since removed from the item's set keep their place
    # after the configured ones, so nobody is lost.
    keys += sorted(k for k in per_lane if k not in keys)
    for entries in per_lane.values():
        entries.sort(key=within)
    start = (keys.index(last_lane) + 1) % len(keys) if last_lane in keys else 0
    rotation = keys[start:] + keys[:start]
    speeches: list[Entry] = []
    next_lane: str | None = None
    while any(per_lane.get(k) for k in rotation):
        for key in rotation:
            if per_lane.get(key):
                if next_lane is None:
                    next_lane = key
                speeches.append(per_lane[key].pop(0))
    return points + interpositions + speeches, next_lane


@dataclass(eq=False, slots=True)
class Entry:
    """A waiting or speaking request as the queue reads it: its columns and the member's public
    name, read as rows rather than model instances (every write reads the whole queue, so
    building two model instances per waiting entry was most of a write's cost). To change a
    request, write by ``pk``."""

    pk: int
    item_id: int
    member_id: int | None
    name: str
    kind: str
    sublist_id: int | None
    parent_id: int | None
    state: str
    position: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: int | None
    member_name: str | None  # the member's display name (None for a hall speaker)

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "pk",
        "item_id",
        "member_id",
        "name",
        "kind",
        "sublist_id",
        "parent_id",
        "state",
        "position",
        "created_at",
        "started_at",
        "finished_at",
        "seconds",
        "member__display_name",
    )

    @classmethod
    def of(cls, request: SpeakRequest) -> Entry:
        """The entry of a request just written (its member, if any, is already loaded)."""
        return cls(
            pk=request.pk,
            item_id=request.item_id,
            member_id=request.member_id,
            name=request.name,
            kind=request.kind,
            sublist_id=request.sublist_id,
            parent_id=request.parent_id,
            state=request.state,
            position=request.position,
            created_at=request.created_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            seconds=request.seconds,
            member_name=request.member.display_name if request.member_id else None,
        )


@dataclass
class QueueState:
    """One item's queue as the services and the snapshot see it."""

    item: AgendaItem
    speaker_list: SpeakerList | None
    lanes: list[Lane]
    waiting: list[Entry]  # in call order
    speaking: list[Entry]  # the main speaker first, then an interposed question
    next_lane: str | None
    spoken: set[tuple[str, Any]]
    #: The stored sub-lists the lanes come from ([] while the defaults are not stored).
    sublists: list[SubList] = field(default_factory=list)
    #: Every waiting or speaking entry, in (position, pk) order; unlike ``waiting`` this
    #: includes interposed questions to somebody who no longer speaks.
    live: list[Entry] = field(default_factory=list)

    @property
    def main_speaker(self) -> Entry | None:
        return next((e for e in self.speaking if e.kind != Kind.INTERPOSITION), None)

    @property
    def current(self) -> Entry | None:
        """Who has the word now: an interposed question's asker, else the main speaker."""
        return self.speaking[-1] if self.speaking else None

    @property
    def is_open(self) -> bool:
        return self.speaker_list.is_open if self.speaker_list else True

    @property
    def first_time_priority(self) -> bool:
        return self.speaker_list.first_time_priority if self.speaker_list else False

    def with_added(self, entry: SpeakRequest, *, sublists: list[SubList]) -> QueueState:
        """This queue after ``entry`` (new, waiting) joined it, derived without reading again.

        ``sublists``: the item's stored sub-lists now (a first ask may have stored the defaults).
        """
        return derive_state(
            self.item,
            speaker_list=self.speaker_list,
            sublists=sublists,
            live=[*self.live, Entry.of(entry)],
            spoken=self.spoken,
        )


_UNREAD: Any = object()


def queue_state(item: AgendaItem, *, speaker_list: Any = _UNREAD) -> QueueState:
    """Read one item's queue (three queries; four without ``speaker_list``, the item's
    SpeakerList or None). Inside a service, call with the conference locked."""
    if speaker_list is _UNREAD:
        speaker_list = SpeakerList.objects.filter(item=item).first()
    sublists = sublists_of(item)
    live = [
        Entry(*row)
        for row in SpeakRequest.objects.filter(item=item, state__in=[State.WAITING, State.SPEAKING])
        .order_by("position", "pk")
        .values_list(*Entry.COLUMNS)
    ]
    spoken = {
        ("member", m) if m is not None else ("name", n.casefold())
        for m, n in SpeakRequest.objects.filter(item=item, started_at__isnull=False)
        .values_list("member_id", "name")
        .distinct()
    }
    return derive_state(
        item, speaker_list=speaker_list, sublists=sublists, live=live, spoken=spoken
    )


def derive_state(
    item: AgendaItem,
    *,
    speaker_list: SpeakerList | None,
    sublists: list[SubList],
    live: list[Entry],
    spoken: set[tuple[str, Any]],
) -> QueueState:
    """The queue from what :func:`queue_state` reads (no queries)."""
    lanes = lanes_of(item, sublists)
    speaking = sorted(
        (e for e in live if e.state == State.SPEAKING),
        key=lambda e: (e.kind == Kind.INTERPOSITION, e.started_at or e.created_at),
    )
    main = next((e for e in speaking if e.kind != Kind.INTERPOSITION), None)
    last = speaker_list.last_sublist_id if speaker_list else None
    waiting, next_lane = call_order(
        (e for e in live if e.state == State.WAITING),
        lanes=lanes,
        last_lane=str(last) if last is not None else None,
        first_time_priority=bool(speaker_list and speaker_list.first_time_priority),
        spoken=spoken,
        current_id=main.pk if main else None,
    )
    return QueueState(
        item=item,
        speaker_list=speaker_list,
        lanes=lanes,
        waiting=waiting,
        speaking=speaking,
        next_lane=next_lane,
        spoken=spoken,
        sublists=list(sublists),
        live=list(live),
    )


def speaker_totals(
    conference: Conference | int, *, item: AgendaItem | None = None
) -> dict[tuple[str, Any], tuple[int, int]]:
    """Each speaker's count of turns and total speaking seconds on this conference so far.

    A turn counts once it has begun; its time once it has finished. Hall speakers without an
    account are counted by name. With ``item``, only the turns of the members waiting or speaking
    on it now (and of all hall speakers) are read: what a snapshot of that queue needs, in a
    query that does not grow with the conference's history of other speakers.
    """
    pk = conference.pk if isinstance(conference, Conference) else conference
    totals: dict[tuple[str, Any], tuple[int, int]] = {}
    rows = SpeakRequest.objects.filter(item__conference_id=pk, started_at__isnull=False)
    if item is not None:
        in_queue = SpeakRequest.objects.filter(
            item=item, state__in=[State.WAITING, State.SPEAKING], member_id__isnull=False
        ).values("member_id")
        rows = rows.filter(Q(member_id__in=in_queue) | Q(member_id__isnull=True))
    rows = rows.values_list("member_id", "name", "started_at", "finished_at")
    for member_id, name, started, finished in rows:
        key = ("member", member_id) if member_id is not None else ("name", name.casefold())
        count, seconds = totals.get(key, (0, 0))
        if finished is not None:
            seconds += max(0, int((finished - started).total_seconds()))
        totals[key] = (count + 1, seconds)
    return totals


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_payload(
    entry: Entry,
    totals: dict[tuple[str, Any], tuple[int, int]],
    spoken: set[tuple[str, Any]],
    lanes: dict[str, Lane],
) -> dict[str, Any]:
    key = speaker_key(entry)
    count, seconds = totals.get(key, (0, 0))
    lane = lanes.get(str(entry.sublist_id)) if entry.sublist_id else None
    if lane is None and entry.sublist_id is not None:  # a sub-list no longer the item's
        lane = Lane.of(SubList.objects.get(pk=entry.sublist_id))
    return {
        "id": entry.pk,
        "name": entry.member_name if entry.member_id else entry.name,
        "member": entry.member_id,
        "kind": entry.kind,
        "sublist": lane.key if lane else None,
        "sublist_short": lane.short if lane else None,
        "parent": entry.parent_id,
        "state": entry.state,
        "first_time": key not in spoken,
        "count": count,
        "seconds_total": seconds,
        "started_at": _iso(entry.started_at),
        "seconds": entry.seconds,
    }


def queue_snapshot(
    item: AgendaItem, *, state: QueueState | None = None, with_now: bool = True
) -> dict[str, Any]:
    """The complete public state of ``item``'s queue (JSON-ready), as ``queue.changed`` has it.

    ``with_now``: add ``now``, the server's clock at this read, for a reader that gets the
    snapshot at once (the page, the snapshot URL) and keeps its countdown against the server's
    time. Not for an event: an event is stored and replayed, and a ``now`` read when it was made
    would be stale whenever it is read later (the countdown would start again from the full
    time); a live client takes the server's time from the stream's ``hello`` instead.
    """
    state = state or queue_state(item)
    # Everyone shown is waiting or speaking on ``item`` (in the database too: the write that
    # derived ``state`` has been made), so their totals are all that is read.
    totals = speaker_totals(item.conference_id, item=item)
    lanes = {lane.key: lane for lane in state.lanes}
    # Whether the waiting are first-timers is judged against those who already spoke.
    current = state.current
    snapshot: dict[str, Any] = {
        "item": item.pk,
        "open": state.is_open,
        "first_time_priority": state.first_time_priority,
        "sublists": [{"key": ln.key, "name": ln.name, "short": ln.short} for ln in state.lanes],
        "next_sublist": state.next_lane,
        "speaking": [entry_payload(e, totals, state.spoken, lanes) for e in state.speaking],
        "current": current.pk if current else None,
        "entries": [entry_payload(e, totals, state.spoken, lanes) for e in state.waiting],
        "default_seconds": item.speaking_seconds,
    }
    if with_now:
        snapshot["now"] = clock.now().isoformat()
    return snapshot


def time_left(entry: Entry | None) -> int | None:
    """Whole seconds ``entry`` (speaking) has left now by the server's clock (negative when over
    time), or None when nobody speaks: what the countdown shows on a fresh page."""
    if entry is None or entry.started_at is None or not entry.seconds:
        return None
    left = entry.seconds - (clock.now() - entry.started_at).total_seconds()
    return math.ceil(left) if left > 0 else math.floor(left)  # as queue.js rounds


def item_for_panel(conference: Conference) -> AgendaItem | None:
    """The item whose queue the conference page shows: the current one."""
    if conference.current_item_id is None:
        return None
    item = conference.current_item
    if item is None or item.conference_id != conference.pk:
        return None
    return item


def own_waiting(item: AgendaItem, member: Any) -> list[SpeakRequest]:
    if not getattr(member, "is_authenticated", False):
        return []
    return list(SpeakRequest.objects.filter(item=item, member=member, state=State.WAITING))
