"""Reads behind the forum pages and the dashboard."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from forums import selectors, services
from tests.factories import make_forum, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_thread_is_unread_until_read_to_its_end(alice, bob):
    forum = make_forum(slug="lesen")
    thread = make_thread(forum, author=bob)
    assert selectors.forum_list(user=alice).get(pk=forum.pk).has_unread
    assert selectors.forum_threads(user=alice, forum=forum).get().is_unread
    services.thread_mark_read(member=alice, thread=thread, seq=thread.last_seq)
    assert not selectors.forum_list(user=alice).get(pk=forum.pk).has_unread
    make_post(thread, author=bob)
    assert selectors.forum_threads(user=alice, forum=forum).get().is_unread


def test_a_page_of_posts_comes_with_its_total_in_one_query(alice, django_assert_num_queries):
    thread = make_thread(make_forum(slug="zaehlen"))
    for n in range(60):
        make_post(thread, body=f"B{n}")
    posts = selectors.thread_posts(user=alice, thread=thread, is_moderator=False)
    with django_assert_num_queries(1):
        page = selectors.thread_post_page(posts, "2")
        assert page.paginator.count == 61 and page.paginator.num_pages == 2
        assert len(page.object_list) == 11 and page.number == 2
    last = selectors.thread_post_page(posts, "last")
    assert last.number == 2
    assert selectors.thread_post_page(posts, "99").number == 2
    assert selectors.thread_post_page(posts, "kaputt").number == 1
