"""The design system in a real Chromium: the staff components page is accessible in German and
English on a phone and a desktop; a form that comes back with errors puts focus on its error
summary, whose links move focus to the field; a message after a redirect takes focus; a toggle's
pressed state looks different from its unpressed one (not only in colour).

sam is staff; alice reports bob's post (tests/conftest.py). Screenshots go to DESIGN_SHOTS
(default /tmp/design) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from forums import services as forum_services
from tests.e2e.axe import axe_violations, format_violations
from tests.e2e.conftest import login, set_language

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("DESIGN_SHOTS", "/tmp/design"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}

ACTIVE = """() => {
  const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
          text: (el.textContent || '').trim().slice(0, 80)};
}"""

OVERFLOW = """() => document.documentElement.scrollWidth > document.documentElement.clientWidth"""

STYLE = """(el) => {
  const s = getComputedStyle(el), mark = getComputedStyle(el, '::before');
  return {background: s.backgroundColor, border: s.borderTopWidth, borderColor: s.borderTopColor,
          weight: s.fontWeight, mark: mark.content, markBackground: mark.backgroundColor,
          height: el.getBoundingClientRect().height};
}"""


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def problems_at_both_widths(page: Any, label: str) -> list[str]:
    problems = []
    for size_name, size in (("1280", DESKTOP), ("360", PHONE)):
        page.set_viewport_size(size)
        violations = axe_violations(page)
        if violations:
            problems.append(format_violations(violations, where=f"{label} at {size_name} px: "))
        if page.evaluate(OVERFLOW):
            problems.append(f"{label} scrolls sideways at {size_name} px")
        shoot(page, f"{label}-{size_name}")
    page.set_viewport_size(DESKTOP)
    return problems


def tab_to(page: Any, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


@pytest.fixture
def post(sam, bob):
    forum = forum_services.forum_create(actor=sam, title="Mieten", slug="mieten")
    thread = forum_services.thread_create(
        actor=bob, forum=forum, title="Mietendeckel", body="Erster Beitrag"
    )
    post, _created = forum_services.post_create(actor=bob, thread=thread, body="Ein Beitrag")
    return post


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_components_page_is_accessible_on_a_phone_and_a_desktop(
    page, sam, language, browser_errors
):
    login(page, sam)
    set_language(page, language)
    page.goto("/komponenten/")
    assert page.get_attribute("html", "lang") == language
    assert page.locator("h1").count() == 1
    # The example form's summary does not take focus: the page opens at its top.
    assert page.evaluate(ACTIVE)["tag"] == "body"
    problems = problems_at_both_widths(page, f"components-{language}")
    assert not problems + browser_errors, "\n".join(problems + browser_errors)


def test_a_toggle_looks_different_when_pressed_and_classes_outrank_the_base_button(page, sam):
    login(page, sam)
    page.goto("/komponenten/")
    off = page.locator("#toggles .toggle").nth(0)
    on = page.locator("#toggles .toggle").nth(1)
    assert off.get_attribute("aria-pressed") == "false"
    assert on.get_attribute("aria-pressed") == "true"
    off_style, on_style = off.evaluate(STYLE), on.evaluate(STYLE)
    # Not only colour: a thicker border and a check mark.
    assert off_style["background"] != on_style["background"]
    assert float(on_style["border"].rstrip("px")) > float(off_style["border"].rstrip("px"))
    assert "✓" in on_style["mark"] and "✓" not in off_style["mark"]
    assert on_style["height"] >= 44 and off_style["height"] >= 44

    # Pressing it (by keyboard) switches the state, and the look with it.
    off.focus()
    page.keyboard.press("Space")
    assert off.get_attribute("aria-pressed") == "true"
    assert off.evaluate(STYLE)["background"] == on_style["background"]

    # A submit button with a class takes the class's look, not the base button's green.
    looks = page.evaluate(
        """() => {
          const plain = document.createElement('button');
          plain.type = 'submit'; plain.textContent = 'x';
          const toggle = plain.cloneNode(true);
          toggle.className = 'toggle'; toggle.setAttribute('aria-pressed', 'false');
          document.querySelector('main').append(plain, toggle);
          const bg = (el) => getComputedStyle(el).backgroundColor;
          return [bg(plain), bg(toggle)];
        }"""
    )
    assert looks[0] == "rgb(11, 92, 46)"  # --brand
    assert looks[1] == "rgb(255, 255, 255)"  # the toggle's own --paper


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_empty_report_sent_by_keyboard_puts_focus_on_the_error_summary(
    page, alice, post, language, browser_errors
):
    login(page, alice)
    set_language(page, language)
    page.goto(f"/moderation/beitrag/{post.pk}/melden/")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_function("() => document.activeElement.classList.contains('error-summary')")
    summary = page.locator(".error-summary")
    assert summary.locator("a").count() == 1
    problems = problems_at_both_widths(page, f"report-errors-{language}")

    # The summary's link takes focus to the first reason, and Tab goes on from there.
    page.locator(".error-summary").focus()
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["tag"] == "a"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'id_reason_0'")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-invalid')") == "true"
    assert not problems + browser_errors, "\n".join(problems + browser_errors)


def test_a_message_after_a_redirect_takes_focus_once(page, alice):
    login(page, alice)
    page.goto("/profil/")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.classList.contains('messages')")
    assert "profil" in page.evaluate(ACTIVE)["text"].lower()
    # Tab continues from the message into the page, never from <body>.
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')")
