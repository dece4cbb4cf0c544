"""The event catalogue (forums.events) and replay from the log (forums.selectors.events_after)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from forums import events, services
from forums.models import Forum, Post
from forums.selectors import events_after
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def forum(sam):
    return factories.make_forum(actor=sam, slug="mieten")


@pytest.fixture
def thread(forum, bob):
    return factories.make_thread(forum, author=bob, body="Start")


@pytest.fixture
def live(monkeypatch):
    frames: list[dict] = []
    monkeypatch.setattr(
        "deliberation.live._send", lambda group, texts: frames.append(json.loads(texts["member"]))
    )
    return frames


def test_every_builder_round_trips_through_json(alice, sam, thread):
    guest = factories.make_guest(display_name="Frieda", affiliation="fraktion")
    services.forum_grant(actor=sam, forum=thread.forum, member=guest, right="participate")
    first = thread.posts.get()
    post, _ = services.post_create(
        actor=alice, thread=thread, body="**a** & b", reply_to_id=first.pk
    )
    held, _ = services.post_create(actor=guest, thread=thread, body="gehalten")
    built = [
        events.post_payload(post),
        events.post_payload(held, reveal=True),
        events.post_created(post),
        events.post_edited(post),
        events.post_deleted(post),
        events.post_hidden(held),
        events.post_restored(post),
        events.reaction_changed(post),
        events.thread_locked(thread),
        events.thread_pinned(thread),
    ]
    for value in built:
        assert json.loads(json.dumps(value)) == value
    assert {b["type"] for b in built[2:]} == events.TYPES
    assert (
        events.post_payload(held, reveal=True)["author"]["badge"] == "Fraktion"
    )  # German by default


def test_a_post_payload_has_the_documented_keys(alice, thread):
    payload = events.post_payload(thread.posts.get())
    assert set(payload) == {
        "id", "seq", "author", "body_html", "reply_to", "created_at", "edited", "deleted",
        "state", "reactions", "language",
    }  # fmt: skip
    assert set(payload["author"]) == {"id", "display_name", "badge", "affiliation", "badge_label"}


def test_a_deleted_account_shows_no_author(alice, thread):
    post, _ = services.post_create(actor=alice, thread=thread, body="Hallo")
    alice.delete()
    post.refresh_from_db()
    assert events.post_payload(post)["author"] is None


def test_replay_gives_the_same_frames_as_the_live_path(
    alice, mo, thread, live, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post, _ = services.post_create(actor=alice, thread=thread, body="Eins")
        services.reaction_toggle(actor=mo, post=post)
        services.post_create(actor=mo, thread=thread, body="Zwei", reply_to_id=post.pk)
    replayed = events_after(thread=thread, after=1, user=alice)
    assert [(f["type"], f["seq"], f["thread"]) for f in replayed] == [
        (f["type"], f["seq"], f["thread"]) for f in live
    ]
    assert [f["seq"] for f in live] == [2, 3, 4]
    for again, then in zip(replayed, live, strict=True):
        assert set(again) == set(then)
        assert set(again["post"]) == set(then["post"])
    # The replay carries the post as it is now: the agreement that came later is counted.
    assert (live[0]["post"]["reactions"], replayed[0]["post"]["reactions"]) == (0, 1)
    assert replayed[1:] == live[1:]


def test_replay_starts_after_the_given_seq_and_honours_the_limit(alice, thread):
    for n in range(5):
        services.post_create(actor=alice, thread=thread, body=f"Nr. {n}")
    assert [f["seq"] for f in events_after(thread=thread, after=2, user=alice)] == [3, 4, 5, 6]
    assert [f["seq"] for f in events_after(thread=thread, after=0, limit=2, user=alice)] == [1, 2]


def test_replay_shows_a_deleted_post_without_its_text(alice, bob, thread):
    post, _ = services.post_create(actor=alice, thread=thread, body="Geheim")
    services.post_delete(actor=alice, post=post)
    frames = events_after(thread=thread, after=1, user=bob)
    assert [f["type"] for f in frames] == ["post.created", "post.deleted"]
    assert all(f["post"]["body_html"] == "" for f in frames)
    assert "Geheim" not in json.dumps(frames)


def test_replay_hides_a_hidden_posts_text_except_from_its_author_and_moderators(
    alice, bob, mo, sam, thread
):
    services.forum_grant(actor=sam, forum=thread.forum, member=mo, right="moderate")
    post, _ = services.post_create(actor=alice, thread=thread, body="Grenzwertig")
    Post.objects.filter(pk=post.pk).update(state=Post.State.HIDDEN)  # moderation's job, later

    def body_for(user):
        return events_after(thread=thread, after=1, user=user)[0]["post"]["body_html"]

    assert body_for(bob) == ""
    assert body_for(AnonymousUser()) == ""
    assert body_for(alice) == "<p>Grenzwertig</p>"
    assert body_for(mo) == "<p>Grenzwertig</p>"


def test_replay_of_a_public_forum_works_for_anonymous_readers(sam, bob):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.PUBLIC)
    thread = factories.make_thread(forum, author=bob, body="Offen")
    [frame] = events_after(thread=thread, after=0, user=AnonymousUser())
    assert frame["post"]["body_html"] == "<p>Offen</p>"


def test_replay_carries_thread_events(thread, sam):
    services.thread_set_locked(actor=sam, thread=thread, locked=True)
    assert events_after(thread=thread, after=1, user=sam) == [
        {"type": "thread.locked", "seq": 2, "thread": thread.pk, "locked": True}
    ]
