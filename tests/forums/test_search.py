"""Forum search: German full text on PostgreSQL, a plain substring search on SQLite.

Runs on whatever database the suite uses; CI runs it on PostgreSQL. alice is a member, olga an
outsider (a guest of nothing), anonymous visitors see public forums only.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from deliberation.models import Member
from forums import selectors, services
from forums.models import Forum, Post
from tests.factories import make_forum, make_post, make_thread

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def search(client, member, q, **params):
    if member is not None:
        Member.objects.filter(pk=member.pk).update(language="en")
        client.force_login(member)
    return client.get(reverse("forums:search"), {"q": q, **params})


def found(response) -> list[str]:
    return [hit.post.body for hit in response.context["hits"]]


@pytest.fixture
def forum(db):
    return make_forum(title="Mieten", slug="mieten")


@pytest.fixture
def thread(forum):
    return make_thread(forum, title="Wohnungsnot", body="Die Mieten steigen in Berlin.")


def test_search_finds_a_word_in_a_post(client, alice, thread):
    make_post(thread, body="Wir brauchen mehr Sozialwohnungen.")
    response = search(client, alice, "Sozialwohnungen")
    assert response.status_code == 200
    assert found(response) == ["Wir brauchen mehr Sozialwohnungen."]


@pytest.mark.skipif(not POSTGRES, reason="stemming needs PostgreSQL's German configuration")
def test_search_finds_inflected_german_words(client, alice, thread):
    make_post(thread, body="Die Miete frisst das halbe Einkommen.")
    bodies = found(search(client, alice, "Mieten"))
    assert "Die Miete frisst das halbe Einkommen." in bodies
    assert "Die Mieten steigen in Berlin." in bodies


def test_search_finds_posts_by_their_threads_title(client, alice, thread):
    assert "Die Mieten steigen in Berlin." in found(search(client, alice, "Wohnungsnot"))


def test_search_marks_the_match_and_escapes_the_text(client, alice, thread):
    make_post(thread, body="<script>alert(1)</script> 3 < 4: Mietpreisbremse & mehr")
    html = search(client, alice, "Mietpreisbremse").content.decode()
    # A German post in the English interface is marked as German.
    excerpt = html[html.index('<p class="excerpt" lang="de">') :]
    excerpt = excerpt[: excerpt.index("</p>")]
    assert "<script>" not in excerpt  # PostgreSQL's headline drops tags, SQLite's is escaped
    assert "3 &lt; 4: <mark>Mietpreisbremse</mark> &amp; mehr" in excerpt


def test_search_results_link_to_the_post(client, alice, thread):
    post = make_post(thread, body="Genossenschaften fördern")
    html = search(client, alice, "Genossenschaften").content.decode()
    permalink = reverse("forums:post", kwargs={"pk": post.pk})
    assert f'href="{permalink}"' in html
    response = client.get(permalink)
    assert response.url == f"{thread.get_absolute_url()}#post-{post.pk}"


def test_search_never_returns_posts_from_forums_the_user_cannot_see(client, olga, alice):
    members = make_forum(slug="intern")
    make_thread(members, body="Interner Vorschlag zur Bodenpolitik")
    invited = make_forum(slug="geladen", visibility=Forum.Visibility.INVITED)
    make_thread(invited, body="Geladener Vorschlag zur Bodenpolitik")
    public = make_forum(slug="offen", visibility=Forum.Visibility.PUBLIC)
    make_thread(public, body="Öffentlicher Vorschlag zur Bodenpolitik")

    # Olga is a guest of no forum: the public one is not hers either (issue #12).
    assert found(search(client, olga, "Bodenpolitik")) == []
    assert sorted(found(search(client, alice, "Bodenpolitik"))) == [
        "Interner Vorschlag zur Bodenpolitik",
        "Öffentlicher Vorschlag zur Bodenpolitik",
    ]
    client.logout()
    assert found(search(client, None, "Bodenpolitik")) == [
        "Öffentlicher Vorschlag zur Bodenpolitik"
    ]


def test_search_never_returns_held_hidden_or_deleted_posts(client, alice, mo, bob):
    premod = make_forum(slug="vorab", premoderated=True)
    staff = Member.objects.get(is_staff=True)
    thread = make_thread(premod, body="Start")
    held = make_post(thread, author=alice, body="Wartender Erbpachtvorschlag")
    assert held.state == "held"
    open_forum = make_forum(slug="frei")
    other = make_thread(open_forum, body="Start")
    hidden = make_post(other, author=bob, body="Versteckter Erbpachtvorschlag")
    # Hiding is the moderation app's service; the state is all that matters here.
    Post.objects.filter(pk=hidden.pk).update(state=Post.State.HIDDEN)
    deleted = make_post(other, author=bob, body="Gelöschter Erbpachtvorschlag")
    services.post_delete(actor=bob, post=deleted)
    make_post(other, author=bob, body="Sichtbarer Erbpachtvorschlag")

    for member in (alice, bob, staff):  # not even to their authors or moderators
        assert found(search(client, member, "Erbpachtvorschlag")) == [
            "Sichtbarer Erbpachtvorschlag"
        ]


def test_an_empty_query_shows_the_hint_and_no_results(client, alice, thread):
    response = search(client, alice, "   ")
    assert response.status_code == 200
    assert response.context["hits"] == []
    assert "Enter one or more words" in response.content.decode()


def test_a_query_without_results_says_so(client, alice, thread):
    response = search(client, alice, "Raumfahrtbehörde")
    assert "Nothing found for “Raumfahrtbehörde”." in response.content.decode()


def test_search_results_are_paged(client, alice, thread):
    staff = Member.objects.get(is_staff=True)
    for n in range(selectors.SEARCH_RESULTS_PER_PAGE + 3):
        make_post(thread, author=staff, body=f"Quartiersrat Nummer {n}")
    first = search(client, alice, "Quartiersrat")
    assert len(first.context["hits"]) == selectors.SEARCH_RESULTS_PER_PAGE
    second = search(client, alice, "Quartiersrat", page=2)
    assert len(second.context["hits"]) == 3
    assert "q=Quartiersrat" in first.content.decode()  # the page links keep the query


def test_anonymous_visitors_may_search_public_forums(client, thread):
    response = client.get(reverse("forums:search"), {"q": "Mieten"})
    assert response.status_code == 200
    assert response.context["hits"] == []
