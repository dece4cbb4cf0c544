"""Suite ``fanout-redis``: fan-out across processes on Redis and PostgreSQL, against the raw server.

At each client count (1,000 and 2,000 by default) and 10 posts/s: the raw websockets server (one
process: it has no way across processes, so it is the floor a single core sets), then our daphne as
``--processes`` processes on channels_redis and PostgreSQL, receivers and posters spread round-robin
over them, so most posts reach most sockets through Redis and another process's hub. Latency and
losses are measured as in the one-process fan-out (``bench/loadclient.py``). Issue #8: our p99 at
most 4x the raw server's in the same run, nothing lost.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    FANOUT_HEADER,
    LABELS,
    fanout_row,
    first_step,
    load,
    servers,
    table_header,
)

#: Issue #8: our p99 at most this many times the raw server's.
RATIO_LIMIT = 4.0
#: Posts a second per posting socket (as in the one-process fan-out).
POSTER_RATE = 8.0
P99_LIMIT_MS = 250.0


def posters_needed(args: argparse.Namespace) -> int:
    return math.ceil(args.redis_rate / POSTER_RATE)


def threads_needed(args: argparse.Namespace) -> int:
    return len(args.redis_clients)


def spec_for(
    args: argparse.Namespace,
    seed: dict[str, Any],
    thread: int,
    started: list[dict[str, Any]],
    clients: int,
) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "ports": [s["port"] for s in started],
        "server_pids": [s["pid"] for s in started],
        "path": f"/ws/threads/{thread}/?after={seed['last_seq'][str(thread)]}",
        "cookies": seed["cookies"][:clients],
        "poster_cookies": seed["poster_cookies"],
        "poster_rate": POSTER_RATE,
        "clients": clients,
        "rates": [args.redis_rate],
        "step_seconds": args.redis_seconds,
        "min_posts": 10,
        "drain_seconds": 3.0,
        "p99_limit_ms": P99_LIMIT_MS,
        "connect_timeout": max(60, clients / 20),
        "run_id": f"m{thread}",
        "hard_timeout": 400,
        "uvloop": args.uvloop,
    }


def run_suite(
    args: argparse.Namespace, scratch: Path, env: dict[str, str], seed: dict[str, Any]
) -> dict[str, Any]:
    threads = iter(seed["redis_threads"])
    fixed: dict[str, dict[str, Any]] = {"raw": {}, "ours": {}}
    for clients in args.redis_clients:
        thread = next(threads)
        for kind, count in (("raw", 1), ("ours", args.processes)):
            print(
                f"fan-out on Redis, {LABELS[kind]} x{count}: {clients} clients at "
                f"{args.redis_rate:g} posts/s",
                file=sys.stderr,
            )
            with servers(kind, env, scratch, args.pin, count=count) as started:
                spec = spec_for(args, seed, thread, started, clients)
                fixed[kind][str(clients)] = load(spec, args.pin, 480)
    return {"processes": args.processes, "rate": args.redis_rate, "fixed": fixed}


def verdict(ours: dict[str, Any], raw: dict[str, Any], clients: int) -> dict[str, Any]:
    """Ours against raw at one client count: the ratio of p99s and whether the target holds."""
    o, r = first_step(ours), first_step(raw)
    all_connected = ours.get("clients_connected") == clients
    ratio = o["p99_ms"] / r["p99_ms"] if o.get("p99_ms") and r.get("p99_ms") else None
    lost = o.get("lost_posts")
    return {
        "ratio": None if ratio is None else round(ratio, 2),
        "lost": lost,
        "ok": bool(ratio is not None and ratio <= RATIO_LIMIT and lost == 0 and all_connected),
    }


def report(results: dict[str, Any], seconds: float) -> list[str]:
    processes, rate = results["processes"], results["rate"]
    lines = [
        f"Fan-out on Redis and PostgreSQL at {rate:g} posts/s, {seconds:g} s, one thread: ours as "
        f"{processes} processes (receivers and posters spread over them), raw as one process"
    ]
    lines += table_header(FANOUT_HEADER)
    fixed = results["fixed"]
    for kind in ("raw", "ours"):
        for clients, res in fixed[kind].items():
            label = LABELS[kind] + (f" x{processes}" if kind == "ours" else "")
            lines.append(fanout_row(label, clients, res))
    lines.append("")
    for clients, ours in fixed["ours"].items():
        if ours.get("connect_sheds") or ours.get("connect_errors"):
            lines.append(
                f"connecting {clients} clients to ours: {ours.get('connect_sheds', 0)} sheds "
                f"(retried), failed: {ours.get('connect_errors') or 'none'}"
            )
        raw = fixed["raw"].get(clients, {})
        v = verdict(ours, raw, int(clients))
        o, r = first_step(ours), first_step(raw)
        if v["ratio"] is None:
            lines.append(
                f"ours/raw p99 at {clients} clients: not computable "
                f"({ours.get('error') or raw.get('error') or 'a run delivered nothing'}; "
                "target MISSED)"
            )
            continue
        lines.append(
            f"ours x{processes}/raw p99 at {clients} clients, {rate:g} posts/s: "
            f"{o['p99_ms']:.1f} / {r['p99_ms']:.1f} ms = {v['ratio']:.2f}x, "
            f"{v['lost']} posts lost, {ours.get('clients_connected')}/{clients} connected "
            f"(target <= {RATIO_LIMIT:g}x and 0 lost: {'met' if v['ok'] else 'MISSED'})"
        )
    return lines
