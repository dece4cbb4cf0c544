"""The dashboard in a real browser, with content: accessible in German and English at 1280 and
360 px, every link reachable by keyboard in order, nothing
loaded from third parties. Set DASHBOARD_SCREENSHOTS=<folder> to keep PNGs of each state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from deliberation import dashboard as slots
from forums import services
from forums.models import Thread
from tests.e2e.conftest import assert_only_local, login, set_language
from tests.e2e.test_pages import (
    LANGUAGES,
    PHONE,
    assert_no_problems,
    check_page,
    screenshot,
)
from tests.factories import make_forum, make_member, make_post, make_thread

pytestmark = pytest.mark.e2e

#: Where a Tab stop is: the element's tag, link and text, and whether it is <body>.
FOCUSED = """() => {
  const el = document.activeElement;
  return {
    body: !el || el === document.body,
    tag: el ? el.tagName.toLowerCase() : '',
    href: el ? el.getAttribute('href') : null,
    text: el ? (el.innerText || el.value || '').trim().slice(0, 80) : '',
    inMain: !!(el && el.closest('main')),
  };
}"""


def _tab_through(page: Any, stops: int = 60) -> list[dict[str, Any]]:
    """Every Tab stop from the top of the page to its last focusable element (after which the
    browser hands focus to its own interface and ``document.activeElement`` is <body>)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        where = page.evaluate(FOCUSED)
        if where["body"]:
            break
        seen.append(where)
    return seen


@pytest.fixture
def busy_member(db) -> Any:
    """A member who has read two threads that have new replies since, in a lively forum."""
    bob = make_member(email="bob-e2e@example.org", display_name="Bob")
    group = make_member(
        email="fraktion-e2e@example.org", display_name="Fraktionsbüro", affiliation="fraktion"
    )
    anna = make_member(email="anna-e2e@example.org", display_name="Anna")
    forum = make_forum(slug="wohnen", title="Ratschlag Mieten und Wohnen")
    for title in ("Mietendeckel 2.0", "Vorkaufsrecht in Milieuschutzgebieten"):
        thread = make_thread(forum, author=bob, title=title)
        services.thread_mark_read(
            member=anna, thread=thread, seq=Thread.objects.get(pk=thread.pk).last_seq
        )
        make_post(thread, author=group, body="Die Fraktion hat dazu einen Antrag eingebracht.")
        make_post(thread, author=bob, body="Danke, das hilft weiter.")
    make_thread(forum, author=group, title="Leerstand melden: so geht es", body="Ein Leitfaden.")
    return anna


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_members_dashboard_is_accessible_and_reachable_by_keyboard(
    page, request_log, browser_errors, language, busy_member
):
    problems: list[str] = []
    login(page, busy_member)
    set_language(page, language)
    assert page.locator("main .badge--count").count() >= 2
    check_page(page, language, problems)
    screenshot(page, f"member-{language}", folder_variable="DASHBOARD_SCREENSHOTS")

    stops = _tab_through(page)
    main_links = {stop["href"] for stop in stops if stop["inMain"]}
    for href in page.eval_on_selector_all(
        "main a[href]", "els => els.map(e => e.getAttribute('href'))"
    ):
        assert href in main_links, f"{href} not reached by Tab; reached: {sorted(main_links)}"

    # At 360 px the same links are reachable and the first unread thread opens its first new post.
    page.set_viewport_size(PHONE)
    first = page.locator("main a.dash-title").first
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/foren/thema/" in page.url and "#post-" in page.url

    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_members_empty_dashboard_says_what_to_do(
    page, request_log, browser_errors, language, alice
):
    problems: list[str] = []
    login(page, alice)
    set_language(page, language)
    assert page.locator("main .empty-state").count() == 1
    assert page.locator("main .empty-state a[href='/foren/']").count() == 1
    check_page(page, language, problems)
    screenshot(page, f"empty-{language}", folder_variable="DASHBOARD_SCREENSHOTS")
    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitors_dashboard_explains_and_offers_the_login(
    page, request_log, browser_errors, language, alice
):
    make_thread(
        make_forum(slug="offen", title="Offenes Forum", visibility="public"),
        author=make_member(display_name="Bea"),
        title="Öffentliche Debatte",
    )
    problems: list[str] = []
    page.goto("/")
    set_language(page, language)
    assert page.locator("main a.button[href='/anmelden/']").count() == 1
    assert page.locator("main a.dash-title").count() == 1
    check_page(page, language, problems)
    screenshot(page, f"visitor-{language}", folder_variable="DASHBOARD_SCREENSHOTS")

    stops = _tab_through(page)
    assert "/anmelden/" in {stop["href"] for stop in stops if stop["inMain"]}

    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


@pytest.fixture
def conference_slots():
    """Stand-ins for the formats of issues #11 and #12: one live, one coming up."""

    def live(*, user, now):
        return [
            slots.LiveEntry(
                title="Basiskonferenz Koalitionsvertrag",
                url="/",
                followers=128,
                context="Tagesordnungspunkt 3: Mieten",
            )
        ]

    def coming(*, user, now):
        return [
            slots.UpcomingEntry(
                title="Abgeordnetenhaus: Haushalt 2027",
                url="/",
                starts_at=now + timedelta(days=3),
                context="Entscheidungskalender",
            )
        ]

    slots.register_live_now(live)
    slots.register_upcoming(coming)
    yield
    slots.unregister(live)
    slots.unregister(coming)


@pytest.mark.parametrize("language", LANGUAGES)
def test_live_and_coming_up_sections_are_accessible(
    page, browser_errors, language, busy_member, conference_slots
):
    """The formats' slots render in this process (the server in another has no providers yet):
    the page is rendered by Django's client and shown in the browser on the server's origin."""
    busy_member.language = language  # a member's saved choice decides their pages' language
    busy_member.save(update_fields=["language"])
    client = Client()
    client.force_login(busy_member)
    client.cookies["django_language"] = language
    html = client.get("/", headers={"accept-language": language}).content.decode()
    assert "badge--live" in html
    problems: list[str] = []
    page.goto("/healthz")
    page.set_content(html, wait_until="load")
    assert page.locator("main .badge--live").count() == 1
    check_page(page, language, problems)
    screenshot(page, f"live-{language}", folder_variable="DASHBOARD_SCREENSHOTS")
    assert_no_problems(problems + browser_errors)
