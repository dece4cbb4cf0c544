"""A hidden post keeps its place: others see "hidden by moderation" and the reason category,
never the text or the moderator's explanation; its author and the moderators still read it."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from moderation import services
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "Der Vermieter heißt Müller und wohnt in der Lindenstraße 5"
EXPLANATION = "Personenbezogene Daten Dritter gehören nicht ins Forum."


@pytest.fixture
def hidden(sam, mo, bob, alice):
    forum = factories.make_forum(actor=sam, title="Mieten", slug="mieten")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    thread = factories.make_thread(forum, author=alice, title="Nebenkosten")
    post = factories.make_post(thread, author=bob, body=TEXT)
    cache.clear()  # the rate limit is not under test
    services.post_hide(actor=mo, post=post, reason="personal_data", text=EXPLANATION)
    return thread


def page_of(member, thread) -> str:
    client = Client()
    client.force_login(member)
    response = client.get(thread.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_other_members_see_a_placeholder_with_the_reason_category_in_its_place(hidden, alice):
    page = page_of(alice, hidden)
    assert "Von der Moderation ausgeblendet – Persönliche Daten anderer" in page
    assert TEXT not in page
    assert EXPLANATION not in page


def test_its_author_reads_the_text_the_reason_and_the_explanation(hidden, bob):
    page = page_of(bob, hidden)
    assert TEXT in page
    assert EXPLANATION in page


def test_the_forums_moderators_read_the_hidden_text(hidden, mo):
    page = page_of(mo, hidden)
    assert TEXT in page
    assert EXPLANATION in page


def test_the_page_carries_the_reason_labels_for_the_live_client(hidden, alice):
    page = page_of(alice, hidden)
    found = re.search(
        r'<script id="moderation-reasons" type="application/json">(.*?)</script>', page
    )
    assert found, "no reason labels in the page"
    assert json.loads(found.group(1))["personal_data"] == "Persönliche Daten anderer"


def test_a_page_with_hidden_posts_costs_no_query_per_hidden_post(
    sam, mo, bob, alice, django_assert_max_num_queries
):
    forum = factories.make_forum(actor=sam, title="Mieten", slug="mieten")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    thread = factories.make_thread(forum, author=alice, title="Nebenkosten")
    for n in range(12):
        cache.clear()
        post = factories.make_post(thread, author=bob, body=f"Beitrag {n}")
        services.post_hide(actor=mo, post=post, reason="insult")
    client = Client()
    client.force_login(alice)
    client.get(thread.get_absolute_url())  # first visit marks the thread read
    with django_assert_max_num_queries(8):
        assert client.get(thread.get_absolute_url()).status_code == 200
