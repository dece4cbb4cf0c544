"""The live moderation queue socket, over the real ASGI stack (origin check, session cookie).

Personas: alice is a member (reports posts), bob wrote the post, mo moderates "mieten", max
moderates only another forum, sam is staff.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings

from deliberation.asgi import application
from deliberation.hub import get_hub, reset_hub
from forums.consumers import CLOSE_FORBIDDEN, RATE_BURST
from forums.models import Thread
from moderation import services
from moderation.consumers import QueueConsumer
from moderation.models import Reason
from tests import factories, live_properties
from tests.clock import ManualClock

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")
TIMEOUT = 3


@pytest.fixture(autouse=True)
async def _fresh_hub():
    reset_hub(None)
    cache.clear()
    yield
    await get_hub().close()
    reset_hub(None)
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "flush"):
        await layer.flush()


@database_sync_to_async
def session_cookie(member: Any) -> bytes:
    return factories.session_cookie_of(member).encode()


@pytest.fixture
def forum(sam):
    return factories.make_forum(actor=sam, title="Mieten", slug="mieten")


@pytest.fixture
def moderator(sam, forum, mo):
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    return mo


@pytest.fixture
def max_(sam):
    other = factories.make_forum(actor=sam, title="Gesundheit", slug="gesundheit")
    member = factories.make_member(email="max@example.org", display_name="Max")
    services.moderator_grant(actor=sam, forum=other, member=member)
    return member


@pytest.fixture
def post(forum, bob):
    thread = factories.make_thread(forum, author=bob, title="Mietendeckel", body="Erster")
    return factories.make_post(thread, author=bob, body="Ihr seid alle doof")


def communicator(path: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [HOST, ORIGIN]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def open_queue(path: str, member: Any) -> WebsocketCommunicator:
    ws = communicator(path, await session_cookie(member))
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert connected, code
    hello = await ws.receive_json_from(timeout=TIMEOUT)
    assert hello["type"] == "hello"
    return ws


async def assert_closed(ws: WebsocketCommunicator, code: int) -> None:
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            assert output.get("code") == code
            return


async def test_a_member_is_refused_on_the_queue_socket(forum, alice):
    ws = communicator(f"/ws/moderation/{forum.pk}/", await session_cookie(alice))
    assert await ws.connect(timeout=TIMEOUT) == (False, CLOSE_FORBIDDEN)


async def test_anonymous_visitors_are_refused(forum):
    ws = communicator(f"/ws/moderation/{forum.pk}/")
    assert await ws.connect(timeout=TIMEOUT) == (False, CLOSE_FORBIDDEN)


async def test_a_moderator_of_another_forum_is_refused(forum, max_):
    ws = communicator(f"/ws/moderation/{forum.pk}/", await session_cookie(max_))
    assert await ws.connect(timeout=TIMEOUT) == (False, CLOSE_FORBIDDEN)


async def test_a_foreign_origin_is_refused(forum, moderator):
    ws = WebsocketCommunicator(
        application,
        f"/ws/moderation/{forum.pk}/",
        headers=[HOST, (b"origin", b"https://evil.example"), (b"cookie", b"x")],
    )
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert not connected


async def test_the_staff_queue_admits_staff_only(forum, moderator, sam):
    ws = communicator("/ws/moderation/staff/", await session_cookie(moderator))
    assert await ws.connect(timeout=TIMEOUT) == (False, CLOSE_FORBIDDEN)
    staff = await open_queue("/ws/moderation/staff/", sam)
    await staff.disconnect()


async def test_a_moderator_receives_queue_changed_when_a_report_arrives(
    forum, moderator, post, alice, sam
):
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    staff = await open_queue("/ws/moderation/staff/", sam)
    report = await database_sync_to_async(services.report_create)(
        actor=alice, post=post, reason=Reason.INSULT
    )
    for socket in (ws, staff):
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        assert frame["type"] == "queue.changed"
        assert frame["case"] == report.case_id
        assert frame["item"]["post"]["id"] == post.pk
        assert frame["item"]["reports"] == 1
    await database_sync_to_async(services.post_hide)(
        actor=moderator, post=post, reason=Reason.INSULT
    )
    removed = await ws.receive_json_from(timeout=TIMEOUT)
    assert removed == {"type": "queue.removed", "case": report.case_id, "status": "actioned"}
    await ws.disconnect()
    await staff.disconnect()


async def test_a_ping_is_answered_and_other_frames_are_refused(forum, moderator):
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await ws.send_to(text_data="not json")
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["code"]) == ("error", "invalid")
    await ws.send_json_to({"type": "post.hide", "post": 1})
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["code"]) == ("error", "invalid")
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await ws.disconnect()


BAD_FRAMES = {
    "binary": ({"bytes_data": b"\x00"}, "invalid", None),
    "not JSON": ({"text_data": "not json"}, "invalid", None),
    "deeply nested": ({"text_data": "[" * 5_000 + "]" * 5_000}, "invalid", None),
    "nested inside a ping": (
        {"text_data": '{"type": "ping", "id": "d", "x": ' + "[" * 30 + "]" * 30 + "}"},
        "invalid",
        None,
    ),
    "over 64 KiB": ({"text_data": '"' + "x" * 70_000 + '"'}, "too_long", None),
    "an unknown type": ({"text_data": '{"type": "post.hide", "id": 3}'}, "invalid", 3),
    "an id that cannot be echoed": ({"text_data": '{"type": "ping", "id": [1]}'}, "invalid", None),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_frame_gets_one_error_with_a_ref_and_the_queue_stays(name, forum, moderator):
    frame, code, ref = BAD_FRAMES[name]
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    await ws.send_to(**frame)
    error = await ws.receive_json_from(timeout=TIMEOUT)
    assert (error["type"], error["code"], error["ref"]) == ("error", code, ref)
    assert error["message"]
    await ws.send_json_to({"type": "ping", "id": "after"})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "ref": "after"}
    await ws.disconnect()


async def test_a_flood_on_the_queue_passes_exactly_the_burst(forum, moderator, monkeypatch):
    clock = ManualClock()
    monkeypatch.setattr(QueueConsumer, "clock", clock)
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    for i in range(RATE_BURST + 3):
        await ws.send_json_to({"type": "ping", "id": i})
    frames = [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(RATE_BURST + 3)]
    assert [f["type"] for f in frames] == ["pong"] * RATE_BURST + ["error"] * 3
    assert frames[-1]["code"] == "rate_limited"
    assert frames[-1]["details"] == {"retry_after": 1}
    assert frames[-1]["ref"] == RATE_BURST + 2
    clock.advance(60)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await ws.disconnect()


async def test_a_revoked_moderator_is_closed_at_once(forum, moderator, sam):
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    # mo sends nothing: the revocation alone closes the queue socket.
    await database_sync_to_async(services.moderator_revoke)(
        actor=sam, forum=forum, member=moderator
    )
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["code"]) == ("error", "forbidden")
    await assert_closed(ws, CLOSE_FORBIDDEN)
    assert get_hub().local_count(f"member.{moderator.pk}") == 0


async def test_access_changed_is_not_forwarded_to_a_moderator_who_keeps_the_right(
    forum, moderator, post, alice
):
    from deliberation.live import access_changed_on_commit

    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    await database_sync_to_async(access_changed_on_commit)(moderator.pk)
    await database_sync_to_async(services.report_create)(
        actor=alice, post=post, reason=Reason.INSULT
    )
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "queue.changed"
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_a_logged_out_moderator_is_refused_on_the_next_frame(forum, moderator):
    cookie = await session_cookie(moderator)
    ws = communicator(f"/ws/moderation/{forum.pk}/", cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    await ws.receive_json_from(timeout=TIMEOUT)

    @database_sync_to_async
    def end_sessions() -> None:
        from django.contrib.sessions.models import Session

        Session.objects.all().delete()

    await end_sessions()
    await ws.send_json_to({"type": "ping"})
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    assert frame["code"] == "forbidden"
    await assert_closed(ws, CLOSE_FORBIDDEN)


# --- properties (hypothesis; budget and seed: tests/conftest.py) --------------------------------

QUEUE_TYPES = ["ping"]
FIXTURES_SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
async def queue(forum, moderator, monkeypatch):
    """One queue socket of mo's for all examples of a property, with a clock the test moves."""
    clock = ManualClock()
    monkeypatch.setattr(QueueConsumer, "clock", clock)
    ws = await open_queue(f"/ws/moderation/{forum.pk}/", moderator)
    yield ws, clock
    await ws.disconnect()


@FIXTURES_SHARED
@given(frame=live_properties.common_bad_frames(QUEUE_TYPES))
async def test_property_every_bad_frame_gets_one_error_and_the_queue_stays(queue, frame):
    ws, clock = queue
    clock.advance(3_600)
    await live_properties.check_bad_frame(ws, frame, "end")


@settings(FIXTURES_SHARED, max_examples=20)
@given(
    frames=live_properties.floods(
        live_properties.common_bad_frames(QUEUE_TYPES, large=False), RATE_BURST
    )
)
async def test_property_a_flood_on_the_queue_passes_exactly_the_burst(queue, frames):
    ws, clock = queue
    await live_properties.check_flood_then_recovery(ws, clock, frames, RATE_BURST)


async def test_a_guest_moderator_hears_nothing_of_a_members_only_threads_cases(
    forum, post, alice, bob, gina, sam
):
    def setup():
        services.moderator_grant(actor=sam, forum=forum, member=gina)
        hidden = factories.make_thread(forum, author=bob, title="Nur für Mitglieder")
        Thread.objects.filter(pk=hidden.pk).update(members_only=True)
        return factories.make_post(hidden, author=bob, body="Intern und beleidigend")

    members_only_post = await database_sync_to_async(setup)()
    guest = await open_queue(f"/ws/moderation/{forum.pk}/", gina)
    staff = await open_queue("/ws/moderation/staff/", sam)
    report = database_sync_to_async(services.report_create)
    await report(actor=alice, post=members_only_post, reason=Reason.INSULT)
    await report(actor=alice, post=post, reason=Reason.INSULT)
    # Staff hear both cases; the guest moderator only the one in the thread open to guests.
    seen = [(await staff.receive_json_from(timeout=TIMEOUT))["item"]["post"]["id"] for _ in "ab"]
    assert seen == [members_only_post.pk, post.pk]
    frame = await guest.receive_json_from(timeout=TIMEOUT)
    assert frame["item"]["post"]["id"] == post.pk
    assert frame["item"]["thread"]["members_only"] is False
    assert await guest.receive_nothing(timeout=0.3)
    await guest.disconnect()
    await staff.disconnect()
