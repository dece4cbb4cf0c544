"""Voting over the conference socket (``poll.vote``): the same service as the vote form, answered
with ``ack`` (the poll's turnout) or a translated ``error`` frame, over the real ASGI stack.

Personas: alice and bob members (registered here), gina a guest, mo a member who is not
registered; carla (``chair``) chairs the conference; ``agenda`` has two items.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from hypothesis import given, settings
from hypothesis import strategies as st

from consultations.conferences.consumers import ConferenceConsumer
from consultations.conferences.polls import services
from consultations.conferences.polls.models import Ballot, Poll, PollOption
from tests import live_properties
from tests.clock import ManualClock
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401
from tests.conferences.test_consumers import FIXTURES_SHARED, communicator, open_socket
from tests.forums.test_consumers import (  # noqa: F401 (_fresh_hub: autouse fixture)
    _fresh_hub,
    next_of,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@database_sync_to_async
def _open_poll(conference, agenda, chair, **kwargs) -> tuple[Poll, list[int]]:
    kwargs.setdefault("question", "Mietenkampagne?")
    kwargs.setdefault("kind", Poll.Kind.YES_NO)
    poll = services.poll_open(actor=chair, conference=conference, item=agenda[0], **kwargs)
    return poll, list(poll.options.order_by("position").values_list("pk", flat=True))


@database_sync_to_async
def _register(conference, *members) -> None:
    for member in members:
        register(conference, member)


@database_sync_to_async
def _counts(poll: Poll) -> tuple[int, int, list[int]]:
    fresh = Poll.objects.get(pk=poll.pk)
    online = list(
        PollOption.objects.filter(poll=poll)
        .order_by("position")
        .values_list("online_count", flat=True)
    )
    return Ballot.objects.filter(poll=poll).count(), fresh.ballots_count, online


@database_sync_to_async
def _close(chair, poll) -> None:
    poll = Poll.objects.select_related("conference").get(pk=poll.pk)
    services.poll_close(actor=chair, poll=poll)


async def _answer(ws) -> dict[str, Any]:
    """The next ack or error (presence and live events are skipped)."""
    while True:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] in {"ack", "error"}:
            return frame


async def test_a_registered_member_votes_over_the_socket_and_is_acked_with_the_turnout(
    conference, agenda, chair, alice
):
    await _register(conference, alice)
    poll, options = await _open_poll(conference, agenda, chair)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to(
        {"type": "poll.vote", "id": "v1", "poll": poll.pk, "options": [options[0]]}
    )
    assert await _answer(ws) == {
        "type": "ack",
        "poll": poll.pk,
        "turnout": {"ballots": 1},
        "ref": "v1",
    }
    assert await _counts(poll) == (1, 1, [1, 0, 0])
    await ws.disconnect()


async def test_a_second_vote_is_refused_with_conflict_and_counted_once(
    conference, agenda, chair, alice
):
    await _register(conference, alice)
    poll, options = await _open_poll(conference, agenda, chair)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to({"type": "poll.vote", "id": 1, "poll": poll.pk, "options": [options[0]]})
    assert (await _answer(ws))["type"] == "ack"
    await ws.send_json_to({"type": "poll.vote", "id": 2, "poll": poll.pk, "options": [options[1]]})
    error = await _answer(ws)
    assert (error["type"], error["code"], error["ref"]) == ("error", "conflict", 2)
    assert error["message"] == "Du hast bei dieser Abstimmung bereits abgestimmt."
    assert await _counts(poll) == (1, 1, [1, 0, 0])
    await ws.disconnect()


async def test_an_unregistered_member_is_refused(conference, agenda, chair, mo):
    poll, options = await _open_poll(conference, agenda, chair)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(mo))
    await ws.send_json_to(
        {"type": "poll.vote", "id": "m", "poll": poll.pk, "options": [options[0]]}
    )
    error = await _answer(ws)
    assert (error["code"], error["ref"]) == ("forbidden", "m")
    assert await _counts(poll) == (0, 0, [0, 0, 0])
    await ws.disconnect()


async def test_a_guest_cannot_even_open_the_socket_of_a_members_conference(
    conference, agenda, chair, gina
):
    await _register(conference, gina)  # even a registration row does not let a guest in
    ws = communicator(conference.pk, await session_cookie(gina))
    connected, code = await ws.connect(timeout=3)
    assert (connected, code) == (False, 4404)


async def test_a_closed_poll_refuses_the_vote(conference, agenda, chair, alice):
    await _register(conference, alice)
    poll, options = await _open_poll(conference, agenda, chair)
    await _close(chair, poll)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to(
        {"type": "poll.vote", "id": "c", "poll": poll.pk, "options": [options[0]]}
    )
    error = await _answer(ws)
    assert (error["code"], error["message"]) == ("closed", "Diese Abstimmung ist geschlossen.")
    assert await _counts(poll) == (0, 0, [0, 0, 0])
    await ws.disconnect()


async def test_a_poll_of_another_conference_or_an_option_of_another_poll_is_refused(
    conference, agenda, chair, alice
):
    await _register(conference, alice)
    poll, options = await _open_poll(conference, agenda, chair)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to(
        {"type": "poll.vote", "id": "a", "poll": poll.pk + 999, "options": [options[0]]}
    )
    assert (await _answer(ws))["code"] == "not_found"
    await ws.send_json_to(
        {"type": "poll.vote", "id": "b", "poll": poll.pk, "options": [options[-1] + 999]}
    )
    assert (await _answer(ws))["code"] == "invalid"
    await ws.send_json_to({"type": "poll.vote", "id": "c", "poll": poll.pk, "options": options[:2]})
    assert (await _answer(ws))["code"] == "invalid"  # yes/no: one choice
    assert await _counts(poll) == (0, 0, [0, 0, 0])
    await ws.disconnect()


# --- hostile vote frames ------------------------------------------------------------------------


def _not_option_list(value: Any) -> bool:
    return not (
        isinstance(value, list)
        and 1 <= len(value) <= services.MAX_OPTIONS
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    )


BAD_VOTES = st.one_of(
    # A poll that is not a positive number.
    st.fixed_dictionaries(
        {
            "type": st.just("poll.vote"),
            "poll": live_properties.json_values.filter(
                lambda v: isinstance(v, bool) or not isinstance(v, int) or v < 1
            ),
            "options": st.lists(st.integers(1, 10**6), max_size=3),
        }
    ),
    # Options that are not a short list of positive numbers (huge lists included).
    st.fixed_dictionaries(
        {
            "type": st.just("poll.vote"),
            "poll": st.integers(1, 10**6),
            "options": live_properties.json_values.filter(_not_option_list)
            | st.lists(st.integers(1, 10**6), min_size=21, max_size=500),
        }
    ),
    # Numbers that are no poll or option of this conference, huge ones included.
    st.fixed_dictionaries(
        {
            "type": st.just("poll.vote"),
            "poll": st.integers(10**6, 2**80),
            "options": st.lists(st.integers(1, 2**80), min_size=1, max_size=3),
        }
    ),
).map(live_properties.text)


@pytest.fixture
async def voter_socket(conference, agenda, chair, alice, monkeypatch):
    """alice, registered, on one socket for all examples, with an open poll and a clock."""
    clock = ManualClock()
    monkeypatch.setattr(ConferenceConsumer, "clock", clock)
    await _register(conference, alice)
    poll, _ = await _open_poll(conference, agenda, chair)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    yield ws, clock, poll
    await ws.disconnect()


@settings(FIXTURES_SHARED, max_examples=40)
@given(frame=BAD_VOTES)
async def test_property_a_malformed_vote_gets_one_error_and_changes_nothing(voter_socket, frame):
    ws, clock, poll = voter_socket
    clock.advance(3_600)
    await live_properties.check_bad_frame(ws, frame, "end")
    assert await _counts(poll) == (0, 0, [0, 0, 0])
