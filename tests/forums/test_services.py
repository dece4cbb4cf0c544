"""forums.services: every rule, its error code, and the event each change sends after commit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from forums import events, services
from forums.errors import ServiceError
from forums.models import Forum, Post, PostRevision, Reaction, Thread, ThreadEvent, ThreadVisit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # Fast password hashing: the grid creates several members per cell.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sent(monkeypatch):
    """Every live broadcast that left the process: (group, decoded member event)."""
    frames: list[tuple[str, dict]] = []

    def fake_send(group, texts):
        frames.append((group, json.loads(texts["member"])))

    monkeypatch.setattr("deliberation.live._send", fake_send)
    return frames


@pytest.fixture
def forum(sam):
    return factories.make_forum(actor=sam, slug="mieten", title="Mieten")


@pytest.fixture
def thread(forum, bob):
    return factories.make_thread(forum, author=bob, title="Mietendeckel", body="Erster Beitrag")


@pytest.fixture
def moderator(mo, forum, sam):
    services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    return mo


class refused:
    """The block raises ServiceError with that code and a message, and nothing else."""

    def __init__(self, code: str):
        self.code = code
        self._raises = pytest.raises(ServiceError)

    def __enter__(self):
        self.info = self._raises.__enter__()
        return self.info

    def __exit__(self, *exc):
        result = self._raises.__exit__(*exc)
        assert self.info.value.code == self.code, self.info.value
        assert self.info.value.message
        return result


# --- creating ---------------------------------------------------------------------------------


def test_a_new_thread_has_its_first_post_as_event_one(
    alice, forum, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        thread = services.thread_create(actor=alice, forum=forum, title=" Wohnen ", body="Hallo")
    post = thread.posts.get()
    assert (thread.title, thread.last_seq, thread.post_count, post.seq) == ("Wohnen", 1, 1, 1)
    assert post.body_html == "<p>Hallo</p>"
    assert sent == [
        (f"thread.{thread.pk}", {**events.post_created(post), "seq": 1, "thread": thread.pk})
    ]


def test_a_post_is_broadcast_only_after_the_commit(
    alice, thread, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post, created = services.post_create(actor=alice, thread=thread, body="**Ja**")
    assert created
    assert sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    group, event = sent[0]
    assert group == f"thread.{thread.pk}"
    assert event["type"] == "post.created"
    assert event["seq"] == 2
    assert event["thread"] == thread.pk
    assert event["post"]["id"] == post.pk
    assert event["post"]["body_html"] == "<p><strong>Ja</strong></p>"
    assert event["post"]["author"]["display_name"] == "Alice"


def test_a_retried_create_with_the_same_client_id_returns_the_same_post_and_writes_no_second_event(
    alice, thread, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = services.post_create(
            actor=alice, thread=thread, body="Einmal", client_id="c-1"
        )
        again, created_again = services.post_create(
            actor=alice, thread=thread, body="Einmal", client_id="c-1"
        )
    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert Post.objects.filter(author=alice).count() == 1
    assert ThreadEvent.objects.filter(thread=thread).count() == 2  # first post + this one
    assert len(sent) == 1


def test_the_same_client_id_used_in_another_thread_is_refused(alice, forum, thread):
    services.post_create(actor=alice, thread=thread, body="Hier", client_id="c-2")
    other = factories.make_thread(forum, author=alice)
    with refused("conflict"):
        services.post_create(actor=alice, thread=other, body="Dort", client_id="c-2")


def test_the_same_client_id_with_another_body_is_a_conflict_and_keeps_the_first(alice, thread):
    post, _ = services.post_create(actor=alice, thread=thread, body="Zuerst", client_id="c-3")
    with refused("conflict"):
        services.post_create(actor=alice, thread=thread, body="Danach", client_id="c-3")
    post.refresh_from_db()
    assert post.body == "Zuerst"
    assert services.post_create(actor=alice, thread=thread, body="Zuerst", client_id="c-3") == (
        post,
        False,
    )


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n", None])
def test_an_empty_post_is_refused_as_invalid(alice, thread, body):
    with refused("invalid"):
        services.post_create(actor=alice, thread=thread, body=body)


def test_a_post_longer_than_the_limit_is_refused_as_too_long(alice, thread, settings):
    with refused("too_long") as info:
        services.post_create(actor=alice, thread=thread, body="x" * (settings.POST_MAX_LENGTH + 1))
    assert info.value.details["max"] == settings.POST_MAX_LENGTH
    assert not Post.objects.filter(author=alice).exists()


def test_a_post_of_exactly_the_limit_is_accepted(alice, thread, settings):
    _post, created = services.post_create(
        actor=alice, thread=thread, body="x" * settings.POST_MAX_LENGTH
    )
    assert created


@pytest.mark.parametrize("state", [Forum.State.CLOSED, Forum.State.ARCHIVED])
def test_posting_in_a_closed_or_archived_forum_is_refused_as_closed(alice, thread, sam, state):
    services.forum_set_state(actor=sam, forum=thread.forum, state=state)
    with refused("closed"):
        services.post_create(actor=alice, thread=thread, body="Noch etwas")
    with refused("closed"):
        services.thread_create(actor=alice, forum=thread.forum, title="Neu", body="Neu")


def test_posting_in_a_locked_thread_is_refused_as_locked(alice, thread, moderator):
    services.thread_set_locked(actor=moderator, thread=thread, locked=True)
    with refused("locked"):
        services.post_create(actor=alice, thread=Thread.objects.get(pk=thread.pk), body="Hallo")


def test_a_moderator_may_still_post_in_a_locked_thread(thread, moderator):
    services.thread_set_locked(actor=moderator, thread=thread, locked=True)
    post, created = services.post_create(actor=moderator, thread=thread, body="Zur Ordnung")
    assert created
    assert post.state == Post.State.PUBLISHED


def test_posting_faster_than_the_rate_limit_is_refused_with_seconds_to_wait(
    alice, thread, settings
):
    settings.POST_RATE_LIMIT = 2
    services.post_create(actor=alice, thread=thread, body="eins")
    services.post_create(actor=alice, thread=thread, body="zwei")
    with refused("rate_limited") as info:
        services.post_create(actor=alice, thread=thread, body="drei")
    assert 1 <= info.value.details["retry_after"] <= settings.POST_RATE_WINDOW_SECONDS
    assert Post.objects.filter(author=alice).count() == 2


def test_a_retry_does_not_count_against_the_rate_limit(alice, thread, settings):
    settings.POST_RATE_LIMIT = 1
    services.post_create(actor=alice, thread=thread, body="eins", client_id="r-1")
    _post, created = services.post_create(actor=alice, thread=thread, body="eins", client_id="r-1")
    assert not created


def test_a_retry_gets_its_post_back_even_if_the_post_it_answered_is_gone(alice, bob, thread):
    parent = factories.make_post(thread, author=bob)
    first, created = services.post_create(
        actor=alice, thread=thread, body="Antwort", client_id="r-2", reply_to_id=parent.pk
    )
    assert created
    services.post_delete(actor=bob, post=parent)
    again, created = services.post_create(
        actor=alice, thread=thread, body="Antwort", client_id="r-2", reply_to_id=parent.pk
    )
    assert (again.pk, created) == (first.pk, False)


def test_a_reply_to_a_post_in_another_thread_is_refused_as_invalid(alice, forum, thread, bob):
    elsewhere = factories.make_post(factories.make_thread(forum, author=bob), author=bob)
    with refused("invalid"):
        services.post_create(actor=alice, thread=thread, body="Antwort", reply_to_id=elsewhere.pk)


def test_a_reply_carries_its_parents_author_and_excerpt(alice, thread):
    parent = thread.posts.get()
    post, _ = services.post_create(actor=alice, thread=thread, body="Genau", reply_to_id=parent.pk)
    reply_to = events.post_payload(post)["reply_to"]
    assert reply_to == {
        "id": parent.pk,
        "author": "Bob",
        "excerpt": "Erster Beitrag",
        "deleted": False,
        "language": "de",
    }


def test_a_member_without_the_right_is_refused_as_forbidden(olga, thread):
    with refused("forbidden"):
        services.post_create(actor=olga, thread=thread, body="Hallo")


def test_a_guests_post_is_held_and_not_broadcast(
    gina, forum, thread, sam, sent, django_capture_on_commit_callbacks
):
    services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    held: list[Post] = []
    services.register_held_post_listener(held.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post, created = services.post_create(actor=gina, thread=thread, body="Wir auch")
    finally:
        services.unregister_held_post_listener(held.append)
    assert created
    assert post.state == Post.State.HELD
    assert held == [post]
    # Nothing reaches the thread's readers; the moderation queue (another group) may be told.
    assert [group for group, _event in sent if group.startswith("thread.")] == []
    thread.refresh_from_db()
    assert (thread.last_seq, thread.post_count) == (1, 1)


def test_a_premoderated_forum_holds_members_posts_but_not_moderators(alice, thread, moderator):
    Forum.objects.filter(pk=thread.forum_id).update(premoderated=True)
    thread = Thread.objects.select_related("forum").get(pk=thread.pk)
    member_post, _ = services.post_create(actor=alice, thread=thread, body="Bitte prüfen")
    moderator_post, _ = services.post_create(actor=moderator, thread=thread, body="Direkt")
    assert member_post.state == Post.State.HELD
    assert moderator_post.state == Post.State.PUBLISHED


def test_a_participation_guard_can_refuse_a_muted_member(alice, thread):
    def muted(actor, forum):
        if actor == alice:
            raise ServiceError("muted", "stumm")

    services.register_participation_guard(muted)
    try:
        with refused("muted"):
            services.post_create(actor=alice, thread=thread, body="Hallo")
    finally:
        services.unregister_participation_guard(muted)
    assert not Post.objects.filter(author=alice).exists()


# --- editing and deleting ---------------------------------------------------------------------


def test_editing_keeps_the_previous_text_as_a_revision_and_broadcasts_post_edited(
    alice, thread, sent, django_capture_on_commit_callbacks
):
    post, _ = services.post_create(actor=alice, thread=thread, body="Alt")
    with django_capture_on_commit_callbacks(execute=True):
        edited = services.post_edit(actor=alice, post=post, body="Neu")
    assert edited.body == "Neu"
    assert edited.edited_at is not None
    assert list(PostRevision.objects.filter(post=post).values_list("body", flat=True)) == ["Alt"]
    assert sent[-1][1]["type"] == "post.edited"
    assert sent[-1][1]["post"]["body_html"] == "<p>Neu</p>"
    assert sent[-1][1]["post"]["edited"] is True


def test_editing_after_the_window_is_refused_as_forbidden(alice, thread, settings):
    post, _ = services.post_create(actor=alice, thread=thread, body="Alt")
    Post.objects.filter(pk=post.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.POST_EDIT_WINDOW_SECONDS + 1)
    )
    post.refresh_from_db()
    with refused("forbidden") as info:
        services.post_edit(actor=alice, post=post, body="Neu")
    assert "15" in info.value.message
    post.refresh_from_db()
    assert post.body == "Alt"


def test_editing_someone_elses_post_is_refused_as_forbidden(alice, thread):
    with refused("forbidden"):
        services.post_edit(actor=alice, post=thread.posts.get(), body="Übernommen")


def test_deleting_ones_own_post_erases_its_text_and_broadcasts_post_deleted(
    alice, thread, sent, django_capture_on_commit_callbacks
):
    post, _ = services.post_create(actor=alice, thread=thread, body="Alt")
    services.post_edit(actor=alice, post=post, body="Neu")
    with django_capture_on_commit_callbacks(execute=True):
        deleted = services.post_delete(actor=alice, post=post)
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert (post.body, post.body_html) == ("", "")
    assert not PostRevision.objects.filter(post=post).exists()
    assert deleted.is_deleted
    frame = sent[-1][1]
    assert frame["type"] == "post.deleted"
    assert (frame["post"]["deleted"], frame["post"]["body_html"]) == (True, "")
    thread.refresh_from_db()
    assert thread.post_count == 1


def test_deleting_someone_elses_post_is_refused_as_forbidden(alice, thread):
    with refused("forbidden"):
        services.post_delete(actor=alice, post=thread.posts.get())


def test_deleting_twice_changes_nothing_the_second_time(alice, thread):
    post, _ = services.post_create(actor=alice, thread=thread, body="Weg")
    services.post_delete(actor=alice, post=post)
    services.post_delete(actor=alice, post=post)
    assert ThreadEvent.objects.filter(post=post, type="post.deleted").count() == 1


# --- reactions, locks, pins -------------------------------------------------------------------


def test_agreeing_twice_takes_the_agreement_back(
    alice, thread, sent, django_capture_on_commit_callbacks
):
    post = thread.posts.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reaction_toggle(actor=alice, post=post) == (True, 1)
        assert services.reaction_toggle(actor=alice, post=post) == (False, 0)
    assert not Reaction.objects.exists()
    assert [frame["post"] for _, frame in sent] == [
        {"id": post.pk, "reactions": 1},
        {"id": post.pk, "reactions": 0},
    ]


def test_agreements_of_two_members_are_counted(alice, mo, thread):
    post = thread.posts.get()
    services.reaction_toggle(actor=alice, post=post)
    assert services.reaction_toggle(actor=mo, post=post) == (True, 2)
    post.refresh_from_db()
    assert post.reaction_count == 2


def test_agreeing_with_ones_own_post_is_refused_as_invalid(bob, thread):
    with refused("invalid"):
        services.reaction_toggle(actor=bob, post=thread.posts.get())


def test_only_moderators_lock_and_pin_threads(alice, thread):
    with refused("forbidden"):
        services.thread_set_locked(actor=alice, thread=thread, locked=True)
    with refused("forbidden"):
        services.thread_set_pinned(actor=alice, thread=thread, pinned=True)


def test_locking_and_pinning_broadcast_their_events(
    thread, moderator, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.thread_set_locked(actor=moderator, thread=thread, locked=True)
        services.thread_set_pinned(actor=moderator, thread=thread, pinned=True)
        services.thread_set_pinned(actor=moderator, thread=thread, pinned=True)  # no change
    assert [frame for _, frame in sent] == [
        {"type": "thread.locked", "locked": True, "seq": 2, "thread": thread.pk},
        {"type": "thread.pinned", "pinned": True, "seq": 3, "thread": thread.pk},
    ]
    thread.refresh_from_db()
    assert (thread.locked, thread.pinned) == (True, True)


def test_seq_is_gap_free_across_mixed_events(alice, mo, thread, moderator):
    post, _ = services.post_create(actor=alice, thread=thread, body="A")
    services.reaction_toggle(actor=mo, post=post)
    services.post_edit(actor=alice, post=post, body="B")
    services.thread_set_pinned(actor=moderator, thread=thread, pinned=True)
    second, _ = services.post_create(actor=alice, thread=thread, body="C", reply_to_id=post.pk)
    services.post_delete(actor=alice, post=second)
    services.reaction_toggle(actor=mo, post=post)
    seqs = list(ThreadEvent.objects.filter(thread=thread).values_list("seq", flat=True))
    assert seqs == list(range(1, 9))
    thread.refresh_from_db()
    assert thread.last_seq == 8
    assert Post.objects.get(pk=second.pk).seq == 6


def test_mark_read_never_moves_backwards(alice, thread):
    factories.make_post(thread, author=alice)
    services.thread_mark_read(member=alice, thread=Thread.objects.get(pk=thread.pk), seq=2)
    services.thread_mark_read(member=alice, thread=thread, seq=1)
    assert ThreadVisit.objects.get(member=alice, thread=thread).last_seen_seq == 2


# --- grants -----------------------------------------------------------------------------------


def test_a_moderator_may_invite_a_guest_but_not_appoint_a_moderator(gina, forum, moderator):
    services.forum_grant(actor=moderator, forum=forum, member=gina, right="participate")
    with refused("forbidden"):
        services.forum_grant(actor=moderator, forum=forum, member=gina, right="moderate")


def test_a_member_may_not_grant_rights(alice, gina, forum):
    with refused("forbidden"):
        services.forum_grant(actor=alice, forum=forum, member=gina, right="view")


def test_a_revoked_grant_stops_a_guest_posting(gina, forum, thread, sam):
    services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    services.post_create(actor=gina, thread=thread, body="Darf ich")
    services.forum_revoke(actor=sam, forum=forum, member=gina, right="participate")
    with refused("forbidden"):
        services.post_create(actor=gina, thread=thread, body="Nicht mehr")


# --- demo content -----------------------------------------------------------------------------


def test_the_demo_seed_builds_the_rent_forum_through_the_services_and_is_idempotent():
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    counts = (Thread.objects.count(), Post.objects.count(), ThreadEvent.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Thread.objects.count(), Post.objects.count(), ThreadEvent.objects.count()) == counts
    mieten = Forum.objects.get(slug="mieten")
    assert mieten.title == "Ratschlag Mieten und Wohnen"
    assert mieten.threads.count() == 3
    assert Reaction.objects.filter(post__thread__forum=mieten).count() == 8
    # Gina's (moderation's demo) and Hatice's, who came in through Kotti & Co's invitation
    held = Post.objects.filter(state=Post.State.HELD, author__kind="guest")
    assert sorted(post.author.display_name for post in held) == [
        "Gina (Mieteninitiative)",
        "Hatice",
    ]


@pytest.mark.parametrize("slug", ["suche", "Suche", "thema", "beitrag"])
def test_a_forum_cannot_take_a_short_name_the_site_uses_itself(sam, slug):
    with pytest.raises(ServiceError) as info:
        services.forum_create(actor=sam, title="Suche nach Wohnraum", slug=slug)
    assert info.value.code == "invalid"
    assert "Kurzname" in info.value.message or "short name" in info.value.message
    assert not Forum.objects.filter(slug__iexact=slug).exists()


def test_the_admin_refuses_a_reserved_short_name_too(client, sam):
    from django.urls import reverse

    client.force_login(sam)
    response = client.post(
        reverse("admin:forums_forum_add"),
        {
            "title": "Suche",
            "slug": "suche",
            "kind": "topic",
            "visibility": "members",
            "state": "open",
            "description": "",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not Forum.objects.filter(slug="suche").exists()
    page = response.content.decode()
    assert "verwendet die Seite selbst" in page or "is used by the site itself" in page


# --- rate limits on edits, a cache outage, rendering outside the lock (issue #9) ---------------


def test_editing_faster_than_the_edit_limit_is_refused_and_changes_nothing(alice, thread, settings):
    settings.POST_EDIT_RATE_LIMIT = 2
    post, _ = services.post_create(actor=alice, thread=thread, body="Fassung 0")
    services.post_edit(actor=alice, post=post, body="Fassung 1")
    services.post_edit(actor=alice, post=post, body="Fassung 2")
    with refused("rate_limited") as info:
        services.post_edit(actor=alice, post=post, body="Fassung 3")
    assert 1 <= info.value.details["retry_after"] <= settings.POST_RATE_WINDOW_SECONDS
    post.refresh_from_db()
    assert post.body == "Fassung 2"
    assert PostRevision.objects.filter(post=post).count() == 2


def test_a_moderator_edits_without_the_edit_limit(moderator, thread, settings):
    settings.POST_EDIT_RATE_LIMIT = 1
    post, _ = services.post_create(actor=moderator, thread=thread, body="Fassung 0")
    for i in range(1, 4):
        services.post_edit(actor=moderator, post=post, body=f"Fassung {i}")


def test_a_cache_outage_never_turns_a_valid_post_or_edit_into_an_error(
    alice, thread, settings, caplog
):
    settings.POST_RATE_LIMIT = 1
    settings.POST_EDIT_RATE_LIMIT = 1
    dead_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nobody listens: as while Redis restarts
        }
    }
    with override_settings(CACHES=dead_redis):
        first, _ = services.post_create(actor=alice, thread=thread, body="eins")
        second, _ = services.post_create(actor=alice, thread=thread, body="zwei")
        services.post_edit(actor=alice, post=first, body="eins, geändert")
        services.post_edit(actor=alice, post=second, body="zwei, geändert")
    assert Post.objects.filter(author=alice, edited_at__isnull=False).count() == 2
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_markdown_is_rendered_before_the_thread_is_locked(monkeypatch, alice, thread):
    from django.db import transaction

    from deliberation.markup import render_markdown

    inside: list[bool] = []

    def watched(text: str) -> str:
        inside.append(transaction.get_connection().in_atomic_block)
        return render_markdown(text)

    monkeypatch.setattr(services, "render_markdown", watched)
    post, _ = services.post_create(actor=alice, thread=thread, body="Neu")
    services.post_edit(actor=alice, post=post, body="Geändert")
    services.thread_create(actor=alice, forum=thread.forum, title="Zweiter", body="Auch neu")
    assert inside == [False, False, False]
