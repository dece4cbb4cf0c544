"""The load client's sockets: sheds (4503) are retried on the hint, failed handshakes are not."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bench.burstclient import run_burst, summarise_burst, summarise_lone
from bench.calibrate_server import frame
from bench.wsclient import (
    DEFAULT_RETRY_AFTER,
    Tally,
    busy_retry_after,
    open_socket,
    shed_delay,
    shed_retry_after,
)

HELLO = frame(b'{"type": "hello", "protocol": 1, "thread": 1, "seq": 0}')
SYNCED = frame(b'{"type": "synced", "thread": 1, "seq": 0}')


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(code.to_bytes(2, "big") + reason.encode(), opcode=8)


def shed_frame(retry_after: float) -> bytes:
    busy = json.dumps({"type": "busy", "retry_after": retry_after}).encode()
    return frame(busy) + close_frame(4503)


class FakeServer:
    """Answers each handshake with 101, then with what ``script(n)`` gives the n-th connection."""

    def __init__(self, script: Callable[[int], bytes]) -> None:
        self.script = script
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.connections += 1
        frames = self.script(self.connections)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" + frames)
        await writer.drain()
        try:
            await reader.read()  # until the client closes
        finally:
            writer.close()


Start = Callable[[Callable[[int], bytes]], Awaitable[tuple[FakeServer, int]]]


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    """Starts fake servers on free ports; closes them after the test."""
    servers: list[asyncio.Server] = []

    async def start(script: Callable[[int], bytes]) -> tuple[FakeServer, int]:
        fake = FakeServer(script)
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
        servers.append(server)
        return fake, server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()


def spec_for(port: int, **extra: object) -> dict:
    return {"host": "127.0.0.1", "port": port, "path": "/ws/threads/1/?after=0", **extra}


def test_a_shed_close_gives_its_retry_hint() -> None:
    hint = busy_retry_after(b'{"type": "busy", "retry_after": 2.5}')
    assert hint == 2.5
    assert shed_retry_after((4503).to_bytes(2, "big"), hint) == 2.5


def test_a_shed_close_without_a_readable_hint_waits_the_default() -> None:
    assert shed_retry_after((4503).to_bytes(2, "big")) == DEFAULT_RETRY_AFTER
    assert busy_retry_after(b'{"type": "busy"}') == DEFAULT_RETRY_AFTER
    assert busy_retry_after(b'{"type": "busy", "retry_after": -1}') == (DEFAULT_RETRY_AFTER)


def test_any_other_close_is_not_a_shed() -> None:
    assert shed_retry_after((1011).to_bytes(2, "big") + b'{"retry_after": 1}') is None
    assert shed_retry_after(b"") is None


def test_a_shed_client_waits_between_one_and_two_times_the_hint() -> None:
    assert shed_delay(2.0, rng=lambda: 0.0) == 2.0
    assert shed_delay(2.0, rng=lambda: 0.5) == 3.0


async def test_a_shed_connect_is_retried_and_counted_as_a_shed(serve: Start) -> None:
    fake, port = await serve(lambda n: shed_frame(0) if n == 1 else HELLO + SYNCED)
    opened = await open_socket(
        spec_for(port), port, "", Tally(), ready_on="synced", deadline=time.monotonic() + 30
    )
    assert (opened.error, opened.sheds, fake.connections) == (None, 1, 2)
    assert opened.receiver.hello_at is not None and opened.receiver.synced_at is not None
    opened.receiver.abort()


async def test_a_socket_waiting_for_synced_is_not_ready_at_hello(serve: Start) -> None:
    _, port = await serve(lambda n: HELLO + close_frame(1011))
    opened = await open_socket(
        spec_for(port), port, "", Tally(), ready_on="synced", deadline=time.monotonic() + 30
    )
    assert opened.receiver is None
    assert opened.error == "ConnectionError: closed before synced (code 1011)"


async def test_a_failed_handshake_is_not_retried(serve: Start) -> None:
    fake, port = await serve(lambda n: close_frame(1011))
    opened = await open_socket(
        spec_for(port), port, "", Tally(), ready_on="hello", deadline=time.monotonic() + 30
    )
    assert (opened.receiver, opened.sheds, fake.connections) == (None, 0, 1)
    assert opened.error == "ConnectionError: closed before hello (code 1011)"


async def test_a_burst_counts_sheds_apart_from_failures_and_all_clients_sync(serve: Start) -> None:
    # Every second connection is shed: lone connects and the burst both meet sheds.
    fake, port = await serve(lambda n: shed_frame(0) if n % 2 else HELLO + SYNCED)
    spec = spec_for(
        port,
        ports=[port, port],
        cookies=["sessionid=a", "sessionid=b"],
        clients=6,
        connect_rate=1000.0,
        lone=2,
        connect_timeout=30,
    )
    result = await run_burst(spec)
    summary = summarise_burst(result["records"])
    assert summary["synced"] == summary["clients"] == 6
    assert summary["failed"] == 0
    assert summary["sheds"] >= 1
    assert summary["all_synced_s"] is not None
    assert summarise_lone(result["lone"])["lone_failed"] == 0
    # Every shed was one more connection, and nothing else was retried.
    lone_sheds = sum(r["sheds"] for r in result["lone"])
    assert fake.connections == 2 + 6 + lone_sheds + summary["sheds"]
