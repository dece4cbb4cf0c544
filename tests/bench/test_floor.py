"""The daphne floor (``bench/baselines/daphne_floor.py``) starts under daphne and answers as the
suites need: a thread socket gets ``hello`` then ``synced`` (the burst client counts it synced),
a vote frame one row in ``raw_vote`` and an ``ack`` with its ``ref``.

The vote needs PostgreSQL (the suite's own database, ``DATABASE_URL=postgres://...``), the group
variant Redis (``REDIS_URL``): without them those tests skip, under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from bench import connect_burst, vote_burst
from bench.baselines.raw_vote_server import reset_table
from bench.common import base_env, redis_cleanup, servers
from bench.run import parse_args
from bench.wsclient import Tally, open_socket
from tests.bench.test_run import burst_result
from tests.conftest import require
from tests.servers import database_url_of_current_test_db


async def connect_until_synced(port: int) -> tuple[float | None, float | None, str | None]:
    """A burst client's connect (``bench.wsclient.open_socket``): when ``hello`` and ``synced``
    arrived, and the error if the socket never became ready."""
    spec = {"host": "127.0.0.1", "path": "/ws/threads/7/?after=3"}
    deadline = time.monotonic() + 20
    opened = await open_socket(spec, port, "", Tally(), ready_on="synced", deadline=deadline)
    if opened.receiver is None:
        return None, None, opened.error
    opened.receiver.abort()
    return opened.receiver.hello_at, opened.receiver.synced_at, opened.error


@pytest.mark.parametrize("kind", ["floor", "floor-gc", "floor-group"])
async def test_a_thread_socket_on_the_floor_gets_hello_then_synced(
    kind: str, tmp_path: Path
) -> None:
    redis_url, prefix = None, None
    if kind == "floor-group":
        redis_url = os.environ.get("REDIS_URL", "")
        require(redis_url.startswith("redis://"), "the group variant needs REDIS_URL")
        prefix = f"test-floor-{uuid.uuid4().hex[:8]}-"
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'floor.sqlite3'}", redis_url, prefix)
    try:
        with servers(kind, env, tmp_path, pin=False) as (server,):
            hello_at, synced_at, error = await connect_until_synced(server["port"])
    finally:
        if redis_url:
            redis_cleanup(redis_url, prefix)
    assert error is None
    assert hello_at is not None
    assert synced_at is not None
    assert hello_at <= synced_at


@pytest.fixture
def postgres_test_database(django_db_setup: None) -> str:
    from django.db import connection

    require(
        connection.settings_dict["ENGINE"] == "django.db.backends.postgresql",
        "the vote floor needs the suite on PostgreSQL (DATABASE_URL=postgres://...)",
    )
    return database_url_of_current_test_db()


# The mark makes pytest-django create the test database (PostgreSQL's, in CI); the floor's
# server writes to it from another process, so the test must not hold a transaction open.
@pytest.mark.django_db(transaction=True)
async def test_a_vote_on_the_floor_is_one_row_and_an_ack_with_its_ref(
    postgres_test_database: str, tmp_path: Path
) -> None:
    import psycopg
    from websockets.asyncio.client import connect

    url = postgres_test_database
    reset_table(url)
    try:
        env = base_env(tmp_path, url, None)
        with servers("floor", env, tmp_path, pin=False) as (server,):
            async with connect(f"ws://127.0.0.1:{server['port']}/") as ws:
                await ws.send(json.dumps({"member": 5, "option": 2, "ref": "v5"}))
                first = json.loads(await ws.recv())
                await ws.send(json.dumps({"member": 5, "option": 1, "ref": "v6"}))
                second = json.loads(await ws.recv())
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT poll, member, option FROM raw_vote").fetchall()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS raw_vote")
    assert first == {"type": "ack", "ref": "v5"}
    assert second == {"type": "error", "code": "conflict", "ref": "v6"}
    assert rows == [(1, 5, 2)]


# --- the rows and ratios in the suites' reports (no server) ---


def test_the_floor_runs_by_default_and_no_floor_leaves_it_out() -> None:
    assert connect_burst.kinds(parse_args(["--suite", "connect"])) == ["raw", "floor", "ours"]
    assert connect_burst.kinds(parse_args(["--no-floor"])) == ["raw", "ours"]
    assert connect_burst.kinds(parse_args(["--floor-variants", "group", "gc"])) == [
        "raw",
        "floor",
        "floor-gc",
        "floor-group",
        "ours",
    ]
    assert connect_burst.kinds(parse_args(["--no-floor", "--floor-variants", "gc"])) == [
        "raw",
        "ours",
    ]
    assert parse_args([]).floor
    assert not parse_args(["--no-floor", "--suite", "vote-burst"]).floor


def vote_run(server: str, p99: float, *, acked: int = 100, repeat: int = 0) -> dict:
    return {
        "server": server,
        "votes": 100,
        "acked": acked,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "max_ms": p99,
        "lost": 0,
        "doubled": 0,
        "turnout_frames": None if server != "ours" else 10,
        "final_turnout_after_last_ack_s": None if server != "ours" else 0.1,
        "repeat": repeat,
    }


def test_the_vote_report_holds_the_floor_to_raw_and_ours_to_raw_and_the_floor() -> None:
    runs = [vote_run("raw", 2.0), vote_run("floor", 8.0), vote_run("floor-gc", 6.0)]
    runs += [vote_run("ours", 400.0)]
    runs += [vote_run("raw", 4.0, repeat=1), vote_run("floor", 10.0, acked=99, repeat=1)]
    text = "\n".join(
        vote_burst.report({"members": 100, "window": 2.0, "processes": 2, "runs": runs})
    )
    assert "| floor     |   100 |   100 |" in text
    assert (
        "floor, run 1: p99 floor/raw 8.0 / 2.0 ms = 4.0x, acked 100/100, lost 0, doubled 0 "
        "(target: <= 3x, all acked, 0 lost, 0 doubled: MISSED)"
    ) in text
    assert "floor-gc, run 1: p99 floor-gc/raw 6.0 / 2.0 ms = 3.0x, acked 100/100" in text
    assert "0 doubled: met)" in text
    assert "ours, run 1: p99 ours/raw 400 / 2.0 ms = 200.0x" in text
    assert "; p99 ours/floor 400 / 8.0 ms = 50.0x" in text
    assert "floor, run 2: p99 floor/raw 10.0 / 4.0 ms = 2.5x, acked 99/100" in text
    assert "ours, run 2" not in text


def test_the_connect_report_holds_the_floor_to_its_lone_connect_and_ours_to_the_floor() -> None:
    runs = [
        connect_burst.summarise_run("raw", 2, 100.0, burst_result([5.0, 10.0], [4.0])),
        connect_burst.summarise_run("floor", 2, 100.0, burst_result([10.0, 20.0], [6.0])),
        connect_burst.summarise_run("ours", 2, 100.0, burst_result([50.0, 100.0], [20.0])),
    ]
    text = "\n".join(connect_burst.report({"processes": 2, "runs": runs}))
    assert "| daphne floor       |" in text
    assert (
        "floor, 2 clients at 100/s: 2/2 synced, 0 failed, 0 sheds; p99/lone 20.0 / 6.0 ms = 3.3x "
        "(target: all connected, none failed, <= 4x: met); p99 floor/raw 20.0 / 10.0 ms = 2.0x"
    ) in text
    assert "p99 ours/raw 100 / 10.0 ms = 10.0x; p99 ours/floor 100 / 20.0 ms = 5.0x" in text
