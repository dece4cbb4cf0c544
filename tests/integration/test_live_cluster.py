"""Two daphne processes on one PostgreSQL and one Redis: a live thread across processes.

alice is connected to the first process, bob to the second; both are members who may post in
the members' forum sam (staff) opened. The second process is killed (SIGKILL, as in a crash)
and started again on the same port; bob's client must end with every post exactly once.

Run here with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m pytest tests/integration/test_live_cluster.py
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from forums import services
from tests import factories
from tests.integration.liveclient import LiveClient, until

pytestmark = pytest.mark.integration

TIMEOUT = 15.0


def session_cookie(member: Any) -> str:
    return factories.session_cookie_of(member)


def test_posts_reach_both_processes_and_a_restarted_process_catches_up(
    daphne_cluster, sam, alice, bob
):
    # A prefix of this run's own: other runs sharing the Redis server use the same thread ids.
    first, second = daphne_cluster(2, extra_env={"CHANNELS_PREFIX": f"live-{uuid.uuid4().hex}"})
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten-cluster")
    thread = services.thread_create(actor=alice, forum=forum, title="Deckel", body="Erster")
    start_seq = thread.last_seq
    cookies = {"alice": session_cookie(alice), "bob": session_cookie(bob)}

    async def scenario() -> tuple[LiveClient, LiveClient]:
        a = LiveClient("alice@1", first, thread.pk, cookie=cookies["alice"], last_seq=start_seq)
        b = LiveClient("bob@2", second, thread.pk, cookie=cookies["bob"], last_seq=start_seq)
        for client in (a, b):
            client.start()
            await asyncio.wait_for(client.synced.wait(), TIMEOUT)

        def created(client: LiveClient) -> int:
            return len(client.record.applied)

        # Posts from either process reach both.
        a_1 = await a.post("Von Alice über Prozess 1")
        b_1 = await b.post("Von Bob über Prozess 2")
        await until(lambda: created(a) == 2 and created(b) == 2, "fan-out", TIMEOUT)
        assert {a_1, b_1} <= {*a.record.acks, *b.record.acks}

        # The second process crashes; the first takes more posts meanwhile.
        second.kill()
        await until(lambda: not b.connected.is_set(), "bob's socket to close", TIMEOUT)
        for i in range(5):
            await a.post(f"Während Prozess 2 fehlt ({i})")
        await until(lambda: not a.pending, "acks while process 2 is down", TIMEOUT)

        # It comes back on the same port; bob reconnects by himself with his last seq.
        await asyncio.to_thread(second.start, timeout=60)
        await until(lambda: b.record.connections == 2, "bob's reconnect", TIMEOUT)
        assert b.hello is not None and b.hello["seq"] == start_seq + 7
        await until(lambda: b.last_seq == start_seq + 7, "bob's replay", TIMEOUT)

        # And live delivery through the restarted process works again, both ways.
        await a.post("Nach dem Neustart")
        await b.post("Bob wieder da")
        await until(lambda: created(a) == 9 and created(b) == 9, "fan-out after", TIMEOUT)
        await a.stop()
        await b.stop()
        return a, b

    a, b = asyncio.run(scenario())
    expected = list(range(start_seq + 1, start_seq + 10))
    assert a.record.applied == expected, first.log()
    # Every post exactly once, in order, across bob's two connections: no gap, no duplicate.
    assert b.record.applied == expected, second.log()
    assert b.record.connections == 2
    assert not a.record.errors and not b.record.errors, (a.record.errors, b.record.errors)
    assert not a.record.resets and not b.record.resets


def test_a_process_over_its_connect_budget_sheds_through_real_daphne_with_a_retry_hint(
    daphne_cluster, sam, alice
):
    # A budget of 0 ms: every connect is shed. Through daphne (autobahn), not a test double:
    # autobahn refuses to send RFC 6455's 1013 from a server, hence the application code 4503.
    (server,) = daphne_cluster(1, extra_env={"LIVE_CONNECT_MAX_WAIT_MS": "0"})
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten-shed")
    thread = services.thread_create(actor=alice, forum=forum, title="Deckel", body="Erster")
    cookie = session_cookie(alice)

    async def connect() -> tuple[dict[str, Any], int | None]:
        from websockets.asyncio.client import connect as ws_connect
        from websockets.exceptions import ConnectionClosed

        url = f"{server.ws_url}/ws/threads/{thread.pk}/?after={thread.last_seq}"
        async with ws_connect(url, origin=server.url, additional_headers={"Cookie": cookie}) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            try:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None
                return first, closed.rcvd.code
        return first, None

    first, code = asyncio.run(connect())
    assert first == {"type": "busy", "retry_after": 1.0}
    assert code == 4503
    assert "invalid close code" not in server.log()
