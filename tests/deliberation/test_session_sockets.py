"""A session that ends closes its live sockets at once, and only its own.

A logout, a password reset or change, and a session's expiry reach a member's open sockets
without waiting for a frame from them (a silent socket would otherwise keep receiving). Sockets
of the member's other, still valid sessions stay open. Personas: alice reads an invited-only
forum (granted), mo moderates it, sam is staff; bob writes the posts that arrive.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from deliberation import clock as deliberation_clock
from deliberation import services as member_services
from deliberation.asgi import application
from deliberation.hub import reset_hub
from forums import services
from forums.consumers import CLOSE_FORBIDDEN
from forums.models import Forum
from moderation import services as moderation_services
from tests.clock import FakeClock
from tests.conftest import close_live_state
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HEADERS = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
TIMEOUT = 5
NEW_PASSWORD = "ein-neues-langes-Passwort-2026"


@pytest.fixture(autouse=True)
async def _fresh_hub():
    reset_hub(None)
    channel_layers.backends.clear()
    yield
    await close_live_state()


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(deliberation_clock, "clock", fake)
    return fake


@pytest.fixture
def forum(sam, alice, bob, mo):
    forum = services.forum_create(
        actor=sam, title="Ratschlag", slug="ratschlag", visibility=Forum.Visibility.INVITED
    )
    services.forum_grant(actor=sam, forum=forum, member=alice, right="view")
    services.forum_grant(actor=sam, forum=forum, member=bob, right="participate")
    moderation_services.moderator_grant(actor=sam, forum=forum, member=mo)
    return forum


@pytest.fixture
def thread(forum, bob):
    return services.thread_create(actor=bob, forum=forum, title="Mieten", body="Erster")


@database_sync_to_async
def browser_of(member: Any) -> Client:
    """A browser in which ``member`` is signed in: a session of its own."""
    client = Client()
    client.force_login(member)
    return client


def cookie_of(client: Client) -> bytes:
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def open_socket(path: str, client: Client, *, until: str = "hello") -> WebsocketCommunicator:
    """Connect in ``client``'s session and read up to the first frame of type ``until``."""
    ws = WebsocketCommunicator(
        application, path, headers=[*HEADERS, (b"cookie", cookie_of(client))]
    )
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert connected, code
    while (await ws.receive_json_from(timeout=TIMEOUT))["type"] != until:
        pass
    return ws


async def open_thread(thread: Any, client: Client) -> WebsocketCommunicator:
    return await open_socket(f"/ws/threads/{thread.pk}/", client, until="synced")


async def closed_with(ws: WebsocketCommunicator) -> int | None:
    """Read until the socket closes; returns its close code (frames before it are skipped)."""
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output.get("code")


async def next_of(ws: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame


@database_sync_to_async
def post_as(member: Any, thread: Any, body: str) -> None:
    services.post_create(actor=member, thread=thread, body=body)


@database_sync_to_async
def until_expiry(fake_clock: FakeClock, browser: Client) -> timedelta:
    """How long, on the test's clock, until the session of ``browser`` expires."""
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date - fake_clock.now()


@database_sync_to_async
def log_out(client: Client) -> None:
    assert client.post(reverse("logout")).status_code == 302


# --- logout ---------------------------------------------------------------------------------------


async def test_logging_out_closes_that_sessions_thread_socket_at_once_and_no_other(
    thread, alice, bob
):
    laptop, phone = await browser_of(alice), await browser_of(alice)
    on_laptop = await open_thread(thread, laptop)
    on_phone = await open_thread(thread, phone)
    await log_out(laptop)
    # The laptop's socket sent nothing: the logout alone closes it.
    assert await closed_with(on_laptop) == CLOSE_FORBIDDEN
    await post_as(bob, thread, "Nur für Eingeladene")
    frame = await next_of(on_phone, "post.created")
    assert "Nur für Eingeladene" in frame["post"]["body_html"]
    await on_phone.disconnect()


async def test_logging_out_closes_that_sessions_moderation_queue_at_once_and_no_other(
    forum, thread, mo, alice
):
    office, home = await browser_of(mo), await browser_of(mo)
    queue_at_office = await open_socket(f"/ws/moderation/{forum.pk}/", office)
    queue_at_home = await open_socket(f"/ws/moderation/{forum.pk}/", home)
    await log_out(office)
    assert await closed_with(queue_at_office) == CLOSE_FORBIDDEN
    post = await database_sync_to_async(lambda: thread.posts.order_by("pk").first())()
    await database_sync_to_async(moderation_services.report_create)(
        actor=alice, post=post, reason="insult"
    )
    assert (await next_of(queue_at_home, "queue.changed"))["type"] == "queue.changed"
    await queue_at_home.disconnect()


# --- passwords ------------------------------------------------------------------------------------


@database_sync_to_async
def reset_password(member: Any) -> None:
    """The member follows a password link and sets a new password (another browser)."""
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    response = client.get(reverse("password_reset_confirm", args=[uid, token]))
    assert response.status_code == 302
    response = client.post(
        response.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.content


async def test_a_password_reset_closes_every_socket_of_the_member_at_once(forum, thread, alice):
    laptop, phone = await browser_of(alice), await browser_of(alice)
    sockets = [await open_thread(thread, laptop), await open_thread(thread, phone)]
    await reset_password(alice)
    for ws in sockets:
        assert await closed_with(ws) == CLOSE_FORBIDDEN


async def test_staff_setting_a_members_password_in_the_admin_closes_the_members_sockets(
    forum, thread, alice, sam
):
    ws = await open_thread(thread, await browser_of(alice))

    @database_sync_to_async
    def change_in_admin() -> None:
        client = Client()
        client.force_login(sam)
        url = reverse("admin:auth_user_password_change", args=[alice.pk])
        response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 302, response.content

    await change_in_admin()
    assert await closed_with(ws) == CLOSE_FORBIDDEN


async def test_staff_changing_their_own_password_in_the_admin_closes_their_other_sessions(
    forum, thread, sam
):
    desk, phone = await browser_of(sam), await browser_of(sam)
    on_phone = await open_socket(f"/ws/moderation/{forum.pk}/", phone)

    @database_sync_to_async
    def change_own_password() -> None:
        fields = {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        }
        response = desk.post(reverse("admin:password_change"), fields)
        assert response.status_code == 302, response.content

    await change_own_password()
    assert await closed_with(on_phone) == CLOSE_FORBIDDEN


async def test_the_password_service_closes_the_members_sockets(forum, thread, alice):
    ws = await open_thread(thread, await browser_of(alice))
    await database_sync_to_async(member_services.member_set_password)(
        member=alice, password=NEW_PASSWORD
    )
    assert await closed_with(ws) == CLOSE_FORBIDDEN


# --- expiry ---------------------------------------------------------------------------------------


async def test_a_thread_socket_closes_when_its_session_expires_without_a_frame(
    fake_clock, thread, alice
):
    browser = await browser_of(alice)
    ws = await open_thread(thread, browser)
    await fake_clock.sleeping(1)
    fake_clock.advance(await until_expiry(fake_clock, browser) - timedelta(seconds=60))
    await fake_clock.sleeping(1)
    await ws.send_json_to({"type": "ping"})
    assert (await next_of(ws, "pong"))["type"] == "pong"
    fake_clock.advance(timedelta(seconds=61))
    assert await closed_with(ws) == CLOSE_FORBIDDEN


async def test_a_moderation_queue_closes_when_its_session_expires(fake_clock, forum, mo):
    browser = await browser_of(mo)
    ws = await open_socket(f"/ws/moderation/{forum.pk}/", browser)
    await fake_clock.sleeping(1)
    fake_clock.advance(await until_expiry(fake_clock, browser) + timedelta(seconds=1))
    assert await closed_with(ws) == CLOSE_FORBIDDEN


async def test_a_session_extended_meanwhile_keeps_its_socket_open_until_its_new_expiry(
    fake_clock, thread, alice
):
    browser = await browser_of(alice)
    ws = await open_thread(thread, browser)
    await fake_clock.sleeping(1)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    first_expiry = await until_expiry(fake_clock, browser)

    @database_sync_to_async
    def extend_by_a_day() -> None:
        session = Session.objects.get(session_key=key)
        session.expire_date += timedelta(days=1)
        session.save(update_fields=["expire_date"])

    await extend_by_a_day()
    fake_clock.advance(first_expiry + timedelta(seconds=1))
    # The watch read the new expiry and sleeps again; the socket still answers.
    await fake_clock.sleeping(1)
    await ws.send_json_to({"type": "ping"})
    assert (await next_of(ws, "pong"))["type"] == "pong"
    fake_clock.advance(timedelta(days=1))
    assert await closed_with(ws) == CLOSE_FORBIDDEN
