"""Suite ``queue-burst``: N registered members ask to speak within a window while the chair calls
next (issue #11: 200 within 1 s), then every connected client's queue is compared with the
database's.

- Before the burst every member and the chair have the conference's socket open
  (``/ws/conferences/<pk>/?after=<seq>``, until ``synced``) and a keep-alive HTTP connection.
- The burst: member ``i`` asks at ``i * window / N`` (the ask form as queue.js sends it: POST
  ``kind=contribution`` on one of the two default sub-lists, alternating, ``Accept:
  application/json``); the chair calls next every ``--queue-call-every`` seconds during the window
  (POST ``action=call_next``). Ask-to-ack: from the ask's scheduled time to its JSON answer.
- Each client keeps the ``queue.changed`` frame with the highest seq it received (a snapshot of the
  whole queue, so the newest is the client's queue) and notes any seq it missed. Converged: a
  client holds the conference's final seq (read from the database after the last answer); the
  suite reports when the last client did, after the last answer.
- Checked against the database afterwards: every acked ask has exactly one request (lost: none,
  doubled: more than one), and every client's queue equals ``selectors.queue_snapshot`` of the
  item (without its ``now``).
- Baseline: ``--lone`` asks one after another to the same servers before the sockets open (on
  another agenda item, so the burst's queue is untouched): the burst's p99 against their median.

Servers: ``--processes`` daphne processes on PostgreSQL and Redis, pinned to CPU 0; the load
client on CPU 1.

    .venv/bin/python bench/queue_burst.py [--quick] [--queue-members 200] [--queue-window 1]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.arrival import seed  # noqa: E402
from bench.common import (  # noqa: E402
    client_process,
    ms,
    script_json,
    servers,
    suite_main,
    suite_world,
    table_header,
)
from bench.vote_burst import _read_http_response  # noqa: E402
from bench.wsclient import Receiver, Shed, Tally, percentile, request, rounded  # noqa: E402

SEQ = re.compile(rb'"seq":\s*(\d+)')
ACK_TIMEOUT_S = 60.0
CONVERGE_TIMEOUT_S = 60.0


# --- the load client (a process of its own, pinned to the client's CPU) ------------------------


class QueueReceiver(Receiver):
    """A conference socket that keeps the newest ``queue.changed`` frame and the seqs it saw."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seqs: set[int] = set()
        self.best_seq = 0
        self.best: bytes | None = None
        self.times: dict[int, float] = {}

    def on_text(self, payload: bytes, now: float) -> None:
        if self.ready.done() and b'"seq"' in payload:
            match = SEQ.search(payload)
            if match:
                seq = int(match.group(1))
                self.seqs.add(seq)
                self.times[seq] = now
                if b'"queue.changed"' in payload and seq > self.best_seq:
                    self.best_seq, self.best = seq, payload
                return
        super().on_text(payload, now)


async def open_receiver(
    spec: dict[str, Any], port: int, cookie: str, tally: Tally, gate: asyncio.Semaphore
) -> QueueReceiver | str:
    """The socket until ``synced``, honouring sheds; an error text when it failed."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + 60
    while True:
        receiver = QueueReceiver(tally, request(spec, port, cookie), "synced")
        try:
            async with gate:
                await asyncio.wait_for(
                    loop.create_connection(lambda r=receiver: r, spec["host"], port), 20
                )
                await asyncio.wait_for(asyncio.shield(receiver.ready), 30)
            return receiver
        except Shed as shed:
            receiver.abort()
            if time.monotonic() + shed.retry_after > deadline:
                return "still shed"
            await asyncio.sleep(shed.retry_after)
        except (OSError, TimeoutError, ConnectionError) as exc:
            receiver.abort()
            return f"{type(exc).__name__}: {exc}"[:80]


def post(path: str, port: int, cookie: str, csrf: str, body: str) -> bytes:
    data = body.encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        f"X-CSRFToken: {csrf}\r\nAccept: application/json\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data


async def ask(
    spec: dict[str, Any], conn: Any, port: int, cookie: str, item: int, lane: str
) -> tuple[bool, str]:
    reader, writer = conn
    writer.write(
        post(
            f"/konferenzen/{spec['slug']}/redeliste/{item}/melden/",
            port,
            cookie,
            spec["csrf"],
            f"kind=contribution&sublist={lane}",
        )
    )
    status, answer = await asyncio.wait_for(_read_http_response(reader), ACK_TIMEOUT_S)
    try:
        ok = status == 200 and json.loads(answer).get("ok") is True
    except ValueError:
        ok = False
    return ok, str(status) if ok else f"{status} {answer[:200].decode(errors='replace')}"


async def final_seq(spec: dict[str, Any]) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(spec["database_url"]) as conn:
        cursor = await conn.execute(
            "SELECT last_seq FROM conferences_conference WHERE id = %s", (spec["conference"],)
        )
        return (await cursor.fetchone())[0]


async def run_client(spec: dict[str, Any]) -> dict[str, Any]:
    ports, members, window = spec["ports"], spec["members"], spec["window"]
    cookies, lanes = spec["cookies"], spec["lanes"]
    # Lone asks first, one after another, on another item (the burst's queue stays untouched).
    lone = []
    for i in range(spec["lone"]):
        port = ports[i % len(ports)]
        started = time.monotonic()
        conn = await asyncio.open_connection("127.0.0.1", port)
        try:
            ok, status = await ask(
                spec, conn, port, cookies[-1 - i], spec["lone_item"], lanes[i % 2]
            )
        finally:
            conn[1].close()
        lone.append({"ok": ok, "status": status, "ack_ms": (time.monotonic() - started) * 1000})
        await asyncio.sleep(0.1)

    tally = Tally()
    gate = asyncio.Semaphore(20)
    after = await final_seq(spec)
    path = f"/ws/conferences/{spec['conference']}/?after={after}"
    socket_spec = {"host": "127.0.0.1", "path": path}
    everyone = [*cookies[:members], spec["chair_cookie"]]
    opened = await asyncio.gather(
        *(
            open_receiver(socket_spec, ports[i % len(ports)], cookie, tally, gate)
            for i, cookie in enumerate(everyone)
        )
    )
    receivers = [r for r in opened if isinstance(r, QueueReceiver)]
    socket_errors = [r for r in opened if not isinstance(r, QueueReceiver)]
    conns = [
        await asyncio.open_connection("127.0.0.1", ports[i % len(ports)]) for i in range(members)
    ]

    records: list[dict[str, Any]] = [{} for _ in range(members)]
    calls: list[dict[str, Any]] = []
    start = time.monotonic() + 0.5

    async def member(i: int) -> None:
        due = start + i * window / members
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        record = records[i]
        try:
            ok, status = await ask(
                spec, conns[i], ports[i % len(ports)], cookies[i], spec["item"], lanes[i % 2]
            )
            record.update(ok=ok, status=status)
        except Exception as error:  # a timeout or a dropped connection: not acked
            record.update(ok=False, status=type(error).__name__)
        record["ack_ms"] = (time.monotonic() - due) * 1000
        record["ack_at"] = time.monotonic()

    async def chair(k: int) -> None:
        due = start + k * spec["call_every"]
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        port = ports[k % len(ports)]
        record: dict[str, Any] = {}
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                post(
                    f"/konferenzen/{spec['slug']}/redeliste/{spec['item']}/",
                    port,
                    spec["chair_cookie"],
                    spec["csrf"],
                    "action=call_next",
                )
            )
            status, answer = await asyncio.wait_for(_read_http_response(reader), ACK_TIMEOUT_S)
            writer.close()
            record.update(ok=status == 200, status=str(status), message=answer[:120].decode())
        except Exception as error:  # a timeout or a dropped connection
            record.update(ok=False, status=type(error).__name__)
        record["ack_ms"] = (time.monotonic() - due) * 1000
        record["ack_at"] = time.monotonic()
        calls.append(record)

    call_count = max(1, round(window / spec["call_every"]))
    await asyncio.gather(
        *(member(i) for i in range(members)), *(chair(k) for k in range(call_count))
    )
    answered = max(r["ack_at"] for r in [*records, *calls])
    last = await final_seq(spec)
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    while time.monotonic() < deadline and any(r.best_seq < last for r in receivers):
        await asyncio.sleep(0.05)
    converged_at = [r.times.get(last) for r in receivers]
    queues: dict[str, dict[str, Any]] = {}
    clients = []
    for receiver in receivers:
        queue = None
        if receiver.best is not None:
            frame = json.loads(receiver.best)
            queue = frame.get("queue")
            if isinstance(queue, dict):
                queue.pop("now", None)
        text = json.dumps(queue, sort_keys=True)
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        queues.setdefault(digest, {"queue": queue, "clients": 0})["clients"] += 1
        missing = [s for s in range(after + 1, last + 1) if s not in receiver.seqs]
        clients.append(
            {
                "best_seq": receiver.best_seq,
                "queue": digest,
                "missing": len(missing),
                "closed": receiver.transport is None or receiver.transport.is_closing(),
            }
        )
        receiver.abort()
    for conn in conns:
        conn[1].close()
    return {
        "lone": lone,
        "records": [{k: v for k, v in r.items() if k != "ack_at"} for r in records],
        "calls": [{k: v for k, v in c.items() if k != "ack_at"} for c in calls],
        "socket_errors": socket_errors,
        "last_seq": last,
        "all_converged_after_answers_s": (
            round(max(converged_at) - answered, 3)
            if converged_at and None not in converged_at
            else None
        ),
        "all_converged_after_start_s": (
            round(max(converged_at) - start, 3)
            if converged_at and None not in converged_at
            else None
        ),
        "clients": clients,
        "queues": queues,
        "closed_after_synced": tally.closed,
    }


# --- the suite ---------------------------------------------------------------------------------


def _load(spec: dict[str, Any], pin: bool) -> dict[str, Any]:
    return client_process("queue_burst.py", spec, pin, 300 + spec["members"] * 0.2)


def database_queue(env: dict[str, str], item: int) -> dict[str, Any]:
    return script_json("conference_seed.py", ["--queue", str(item)], env)


def summarise(
    result: dict[str, Any], database: dict[str, Any], members: list[int]
) -> dict[str, Any]:
    if "records" not in result:
        return {"error": result.get("error")}
    records, calls = result["records"], result["calls"]
    acked = [i for i, r in enumerate(records) if r.get("ok")]
    latencies = sorted(records[i]["ack_ms"] for i in acked)
    requests = database["requests"]
    lost = sum(1 for i in acked if requests.get(str(members[i]), 0) == 0)
    doubled = sum(max(0, n - 1) for n in requests.values())
    expected = json.dumps(database["queue"], sort_keys=True)
    matching = {
        digest
        for digest, seen in result["queues"].items()
        if json.dumps(seen["queue"], sort_keys=True) == expected
    }
    clients = result["clients"]
    lone = sorted(r["ack_ms"] for r in result["lone"] if r["ok"])
    queue = database["queue"]
    return {
        "asks": len(records),
        "acked": len(acked),
        "refused_or_failed": len(records) - len(acked),
        "statuses": sorted({r.get("status", "-") for r in records if not r.get("ok")}),
        "p50_ms": rounded(percentile(latencies, 50)),
        "p99_ms": rounded(percentile(latencies, 99)),
        "max_ms": rounded(latencies[-1]) if latencies else None,
        "lone_asks": len(result["lone"]),
        "lone_median_ms": rounded(percentile(lone, 50)),
        "calls": len(calls),
        "calls_ok": sum(1 for c in calls if c.get("ok")),
        "call_p99_ms": rounded(percentile(sorted(c["ack_ms"] for c in calls), 99)),
        "lost": lost,
        "doubled": doubled,
        "database_requests": sum(requests.values()),
        "database_states": database["states"],
        "database_waiting": len(queue["entries"]),
        "database_speaking": len(queue["speaking"]),
        "last_seq": database["last_seq"],
        "client_last_seq": result["last_seq"],
        "sockets": len(clients),
        "socket_errors": result["socket_errors"],
        "clients_equal": sum(1 for c in clients if c["queue"] in matching),
        "clients_at_last_seq": sum(1 for c in clients if c["best_seq"] == database["last_seq"]),
        "clients_missing_seqs": sum(1 for c in clients if c["missing"]),
        "distinct_queues": len(result["queues"]),
        "all_converged_after_answers_s": result["all_converged_after_answers_s"],
        "all_converged_after_start_s": result["all_converged_after_start_s"],
        "closed_after_synced": result["closed_after_synced"],
    }


def run_suite(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    members = args.queue_members
    with suite_world(scratch, "queue") as (database_url, env):
        print(f"queue burst: seeding {members} members", file=sys.stderr)
        seeded = seed(env, max(members, args.lone))
        spec = {
            "slug": seeded["slug"],
            "conference": seeded["conference"],
            "item": seeded["items"][0],
            "lone_item": seeded["items"][1],
            "lanes": ["default-0", "default-1"],
            "cookies": seeded["cookies"],
            "chair_cookie": seeded["chair_cookie"],
            "csrf": seeded["csrf"],
            "members": members,
            "window": args.queue_window,
            "call_every": args.queue_call_every,
            "lone": args.lone,
            "database_url": database_url,
        }
        print(
            f"queue burst: {members} asks within {args.queue_window:g} s, a call every "
            f"{args.queue_call_every:g} s, over {args.processes} processes",
            file=sys.stderr,
        )
        with servers("ours", env, scratch, args.pin, count=args.processes) as started:
            spec["ports"] = [s["port"] for s in started]
            result = _load(spec, args.pin)
        database = database_queue(env, seeded["items"][0])
        summary = summarise(result, database, seeded["members"][:members])
    print(f"  {brief(summary)}", file=sys.stderr)
    return {
        "processes": args.processes,
        "members": members,
        "window": args.queue_window,
        "call_every": args.queue_call_every,
        "run": summary,
    }


def brief(run: dict[str, Any]) -> str:
    if run.get("error"):
        return f"queue burst not measured: {run['error']}"
    return (
        f"{run['acked']}/{run['asks']} asks acked, p50 {ms(run['p50_ms'])} ms, p99 "
        f"{ms(run['p99_ms'])} ms (lone median {ms(run['lone_median_ms'])} ms), calls "
        f"{run['calls_ok']}/{run['calls']}, lost {run['lost']}, doubled {run['doubled']}, "
        f"clients equal to the database {run['clients_equal']}/{run['sockets']}, all converged "
        f"{run['all_converged_after_answers_s']} s after the last answer"
        + (f"; refusals {run['statuses'][:3]}" if run["statuses"] else "")
    )


def report(results: dict[str, Any]) -> list[str]:
    run = results.get("run") or {}
    lines = [
        f"Queue burst: {results.get('members')} registered members ask to speak within "
        f"{results.get('window')} s while the chair calls next every {results.get('call_every')} "
        f"s, over {results.get('processes')} daphne processes on PostgreSQL and Redis; every "
        "member and the chair on the conference socket; ask-to-ack from the scheduled ask to the "
        "JSON answer; lone = median of sequential asks to the same servers before the burst; "
        "converged = a client holds the final seq's queue.changed"
    ]
    if run.get("error"):
        return [*lines, f"not measured: {run['error']}"]
    lines += table_header(
        "| asks | acked | p50 ms | p99 ms | max ms | lone median ms | p99/lone | calls ok | "
        "lost | doubled | sockets | equal to database | missed seqs | all converged after last "
        "answer |"
    )
    ratio = (
        f"{run['p99_ms'] / run['lone_median_ms']:.1f}x"
        if run["p99_ms"] and run["lone_median_ms"]
        else "-"
    )
    conv = run["all_converged_after_answers_s"]
    lines.append(
        f"| {run['asks']:>4} | {run['acked']:>5} | {ms(run['p50_ms']):>6} | {ms(run['p99_ms']):>6} "
        f"| {ms(run['max_ms']):>6} | {ms(run['lone_median_ms']):>14} | {ratio:>8} | "
        f"{run['calls_ok']:>3}/{run['calls']:<4} | {run['lost']:>4} | {run['doubled']:>7} | "
        f"{run['sockets']:>7} | {run['clients_equal']:>17} | {run['clients_missing_seqs']:>11} | "
        f"{'-' if conv is None else f'{conv:.3f} s':>31} |"
    )
    met = (
        run["acked"] == run["asks"]
        and run["lost"] == 0
        and run["doubled"] == 0
        and run["clients_equal"] == run["sockets"]
        and not run["socket_errors"]
    )
    lines.append("")
    lines.append(
        f"queue burst: database {run['database_requests']} requests ({run['database_states']}), "
        f"{run['database_waiting']} waiting, {run['database_speaking']} speaking, last seq "
        f"{run['last_seq']}; {run['clients_equal']}/{run['sockets']} clients' queues equal to "
        f"the database's ({run['distinct_queues']} distinct), lost {run['lost']}, doubled "
        f"{run['doubled']} (target: none lost or doubled, every client's queue equal to the "
        f"database's: {'met' if met else 'MISSED'}); all converged "
        f"{run['all_converged_after_start_s']} s after the first ask"
    )
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("queue-burst")
    group.add_argument("--queue-members", type=int, help="members asking (200; quick: 30)")
    group.add_argument("--queue-window", type=float, help="seconds the asks spread over (1)")
    group.add_argument("--queue-call-every", type=float, help="seconds between calls (0.1)")


FULL = {"queue_members": 200, "queue_window": 1.0, "queue_call_every": 0.1}
QUICK = {"queue_members": 30, "queue_window": 1.0, "queue_call_every": 0.1}


def main() -> None:
    suite_main(
        __doc__,
        run_client,
        add_arguments,
        (QUICK, FULL),
        run_suite,
        report,
        lone="sequential asks",
    )


if __name__ == "__main__":
    main()
