"""The speaker queue under concurrent writers, with real threads on PostgreSQL.

Needs PostgreSQL (row locks across connections): run the suite with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/test. Skipped on SQLite (which serialises
writers and proves nothing here) on a laptop; fails under CI=true.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from consultations.conferences import services as conference_services
from consultations.conferences.models import Conference, ConferenceEvent, ConferenceRole
from consultations.conferences.queue import selectors, services
from consultations.conferences.queue.models import SpeakRequest
from forums.errors import ServiceError
from tests import factories
from tests.conferences.queue_world import fast_hashing, go_live, register  # noqa: F401
from tests.conftest import require

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgres() -> None:
    require(
        connection.vendor == "postgresql",
        "concurrent row locks need PostgreSQL (DATABASE_URL=postgres://...)",
    )


def _run(workers: list, *, timeout: float = 60) -> None:
    threads = [threading.Thread(target=w) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads)


def _closing(fn):
    def wrapped():
        from django.db import connection as thread_connection

        try:
            fn()
        finally:
            thread_connection.close()

    return wrapped


@pytest.fixture
def live_item(conference, agenda, chair):
    go_live(conference)
    conference_services.agenda_set_current(actor=chair, conference=conference, item=agenda[0])
    return agenda[0]


def test_fifty_concurrent_requests_leave_no_duplicate_and_lose_none(conference, live_item):
    _needs_postgres()
    members = [
        factories.make_member(email=f"m{i}@example.org", display_name=f"M{i}") for i in range(50)
    ]
    register(conference, *members)
    barrier = threading.Barrier(50)
    errors: list[str] = []

    def asker(member, twice):
        def run():
            barrier.wait()
            for _ in range(2 if twice else 1):
                try:
                    services.speak_request_create(
                        actor=member,
                        conference=Conference.objects.get(pk=conference.pk),
                        item=live_item,
                        kind="contribution",
                        sublist=f"default-{member.pk % 2}",
                    )
                except ServiceError as error:
                    errors.append(error.code)

        return _closing(run)

    # Every fifth member presses twice: the second press must be refused, not doubled.
    _run([asker(m, i % 5 == 0) for i, m in enumerate(members)])
    rows = SpeakRequest.objects.filter(item=live_item, state="waiting")
    assert rows.count() == 50
    assert Counter(rows.values_list("member_id", flat=True)).most_common(1)[0][1] == 1
    assert errors == ["conflict"] * 10
    snapshot = selectors.queue_snapshot(live_item)
    assert sorted(e["member"] for e in snapshot["entries"]) == sorted(m.pk for m in members)
    # One queue.changed per accepted request, with a gap-free seq.
    seqs = list(
        ConferenceEvent.objects.filter(conference=conference)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    assert ConferenceEvent.objects.filter(type="queue.changed").count() == 50


def test_two_chairs_calling_next_at_once_never_call_the_same_entry_twice(
    conference, live_item, chair, sam
):
    _needs_postgres()
    second_chair = factories.make_member(email="cleo@example.org", display_name="Cleo")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=second_chair, role=ConferenceRole.Role.CHAIR
    )
    members = [
        factories.make_member(email=f"s{i}@example.org", display_name=f"S{i}") for i in range(6)
    ]
    register(conference, *members)
    for i, member in enumerate(members):
        services.speak_request_create(
            actor=member,
            conference=conference,
            item=live_item,
            kind="contribution",
            sublist=f"default-{i % 2}",
        )
    for _round in range(3):
        barrier = threading.Barrier(2)
        called: list[int | None] = []

        def caller(actor, barrier=barrier, called=called):
            def run():
                barrier.wait()
                entry = services.speak_request_call_next(
                    actor=actor,
                    conference=Conference.objects.get(pk=conference.pk),
                    item=live_item,
                )
                called.append(entry.pk if entry else None)

            return _closing(run)

        _run([caller(chair), caller(second_chair)])
        assert len(called) == 2 and called[0] != called[1]
    started = SpeakRequest.objects.filter(item=live_item, started_at__isnull=False)
    assert started.count() == 6
    assert SpeakRequest.objects.filter(item=live_item, state="speaking").count() == 1
    assert SpeakRequest.objects.filter(item=live_item, state="waiting").count() == 0
