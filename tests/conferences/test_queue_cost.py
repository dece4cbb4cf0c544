"""What a speaker-queue write costs (issue 11's queue burst): the ask reads the queue once, its
``queue.changed`` snapshot is derived from that reading and is exactly the snapshot a
straightforward full read gives, and the ask's queries do not grow with the queue's length."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consultations.conferences.models import ConferenceEvent
from consultations.conferences.queue import selectors, services
from consultations.conferences.queue.models import SpeakerList, SpeakRequest, SubList
from deliberation import clock as deliberation_clock
from tests import factories
from tests.clock import FakeClock
from tests.conferences.queue_world import *  # noqa: F403 (fixtures)
from tests.conferences.queue_world import register

pytestmark = pytest.mark.django_db

Kind = SpeakRequest.Kind
State = SpeakRequest.State
QUOTA, OPEN = "default-0", "default-1"


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(deliberation_clock, "clock", fake)
    return fake


# --- the reference: the snapshot as it was computed before the queue was made cheap ----------


def reference_snapshot(item) -> dict[str, Any]:
    """Every entry as a full model instance, every started turn of the conference counted."""
    speaker_list = SpeakerList.objects.filter(item=item).first()
    lanes = selectors.lanes_of(item)
    live = list(
        SpeakRequest.objects.filter(item=item, state__in=[State.WAITING, State.SPEAKING])
        .select_related("member")
        .order_by("position", "pk")
    )
    spoken = {
        selectors.speaker_key(e)
        for e in SpeakRequest.objects.filter(item=item, started_at__isnull=False)
    }
    speaking = sorted(
        (e for e in live if e.state == State.SPEAKING),
        key=lambda e: (e.kind == Kind.INTERPOSITION, e.started_at or e.created_at),
    )
    main = next((e for e in speaking if e.kind != Kind.INTERPOSITION), None)
    last = speaker_list.last_sublist_id if speaker_list else None
    waiting, next_lane = selectors.call_order(
        (e for e in live if e.state == State.WAITING),
        lanes=lanes,
        last_lane=str(last) if last is not None else None,
        first_time_priority=bool(speaker_list and speaker_list.first_time_priority),
        spoken=spoken,
        current_id=main.pk if main else None,
    )
    totals: dict[tuple[str, Any], tuple[int, int]] = {}
    for e in SpeakRequest.objects.filter(
        item__conference_id=item.conference_id, started_at__isnull=False
    ):
        count, seconds = totals.get(selectors.speaker_key(e), (0, 0))
        if e.finished_at is not None:
            seconds += max(0, int((e.finished_at - e.started_at).total_seconds()))
        totals[selectors.speaker_key(e)] = (count + 1, seconds)
    by_key = {lane.key: lane for lane in lanes}

    def payload(e: SpeakRequest) -> dict[str, Any]:
        count, seconds = totals.get(selectors.speaker_key(e), (0, 0))
        lane = by_key.get(str(e.sublist_id)) if e.sublist_id else None
        if lane is None and e.sublist_id is not None:
            lane = selectors.Lane.of(SubList.objects.get(pk=e.sublist_id))
        return {
            "id": e.pk,
            "name": e.member.display_name if e.member_id else e.name,
            "member": e.member_id,
            "kind": e.kind,
            "sublist": lane.key if lane else None,
            "sublist_short": lane.short if lane else None,
            "parent": e.parent_id,
            "state": e.state,
            "first_time": selectors.speaker_key(e) not in spoken,
            "count": count,
            "seconds_total": seconds,
            "started_at": e.started_at.isoformat() if e.started_at else None,
            "seconds": e.seconds,
        }

    current = speaking[-1] if speaking else None
    return {
        "item": item.pk,
        "open": speaker_list.is_open if speaker_list else True,
        "first_time_priority": speaker_list.first_time_priority if speaker_list else False,
        "sublists": [{"key": ln.key, "name": ln.name, "short": ln.short} for ln in lanes],
        "next_sublist": next_lane,
        "speaking": [payload(e) for e in speaking],
        "current": current.pk if current else None,
        "entries": [payload(e) for e in waiting],
        "default_seconds": item.speaking_seconds,
    }


def as_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def told(monkeypatch) -> list[dict[str, Any]]:
    """Every event the queue's services record, exactly as built (PostgreSQL's jsonb would
    reorder the stored payload's keys)."""
    events: list[dict[str, Any]] = []
    record = services.live.record_and_broadcast

    def spy(conference, event):
        events.append(json.loads(json.dumps(event)))
        return record(conference, event)

    monkeypatch.setattr(services.live, "record_and_broadcast", spy)
    return events


def last_event_queue(conference) -> dict[str, Any]:
    event = ConferenceEvent.objects.filter(conference=conference).latest("seq")
    assert event.type == "queue.changed"
    return event.payload["queue"]


def assert_told_exactly(told, item) -> None:
    expected = as_bytes(json.loads(json.dumps(reference_snapshot(item))))
    assert told[-1]["type"] == "queue.changed"
    assert as_bytes(told[-1]["queue"]) == expected
    read = selectors.queue_snapshot(item)
    # The page's read adds the server's time now; the event has none (it is replayed later).
    assert read.pop("now") == deliberation_clock.now().isoformat()
    assert as_bytes(json.loads(json.dumps(read))) == expected


def ask(conference, item, member, kind=Kind.CONTRIBUTION, sublist=OPEN):
    return services.speak_request_create(
        actor=member, conference=conference, item=item, kind=kind, sublist=sublist
    )


def hall(conference, item, chair, name, kind=Kind.CONTRIBUTION, sublist=QUOTA):
    return services.speak_request_add_hall(
        actor=chair, conference=conference, item=item, name=name, kind=kind, sublist=sublist
    )


def members(conference, count: int, prefix: str = "p") -> list:
    people = [
        factories.make_member(email=f"{prefix}{i}@example.org", display_name=f"{prefix.upper()}{i}")
        for i in range(count)
    ]
    register(conference, *people)
    return people


# --- the snapshot is unchanged ----------------------------------------------------------------


def test_every_write_tells_exactly_the_snapshot_a_full_read_gives_on_a_varied_queue(
    conference, agenda, live_item, speakers, chair, fake_clock, told
):
    people = members(conference, 8)
    # Turns on another item of the conference count beside the names.
    other = agenda[1]
    SpeakRequest.objects.create(
        item=other,
        member=people[0],
        kind=Kind.CONTRIBUTION,
        state=State.DONE,
        position=1,
        created_at=fake_clock.now(),
        started_at=fake_clock.now() - timedelta(seconds=95, microseconds=600_000),
        finished_at=fake_clock.now(),
    )
    SpeakRequest.objects.create(
        item=other,
        name="Hallen-Hanna",
        kind=Kind.QUESTION,
        state=State.DONE,
        position=2,
        created_at=fake_clock.now(),
        started_at=fake_clock.now() - timedelta(seconds=30),
        finished_at=fake_clock.now(),
    )
    ask(conference, live_item, speakers["alice"], sublist=QUOTA)  # stores the defaults
    assert_told_exactly(told, live_item)
    ask(conference, live_item, people[0], sublist=OPEN)
    assert_told_exactly(told, live_item)
    hall(conference, live_item, chair, "hallen-HANNA")
    assert_told_exactly(told, live_item)
    ask(conference, live_item, speakers["bob"], kind=Kind.POINT_OF_ORDER)
    assert_told_exactly(told, live_item)
    for person, key in zip(people[1:5], [QUOTA, OPEN, OPEN, QUOTA], strict=True):
        ask(conference, live_item, person, sublist=key)
        assert_told_exactly(told, live_item)
    services.speaker_list_set_priority(
        actor=chair, conference=conference, item=live_item, first_time=True
    )
    assert_told_exactly(told, live_item)
    # Somebody speaks; an interposed question to them, the main speaker's turn ends later.
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    fake_clock.advance(timedelta(seconds=40))
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    assert_told_exactly(told, live_item)
    speaking = selectors.queue_state(live_item).main_speaker
    asker = next(p for p in people if p.pk != speaking.member_id)
    ask(conference, live_item, asker, kind=Kind.INTERPOSITION)
    assert_told_exactly(told, live_item)
    fake_clock.advance(timedelta(seconds=20))
    # An item of its own sub-lists: earlier entries keep their (no longer listed) sub-list.
    services.sublist_create(
        actor=chair, conference=conference, item=live_item, name="Jugend", short="jung"
    )
    assert_told_exactly(told, live_item)
    ask(conference, live_item, people[5], sublist=selectors.lanes_of(live_item)[2].key)
    assert_told_exactly(told, live_item)
    hall(conference, live_item, chair, "Ömer", sublist=selectors.lanes_of(live_item)[0].key)
    assert_told_exactly(told, live_item)
    ask(conference, live_item, speakers["mo"], kind=Kind.POINT_OF_ORDER)
    assert_told_exactly(told, live_item)
    services.speaker_list_set_open(
        actor=chair, conference=conference, item=live_item, is_open=False
    )
    ask(conference, live_item, speakers["dana"], kind=Kind.POINT_OF_ORDER)
    assert_told_exactly(told, live_item)
    snapshot = last_event_queue(conference)
    assert len(snapshot["entries"]) >= 10
    assert {e["kind"] for e in snapshot["entries"]} >= {
        Kind.POINT_OF_ORDER,
        Kind.CONTRIBUTION,
        Kind.INTERPOSITION,
    }
    assert any(e["count"] and e["seconds_total"] for e in snapshot["entries"])


def test_a_refused_ask_still_changes_nothing(conference, live_item, speakers):
    ask(conference, live_item, speakers["alice"])
    seq = ConferenceEvent.objects.filter(conference=conference).latest("seq").seq
    with pytest.raises(services.ServiceError):
        ask(conference, live_item, speakers["alice"], kind=Kind.QUESTION)
    assert ConferenceEvent.objects.filter(conference=conference).latest("seq").seq == seq
    assert SpeakRequest.objects.filter(item=live_item).count() == 1


# --- the ask's cost does not grow with the queue ----------------------------------------------


@pytest.mark.parametrize("waiting", [5, 100])
def test_an_ask_takes_the_same_few_queries_whatever_the_queue_length(
    conference, live_item, chair, waiting, django_assert_max_num_queries
):
    people = members(conference, waiting + 1)
    for i, person in enumerate(people[:waiting]):
        ask(conference, live_item, person, sublist=QUOTA if i % 2 else OPEN)
    # Some have spoken already, so their counts are read too.
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    with django_assert_max_num_queries(15):
        ask(conference, live_item, people[-1], sublist=QUOTA)
    assert len(last_event_queue(conference)["entries"]) == waiting - 1
