"""The thread page by keyboard alone, one post template for server and live rendering, and the
page's accessibility with live posts present (issue #10, "Thread").

bob writes, alice reads (a member), mo reads as the forum's moderator; sam (staff) opened the forum
and the thread. Browser tests are sync; rows are committed (``daphne_live``). Screenshots go to
``$E2E_SCREENSHOTS`` when it is set (e.g. ``E2E_SCREENSHOTS=/tmp/thread``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from forums import services
from moderation import services as moderation_services
from tests.e2e.axe import assert_accessible
from tests.e2e.outer_html import normalised

pytestmark = pytest.mark.e2e

LIVE_MS = 5_000
#: Tab presses allowed to reach a control before the test gives up.
MAX_TABS = 80

ACTIVE = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) { return "BODY"; }
  const li = a.closest("li.post");
  return (a.id ? "#" + a.id : a.tagName.toLowerCase())
    + (a.className ? "." + String(a.className).trim().split(/\\s+/).join(".") : "")
    + (li ? " in " + li.id : "");
}"""


@pytest.fixture
def thread(sam, bob, mo):
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten")
    moderation_services.moderator_grant(actor=sam, forum=forum, member=mo)
    thread = services.thread_create(
        actor=sam,
        forum=forum,
        title="Mietendeckel",
        body="Wie geht es weiter mit dem Mietendeckel?",
    )
    services.post_create(actor=bob, thread=thread, body="Ich finde, wir sollten **mehr** tun.")
    return thread


def open_thread(new_context, login, member, thread, **options):
    page = new_context(**options).new_page()
    login(page, member)
    page.goto(thread.get_absolute_url())
    expect(page.locator("#thread[data-live=online]")).to_have_count(1)
    return page


def announcer(page):
    return page.locator("#live-announcer")


def focus_of(page) -> str:
    return page.evaluate(ACTIVE)


def assert_focus_kept(page, step: str) -> str:
    where = focus_of(page)
    assert where != "BODY", f"focus fell to <body> after: {step}"
    return where


def tab_to(page, selector: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus; focus is never on <body>."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        assert_focus_kept(page, f"{key} towards {selector}")
    raise AssertionError(f"{selector} not reached with {MAX_TABS} presses of {key}")


# --- a live post is the same as after a reload ----------------------------------------------------


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("viewer_name", ["alice", "mo"])
def test_a_live_post_is_the_same_as_after_a_reload(
    new_context, login, thread, bob, language, viewer_name, request, browser_errors
):
    viewer = request.getfixturevalue(viewer_name)
    viewer.language = language
    viewer.save(update_fields=["language"])
    # The author writes in the other language: the body must carry his language.
    bob.language = "en" if language == "de" else "de"
    bob.save(update_fields=["language"])
    first = thread.posts.order_by("created_at").first()

    reader = open_thread(new_context, login, viewer, thread)
    assert reader.get_attribute("html", "lang") == language
    writer = open_thread(new_context, login, bob, thread)
    writer.locator(f"#post-{first.pk} a.post-reply").click()
    writer.fill("#reply-form textarea[name=body]", "Live geschrieben, mit **Nachdruck**.")
    writer.click("#reply-form button[type=submit]")

    live = reader.locator("#posts li.post", has_text="Live geschrieben")
    expect(live).to_have_count(1, timeout=LIVE_MS)
    expect(live).to_have_attribute("id", re.compile(r"^post-\d+$"))
    post_id = live.get_attribute("id")
    expect(announcer(reader)).to_contain_text("Bob", timeout=LIVE_MS)
    live_html = live.evaluate("(li) => li.outerHTML")

    reader.reload()
    expect(reader.locator("#thread[data-live=online]")).to_have_count(1)
    reloaded_html = reader.locator(f"#{post_id}").evaluate("(li) => li.outerHTML")

    assert normalised(live_html) == normalised(reloaded_html)
    # What the comparison covers, so it cannot pass on two empty shells:
    post = reader.locator(f"#{post_id}")
    expect(post.locator(".post-body")).to_have_attribute("lang", bob.language)
    expect(post.locator(".post-body strong")).to_have_text("Nachdruck")
    expect(post.locator(".post-reply-to")).to_be_visible()
    expect(post.locator(".post-reply-to-excerpt")).to_contain_text("Mietendeckel")
    expect(post.locator("button.post-agree")).to_have_accessible_name(re.compile("Bob"))
    expect(post.locator("a.post-reply")).to_have_accessible_name(re.compile("Bob"))
    expect(post.locator("a.post-report")).to_be_visible()
    expect(post.locator("a.post-moderate")).to_have_count(1 if viewer_name == "mo" else 0)
    expect(post.locator(".post-time")).to_have_text(re.compile(r"\d{4}, \d\d:\d\d$"))
    assert not browser_errors


def test_a_post_edited_and_deleted_live_is_the_same_as_after_a_reload(
    new_context, login, thread, alice, bob, browser_errors
):
    """The parts the server leaves empty while hidden ("(edited)", the deleted note, the author's
    edit and delete links) are filled and emptied by the client as the server renders them."""
    reader = open_thread(new_context, login, alice, thread)
    writer = open_thread(new_context, login, bob, thread)
    writer.fill("#reply-form textarea[name=body]", "Erste Fassung, live.")
    writer.click("#reply-form button[type=submit]")
    live = reader.locator("#posts li.post", has_text="Erste Fassung")
    expect(live).to_have_count(1, timeout=LIVE_MS)
    post_id = live.get_attribute("id")
    own = writer.locator(f"#{post_id}")
    expect(own).to_have_count(1, timeout=LIVE_MS)

    def same_after_reload(page) -> None:
        live_html = page.locator(f"#{post_id}").evaluate("(li) => li.outerHTML")
        page.reload()
        expect(page.locator("#thread[data-live=online]")).to_have_count(1)
        reloaded = page.locator(f"#{post_id}").evaluate("(li) => li.outerHTML")
        assert normalised(live_html) == normalised(reloaded)

    # The author's own live post: edit and delete links filled in by the client.
    expect(own.locator("a.post-edit")).to_have_text("Bearbeiten")
    same_after_reload(writer)

    with writer.expect_navigation():
        writer.locator(f"#{post_id} a.post-edit").click()
    writer.fill("textarea[name=body]", "Zweite Fassung, live.")
    with writer.expect_navigation():
        writer.click("main form button[type=submit]")
    expect(reader.locator(f"#{post_id} .post-edited")).to_have_text("(bearbeitet)", timeout=LIVE_MS)
    same_after_reload(reader)

    with writer.expect_navigation():
        writer.locator(f"#{post_id} a.post-delete").click()
    with writer.expect_navigation():
        writer.click("main form button[type=submit]")
    deleted = reader.locator(f"#{post_id}")
    expect(deleted.locator(".post-deleted-note")).to_be_visible(timeout=LIVE_MS)
    expect(deleted.locator(".post-body")).to_be_empty()
    same_after_reload(reader)
    assert not browser_errors


def test_agreeing_works_without_javascript(new_context, login, thread, alice, bob):
    """The toggle is a submit button of the page's one agreement form (#agree-form)."""
    bobs = thread.posts.get(author=bob)
    page = open_thread_without_js(new_context, login, alice, thread)
    toggle = page.locator(f"#post-{bobs.pk} button.post-agree")
    expect(toggle).to_have_accessible_name("Dem Beitrag von Bob zustimmen")
    with page.expect_navigation():
        toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#post-{bobs.pk} .post-agree-total")).to_have_text("1 Zustimmung")
    expect(page.locator(".messages")).to_be_visible()
    with page.expect_navigation():
        toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")


def open_thread_without_js(new_context, login, member, thread):
    page = new_context(java_script_enabled=False).new_page()
    login(page, member)
    page.goto(thread.get_absolute_url())
    return page


# --- keyboard only ------------------------------------------------------------------------------


def test_reply_agree_and_report_by_keyboard_alone(new_context, login, thread, alice, bob):
    page = open_thread(new_context, login, alice, thread)
    bobs = thread.posts.get(author=bob)
    toggle = page.locator(f"#post-{bobs.pk} button.toggle")

    # Reply: Tab to the editor, write, Tab to "Senden", Enter.
    tab_to(page, "#reply-form textarea[name=body]")
    page.keyboard.type("Per Tastatur geschrieben.")
    tab_to(page, "#reply-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(announcer(page)).to_have_text("Dein Beitrag wurde gesendet.", timeout=LIVE_MS)
    assert assert_focus_kept(page, "sending a reply").startswith("button")
    expect(page.locator("#posts li.post", has_text="Per Tastatur geschrieben.")).not_to_have_class(
        re.compile(r"is-pending")
    )

    # Agree to Bob's post and take it back: focus stays on the toggle, each result announced.
    tab_to(page, f"#post-{bobs.pk} button.toggle", backwards=True)
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(announcer(page)).to_have_text("Zustimmung gespeichert.")
    assert (
        assert_focus_kept(page, "agreeing")
        == f"button.post-agree.toggle.button--small.agree-button in post-{bobs.pk}"
    )
    expect(page.locator(f"#post-{bobs.pk} .post-agree-total")).to_have_text("1 Zustimmung")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(announcer(page)).to_have_text("Zustimmung zurückgenommen.")
    assert_focus_kept(page, "taking the agreement back")

    # Report it: the link is the next stops away; the form is a page of its own.
    tab_to(page, f"#post-{bobs.pk} a.post-report")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Beitrag melden")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # empty: refused with an error
    expect(page.locator("main .errorlist, main .error-summary").first).to_be_visible()
    if page.locator(".error-summary").count():  # the design system's summary takes the focus
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    tab_to(page, "input[name=reason]")
    page.keyboard.press("Space")
    expect(page.locator("input[name=reason]:checked")).to_have_count(1)
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_have_count(1)
    expect(page.locator(".messages")).to_contain_text("Danke")


# --- accessibility and looks with live posts ------------------------------------------------------


def _shot(page, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_thread_with_live_posts_is_accessible_at_both_widths(
    new_context, login, thread, alice, bob, language, browser_errors
):
    alice.language = language
    alice.save(update_fields=["language"])
    for n in range(8):
        services.post_create(
            actor=bob, thread=thread, body=f"Beitrag Nummer {n + 1}: " + "Text " * 30
        )
    bobs_first = thread.posts.filter(author=bob).order_by("created_at").first()

    page = open_thread(new_context, login, alice, thread, viewport={"width": 360, "height": 740})
    writer = open_thread(new_context, login, bob, thread)

    # A pressed toggle, by keyboard.
    page.locator(f"#post-{bobs_first.pk} button.toggle").focus()
    page.keyboard.press("Space")
    expect(page.locator(f"#post-{bobs_first.pk} button.toggle")).to_have_attribute(
        "aria-pressed", "true"
    )

    # Reading further up: new posts wait behind the "new posts" button.
    page.locator(f"#post-{bobs_first.pk}").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    for text in ("Live eins", "Live zwei"):  # sent at once: announced together, counted
        writer.fill("#reply-form textarea[name=body]", text)
        writer.click("#reply-form button[type=submit]")
    for text in ("Live eins", "Live zwei"):
        expect(page.locator("#posts li.post", has_text=text)).to_have_count(1, timeout=LIVE_MS)
    two = "2 neue Beiträge" if language == "de" else "2 new posts"
    button = page.locator("#live-new-posts")
    expect(button).to_be_visible()
    expect(button).to_have_text(two)
    expect(announcer(page)).to_have_text(two, timeout=LIVE_MS)
    page.locator(f"#post-{bobs_first.pk}").scroll_into_view_if_needed()
    _shot(page, f"thread-{language}-360-new-posts")
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#post-{bobs_first.pk}").scroll_into_view_if_needed()
    _shot(page, f"thread-{language}-1280-new-posts")
    assert_accessible(page)

    # The button by keyboard: focus moves to the first new post.
    button.focus()
    page.keyboard.press("Enter")
    first_new = page.locator("#posts li.post", has_text="Live eins")
    expect(first_new).to_be_focused()
    expect(button).to_be_hidden()
    _shot(page, f"thread-{language}-1280-after-new-posts")
    page.set_viewport_size({"width": 360, "height": 740})
    _shot(page, f"thread-{language}-360-after-new-posts")
    assert_accessible(page)
    assert not browser_errors
