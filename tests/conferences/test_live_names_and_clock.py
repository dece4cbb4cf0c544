"""The conference socket, over the real ASGI stack, for two things the page's scripts rely on:

- A closed named poll's ``poll.closed`` names who chose what for the party's members (the
  stream's privileged audience), live and in a replay; a guest who may read the conference gets
  the same event without the names; a secret poll's and an open poll's events name nobody.
- The speaker's countdown keeps the server's time: ``hello`` carries the server's ``now`` (the
  connection's one clock offset) and ``queue.changed`` carries no time of its own, so an event
  replayed long after it was made gives the same time left as a fresh page. (Before, the event
  carried the ``now`` of its making, and a client that took its offset from it restarted the
  countdown from the full speaking time on every replay or late arrival.)

Personas: alice, bob members, gina a guest allowed to read the conference's forum, carla
(``chair``) chairs it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from consultations.conferences import services as conference_services
from consultations.conferences.polls import services as poll_services
from consultations.conferences.polls.models import Poll
from consultations.conferences.queue import selectors as queue_selectors
from consultations.conferences.queue import services as queue_services
from deliberation import clock as clock_module
from forums import services as forum_services
from tests.clock import FakeClock
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401
from tests.conferences.queue_world import go_live
from tests.conferences.test_consumers import open_socket
from tests.forums.test_consumers import (  # noqa: F401 (_fresh_hub: autouse fixture)
    _fresh_hub,
    next_of,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# --- a named poll's voters ---------------------------------------------------------------------


@pytest.fixture
def readers(conference, agenda, chair, alice, bob, gina, sam):
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="view")
    register(conference, alice)
    register(conference, bob)
    return {"alice": alice, "bob": bob, "gina": gina}


def _poll_with_votes(conference, item, chair, alice, bob, *, secret: bool) -> Poll:
    poll = poll_services.poll_open(
        actor=chair, conference=conference, item=item, question="Q?", kind="yes_no", secret=secret
    )
    poll.conference = conference
    options = {o.code: o.pk for o in poll.options.all()}
    poll_services.poll_vote(actor=bob, poll=poll, option_ids=[options["yes"]])
    poll_services.poll_vote(actor=alice, poll=poll, option_ids=[options["no"]])
    return poll


def voters(event: dict[str, Any]) -> list[Any]:
    return [option.get("voters") for option in event["poll"]["options"]]


async def test_a_closed_named_poll_names_the_voters_to_members_live_never_to_a_guest(
    conference, agenda, chair, readers
):
    alice, bob, gina = readers["alice"], readers["bob"], readers["gina"]
    member_ws, _, _ = await open_socket(conference.pk, await session_cookie(alice))
    guest_ws, _, _ = await open_socket(conference.pk, await session_cookie(gina))
    named = await database_sync_to_async(_poll_with_votes)(
        conference, agenda[0], chair, alice, bob, secret=False
    )
    for ws in (member_ws, guest_ws):  # open: nobody is named, whoever reads
        assert all(v is None for v in voters(await next_of(ws, "poll.opened")))
    await database_sync_to_async(poll_services.poll_close)(actor=chair, poll=named)
    member_event = await next_of(member_ws, "poll.closed")
    guest_event = await next_of(guest_ws, "poll.closed")
    assert voters(member_event) == [["Bob"], ["Alice"], []]
    assert voters(guest_event) == [None, None, None]
    assert member_event["seq"] == guest_event["seq"]
    assert [o["total"] for o in guest_event["poll"]["options"]] == [1, 1, 0]

    secret = await database_sync_to_async(_poll_with_votes)(
        conference, agenda[1], chair, alice, bob, secret=True
    )
    await database_sync_to_async(poll_services.poll_close)(actor=chair, poll=secret)
    for ws in (member_ws, guest_ws):
        event = await next_of(ws, "poll.closed")
        assert event["poll"]["id"] == secret.pk and voters(event) == [None, None, None]
        await ws.disconnect()


async def test_a_replay_names_the_voters_to_members_only(conference, agenda, chair, readers):
    alice, bob, gina = readers["alice"], readers["bob"], readers["gina"]

    def polls() -> None:
        named = _poll_with_votes(conference, agenda[0], chair, alice, bob, secret=False)
        poll_services.poll_close(actor=chair, poll=named)
        secret = _poll_with_votes(conference, agenda[1], chair, alice, bob, secret=True)
        poll_services.poll_close(actor=chair, poll=secret)

    await database_sync_to_async(polls)()
    for reader, names in ((alice, [["Bob"], ["Alice"], []]), (gina, [None, None, None])):
        ws, _, frames = await open_socket(
            conference.pk, await session_cookie(reader), query="after=0"
        )
        closed = [f for f in frames if f["type"] == "poll.closed"]
        assert [voters(f) for f in closed] == [names, [None, None, None]], reader
        assert all(v is None for f in frames if f["type"] == "poll.opened" for v in voters(f)), (
            reader
        )
        await ws.disconnect()


# --- the speaker's countdown -------------------------------------------------------------------


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(clock_module, "clock", fake)
    return fake


def time_left(started_at: str, seconds: int, server_now: str) -> float:
    """What queue.js shows: seconds from started_at, against the server's clock."""
    elapsed = datetime.fromisoformat(server_now) - datetime.fromisoformat(started_at)
    return seconds - elapsed.total_seconds()


async def test_a_replayed_call_counts_down_from_when_the_speaker_was_called(
    conference, agenda, chair, alice, fake_clock
):
    def call() -> None:
        go_live(conference)
        register(conference, alice)
        conference_services.agenda_set_current(actor=chair, conference=conference, item=agenda[0])
        conference.refresh_from_db()
        queue_services.speak_request_create(
            actor=alice,
            conference=conference,
            item=agenda[0],
            kind="contribution",
            sublist="default-1",
        )
        queue_services.speak_request_call_next(actor=chair, conference=conference, item=agenda[0])

    await database_sync_to_async(call)()
    called_at = fake_clock.now()
    fake_clock.advance(timedelta(seconds=100))  # the client comes back 100 s later

    ws, hello, frames = await open_socket(
        conference.pk, await session_cookie(alice), query="after=0"
    )
    # The connection's clock: the server's time at the hello, not at any event's making.
    assert datetime.fromisoformat(hello["now"]) == called_at + timedelta(seconds=100)
    changed = [f for f in frames if f["type"] == "queue.changed"][-1]
    speaker = changed["queue"]["speaking"][-1]
    assert "now" not in changed["queue"]  # no stale time to count from
    assert datetime.fromisoformat(speaker["started_at"]) == called_at
    replayed = time_left(speaker["started_at"], speaker["seconds"], hello["now"])
    # A fresh page (the snapshot read now) shows the same time left: 100 s gone.
    fresh = await database_sync_to_async(queue_selectors.queue_snapshot)(agenda[0])
    fresh_speaker = fresh["speaking"][-1]
    assert replayed == time_left(
        fresh_speaker["started_at"], fresh_speaker["seconds"], fresh["now"]
    )
    assert replayed == speaker["seconds"] - 100
    await ws.disconnect()


def test_the_page_shows_the_time_left_not_the_full_time(
    client, conference, agenda, chair, alice, fake_clock
):
    go_live(conference)
    register(conference, alice)
    conference_services.agenda_set_current(actor=chair, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    queue_services.speak_request_create(
        actor=alice, conference=conference, item=agenda[0], kind="contribution", sublist="default-1"
    )
    queue_services.speak_request_call_next(actor=chair, conference=conference, item=agenda[0])
    fake_clock.advance(timedelta(seconds=100, milliseconds=500))
    client.force_login(alice)
    for address in (f"/konferenzen/{conference.slug}/", f"/konferenzen/{conference.slug}/beamer/"):
        html = client.get(address).text
        countdown = html.split("data-countdown", 1)[1].split("</span>", 1)[0]
        assert countdown.endswith(">1:20"), (address, countdown)  # 180 s - 100.5 s, rounded up
    fake_clock.advance(timedelta(seconds=90))
    html = client.get(f"/konferenzen/{conference.slug}/").text
    assert html.split("data-countdown", 1)[1].split("</span>", 1)[0].endswith(">\u22120:11")
