"""A post's language (kept from its author's interface language) and the one time format.

Why: a German post shown in the English interface (and the other way round) must carry ``lang``
so a screen reader speaks it in the right voice; the live client writes a post's time as the
server does, from the same format string (forums/timeformat.py).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from deliberation.models import Member
from forums import events, services
from forums.models import Post
from forums.timeformat import SUPPORTED, format_post_time, post_time_format, time_settings
from moderation import services as moderation_services
from tests.factories import make_forum, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def speaks(member: Member, language: str) -> Member:
    Member.objects.filter(pk=member.pk).update(language=language)
    member.refresh_from_db()
    return member


@pytest.fixture
def thread(bob):
    forum = make_forum(title="Mieten", slug="mieten")
    return make_thread(forum, author=bob, title="Mietendeckel", body="Was tun gegen hohe Mieten?")


def page_of(client, member, thread) -> str:
    client.force_login(member)
    html = client.get(reverse("forums:thread", kwargs={"pk": thread.pk})).content.decode()
    return html.split('<template id="post-template">')[0]


def test_a_post_keeps_its_authors_interface_language(thread, alice, bob):
    speaks(alice, "en")
    english = make_post(thread, author=alice, body="Rents are too high")
    german = make_post(thread, author=bob, body="Die Mieten sind zu hoch")
    assert (english.language, german.language) == ("en", "de")
    assert Post.objects.get(pk=english.pk).language == "en"


def test_a_post_sent_through_the_reply_form_keeps_the_language(client, thread, alice):
    speaks(alice, "en")
    client.force_login(alice)
    response = client.post(
        reverse("forums:thread_reply", kwargs={"pk": thread.pk}),
        {"body": "Written in English", "client_id": "a" * 32},
    )
    assert response.status_code == 302
    assert Post.objects.get(body="Written in English").language == "en"


def test_the_payload_carries_the_language_of_the_post_and_of_its_parent(thread, alice):
    speaks(alice, "en")
    parent = thread.posts.get()
    post, _ = services.post_create(actor=alice, thread=thread, body="Yes", reply_to_id=parent.pk)
    payload = events.post_payload(post)
    assert payload["language"] == "en"
    assert (payload["reply_to"]["language"], payload["reply_to"]["deleted"]) == ("de", False)
    services.post_delete(actor=parent.author, post=parent)
    post.refresh_from_db()
    assert events.post_payload(post)["reply_to"]["deleted"] is True


def test_a_post_in_the_other_language_is_marked_with_lang(client, thread, alice, bob):
    parent = thread.posts.get()  # bob's, German
    speaks(alice, "en")
    english = make_post(thread, author=alice, body="In English", reply_to_id=parent.pk)
    legacy = make_post(thread, author=alice, body="From before languages were kept")
    Post.objects.filter(pk=legacy.pk).update(language="")

    html = page_of(client, alice, thread)  # alice reads in English
    assert re.search(rf'id="post-{parent.pk}".*?<div class="post-body" lang="de">', html, re.S)
    english_li = html.split(f'id="post-{english.pk}"')[1].split("</li>")[0]
    assert '<div class="post-body">' in english_li
    assert '<q class="post-reply-to-excerpt" lang="de">' in english_li
    legacy_li = html.split(f'id="post-{legacy.pk}"')[1].split("</li>")[0]
    assert '<div class="post-body">' in legacy_li

    html = page_of(client, bob, thread)  # bob reads in German
    english_li = html.split(f'id="post-{english.pk}"')[1].split("</li>")[0]
    assert '<div class="post-body" lang="en">' in english_li
    assert '<q class="post-reply-to-excerpt">' in english_li


def test_the_post_time_format_uses_only_what_the_live_client_understands():
    for language in ("de", "en"):
        with translation.override(language):
            unescaped = re.sub(r"\\.", "", post_time_format())
            letters = {c for c in unescaped if c.isalpha()}
            assert letters and letters <= SUPPORTED, (language, letters - SUPPORTED)


def test_a_post_time_is_written_in_the_sites_time_zone_in_each_language():
    moment = dt.datetime(2026, 3, 1, 20, 5, tzinfo=dt.UTC)  # 21:05 in Berlin
    with translation.override("de"):
        assert format_post_time(moment) == "01.03.2026, 21:05"
        assert time_settings()["months"][2] == "Mär"
    with translation.override("en"):
        assert format_post_time(moment) == "1 Mar 2026, 21:05"
        assert time_settings() == {
            "format": "j M Y, H:i",
            "zone": "Europe/Berlin",
            "months": [
                "Jan",
                "Feb",
                "Mar",
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
            ],
        }
    assert format_post_time(None) == ""


def test_the_live_template_has_every_part_of_a_post_for_its_reader(client, thread, alice, mo, sam):
    moderation_services.moderator_grant(actor=sam, forum=thread.forum, member=mo)
    for member, moderates in ((alice, False), (mo, True)):
        client.force_login(member)
        html = client.get(reverse("forums:thread", kwargs={"pk": thread.pk})).content.decode()
        copy = html.split('<template id="post-template">')[1].split("</template>")[0]
        assert (
            '<button form="agree-form" name="post" value="" class="post-agree toggle button--small'
            ' agree-button" aria-pressed="false" aria-label="" hidden>'
        ) in copy
        assert '<a class="post-reply" href="?reply_to=#reply" aria-label="">' in copy
        # Parts that depend on the post are hidden and empty until the client fills them.
        assert '<p class="post-reply-to" hidden></p>' in copy
        assert '<span class="post-edited" hidden></span>' in copy
        assert '<p class="post-deleted-note" hidden></p>' in copy
        assert '<a class="post-edit" hidden></a><a class="post-delete" hidden></a>' in copy
        assert '<a class="post-report" href="" aria-label="" hidden>' in copy
        assert ('<a class="post-moderate" href="" aria-label="">' in copy) is moderates
        # The agreement toggles' one form, with the page's one CSRF token.
        posts = html.split('<ol id="posts"')[1].split("</ol>")[0]
        assert "csrfmiddlewaretoken" not in posts + copy
        assert '<form id="agree-form" method="post" action="/foren/thema/' in html
        # The page hands the live client the server's time format.
        assert f'data-time-format="{post_time_format()}"' in html
        assert 'data-time-zone="Europe/Berlin"' in html
