"""The polls' part of the conference stream's event catalogue.

Seq'd (recorded in the conference's outbox, replayed on resync), each with the poll's complete
public snapshot (:func:`poll_snapshot`), so applying the newest one is enough:

- ``poll.opened``: the chair opened a poll;
- ``poll.closed``: the chair closed it; the snapshot carries the full results;
- ``poll.hall_count``: the chair entered or corrected the hall count.

Unsequenced (``poll.turnout``): how many have voted, at most about four times a second per poll
and process (:mod:`consultations.conferences.polls.turnout`); clients keep the newest. With
live results it also carries the counts. Every seq'd poll event and the page carry the turnout
too, so a reload or a resync converges even if a turnout frame was lost.

The public snapshot links no member to a choice and names nobody. Only a named poll, once
closed, is also sent in a second variant (:func:`with_voters`: each option's ``voters``, the
display names of those who chose it online) to the conference's members of the party (the
stream's privileged audience, ``ConferenceConsumer.privileged``); guests and visitors get the
public one. A secret poll has no such variant: no table knows its voters' choices.
"""

from __future__ import annotations

from typing import Any

from consultations.conferences.polls.models import Poll, PollOption


def results_shown(poll: Poll) -> bool:
    """Whether the counts are public now: once closed, or throughout if the poll says so."""
    return poll.status == Poll.Status.CLOSED or poll.live_results


def names_shown(poll: Poll) -> bool:
    """Whether ``poll``'s voters are named now: a named (not secret) poll, once it is closed.
    Never while it is open, not even to the chair."""
    return not poll.secret and poll.status == Poll.Status.CLOSED


def option_payload(option: PollOption, *, shown: bool) -> dict[str, Any]:
    return {
        "id": option.pk,
        "code": option.code,
        "label": option.label,
        "online": option.online_count if shown else None,
        "hall": option.hall_count if shown else None,
        "total": option.total if shown else None,
    }


def turnout_payload(poll: Poll, eligible: int) -> dict[str, int]:
    return {"ballots": poll.ballots_count, "eligible": eligible}


def poll_snapshot(poll: Poll, options: list[PollOption], eligible: int) -> dict[str, Any]:
    """The poll's complete public state. ``options`` in order; ``eligible``: registered now
    (or at close)."""
    shown = results_shown(poll)
    return {
        "id": poll.pk,
        "item": poll.item_id,
        "question": poll.question,
        "kind": poll.kind,
        "max_choices": poll.max_choices,
        "secret": poll.secret,
        "live_results": poll.live_results,
        "status": poll.status,
        "opened_at": poll.opened_at.isoformat(),
        "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        "results_shown": shown,
        "hall_counted": poll.hall_counted,
        "turnout": turnout_payload(poll, eligible),
        "options": [option_payload(option, shown=shown) for option in options],
    }


def with_voters(snapshot: dict[str, Any], voters: dict[int, list[str]]) -> dict[str, Any]:
    """A closed named poll's ``snapshot`` with each option's ``voters`` (sorted display names,
    ``[]`` for nobody): what the party's members see instead of the public snapshot. A copy."""
    return {
        **snapshot,
        "options": [
            {**option, "voters": voters.get(option["id"], [])} for option in snapshot["options"]
        ],
    }


def poll_opened(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"type": "poll.opened", "poll": snapshot}


def poll_closed(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"type": "poll.closed", "poll": snapshot}


def poll_hall_count(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"type": "poll.hall_count", "poll": snapshot}


def poll_turnout(
    *, conference: int, poll: int, ballots: int, eligible: int, options: list[dict] | None
) -> dict[str, Any]:
    """Unsequenced: the newest turnout (and, with live results, the counts)."""
    event: dict[str, Any] = {
        "type": "poll.turnout",
        "conference": conference,
        "poll": poll,
        "turnout": {"ballots": ballots, "eligible": eligible},
    }
    if options is not None:
        event["options"] = options
    return event
