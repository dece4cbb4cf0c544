"""The websocket entrance of deliberation.asgi: origin checked, session cookie authenticates.

A foreign page must not open a socket with a member's cookies (cross-site websocket hijacking):
browsers send cookies with a websocket handshake to any origin, so the Origin header is the check.
"""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from deliberation.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED_ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
def alice_cookie(alice) -> bytes:
    """The Cookie header of Alice's browser after she logged in."""
    client = Client()
    client.force_login(alice)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={session_id}".encode()


def probe(*, origin: bytes | None, cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/probe/", headers=headers)


async def test_it_accepts_a_member_from_an_allowed_host(alice_cookie):
    communicator = probe(origin=ALLOWED_ORIGIN, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"http://127.0.0.1.evil.example", b"null"],
)
async def test_it_refuses_a_foreign_origin_even_with_a_members_cookie(alice_cookie, origin):
    communicator = probe(origin=origin, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_it_refuses_a_handshake_without_origin(alice_cookie):
    communicator = probe(origin=None, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_it_refuses_an_anonymous_visitor_from_an_allowed_host():
    communicator = probe(origin=ALLOWED_ORIGIN, cookie=None)
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401
    await communicator.disconnect()


async def test_it_refuses_a_forged_session_cookie():
    cookie = f"{settings.SESSION_COOKIE_NAME}=not-a-session".encode()
    communicator = probe(origin=ALLOWED_ORIGIN, cookie=cookie)
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


# --- origins are scheme, host and port (deliberation.origins) ------------------------------------


@pytest.mark.parametrize(
    ("origin", "admitted"),
    [
        (b"http://127.0.0.1:8101", True),
        (b"http://127.0.0.1:9999", False),
        (b"https://127.0.0.1:8101", False),
        (b"http://127.0.0.1", False),
        (b"http://localhost:8101", False),
    ],
)
async def test_in_production_only_the_sites_own_scheme_host_and_port_may_open_a_socket(
    settings, alice_cookie, origin, admitted
):
    from deliberation.env import site_origins

    settings.WEBSOCKET_ORIGINS = site_origins(
        site_url="http://127.0.0.1:8101", csrf_trusted_origins=[], allowed_hosts=[]
    )
    communicator = probe(origin=origin, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert connected is admitted
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("origin", "admitted"),
    [
        (b"https://mitmachen.example.org", True),
        (b"https://mitmachen.example.org:443", True),
        (b"https://beteiligung.example.org", True),
        (b"https://bezirk.partei.example", True),
        (b"http://mitmachen.example.org", False),
        (b"https://mitmachen.example.org:8443", False),
        (b"https://evil.example.org", False),
        (b"https://partei.example.evil", False),
    ],
)
async def test_in_production_the_allowed_hosts_count_over_https_and_trusted_origins_as_given(
    settings, alice_cookie, origin, admitted
):
    from deliberation.env import site_origins

    settings.WEBSOCKET_ORIGINS = site_origins(
        site_url="https://mitmachen.example.org",
        csrf_trusted_origins=["https://beteiligung.example.org", "https://*.partei.example"],
        allowed_hosts=["mitmachen.example.org"],
    )
    communicator = probe(origin=origin, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert connected is admitted
    await communicator.disconnect()


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:9999", b"https://localhost:5173"])
async def test_in_development_the_allowed_hosts_may_connect_on_any_scheme_and_port(
    alice_cookie, origin
):
    communicator = probe(origin=origin, cookie=alice_cookie)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()
