"""The load client's connect burst: many clients opening one thread at a fixed connect rate.

Run by ``bench/loadclient.py`` for a spec with ``"mode": "burst"``. First ``lone`` clients connect
one after another (each closed before the next), the same servers' cost of one connect on its
own; then ``clients`` clients start on a schedule made in advance, ``connect_rate`` a second,
spread round-robin over ``ports``, and each waits for ``hello`` and ``synced``. Every client keeps
its socket open until the burst is over, as a conference's audience does.

Connect-to-synced is measured from a client's *scheduled* start to its ``synced`` frame, so a shed
client's wait, and a late start, count against the server. A client the server sheds (4503)
connects again after ``retry_after * (1 + random())`` (``bench.wsclient.open_socket``); a failed
handshake (refused, dropped, timed out, closed with another code) is not retried and is counted
as failed.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from typing import Any

from bench.wsclient import (
    Opened,
    Tally,
    cpu_mark,
    cpu_shares,
    open_socket,
    percentile,
    ports_of,
    rounded,
)

#: Between two lone connects: let the server finish with the closed socket first.
LONE_PAUSE_SECONDS = 0.1
#: A lone connect that takes longer has failed (it would hold the whole run up otherwise).
LONE_TIMEOUT_SECONDS = 10.0


def _ms(start: float, end: float | None) -> float | None:
    return None if end is None else round((end - start) * 1000, 1)


async def lone_connects(spec: dict[str, Any], tally: Tally) -> list[dict[str, Any]]:
    """``spec['lone']`` connects one after another, alternating over the ports."""
    ports, cookies = ports_of(spec), spec["cookies"]
    records = []
    for i in range(spec.get("lone", 20)):
        started = time.monotonic()
        opened = await open_socket(
            spec,
            ports[i % len(ports)],
            cookies[-1 - i % len(cookies)],
            tally,
            ready_on="synced",
            deadline=started + LONE_TIMEOUT_SECONDS,
        )
        records.append(_record(opened, started, started, started))
        if opened.receiver is not None:
            opened.receiver.abort()
        await asyncio.sleep(LONE_PAUSE_SECONDS)
    return records


def _record(opened: Opened, t0: float, scheduled: float, started: float) -> dict[str, Any]:
    """One client's times in ms: its scheduled start after ``t0``, then each after that start."""
    receiver = opened.receiver
    return {
        "at_ms": _ms(t0, scheduled),
        "lag_ms": _ms(scheduled, started),
        "hello_ms": _ms(scheduled, receiver.hello_at if receiver else None),
        "synced_ms": _ms(scheduled, receiver.synced_at if receiver else None),
        "sheds": opened.sheds,
        "error": opened.error,
    }


async def burst(spec: dict[str, Any], tally: Tally) -> dict[str, Any]:
    """Start every client on its schedule; the records are in schedule order."""
    ports, cookies = ports_of(spec), spec["cookies"]
    rate, clients = float(spec["connect_rate"]), int(spec["clients"])
    timeout = spec.get("connect_timeout", 60)
    t0 = time.monotonic() + 0.2
    mark = cpu_mark(spec)
    sockets = []

    async def client(i: int) -> dict[str, Any]:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        started = time.monotonic()
        opened = await open_socket(
            spec,
            ports[i % len(ports)],
            cookies[i % len(cookies)],
            tally,
            ready_on="synced",
            deadline=scheduled + timeout,
        )
        if opened.receiver is not None:
            sockets.append(opened.receiver)
        return _record(opened, t0, scheduled, started)

    records = await asyncio.gather(*(client(i) for i in range(clients)))
    shares = cpu_shares(spec, t0, mark)
    closed = tally.closed
    for receiver in sockets:
        receiver.abort()
    return {
        "records": records,
        **shares,
        # Ready sockets the server closed while the burst went on.
        "closed_after_synced": closed,
    }


async def run_burst(spec: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    lone = await lone_connects(spec, tally)
    tally.closed = 0
    return {"lone": lone, **await burst(spec, tally)}


def summarise_lone(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The median connect-to-synced of the lone connects that succeeded."""
    times = [r["synced_ms"] for r in records if r["synced_ms"] is not None]
    return {
        "lone_connects": len(records),
        "lone_failed": sum(1 for r in records if r["error"]),
        "lone_median_ms": rounded(statistics.median(times)) if times else None,
    }


def summarise_burst(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of one burst from its per-client records (``_record``), in schedule order.

    ``all_synced_s`` is the time from the first scheduled connect until every client was
    synced (None unless all were); ``last_synced_s`` the same for those that were.
    """
    synced = [r["synced_ms"] for r in records if r["synced_ms"] is not None]
    errors = Counter(r["error"] for r in records if r["error"])
    done = [r["at_ms"] + r["synced_ms"] for r in records if r["synced_ms"] is not None]
    last = max(done, default=None)
    last_s = None if last is None else round(last / 1000, 2)
    return {
        "clients": len(records),
        "synced": len(synced),
        "failed": sum(errors.values()),
        "errors": dict(errors),
        "sheds": sum(r["sheds"] for r in records),
        "clients_shed": sum(1 for r in records if r["sheds"]),
        "p50_ms": rounded(percentile(synced, 50)),
        "p99_ms": rounded(percentile(synced, 99)),
        "max_ms": rounded(max(synced, default=None)),
        "last_synced_s": last_s,
        "all_synced_s": last_s if len(synced) == len(records) else None,
        "max_start_lag_ms": rounded(max((r["lag_ms"] or 0.0 for r in records), default=None)),
    }


def burst_verdict(summary: dict[str, Any], lone_median_ms: float | None, limit: float) -> bool:
    """Issue #8's target: all connected, none failed, burst p99 at most ``limit`` x lone median."""
    return bool(
        summary["synced"] == summary["clients"]
        and summary["failed"] == 0
        and summary["p99_ms"] is not None
        and lone_median_ms
        and summary["p99_ms"] <= limit * lone_median_ms
    )
