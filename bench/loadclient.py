"""The fan-out load client: N receiving sockets and the posting sockets in one asyncio process.

Run by ``bench/run.py`` (pinned to its own core); reads a JSON spec on stdin and prints a JSON
result on stdout. Receivers are a minimal websocket client on ``asyncio.Protocol`` rather than the
``websockets`` library: per frame they do a substring test and one regex for ``seq``, so that at
1,000 sockets the client is not what saturates (its CPU share is reported with every step). The
posters are ``websockets`` clients: they send ``post.create`` at a fixed total rate on a schedule
made in advance (round-robin over as many sockets as the rate needs: the consumer grants a socket
about ten frames a second), and latency is measured from each post's scheduled send time, so a late
poster is counted against the server and never hides a backlog.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SEQ = re.compile(rb'"seq":\s*(\d+)')
SEQ_TEXT = re.compile(r'"seq":\s*(\d+)')
MARK = re.compile(r"bmk(\d+)x")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _server_cpu_seconds(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Tally:
    """Deliveries seen by the receivers, by ``seq``."""

    counts: Counter = field(default_factory=Counter)
    last: dict[int, float] = field(default_factory=dict)
    #: When the first receiver got each seq: the write path's share of a post's latency.
    first: dict[int, float] = field(default_factory=dict)
    closed: int = 0
    other_frames: int = 0


class Receiver(asyncio.Protocol):
    """One receiving socket: handshake, then unmasked server frames parsed by hand."""

    def __init__(self, tally: Tally, request: bytes) -> None:
        self.tally = tally
        self.request = request
        self.buf = b""
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.hello: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.hello.done():
            self.tally.closed += 1
            if self.hello.exception() is not None:
                self.tally.closed -= 1
        else:
            self.hello.set_exception(ConnectionError("closed before hello"))

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
                self.hello.set_exception(ConnectionError(status.decode(errors="replace")))
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
        if not self.hello.done() and b'"hello"' in payload:
            self.hello.set_result(None)
            return
        self.tally.other_frames += 1

    def send_frame(self, opcode: int, payload: bytes) -> None:
        key = os.urandom(4)
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + key + masked)


def _request(spec: dict[str, Any], cookie: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {spec['path']} HTTP/1.1",
        f"Host: {spec['host']}:{spec['port']}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {spec['origin']}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _connect_receivers(spec: dict[str, Any], tally: Tally) -> tuple[list[Receiver], float]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(spec.get("connect_concurrency", 50))
    cookies = spec["cookies"]
    deadline = time.monotonic() + spec.get("connect_timeout", 60)
    started = time.monotonic()
    errors: Counter = Counter()

    async def one(i: int) -> Receiver | None:
        async with gate:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                errors["timeout"] += 1
                return None
            receiver = Receiver(tally, _request(spec, cookies[i % len(cookies)]))
            try:
                await asyncio.wait_for(
                    loop.create_connection(lambda: receiver, spec["host"], spec["port"]),
                    remaining,
                )
                await asyncio.wait_for(asyncio.shield(receiver.hello), deadline - time.monotonic())
            except (OSError, TimeoutError, ConnectionError) as exc:
                errors[type(exc).__name__ + (f": {exc}"[:80] if str(exc) else "")] += 1
                if receiver.transport:
                    receiver.transport.close()
                return None
            return receiver

    results = await asyncio.gather(*(one(i) for i in range(spec["clients"])))
    if errors:
        print(f"connect errors: {dict(errors)}", file=sys.stderr)
    return [r for r in results if r is not None], time.monotonic() - started


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    receivers, connect_seconds = await _connect_receivers(spec, tally)
    result: dict[str, Any] = {
        "clients_requested": spec["clients"],
        "clients_connected": len(receivers),
        "connect_seconds": round(connect_seconds, 2),
        "steps": [],
    }
    if not receivers:
        return result
    uri = f"ws://{spec['host']}:{spec['port']}{spec['path']}"
    seq_of: dict[int, int] = {}
    errors: Counter = Counter()
    run_id = spec.get("run_id", "b")
    cookies = spec["poster_cookies"]
    poster_rate = spec.get("poster_rate") or 8.0
    posters_needed = min(len(cookies), math.ceil(max(spec["rates"]) / poster_rate))

    async def listen(poster: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in poster:
                text = message if isinstance(message, str) else message.decode()
                if "post.created" in text:
                    mark, seq = MARK.search(text), SEQ_TEXT.search(text)
                    if mark and seq:
                        seq_of.setdefault(int(mark.group(1)), int(seq.group(1)))
                elif '"ack"' in text or '"error"' in text:
                    frame = json.loads(text)
                    if frame.get("type") == "error":
                        errors[str(frame.get("code"))] += 1
                        continue
                    seq = frame.get("seq") or (frame.get("post") or {}).get("seq")
                    cid = str(frame.get("client_id") or "")
                    if seq and cid.startswith(run_id + "-"):
                        seq_of.setdefault(int(cid.rsplit("-", 1)[1]), int(seq))

    async with contextlib.AsyncExitStack() as stack:
        posters: list[ClientConnection] = []
        for cookie in cookies[:posters_needed]:
            poster = await stack.enter_async_context(
                connect(
                    uri,
                    additional_headers={"Cookie": cookie} if cookie else {},
                    origin=spec["origin"],
                    compression=None,
                    max_queue=None,
                    open_timeout=30,
                )
            )
            posters.append(poster)
        listeners = [asyncio.create_task(listen(poster)) for poster in posters]
        await asyncio.sleep(0.5)  # let the poster's hello and any connect-time frames pass
        index = 0
        n = len(receivers)
        rates, k, retried = list(spec["rates"]), 0, False
        while k < len(rates):
            rate = rates[k]
            posts = max(spec.get("min_posts", 15), round(rate * spec.get("step_seconds", 4)))
            cpu0, srv0, wall0 = (
                time.process_time(),
                _server_cpu_seconds(spec.get("server_pid")),
                0.0,
            )
            closed0 = tally.closed
            t0 = time.monotonic() + 0.2
            wall0 = time.monotonic()
            schedule = [(index + i, t0 + i / rate) for i in range(posts)]
            active = max(1, min(len(posters), math.ceil(rate / poster_rate)))
            for i, at in schedule:
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = f"Benchmark bmk{i}x: one post to every open socket of the thread."
                await posters[i % active].send(
                    json.dumps({"type": "post.create", "client_id": f"{run_id}-{i}", "body": body})
                )
            index += posts
            last_at = schedule[-1][1]
            drain_until = last_at + spec.get("drain_seconds", 3.0)
            while time.monotonic() < drain_until:
                if all(i in seq_of and tally.counts[seq_of[i]] >= n for i, _ in schedule):
                    break
                await asyncio.sleep(0.05)
            wall = time.monotonic() - wall0
            cpu = time.process_time() - cpu0
            srv1 = _server_cpu_seconds(spec.get("server_pid"))
            latencies, firsts, lost, missing = [], [], 0, 0
            for i, at in schedule:
                seq = seq_of.get(i)
                got = tally.counts[seq] if seq is not None else 0
                missing += n - min(got, n)
                if got >= n:
                    latencies.append((tally.last[seq] - at) * 1000)
                    firsts.append((tally.first[seq] - at) * 1000)
                else:
                    lost += 1
            p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
            seqs = [seq_of[i] for i, _ in schedule if i in seq_of]
            delivered = sum(min(tally.counts[seq], n) for seq in seqs)
            done = max((tally.last[seq] for seq in seqs if seq in tally.last), default=None)
            step = {
                "rate": rate,
                "posts": posts,
                "p50_ms": None if p50 is None else round(p50, 1),
                "p99_ms": None if p99 is None else round(p99, 1),
                "max_ms": round(max(latencies), 1) if latencies else None,
                # To the first receiver: the write path (frame -> service -> commit -> hub).
                "first_p50_ms": _rounded(_percentile(firsts, 50)),
                "first_p99_ms": _rounded(_percentile(firsts, 99)),
                # Every post in schedule order, for a diagnosis (the JSON file only).
                "latencies_ms": [round(value, 1) for value in latencies],
                "first_ms": [round(value, 1) for value in firsts],
                "lost_posts": lost,
                "missing_deliveries": missing,
                "deliveries_expected": n * posts,
                "frames_per_s": (
                    round(delivered / (done - schedule[0][1])) if done is not None else None
                ),
                "client_us_per_frame": round(cpu * 1e6 / delivered, 2) if delivered else None,
                "unmapped_posts": sum(1 for i, _ in schedule if i not in seq_of),
                "sockets_closed": tally.closed - closed0,
                "client_cpu_share": round(cpu / wall, 2),
                "server_cpu_share": (
                    round((srv1 - srv0) / wall, 2)
                    if srv0 is not None and srv1 is not None
                    else None
                ),
                "errors": dict(errors),
                "posters": active,
            }
            step["ok"] = bool(lost == 0 and p99 is not None and p99 < spec.get("p99_limit_ms", 250))
            step["attempt"] = 2 if retried else 1
            errors.clear()
            result["steps"].append(step)
            brief = {k: v for k, v in step.items() if k not in ("latencies_ms", "first_ms")}
            print(f"  step {json.dumps(brief)}", file=sys.stderr)
            if not step["ok"] and spec.get("retry_failed") and not retried:
                # The machine is shared: one stall elsewhere must not end a ramp. Same rate again.
                retried = True
                await asyncio.sleep(1.0)
                continue
            retried = False
            if not step["ok"] and spec.get("stop_on_fail"):
                break
            k += 1
            await asyncio.sleep(0.3)
        for listener in listeners:
            listener.cancel()
    for receiver in receivers:
        if receiver.transport:
            receiver.transport.abort()
    result["other_frames"] = tally.other_frames
    return result


def main() -> None:
    spec = json.load(sys.stdin)
    runner = asyncio.run
    if spec.get("uvloop", True):
        try:
            import uvloop
        except ImportError:
            print("uvloop is not installed: the load client uses asyncio's loop", file=sys.stderr)
        else:
            runner = uvloop.run
    result = runner(asyncio.wait_for(run(spec), spec.get("hard_timeout", 300)))
    result["event_loop"] = "uvloop" if runner is not asyncio.run else "asyncio"
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
