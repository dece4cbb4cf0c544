"""A server that costs almost nothing per frame, to measure the load client's own ceiling.

Not a baseline: it speaks just enough of the protocol for the load client (handshake, ``hello``,
``post.create`` -> ``ack`` + one ``post.created`` written with one ``transport.write`` per socket)
on uvloop, so that when the posting rate is far above what anything can deliver, the load client is
what saturates, and the deliveries it counts per second are its ceiling.

    python bench/calibrate_server.py --port 8766
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import signal

from websockets.utils import apply_mask

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(text: bytes, opcode: int = 1) -> bytes:
    n = len(text)
    if n < 126:
        head = bytes([0x80 | opcode, n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
    return head + text


class Hub:
    def __init__(self) -> None:
        self.sockets: set[asyncio.Transport] = set()
        self.seq = 0


class Conn(asyncio.Protocol):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.buf = b""
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.sockets.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            key = b""
            for line in self.buf[:end].split(b"\r\n"):
                if line.lower().startswith(b"sec-websocket-key:"):
                    key = line.split(b":", 1)[1].strip()
            # SHA-1 is what RFC 6455 prescribes for the handshake, not a security choice here.
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.transport.write(frame(b'{"type":"hello","thread":1}'))
            self.buf = self.buf[end + 4 :]
            self.open = True
            self.hub.sockets.add(self.transport)
        while len(self.buf) >= 6:
            length, head = self.buf[1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(self.buf[2:4], "big"), 4
            elif length == 127:
                length, head = int.from_bytes(self.buf[2:10], "big"), 10
            if len(self.buf) < head + 4 + length:
                return
            mask = self.buf[head : head + 4]
            payload = apply_mask(self.buf[head + 4 : head + 4 + length], mask)
            opcode = self.buf[0] & 0x0F
            self.buf = self.buf[head + 4 + length :]
            if opcode == 8:
                self.transport.close()
                return
            if opcode == 1 and b"post.create" in payload:
                self.post(json.loads(payload))

    def post(self, frame_in: dict) -> None:
        self.hub.seq += 1
        seq, cid = self.hub.seq, str(frame_in.get("client_id", ""))
        body = str(frame_in.get("body", ""))
        self.transport.write(
            frame(json.dumps({"type": "ack", "client_id": cid, "seq": seq}).encode())
        )
        event = {
            "type": "post.created",
            "seq": seq,
            "thread": 1,
            "post": {"id": seq, "author": {"id": 1, "display_name": "M"}, "body_html": body},
        }
        data = frame(json.dumps(event, separators=(",", ":")).encode())
        for transport in self.hub.sockets:
            transport.write(data)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    hub = Hub()
    server = await loop.create_server(lambda: Conn(hub), "127.0.0.1", port, backlog=2048)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with server:
        await stop


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
