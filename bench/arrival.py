"""Suite ``conference-arrival``: N registered members open the conference page and its socket
within a window (issue #11: 1,000 within 10 s, i.e. 100 arrivals a second), as the ``connect``
suite measures threads, against baselines measured in the same run.

- An arrival: ``GET /konferenzen/<slug>/`` as a signed-in registered member (each client its own
  session, seeded in the database as a login writes it), the seq read from the page's
  ``<main data-after="...">``, then ``/ws/conferences/<pk>/?after=<seq>`` until ``synced``, as
  conference.js does. Each client keeps its socket open until the burst is over.
- Ours: ``--processes`` daphne processes on PostgreSQL and Redis, clients round-robin over them.
- Baseline ``lone``: ``--lone`` arrivals one after another to the same servers just before the
  burst (their median).
- Baseline ``thread``: the ``connect`` suite's thread burst (socket only, ``bench/burstclient.py``)
  at the same rate and count, on fresh servers over the same database, with its own lone connects.

Times are measured from each client's *scheduled* start, so a late start counts against the
server. Servers are pinned to CPU 0, the load client to CPU 1.

    .venv/bin/python bench/arrival.py [--quick] [--arrival-members 1000] [--arrival-rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.burstclient import LONE_TIMEOUT_SECONDS, summarise_burst, summarise_lone  # noqa: E402
from bench.common import (  # noqa: E402
    client_process,
    load,
    ms,
    script_json,
    servers,
    suite_main,
    suite_world,
    table_header,
)
from bench.vote_burst import _read_http_response  # noqa: E402
from bench.wsclient import (  # noqa: E402
    Tally,
    cpu_mark,
    cpu_shares,
    open_socket,
    percentile,
    rounded,
)

#: Issue #11: every arrival synced within this many seconds of the first.
WINDOW_LIMIT_S = 10.0
AFTER = re.compile(rb'<main[^>]*\bdata-after="(\d+)"')
LONE_PAUSE_SECONDS = 0.1


# --- the load client (a process of its own, pinned to the client's CPU) ------------------------


async def arrive(
    spec: dict[str, Any], i: int, tally: Tally, scheduled: float, deadline: float
) -> tuple[dict[str, Any], Any]:
    """One arrival: the page, then its socket until ``synced``; times from ``scheduled``."""
    ports = spec["ports"]
    port = ports[i % len(ports)]
    cookie = spec["cookies"][i % len(spec["cookies"])]
    started = time.monotonic()
    record: dict[str, Any] = {"lag_ms": round((started - scheduled) * 1000, 1)}
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(spec["host"], port), deadline - started
        )
        try:
            writer.write(
                (
                    f"GET {spec['page']} HTTP/1.1\r\nHost: {spec['host']}:{port}\r\n"
                    f"Cookie: {cookie}\r\nAccept-Language: de\r\n\r\n"
                ).encode()
            )
            status, body = await asyncio.wait_for(
                _read_http_response(reader), deadline - time.monotonic()
            )
        finally:
            writer.close()
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        record["error"] = f"page: {type(exc).__name__}"
        return record, None
    record["page_ms"] = round((time.monotonic() - scheduled) * 1000, 1)
    record["page_bytes"] = len(body)
    match = AFTER.search(body)
    if status != 200 or match is None:
        record["error"] = f"page: {status}" + ("" if match else " without data-after")
        return record, None
    socket_spec = {
        "host": spec["host"],
        "path": f"/ws/conferences/{spec['conference']}/?after={int(match.group(1))}",
    }
    opened = await open_socket(
        socket_spec, port, cookie, tally, ready_on="synced", deadline=deadline
    )
    record["sheds"] = opened.sheds
    if opened.error:
        record["error"] = f"socket: {opened.error}"
        return record, None
    receiver = opened.receiver
    record["synced_ms"] = round((receiver.synced_at - scheduled) * 1000, 1)
    return record, receiver


async def run_client(spec: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    lone = []
    for i in range(spec["lone"]):
        started = time.monotonic()
        # The lone arrivals use the last sessions (the burst the first), as the connect suite does.
        record, receiver = await arrive(
            {**spec, "cookies": spec["cookies"][::-1]},
            i,
            tally,
            started,
            started + LONE_TIMEOUT_SECONDS,
        )
        lone.append(record)
        if receiver is not None:
            receiver.abort()
        await asyncio.sleep(LONE_PAUSE_SECONDS)
    count, rate = spec["members"], spec["rate"]
    t0 = time.monotonic() + 0.2
    mark = cpu_mark(spec)
    receivers = []

    async def one(i: int) -> dict[str, Any]:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        record, receiver = await arrive(spec, i, tally, scheduled, scheduled + spec["timeout"])
        record["at_ms"] = round((scheduled - t0) * 1000, 1)
        if receiver is not None:
            receivers.append(receiver)
        return record

    records = await asyncio.gather(*(one(i) for i in range(count)))
    shares = cpu_shares(spec, t0, mark)
    closed = tally.closed
    for receiver in receivers:
        receiver.abort()
    return {"lone": lone, "records": records, **shares, "closed_after_synced": closed}


# --- the suite ---------------------------------------------------------------------------------


def seed(env: dict[str, str], members: int) -> dict[str, Any]:
    """``bench/conference_seed.py``: a live conference, members with sessions, a thread."""
    return script_json("conference_seed.py", ["--members", str(members)], env)


def _load_arrival(spec: dict[str, Any], pin: bool) -> dict[str, Any]:
    timeout = (
        spec["members"] / spec["rate"] + spec["timeout"] + spec["lone"] * LONE_TIMEOUT_SECONDS + 60
    )
    return client_process("arrival.py", spec, pin, timeout)


def summarise_arrival(result: dict[str, Any], members: int, rate: float) -> dict[str, Any]:
    if "records" not in result:
        return {"server": "conference", "clients": members, "rate": rate, **result}
    records = result["records"]
    synced = [r["synced_ms"] for r in records if "synced_ms" in r]
    pages = [r["page_ms"] for r in records if "page_ms" in r]
    done = [r["at_ms"] + r["synced_ms"] for r in records if "synced_ms" in r]
    last_s = round(max(done) / 1000, 2) if done else None
    errors = Counter(r["error"] for r in records if r.get("error"))
    lone_synced = [r["synced_ms"] for r in result["lone"] if "synced_ms" in r]
    lone_pages = [r["page_ms"] for r in result["lone"] if "page_ms" in r]
    summary = {
        "server": "conference",
        "clients": len(records),
        "rate": rate,
        "synced": len(synced),
        "failed": sum(errors.values()),
        "errors": dict(errors),
        "sheds": sum(r.get("sheds", 0) for r in records),
        "page_p50_ms": rounded(percentile(pages, 50)),
        "page_p99_ms": rounded(percentile(pages, 99)),
        "p50_ms": rounded(percentile(synced, 50)),
        "p99_ms": rounded(percentile(synced, 99)),
        "max_ms": rounded(max(synced, default=None)),
        "last_synced_s": last_s,
        "all_synced_s": last_s if len(synced) == len(records) else None,
        "max_start_lag_ms": rounded(max((r.get("lag_ms") or 0.0 for r in records), default=None)),
        "page_bytes": records[0].get("page_bytes"),
        "lone_arrivals": len(result["lone"]),
        "lone_failed": sum(1 for r in result["lone"] if r.get("error")),
        "lone_median_ms": rounded(percentile(lone_synced, 50)),
        "lone_page_median_ms": rounded(percentile(lone_pages, 50)),
        "client_cpu_share": result.get("client_cpu_share"),
        "server_cpu_share": result.get("server_cpu_share"),
        "closed_after_synced": result.get("closed_after_synced"),
        "synced_ms": [r.get("synced_ms") for r in records],
    }
    return summary


def summarise_thread(result: dict[str, Any], members: int, rate: float) -> dict[str, Any]:
    if "records" not in result:
        return {"server": "thread", "clients": members, "rate": rate, "error": result.get("error")}
    return {
        "server": "thread",
        "rate": rate,
        **summarise_burst(result["records"]),
        **summarise_lone(result["lone"]),
        "client_cpu_share": result.get("client_cpu_share"),
        "server_cpu_share": result.get("server_cpu_share"),
    }


def run_suite(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    members, rate = args.arrival_members, args.arrival_rate
    runs = []
    with suite_world(scratch, "arrival") as (_, env):
        print(f"arrival: seeding {members + args.lone} members", file=sys.stderr)
        seeded = seed(env, members + args.lone)
        print(
            f"arrival: {members} members at {rate:g}/s over {args.processes} processes",
            file=sys.stderr,
        )
        with servers("ours", env, scratch, args.pin, count=args.processes) as started:
            spec = {
                "host": "127.0.0.1",
                "ports": [s["port"] for s in started],
                "server_pids": [s["pid"] for s in started],
                "page": f"/konferenzen/{seeded['slug']}/",
                "conference": seeded["conference"],
                "cookies": seeded["cookies"],
                "members": members,
                "rate": rate,
                "lone": args.lone,
                "timeout": args.burst_timeout,
            }
            runs.append(summarise_arrival(_load_arrival(spec, args.pin), members, rate))
        print(f"  {brief(runs[-1])}", file=sys.stderr)
        print(f"arrival: the thread's connect burst at {rate:g}/s", file=sys.stderr)
        with servers("ours", env, scratch, args.pin, count=args.processes) as started:
            spec = {
                "mode": "burst",
                "host": "127.0.0.1",
                "ports": [s["port"] for s in started],
                "server_pids": [s["pid"] for s in started],
                "path": f"/ws/threads/{seeded['thread']}/?after={seeded['thread_last_seq']}",
                "cookies": [c.split(";")[0] for c in seeded["cookies"]],
                "clients": members,
                "connect_rate": rate,
                "lone": args.lone,
                "connect_timeout": args.burst_timeout,
                "uvloop": args.uvloop,
            }
            hard = members / rate + args.burst_timeout + args.lone * LONE_TIMEOUT_SECONDS + 60
            runs.append(summarise_thread(load(spec, args.pin, hard), members, rate))
        print(f"  {brief(runs[-1])}", file=sys.stderr)
    return {"processes": args.processes, "members": members, "rate": rate, "runs": runs}


def brief(run: dict[str, Any]) -> str:
    if run.get("error"):
        return f"{run['server']}: not measured: {run['error']}"
    page = (
        f"page p50 {ms(run['page_p50_ms'])} ms, p99 {ms(run['page_p99_ms'])} ms, "
        if run["server"] == "conference"
        else ""
    )
    return (
        f"{run['server']}: {run['synced']}/{run['clients']} synced, {run['failed']} failed, "
        f"all synced after {run['all_synced_s']} s, {page}synced p50 {ms(run['p50_ms'])} ms, "
        f"p99 {ms(run['p99_ms'])} ms, lone median {ms(run['lone_median_ms'])} ms"
        + (
            f" (its page {ms(run['lone_page_median_ms'])} ms)"
            if run.get("lone_page_median_ms")
            else ""
        )
        + (f"; errors {run['errors']}" if run.get("errors") else "")
    )


def report(results: dict[str, Any]) -> list[str]:
    runs = results.get("runs", [])
    lines = [
        f"Conference arrival: {results.get('members')} registered members at "
        f"{results.get('rate'):g}/s over {results.get('processes')} daphne processes on PostgreSQL "
        "and Redis; an arrival = the conference page (GET, signed in) then its socket "
        "(?after=<the page's seq>) until `synced`, timed from its scheduled start; lone = median "
        "of sequential arrivals (thread: connects) to the same servers just before the burst; "
        "thread = the connect suite's socket-only thread burst at the same rate"
    ]
    lines += table_header(
        "| burst      | clients | synced | failed | sheds | all synced after | page p50 ms | "
        "page p99 ms | synced p50 ms | synced p99 ms | lone median ms | p99/lone | server CPU | "
        "client CPU |"
    )
    for run in runs:
        if run.get("error"):
            lines.append(f"| {run['server']:<10} | not measured: {run['error']} |")
            continue
        after = "-" if run["all_synced_s"] is None else f"{run['all_synced_s']:.2f} s"
        lone = run.get("lone_median_ms")
        ratio = f"{run['p99_ms'] / lone:.1f}x" if run.get("p99_ms") and lone else "-"
        lines.append(
            f"| {run['server']:<10} | {run['clients']:>7} | {run['synced']:>6} | "
            f"{run['failed']:>6} | {run['sheds']:>5} | {after:>16} | "
            f"{ms(run.get('page_p50_ms')):>11} | {ms(run.get('page_p99_ms')):>11} | "
            f"{ms(run['p50_ms']):>13} | {ms(run['p99_ms']):>13} | {ms(lone):>14} | "
            f"{ratio:>8} | {run.get('server_cpu_share')!s:>10} | "
            f"{run.get('client_cpu_share')!s:>10} |"
        )
    conference = next((r for r in runs if r["server"] == "conference"), None)
    thread = next((r for r in runs if r["server"] == "thread"), None)
    if conference and not conference.get("error"):
        after = conference["all_synced_s"]
        window = conference["clients"] / conference["rate"]
        met = after is not None and conference["failed"] == 0 and after <= WINDOW_LIMIT_S
        versus = []
        if conference.get("p99_ms") and conference.get("lone_median_ms"):
            versus.append(
                f"p99/lone arrival {ms(conference['p99_ms'])} / "
                f"{ms(conference['lone_median_ms'])} ms = "
                f"{conference['p99_ms'] / conference['lone_median_ms']:.1f}x"
            )
        if thread and thread.get("p99_ms") and conference.get("p99_ms"):
            versus.append(
                f"p99 conference arrival/thread connect {ms(conference['p99_ms'])} / "
                f"{ms(thread['p99_ms'])} ms = {conference['p99_ms'] / thread['p99_ms']:.1f}x"
            )
        lines.append("")
        lines.append(
            f"conference arrival: {conference['synced']}/{conference['clients']} synced, "
            f"{conference['failed']} failed, the last {after} s after the first scheduled "
            f"arrival (scheduled over {window:g} s; target: all within {WINDOW_LIMIT_S:g} s: "
            f"{'met' if met else 'MISSED'})" + ("; " + "; ".join(versus) if versus else "")
        )
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conference-arrival")
    group.add_argument("--arrival-members", type=int, help="arriving members (1000; quick: 60)")
    group.add_argument("--arrival-rate", type=float, help="arrivals a second (100)")


FULL = {"arrival_members": 1000, "arrival_rate": 100.0}
QUICK = {"arrival_members": 60, "arrival_rate": 100.0}


def _standalone_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-uvloop", dest="uvloop", action="store_false")
    parser.add_argument("--burst-timeout", type=float, default=60.0)
    add_arguments(parser)


def main() -> None:
    suite_main(
        __doc__,
        run_client,
        _standalone_arguments,
        (QUICK, FULL),
        run_suite,
        report,
        lone="sequential arrivals",
    )


if __name__ == "__main__":
    main()
