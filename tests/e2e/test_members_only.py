"""Members-only threads in a real browser: a moderator marks a new thread members-only by
keyboard, its badge shows on the forum page and the thread page, and the pages that offer and
show the mark (the new-thread form with its checkbox, the thread, the forum list, the thread's
moderation page) are axe-clean in German and English at 1280 and 360 px."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from forums import services as forum_services
from forums.models import Forum, Thread
from tests import factories
from tests.e2e.conftest import login
from tests.e2e.test_pages import assert_no_problems, check_pages_in_both_languages

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(daphne_live) -> dict[str, Any]:
    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    mo = factories.make_member(email="mo@example.org", display_name="Mo")
    forum = factories.make_forum(
        actor=sam, title="Ratschlag Mieten", slug="mieten", kind=Forum.Kind.ADVISORY
    )
    forum_services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    return {"forum": forum, "mo": mo}


def test_a_moderator_starts_a_members_only_thread_by_keyboard(page, world):
    login(page, world["mo"])
    page.goto(reverse("forums:thread_create", args=["mieten"]))
    page.focus("#id_title")
    page.keyboard.type("Strategie für die Verhandlungen")
    page.focus("#id_members_only")
    page.keyboard.press("Space")
    expect(page.locator("#id_members_only")).to_be_checked()
    page.focus("#id_body")
    page.keyboard.type("Nur unter uns: Was ist unsere Schmerzgrenze?")
    page.focus("#id_title")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    thread = Thread.objects.get(title="Strategie für die Verhandlungen")
    assert thread.members_only
    expect(
        page.locator("main h1 ~ .badge, main .badge", has_text="nur für Mitglieder")
    ).to_have_count(1)
    problems = check_pages_in_both_languages(
        page,
        [
            reverse("forums:thread_create", args=["mieten"]),
            reverse("forums:thread", args=[thread.pk]),
            reverse("forums:forum", args=["mieten"]),
            reverse("moderation:thread", args=[thread.pk]),
        ],
        shots="members-only",
    )
    assert_no_problems(problems)
