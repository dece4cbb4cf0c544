"""The core pages in a real browser: accessible (axe-core, WCAG 2.1 AA) in German and English,
usable on a 360 px wide phone, reachable by keyboard, and loading nothing from third parties."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.axe import axe_violations, format_violations
from tests.e2e.conftest import assert_only_local, login, set_language

pytestmark = pytest.mark.e2e

LANGUAGES = ["de", "en"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}

# Wider than the viewport means the page scrolls sideways (WCAG 1.4.10 Reflow).
HORIZONTAL_OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide};
}"""


def check_page(page: Any, language: str, problems: list[str]) -> None:
    """Check the page as it is now; append what is wrong to ``problems``."""
    where = f"{page.url} [{language}]: "
    lang = page.get_attribute("html", "lang")
    if lang != language:
        problems.append(f"{where}<html lang> is {lang!r}")
    violations = axe_violations(page)
    if violations:
        problems.append(format_violations(violations, where=where))
    page.set_viewport_size(PHONE)
    try:
        overflow = page.evaluate(HORIZONTAL_OVERFLOW)
        if overflow["scrollWidth"] > overflow["clientWidth"]:
            problems.append(
                f"{where}scrolls sideways at 360 px: {overflow['scrollWidth']} px wide, "
                f"widest elements {overflow['wide']}"
            )
        phone_violations = [v for v in axe_violations(page) if v["id"] not in _ids(violations)]
        if phone_violations:
            problems.append(format_violations(phone_violations, where=f"{where}(360 px) "))
    finally:
        page.set_viewport_size(DESKTOP)


def _ids(violations: list[dict[str, Any]]) -> set[str]:
    return {violation["id"] for violation in violations}


def assert_no_problems(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def check_pages_in_both_languages(page: Any, paths: list[str], *, shots: str = "") -> list[str]:
    """:func:`check_page` for each of ``paths`` in German, then in English (the language switched
    on the first path if the page is in the other); with ``shots``, each German page is also kept
    as PNGs named after ``shots`` and the path (:func:`screenshot`)."""
    problems: list[str] = []
    for language in LANGUAGES:
        page.goto(paths[0])
        if page.get_attribute("html", "lang") != language:
            set_language(page, language)
        for path in paths:
            page.goto(path)
            check_page(page, language, problems)
            if shots and language == "de":
                name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
                screenshot(page, f"{shots}-{name or 'start'}")
    return problems


def screenshot(page: Any, name: str, *, folder_variable: str = "E2E_SCREENSHOTS") -> None:
    """Keep the page as PNGs at 1280 and 360 px in the folder the environment variable
    ``folder_variable`` names; nothing when it is unset (CI takes none)."""
    folder = os.environ.get(folder_variable)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", DESKTOP), ("360", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_for_visitors_are_accessible_and_load_only_our_assets(
    page, request_log, browser_errors, language, alice
):
    problems: list[str] = []
    page.goto("/")
    set_language(page, language)
    assert page.locator("h1").count() == 1
    check_page(page, language, problems)

    page.goto("/anmelden/")
    check_page(page, language, problems)

    # A failed login shows the form again with an error: that state must be accessible too.
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    # The error summary (not an alert: it takes focus, which makes it read) and nothing else.
    assert page.locator("main .error-summary").count() == 1
    assert page.locator("main [role=alert]").count() == 0
    check_page(page, language, problems)

    # Four more wrong passwords: the login is paused (django-axes), and that page must be too.
    for _ in range(4):
        page.fill("input[name=username]", alice.email)
        page.fill("input[name=password]", "not the password")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
    assert page.locator("main [role=alert]").count() == 1
    assert page.locator("main a[href='/passwort/vergessen/']").count() == 1
    check_page(page, language, problems)

    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_for_members_are_accessible_and_load_only_our_assets(
    page, request_log, browser_errors, language, alice
):
    problems: list[str] = []
    login(page, alice)
    set_language(page, language)
    assert page.locator("h1").inner_text().endswith("Alice")
    check_page(page, language, problems)

    page.goto("/profil/")
    check_page(page, language, problems)

    # Saving with an empty display name shows a field error: accessible too.
    page.fill("input[name=display_name]", "")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("main .errorlist").count() >= 1
    check_page(page, language, problems)

    assert_no_problems(problems + browser_errors)
    assert_only_local(request_log)


def test_the_language_switch_keeps_a_members_choice(page, alice):
    login(page, alice)
    set_language(page, "en")
    page.goto("/profil/")
    assert page.get_attribute("html", "lang") == "en"
    alice.refresh_from_db()
    assert alice.language == "en"


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className,"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"cls": "skip-link", "href": "#main"}
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "skip link is off screen on focus"

    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'")
    # The next Tab continues from main, not from the top of the page.
    page.keyboard.press("Tab")
    inside_main = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside_main
