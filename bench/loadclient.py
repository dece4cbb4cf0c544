"""The load client: N receiving sockets and the posting sockets in one asyncio process.

Run by ``bench/run.py`` (pinned to its own core); reads a JSON spec on stdin and prints a JSON
result on stdout. Two modes: the fan-out (below; the default) and a connect burst
(``"mode": "burst"``, ``bench/burstclient.py``). Receivers are ``bench.wsclient.Receiver``, a
minimal websocket client on ``asyncio.Protocol`` rather than the ``websockets`` library, so that at
1,000 sockets and more the client is not what saturates (its CPU share is reported with every
step); with ``ports`` they are spread round-robin over several server processes. The posters are
``websockets`` clients (spread over the same processes): they send ``post.create`` at a fixed total
rate on a schedule made in advance (round-robin over as many sockets as the rate needs: the
consumer grants a socket about ten frames a second), and latency is measured from each post's
scheduled send time, so a late poster is counted against the server and never hides a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import sys
import time
from collections import Counter
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script: ``python bench/loadclient.py``
    sys.path.insert(0, ROOT)

from bench.wsclient import (  # noqa: E402
    Receiver,
    Tally,
    open_socket,
    percentile,
    ports_of,
    rounded,
    servers_cpu_seconds,
    shed_delay,
    shed_retry_after,
)

SEQ_TEXT = re.compile(r'"seq":\s*(\d+)')
MARK = re.compile(r"bmk(\d+)x")


async def _connect_receivers(spec: dict[str, Any], tally: Tally) -> tuple[list[Receiver], dict]:
    """Every receiver, spread round-robin over the server ports, each waiting for ``hello``.

    Returns the ready receivers and what connecting took: seconds, sheds, errors.
    """
    gate = asyncio.Semaphore(spec.get("connect_concurrency", 50))
    cookies = spec["cookies"]
    ports = ports_of(spec)
    started = time.monotonic()
    deadline = started + spec.get("connect_timeout", 60)
    opened = await asyncio.gather(
        *(
            open_socket(
                spec,
                ports[i % len(ports)],
                cookies[i % len(cookies)],
                tally,
                ready_on="hello",
                deadline=deadline,
                gate=gate,
            )
            for i in range(spec["clients"])
        )
    )
    errors = Counter(o.error for o in opened if o.error)
    if errors:
        print(f"connect errors: {dict(errors)}", file=sys.stderr)
    sheds = sum(o.sheds for o in opened)
    if sheds:
        print(f"connects shed by the server (4503), then retried: {sheds}", file=sys.stderr)
    receivers = [o.receiver for o in opened if o.receiver is not None]
    return receivers, {
        "connect_seconds": round(time.monotonic() - started, 2),
        "connect_sheds": sheds,
        "connect_errors": dict(errors),
    }


async def _connect_poster(spec: dict[str, Any], port: int, cookie: str) -> ClientConnection:
    """A posting socket past its ``hello``; a connect the server sheds (4503) is retried."""
    uri = f"ws://{spec['host']}:{port}{spec['path']}"
    deadline = time.monotonic() + 60
    while True:
        poster = await connect(
            uri,
            additional_headers={"Cookie": cookie} if cookie else {},
            origin=f"http://{spec['host']}:{port}",
            compression=None,
            max_queue=None,
            open_timeout=30,
        )
        try:
            await asyncio.wait_for(poster.recv(), max(0.1, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            retry_after = shed_retry_after(
                closed.rcvd.code.to_bytes(2, "big") + closed.rcvd.reason.encode()
                if closed.rcvd
                else b""
            )
            if retry_after is None or time.monotonic() > deadline:
                raise
            await asyncio.sleep(shed_delay(retry_after))
            continue
        return poster


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    receivers, connecting = await _connect_receivers(spec, tally)
    result: dict[str, Any] = {
        "clients_requested": spec["clients"],
        "clients_connected": len(receivers),
        **connecting,
        "steps": [],
    }
    if not receivers:
        return result
    ports = ports_of(spec)
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
        for k, cookie in enumerate(cookies[:posters_needed]):
            # Posts enter through every process in turn, as members' posts would.
            port = ports[k % len(ports)]
            poster = await _connect_poster(spec, port, cookie)
            stack.push_async_callback(poster.close)
            posters.append(poster)
        listeners = [asyncio.create_task(listen(poster)) for poster in posters]
        await asyncio.sleep(0.5)  # let the poster's hello and any connect-time frames pass
        index = 0
        n = len(receivers)
        rates, k, retried = list(spec["rates"]), 0, False
        while k < len(rates):
            rate = rates[k]
            posts = max(spec.get("min_posts", 15), round(rate * spec.get("step_seconds", 4)))
            cpu0, srv0 = time.process_time(), servers_cpu_seconds(spec)
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
            srv1 = servers_cpu_seconds(spec)
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
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
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
                "first_p50_ms": rounded(percentile(firsts, 50)),
                "first_p99_ms": rounded(percentile(firsts, 99)),
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
    if spec.get("mode") == "burst":
        from bench.burstclient import run_burst

        main_coroutine = run_burst(spec)
    else:
        main_coroutine = run(spec)
    result = runner(asyncio.wait_for(main_coroutine, spec.get("hard_timeout", 300)))
    result["event_loop"] = "uvloop" if runner is not asyncio.run else "asyncio"
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
