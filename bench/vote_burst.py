"""Suite ``vote-burst``: N registered members vote on one poll within a window (issue #11: 1,000
within 2 s), against a baseline measured in the same run.

- Baseline: a bare websockets server recording each vote with one INSERT under a unique
  constraint in the same PostgreSQL database (``bench/baselines/raw_vote_server.py``); each
  member's socket is open before the burst and sends its vote as one frame.
- Ours: ``--processes`` daphne processes on PostgreSQL and Redis; each member's keep-alive HTTP
  connection is open before the burst and sends the vote as polls.js does (a POST of the vote form
  with ``X-Requested-With: fetch``; the ack is the JSON answer with the member's card).
- Vote-to-ack: from the vote's scheduled time to its answer. Lost: acked but not in the database;
  doubled: more ballots or counted ticks than acked votes. The chair's turnout: when a
  ``poll.turnout`` frame with the full number reached the conference's group on the channel
  layer (what every process's hub forwards to the chair's socket), after the last ack.

Servers are pinned to CPU 0, the load client to CPU 1.

    .venv/bin/python bench/vote_burst.py [--quick] [--members 1000] [--window 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BENCH,
    CLIENT_CPU,
    SERVER_CPU,
    base_env,
    ms,
    pinned,
    postgres_admin_url,
    postgres_database,
    redis_cleanup,
    redis_prefix,
    redis_url,
    servers,
    table_header,
)
from tests.servers import free_port, wait_for_port  # noqa: E402

#: Issue #11: p99 vote-to-ack at most this many times the baseline's.
RATIO_LIMIT = 3.0
#: Issue #11: the final turnout on the chair's screen within this long after the last ack.
TURNOUT_LIMIT_S = 1.0
ACK_TIMEOUT_S = 60.0


# --- the load client (a process of its own, pinned to the client's CPU) ------------------------


async def _read_http_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, body
    length = int(headers.get("content-length", "0"))
    return status, await reader.readexactly(length)


async def _turnout_listener(spec: dict[str, Any], seen: list[tuple[float, int]]) -> Any:
    os.environ.update(spec["env"])
    import django

    django.setup()
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(f"conference.{spec['conference']}", channel)

    async def listen() -> None:
        while True:
            message = await layer.receive(channel)
            text = (message.get("texts") or {}).get("member")
            if not text:
                continue
            event = json.loads(text)
            if event.get("type") == "poll.turnout":
                seen.append((time.monotonic(), event["turnout"]["ballots"]))

    return asyncio.create_task(listen())


async def _warm_up(spec: dict[str, Any]) -> None:
    """A few page views per process first: a running server has its code and templates loaded."""
    page = spec["path"].removesuffix("abstimmen/")
    for port in spec["ports"]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):
            writer.write(
                (
                    f"GET {page} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Cookie: {spec['cookies'][0]}\r\n\r\n"
                ).encode()
            )
            await _read_http_response(reader)
        writer.close()


async def run_client(spec: dict[str, Any]) -> dict[str, Any]:
    count, window = spec["members"], spec["window"]
    options = spec["options"]
    records: list[dict[str, Any]] = [{} for _ in range(count)]
    turnouts: list[tuple[float, int]] = []
    listener = None
    if spec["kind"] == "ours":
        listener = await _turnout_listener(spec, turnouts)
        await _warm_up(spec)
        conns = []
        for i in range(count):
            port = spec["ports"][i % len(spec["ports"])]
            conns.append(await asyncio.open_connection("127.0.0.1", port))
    else:
        from websockets.asyncio.client import connect

        conns = [
            await connect(f"ws://127.0.0.1:{spec['ports'][0]}/", max_size=2**16)
            for _ in range(count)
        ]

    async def vote(i: int, start: float) -> None:
        due = start + i * window / count
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        option = options[i % len(options)]
        record = records[i]
        record["late_ms"] = (time.monotonic() - due) * 1000
        try:
            if spec["kind"] == "ours":
                reader, writer = conns[i]
                body = f"option={option}".encode()
                port = spec["ports"][i % len(spec["ports"])]
                request = (
                    f"POST {spec['path']} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Cookie: {spec['cookies'][i]}\r\nX-CSRFToken: {spec['csrf']}\r\n"
                    "X-Requested-With: fetch\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                writer.write(request)
                status, answer = await asyncio.wait_for(_read_http_response(reader), ACK_TIMEOUT_S)
                ok = status == 200 and json.loads(answer).get("ok") is True
                record["status"] = status
            else:
                ws = conns[i]
                await ws.send(json.dumps({"member": spec["member_ids"][i], "option": option}))
                answer = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT_S))
                ok = answer.get("type") == "ack"
                record["status"] = answer.get("code", "ack")
            record["ok"] = ok
            record["ack_ms"] = (time.monotonic() - due) * 1000
            record["ack_at"] = time.monotonic()
        except Exception as error:  # a timeout or a closed connection: not acked
            record["ok"] = False
            record["error"] = type(error).__name__

    start = time.monotonic() + 0.5
    await asyncio.gather(*(vote(i, start) for i in range(count)))
    last_ack = max((r["ack_at"] for r in records if r.get("ok")), default=None)
    final_turnout_s = None
    if listener is not None:
        deadline = time.monotonic() + 5.0
        acked = sum(1 for r in records if r.get("ok"))
        while time.monotonic() < deadline and not any(b >= acked for _, b in turnouts):
            await asyncio.sleep(0.02)
        reached = [t for t, b in turnouts if b >= acked]
        if reached and last_ack is not None:
            final_turnout_s = round(reached[0] - last_ack, 3)
        listener.cancel()
    for conn in conns:
        try:
            if spec["kind"] == "ours":
                conn[1].close()
            else:
                await conn.close()
        except Exception:  # closing after the measurement: nothing to keep
            continue
    return {
        "records": [{k: v for k, v in r.items() if k != "ack_at"} for r in records],
        "turnout_frames": len(turnouts),
        "final_turnout_after_last_ack_s": final_turnout_s,
    }


# --- the suite ---------------------------------------------------------------------------------


def _seed(env: dict[str, str], members: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCH / "vote_seed.py"), "--members", str(members)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _load(spec: dict[str, Any], pin: bool) -> dict[str, Any]:
    proc = subprocess.run(
        pinned(CLIENT_CPU, [sys.executable, str(BENCH / "vote_burst.py"), "--client"], pin),
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=spec["members"] * 0.05 + ACK_TIMEOUT_S + 60,
        cwd=ROOT,
        check=False,
    )
    sys.stderr.write(proc.stderr[-3000:])
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": f"load client exited with {proc.returncode}"}
    return json.loads(proc.stdout)


def _database_counts(database_url: str, kind: str, poll: int) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        if kind == "raw":
            rows = conn.execute("SELECT count(*), count(DISTINCT member) FROM raw_vote").fetchone()
            return {"ballots": rows[0], "members": rows[1], "ticks": rows[0]}
        ballots, members = conn.execute(
            "SELECT count(*), count(DISTINCT member_id) FROM conferences_ballot WHERE poll_id = %s",
            (poll,),
        ).fetchone()
        ticks = conn.execute(
            "SELECT coalesce(sum(online_count), 0) FROM conferences_polloption WHERE poll_id = %s",
            (poll,),
        ).fetchone()[0]
        turnout = conn.execute(
            "SELECT ballots_count FROM conferences_poll WHERE id = %s", (poll,)
        ).fetchone()[0]
        return {"ballots": ballots, "members": members, "ticks": int(ticks), "turnout": turnout}


def summarise(kind: str, result: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    if "records" not in result:
        return {"server": kind, "error": result.get("error")}
    records = result["records"]
    acked = [r for r in records if r.get("ok")]
    latencies = sorted(r["ack_ms"] for r in acked)

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {
        "server": kind,
        "votes": len(records),
        "acked": len(acked),
        "refused_or_failed": len(records) - len(acked),
        "errors": sorted(
            {r.get("error") or str(r.get("status")) for r in records if not r.get("ok")}
        ),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "mean_late_ms": round(statistics.mean(r.get("late_ms", 0) for r in records), 1),
        "lost": max(0, len(acked) - counts["ballots"]),
        "doubled": max(0, counts["ballots"] - counts["members"])
        + max(0, counts["ticks"] - counts["ballots"])
        + max(0, counts["ballots"] - len(acked)),
        "database": counts,
        "turnout_frames": result.get("turnout_frames"),
        "final_turnout_after_last_ack_s": result.get("final_turnout_after_last_ack_s"),
    }


def run_suite(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Per repeat one fresh database, seeded once: the baseline's table and ours side by side."""
    runs = []
    url, prefix = redis_url(), redis_prefix() + "vote-"
    try:
        for repeat in range(args.vote_repeat):
            with postgres_database(postgres_admin_url(), f"_vote_{repeat}") as database_url:
                env = base_env(scratch, database_url, url, prefix)
                print(f"vote burst: seeding {args.vote_members} members", file=sys.stderr)
                seeded = _seed(env, args.vote_members)
                for kind in ("raw", "ours"):
                    spec = {
                        "kind": kind,
                        "members": args.vote_members,
                        "window": args.vote_window,
                        "options": seeded["options"],
                        "member_ids": seeded["members"],
                        "cookies": seeded["cookies"],
                        "csrf": seeded["csrf"],
                        "conference": seeded["conference"],
                        "path": (
                            f"/konferenzen/{seeded['slug']}/abstimmungen/{seeded['poll']}/"
                            "abstimmen/"
                        ),
                        "env": env,
                    }
                    if kind == "ours":
                        with servers("ours", env, scratch, args.pin, count=args.processes) as up:
                            spec["ports"] = [s["port"] for s in up]
                            result = _load(spec, args.pin)
                    else:
                        result = _raw(spec, database_url, scratch, args.pin)
                    counts = _database_counts(database_url, kind, seeded["poll"])
                    runs.append(summarise(kind, result, counts))
                    print(f"  {brief(runs[-1])}", file=sys.stderr)
    finally:
        redis_cleanup(url, prefix)
    return {
        "processes": args.processes,
        "members": args.vote_members,
        "window": args.vote_window,
        "runs": runs,
    }


def _raw(spec: dict[str, Any], database_url: str, scratch: Path, pin: bool) -> dict[str, Any]:
    port = free_port()
    argv = [
        sys.executable,
        str(BENCH / "baselines" / "raw_vote_server.py"),
        "--port",
        str(port),
        "--database",
        database_url,
    ]
    log = (scratch / f"raw-vote-{port}.log").open("ab")
    process = subprocess.Popen(
        pinned(SERVER_CPU, argv, pin),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=30, process=process)
        spec["ports"] = [port]
        return _load(spec, pin)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def brief(run: dict[str, Any]) -> str:
    if run.get("error"):
        return f"{run['server']}: not measured: {run['error']}"
    return (
        f"{run['server']}: {run['acked']}/{run['votes']} acked, p50 {ms(run['p50_ms'])} ms, "
        f"p99 {ms(run['p99_ms'])} ms, lost {run['lost']}, doubled {run['doubled']}, "
        f"turnout frames {run['turnout_frames']}, final turnout "
        f"{run['final_turnout_after_last_ack_s']} s after the last ack"
        + (f"; errors {run['errors']}" if run["errors"] else "")
    )


def report(results: dict[str, Any]) -> list[str]:
    runs = results.get("runs", [])
    lines = [
        f"Vote burst: {results.get('members')} registered members vote within "
        f"{results.get('window')} s on one poll; ours over {results.get('processes')} daphne "
        "processes on PostgreSQL and Redis (HTTP POST as polls.js sends it), the baseline a raw "
        "websockets server with one INSERT under a unique constraint in the same database"
    ]
    lines += table_header(
        f"| {'server':<8} | votes | acked | p50 ms | p99 ms | max ms | lost | doubled | "
        "turnout frames | final turnout after last ack |"
    )
    for run in runs:
        if run.get("error"):
            lines.append(f"| {run['server']:<8} | not measured: {run['error']} |")
            continue
        after = run["final_turnout_after_last_ack_s"]
        lines.append(
            f"| {run['server']:<8} | {run['votes']:>5} | {run['acked']:>5} | "
            f"{ms(run['p50_ms']):>6} | {ms(run['p99_ms']):>6} | {ms(run['max_ms']):>6} | "
            f"{run['lost']:>4} | {run['doubled']:>7} | {run['turnout_frames']!s:>14} | "
            f"{'-' if after is None else f'{after:.3f} s':>28} |"
        )
    raws = [r for r in runs if r["server"] == "raw" and r.get("p99_ms")]
    for index, run in enumerate(r for r in runs if r["server"] == "ours"):
        base = raws[index] if index < len(raws) else None
        if run.get("error") or not base or not run.get("p99_ms"):
            lines.append("ours: not compared (a run failed)")
            continue
        ratio = run["p99_ms"] / base["p99_ms"]
        after = run["final_turnout_after_last_ack_s"]
        met = (
            ratio <= RATIO_LIMIT
            and run["lost"] == 0
            and run["doubled"] == 0
            and run["acked"] == run["votes"]
            and after is not None
            and after <= TURNOUT_LIMIT_S
        )
        lines.append(
            f"ours, run {index + 1}: p99 ours/raw {ms(run['p99_ms'])} / {ms(base['p99_ms'])} ms = "
            f"{ratio:.1f}x, lost {run['lost']}, doubled {run['doubled']}, final turnout "
            f"{after} s after the last ack (target: <= {RATIO_LIMIT:g}x, 0 lost, 0 doubled, "
            f"<= {TURNOUT_LIMIT_S:g} s: {'met' if met else 'MISSED'})"
        )
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("vote-burst")
    group.add_argument("--vote-members", type=int, help="voters (1000; quick: 100)")
    group.add_argument("--vote-window", type=float, help="seconds the votes spread over (2)")
    group.add_argument("--vote-repeat", type=int, help="runs of raw and ours (3; quick: 1)")


FULL = {"vote_members": 1000, "vote_window": 2.0, "vote_repeat": 3}
QUICK = {"vote_members": 100, "vote_window": 2.0, "vote_repeat": 1}


def main() -> None:
    if "--client" in sys.argv:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(run_client(spec))))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument("--processes", type=int, default=2)
    add_arguments(parser)
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    scratch = Path(tempfile.mkdtemp(prefix="mitmachen-vote-"))
    started = time.monotonic()
    results = run_suite(args, scratch)
    print("\n".join(report(results)))
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
