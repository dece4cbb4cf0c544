"""One vote per member, however the requests race, and an exact count when many vote at once.

Needs PostgreSQL (row locks and unique constraints across connections); skipped on SQLite,
which serialises writers. Run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name>.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from consultations.conferences.polls import services
from consultations.conferences.polls.models import Ballot, Poll
from forums.errors import ServiceError
from tests import factories
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent votes need PostgreSQL (DATABASE_URL=postgres://...)")


def race(actions: list) -> list[str]:
    """Run every action at the same moment, each on its own thread and connection."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            action()
            result = "counted"
        except ServiceError as error:
            result = error.code
        finally:
            thread_connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.fixture
def poll(conference, agenda, chair):
    needs_postgres()
    created = services.poll_open(
        actor=chair, conference=conference, item=agenda[0], question="Wer?", kind="yes_no"
    )
    created.conference = conference
    return created


def test_one_member_submitting_from_many_threads_at_once_is_counted_once(conference, poll, alice):
    register(conference, alice)
    options = list(poll.options.order_by("position"))
    actions = [
        (
            lambda option=options[n % 3]: services.poll_vote(
                actor=alice, poll=poll, option_ids=[option.pk]
            )
        )
        for n in range(12)
    ]
    outcomes = race(actions)
    assert sorted(outcomes) == ["conflict"] * 11 + ["counted"]
    poll.refresh_from_db()
    assert poll.ballots_count == 1
    assert Ballot.objects.filter(poll=poll, member=alice).count() == 1
    assert sum(o.online_count for o in poll.options.all()) == 1


def test_many_members_voting_at_once_are_counted_exactly(conference, poll):
    members = [
        factories.make_member(email=f"m{n}@example.org", display_name=f"M{n}") for n in range(30)
    ]
    for member in members:
        register(conference, member)
    options = list(poll.options.order_by("position"))
    actions = [
        (
            lambda member=member, option=options[n % 3]: services.poll_vote(
                actor=member, poll=poll, option_ids=[option.pk]
            )
        )
        for n, member in enumerate(members)
    ]
    outcomes = race(actions)
    assert outcomes == ["counted"] * 30
    poll.refresh_from_db()
    assert poll.ballots_count == 30 == Ballot.objects.filter(poll=poll).count()
    assert [o.online_count for o in poll.options.order_by("position")] == [10, 10, 10]


def test_a_close_racing_the_votes_leaves_counts_that_match_the_ballots(conference, poll, chair):
    members = [
        factories.make_member(email=f"r{n}@example.org", display_name=f"R{n}") for n in range(15)
    ]
    for member in members:
        register(conference, member)
    yes = poll.options.get(code="yes")
    actions = [
        (lambda member=member: services.poll_vote(actor=member, poll=poll, option_ids=[yes.pk]))
        for member in members
    ]
    actions.append(lambda: services.poll_close(actor=chair, poll=poll))
    outcomes = race(actions)
    assert set(outcomes) <= {"counted", "closed"}
    poll.refresh_from_db()
    assert poll.status == Poll.Status.CLOSED
    counted = outcomes.count("counted") - 1  # the close itself reports "counted"
    assert poll.ballots_count == counted == Ballot.objects.filter(poll=poll).count()
    yes.refresh_from_db()
    assert yes.online_count == counted
