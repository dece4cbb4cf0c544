"""What a conference socket's frame costs in queries: every frame re-authorises (the session and
member, the conference with its forum, the member's grants where the forum needs them), as a
thread's does (tests/forums/test_frame_cost.py). The sync side is called directly, in the read
pool's place, so the queries can be counted."""

from __future__ import annotations

import inspect

import pytest

from consultations.conferences.consumers import ConferenceConsumer
from forums import services as forum_services
from forums.models import Forum
from tests import factories

pytestmark = pytest.mark.django_db

#: The session with its member, then the conference with its forum and current item.
PING_FRAME_QUERIES = 2
#: In an invited conference the member's grants on its forum are read too, once per frame.
INVITED_PING_FRAME_QUERIES = 3

_handle_read = inspect.getattr_static(ConferenceConsumer, "_handle_read").func


def _consumer(member, conference) -> ConferenceConsumer:
    consumer = ConferenceConsumer()
    consumer.scope = {
        **factories.socket_scope_of(member),
        "url_route": {"kwargs": {"conference_id": conference.pk}},
    }
    consumer.stream_id = conference.pk
    consumer.language = "de"
    return consumer


def test_a_ping_re_authorises_in_two_queries(alice, conference, django_assert_num_queries):
    consumer = _consumer(alice, conference)
    with django_assert_num_queries(PING_FRAME_QUERIES):
        outcome = _handle_read(consumer, "ping", {"type": "ping"}, None)
    assert outcome.frames == [{"type": "pong", "seq": 0}]


def test_a_ping_in_an_invited_conference_reads_the_grants_once(
    alice, sam, conference, django_assert_num_queries
):
    Forum.objects.filter(pk=conference.forum_id).update(visibility=Forum.Visibility.INVITED)
    conference.forum.refresh_from_db()
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=alice, right="view")
    consumer = _consumer(alice, conference)
    with django_assert_num_queries(INVITED_PING_FRAME_QUERIES):
        outcome = _handle_read(consumer, "ping", {"type": "ping"}, None)
    assert outcome.frames[0]["type"] == "pong"


def test_a_resync_at_the_head_reads_no_events(alice, conference, django_assert_num_queries):
    consumer = _consumer(alice, conference)
    with django_assert_num_queries(PING_FRAME_QUERIES):
        outcome = _handle_read(consumer, "resync", {"type": "resync", "after": 0}, None)
    assert outcome.frames == [{"type": "synced", "conference": conference.pk, "seq": 0}]


#: A vote over the socket: the frame's re-authorisation (2), the poll (1), the registration (1),
#: then the vote's transaction: the poll's turnout raised under its row lock (1), the ballot
#: unless there is one (1), the chosen options' counters (1), and the transaction's own two
#: statements (a savepoint pair here; BEGIN and COMMIT on the real socket). It was 13 before the
#: vote stopped reading the options first and inserting the ballot in a savepoint.
VOTE_FRAME_QUERIES = 9

_handle_write = inspect.getattr_static(ConferenceConsumer, "_handle").func


def test_a_vote_frame_costs_a_fixed_number_of_queries(
    alice, chair, conference, agenda, django_assert_num_queries
):
    from consultations.conferences.polls import services as poll_services
    from consultations.conferences.polls.models import Ballot, Poll
    from tests.conferences.polls_support import register

    register(conference, alice)
    poll = poll_services.poll_open(
        actor=chair, conference=conference, item=agenda[0], question="Ja?", kind=Poll.Kind.YES_NO
    )
    yes = poll.options.order_by("position").first()
    consumer = _consumer(alice, conference)
    frame = {"type": "poll.vote", "id": "v", "poll": poll.pk, "options": [yes.pk]}
    with django_assert_num_queries(VOTE_FRAME_QUERIES):
        outcome = _handle_write(consumer, "poll.vote", frame, "v")
    assert outcome.frames == [
        {"type": "ack", "poll": poll.pk, "turnout": {"ballots": 1}, "ref": "v"}
    ]
    assert Ballot.objects.filter(poll=poll, member=alice).count() == 1
