"""Live polls: who may open, vote, count and close (a grid of roles), the kinds, the maximum of
choices, the hall count, results hidden until the close, and the coalesced turnout.

Personas: sam staff, alice and bob members, gina a guest, mo a member who moderates another
forum, carla (``chair``) chairs the conference, olive organises it.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from consultations.conferences import services as conference_services
from consultations.conferences.models import ConferenceEvent, ConferenceRole, Registration
from consultations.conferences.polls import selectors, services, turnout
from consultations.conferences.polls.models import Ballot, NamedChoice, Poll, PollOption
from deliberation import clock as clock_module
from forums.errors import ServiceError
from tests import factories
from tests.clock import FakeClock
from tests.conferences.polls_support import ManualScheduler, register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def olive(conference, sam):
    member = factories.make_member(email="olive@example.org", display_name="Olive")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=member, role=ConferenceRole.Role.ORGANISER
    )
    return member


@pytest.fixture
def mo_moderates_elsewhere(mo, sam):
    from moderation import services as moderation_services

    forum = factories.make_forum(actor=sam)
    moderation_services.moderator_grant(actor=sam, forum=forum, member=mo)
    return mo


def open_poll(conference, agenda, actor, **kwargs):
    kwargs.setdefault("question", "Mietenkampagne?")
    kwargs.setdefault("kind", Poll.Kind.YES_NO)
    poll = services.poll_open(actor=actor, conference=conference, item=agenda[0], **kwargs)
    poll.conference = conference
    return poll


def options(poll):
    return list(poll.options.order_by("position"))


# --- who may open a poll ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("visitor", False),
        ("gina", False),
        ("alice", False),  # a member, not registered
        ("registered", False),
        ("chair", True),
        ("olive", True),
        ("sam", True),
        ("mo_moderates_elsewhere", False),
    ],
)
def test_only_the_chair_organiser_or_staff_open_a_poll(request, conference, agenda, who, allowed):
    if who == "visitor":
        actor = AnonymousUser()
    elif who == "registered":
        actor = request.getfixturevalue("bob")
        register(conference, actor)
    else:
        actor = request.getfixturevalue(who)
    if allowed:
        poll = open_poll(conference, agenda, actor)
        assert poll.is_open and [o.code for o in options(poll)] == ["yes", "no", "abstain"]
    else:
        with pytest.raises(ServiceError) as caught:
            open_poll(conference, agenda, actor)
        assert caught.value.code == "forbidden"
        assert not Poll.objects.exists()


# --- who may vote ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, registered, allowed",
    [
        ("visitor", False, False),
        ("gina", True, False),  # a guest, even with a registration row, never votes
        ("alice", False, False),
        ("alice", True, True),
        ("chair", False, False),
        ("chair", True, True),
        ("olive", False, False),
        ("sam", False, False),
        ("sam", True, True),
        ("mo_moderates_elsewhere", False, False),
        ("mo_moderates_elsewhere", True, True),
    ],
)
def test_only_members_registered_for_the_conference_vote(
    request, conference, agenda, chair, who, registered, allowed
):
    poll = open_poll(conference, agenda, chair)
    actor = AnonymousUser() if who == "visitor" else request.getfixturevalue(who)
    if registered:
        register(conference, actor)
    yes = options(poll)[0]
    if allowed:
        services.poll_vote(actor=actor, poll=poll, option_ids=[yes.pk])
        assert Ballot.objects.filter(poll=poll, member=actor).exists()
        yes.refresh_from_db()
        assert yes.online_count == 1
    else:
        with pytest.raises(ServiceError) as caught:
            services.poll_vote(actor=actor, poll=poll, option_ids=[yes.pk])
        assert caught.value.code == "forbidden"
        assert not Ballot.objects.exists()
        yes.refresh_from_db()
        assert yes.online_count == 0


def test_a_guest_is_told_guests_cannot_vote(conference, agenda, chair, gina):
    poll = open_poll(conference, agenda, chair)
    with pytest.raises(ServiceError) as caught:
        services.poll_vote(actor=gina, poll=poll, option_ids=[options(poll)[0].pk])
    assert "Gäste" in caught.value.message


@pytest.mark.parametrize("who", ["alice", "gina", "mo_moderates_elsewhere", "registered"])
def test_only_the_chair_closes_and_counts_the_hall(request, conference, agenda, chair, who):
    poll = open_poll(conference, agenda, chair)
    if who == "registered":
        actor = request.getfixturevalue("bob")
        register(conference, actor)
    else:
        actor = request.getfixturevalue(who)
    with pytest.raises(ServiceError):
        services.poll_close(actor=actor, poll=poll)
    with pytest.raises(ServiceError):
        services.poll_hall_count(actor=actor, poll=poll, counts={options(poll)[0].pk: 3})
    poll.refresh_from_db()
    assert poll.is_open and not poll.hall_counted
    assert sum(o.hall_count for o in options(poll)) == 0


# --- voting rules ------------------------------------------------------------------------------


def test_a_member_votes_once(conference, agenda, chair, alice):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    yes, no, _ = options(poll)
    services.poll_vote(actor=alice, poll=poll, option_ids=[yes.pk])
    with pytest.raises(ServiceError) as caught:
        services.poll_vote(actor=alice, poll=poll, option_ids=[no.pk])
    assert caught.value.code == "conflict"
    poll.refresh_from_db()
    assert poll.ballots_count == 1
    assert [o.online_count for o in options(poll)] == [1, 0, 0]


def test_the_database_refuses_a_second_ballot_of_a_member(conference, agenda, chair, alice):
    from django.db import IntegrityError, transaction

    poll = open_poll(conference, agenda, chair)
    Ballot.objects.create(poll=poll, member=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(poll=poll, member=alice)


@pytest.mark.parametrize(
    "choice", ["unknown", "other_poll", "two_for_single", "none", "beyond_the_column"]
)
def test_bad_choices_are_refused_and_change_nothing(conference, agenda, chair, alice, choice):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair, kind=Poll.Kind.SINGLE, options=["A", "B"])
    other = services.poll_open(
        actor=chair, conference=conference, item=agenda[1], question="Pflege?", kind="yes_no"
    )
    a, b = options(poll)
    ids = {
        "unknown": [999_999],
        "other_poll": [options(other)[0].pk],
        "two_for_single": [a.pk, b.pk],
        "none": [],
        "beyond_the_column": [2**63],
    }[choice]
    with pytest.raises(ServiceError) as caught:
        services.poll_vote(actor=alice, poll=poll, option_ids=ids)
    assert caught.value.code == "invalid"
    assert not Ballot.objects.exists()
    assert not PollOption.objects.filter(online_count__gt=0).exists()
    poll.refresh_from_db()
    assert poll.ballots_count == 0


def test_multiple_choice_allows_up_to_its_maximum(conference, agenda, chair, alice, bob):
    register(conference, alice)
    register(conference, bob)
    poll = open_poll(
        conference, agenda, chair, kind=Poll.Kind.MULTIPLE, options=["A", "B", "C"], max_choices=2
    )
    a, b, c = options(poll)
    services.poll_vote(actor=alice, poll=poll, option_ids=[a.pk, c.pk])
    with pytest.raises(ServiceError) as caught:
        services.poll_vote(actor=bob, poll=poll, option_ids=[a.pk, b.pk, c.pk])
    assert caught.value.code == "invalid"
    services.poll_vote(actor=bob, poll=poll, option_ids=[c.pk, c.pk])  # a repeat counts once
    assert [o.online_count for o in options(poll)] == [1, 0, 2]
    poll.refresh_from_db()
    assert poll.ballots_count == 2


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"kind": "single", "options": ["Nur eine"]}, "invalid"),
        ({"kind": "single", "options": ["A", "a "]}, "invalid"),
        ({"kind": "single", "options": [str(n) for n in range(21)]}, "invalid"),
        ({"kind": "single", "options": ["A", "B" * 201]}, "too_long"),
        ({"kind": "multiple", "options": ["A", "B"], "max_choices": 3}, "invalid"),
        ({"kind": "multiple", "options": ["A", "B"], "max_choices": 0}, "invalid"),
        ({"kind": "ranked"}, "invalid"),
        ({"question": "   "}, "invalid"),
        ({"question": "x" * 301}, "too_long"),
    ],
)
def test_a_malformed_poll_is_refused(conference, agenda, chair, kwargs, code):
    with pytest.raises(ServiceError) as caught:
        open_poll(conference, agenda, chair, **kwargs)
    assert caught.value.code == code
    assert not Poll.objects.exists() and not ConferenceEvent.objects.exists()


def test_one_open_poll_per_item(conference, agenda, chair):
    open_poll(conference, agenda, chair)
    with pytest.raises(ServiceError) as caught:
        open_poll(conference, agenda, chair)
    assert caught.value.code == "conflict"
    assert Poll.objects.count() == 1


def test_a_closed_poll_takes_no_vote(conference, agenda, chair, alice):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    services.poll_close(actor=chair, poll=poll)
    with pytest.raises(ServiceError) as caught:
        services.poll_vote(actor=alice, poll=poll, option_ids=[options(poll)[0].pk])
    assert caught.value.code == "closed"
    assert not Ballot.objects.exists()
    with pytest.raises(ServiceError):
        services.poll_close(actor=chair, poll=poll)


def test_named_polls_keep_the_choices_secret_polls_do_not(conference, agenda, chair, alice):
    register(conference, alice)
    named = open_poll(conference, agenda, chair, secret=False)
    secret = services.poll_open(
        actor=chair, conference=conference, item=agenda[1], question="Geheim?", kind="yes_no"
    )
    secret.conference = conference
    services.poll_vote(actor=alice, poll=named, option_ids=[options(named)[1].pk])
    services.poll_vote(actor=alice, poll=secret, option_ids=[options(secret)[1].pk])
    assert list(NamedChoice.objects.values_list("ballot__member", "option")) == [
        (alice.pk, options(named)[1].pk)
    ]
    views = selectors.poll_views(alice, conference, [named, secret])
    assert views[0].my_choices == {options(named)[1].pk}
    assert views[1].voted and views[1].my_choices == set()


# --- results, hall count, events ------------------------------------------------------------


def test_results_are_hidden_until_the_close_unless_the_poll_shows_them(
    conference, agenda, chair, alice
):
    register(conference, alice)
    hidden = open_poll(conference, agenda, chair)
    services.poll_vote(actor=alice, poll=hidden, option_ids=[options(hidden)[0].pk])
    snap = selectors.snapshot(Poll.objects.get(pk=hidden.pk))
    assert snap["results_shown"] is False
    assert {o["online"] for o in snap["options"]} == {None}
    assert snap["turnout"] == {"ballots": 1, "eligible": 1}
    opened = ConferenceEvent.objects.get(type="poll.opened").payload
    assert {o["total"] for o in opened["poll"]["options"]} == {None}

    services.poll_close(actor=chair, poll=hidden)
    closed = ConferenceEvent.objects.get(type="poll.closed").payload["poll"]
    assert closed["results_shown"] is True
    assert [o["online"] for o in closed["options"]] == [1, 0, 0]
    assert closed["turnout"] == {"ballots": 1, "eligible": 1}
    json.dumps(closed)

    live = services.poll_open(
        actor=chair,
        conference=conference,
        item=agenda[1],
        question="Live?",
        kind="yes_no",
        live_results=True,
    )
    live.conference = conference
    services.poll_vote(actor=alice, poll=live, option_ids=[options(live)[2].pk])
    snap = selectors.snapshot(Poll.objects.get(pk=live.pk))
    assert snap["results_shown"] is True
    assert [o["online"] for o in snap["options"]] == [0, 0, 1]


def test_the_hall_count_is_shown_apart_and_added_to_the_total(conference, agenda, chair, alice):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    yes, no, _abstain = options(poll)
    services.poll_vote(actor=alice, poll=poll, option_ids=[yes.pk])
    services.poll_hall_count(actor=chair, poll=poll, counts={yes.pk: 10, no.pk: 3})
    services.poll_hall_count(actor=chair, poll=poll, counts={yes.pk: 12, no.pk: 3})  # corrected
    services.poll_close(actor=chair, poll=poll)
    closed = ConferenceEvent.objects.get(type="poll.closed").payload["poll"]
    assert [(o["online"], o["hall"], o["total"]) for o in closed["options"]] == [
        (1, 12, 13),
        (0, 3, 3),
        (0, 0, 0),
    ]
    assert closed["hall_counted"] is True
    assert ConferenceEvent.objects.filter(type="poll.hall_count").count() == 2


@pytest.mark.parametrize("counts", ["unknown_option", "negative", "huge"])
def test_a_bad_hall_count_changes_nothing(conference, agenda, chair, counts):
    poll = open_poll(conference, agenda, chair)
    yes = options(poll)[0]
    bad = {"unknown_option": {-1: 1}, "negative": {yes.pk: -1}, "huge": {yes.pk: 10**9}}[counts]
    with pytest.raises(ServiceError):
        services.poll_hall_count(actor=chair, poll=poll, counts=bad)
    poll.refresh_from_db()
    assert not poll.hall_counted
    assert not ConferenceEvent.objects.filter(type="poll.hall_count").exists()


def test_poll_events_are_seqd_on_the_conference_stream(conference, agenda, chair):
    poll = open_poll(conference, agenda, chair)
    services.poll_hall_count(actor=chair, poll=poll, counts={options(poll)[0].pk: 1})
    services.poll_close(actor=chair, poll=poll)
    rows = list(ConferenceEvent.objects.filter(conference=conference).order_by("seq"))
    assert [(r.seq, r.type) for r in rows] == [
        (1, "poll.opened"),
        (2, "poll.hall_count"),
        (3, "poll.closed"),
    ]
    assert all(r.payload["poll"]["id"] == poll.pk for r in rows)


def test_the_electorate_is_frozen_at_the_close(conference, agenda, chair, alice, bob):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    services.poll_close(actor=chair, poll=poll)
    register(conference, bob)
    poll.refresh_from_db()
    assert selectors.eligible_count(poll) == 1


def test_no_poll_on_an_item_of_another_conference_or_an_archived_one(
    conference, agenda, chair, sam
):
    other = conference_services.conference_create(
        actor=sam,
        title="Andere",
        slug="andere",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
        written_opens_at=timezone.now(),
        written_closes_at=timezone.now() + timedelta(hours=1),
    )
    with pytest.raises(ServiceError):
        services.poll_open(
            actor=sam, conference=other, item=agenda[0], question="x?", kind="yes_no"
        )
    conference.phase = "archived"
    with pytest.raises(ServiceError) as caught:
        open_poll(conference, agenda, chair)
    assert caught.value.code == "closed"


# --- turnout: coalesced ------------------------------------------------------------------------


def test_a_vote_asks_for_a_turnout_frame_after_commit(
    conference,
    agenda,
    chair,
    alice,
    sent_turnouts,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    with django_capture_on_commit_callbacks(execute=True):
        services.poll_vote(actor=alice, poll=poll, option_ids=[options(poll)[0].pk])
    assert sent_turnouts.frames == [(conference.pk, poll.pk)]


def test_a_thousand_votes_in_two_seconds_make_a_handful_of_turnout_frames(monkeypatch):
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(clock_module, "clock", fake)
    sent: list = []
    timers: list = []  # (due, action): the test's stand-in for threading.Timer

    def schedule(delay, action):
        timers.append((fake.now() + timedelta(seconds=delay), action))

    coalescer = turnout.TurnoutCoalescer(
        send=lambda c, p: sent.append(fake.now()), schedule=schedule
    )
    for _ in range(1_000):  # a vote every 2 ms
        coalescer.notify(1, 7)
        fake.advance(timedelta(milliseconds=2))
        for timer in [t for t in timers if t[0] <= fake.now()]:
            timers.remove(timer)
            timer[1]()
    last_vote = fake.now()
    fake.advance(timedelta(milliseconds=250))
    for _due, action in timers:
        action()
    assert 8 <= len(sent) <= 10  # about four a second, not 1,000
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= timedelta(milliseconds=250)
    assert sent[-1] >= last_vote  # the last frame left after the last vote: it carries it


def test_the_trailing_turnout_frame_always_follows_the_last_vote(monkeypatch):
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(clock_module, "clock", fake)
    sent: list[str] = []
    scheduler = ManualScheduler()
    coalescer = turnout.TurnoutCoalescer(send=lambda c, p: sent.append("sent"), schedule=scheduler)
    coalescer.notify(1, 7)  # the first leaves at once
    assert sent == ["sent"] and not scheduler.pending
    fake.advance(timedelta(milliseconds=10))
    coalescer.notify(1, 7)  # too soon: one trailing frame is scheduled for the rest of 250 ms
    coalescer.notify(1, 7)  # rides on the same trailing frame
    assert sent == ["sent"]
    assert [round(delay, 3) for delay, _ in scheduler.pending] == [0.24]
    fake.advance(timedelta(milliseconds=240))
    scheduler.fire_all()
    assert sent == ["sent", "sent"]
    fake.advance(timedelta(milliseconds=300))
    coalescer.notify(1, 7)  # a quarter second later: at once again
    assert sent == ["sent"] * 3 and not scheduler.pending


def test_the_turnout_frame_carries_counts_only_when_results_are_shown(
    conference, agenda, chair, alice, monkeypatch
):
    register(conference, alice)
    poll = open_poll(conference, agenda, chair)
    services.poll_vote(actor=alice, poll=poll, option_ids=[options(poll)[0].pk])
    frames = []
    monkeypatch.setattr(turnout, "broadcast_on_commit", lambda group, event: frames.append(event))
    turnout.send_turnout(conference.pk, poll.pk)
    assert frames[-1]["turnout"] == {"ballots": 1, "eligible": 1}
    assert "options" not in frames[-1] and "seq" not in frames[-1]
    Poll.objects.filter(pk=poll.pk).update(live_results=True)
    turnout.send_turnout(conference.pk, poll.pk)
    assert [o["online"] for o in frames[-1]["options"]] == [1, 0, 0]
    json.dumps(frames)


def test_registrations_count_is_the_electorate(conference, agenda, chair, alice, bob):
    register(conference, alice)
    Registration.objects.create(conference=conference, member=bob, attendance="hall")
    poll = open_poll(conference, agenda, chair)
    assert selectors.snapshot(poll)["turnout"] == {"ballots": 0, "eligible": 2}


def test_the_demo_seeds_a_closed_poll_with_results_on_item_one(conference, agenda, sam, alice, bob):
    from consultations.conferences.polls.demo import seed_polls

    register(conference, alice)
    register(conference, bob)
    poll = seed_polls(conference)
    assert poll is not None and poll.item_id == agenda[0].pk
    assert poll.status == Poll.Status.CLOSED and poll.ballots_count == 2
    assert sum(o.total for o in poll.options.all()) == 2 + 23 + 4 + 2
    assert seed_polls(conference) is None  # idempotent
