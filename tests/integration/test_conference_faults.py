"""The conference stream under the thread's faults, on the production engines (issue 11).

The conference speaks the thread's protocol through the same base consumer, so it must pass the
same tests as a thread (``test_faults.py``): a daphne process killed with SIGKILL while events
flow, the last event of a quiet stream lost on the way, and events after long silences on Redis.
Real PostgreSQL, a Redis of each test's own, three daphne processes, 60 to 90 protocol clients
(``liveclient.py`` on ``/ws/conferences/<pk>/``). Where the thread tests' posters post, here the
chair moves through the agenda (``agenda_set_current``, alternating two items: one event each),
called in this process, whose channel layer is the servers' Redis. Each test ends by comparing
what every client holds with the conference's outbox. Run here with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m pytest tests/integration/test_conference_faults.py
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from consultations.conferences import services
from consultations.conferences.models import AgendaItem, Conference, ConferenceEvent
from deliberation import live
from tests import factories
from tests.integration.liveclient import LiveClient
from tests.integration.test_faults import (  # noqa: F401 (redis_url: the test's own Redis)
    BURST_SECONDS,
    CATCH_UP_SECONDS,
    CONVERGE_SECONDS,
    HEARTBEAT,
    LIVE_SECONDS,
    PACED_CONNECTS_PER_SECOND,
    PROCESSES,
    all_synced,
    assert_a_lost_event_is_caught_up,
    figures,
    group_members,
    open_paced,
    redis_url,
    show,
    stop_all,
    wait_until,
)
from tests.servers import DaphneServer, RedisServer

pytestmark = pytest.mark.integration

#: How often the chair moves to the other item while a fault happens (the posters' rate).
MOVES_PER_SECOND = 5.0


@dataclass
class Audience:
    """A conference, its two agenda items, and readers spread over the servers."""

    conference: Conference
    items: list[AgendaItem]
    start_seq: int
    readers: list[LiveClient]
    timings: dict[str, float | None] = field(default_factory=dict)
    moves: int = 0

    @property
    def clients(self) -> list[LiveClient]:
        return self.readers

    #: No client of a conference posts (the shared report counts posters).
    posters: list[LiveClient] = field(default_factory=list)


def make_audience(servers: list[DaphneServer], staff: Any, *, readers: int, slug: str) -> Audience:
    """A members' conference (staff chairs it) and members reading it, round-robin."""
    now = timezone.now()
    conference = services.conference_create(
        actor=staff,
        title=f"Konferenz {slug}",
        slug=slug,
        starts_at=now,
        ends_at=now + timedelta(hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
    )
    items = [
        services.agenda_item_create(actor=staff, conference=conference, title="Mieten"),
        services.agenda_item_create(actor=staff, conference=conference, title="Pflege"),
    ]
    conference.refresh_from_db()

    def client(index: int) -> LiveClient:
        member = factories.make_member(password=None, display_name=f"reader-{index}")
        return LiveClient(
            f"reader-{index}",
            servers[index % len(servers)],
            conference.pk,
            cookie=factories.session_cookie_of(member),
            last_seq=conference.last_seq,
            heartbeat=HEARTBEAT,
            stream="conferences",
        )

    return Audience(
        conference=conference,
        items=items,
        start_seq=conference.last_seq,
        readers=[client(i) for i in range(readers)],
    )


def move(audience: Audience, staff: Any) -> int:
    """The chair moves to the other item (one ``agenda.current``); returns its seq."""
    from django.db import connection

    try:
        item = audience.items[audience.moves % 2]
        audience.moves += 1
        services.agenda_set_current(actor=staff, conference=audience.conference, item=item)
        return Conference.objects.values_list("last_seq", flat=True).get(pk=audience.conference.pk)
    finally:
        connection.close()


async def move_steadily(audience: Audience, staff: Any, stop: asyncio.Event) -> int:
    n = 0
    while not stop.is_set():
        await asyncio.to_thread(move, audience, staff)
        n += 1
        await asyncio.sleep(1 / MOVES_PER_SECOND)
    return n


def outbox(audience: Audience) -> set[int]:
    return set(
        ConferenceEvent.objects.filter(
            conference=audience.conference, seq__gt=audience.start_seq
        ).values_list("seq", flat=True)
    )


async def finish(audience: Audience) -> dict[str, Any]:
    """Wait until every client holds the outbox, then stop them. Returns the figures."""
    expected = await asyncio.to_thread(_outbox_closing, audience)
    took = await wait_until(
        lambda: all(c.holds(expected) for c in audience.clients), CONVERGE_SECONDS
    )
    await stop_all(audience)
    return {"events": len(expected), "converged_took": took}


def _outbox_closing(audience: Audience) -> set[int]:
    from django.db import connection

    try:
        return outbox(audience)
    finally:
        connection.close()


def assert_matches_outbox(audience: Audience, outcome: dict[str, Any]) -> None:
    """Every event held by every client, none twice, none that the outbox lacks."""
    seen = figures(audience) | outcome
    show(seen)
    report = json.dumps(seen, default=str)
    log = outbox(audience)
    assert len(log) == audience.moves, f"{audience.moves} moves, {len(log)} events; {report}"
    assert log == set(range(audience.start_seq + 1, audience.start_seq + 1 + len(log))), report
    clients = audience.clients
    twice = [c.name for c in clients if len(set(c.record.applied)) != len(c.record.applied)]
    assert not twice, f"clients that applied an event twice: {twice}; {report}"
    behind = {c.name: sorted(log - c.applied_set)[:5] for c in clients if not log <= c.applied_set}
    assert not behind, (
        f"{len(behind)} of {len(audience.clients)} clients lack events of the conference "
        f"{CONVERGE_SECONDS} s after the last one (first few: {dict(list(behind.items())[:5])}); "
        f"{report}"
    )
    extra = {c.name: sorted(c.applied_set - log) for c in audience.clients if c.applied_set - log}
    assert not extra, f"clients hold events the outbox does not: {extra}; {report}"


# --- a. a process crashes while the chair moves through the agenda ------------------------------


def test_a_process_killed_while_the_agenda_moves_loses_nothing_and_its_clients_converge(
    daphne_cluster, sam
):
    servers = daphne_cluster(PROCESSES)
    audience = make_audience(servers, sam, readers=90, slug="kill-9-konferenz")
    victim = servers[1]

    async def scenario() -> dict[str, Any]:
        await open_paced(audience.clients, PACED_CONNECTS_PER_SECOND)
        synced = audience.timings["synced"] = await all_synced(audience.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced before the fault; {figures(audience)}"
        stop = asyncio.Event()
        moving = asyncio.create_task(move_steadily(audience, sam, stop))
        await asyncio.sleep(3)
        victim.kill()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(victim.start, timeout=60)
        await asyncio.sleep(4)
        stop.set()
        await moving
        return await finish(audience)

    outcome = asyncio.run(scenario())
    victims = [c for c in audience.clients if c.server is victim]
    assert all(c.record.reconnects >= 1 for c in victims), figures(audience)
    assert_matches_outbox(audience, outcome)


# --- c. the last event of a quiet conference is lost --------------------------------------------


def test_a_dropped_event_of_a_quiet_conference_reaches_every_reader_within_a_heartbeat(
    daphne_cluster, sam
):
    servers = daphne_cluster(PROCESSES)
    audience = make_audience(servers, sam, readers=90, slug="verloren-konferenz")

    def move_without_broadcast() -> int:
        # The layer is at-most-once: here the one event is lost before it reaches it.
        with mock.patch.object(live, "_send", lambda group, texts: None):
            return move(audience, sam)

    seq = assert_a_lost_event_is_caught_up(audience, move_without_broadcast, "event")
    assert ConferenceEvent.objects.filter(conference=audience.conference, seq=seq).exists()


# --- d. a quiet conference on Redis keeps its live path -----------------------------------------


def test_events_after_long_silences_reach_every_reader_live_and_groups_stay_one_per_process(
    daphne_cluster, own_redis: RedisServer, redis_channel_layer, sam
):
    servers = daphne_cluster(PROCESSES)
    audience = make_audience(servers, sam, readers=60, slug="stille-konferenz")
    # Longer than redis-py's default socket timeout (5 s), which equals channels_redis's
    # blocking-read timeout: the idle subscriber must not take its silence for a failure.
    silences = (5.5, 6.5, 12.0)
    members: dict[str, int] = {}

    async def scenario() -> tuple[list[tuple[float, int, int]], dict[str, Any]]:
        await open_paced(audience.clients, PACED_CONNECTS_PER_SECOND)
        synced = audience.timings["synced"] = await all_synced(audience.clients, BURST_SECONDS)
        assert synced is not None, f"not all synced; {figures(audience)}"
        results = []
        for silence in silences:
            await asyncio.sleep(silence)
            seq = await asyncio.to_thread(move, audience, sam)
            # Every reader holds it soon, live or by a resync; we count the live ones.
            await wait_until(
                lambda s=seq: all(c.holds({s}) for c in audience.readers), LIVE_SECONDS
            )
            results.append((silence, seq, sum(c.got_live(seq) for c in audience.readers)))
        # Read before the clients leave (the hubs leave the group with their last socket).
        group = live.group_name("conference", audience.conference.pk)
        members["conference"] = group_members(own_redis.url, redis_channel_layer, group)
        return results, await finish(audience)

    results, outcome = asyncio.run(scenario())
    show({"results": results, "members": members} | figures(audience) | outcome)
    readers = len(audience.readers)
    missed = [(silence, seq, n) for silence, seq, n in results if n < readers]
    assert not missed, (
        "events after a silence that not every reader got live "
        f"(silence s, seq, readers live of {readers}): {missed}; all: {results}; "
        f"{figures(audience)}"
    )
    assert members["conference"] == PROCESSES, (
        f"the conference's group has {members['conference']} members for {PROCESSES} processes"
    )
    assert_matches_outbox(audience, outcome)
