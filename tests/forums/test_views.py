"""Forum pages without JavaScript: who sees what, and every write as a plain form POST.

Rights in these tests: alice and bob are members (members forums: view and participate); olga is
a guest of nothing (an outsider); mo moderates where a test grants it; anonymous visitors see
public forums only. Everyone is served in English so the assertions can read messages.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deliberation.models import Member
from forums import services
from forums.models import Forum, Post, Reaction, ThreadVisit
from tests.factories import make_forum, make_member, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def login(client: Client, member: Member) -> Client:
    Member.objects.filter(pk=member.pk).update(language="en")
    member.refresh_from_db()
    client.force_login(member)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def forum(db):
    return make_forum(title="Mieten und Wohnen", slug="mieten")


@pytest.fixture
def thread(forum, bob):
    return make_thread(forum, author=bob, title="Mietendeckel", body="Was tun gegen hohe Mieten?")


def thread_url(thread) -> str:
    return reverse("forums:thread", kwargs={"pk": thread.pk})


def reply_url(thread) -> str:
    return reverse("forums:thread_reply", kwargs={"pk": thread.pk})


# --- who sees which page --------------------------------------------------------------------------


def test_the_forum_list_shows_kind_state_thread_count_and_unread_marker(client, alice, thread):
    login(client, alice)
    response = client.get(reverse("forums:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mieten und Wohnen" in html
    assert "Topic forum" in html and "Open" in html
    assert "1 thread" in html
    assert 'class="unread"' in html

    client.get(thread_url(thread))  # reading the thread clears the marker
    assert 'class="unread"' not in client.get(reverse("forums:index")).content.decode()


def test_the_forum_list_hides_forums_the_user_cannot_see(client, olga, alice, forum):
    make_forum(title="Öffentliches Forum", slug="offen", visibility=Forum.Visibility.PUBLIC)
    login(client, olga)
    html = client.get(reverse("forums:index")).content.decode()
    # Olga is a guest of no forum: not even the public one is hers (issue #12).
    assert "Öffentliches Forum" not in html
    assert "Mieten und Wohnen" not in html
    login(client, alice)
    assert "Öffentliches Forum" in client.get(reverse("forums:index")).content.decode()


def test_the_forum_page_lists_pinned_threads_first_then_by_last_activity(client, alice, forum, mo):
    old = make_thread(forum, title="Alter Faden")
    pinned = make_thread(forum, title="Angepinnt")
    services.thread_set_pinned(actor=Member.objects.get(is_staff=True), thread=pinned, pinned=True)
    recent = make_thread(forum, title="Neuer Faden")
    login(client, alice)
    response = client.get(reverse("forums:forum", kwargs={"slug": forum.slug}))
    assert response.status_code == 200
    titles = [t.title for t in response.context["threads"]]
    assert titles == [pinned.title, recent.title, old.title]
    assert reverse("forums:thread_create", kwargs={"slug": forum.slug}) in (
        response.content.decode()
    )


def test_a_closed_forum_offers_no_new_thread_link(client, alice):
    closed = make_forum(slug="zu", state=Forum.State.CLOSED)
    login(client, alice)
    response = client.get(reverse("forums:forum", kwargs={"slug": closed.slug}))
    assert response.status_code == 200
    assert not response.context["can_start"]
    assert "neues-thema" not in response.content.decode()


@pytest.mark.parametrize("page", ["forum", "thread", "post", "new_thread"])
def test_anonymous_visitors_of_a_members_forum_are_sent_to_log_in(client, thread, page):
    post = thread.posts.get()
    url = {
        "forum": reverse("forums:forum", kwargs={"slug": thread.forum.slug}),
        "thread": thread_url(thread),
        "post": reverse("forums:post", kwargs={"pk": post.pk}),
        "new_thread": reverse("forums:thread_create", kwargs={"slug": thread.forum.slug}),
    }[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("page", ["forum", "thread", "post", "new_thread", "edit", "delete"])
def test_outsiders_get_not_found_for_a_members_forum(client, olga, thread, page):
    post = thread.posts.get()
    url = {
        "forum": reverse("forums:forum", kwargs={"slug": thread.forum.slug}),
        "thread": thread_url(thread),
        "post": reverse("forums:post", kwargs={"pk": post.pk}),
        "new_thread": reverse("forums:thread_create", kwargs={"slug": thread.forum.slug}),
        "edit": reverse("forums:post_edit", kwargs={"pk": post.pk}),
        "delete": reverse("forums:post_delete", kwargs={"pk": post.pk}),
    }[page]
    login(client, olga)
    assert client.get(url).status_code == 404


def test_outsiders_cannot_reply_or_agree(client, olga, thread):
    post = thread.posts.get()
    login(client, olga)
    assert client.post(reply_url(thread), {"body": "Hallo"}).status_code == 404
    agree = reverse("forums:post_agree", kwargs={"pk": post.pk})
    assert client.post(agree).status_code == 404
    assert thread.posts.count() == 1 and Reaction.objects.count() == 0


def test_public_forums_are_readable_without_logging_in(client, bob):
    public = make_forum(slug="oeffentlich", visibility=Forum.Visibility.PUBLIC)
    thread = make_thread(public, author=bob, body="Für alle lesbar")
    response = client.get(thread_url(thread))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Für alle lesbar" in html
    assert 'data-can-post="false"' in html
    assert 'id="reply-form"' not in html
    assert reverse("login") in html


def test_an_invited_guest_reads_her_forum_only(client, gina, forum):
    invited = make_forum(slug="eingeladen", visibility=Forum.Visibility.INVITED)
    services.forum_grant(
        actor=Member.objects.get(is_staff=True), forum=invited, member=gina, right="participate"
    )
    thread = make_thread(invited)
    login(client, gina)
    assert client.get(thread_url(thread)).status_code == 200
    assert client.get(reverse("forums:forum", kwargs={"slug": forum.slug})).status_code == 404


# --- the thread page ------------------------------------------------------------------------------


def test_the_thread_page_has_the_hooks_of_the_live_client(client, alice, thread):
    login(client, alice)
    response = client.get(thread_url(thread))
    html = response.content.decode()
    post = thread.posts.get()
    thread.refresh_from_db()
    assert (
        f'<section id="thread" aria-labelledby="thread-title" data-thread-id="{thread.pk}" '
        f'data-last-seq="{thread.last_seq}" data-ws-path="/ws/threads/{thread.pk}/" '
        'data-can-post="true"'
    ) in html
    assert '<ol id="posts"' in html
    assert f'<li id="post-{post.pk}" class="post state-published"' in html
    assert f'data-post-id="{post.pk}" data-seq="{post.seq}"' in html
    assert '<template id="post-template"><li id="post-" class="post state-published"' in html
    assert '<div id="live-connection-area" class="live-connection-area">' in html
    assert '<form id="reply-form" method="post"' in html
    assert re.search(r'<textarea name="body"[^>]*aria-describedby="id_body_helptext"', html)
    assert re.search(r'<input type="hidden" name="client_id" value="[0-9a-f]{32}"', html)
    assert '<input type="hidden" name="reply_to"' in html
    assert "forums/js/thread.js" in html and f'nonce="{response.wsgi_request.csp_nonce}"' in html


def test_each_render_of_the_reply_form_gets_a_new_client_id(client, alice, thread):
    login(client, alice)
    ids = [
        response.context["reply_form"].initial["client_id"]
        for response in (client.get(thread_url(thread)), client.get(thread_url(thread)))
    ]
    assert ids[0] != ids[1]


def test_the_thread_page_shows_author_badge_time_and_edited_marker(client, alice, thread):
    fraktion = make_member(
        display_name="Frieda", affiliation=Member.Affiliation.PARLIAMENTARY_GROUP
    )
    post = make_post(thread, author=fraktion, body="Aus der Fraktion")
    services.post_edit(actor=fraktion, post=post, body="Aus der Fraktion, ergänzt")
    login(client, alice)
    html = client.get(thread_url(thread)).content.decode()
    item = html[html.index(f'id="post-{post.pk}"') :]
    item = item[: item.index("</li>")]
    assert "Frieda" in item and "Parliamentary group" in item
    assert '<time class="post-time" datetime="' in item
    assert '<span class="post-edited">(edited)</span>' in item
    assert "ergänzt" in item


def test_replies_show_what_they_answer_with_a_link(client, alice, bob, thread):
    first = thread.posts.get()
    reply = make_post(thread, author=alice, body="Genau!", reply_to_id=first.pk)
    login(client, bob)
    html = client.get(thread_url(thread)).content.decode()
    item = html[html.index(f'id="post-{reply.pk}"') :]
    item = item[: item.index("</li>")]
    assert f'href="#post-{first.pk}"' in item
    assert "Bob" in item and "Was tun gegen hohe Mieten?" in item


def test_deleted_posts_keep_their_place_without_their_text(client, alice, bob, thread):
    post = make_post(thread, author=alice, body="Geheimer Gedanke")
    services.post_delete(actor=alice, post=post)
    login(client, bob)
    html = client.get(thread_url(thread)).content.decode()
    assert f'id="post-{post.pk}"' in html
    assert "deleted by its author" in html
    assert "Geheimer Gedanke" not in html


def test_held_posts_are_seen_by_their_author_and_moderators_only(client, alice, bob, mo):
    forum = make_forum(slug="vorab", premoderated=True)
    thread = make_thread(forum, author=Member.objects.get(is_staff=True), body="Start")
    post = make_post(thread, author=alice, body="Wartet auf Freigabe")
    assert post.state == Post.State.HELD
    services.forum_grant(
        actor=Member.objects.get(is_staff=True), forum=forum, member=mo, right="moderate"
    )
    for member, sees in ((alice, True), (mo, True), (bob, False)):
        html = login(Client(), member).get(thread_url(thread)).content.decode()
        assert ("Wartet auf Freigabe" in html) is sees, member
    html = login(client, alice).get(thread_url(thread)).content.decode()
    assert "Waiting for a moderator" in html


def test_viewing_the_thread_marks_it_read(client, alice, thread):
    login(client, alice)
    client.get(thread_url(thread))
    thread.refresh_from_db()
    assert ThreadVisit.objects.get(member=alice, thread=thread).last_seen_seq == thread.last_seq


def test_the_thread_page_is_paginated_by_fifty_posts(client, alice, thread):
    staff = Member.objects.get(is_staff=True)
    for n in range(55):
        make_post(thread, author=staff, body=f"Beitrag Nummer {n}")
    login(client, alice)
    first = client.get(thread_url(thread))
    assert len(first.context["posts"]) == 50
    second = client.get(thread_url(thread) + "?page=2")
    assert len(second.context["posts"]) == 6
    assert "Beitrag Nummer 54" in second.content.decode()


@pytest.mark.parametrize("count", [10, 200])
def test_the_thread_page_costs_the_same_few_queries_whatever_its_length(
    client, alice, bob, thread, django_assert_max_num_queries, count
):
    staff = Member.objects.get(is_staff=True)
    previous = None
    for n in range(count):
        author = staff if n % 2 else bob
        if author == bob:
            cache.clear()  # bob is rate limited like every member; the fixture is not
        previous = make_post(
            thread,
            author=author,
            body=f"Beitrag {n}",
            reply_to_id=previous.pk if previous else None,
        )
        if n % 3 == 0:
            services.reaction_toggle(actor=alice, post=previous)
    login(client, alice)
    # First visit: session, member, thread, two guardian lookups, ONE query for the page of
    # posts with its total, the member's reactions and reading position; then thread_mark_read
    # (an UPDATE that finds no row, and one INSERT); and the header's count of unread
    # notifications and of open moderation cases (the navigation's queue link, issue #10). The
    # issue's budget is 12 at most, whatever the thread's length. (The process's content-type
    # cache is filled first: guardian reads it once per process, not per page.)
    ContentType.objects.get_for_model(Forum)
    with django_assert_max_num_queries(10):
        assert client.get(thread_url(thread)).status_code == 200
    with django_assert_max_num_queries(8):  # read already: nothing to write
        assert client.get(thread_url(thread)).status_code == 200
    # "last" counts first, then fetches the page; with 200 posts the member reads on (one UPDATE).
    with django_assert_max_num_queries(10):
        assert client.get(thread_url(thread) + "?page=last").status_code == 200


# --- writing without JavaScript -------------------------------------------------------------------


def test_a_member_starts_a_thread_with_a_plain_form(client, alice, forum):
    login(client, alice)
    url = reverse("forums:thread_create", kwargs={"slug": forum.slug})
    form = client.get(url)
    assert form.status_code == 200
    client_id = form.context["form"].initial["client_id"]
    response = client.post(
        url, {"title": "Mehr Grün", "body": "Bäume pflanzen!", "client_id": client_id}
    )
    thread = forum.threads.get(title="Mehr Grün")
    assert response.status_code == 302 and response.url == thread.get_absolute_url()
    assert messages_of(response) == ["Your thread has been started."]
    assert thread.posts.get().body == "Bäume pflanzen!"


def test_a_thread_without_title_shows_the_error_next_to_the_field(client, alice, forum):
    login(client, alice)
    url = reverse("forums:thread_create", kwargs={"slug": forum.slug})
    response = client.post(url, {"title": "", "body": "Text", "client_id": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_title_error">' in html
    assert re.search(r'<input[^>]*name="title"[^>]*aria-describedby="id_title_error"', html)
    assert forum.threads.count() == 0


def test_a_member_replies_and_is_taken_to_the_new_post(client, alice, thread):
    login(client, alice)
    response = client.post(reply_url(thread), {"body": "Mein Beitrag", "client_id": "c-1"})
    post = thread.posts.get(body="Mein Beitrag")
    assert response.status_code == 302
    assert response.url == f"{thread_url(thread)}#post-{post.pk}"
    assert messages_of(response) == ["Your post has been published."]


def test_the_reply_link_prefills_the_form_and_the_reply_records_it(client, alice, thread):
    first = thread.posts.get()
    login(client, alice)
    page = client.get(thread_url(thread) + f"?reply_to={first.pk}")
    assert page.context["reply_form"].initial["reply_to"] == first.pk
    html = page.content.decode()
    assert f'href="?reply_to={first.pk}#reply"' in html
    assert re.search(r'<p id="reply-to-note" class="reply-to-note">', html)
    client.post(
        reply_url(thread), {"body": "Antwort", "client_id": "c-2", "reply_to": str(first.pk)}
    )
    assert thread.posts.get(body="Antwort").reply_to == first


def test_a_double_submit_of_the_reply_form_creates_one_post(client, alice, thread):
    login(client, alice)
    data = {"body": "Nur einmal", "client_id": "8f14e45fceea167a5a36dedd4bea2543"}
    first = client.post(reply_url(thread), data)
    second = client.post(reply_url(thread), data)
    assert thread.posts.filter(body="Nur einmal").count() == 1
    assert first.url == second.url
    assert messages_of(second)[-1] == "This post had already been sent; it is shown below."


def test_an_empty_reply_is_refused_next_to_the_field(client, alice, thread):
    login(client, alice)
    response = client.post(reply_url(thread), {"body": "  ", "client_id": "c-3"})
    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_body_error">' in response.content.decode()
    assert thread.posts.count() == 1


def test_a_too_long_reply_is_refused_with_the_services_message_and_kept(
    client, alice, thread, settings
):
    settings.POST_MAX_LENGTH = 20
    login(client, alice)
    text = "Das ist viel zu lang für dieses Forum."
    response = client.post(reply_url(thread), {"body": text, "client_id": "c-4"})
    assert response.status_code == 200
    message = f"Your text has {len(text)} characters; at most 20 are allowed."
    assert messages_of(response) == [message]
    html = response.content.decode()
    assert text in html  # the member's text is not lost
    assert 'id="id_body_error"' in html
    assert thread.posts.count() == 1


def test_a_reply_to_a_locked_thread_is_refused_and_nothing_saved(client, alice, thread):
    services.thread_set_locked(actor=Member.objects.get(is_staff=True), thread=thread, locked=True)
    login(client, alice)
    page = client.get(thread_url(thread))
    assert 'data-can-post="false"' in page.content.decode()
    response = client.post(reply_url(thread), {"body": "Trotzdem", "client_id": "c-5"})
    assert messages_of(response) == ["This thread is locked: no new contributions."]
    assert thread.posts.count() == 1


def test_agreeing_with_a_post_toggles_and_redirects_back_to_it(client, alice, thread):
    post = thread.posts.get()
    login(client, alice)
    url = reverse("forums:post_agree", kwargs={"pk": post.pk})
    response = client.post(url)
    assert response.url == f"{thread_url(thread)}#post-{post.pk}"
    assert messages_of(response) == ["You agree with this post."]
    post.refresh_from_db()
    assert post.reaction_count == 1
    html = client.get(thread_url(thread)).content.decode()
    assert 'aria-pressed="true"' in html
    assert 'data-count="1">1 agreement</span>' in html  # a counted plural (singular here)
    response = client.post(url)
    assert messages_of(response) == ["You no longer agree with this post."]
    assert Reaction.objects.count() == 0


def test_each_toggle_submits_the_pages_one_agreement_form_with_its_csrf_token(alice, thread):
    """Without JavaScript: the toggle is a submit button of #agree-form, which holds the page's
    one CSRF token; the button sends its post's id."""
    post = thread.posts.get()
    client = login(Client(enforce_csrf_checks=True), alice)
    html = client.get(thread_url(thread)).content.decode()
    action = reverse("forums:thread_agree", kwargs={"pk": thread.pk})
    form = re.search(r'<form id="agree-form" method="post" action="([^"]+)">(.*?)</form>', html)
    assert form and form.group(1) == action
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(2)).group(1)
    assert f'<button form="agree-form" name="post" value="{post.pk}"' in html
    assert 'aria-label="Agree with the post by Bob">Agree</button>' in html

    assert client.post(action, {"post": post.pk}).status_code == 403  # no token: refused
    response = client.post(action, {"post": post.pk, "csrfmiddlewaretoken": token})
    assert response.url == f"{thread_url(thread)}#post-{post.pk}"
    assert messages_of(response) == ["You agree with this post."]
    html = client.get(thread_url(thread)).content.decode()
    assert re.search(rf'value="{post.pk}" [^>]*aria-pressed="true"', html)
    response = client.post(action, {"post": post.pk, "csrfmiddlewaretoken": token})
    assert messages_of(response) == ["You no longer agree with this post."]
    assert Reaction.objects.count() == 0


@pytest.mark.parametrize(
    "value", ["", "abc", "²", "0", "-1", "1.5", str(2**63), str(10**30), "other thread", "none"]
)
def test_the_agreement_form_refuses_what_is_no_post_of_the_thread_and_changes_nothing(
    client, alice, bob, forum, thread, value
):
    other = make_thread(forum, author=bob, title="Anderes", body="Anderswo")
    data = {
        "other thread": {"post": other.posts.get().pk},
        "none": {},
    }.get(value, {"post": value})
    login(client, alice)
    response = client.post(reverse("forums:thread_agree", kwargs={"pk": thread.pk}), data)
    assert response.status_code == 302 and response.url == thread_url(thread)
    assert messages_of(response) == ["This post does not exist in this thread."]
    assert Reaction.objects.count() == 0


def test_the_agreement_form_refuses_a_post_the_member_may_not_see(client, alice, bob, thread):
    held = make_post(thread, author=bob, body="Versteckt")
    Post.objects.filter(pk=held.pk).update(state=Post.State.HIDDEN)  # moderation's job
    login(client, alice)
    url = reverse("forums:thread_agree", kwargs={"pk": thread.pk})
    response = client.post(url, {"post": held.pk})
    assert messages_of(response) == ["This post does not exist in this thread."]
    assert client.get(url).status_code == 405
    assert Reaction.objects.count() == 0


def test_agreeing_needs_a_post_request(client, alice, thread):
    login(client, alice)
    url = reverse("forums:post_agree", kwargs={"pk": thread.posts.get().pk})
    assert client.get(url).status_code == 405


def test_the_author_edits_a_post_within_the_window(client, alice, thread):
    post = make_post(thread, author=alice, body="Erste Fassung")
    login(client, alice)
    url = reverse("forums:post_edit", kwargs={"pk": post.pk})
    assert f'href="{url}"' in client.get(thread_url(thread)).content.decode()
    form = client.get(url)
    assert form.status_code == 200 and "Erste Fassung" in form.content.decode()
    response = client.post(url, {"body": "Zweite Fassung"})
    assert response.url == f"{thread_url(thread)}#post-{post.pk}"
    assert messages_of(response) == ["Your post has been changed."]
    post.refresh_from_db()
    assert post.body == "Zweite Fassung" and post.edited_at is not None


def test_an_edit_after_the_window_is_refused_with_a_message(client, alice, thread):
    post = make_post(thread, author=alice, body="Alt")
    Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - timedelta(days=1))
    login(client, alice)
    assert f"/beitrag/{post.pk}/bearbeiten/" not in (
        client.get(thread_url(thread))
        .content.decode()
        .split('<template id="post-template">')[0]
        .replace(f'href="/foren/beitrag/{post.pk}/bearbeiten/" hidden', "")
    )
    response = client.post(reverse("forums:post_edit", kwargs={"pk": post.pk}), {"body": "Neu"})
    assert response.status_code == 200
    assert len(messages_of(response)) == 1
    post.refresh_from_db()
    assert post.body == "Alt"


def test_members_cannot_edit_or_delete_other_peoples_posts(client, alice, thread):
    post = thread.posts.get()  # bob's
    login(client, alice)
    for name in ("forums:post_edit", "forums:post_delete"):
        url = reverse(name, kwargs={"pk": post.pk})
        assert client.get(url).status_code == 403
        assert client.post(url, {"body": "Übernommen"}).status_code == 403
    post.refresh_from_db()
    assert post.body == "Was tun gegen hohe Mieten?" and post.deleted_at is None


def test_the_author_deletes_a_post_after_confirming(client, alice, thread):
    post = make_post(thread, author=alice, body="Doch nicht")
    login(client, alice)
    url = reverse("forums:post_delete", kwargs={"pk": post.pk})
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Doch nicht" in confirm.content.decode()
    post.refresh_from_db()
    assert post.deleted_at is None  # asking changes nothing
    response = client.post(url)
    assert response.url == f"{thread_url(thread)}#post-{post.pk}"
    assert messages_of(response) == ["Your post has been deleted."]
    post.refresh_from_db()
    assert post.deleted_at is not None


def test_the_permalink_of_a_post_leads_to_its_page(client, alice, thread):
    staff = Member.objects.get(is_staff=True)
    posts = [make_post(thread, author=staff, body=f"B {n}") for n in range(55)]
    login(client, alice)
    response = client.get(reverse("forums:post", kwargs={"pk": posts[-1].pk}))
    assert response.url == f"{thread_url(thread)}?page=2#post-{posts[-1].pk}"


def test_an_edit_over_the_edit_limit_answers_429_with_the_reason_and_changes_nothing(
    client, alice, thread, settings
):
    settings.POST_EDIT_RATE_LIMIT = 1
    post = make_post(thread, author=alice, body="Erste Fassung")
    login(client, alice)
    url = reverse("forums:post_edit", kwargs={"pk": post.pk})
    client.post(url, {"body": "Zweite Fassung"})
    response = client.post(url, {"body": "Dritte Fassung"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.POST_RATE_WINDOW_SECONDS
    assert "You are editing very quickly" in response.content.decode()
    post.refresh_from_db()
    assert post.body == "Zweite Fassung"


def test_a_reply_over_the_post_limit_answers_429(client, alice, thread, settings):
    settings.POST_RATE_LIMIT = 1
    login(client, alice)
    url = reverse("forums:thread_reply", kwargs={"pk": thread.pk})
    client.post(url, {"body": "Eins"})
    response = client.post(url, {"body": "Zwei"})
    assert response.status_code == 429
    assert "You are posting very quickly" in response.content.decode()
    assert not Post.objects.filter(author=alice, body="Zwei").exists()
