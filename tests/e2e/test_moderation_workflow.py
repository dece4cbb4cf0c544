"""The moderator's workflow in a real Chromium: keyboard only, actions in place, asking once.

bob wrote three posts that alice reported; mo moderates the forum. mo works the queue with the
keyboard alone: he claims the first case and hides its post, each confirmed once in the page's
live region, the case updated in place (no navigation), the focus never on <body>. The queue and
post pages are axe-clean in German and English at 360 and 1280 px; screenshots of the queue land
in /tmp/moderation/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from forums import services as forum_services
from forums.models import Post
from moderation import services
from moderation.models import Case, Reason
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import set_language

pytestmark = pytest.mark.e2e

QUEUE = "/moderation/mieten/"
SHOTS = Path("/tmp/moderation")
MAX_TABS = 40

# Records every text the live region shows, and every moment the focus fell to <body>.
WATCH = """() => {
  window.__announced = [];
  window.__lostFocus = [];
  const region = document.getElementById("live-announcer");
  new MutationObserver(() => {
    const text = region.textContent.trim();
    if (text) { window.__announced.push(text); }
  }).observe(region, { childList: true, characterData: true, subtree: true });
  document.addEventListener("focusout", () => {
    setTimeout(() => {
      if (document.activeElement === document.body) {
        window.__lostFocus.push(document.title);
      }
    }, 0);
  }, true);
}"""


@pytest.fixture
def queue(sam, bob, mo, alice):
    forum = forum_services.forum_create(actor=sam, title="Mieten", slug="mieten")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    thread = forum_services.thread_create(
        actor=bob, forum=forum, title="Mietendeckel", body="Erster Beitrag"
    )
    posts = []
    for body, reason in [
        ("Ihr seid alle doof", Reason.INSULT),
        ("Kauft billige Uhren bei uhren.example", Reason.SPAM),
        ("Das gehört nicht hierher", Reason.OFF_TOPIC),
    ]:
        post, _created = forum_services.post_create(actor=bob, thread=thread, body=body)
        services.report_create(actor=alice, post=post, reason=reason, text="Bitte prüfen")
        posts.append(post)
    own, _created = forum_services.post_create(actor=mo, thread=thread, body="Mos eigener Text")
    services.report_create(actor=alice, post=own, reason=Reason.OTHER)
    return {"forum": forum, "posts": posts, "own": own}


def focus_is_on_body(page) -> bool:
    return page.evaluate("() => document.activeElement === document.body")


def tab_to(page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus; the focus must never rest on <body>."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        assert not focus_is_on_body(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached in {MAX_TABS} Tab presses")


def test_a_keyboard_only_moderator_claims_a_case_and_hides_its_post_in_place(
    new_context, login, queue, mo, browser_errors
):
    page = new_context().new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, mo)
    page.goto(QUEUE)
    page.evaluate(WATCH)
    first = queue["posts"][0]
    case = Case.objects.get(post=first)
    item = page.locator(f"#case-{case.pk}")
    expect(item).to_be_visible()

    # Claim: Tab to the case's button, Enter; the case is re-rendered in place.
    tab_to(page, f"#case-{case.pk} [data-case-action=claim] button")
    page.keyboard.press("Enter")
    expect(item.locator(".queue-claim")).to_contain_text("Du bearbeitest das bis")
    expect(page.locator("#live-announcer")).to_contain_text("Du hast diesen Fall übernommen")
    # The focus moved to the next step of the same case: its actions.
    expect(item.locator("[data-case-panel] > summary")).to_be_focused()

    # Open the actions and the hiding form, choose a reason, send.
    page.keyboard.press("Enter")
    tab_to(page, f"#case-{case.pk} [data-action=hide] > summary")
    page.keyboard.press("Enter")
    tab_to(page, f"#case-{case.pk} [data-action=hide] input[name=reason]")
    page.keyboard.press("Space")
    # The no-script "Yes, I am sure" box is hidden: the script asks instead.
    expect(item.locator("[data-confirm-box]").first).to_be_hidden()
    tab_to(page, f"#case-{case.pk} [data-action=hide] button[type=submit]")
    page.keyboard.press("Enter")

    # It asks once, inline, and the question has the focus.
    question = item.locator(".confirm-question")
    expect(question).to_have_text("Diesen Beitrag wirklich ausblenden?")
    expect(question).to_be_focused()
    assert Post.objects.get(pk=first.pk).state == Post.State.PUBLISHED
    page.keyboard.press("Tab")
    expect(page.locator(".confirm-step button.button--danger")).to_be_focused()
    page.keyboard.press("Enter")

    # The case leaves the queue; the focus goes to the next case; the result is announced.
    expect(item).to_have_count(0)
    expect(page.locator("#live-announcer")).to_contain_text("Der Beitrag ist ausgeblendet.")
    next_case = Case.objects.get(post=queue["posts"][1])
    expect(page.locator(f"#case-{next_case.pk} .queue-item-label")).to_be_focused()
    assert Post.objects.get(pk=first.pk).state == Post.State.HIDDEN

    # No navigation happened: one navigation entry, the same URL; no window.confirm.
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert page.url.endswith(QUEUE)
    assert dialogs == []
    assert page.locator(".confirm-step").count() == 0
    announced = page.evaluate("() => window.__announced")
    for text in ["Du hast diesen Fall übernommen", "Der Beitrag ist ausgeblendet."]:
        assert sum(text in entry for entry in announced) == 1, announced
    assert page.evaluate("() => window.__lostFocus") == []
    assert not focus_is_on_body(page)
    assert not browser_errors, browser_errors


def test_cancel_keeps_the_post_and_returns_the_focus(new_context, login, queue, mo):
    page = new_context().new_page()
    login(page, mo)
    page.goto(QUEUE)
    case = Case.objects.get(post=queue["posts"][0])
    item = page.locator(f"#case-{case.pk}")
    item.locator("[data-case-panel] > summary").click()
    item.locator("[data-action=hide] > summary").click()
    item.locator("[data-action=hide] input[name=reason]").first.check()
    item.locator("[data-action=hide] button[type=submit]").click()
    expect(item.locator(".confirm-question")).to_be_focused()
    page.keyboard.press("Escape")
    expect(item.locator(".confirm-step")).to_have_count(0)
    expect(item.locator("[data-action=hide] button[type=submit]")).to_be_focused()
    assert Post.objects.get(pk=queue["posts"][0].pk).state == Post.State.PUBLISHED


def test_shortcuts_are_off_until_turned_on_and_then_move_between_cases(
    new_context, login, queue, mo
):
    page = new_context().new_page()
    login(page, mo)
    page.goto(QUEUE)
    cases = [Case.objects.get(post=post).pk for post in queue["posts"]]
    page.locator("main h1").click()
    page.keyboard.press("j")
    assert not page.evaluate("() => document.activeElement.matches('.queue-item-label')")
    page.locator("#shortcut-help > summary").click()
    toggle = page.locator("#shortcut-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("j")
    expect(page.locator(f"#case-{cases[0]} .queue-item-label")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator(f"#case-{cases[1]} .queue-item-label")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(f"#case-{cases[0]} .queue-item-label")).to_be_focused()
    page.keyboard.press("h")  # opens the hiding form of the focused case, sends nothing
    expect(
        page.locator(f"#case-{cases[0]} [data-action=hide] input[name=reason]").first
    ).to_be_focused()
    # Typing in a field never triggers a shortcut.
    page.locator(f"#case-{cases[0]} [data-action=hide] textarea").fill("jjj")
    expect(page.locator(f"#case-{cases[0]} [data-action=hide] textarea")).to_be_focused()
    # The choice is remembered.
    page.reload()
    expect(page.locator("#shortcut-toggle")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("width", [360, 1280])
def test_queue_and_post_pages_are_accessible_in_both_languages(
    new_context, login, queue, mo, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_context(viewport={"width": width, "height": 720}).new_page()
    login(page, mo)
    post = queue["posts"][0]
    case = Case.objects.get(post=post)
    for language in ["de", "en"]:
        page.goto(QUEUE)
        if language == "en":
            set_language(page, "en")
        expect(page.locator(f"#case-{case.pk}")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"queue-{language}-{width}.png"))
        assert_accessible(page)
        # Nothing scrolls sideways; the opened case with its confirmation is clean too.
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        item = page.locator(f"#case-{case.pk}")
        item.locator("[data-case-panel] > summary").click()
        item.locator("[data-action=hide] > summary").click()
        item.locator("[data-action=hide] input[name=reason]").first.check()
        item.locator("[data-action=hide] button[type=submit]").click()
        expect(item.locator(".confirm-step")).to_be_visible()
        item.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"queue-open-{language}-{width}.png"), full_page=True)
        assert_accessible(page)
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        page.goto(f"/moderation/beitrag/{post.pk}/")
        page.screenshot(path=str(SHOTS / f"post-{language}-{width}.png"), full_page=True)
        assert_accessible(page)
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


def test_four_cases_take_ten_tab_stops(new_context, login, queue, mo):
    """Three controls per case (the thread link, "take the case", its actions), one for the
    case about mo's own post (the thread link): 10 stops where the old queue had 34."""
    page = new_context().new_page()
    login(page, mo)
    page.goto(QUEUE)
    page.locator("#shortcut-help > summary").focus()
    stops = 0
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        # Past the last case the focus leaves the page (nothing focusable follows the queue).
        if not page.evaluate("() => !!document.activeElement.closest('#queue-items')"):
            break
        stops += 1
    assert stops == 10
