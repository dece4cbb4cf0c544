"""What one websocket frame costs in queries (the live write path, docs/PERFORMANCE.md).

Each frame re-authorises (the session and member, the thread, the member's grants) before the
service writes. The sync side of the consumer is called directly, in the database thread's
place, so the queries can be counted; the full ASGI path is tested in test_consumers.py.
"""

from __future__ import annotations

import inspect

import pytest

from forums import services
from forums.consumers import ThreadConsumer
from forums.models import Forum
from tests import factories

pytestmark = pytest.mark.django_db

#: Before the write path was trimmed (measured with these tests): a post frame took 20 queries
#: (26 where the rights come from a grant), a ping 5. The thread, its forum and the member's
#: grants are one query since issue #8's connect work (13 and 3 before it).
POST_FRAME_QUERIES = 12
PING_FRAME_QUERIES = 2

#: The sync side of a write frame (the base consumer's, :mod:`deliberation.stream_consumer`).
_handle = inspect.getattr_static(ThreadConsumer, "_handle").func


def _consumer(member, thread) -> ThreadConsumer:
    consumer = ThreadConsumer()
    consumer.scope = {
        **factories.socket_scope_of(member),
        "url_route": {"kwargs": {"thread_id": thread.pk}},
    }
    consumer.thread_id = thread.pk
    consumer.language = "de"
    return consumer


@pytest.fixture
def thread(sam, alice):
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten")
    return services.thread_create(actor=alice, forum=forum, title="Mietendeckel", body="Erster")


def test_a_post_frame_costs_a_fixed_number_of_queries(alice, thread, django_assert_num_queries):
    consumer = _consumer(alice, thread)
    first = {"type": "post.create", "client_id": "warm", "body": "Vorweg"}
    _handle(consumer, "post.create", first, "warm")  # caches of the process (content types)
    frame = {"type": "post.create", "client_id": "c-1", "body": "Wie hoch ist eure Miete?"}
    with django_assert_num_queries(POST_FRAME_QUERIES):
        outcome = _handle(consumer, "post.create", frame, "c-1")
    (ack,) = outcome.frames
    assert (ack["type"], ack["client_id"], ack["state"]) == ("ack", "c-1", "published")
    # A retry with the same client id finds the post and writes nothing new.
    again = _handle(consumer, "post.create", frame, "c-1")
    assert again.frames[0]["post"] == ack["post"]
    assert thread.posts.filter(client_id="c-1").count() == 1


def test_a_ping_frame_re_authorises_in_two_queries(alice, thread, django_assert_num_queries):
    consumer = _consumer(alice, thread)
    with django_assert_num_queries(PING_FRAME_QUERIES):
        outcome = _handle(consumer, "ping", {"type": "ping"}, None)
    assert outcome.frames[0]["type"] == "pong"


def test_the_frame_cost_holds_in_an_invited_forum(alice, sam, django_assert_num_queries):
    # Here the member's rights come from a grant: read once for the whole frame.
    forum = services.forum_create(
        actor=sam, title="Ratschlag", slug="ratschlag", visibility=Forum.Visibility.INVITED
    )
    services.forum_grant(actor=sam, forum=forum, member=alice, right="participate")
    thread = services.thread_create(actor=sam, forum=forum, title="T", body="B")
    consumer = _consumer(alice, thread)
    _handle(consumer, "post.create", {"type": "post.create", "client_id": "w", "body": "x"}, "w")
    frame = {"type": "post.create", "client_id": "i-1", "body": "Eingeladen"}
    with django_assert_num_queries(POST_FRAME_QUERIES):
        outcome = _handle(consumer, "post.create", frame, "i-1")
    assert outcome.frames[0]["type"] == "ack"


#: A connect's reads: the auth middleware reads the session (with its expiry) and the member;
#: the access check reads the thread, its forum and the member's grants in one query; hello
#: reads the thread's head. (Before issue #8 the connect read the member, the thread and the
#: grants twice, in four hops; then 6 queries; now 4, in three hops, none of them compiled by
#: the ORM.)
MIDDLEWARE_QUERIES = 2
CONNECT_QUERIES = 2

_authorise = ThreadConsumer._authorise_connect_sync
_hello = ThreadConsumer._hello_sync


def _connected(member, thread, django_assert_num_queries):
    """A consumer whose scope the auth middleware filled, counted."""
    from deliberation.hub import Hub
    from deliberation.socket_auth import _member_of_session

    consumer = _consumer(member, thread)
    with django_assert_num_queries(MIDDLEWARE_QUERIES):
        consumer.scope["user"] = _member_of_session(consumer.scope)
    consumer.hub = Hub()
    consumer.group = f"thread.{thread.pk}"
    return consumer


def test_a_connect_reads_what_it_needs_once(alice, thread, django_assert_num_queries):
    _authorise(_connected(alice, thread, django_assert_num_queries))  # the process's caches
    consumer = _connected(alice, thread, django_assert_num_queries)
    assert consumer.scope["user"] == alice
    with django_assert_num_queries(CONNECT_QUERIES):
        info = _authorise(consumer)
        outcome = _hello(consumer, info, None)
    hello, synced = outcome.frames
    assert (hello["type"], hello["seq"], hello["can_post"]) == ("hello", thread.last_seq, True)
    assert synced == {"type": "synced", "thread": thread.pk, "seq": thread.last_seq}
    assert info["expires"] is not None
    assert "session_expires" not in consumer.scope  # taken once; later checks read it anew


def test_a_connect_at_the_head_replays_nothing_and_reads_nothing_more(
    alice, thread, django_assert_num_queries
):
    consumer = _connected(alice, thread, django_assert_num_queries)
    with django_assert_num_queries(CONNECT_QUERIES):
        info = _authorise(consumer)
        outcome = _hello(consumer, info, thread.last_seq)
    assert [frame["type"] for frame in outcome.frames] == ["hello", "synced"]
    assert outcome.texts == []


def test_a_connect_behind_the_head_replays_without_reading_the_grants_again(
    alice, thread, django_assert_num_queries
):
    services.post_create(actor=alice, thread=thread, body="Nachgereicht")
    thread.refresh_from_db()
    consumer = _connected(alice, thread, django_assert_num_queries)
    with django_assert_num_queries(CONNECT_QUERIES + 1):  # the replay's own query
        info = _authorise(consumer)
        outcome = _hello(consumer, info, thread.last_seq - 1)
    assert [frame["type"] for frame in outcome.frames] == ["hello", "synced"]
    (replayed,) = outcome.texts
    assert '"Nachgereicht' in replayed or "Nachgereicht" in replayed
