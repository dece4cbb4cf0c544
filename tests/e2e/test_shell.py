"""The page shell in Chromium: the compact header on a phone, the menu button by keyboard and
without scripts, the live region's announce(), the favicon, and the footer and error pages
accessible in German and English at 360 and 1280 px.

The server here runs with DEBUG off, as members meet it: unknown addresses get our 404 page.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from consultations.conferences import services as conference_services
from deliberation import notifications, services
from deliberation.models import SitePage
from forums.models import Forum
from moderation import services as moderation_services
from moderation.models import Reason
from moderation.services_forum import moderator_grant
from tests import factories
from tests.e2e.conftest import assert_only_local, login, set_language
from tests.e2e.test_pages import DESKTOP, PHONE, assert_no_problems, check_page
from tests.servers import DaphneServer, daphne_server, database_url_of_current_test_db

pytestmark = pytest.mark.e2e

LANGUAGES = ["de", "en"]
HEADER_MAX_PX = 64


@pytest.fixture
def daphne_live(transactional_db, django_db_serialized_rollback, tmp_path: Path):
    """As the package's, but with DEBUG off (overrides it for this module)."""
    server: DaphneServer = daphne_server(
        log_dir=tmp_path,
        database_url=database_url_of_current_test_db(),
        extra_env={"DJANGO_DEBUG": "0"},
    )
    server.start()
    yield server
    server.stop()


def header_height(page: Any) -> float:
    return page.evaluate("() => document.querySelector('.site-header').offsetHeight")


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement;
        return {tag: el.tagName.toLowerCase(), menu: el.hasAttribute('data-menu-button'),
                inMenu: !!el.closest('#site-menu'), text: el.textContent.trim()}; }"""
    )


@pytest.fixture
def moderator(sam, mo):
    moderator_grant(actor=sam, forum=factories.make_forum(title="Mieten", slug="mieten"), member=mo)
    return mo


# --- header -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_header_is_at_most_64_px_tall_on_a_phone_even_for_a_moderator(
    page, moderator, language
):
    login(page, moderator)
    set_language(page, language)
    page.goto("/foren/")
    assert page.locator(".site-nav a", has_text="Moderation").count() == 1
    page.set_viewport_size(PHONE)
    assert header_height(page) <= HEADER_MAX_PX
    assert page.locator("[data-menu-button]").is_visible()
    assert not page.locator("#site-menu").is_visible()
    # Opened, the menu lists every link; closed again, the header is compact again.
    page.click("[data-menu-button]")
    assert page.locator(".site-nav a", has_text="Moderation").is_visible()
    page.click("[data-menu-button]")
    assert header_height(page) <= HEADER_MAX_PX


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_wide_screen_the_links_and_log_out_sit_on_one_line(page, moderator, alice, language):
    # The longest header there is: a moderator with open cases and unread notifications.
    thread = factories.make_thread(Forum.objects.get(slug="mieten"))
    for _ in range(12):
        post = factories.make_post(thread)
        moderation_services.report_create(actor=alice, post=post, reason=Reason.SPAM)
    verb = sorted(notifications.registered_verbs())[0]
    for _ in range(12):
        notifications.notify(member=moderator, verb=verb, params={})
    login(page, moderator)
    set_language(page, language)
    page.goto("/")
    assert not page.locator("[data-menu-button]").is_visible()
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.site-nav a, .site-nav button.link')]
             .map(el => { const r = el.getBoundingClientRect();
                          return {text: el.textContent.trim(), middle: r.top + r.height / 2,
                                  height: r.height}; })"""
    )
    middles = {round(box["middle"]) for box in boxes}
    assert len(boxes) == 7 and max(middles) - min(middles) <= 1, boxes
    assert "(12" in " ".join(box["text"] for box in boxes), boxes
    # No link breaks inside itself either ("Benachrichtigungen (12)" on two lines).
    assert len({round(box["height"]) for box in boxes}) == 1, boxes
    assert header_height(page) <= HEADER_MAX_PX


@pytest.mark.parametrize(("language", "label"), [("de", "Konferenzen"), ("en", "Conferences")])
def test_conferences_is_in_the_navigation_and_marked_on_conference_pages(
    page, browser_errors, alice, sam, language, label
):
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz Koalitionsvertrag",
        slug="bk",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
    )
    login(page, alice)
    set_language(page, language)
    link = page.locator(".site-nav a", has_text=label)
    assert link.count() == 1 and link.get_attribute("aria-current") is None
    link.click()
    page.wait_for_url("**/konferenzen/")
    assert link.get_attribute("aria-current") == "page"
    problems: list[str] = []
    check_page(page, language, problems)  # axe at 1280 and 360 px, nothing sideways
    page.goto(conference.get_absolute_url())
    assert link.get_attribute("aria-current") == "true"
    weight = link.evaluate("el => getComputedStyle(el).fontWeight")
    other = page.locator(".site-nav a").first.evaluate("el => getComputedStyle(el).fontWeight")
    assert int(weight) > int(other)
    check_page(page, language, problems)
    # On a phone it is in the menu, marked the same way.
    page.set_viewport_size(PHONE)
    assert not link.is_visible()
    page.click("[data-menu-button]")
    assert link.is_visible() and link.get_attribute("aria-current") == "true"
    assert_no_problems(problems + browser_errors)


def test_the_current_page_is_marked_visibly(page, alice):
    login(page, alice)
    page.goto("/profil/")
    current = page.locator(".site-nav a[aria-current=page]")
    assert current.count() == 1 and "Profil" in current.inner_text()
    weight = current.evaluate("el => getComputedStyle(el).fontWeight")
    other = page.locator(".site-nav a", has_text="Foren").evaluate(
        "el => getComputedStyle(el).fontWeight"
    )
    assert int(weight) > int(other)


def test_the_menu_button_works_by_keyboard_and_escape_returns_focus(page, alice):
    login(page, alice)
    page.set_viewport_size(PHONE)
    page.goto("/")
    button = page.locator("[data-menu-button]")
    # Skip link, brand, then the menu button.
    for _ in range(3):
        page.keyboard.press("Tab")
    assert focused(page)["menu"]
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    assert page.locator("#site-menu").is_visible()
    page.keyboard.press("Tab")
    assert focused(page)["inMenu"], focused(page)
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.locator("#site-menu").is_visible()
    assert focused(page)["menu"], "Escape must return focus to the menu button"
    page.keyboard.press("Space")
    assert button.get_attribute("aria-expanded") == "true"


def test_without_scripts_the_navigation_stays_open_and_the_button_is_hidden(new_context):
    context = new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto("/")
    assert not page.locator("[data-menu-button]").is_visible()
    assert page.locator(".site-nav a", has_text="Foren").is_visible()
    assert page.locator(".lang-switch").is_visible()


def test_the_favicon_and_the_icons_load(page, request_log, browser_errors):
    page.goto("/")
    assert page.request.get("/favicon.ico").status == 200
    for selector in ("link[rel=icon][type='image/svg+xml']", "link[rel=icon][type='image/png']"):
        href = page.get_attribute(selector, "href")
        assert page.request.get(href).status == 200, href
    natural = page.evaluate("() => document.querySelector('.brand-signet').naturalWidth")
    assert natural > 0, "the signet did not load"
    assert not browser_errors
    assert_only_local(request_log)


# --- the live region --------------------------------------------------------------------------

WATCH_ANNOUNCER = """() => {
  window.__spoken = [];
  const region = document.getElementById('live-announcer');
  new MutationObserver(() => { if (region.textContent) window.__spoken.push(region.textContent); })
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


def test_announce_batches_messages_and_never_repeats_itself(page):
    page.clock.install()
    page.goto("/")
    region = page.locator("#live-announcer")
    assert region.get_attribute("aria-live") == "polite"
    assert region.evaluate("el => el.getBoundingClientRect().height") <= 1  # never seen
    page.evaluate(WATCH_ANNOUNCER)

    page.evaluate("() => { Mitmachen.announce('Ein neuer Beitrag.'); }")
    page.clock.run_for(300)
    page.evaluate("() => { Mitmachen.announce('Noch ein Beitrag.'); }")
    page.evaluate("() => { Mitmachen.announce('Noch ein Beitrag.'); }")
    page.clock.run_for(600)
    assert page.evaluate("() => window.__spoken") == [], "announced before the batch closed"
    page.clock.run_for(500)
    assert page.evaluate("() => window.__spoken") == ["Ein neuer Beitrag. Noch ein Beitrag."]

    # The same text again, while it is still in the region: not read twice in a row.
    page.evaluate("() => { Mitmachen.announce('Ein neuer Beitrag. Noch ein Beitrag.'); }")
    page.clock.run_for(1200)
    assert len(page.evaluate("() => window.__spoken")) == 1
    page.evaluate("() => { Mitmachen.announce('Ein neuer Beitrag.'); }")
    page.clock.run_for(1200)
    assert page.evaluate("() => window.__spoken") == [
        "Ein neuer Beitrag. Noch ein Beitrag.",
        "Ein neuer Beitrag.",
    ]
    page.evaluate("() => { Mitmachen.announce('Ein neuer Beitrag.'); }")
    page.clock.run_for(1200)
    assert len(page.evaluate("() => window.__spoken")) == 2

    # Once the region has gone quiet, the same text may be announced again.
    page.clock.run_for(6000)
    assert region.text_content() == ""
    page.evaluate("() => { Mitmachen.announce('Ein neuer Beitrag.'); }")
    page.clock.run_for(1200)
    assert page.evaluate("() => window.__spoken")[-1] == "Ein neuer Beitrag."
    assert len(page.evaluate("() => window.__spoken")) == 3


# --- footer pages and error pages: accessible in both languages at both widths -------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_footer_and_error_pages_are_accessible(
    page, new_context, request_log, browser_errors, language, alice
):
    services.site_page_update(
        page=SitePage.objects.get(slug="impressum"),
        title_de="Impressum",
        body_de="> **Demo-Text.**\n\n## Anbieter\n\nLandesverband Berlin\nMusterstraße 1",
        title_en="",
        body_en="",
    )
    problems: list[str] = []
    page.goto("/")
    set_language(page, language)
    for path in ("/impressum/", "/datenschutz/", "/barrierefreiheit/", "/kontakt/"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.locator("h1").count() == 1
        check_page(page, language, problems)
        footer_link = page.locator(f".site-footer a[href='{path}']")
        assert footer_link.get_attribute("aria-current") == "page"
    if language == "en":
        assert page.goto("/impressum/") is not None
        assert page.get_attribute("article.site-page", "lang") == "de"

    response = page.goto("/gibt-es-nicht/")
    assert response is not None and response.status == 404
    check_page(page, language, problems)

    member = new_context(locale="de-DE", viewport=DESKTOP).new_page()
    login(member, alice)
    set_language(member, language)
    response = member.goto("/moderation/")
    assert response is not None and response.status == 403
    check_page(member, language, problems)

    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


def test_an_expired_form_gets_our_403_page(page, alice):
    login(page, alice)
    page.goto("/profil/")
    page.context.clear_cookies(name="csrftoken")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("h1").inner_text() == "Das Formular konnte nicht gesendet werden"
    problems: list[str] = []
    check_page(page, "de", problems)
    assert_no_problems(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_500_page_is_accessible(page, browser_errors, language):
    # Django renders 500.html without a request; the browser gets exactly that HTML here.
    with translation.override(language):
        html = render_to_string("500.html")
    page.route(
        "**/kaputt/", lambda route: route.fulfill(status=500, body=html, content_type="text/html")
    )
    response = page.goto("/kaputt/")
    assert response is not None and response.status == 500
    assert page.locator("link[href$='shell.css']").count() == 1
    problems: list[str] = []
    check_page(page, language, problems)
    assert_no_problems(problems + browser_errors)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_busy_page_is_accessible(page, browser_errors, language):
    # deliberation.overload renders 503.html without a request when the database pool is
    # exhausted; the browser gets exactly that HTML here, with its Retry-After.
    from deliberation.overload import RETRY_AFTER

    with translation.override(language):
        html = render_to_string("503.html", {"retry_after": RETRY_AFTER})
    page.route(
        "**/beschaeftigt/",
        lambda route: route.fulfill(status=503, body=html, content_type="text/html"),
    )
    response = page.goto("/beschaeftigt/")
    assert response is not None and response.status == 503
    assert page.locator("link[href$='shell.css']").count() == 1
    problems: list[str] = []
    check_page(page, language, problems)  # axe, and nothing sideways at 360 px
    assert_no_problems(problems + browser_errors)
