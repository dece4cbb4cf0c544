"""The receiving socket the load client's modes share, and how it connects.

A minimal websocket client on ``asyncio.Protocol`` rather than the ``websockets`` library: per
frame it does a substring test and one regex for ``seq``, so that at 1,000 sockets and more the
client is not what saturates. It is ready when the frame it waits for arrived (``hello`` for the
fan-out, ``synced`` for a connect burst: see docs/PROTOCOL.md, "Connecting").

A server under a connect burst may accept a socket and close it at once with ``4503`` ("try again
later") after a frame ``{"type": "busy", "retry_after": <seconds>}``. ``open_socket`` then waits
``retry_after * (1 + random())``, as the platform's own script does, and connects again; such a
shed is counted on its own, never as a failed handshake. A server that never sheds (the one before
issue #8, the baselines) is served by the same code. ``servers_cpu_seconds`` reads the server
processes' CPU time from ``/proc`` for the CPU shares every result reports.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SEQ = re.compile(rb'"seq":\s*(\d+)')
#: Only frames before the socket is ready are matched against this (cheap enough there).
CONTROL = re.compile(rb'"type":\s*"(hello|synced|reset)"')
#: "Try again later": the server sheds a connect under load (issue #8).
SHED_CODE = 4503
#: The wait a shed without a readable hint is given, in seconds.
DEFAULT_RETRY_AFTER = 1.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Shed(ConnectionError):
    """The server closed the socket with 4503 before it was ready."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"shed (4503), retry after {retry_after:g} s")
        self.retry_after = retry_after


def busy_retry_after(payload: bytes) -> float | None:
    """The retry hint of a ``busy`` frame (the server is shedding this connect), else None."""
    if b'"busy"' not in payload:
        return None
    try:
        frame = json.loads(payload.decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(frame, dict) or frame.get("type") != "busy":
        return None
    hint = frame.get("retry_after")
    if isinstance(hint, bool) or not isinstance(hint, int | float) or hint < 0:
        return DEFAULT_RETRY_AFTER
    return float(hint)


def shed_retry_after(close_payload: bytes, hint: float | None = None) -> float | None:
    """The wait of a shed (a close with 4503, after a ``busy`` frame's ``hint``), else None."""
    if len(close_payload) < 2 or int.from_bytes(close_payload[:2], "big") != SHED_CODE:
        return None
    return DEFAULT_RETRY_AFTER if hint is None else hint


def shed_delay(retry_after: float, rng: Callable[[], float] = random.random) -> float:
    """How long a shed client waits before it connects again: ``retry_after * (1 + random())``."""
    return retry_after * (1 + rng())


def close_code(close_payload: bytes | None) -> int | None:
    if close_payload is None:
        return None
    return int.from_bytes(close_payload[:2], "big") if len(close_payload) >= 2 else 1005


@dataclass
class Tally:
    """Deliveries seen by the receivers, by ``seq``."""

    counts: Counter = field(default_factory=Counter)
    last: dict[int, float] = field(default_factory=dict)
    #: When the first receiver got each seq: the write path's share of a post's latency.
    first: dict[int, float] = field(default_factory=dict)
    #: Sockets closed after they were ready.
    closed: int = 0
    other_frames: int = 0


class Receiver(asyncio.Protocol):
    """One receiving socket: handshake, then unmasked server frames parsed by hand."""

    def __init__(self, tally: Tally, request: bytes, ready_on: str = "hello") -> None:
        self.tally = tally
        self.request = request
        self.ready_on = ready_on
        self.buf = b""
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        # A caller that gave up waiting (timeout) must not leave an unretrieved exception behind.
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.close_payload: bytes | None = None
        #: The ``busy`` frame's retry hint, when the server is shedding this connect.
        self.busy_hint: float | None = None
        self.hello_at: float | None = None
        self.synced_at: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ready.done():
            if self.ready.exception() is None:
                self.tally.closed += 1
            return
        retry_after = shed_retry_after(self.close_payload or b"", self.busy_hint)
        if retry_after is not None:
            self.ready.set_exception(Shed(retry_after))
            return
        code = close_code(self.close_payload)
        before = "hello" if self.hello_at is None else self.ready_on
        detail = f" (code {code})" if code is not None else ""
        self.ready.set_exception(ConnectionError(f"closed before {before}{detail}"))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status = buf[: buf.find(b"\r\n")]
            if b" 101 " not in status + b" ":
                self.ready.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()
                return
            buf = buf[end + 4 :]
            self.upgraded = True
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > n:
                break
            opcode = b0 & 0x0F
            payload = buf[pos + head : end]
            pos = end
            if opcode in (0, 1):
                if not b0 & 0x80:
                    self.fragments.append(payload)
                    continue
                if self.fragments:
                    payload = b"".join([*self.fragments, payload])
                    self.fragments.clear()
                self.on_text(payload, now)
            elif opcode == 9:
                self.send_frame(0xA, payload)
            elif opcode == 8:
                self.close_payload = payload
                self.send_frame(0x8, payload[:2])
                self.transport.close()
                return
        self.buf = buf[pos:] if pos < n else b""

    def on_text(self, payload: bytes, now: float) -> None:
        if b'"post.created"' in payload:
            match = SEQ.search(payload)
            if match:
                seq = int(match.group(1))
                tally = self.tally
                tally.counts[seq] += 1
                if seq not in tally.last:
                    tally.first[seq] = now
                tally.last[seq] = now
                return
        if not self.ready.done():
            hint = busy_retry_after(payload)
            if hint is not None:
                self.busy_hint = hint
                return
            match = CONTROL.search(payload)
            if match:
                kind = match.group(1)
                if kind == b"hello":
                    self.hello_at = now
                elif self.synced_at is None:  # ``reset`` ends a connect as ``synced`` does
                    self.synced_at = now
                wanted = (b"hello",) if self.ready_on == "hello" else (b"synced", b"reset")
                if kind in wanted:
                    self.ready.set_result(None)
                return
        self.tally.other_frames += 1

    def send_frame(self, opcode: int, payload: bytes) -> None:
        key = os.urandom(4)
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + key + masked)


def request(spec: dict[str, Any], port: int, cookie: str) -> bytes:
    """A websocket handshake for ``spec['path']`` on ``port`` (a fresh key each time)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {spec['path']} HTTP/1.1",
        f"Host: {spec['host']}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: http://{spec['host']}:{port}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ports_of(spec: dict[str, Any]) -> list[int]:
    """The server ports of a spec: ``ports`` (several processes) or the one ``port``."""
    return list(spec.get("ports") or [spec["port"]])


@dataclass
class Opened:
    """What connecting one client came to: its ready socket, or the error that ended it."""

    receiver: Receiver | None = None
    sheds: int = 0
    error: str | None = None


async def open_socket(
    spec: dict[str, Any],
    port: int,
    cookie: str,
    tally: Tally,
    *,
    ready_on: str,
    deadline: float,
    gate: asyncio.Semaphore | None = None,
    rng: Callable[[], float] = random.random,
) -> Opened:
    """Connect until the socket is ready, honouring sheds; give up at ``deadline`` (monotonic).

    ``gate`` bounds the attempts in flight; a shed client waits outside it.
    """
    loop = asyncio.get_running_loop()
    opened = Opened()
    while True:
        receiver = Receiver(tally, request(spec, port, cookie), ready_on)
        try:
            async with gate or contextlib.nullcontext():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError()
                await asyncio.wait_for(
                    loop.create_connection(lambda r=receiver: r, spec["host"], port), remaining
                )
                await asyncio.wait_for(asyncio.shield(receiver.ready), deadline - time.monotonic())
        except Shed as shed:
            opened.sheds += 1
            receiver.abort()
            delay = shed_delay(shed.retry_after, rng)
            if time.monotonic() + delay >= deadline:
                opened.error = "timeout (still shed)"
                return opened
            await asyncio.sleep(delay)
            continue
        except (OSError, TimeoutError, ConnectionError) as exc:
            receiver.abort()
            name = type(exc).__name__
            opened.error = name + (f": {exc}"[:80] if str(exc) else "")
            return opened
        opened.receiver = receiver
        return opened


def _server_cpu_seconds(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def servers_cpu_seconds(spec: dict[str, Any]) -> float | None:
    """CPU seconds used so far by the server processes of ``spec`` (all of them, summed)."""
    pids = spec.get("server_pids") or [spec.get("server_pid")]
    seconds = [_server_cpu_seconds(pid) for pid in pids]
    return None if None in seconds else sum(seconds)  # type: ignore[arg-type]


def cpu_mark(spec: dict[str, Any]) -> tuple[float, float | None]:
    """This process's and the servers' CPU seconds now (the start of ``cpu_shares``)."""
    return time.process_time(), servers_cpu_seconds(spec)


def cpu_shares(
    spec: dict[str, Any], t0: float, mark: tuple[float, float | None]
) -> dict[str, float | None]:
    """The wall time since ``t0`` (monotonic) and the CPU shares since ``mark`` of the load
    client and of all server processes together (they share one core when pinned)."""
    wall = time.monotonic() - t0
    cpu, server1 = time.process_time() - mark[0], servers_cpu_seconds(spec)
    server0 = mark[1]
    return {
        "wall_seconds": round(wall, 2),
        "client_cpu_share": round(cpu / wall, 2) if wall > 0 else None,
        "server_cpu_share": (
            round((server1 - server0) / wall, 2)
            if server0 is not None and server1 is not None and wall > 0
            else None
        ),
    }


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile ``q`` (0-100) of ``values``, None for none."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
