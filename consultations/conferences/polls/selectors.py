"""Reads of polls for pages and events. Nothing here names who chose what in a secret poll."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q

from consultations.conferences.models import AgendaItem, Conference, Registration
from consultations.conferences.permissions import can_chair, is_registered
from consultations.conferences.polls import events
from consultations.conferences.polls.models import Ballot, NamedChoice, Poll, PollOption


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

    @property
    def online_total(self) -> int:
        return sum(option.online_count for option in self.options)

    @property
    def hall_total(self) -> int:
        return sum(option.hall_count for option in self.options)


def _polls(queryset: Any) -> Any:
    return queryset.select_related("item").prefetch_related(
        Prefetch("options", queryset=PollOption.objects.order_by("position"))
    )


def poll_views(user: Any, conference: Conference, polls: list[Poll]) -> list[PollView]:
    """Decorate ``polls`` for ``user``: a fixed number of queries whatever their number."""
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
