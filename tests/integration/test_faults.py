"""The live path under faults, on the production engines (issue #8).

Real PostgreSQL, a Redis of each test's own (``own_redis``: killed and restarted at will), three
daphne processes, and 90 to 300 protocol clients (``tests/integration/liveclient.py``) spread
over them. Each test ends by comparing what every client holds with the thread's event log in
the database: no acknowledged post lost, none shown twice, every client converged within a
stated bound. Run here with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest tests/integration/test_faults.py

The bounds are generous on purpose (the machine is shared; nothing here measures speed): they
tell a client that converges late from one that never does.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
import redis

from deliberation import live
from forums import services
from forums.models import Post, Thread, ThreadEvent
from tests import factories
from tests.integration.liveclient import LiveClient
from tests.servers import DaphneServer, RedisServer

pytestmark = pytest.mark.integration

PROCESSES = 3
#: The clients' ping interval (browsers use 25 s; the protocol's rules are the same).
HEARTBEAT = 1.0
#: Where a test is not about learning the head from ``pong`` (connect burst, mass disconnect),
#: 300 clients ping less often, so that pings do not become the load under test.
SLOW_HEARTBEAT = 5.0
#: Every client must hold every event within this many seconds after the last post was
#: acknowledged. Generous: a healthy run needs a heartbeat and a replay, a few seconds at most
#: on a loaded machine; a client that missed an event and was never told never gets there.
CONVERGE_SECONDS = 15.0
#: A post whose broadcast was lost must reach every reader within this many seconds: one
#: heartbeat to learn the head from ``pong``, one replay, and slack for a shared machine.
CATCH_UP_SECONDS = 5.0
#: Every acknowledged post is acknowledged within this many seconds after posting stops
#: (posters re-send unacknowledged posts after each reconnect).
ACK_SECONDS = 20.0
#: Every client of a connect burst must be connected and synced within this many seconds.
BURST_SECONDS = 45.0
#: How long a post may take to reach a reader live before we count it as not delivered live.
LIVE_SECONDS = 3.0
#: Clients connect at this rate where a test is not about the connect burst.
PACED_CONNECTS_PER_SECOND = 30.0
#: Connects per second before the mass disconnect (300 clients in about 15 s).
MASS_CONNECTS_PER_SECOND = 20.0
#: The servers let the test's posters post at a steady rate (the default is 10 per minute).
SERVER_ENV = {"POST_RATE_LIMIT": "100000"}


@pytest.fixture
def redis_url(own_redis: RedisServer) -> str:
    """The servers and this process's layer use the test's own Redis (see conftest)."""
    return own_redis.url


# --- the crowd ----------------------------------------------------------------------------------


@dataclass
class Crowd:
    thread: Thread
    start_seq: int
    readers: list[LiveClient]
    posters: list[LiveClient]
    #: Seconds each phase took (for the report; nothing asserts on them but the bounds).
    timings: dict[str, float | None] = field(default_factory=dict)
    #: The member behind each client, by client name.
    member_ids: dict[str, int] = field(default_factory=dict)

    @property
    def clients(self) -> list[LiveClient]:
        return [*self.readers, *self.posters]


def make_crowd(
    servers: list[DaphneServer],
    staff: Any,
    *,
    readers: int,
    posters: int,
    slug: str,
    heartbeat: float = HEARTBEAT,
) -> Crowd:
    """A members' forum with a thread, and members spread round-robin over ``servers``.

    Every client is a member of its own (own session), as a conference's audience is: each
    socket joins its member's hub group too.
    """
    forum = services.forum_create(actor=staff, title=f"Forum {slug}", slug=slug)
    thread = services.thread_create(actor=staff, forum=forum, title="Live", body="Beginn")
    member_ids: dict[str, int] = {}

    def client(name: str, index: int) -> LiveClient:
        # No password: hashing hundreds of them would dominate the test's time.
        member = factories.make_member(password=None, display_name=name)
        member_ids[name] = member.pk
        return LiveClient(
            name,
            servers[index % len(servers)],
            thread.pk,
            cookie=factories.session_cookie_of(member),
            last_seq=thread.last_seq,
            heartbeat=heartbeat,
        )

    return Crowd(
        thread=thread,
        start_seq=thread.last_seq,
        readers=[client(f"reader-{i}", i) for i in range(readers)],
        posters=[client(f"poster-{i}", i) for i in range(posters)],
        member_ids=member_ids,
    )


async def open_paced(clients: Iterable[LiveClient], per_second: float) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, client in enumerate(clients):
        client.start()
        # Paced against the clock, not by sleeps that add up on a busy machine.
        await asyncio.sleep(max(0.0, started + (n + 1) / per_second - loop.time()))


async def wait_until(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``condition()`` held, or None if it did not within ``timeout``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        if loop.time() - started > timeout:
            return None
        await asyncio.sleep(0.05)
    return loop.time() - started


async def all_synced(clients: list[LiveClient], timeout: float) -> float | None:
    return await wait_until(lambda: all(c.synced.is_set() for c in clients), timeout)


async def post_steadily(posters: list[LiveClient], per_second: float, stop: asyncio.Event) -> int:
    """Posts round-robin through ``posters`` at ``per_second`` until ``stop``; returns how many."""
    n = 0
    while not stop.is_set():
        await posters[n % len(posters)].post(f"Beitrag {n}")
        n += 1
        await asyncio.sleep(1 / per_second)
    return n


async def stop_all(crowd: Crowd) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(c.stop() for c in crowd.clients))
    crowd.timings["stop"] = loop.time() - started


def expected_seqs(crowd: Crowd) -> set[int]:
    """The seqs every client must end with: one ``post.created`` per acknowledged post."""
    acked = sum(len(p.record.acks) for p in crowd.posters)
    return set(range(crowd.start_seq + 1, crowd.start_seq + 1 + acked))


async def finish(crowd: Crowd) -> dict[str, Any]:
    """Wait for the acks, then for convergence; stop every client. Returns the figures."""
    acks_took = await wait_until(lambda: not any(p.pending for p in crowd.posters), ACK_SECONDS)
    expected = expected_seqs(crowd)
    converged_took = await wait_until(
        lambda: all(c.holds(expected) for c in crowd.clients), CONVERGE_SECONDS
    )
    await stop_all(crowd)
    return {
        "acks_took": acks_took,
        "converged_took": converged_took,
        "not_converged": sum(not c.holds(expected) for c in crowd.clients),
    }


def figures(crowd: Crowd) -> dict[str, Any]:
    """What the clients saw, summed (for assertion messages and the report)."""
    records = [c.record for c in crowd.clients]
    duplicates = [len(r.duplicates) for r in records]
    return {
        "timings": {k: v and round(v, 2) for k, v in crowd.timings.items()},
        "clients": len(records),
        "posts_made": sum(len(p.posted) for p in crowd.posters),
        "posts_acked": sum(len(p.record.acks) for p in crowd.posters),
        "reconnects": sum(r.reconnects for r in records),
        "sheds": sum(len(r.sheds) for r in records),
        "failed_attempts": sum(len(r.failures) for r in records),
        "failure_kinds": Counter(":".join(f.split(":")[:2]) for r in records for f in r.failures),
        "clients_with_duplicates": sum(bool(d) for d in duplicates),
        "duplicates_max": max(duplicates, default=0),
        "resyncs_after_pong": sum(r.resyncs_after_pong for r in records),
        "resyncs_after_gap": sum(r.resyncs_after_gap for r in records),
        "pong_timeouts": sum(r.pong_timeouts for r in records),
        "error_frames": Counter(e.get("code") for r in records for e in r.errors),
        "resets": sum(len(r.resets) for r in records),
        "posters": [
            {
                "name": p.name,
                "server": p.server.port,
                "connections": p.record.connections,
                "made": len(p.posted),
                "acked": len(p.record.acks),
                "pending": len(p.pending),
                "closes": p.record.closes,
                "failures": len(p.record.failures),
                "pong_timeouts": p.record.pong_timeouts,
                "connected": p.connected.is_set(),
            }
            for p in crowd.posters
        ],
    }


def assert_a_lost_event_is_caught_up(
    crowd: Any, write_unbroadcast: Callable[[], int], what: str
) -> int:
    """Connect and sync every client of ``crowd`` (a thread's or a conference's), then make one
    event that the layer never carries (``write_unbroadcast`` returns its seq); every reader must
    hold it within CATCH_UP_SECONDS, by the pong's head and a resync. Returns the seq."""

    async def scenario() -> tuple[int, float | None]:
        await open_paced(crowd.clients, PACED_CONNECTS_PER_SECOND)
        synced = crowd.timings["synced"] = await all_synced(crowd.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced; {figures(crowd)}"
        seq = await asyncio.to_thread(write_unbroadcast)
        took = await wait_until(
            lambda: all(c.holds({seq}) for c in crowd.readers), CATCH_UP_SECONDS
        )
        await stop_all(crowd)
        return seq, took

    seq, took = asyncio.run(scenario())
    show({"caught_up_took": took} | figures(crowd))
    lacking = [c.name for c in crowd.readers if seq not in c.applied_set]
    assert not lacking, (
        f"{len(lacking)} of {len(crowd.readers)} readers lack the {what} (seq {seq}) "
        f"{CATCH_UP_SECONDS} s after it; {figures(crowd)}"
    )
    return seq


def show(seen: dict[str, Any]) -> None:
    """Print the figures (pytest shows them with a failure, or with ``-s``)."""
    print("figures:", json.dumps(seen, default=str))


def assert_matches_database(crowd: Crowd, outcome: dict[str, Any]) -> None:
    """Zero acknowledged posts lost, zero shown twice, every client converged."""
    show(figures(crowd) | outcome)
    thread = crowd.thread
    log = set(
        ThreadEvent.objects.filter(thread=thread, seq__gt=crowd.start_seq).values_list(
            "seq", flat=True
        )
    )
    published = dict(
        Post.objects.filter(thread=thread, seq__gt=crowd.start_seq).values_list("client_id", "seq")
    )
    acked = {cid: ack["seq"] for p in crowd.posters for cid, ack in p.record.acks.items()}
    made = {cid for p in crowd.posters for cid in p.posted}
    seen = figures(crowd) | outcome
    report = json.dumps(seen, default=str)

    lost = {cid: seq for cid, seq in acked.items() if published.get(cid) != seq or seq not in log}
    assert not lost, f"acknowledged posts not in the database: {lost}; {report}"
    assert set(published) == made, f"posts made and posts stored differ; {report}"
    never_acked = made - set(acked)
    assert not never_acked, f"{len(never_acked)} posts never acknowledged; {report}"

    twice = {
        c.name: c.record.applied
        for c in crowd.clients
        if len(set(c.record.applied)) != len(c.record.applied)
    }
    assert not twice, f"clients that showed a post twice: {sorted(twice)}; {report}"
    behind = {
        c.name: sorted(log - c.applied_set)[:5] for c in crowd.clients if not log <= c.applied_set
    }
    assert not behind, (
        f"{len(behind)} of {len(crowd.clients)} clients lack events of the thread "
        f"{CONVERGE_SECONDS} s after the last ack (first few: {dict(list(behind.items())[:5])}); "
        f"{report}"
    )
    extra = {c.name: sorted(c.applied_set - log) for c in crowd.clients if c.applied_set - log}
    assert not extra, f"clients hold events the database does not: {extra}; {report}"


def server_logs(servers: list[DaphneServer], since: dict[int, int] | None = None) -> str:
    """The servers' whole logs (or what each wrote after the offset in ``since``)."""
    texts = []
    for server in servers:
        data = server.log_path.read_bytes() if server.log_path.exists() else b""
        texts.append(data[(since or {}).get(server.port, 0) :].decode(errors="replace"))
    return "\n".join(texts)


def log_offsets(servers: list[DaphneServer]) -> dict[int, int]:
    return {s.port: s.log_path.stat().st_size if s.log_path.exists() else 0 for s in servers}


def group_members(redis_url: str, prefix: str, group: str) -> int:
    """How many channels the channels_redis group holds (its key: ``<prefix>:group:<group>``)."""
    return redis.Redis.from_url(redis_url).zcard(f"{prefix}:group:{group}")


# --- a. a process crashes under load ------------------------------------------------------------


def test_a_process_killed_under_load_loses_nothing_and_its_clients_converge(daphne_cluster, sam):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    crowd = make_crowd(servers, sam, readers=90, posters=PROCESSES, slug="kill-9")
    victim = servers[1]

    async def scenario() -> dict[str, Any]:
        await open_paced(crowd.clients, PACED_CONNECTS_PER_SECOND)
        synced = crowd.timings["synced"] = await all_synced(crowd.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced before the fault; {figures(crowd)}"
        stop = asyncio.Event()
        posting = asyncio.create_task(post_steadily(crowd.posters, 5.0, stop))
        await asyncio.sleep(3)
        victim.kill()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(victim.start, timeout=60)
        await asyncio.sleep(4)
        stop.set()
        await posting
        return await finish(crowd)

    outcome = asyncio.run(scenario())
    victims = [c for c in crowd.clients if c.server is victim]
    assert all(c.record.reconnects >= 1 for c in victims), figures(crowd)
    assert_matches_database(crowd, outcome)


# --- b. Redis restarts under load ---------------------------------------------------------------


def test_a_redis_restart_under_load_loses_nothing_and_turns_no_post_into_an_error(
    daphne_cluster, own_redis, sam
):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    crowd = make_crowd(servers, sam, readers=90, posters=PROCESSES, slug="redis-restart")

    async def scenario() -> dict[str, Any]:
        await open_paced(crowd.clients, PACED_CONNECTS_PER_SECOND)
        synced = crowd.timings["synced"] = await all_synced(crowd.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced before the fault; {figures(crowd)}"
        stop = asyncio.Event()
        posting = asyncio.create_task(post_steadily(crowd.posters, 5.0, stop))
        await asyncio.sleep(3)
        own_redis.kill()
        await asyncio.sleep(0.3)
        await asyncio.to_thread(own_redis.start)
        await asyncio.sleep(5)
        stop.set()
        await posting
        return await finish(crowd)

    outcome = asyncio.run(scenario())
    assert_matches_database(crowd, outcome)
    # A cache outage (the post rate limit counts in Redis) never turns a valid post into an error.
    errors = [e for c in crowd.posters for e in c.record.errors]
    assert not errors, f"posters got errors: {errors[:5]}; {figures(crowd)}"


# --- c. the last event of a quiet thread is lost ------------------------------------------------


def test_a_dropped_event_of_a_quiet_thread_reaches_every_reader_within_a_heartbeat(
    daphne_cluster, sam
):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    crowd = make_crowd(servers, sam, readers=90, posters=0, slug="dropped")

    def post_without_broadcast() -> int:
        from django.db import connection

        try:
            # The layer is at-most-once: here the one event is lost before it reaches it.
            with mock.patch.object(live, "_send", lambda group, texts: None):
                post, _created = services.post_create(
                    actor=sam, thread=crowd.thread, body="Verloren", client_id="dropped-1"
                )
            return post.seq
        finally:
            connection.close()

    seq = assert_a_lost_event_is_caught_up(crowd, post_without_broadcast, "post")
    assert ThreadEvent.objects.filter(thread=crowd.thread, seq=seq).exists()


# --- d. a quiet thread on Redis keeps its live path -------------------------------------------


def test_posts_after_long_silences_reach_every_reader_live_and_groups_stay_one_per_process(
    daphne_cluster, own_redis, redis_channel_layer, sam
):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    crowd = make_crowd(servers, sam, readers=60, posters=1, slug="quiet")
    # Longer than redis-py's default socket timeout (5 s), which equals channels_redis's
    # blocking-read timeout: the idle subscriber must not take its silence for a failure.
    silences = (5.5, 6.5, 12.0)

    members: dict[str, int] = {}

    async def scenario() -> tuple[list[tuple[float, int, int]], dict[str, Any]]:
        await open_paced(crowd.clients, PACED_CONNECTS_PER_SECOND)
        synced = crowd.timings["synced"] = await all_synced(crowd.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced; {figures(crowd)}"
        poster = crowd.posters[0]
        results = []
        for silence in silences:
            await asyncio.sleep(silence)
            client_id = await poster.post(f"Nach {silence} s Stille")
            await wait_until(lambda cid=client_id: cid in poster.record.acks, ACK_SECONDS)
            seq = poster.record.acks[client_id]["seq"]
            # Every reader holds it soon, live or by a resync; we count the live ones.
            await wait_until(lambda s=seq: all(c.holds({s}) for c in crowd.readers), LIVE_SECONDS)
            live_count = sum(c.got_live(seq) for c in crowd.readers)
            results.append((silence, seq, live_count))
        # Read before the clients leave (the hubs leave the group with their last socket).
        group = f"thread.{crowd.thread.pk}"
        members["thread"] = group_members(own_redis.url, redis_channel_layer, group)
        return results, await finish(crowd)

    results, outcome = asyncio.run(scenario())
    show({"results": results, "members": members} | figures(crowd) | outcome)
    readers = len(crowd.readers)
    missed = [
        (silence, seq, live_count) for silence, seq, live_count in results if live_count < readers
    ]
    assert not missed, (
        "posts after a silence that not every reader got live "
        f"(silence s, seq, readers live of {readers}): {missed}; all: {results}; "
        f"thread group members: {members.get('thread')}; {figures(crowd)}"
    )
    assert members["thread"] == PROCESSES, (
        f"the thread's group has {members['thread']} members for {PROCESSES} processes"
    )
    assert_matches_database(crowd, outcome)


# --- e. a connect burst ------------------------------------------------------------------------


def test_a_connect_burst_ends_with_every_client_connected_and_synced(daphne_cluster, sam):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    crowd = make_crowd(servers, sam, readers=300, posters=0, slug="burst", heartbeat=SLOW_HEARTBEAT)

    async def scenario() -> float | None:
        for client in crowd.clients:  # all at once
            client.start()
        took = await all_synced(crowd.clients, BURST_SECONDS)
        await asyncio.gather(*(c.stop() for c in crowd.clients))
        return took

    took = asyncio.run(scenario())
    seen = figures(crowd) | {"synced_took": took}
    show(seen)
    unsynced = sum(not c.synced.is_set() for c in crowd.clients)
    assert took is not None, f"{unsynced} of 300 not synced after {BURST_SECONDS} s; {seen}"
    # Shedding with 4503 (and a retry hint) is allowed; a handshake that fails or times out is not.
    assert seen["failed_attempts"] == 0, f"handshakes failed; {seen}"


# --- f. a mass disconnect ----------------------------------------------------------------------


def test_a_mass_disconnect_leaves_no_error_and_one_group_member_per_process(
    daphne_cluster, own_redis, redis_channel_layer, sam
):
    servers = daphne_cluster(PROCESSES, extra_env=SERVER_ENV)
    # 300 leave at once; one anchor per process stays, so each group keeps one member per process.
    crowd = make_crowd(
        servers,
        sam,
        readers=300,
        posters=PROCESSES,
        slug="mass-disconnect",
        heartbeat=SLOW_HEARTBEAT,
    )
    anchors = crowd.posters
    # Unevenly, as a proxy may balance: two thirds on the first process. More than 100 sockets
    # leave one process at once, beyond redis-py's default pool of 100 connections.
    for n, reader in enumerate(crowd.readers):
        reader.server = servers[0] if n % 3 else servers[n // 3 % 2 + 1]

    r = redis.Redis.from_url(own_redis.url)
    thread_group = f"thread.{crowd.thread.pk}"

    def members_of(group: str) -> int:
        return r.zcard(f"{redis_channel_layer}:group:{group}")

    def groups() -> dict[str, int]:
        """Every group on the layer with its member count (the issue saw 301 stale keys)."""
        prefix = f"{redis_channel_layer}:group:"
        keys = [k.decode() for k in r.scan_iter(match=f"{prefix}*")]
        return {key.removeprefix(prefix): r.zcard(key) for key in keys}

    # Member groups (access.changed) travel in one layer group that every hub joins once.
    wanted = {thread_group: PROCESSES, live.MEMBERS_LAYER_GROUP: PROCESSES}

    async def scenario() -> tuple[str, dict[str, int], dict[str, int], int]:
        await open_paced(anchors, PACED_CONNECTS_PER_SECOND)
        await all_synced(anchors, BURST_SECONDS)
        # Gently: this test is about leaving, the connect burst is (e)'s.
        await open_paced(crowd.readers, MASS_CONNECTS_PER_SECOND)
        crowd.timings["synced"] = await all_synced(crowd.clients, BURST_SECONDS)
        synced = sum(c.synced.is_set() for c in crowd.clients)
        before = groups()
        offsets = log_offsets(servers)
        await asyncio.gather(*(c.stop() for c in crowd.readers))
        # The servers handle the closes in the background; give them a moment.
        await asyncio.sleep(2)
        logged = server_logs(servers, offsets)
        after = groups()
        await asyncio.gather(*(c.stop() for c in anchors))
        return logged, before, after, synced

    logged, before, after, synced = asyncio.run(scenario())
    show(
        {"groups_before": before, "groups_after": after}
        | {"synced_before_leaving": synced}
        | {"max_connections_errors": logged.count("MaxConnectionsError")}
        | {"tracebacks": logged.count("Traceback")}
        | figures(crowd)
    )
    for marker in ("MaxConnectionsError", "Traceback"):
        assert marker not in logged, f"servers logged {marker}:\n{logged[-3000:]}"
    # 303 sockets of 303 members, and the layer holds two groups of one channel per process,
    # before and after 300 of them leave at once.
    assert before == wanted, before
    assert after == wanted, after
    assert synced == len(crowd.clients), f"only {synced} of {len(crowd.clients)} were connected"
