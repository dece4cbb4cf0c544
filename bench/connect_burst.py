"""Suite ``connect``: a conference's arrival, N clients opening one thread at R connects a second.

For every client count and connect rate, two fresh servers are measured one after the other on the
same schedule: the raw websockets server and our daphne, each as ``--processes`` processes (two by
default; ours on PostgreSQL and Redis), the clients spread round-robin over them. Before each
burst, ``--lone`` clients connect one after another to the same servers: the burst's p99 is
compared with that lone connect's median (issue #8: all connected, none failed, at most 4x).

The floor (unless ``--no-floor``) is measured the same way between the two: the same daphne, as
many processes on the same core, serving ``bench/baselines/daphne_floor.py``, a channels consumer
that accepts and sends ``hello`` and ``synced`` with nothing of ours (no auth, no database, no
channel layer); ``--floor-variants gc group`` adds the floor with our server's garbage-collector
settings (``floor-gc``) and the floor that first joins a group on Redis (``floor-group``). Each
has its own lone connects; ours is compared with the floor's burst too.

The client side is ``bench/burstclient.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.burstclient import (
    LONE_TIMEOUT_SECONDS,
    burst_verdict,
    summarise_burst,
    summarise_lone,
)
from bench.common import LABELS, floor_kinds, load, ms, servers, table_header

#: Issue #8: the burst's p99 connect-to-synced at most this many times a lone connect's median.
RATIO_LIMIT = 4.0


def kinds(args: argparse.Namespace) -> list[str]:
    """The servers of every burst, in the order they run."""
    return ["raw", *floor_kinds(args, ("gc", "group")), "ours"]


def measurements(args: argparse.Namespace) -> list[tuple[int, float]]:
    """(clients, connects/s) of every burst, in the order they run."""
    return [(clients, rate) for clients in args.burst_clients for rate in args.burst_rates]


def threads_needed(args: argparse.Namespace) -> int:
    return len(measurements(args))


def spec_for(
    args: argparse.Namespace,
    seed: dict[str, Any],
    thread: int,
    started: list[dict[str, Any]],
    clients: int,
    rate: float,
) -> dict[str, Any]:
    return {
        "mode": "burst",
        "host": "127.0.0.1",
        "ports": [s["port"] for s in started],
        "server_pids": [s["pid"] for s in started],
        "path": f"/ws/threads/{thread}/?after={seed['last_seq'][str(thread)]}",
        "cookies": seed["cookies"][: clients + args.lone],
        "clients": clients,
        "connect_rate": rate,
        "lone": args.lone,
        "connect_timeout": args.burst_timeout,
        "hard_timeout": clients / rate + args.burst_timeout + args.lone * LONE_TIMEOUT_SECONDS + 60,
        "uvloop": args.uvloop,
    }


def run_suite(
    args: argparse.Namespace, scratch: Path, env: dict[str, str], seed: dict[str, Any]
) -> dict[str, Any]:
    threads = iter(seed["burst_threads"])
    runs = []
    for clients, rate in measurements(args):
        thread = next(threads)
        for kind in kinds(args):
            print(
                f"connect burst, {LABELS[kind]} x{args.processes}: {clients} clients at {rate:g}/s",
                file=sys.stderr,
            )
            with servers(kind, env, scratch, args.pin, count=args.processes) as started:
                spec = spec_for(args, seed, thread, started, clients, rate)
                result = load(spec, args.pin, spec["hard_timeout"] + 30)
            runs.append(summarise_run(kind, clients, rate, result))
            print(f"  {brief(runs[-1])}", file=sys.stderr)
    return {"processes": args.processes, "runs": runs}


def summarise_run(kind: str, clients: int, rate: float, result: dict[str, Any]) -> dict[str, Any]:
    """One server's burst: the summary of its records and of its lone connects."""
    if "records" not in result:
        return {"server": kind, "clients": clients, "rate": rate, "error": result.get("error")}
    summary = {
        "server": kind,
        "clients": clients,
        "rate": rate,
        **summarise_burst(result["records"]),
        **summarise_lone(result["lone"]),
        "client_cpu_share": result.get("client_cpu_share"),
        "server_cpu_share": result.get("server_cpu_share"),
        "closed_after_synced": result.get("closed_after_synced"),
        # Every client's connect-to-synced in schedule order, for a diagnosis (JSON file only).
        "synced_ms": [r["synced_ms"] for r in result["records"]],
    }
    lone = summary["lone_median_ms"]
    summary["ratio"] = round(summary["p99_ms"] / lone, 2) if summary["p99_ms"] and lone else None
    summary["ok"] = burst_verdict(summary, lone, RATIO_LIMIT)
    return summary


def brief(run: dict[str, Any]) -> str:
    if run.get("error"):
        return f"not measured: {run['error']}"
    return (
        f"{run['synced']}/{run['clients']} synced, {run['failed']} failed, {run['sheds']} sheds, "
        f"all synced after {run['all_synced_s']} s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} "
        f"ms, lone median {run['lone_median_ms']} ms"
        + (f"; errors {run['errors']}" if run["errors"] else "")
    )


def report(results: dict[str, Any]) -> list[str]:
    runs = results.get("runs", [])
    lines = [
        f"Connect burst over {results.get('processes')} processes of each server (ours: daphne on "
        "PostgreSQL and Redis; daphne floor: the same daphne, a channels consumer sending hello "
        "and synced with nothing of ours); connect-to-synced = scheduled connect -> `synced` "
        "received (a shed client's wait included); lone = median of sequential connects to the "
        "same servers just before the burst"
    ]
    lines += table_header(
        f"| {'server':<18} | clients | rate/s | synced | failed | sheds | all synced after | "
        "p50 ms | p99 ms | lone median ms | p99/lone | server CPU | client CPU |"
    )
    for run in runs:
        if run.get("error"):
            lines.append(
                f"| {LABELS[run['server']]:<18} | {run['clients']:>7} | {run['rate']:>6g} | "
                f"not measured: {run['error']} |"
            )
            continue
        after = "-" if run["all_synced_s"] is None else f"{run['all_synced_s']:.2f} s"
        ratio = "-" if run["ratio"] is None else f"{run['ratio']:.1f}x"
        lines.append(
            f"| {LABELS[run['server']]:<18} | {run['clients']:>7} | {run['rate']:>6g} | "
            f"{run['synced']:>6} | {run['failed']:>6} | {run['sheds']:>5} | {after:>16} | "
            f"{ms(run['p50_ms']):>6} | {ms(run['p99_ms']):>6} | {ms(run['lone_median_ms']):>14} | "
            f"{ratio:>8} | {run.get('server_cpu_share')!s:>10} | {run['client_cpu_share']!s:>10} |"
        )
    lines.append("")
    lines += verdicts(runs)
    return lines


def verdicts(runs: list[dict[str, Any]]) -> list[str]:
    """One line per burst of a floor and of ours: the target, and each against the raw server's
    same burst (ours also against the floor's)."""
    same = {(r["server"], r["clients"], r["rate"]): r for r in runs}
    lines = []
    for run in runs:
        if run["server"] == "raw":
            continue
        name = run["server"]
        head = f"{name}, {run['clients']} clients at {run['rate']:g}/s:"
        if run.get("error"):
            lines.append(f"{head} not measured ({run['error']}; target MISSED)")
            continue
        ratio = "-" if run["ratio"] is None else f"{run['ratio']:.1f}x"
        line = (
            f"{head} {run['synced']}/{run['clients']} synced, {run['failed']} failed, "
            f"{run['sheds']} sheds; p99/lone {ms(run['p99_ms'])} / {ms(run['lone_median_ms'])} "
            f"ms = {ratio} (target: all connected, none failed, <= {RATIO_LIMIT:g}x: "
            f"{'met' if run['ok'] else 'MISSED'})"
        )
        against = ["raw", "floor"] if name == "ours" else ["raw"]
        for base_kind in against:
            base = same.get((base_kind, run["clients"], run["rate"]), {})
            if run.get("p99_ms") and base.get("p99_ms"):
                line += (
                    f"; p99 {name}/{base_kind} {ms(run['p99_ms'])} / {ms(base['p99_ms'])} ms = "
                    f"{run['p99_ms'] / base['p99_ms']:.1f}x"
                )
        floor = same.get(("floor", run["clients"], run["rate"]), {})
        if name == "ours" and run.get("lone_median_ms") and floor.get("lone_median_ms"):
            line += (
                f"; lone ours/floor {ms(run['lone_median_ms'])} / {ms(floor['lone_median_ms'])} "
                f"ms = {run['lone_median_ms'] / floor['lone_median_ms']:.1f}x"
            )
        lines.append(line)
    return lines
