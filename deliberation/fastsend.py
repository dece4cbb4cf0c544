"""Write one hub event to many daphne websockets, framed once.

The hub hands every local socket of a thread the same ``websocket.send`` message. Through the
ASGI ``send`` each socket would pass channels' session wrapper, daphne's reply dispatch, a UTF-8
encode and autobahn's framing, all per socket: measured here, that was most of the fan-out time
(docs/PERFORMANCE.md). Autobahn offers broadcast for exactly this case: a *prepared* message is
framed once and its bytes written to each connection.

:class:`RawWebsocketMiddleware` (the outermost ASGI layer) notes daphne's protocol object of a
websocket connection in the scope; :func:`send_prepared` writes a message through it. Anywhere
else (channels' test communicator, another server, or a daphne whose internals have changed) no
protocol is found and callers fall back to the ordinary ASGI ``send``: this is a speed path only.
"""

from __future__ import annotations

import functools
from typing import Any

SCOPE_KEY = "mitmachen.raw_websocket"
_PREPARED = "mitmachen.prepared"


def raw_protocol(send: Any) -> Any | None:
    """daphne's WebSocketProtocol behind ``send``, or None.

    daphne (4.x) calls the application with ``send=functools.partial(server.handle_reply,
    protocol)``; anything else is not recognised.
    """
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    func = send.func
    owner = getattr(func, "__self__", None)
    if getattr(func, "__name__", "") != "handle_reply" or owner is None:
        return None
    if type(owner).__module__ != "daphne.server":
        return None
    protocol = send.args[0]
    if not all(hasattr(protocol, name) for name in ("sendPreparedMessage", "factory", "state")):
        return None
    return protocol


class RawWebsocketMiddleware:
    """Note daphne's protocol of each websocket in ``scope["extensions"]`` (see module doc)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket":
            protocol = raw_protocol(send)
            if protocol is not None:
                extensions = dict(scope.get("extensions") or {})
                extensions[SCOPE_KEY] = protocol
                scope = {**scope, "extensions": extensions}
        return await self.app(scope, receive, send)


def protocol_of(scope: dict) -> Any | None:
    return (scope.get("extensions") or {}).get(SCOPE_KEY)


def send_prepared(protocol: Any, message: dict[str, Any]) -> bool:
    """Write the text of ``message`` (a ``websocket.send``) to ``protocol``; False if not open.

    The frame is prepared on first use and kept in ``message``, which the hub shares between all
    sockets of an audience: the second and every later socket only get the same bytes written.
    Call on daphne's event loop (the hub's), like daphne itself does.
    """
    if protocol.state != protocol.STATE_OPEN:
        return False
    prepared = message.get(_PREPARED)
    if prepared is None:
        prepared = protocol.factory.prepareMessage(message["text"].encode("utf-8"), False)
        message[_PREPARED] = prepared
    if getattr(protocol, "_perMessageCompress", None) is None:
        _write_now(protocol, prepared.payloadHybi)
    else:
        protocol.sendPreparedMessage(prepared)  # compression frames per connection
    return True


def _write_now(protocol: Any, data: bytes) -> None:
    """Write ``data`` to the connection's socket at once when nothing is queued before it.

    Twisted's ``transport.write`` only buffers and registers the connection for writing; the
    bytes leave on a later loop pass, with two more system calls to register and unregister.
    For a fan-out to every socket of a thread that triples the work per socket. When neither
    autobahn nor Twisted holds unsent data for this connection (so order is kept) and it is a
    plain TCP connection, one ``send`` suffices, as asyncio's own transports do; whatever the
    kernel does not take, and every other case, goes the ordinary way.
    """
    transport = protocol.transport
    sock = getattr(transport, "socket", None)
    if (
        sock is None
        or protocol.send_queue
        or getattr(transport, "TLS", True)
        or getattr(transport, "dataBuffer", True)
        or getattr(transport, "_tempDataBuffer", True)
        or getattr(transport, "disconnecting", True)
        or not getattr(transport, "connected", False)
    ):
        protocol.sendData(data)
        return
    try:
        sent = sock.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:
        # A broken connection: let Twisted find out and close it the ordinary way.
        protocol.sendData(data)
        return
    if sent < len(data):
        protocol.sendData(data[sent:])
