"""Suite ``vote-burst``: N registered members vote on one poll within a window (issue #11: 1,000
within 2 s), against a baseline measured in the same run.

- Baseline: a bare websockets server recording each vote with one INSERT under a unique
  constraint in the same PostgreSQL database (``bench/baselines/raw_vote_server.py``); each
  member's socket is open before the burst and sends its vote as one frame.
- The floor (``floor``, unless ``--no-floor``): the same daphne, same processes and pinning,
  serving ``bench/baselines/daphne_floor.py``: a channels consumer that takes the baseline's
  frame, runs the baseline's one INSERT on Django's connection in ``database_sync_to_async`` and
  answers an ``ack``; the same clients as the baseline, spread over its processes. What the
  mandated stack allows with the least application work.
- Ours (``ours``): ``--processes`` daphne processes on PostgreSQL and Redis; each member's
  conference socket (``/ws/conferences/<pk>/``) is open and synced before the burst ("1,000
  connected members vote"), and the vote is one ``poll.vote`` frame, as polls.js sends it when
  the stream is open; the ack is the ``ack`` frame with its ``ref``. The chair is connected too,
  on a socket of their own: the chair's turnout is when a ``poll.turnout`` frame with the full
  number reached that socket, after the last ack.
- Ours over HTTP (``ours-http``, a second poll, unless ``--no-vote-http``): each member's
  keep-alive HTTP connection is open before the burst and sends the vote as polls.js does without
  a socket (a POST of the vote form with ``X-Requested-With: fetch``; the ack is the JSON answer);
  a 503 (no database connection in time) counts as not acked. Its turnout is read from the
  conference's group on the channel layer (what every process's hub forwards to the chair).
- Vote-to-ack: from the vote's scheduled time to its answer. Lost: acked but not in the database;
  doubled: more ballots or counted ticks than acked votes.

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
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.baselines.raw_vote_server import reset_table  # noqa: E402
from bench.common import (  # noqa: E402
    BENCH,
    SERVER_CPU,
    add_floor_argument,
    client_process,
    floor_kinds,
    ms,
    pinned,
    script_json,
    servers,
    suite_main,
    suite_world,
    table_header,
)
from bench.wsclient import Receiver, Shed, Tally, request, shed_delay  # noqa: E402
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
            if event.get("type") == "poll.turnout" and event.get("poll") == spec["poll"]:
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


class VoteSocket(Receiver):
    """A member's (or the chair's) conference socket: its answers by ``ref`` and the turnouts."""

    def __init__(self, tally: Tally, request: bytes, poll: int) -> None:
        super().__init__(tally, request, ready_on="synced")
        self.poll = poll
        self.answers: dict[str, asyncio.Future] = {}
        self.turnouts: list[tuple[float, int]] = []

    def on_text(self, payload: bytes, now: float) -> None:
        if self.ready.done() and (b'"ack"' in payload or b'"error"' in payload):
            frame = json.loads(payload)
            waiting = self.answers.pop(str(frame.get("ref")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result((now, frame))
                return
        if b'"poll.turnout"' in payload:
            frame = json.loads(payload)
            if frame.get("poll") == self.poll:
                self.turnouts.append((now, frame["turnout"]["ballots"]))
            return
        super().on_text(payload, now)

    def vote(self, ref: str, option: int) -> asyncio.Future:
        waiting = asyncio.get_running_loop().create_future()
        self.answers[ref] = waiting
        text = json.dumps({"type": "poll.vote", "id": ref, "poll": self.poll, "options": [option]})
        self.send_frame(0x1, text.encode())
        return waiting


async def _connect_sockets(spec: dict[str, Any]) -> tuple[list[VoteSocket | None], VoteSocket]:
    """Every member's socket, open and synced, then the chair's (raises if the chair's fails)."""
    tally = Tally()
    ws_spec = {"host": "127.0.0.1", "path": spec["ws_path"]}
    gate = asyncio.Semaphore(50)
    deadline = time.monotonic() + 120
    loop = asyncio.get_running_loop()

    async def one(i: int, cookie: str) -> VoteSocket | None:
        port = spec["ports"][i % len(spec["ports"])]
        while time.monotonic() < deadline:
            sock = VoteSocket(tally, request(ws_spec, port, cookie), spec["poll"])
            try:
                async with gate:
                    await loop.create_connection(lambda s=sock: s, "127.0.0.1", port)
                    await asyncio.wait_for(asyncio.shield(sock.ready), 30)
                return sock
            except Shed as shed:
                sock.abort()
                await asyncio.sleep(shed_delay(shed.retry_after))
            except (OSError, TimeoutError, ConnectionError):
                sock.abort()
                return None
        return None

    voters = await asyncio.gather(*(one(i, c) for i, c in enumerate(spec["cookies"])))
    chair = await one(0, spec["chair_cookie"])
    if chair is None:
        raise ConnectionError("the chair's socket did not open")
    return list(voters), chair


async def run_socket_client(spec: dict[str, Any]) -> dict[str, Any]:
    """``ours``: every member votes over their open conference socket; the chair watches."""
    count, window, options = spec["members"], spec["window"], spec["options"]
    records: list[dict[str, Any]] = [{} for _ in range(count)]
    await _warm_up(spec)
    voters, chair = await _connect_sockets(spec)
    connected = sum(1 for v in voters if v is not None)
    print(f"  ours: {connected}/{count} members and the chair connected", file=sys.stderr)

    async def vote(i: int, start: float) -> None:
        due = start + i * window / count
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        record = records[i]
        record["late_ms"] = (time.monotonic() - due) * 1000
        sock = voters[i]
        if sock is None:
            record.update(ok=False, error="not connected")
            return
        try:
            at, answer = await asyncio.wait_for(
                sock.vote(f"v{i}", options[i % len(options)]), ACK_TIMEOUT_S
            )
        except Exception as error:  # a timeout or a closed socket: not acked
            record.update(ok=False, error=type(error).__name__)
            return
        record["ok"] = answer.get("type") == "ack"
        record["status"] = answer.get("code", "ack")
        record["ack_ms"] = (at - due) * 1000
        record["ack_at"] = at

    start = time.monotonic() + 0.5
    await asyncio.gather(*(vote(i, start) for i in range(count)))
    last_ack = max((r["ack_at"] for r in records if r.get("ok")), default=None)
    acked = sum(1 for r in records if r.get("ok"))
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not any(b >= acked for _, b in chair.turnouts):
        await asyncio.sleep(0.02)
    reached = [t for t, b in chair.turnouts if b >= acked]
    final_turnout_s = None
    if reached and last_ack is not None:
        final_turnout_s = round(reached[0] - last_ack, 3)
    for sock in [*voters, chair]:
        if sock is not None:
            sock.abort()
    return {
        "records": [{k: v for k, v in r.items() if k != "ack_at"} for r in records],
        "turnout_frames": len(chair.turnouts),
        "final_turnout_after_last_ack_s": final_turnout_s,
        "connected": connected,
    }


async def run_client(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["kind"] == "ours":
        return await run_socket_client(spec)
    count, window = spec["members"], spec["window"]
    options = spec["options"]
    records: list[dict[str, Any]] = [{} for _ in range(count)]
    turnouts: list[tuple[float, int]] = []
    listener = None
    if spec["kind"] == "ours-http":
        listener = await _turnout_listener(spec, turnouts)
        await _warm_up(spec)
        conns = []
        for i in range(count):
            port = spec["ports"][i % len(spec["ports"])]
            conns.append(await asyncio.open_connection("127.0.0.1", port))
    else:
        from websockets.asyncio.client import connect

        ports = spec["ports"]
        conns = [
            await connect(f"ws://127.0.0.1:{ports[i % len(ports)]}/", max_size=2**16)
            for i in range(count)
        ]

    async def vote(i: int, start: float) -> None:
        due = start + i * window / count
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        option = options[i % len(options)]
        record = records[i]
        record["late_ms"] = (time.monotonic() - due) * 1000
        try:
            if spec["kind"] == "ours-http":
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
                member = spec["member_ids"][i]
                await ws.send(json.dumps({"member": member, "option": option, "ref": f"v{i}"}))
                answer = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT_S))
                # The raw server's ack carries no ref; the floor's must carry this vote's.
                ok = answer.get("type") == "ack" and answer.get("ref", f"v{i}") == f"v{i}"
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
            if spec["kind"] == "ours-http":
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
    return script_json("vote_seed.py", ["--members", str(members)], env)


def _load(spec: dict[str, Any], pin: bool) -> dict[str, Any]:
    timeout = spec["members"] * 0.05 + ACK_TIMEOUT_S + 60
    return client_process("vote_burst.py", spec, pin, timeout)


def _database_counts(database_url: str, kind: str, poll: int) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        if kind == "raw" or kind.startswith("floor"):
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
    for repeat in range(args.vote_repeat):
        with suite_world(scratch, f"vote_{repeat}") as (database_url, env):
            print(f"vote burst: seeding {args.vote_members} members", file=sys.stderr)
            seeded = _seed(env, args.vote_members)
            kinds = ["raw", *floor_kinds(args, ("gc",)), "ours", *["ours-http"] * args.vote_http]
            for kind in kinds:
                poll = seeded["http_poll"] if kind == "ours-http" else seeded["poll"]
                spec = {
                    "kind": kind,
                    "members": args.vote_members,
                    "window": args.vote_window,
                    "poll": poll,
                    "options": seeded["http_options" if kind == "ours-http" else "options"],
                    "member_ids": seeded["members"],
                    "cookies": seeded["cookies"],
                    "csrf": seeded["csrf"],
                    "conference": seeded["conference"],
                    "chair_cookie": seeded["chair_cookie"],
                    "path": (f"/konferenzen/{seeded['slug']}/abstimmungen/{poll}/abstimmen/"),
                    "ws_path": (f"/ws/conferences/{seeded['conference']}/?after={seeded['seq']}"),
                    "env": env,
                }
                if kind == "raw":
                    result = _raw(spec, database_url, scratch, args.pin)
                else:
                    if kind.startswith("floor"):
                        reset_table(database_url)
                    server = "ours" if kind == "ours-http" else kind
                    with servers(server, env, scratch, args.pin, count=args.processes) as up:
                        spec["ports"] = [s["port"] for s in up]
                        result = _load(spec, args.pin)
                counts = _database_counts(database_url, kind, poll)
                runs.append({**summarise(kind, result, counts), "repeat": repeat})
                print(f"  {brief(runs[-1])}", file=sys.stderr)
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
        "processes on PostgreSQL and Redis (ours: a poll.vote frame on each member's open "
        "conference socket, the turnout on the chair's socket; ours-http: the vote form's POST "
        "as polls.js sends it without a socket, on a second poll), the baseline a raw "
        "websockets server with one INSERT under a unique constraint in the same database"
    ]
    lines += table_header(
        f"| {'server':<9} | votes | acked | p50 ms | p99 ms | max ms | lost | doubled | "
        "turnout frames | final turnout after last ack |"
    )
    for run in runs:
        if run.get("error"):
            lines.append(f"| {run['server']:<9} | not measured: {run['error']} |")
            continue
        after = run["final_turnout_after_last_ack_s"]
        lines.append(
            f"| {run['server']:<9} | {run['votes']:>5} | {run['acked']:>5} | "
            f"{ms(run['p50_ms']):>6} | {ms(run['p99_ms']):>6} | {ms(run['max_ms']):>6} | "
            f"{run['lost']:>4} | {run['doubled']:>7} | {run['turnout_frames']!s:>14} | "
            f"{'-' if after is None else f'{after:.3f} s':>28} |"
        )
    repeats: dict[int, dict[str, dict[str, Any]]] = {}
    for run in runs:
        repeats.setdefault(run.get("repeat", 0), {})[run["server"]] = run
    for index, by_kind in sorted(repeats.items()):
        base, floor = by_kind.get("raw") or {}, by_kind.get("floor")
        for kind in ("floor", "floor-gc"):
            if kind in by_kind:
                lines.append(verdict(f"{kind}, run {index + 1}", by_kind[kind], base, floor=None))
        if "ours" in by_kind:
            lines.append(verdict(f"ours, run {index + 1}", by_kind["ours"], base, floor))
    return lines


def verdict(
    head: str, run: dict[str, Any], base: dict[str, Any], floor: dict[str, Any] | None
) -> str:
    """One server's run against the baseline's (issue #11's target), and ours against the floor.

    The floor is held to the ack target alone (it sends no turnout): p99 within 3x the
    baseline's, every vote acked, none lost or doubled.
    """
    if run.get("error") or not run.get("p99_ms") or not base.get("p99_ms"):
        return f"{head}: not compared ({run.get('error') or base.get('error') or 'no p99'})"
    name = head.split(",")[0]
    ratio = run["p99_ms"] / base["p99_ms"]
    after = run["final_turnout_after_last_ack_s"]
    ours = name == "ours"
    met = (
        ratio <= RATIO_LIMIT
        and run["lost"] == 0
        and run["doubled"] == 0
        and run["acked"] == run["votes"]
        and (not ours or (after is not None and after <= TURNOUT_LIMIT_S))
    )
    turnout = f", final turnout {after} s after the last ack" if ours else ""
    limits = f", <= {TURNOUT_LIMIT_S:g} s" if ours else ""
    line = (
        f"{head}: p99 {name}/raw {ms(run['p99_ms'])} / {ms(base['p99_ms'])} ms = {ratio:.1f}x, "
        f"acked {run['acked']}/{run['votes']}, lost {run['lost']}, doubled {run['doubled']}"
        f"{turnout} (target: <= {RATIO_LIMIT:g}x, all acked, 0 lost, 0 doubled{limits}: "
        f"{'met' if met else 'MISSED'})"
    )
    if floor is not None and floor.get("p99_ms"):
        line += (
            f"; p99 ours/floor {ms(run['p99_ms'])} / {ms(floor['p99_ms'])} ms = "
            f"{run['p99_ms'] / floor['p99_ms']:.1f}x"
        )
    return line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("vote-burst")
    group.add_argument("--vote-members", type=int, help="voters (1000; quick: 100)")
    group.add_argument("--vote-window", type=float, help="seconds the votes spread over (2)")
    group.add_argument("--vote-repeat", type=int, help="runs of raw and ours (3; quick: 1)")
    group.add_argument(
        "--no-vote-http",
        dest="vote_http",
        action="store_false",
        help="skip the row of votes over HTTP (ours-http)",
    )


FULL = {"vote_members": 1000, "vote_window": 2.0, "vote_repeat": 3}
QUICK = {"vote_members": 100, "vote_window": 2.0, "vote_repeat": 1}


def _standalone_arguments(parser: argparse.ArgumentParser) -> None:
    add_arguments(parser)
    add_floor_argument(parser)


def main() -> None:
    suite_main(__doc__, run_client, _standalone_arguments, (QUICK, FULL), run_suite, report)


if __name__ == "__main__":
    main()
