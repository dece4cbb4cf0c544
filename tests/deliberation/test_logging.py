"""What the server log shows for refused requests and for real errors."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.urls import reverse

from forums import services
from forums.models import Post


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, captured."""
    # pytest's capture handlers subclass StreamHandler; the configured one is exactly one.
    handler = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


@pytest.mark.django_db
def test_a_forbidden_request_is_logged_as_one_line_without_a_traceback(
    client, console, sam, alice, bob
):
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten")
    thread = services.thread_create(actor=alice, forum=forum, title="Deckel", body="Erster")
    post = Post.objects.get(thread=thread)
    client.force_login(bob)
    url = reverse("forums:post_edit", args=[post.pk])
    assert client.get(url).status_code == 403
    assert console.getvalue().splitlines() == [f"Forbidden (Permission denied): {url}"]


@pytest.mark.django_db
def test_a_missing_page_is_logged_without_a_traceback(client, console, alice):
    client.force_login(alice)
    url = reverse("forums:thread", args=[999_999])
    assert client.get(url).status_code == 404
    assert console.getvalue().splitlines() == [f"Not Found: {url}"]


def test_a_server_error_keeps_its_traceback(console):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x/", exc_info=True, extra={"status_code": 500}
        )
    assert "Traceback" in console.getvalue()
    assert "RuntimeError: boom" in console.getvalue()
