"""Where a live socket's database work runs (deliberation.livework).

Writes run on the process's one database thread, reads on a pool of their own; on SQLite both
keep their connection between calls (opening one cost about 2 ms of every frame), on PostgreSQL
they hand it back to psycopg's pool after each call.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from deliberation.livework import ConnectGate, reads, writes

pytestmark = pytest.mark.django_db(transaction=True)


def _connection_and_thread() -> tuple[int | None, str]:
    from deliberation.models import District

    District.objects.count()  # a query opens the connection
    raw = connection.connection
    return (id(raw) if raw is not None else None), threading.current_thread().name


async def test_reads_run_on_the_read_pool_and_writes_on_the_database_thread():
    _, read_thread = await reads(_connection_and_thread)()
    _, write_thread = await writes(_connection_and_thread)()
    assert read_thread.startswith("live-read")
    assert not write_thread.startswith("live-read")
    assert write_thread != threading.current_thread().name


async def test_a_live_thread_keeps_its_sqlite_connection_and_hands_back_others():
    first, _ = await writes(_connection_and_thread)()
    second, _ = await writes(_connection_and_thread)()
    if connection.vendor == "sqlite":
        assert first == second
    else:
        # Closed after each call (back to psycopg's pool): the next call gets one anew.
        def still_open() -> bool:
            return connection.connection is not None

        assert not await writes(still_open)()


def test_the_gate_admits_while_the_expected_wait_is_short_and_then_sheds():
    gate = ConnectGate(max_wait=1.0)
    gate.cost = 0.1  # seconds of database work per connect, as recently measured
    admitted = [gate.admit() for _ in range(10)]
    assert admitted == [None] * 10
    assert gate.admit() == 1.0  # ten in progress at 0.1 s each: a second's wait
    assert gate.shed == 1
    for _ in range(10):
        gate.done()
    assert gate.admit() is None


def test_the_gates_hint_grows_with_the_queue_and_is_bounded():
    gate = ConnectGate(max_wait=0.0)
    gate.cost = 0.5
    gate.pending = 20
    assert gate.admit() == 10.0
    gate.pending = 1_000
    assert gate.admit() == 30.0
    gate.record(5.0)  # one slow connect is capped, not taken at face value
    assert gate.cost == pytest.approx(0.9 * 0.5 + 0.1 * 0.5)
