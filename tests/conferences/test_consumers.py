"""The live conference consumer, over the real ASGI stack: the thread's protocol on another stream.

Personas: sam is staff, alice a member, gina a guest, olga an outsider; ``chair`` (carla) chairs
the conference; ``agenda`` has two items. The conference's forum is open to members unless a
test makes it "invited".
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultations.conferences import services
from consultations.conferences.consumers import ConferenceConsumer
from consultations.conferences.models import Conference, ConferenceEvent
from deliberation import stream_consumer
from deliberation.asgi import application
from forums import services as forum_services
from forums.models import Forum
from tests import live_properties
from tests.clock import ManualClock
from tests.forums.test_consumers import (  # noqa: F401 (_fresh_hub: autouse fixture)
    HOST,
    ORIGIN,
    _fresh_hub,
    frames_until,
    frames_until_closed,
    next_of,
    receive,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def communicator(conference_id: int, cookie: bytes | None, *, query: str = ""):
    headers = [HOST, ORIGIN] + ([(b"cookie", cookie)] if cookie is not None else [])
    path = f"/ws/conferences/{conference_id}/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=headers)


async def open_socket(conference_id: int, cookie: bytes | None, *, query: str = ""):
    """Connect; return the socket, its hello and the frames up to ``synced``/``reset``."""
    ws = communicator(conference_id, cookie, query=query)
    connected, code = await ws.connect(timeout=3)
    assert connected, code
    hello = await receive(ws)
    assert hello["type"] == "hello"
    frames = []
    while True:
        frame = await receive(ws)
        if frame["type"] == "presence":
            continue
        frames.append(frame)
        if frame["type"] in {"synced", "reset"}:
            return ws, hello, frames


def _move(chair, conference, items) -> None:
    """The chair moves the conference to each of ``items`` in turn (one event each)."""

    def run():
        for item in items:
            services.agenda_set_current(actor=chair, conference=conference, item=item)

    return database_sync_to_async(run)()


@database_sync_to_async
def _invite_only(conference: Conference) -> None:
    Forum.objects.filter(pk=conference.forum_id).update(visibility=Forum.Visibility.INVITED)


# --- connecting ---------------------------------------------------------------------------------


async def test_hello_reports_the_head_phase_and_current_item(conference, chair, agenda, alice):
    await _move(chair, conference, [agenda[0]])
    ws, hello, frames = await open_socket(conference.pk, await session_cookie(alice))
    assert hello == {
        "type": "hello",
        "protocol": 1,
        "conference": conference.pk,
        "seq": 1,
        "online": 1,
        "member": {"id": alice.pk, "display_name": "Alice", "badge": ""},
        "now": hello["now"],
        "phase": "preparation",
        "current_item": hello["current_item"],
        "can_chair": False,
        "max_frame_bytes": 64 * 1024,
        "heartbeat": 25,
    }
    assert (hello["current_item"]["id"], hello["current_item"]["title"]) == (
        agenda[0].pk,
        "Mieten",
    )
    assert frames == [{"type": "synced", "conference": conference.pk, "seq": 1}]
    await ws.disconnect()


async def test_the_chair_is_told_they_chair(conference, chair):
    ws, hello, _ = await open_socket(conference.pk, await session_cookie(chair))
    assert (hello["can_chair"], hello["current_item"], hello["seq"]) == (True, None, 0)
    await ws.disconnect()


async def test_a_conference_that_does_not_exist_is_not_found(alice):
    ws = communicator(987654, await session_cookie(alice))
    assert await ws.connect(timeout=3) == (False, stream_consumer.CLOSE_NOT_FOUND)


async def test_a_member_without_the_view_right_of_an_invited_conference_is_refused(
    conference, alice, gina, olga
):
    await _invite_only(conference)
    for member in (alice, gina, olga):
        ws = communicator(conference.pk, await session_cookie(member))
        assert await ws.connect(timeout=3) == (False, stream_consumer.CLOSE_NOT_FOUND)
    ws = communicator(conference.pk, None)
    assert await ws.connect(timeout=3) == (False, stream_consumer.CLOSE_NOT_FOUND)


async def test_a_revoked_view_right_closes_the_socket_before_the_next_event(
    conference, chair, agenda, alice, sam
):
    await _invite_only(conference)
    forum = await database_sync_to_async(Forum.objects.get)(pk=conference.forum_id)
    await database_sync_to_async(forum_services.forum_grant)(
        actor=sam, forum=forum, member=alice, right="view"
    )
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))

    def revoke_then_move():
        forum_services.forum_revoke(actor=sam, forum=forum, member=alice, right="view")
        services.agenda_set_current(actor=chair, conference=conference, item=agenda[1])

    # Alice sends nothing: the revocation alone closes her socket.
    await database_sync_to_async(revoke_then_move)()
    frames = await frames_until_closed(ws, stream_consumer.CLOSE_FORBIDDEN)
    (error,) = [f for f in frames if f["type"] != "presence"]
    assert (error["type"], error["code"], error["ref"]) == ("error", "forbidden", None)
    assert "Pflege" not in json.dumps(frames)


# --- replay, resync, live -----------------------------------------------------------------------


async def test_connecting_after_n_replays_the_missed_events_in_order(
    conference, chair, agenda, alice
):
    await _move(chair, conference, [agenda[0], agenda[1], agenda[0], None])  # seq 1..4
    ws, hello, frames = await open_socket(
        conference.pk, await session_cookie(alice), query="after=1"
    )
    assert hello["seq"] == 4
    assert [(f["type"], f["seq"]) for f in frames[:-1]] == [
        ("agenda.current", s) for s in (2, 3, 4)
    ]
    assert [f["item"] and f["item"]["title"] for f in frames[:-1]] == ["Pflege", "Mieten", None]
    assert frames[-1] == {"type": "synced", "conference": conference.pk, "seq": 4}
    await ws.disconnect()


async def test_a_client_too_far_behind_is_told_to_reload(
    conference, chair, agenda, alice, monkeypatch
):
    monkeypatch.setattr(ConferenceConsumer, "replay_limit", 2)
    await _move(chair, conference, [agenda[0], agenda[1], agenda[0]])
    _, _, frames = await open_socket(conference.pk, await session_cookie(alice), query="after=0")
    assert frames == [
        {"type": "reset", "conference": conference.pk, "seq": 3, "reason": "too_far_behind"}
    ]


async def test_resync_over_an_open_socket_replays_the_range(conference, chair, agenda, alice):
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await _move(chair, conference, [agenda[0], agenda[1]])  # also delivered live
    await ws.send_json_to({"type": "resync", "after": 1, "id": "r"})
    frames = await frames_until(ws, "synced")
    replayed = [f["seq"] for f in frames if f["type"] == "agenda.current"]
    assert replayed[-1:] == [2]
    assert frames[-1] == {"type": "synced", "conference": conference.pk, "seq": 2}
    await ws.disconnect()


async def test_setting_the_current_item_reaches_every_open_page(conference, chair, agenda, alice):
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    chair_ws, _, _ = await open_socket(conference.pk, await session_cookie(chair))
    await _move(chair, conference, [agenda[1]])
    for socket in (ws, chair_ws):
        event = await next_of(socket, "agenda.current")
        assert (event["seq"], event["conference"], event["item"]["title"]) == (
            1,
            conference.pk,
            "Pflege",
        )
        await socket.disconnect()


async def test_events_committed_during_a_replay_arrive_once_and_in_order(
    conference, chair, agenda, alice
):
    await _move(chair, conference, [agenda[0], agenda[1]] * 3)  # seq 1..6
    done = threading.Event()

    def more():
        try:
            for item in [agenda[0], agenda[1]] * 4:  # seq 7..14, while the socket replays
                services.agenda_set_current(actor=chair, conference=conference, item=item)
        finally:
            done.set()

    writer = asyncio.get_running_loop().run_in_executor(None, more)
    ws = communicator(conference.pk, await session_cookie(alice), query="after=0")
    assert (await ws.connect(timeout=3))[0]
    # The socket joins the group before it reads the head: every event is either replayed
    # (up to the head) or delivered live (after it), and the buffer drops what both carry.
    seqs: list[int] = []
    while not seqs or seqs[-1] < 14:
        frame = await receive(ws)
        if frame["type"] == "agenda.current":
            seqs.append(frame["seq"])
    await writer
    assert done.is_set()
    assert seqs == list(range(1, 15))
    await ws.disconnect()


async def test_ping_answers_with_the_head(conference, chair, agenda, alice):
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to({"type": "ping", "id": "p1"})
    assert await next_of(ws, "pong") == {"type": "pong", "seq": 0, "ref": "p1"}
    await _move(chair, conference, [agenda[0]])
    await next_of(ws, "agenda.current")
    await ws.send_json_to({"type": "ping", "id": "p2"})
    assert await next_of(ws, "pong") == {"type": "pong", "seq": 1, "ref": "p2"}
    await ws.disconnect()


async def test_a_thread_frame_is_unknown_here(conference, alice):
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    await ws.send_json_to({"type": "post.create", "client_id": "x", "body": "Hallo", "id": "c"})
    error = await next_of(ws, "error")
    assert (error["code"], error["ref"]) == ("invalid", "c")
    await ws.disconnect()


# --- hostile frames -----------------------------------------------------------------------------

CONFERENCE_TYPES = sorted(ConferenceConsumer.HANDLERS)
FIXTURES_SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
RESYNC_BAD = st.fixed_dictionaries(
    {
        "type": st.just("resync"),
        "after": live_properties.json_values.filter(
            lambda v: isinstance(v, bool) or not isinstance(v, int) or v < 0
        ),
    }
).map(live_properties.text)


@pytest.fixture
async def conference_socket(conference, alice, monkeypatch):
    """One socket of alice's for all examples of a property, with a clock the test moves."""
    clock = ManualClock()
    monkeypatch.setattr(ConferenceConsumer, "clock", clock)
    ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    yield ws, clock
    await ws.disconnect()


@database_sync_to_async
def _state() -> tuple[Any, ...]:
    return (
        ConferenceEvent.objects.count(),
        *Conference.objects.order_by("pk").values_list("last_seq", "current_item", "phase"),
    )


@FIXTURES_SHARED
@given(frame=live_properties.common_bad_frames(CONFERENCE_TYPES) | RESYNC_BAD)
async def test_property_every_bad_frame_gets_one_error_and_changes_nothing(
    conference_socket, frame
):
    ws, clock = conference_socket
    before = await _state()
    clock.advance(3_600)
    await live_properties.check_bad_frame(ws, frame, "end")
    assert await _state() == before


@settings(FIXTURES_SHARED, max_examples=15)
@given(
    frames=live_properties.floods(
        live_properties.common_bad_frames(CONFERENCE_TYPES, large=False),
        stream_consumer.RATE_BURST,
    )
)
async def test_property_a_flood_passes_exactly_the_burst(conference_socket, frames):
    ws, clock = conference_socket
    await live_properties.check_flood_then_recovery(ws, clock, frames, stream_consumer.RATE_BURST)
