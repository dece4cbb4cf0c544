"""The fan-out fast path: daphne's connection found behind its send, frames prepared once."""

from __future__ import annotations

import functools

import pytest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport

from deliberation.fastsend import (
    RawWebsocketMiddleware,
    protocol_of,
    raw_protocol,
    send_prepared,
)


def open_protocol(factory: WebSocketFactory):
    protocol = factory.buildProtocol(("127.0.0.1", 0))
    protocol.makeConnection(StringTransport())
    # As after a completed opening handshake (which this test does not replay).
    protocol.state = protocol.STATE_OPEN
    return protocol


@pytest.fixture
def factory():
    # An endpoint is required by the constructor; nothing listens until run() is called.
    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    return server, WebSocketFactory(server)


def test_daphnes_connection_is_found_behind_the_send_it_gives_an_application(factory):
    server, ws_factory = factory
    protocol = open_protocol(ws_factory)
    assert raw_protocol(functools.partial(server.handle_reply, protocol)) is protocol


@pytest.mark.parametrize(
    "send",
    [None, print, functools.partial(print, "x"), functools.partial(str.upper, "handle_reply")],
)
def test_any_other_send_is_not_taken_for_a_daphne_connection(send):
    assert raw_protocol(send) is None


async def test_the_middleware_notes_the_connection_of_websockets_only(factory):
    server, ws_factory = factory
    protocol = open_protocol(ws_factory)
    seen = []

    async def app(scope, receive, send):
        seen.append(protocol_of(scope))

    send = functools.partial(server.handle_reply, protocol)
    await RawWebsocketMiddleware(app)({"type": "websocket"}, None, send)
    await RawWebsocketMiddleware(app)({"type": "http"}, None, send)
    assert seen == [protocol, None]


def test_one_prepared_frame_is_written_to_every_open_connection(factory):
    _server, ws_factory = factory
    first, second = open_protocol(ws_factory), open_protocol(ws_factory)
    message = {"type": "websocket.send", "text": '{"type":"post.created","seq":7,"ä":1}'}
    assert send_prepared(first, message)
    prepared = message["mitmachen.prepared"]
    assert send_prepared(second, message)
    assert message["mitmachen.prepared"] is prepared  # framed once, reused
    payload = message["text"].encode("utf-8")
    # An unmasked server text frame: FIN + opcode 1, the length, then the UTF-8 payload.
    expected = bytes([0x81, len(payload)]) + payload
    assert first.transport.value() == expected
    assert second.transport.value() == expected


def test_a_connection_that_is_not_open_is_left_to_the_ordinary_send(factory):
    _server, ws_factory = factory
    closing = open_protocol(ws_factory)
    closing.state = closing.STATE_CLOSING
    assert not send_prepared(closing, {"type": "websocket.send", "text": "{}"})
    assert closing.transport.value() == b""
