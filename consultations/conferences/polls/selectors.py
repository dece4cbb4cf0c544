"""Reads of polls for pages and events. Nothing here names who chose what in a secret poll.

Who chose what in a named poll (:func:`voters_of`) is read only once the poll is closed, and
shown only to members of the party (:func:`may_see_voters`): never while it is open (not even
to the chair), never to guests or visitors, never for a secret poll (no table holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q

from consultations.conferences.models import AgendaItem, Conference, Registration
from consultations.conferences.permissions import can_chair, is_registered
from consultations.conferences.polls import events
from consultations.conferences.polls.models import Ballot, NamedChoice, Poll, PollOption
from forums.permissions import is_party_member

#: Per poll, per option: the display names of those who chose it online, sorted by name.
Voters = dict[int, dict[int, list[str]]]


def eligible_count(poll: Poll) -> int:
    """Who may vote: the members registered now (frozen on the poll when it closes)."""
    if poll.eligible_count is not None:
        return poll.eligible_count
    return Registration.objects.filter(conference_id=poll.conference_id).count()


def options_of(poll: Poll) -> list[PollOption]:
    cached = getattr(poll, "_prefetched_objects_cache", {}).get("options")
    if cached is not None:
        return list(cached)
    return list(poll.options.order_by("position"))


def snapshot(poll: Poll, *, eligible: int | None = None) -> dict[str, Any]:
    """The poll's public snapshot (events and page alike)."""
    if eligible is None:
        eligible = eligible_count(poll)
    return events.poll_snapshot(poll, options_of(poll), eligible)


def may_see_voters(user: Any) -> bool:
    """Whether ``user`` is shown who voted how in a closed named poll: members of the party
    only (an active account that is not a guest). Guests and visitors who may read a
    conference see the counts, never the names."""
    return is_party_member(user)


def _by_name(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


def voters_of(polls: list[Poll]) -> Voters:
    """Who chose each option of those ``polls`` that name their voters now (``events.names_shown``):
    one query for all of them, none when there is no such poll. An option nobody chose online
    has no entry (read it with ``.get(option, [])``). The query itself asks again that the poll
    is named and closed, so a caller's stale row cannot reveal an open or secret poll.

    Call only for a reader who :func:`may_see_voters`.
    """
    named = [poll for poll in polls if events.names_shown(poll)]
    if not named:
        return {}
    voters: Voters = {poll.pk: {} for poll in named}
    rows = NamedChoice.objects.filter(
        ballot__poll_id__in=[poll.pk for poll in named],
        ballot__poll__secret=False,
        ballot__poll__status=Poll.Status.CLOSED,
    ).values_list("ballot__poll_id", "option_id", "ballot__member__display_name")
    for poll_id, option_id, name in rows:
        voters[poll_id].setdefault(option_id, []).append(name)
    for options in voters.values():
        for names in options.values():
            names.sort(key=_by_name)
    return voters


@dataclass
class PollView:
    """A poll as one reader sees it."""

    poll: Poll
    options: list[PollOption]
    eligible: int
    results_shown: bool
    may_vote: bool
    voted: bool
    chair: bool
    #: The reader's own choices in a named poll (empty for a secret one: nobody knows them).
    my_choices: set[int] = field(default_factory=set)
    #: Per option, who chose it (a closed named poll, for a member of the party); else None.
    voters: dict[int, list[str]] | None = None

    @property
    def online_total(self) -> int:
        return sum(option.online_count for option in self.options)

    @property
    def hall_total(self) -> int:
        return sum(option.hall_count for option in self.options)

    @property
    def my_choice_labels(self) -> list[str]:
        """The labels of the reader's own choices, in the options' order."""
        return [option.display_label for option in self.options if option.pk in self.my_choices]

    @property
    def named_results(self) -> list[tuple[PollOption, list[str]]]:
        """(option, the names of those who chose it) in the options' order; [] if not shown."""
        if self.voters is None:
            return []
        return [(option, self.voters.get(option.pk, [])) for option in self.options]


def _polls(queryset: Any) -> Any:
    return queryset.select_related("item").prefetch_related(
        Prefetch("options", queryset=PollOption.objects.order_by("position"))
    )


def poll_views(user: Any, conference: Conference, polls: list[Poll]) -> list[PollView]:
    """Decorate ``polls`` for ``user``: a fixed number of queries whatever their number (the
    names of a closed named poll's voters: one query for all of them)."""
    if not polls:
        return []
    chair = can_chair(user, conference)
    registered = is_registered(user, conference)
    eligible_now = Registration.objects.filter(conference=conference).count()
    voted: set[int] = set()
    mine: dict[int, set[int]] = {}
    if registered:
        ids = [poll.pk for poll in polls]
        voted = set(
            Ballot.objects.filter(poll_id__in=ids, member=user).values_list("poll_id", flat=True)
        )
        open_ids = [poll.pk for poll in polls if not poll.secret and poll.pk in voted]
        if open_ids:  # a member's own choices are kept (and shown) only in open polls
            for poll_id, option_id in NamedChoice.objects.filter(
                ballot__poll_id__in=open_ids, ballot__member=user
            ).values_list("ballot__poll_id", "option_id"):
                mine.setdefault(poll_id, set()).add(option_id)
    voters = voters_of(polls) if may_see_voters(user) else {}
    return [
        PollView(
            poll=poll,
            options=options_of(poll),
            eligible=poll.eligible_count if poll.eligible_count is not None else eligible_now,
            results_shown=events.results_shown(poll),
            may_vote=registered and poll.is_open and poll.pk not in voted,
            voted=poll.pk in voted,
            chair=chair,
            my_choices=mine.get(poll.pk, set()),
            voters=voters.get(poll.pk),
        )
        for poll in polls
    ]


def panel_polls(conference: Conference) -> list[Poll]:
    """For the conference page: every open poll, then the closed ones of the current item."""
    condition = Q(status=Poll.Status.OPEN)
    if conference.current_item_id:
        condition |= Q(item_id=conference.current_item_id)
    polls = list(_polls(Poll.objects.filter(conference=conference).filter(condition)))
    polls.sort(key=lambda p: (p.status != Poll.Status.OPEN, -p.opened_at.timestamp(), -p.pk))
    return polls


def polls_by_item(conference: Conference) -> list[tuple[AgendaItem, list[Poll]]]:
    """Every poll of the conference under its agenda item (results are kept with the item)."""
    polls = list(_polls(Poll.objects.filter(conference=conference)))
    items: dict[int, tuple[AgendaItem, list[Poll]]] = {}
    for poll in polls:
        items.setdefault(poll.item_id, (poll.item, []))[1].append(poll)
    return sorted(items.values(), key=lambda pair: pair[0].position)


def poll_of(conference: Conference, pk: int) -> Poll | None:
    return _polls(Poll.objects.filter(conference=conference, pk=pk)).first()


def latest_closed_poll(conference: Conference) -> Poll | None:
    """For the projector: the newest closed poll of the conference."""
    return (
        _polls(Poll.objects.filter(conference=conference, status=Poll.Status.CLOSED))
        .order_by("-closed_at", "-pk")
        .first()
    )


#: Poll events whose snapshot carries the results (a closed poll's among them).
_SNAPSHOT_EVENTS = frozenset({"poll.closed", "poll.hall_count"})


def _names_voters(payload: dict[str, Any]) -> bool:
    """Whether ``payload`` is an event with a closed named poll's snapshot (what
    :func:`events.names_shown` says of the poll, read off the stored event)."""
    poll = payload.get("poll")
    return (
        payload.get("type") in _SNAPSHOT_EVENTS
        and isinstance(poll, dict)
        and poll.get("status") == Poll.Status.CLOSED
        and poll.get("secret") is False
    )


def replayed_with_voters(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The members' variant of replayed conference events: a closed named poll's snapshot with
    who chose what (the outbox keeps only the public one). Two queries for all such polls;
    :func:`voters_of` asks the database again that each is named and closed now. Call only for
    a reader who :func:`may_see_voters`."""
    ids = {p["poll"]["id"] for p in payloads if _names_voters(p)}
    if not ids:
        return payloads
    voters = voters_of(list(Poll.objects.filter(pk__in=ids)))
    return [
        {**p, "poll": events.with_voters(p["poll"], voters[p["poll"]["id"]])}
        if _names_voters(p) and p["poll"]["id"] in voters
        else p
        for p in payloads
    ]
