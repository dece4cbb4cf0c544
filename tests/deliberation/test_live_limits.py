"""The frame limits and refusals as a network client meets them, against a real daphne.

In-process tests cannot show what daphne itself does: its hard cap on a message (1 MiB, above
which it drops the connection before the application sees the frame) and the bodiless HTTP 403
of a refused handshake. docs/PROTOCOL.md, "Limits" and "Connecting", describes both.
"""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from tests import factories
from tests.servers import daphne_server, database_url_of_current_test_db

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path):
    started = daphne_server(log_dir=tmp_path, database_url=database_url_of_current_test_db())
    started.start(timeout=60)
    yield started
    started.stop()


def probe(server, cookie: str | None, *, origin: str | None = None):
    headers = {"Cookie": cookie} if cookie else {}
    return connect(
        f"{server.ws_url}/ws/probe/",
        origin=origin or server.url,
        additional_headers=headers,
        max_size=None,
        open_timeout=20,
    )


def test_frames_up_to_the_hard_cap_get_too_long_and_larger_ones_lose_the_connection(server, alice):
    cookie = factories.session_cookie_of(alice)
    with probe(server, cookie) as ws:
        for size in (64 * 1024 + 1, MIB):
            ws.send('"' + "x" * (size - 2) + '"')
            answer = json.loads(ws.recv(timeout=20))
            assert (answer["code"], answer["ref"]) == ("too_long", None), answer
        ws.send("[" * 1_000 + "]" * 1_000)
        assert json.loads(ws.recv(timeout=20))["code"] == "invalid"
        ws.send(json.dumps({"type": "ping", "id": "still"}))
        assert json.loads(ws.recv(timeout=20)) == {"type": "pong", "ref": "still"}
        # daphne drops the connection as soon as the frame passes the cap, maybe while it is
        # still being sent: whichever call notices first sees the connection lost.
        with pytest.raises(ConnectionClosedError) as closed:
            ws.send("x" * (MIB + 1))
            ws.recv(timeout=20)
        # No close frame: the client sees an abnormal closure (1006), no error frame.
        assert closed.value.rcvd is None
    assert "Traceback" not in server.log()


def test_a_refused_handshake_is_a_bodiless_403_without_a_traceback_in_the_log(server, alice):
    cookie = factories.session_cookie_of(alice)
    for origin, cookie_sent in (("https://evil.example", cookie), (None, None)):
        with pytest.raises(InvalidStatus) as refused:
            probe(server, cookie_sent, origin=origin)
        assert refused.value.response.status_code == 403
    assert "Traceback" not in server.log()
