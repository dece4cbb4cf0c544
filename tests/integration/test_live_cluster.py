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
from tests.servers import DaphneServer

pytestmark = pytest.mark.integration

TIMEOUT = 15.0


def session_cookie(member: Any) -> str:
    return factories.session_cookie_of(member)


class LiveClient:
    """A minimal protocol client: remembers the last seq, reconnects with ``?after=``."""

    def __init__(self, name: str, server: DaphneServer, thread_id: int, cookie: str) -> None:
        self.name = name
        self.server = server
        self.thread_id = thread_id
        self.cookie = cookie
        self.last_seq = 0
        self.events: list[dict[str, Any]] = []  # every seq-carrying frame, as received
        self.acks: dict[str, dict[str, Any]] = {}
        self.connections = 0
        self.ws: Any = None
        self.reader: asyncio.Task | None = None
        self.closed = asyncio.Event()

    async def connect(self) -> dict[str, Any]:
        from websockets.asyncio.client import connect

        url = f"{self.server.ws_url}/ws/threads/{self.thread_id}/?after={self.last_seq}"
        self.ws = await connect(
            url, origin=self.server.url, additional_headers={"Cookie": self.cookie}
        )
        self.connections += 1
        self.closed.clear()
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
        assert hello["type"] == "hello", hello
        self.reader = asyncio.create_task(self._read(self.ws))
        return hello

    async def _read(self, ws: Any) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                if isinstance(frame.get("seq"), int) and frame["type"] not in {"synced", "ack"}:
                    self.events.append(frame)
                    self.last_seq = max(self.last_seq, frame["seq"])
                elif frame["type"] == "synced":
                    self.last_seq = max(self.last_seq, frame["seq"])
                elif frame["type"] == "ack":
                    self.acks[frame["client_id"]] = frame
                elif frame["type"] in {"error", "reset"}:
                    raise AssertionError(f"{self.name} got {frame}")
        except Exception as exc:  # the connection died (the server was killed)
            if (
                not isinstance(exc, ConnectionError)
                and "ConnectionClosed" not in type(exc).__name__
            ):
                raise
        finally:
            self.closed.set()

    async def post(self, client_id: str, body: str) -> dict[str, Any]:
        await self.ws.send(
            json.dumps({"type": "post.create", "client_id": client_id, "body": body})
        )
        await until(lambda: client_id in self.acks, f"{self.name}: ack of {client_id}")
        return self.acks[client_id]

    def created_seqs(self) -> list[int]:
        return [e["seq"] for e in self.events if e["type"] == "post.created"]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


async def until(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


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
        a = LiveClient("alice@1", first, thread.pk, cookies["alice"])
        b = LiveClient("bob@2", second, thread.pk, cookies["bob"])
        a.last_seq = b.last_seq = start_seq
        await a.connect()
        await b.connect()

        # Posts from either process reach both.
        await a.post("a-1", "Von Alice über Prozess 1")
        await b.post("b-1", "Von Bob über Prozess 2")
        await until(lambda: len(a.created_seqs()) == 2 and len(b.created_seqs()) == 2, "fan-out")

        # The second process crashes; the first takes more posts meanwhile.
        second.kill()
        await asyncio.wait_for(b.closed.wait(), TIMEOUT)
        for i in range(5):
            await a.post(f"a-down-{i}", f"Während Prozess 2 fehlt ({i})")

        # It comes back on the same port; bob reconnects with his last seq.
        await asyncio.to_thread(second.start, timeout=60)
        hello = await b.connect()
        assert hello["seq"] == start_seq + 7
        await until(lambda: b.last_seq == start_seq + 7, "bob's replay")

        # And live delivery through the restarted process works again, both ways.
        await a.post("a-after", "Nach dem Neustart")
        await b.post("b-after", "Bob wieder da")
        await until(
            lambda: len(a.created_seqs()) == 9 and len(b.created_seqs()) == 9, "fan-out after"
        )
        await a.close()
        await b.close()
        return a, b

    a, b = asyncio.run(scenario())
    expected = list(range(start_seq + 1, start_seq + 10))
    assert a.created_seqs() == expected, first.log()
    # Every post exactly once, in order, across bob's two connections: no gap, no duplicate.
    assert b.created_seqs() == expected, second.log()
    assert b.connections == 2
