"""The live thread in a real Chromium against a real daphne: two members, one thread.

alice and bob are members who may post in the members' forum sam (staff) opened. Browser tests
are sync (Playwright's sync API); rows are committed (``daphne_live`` is transactional).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from forums import services
from forums.models import Post
from tests import factories

pytestmark = pytest.mark.e2e

LIVE_MS = 2_000


@pytest.fixture
def thread(sam, alice):
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten")
    return services.thread_create(actor=alice, forum=forum, title="Mietendeckel", body="Erster")


def open_thread(new_context, login, member, thread, **options):
    page = new_context(**options).new_page()
    login(page, member)
    page.goto(thread.get_absolute_url())
    return page


def wait_live(page) -> None:
    # A locator, not wait_for_function: the page's CSP forbids the eval that one would need.
    expect(page.locator("#thread[data-live=online]")).to_have_count(1)


RECORD_PENDING = """() => {
  window.__pending = [];
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === 1 && node.classList.contains('is-pending')) {
          window.__pending.push({busy: node.getAttribute('aria-busy'), text: node.textContent});
        }
      }
    }
  }).observe(document.getElementById('posts'), {childList: true});
}"""


def test_a_post_appears_for_the_other_member_without_reload(new_context, login, thread, alice, bob):
    page_a = open_thread(new_context, login, alice, thread)
    page_b = open_thread(new_context, login, bob, thread)
    wait_live(page_a)
    wait_live(page_b)
    page_b.evaluate(RECORD_PENDING)

    page_b.fill("#reply-form textarea[name=body]", "Hallo von **Bob**")
    started = time.monotonic()
    page_b.click("#reply-form button[type=submit]")

    seen = page_a.locator("#posts li.post", has_text="Hallo von Bob")
    expect(seen).to_be_visible(timeout=LIVE_MS)
    assert time.monotonic() - started < LIVE_MS / 1000
    expect(seen.locator(".post-body strong")).to_have_text("Bob")  # the server's HTML
    expect(seen.locator(".post-author")).to_have_text("Bob")
    expect(page_a.locator("#live-announcer")).to_contain_text("Bob", timeout=LIVE_MS * 3)
    assert page_a.url.endswith(thread.get_absolute_url())  # no reload, no navigation

    # Bob's own copy went from pending (shown at once, busy) to sent, replaced in place.
    pending = page_b.evaluate("window.__pending")
    assert pending and pending[0]["busy"] == "true"
    assert "Hallo von **Bob**" in pending[0]["text"]
    own = page_b.locator("#posts li.post", has_text="Hallo von Bob")
    expect(own).to_have_count(1)
    expect(own).not_to_have_class("is-pending")
    expect(own).to_have_attribute("id", "post-" + own.get_attribute("data-post-id"))
    expect(own.locator(".post-body strong")).to_have_text("Bob")
    expect(page_b.locator("#reply-form textarea[name=body]")).to_have_value("")


def test_an_error_keeps_the_text_and_shows_the_message(new_context, login, thread, alice):
    page = open_thread(new_context, login, alice, thread)
    wait_live(page)
    page.fill("#reply-form textarea[name=body]", "x" * 10_001)
    page.click("#reply-form button[type=submit]")
    error = page.locator("#reply-live-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    # Confirmed to a screen reader once, with the reason, in the page's live region.
    expect(page.locator("#live-announcer")).to_have_text(re.compile(r"^Nicht gesendet: \S"))
    expect(page.locator("#reply-form textarea[name=body]")).to_have_value("x" * 10_001)
    expect(page.locator("#posts li.is-pending")).to_have_count(0)


def test_the_reply_form_works_without_javascript(new_context, login, thread, alice, bob):
    watcher = open_thread(new_context, login, alice, thread)
    wait_live(watcher)
    page = open_thread(new_context, login, bob, thread, java_script_enabled=False)
    page.fill("#reply-form textarea[name=body]", "Ohne JavaScript geschrieben")
    with page.expect_navigation():
        page.click("#reply-form button[type=submit]")
    expect(page.locator("#posts li.post", has_text="Ohne JavaScript geschrieben")).to_have_count(1)
    # The form's post went through the same service: it reaches live readers too.
    expect(watcher.locator("#posts li.post", has_text="Ohne JavaScript geschrieben")).to_be_visible(
        timeout=LIVE_MS
    )


#: The client's backoff doubles from 1 s (with jitter); a restart takes a few seconds.
RECONNECT_MS = 30_000


def test_a_reader_cut_off_by_a_server_crash_gets_everything_once_when_it_is_back(
    new_context, login, thread, alice, bob, daphne_live
):
    page = open_thread(new_context, login, alice, thread)
    wait_live(page)

    daphne_live.kill()  # SIGKILL: the sockets drop without a close frame from the server
    expect(page.locator("#thread[data-live=connecting]")).to_have_count(1)
    expect(page.locator("#live-connection")).to_have_text(
        "Verbindung unterbrochen. Verbindung wird wiederhergestellt…"
    )

    # The thread goes on without her: a post through another process while this one is down.
    factories.make_post(thread, author=bob, body="Während der Pause geschrieben")
    # And she writes while cut off: her post shows at once, marked as not sent yet.
    page.fill("#reply-form textarea[name=body]", "Offline geschrieben")
    page.click("#reply-form button[type=submit]")
    waiting = page.locator("#posts li.post.is-waiting", has_text="Offline geschrieben")
    expect(waiting).to_have_count(1)
    expect(waiting).to_have_attribute("aria-busy", "true")
    expect(waiting.locator(".post-pending-note")).to_contain_text("Noch nicht gesendet")

    daphne_live.start()
    expect(page.locator("#thread[data-live=online]")).to_have_count(1, timeout=RECONNECT_MS)
    expect(page.locator("#live-connection")).to_be_hidden()

    # Bob's post arrived by replay (connect with ?after=<last seq>), once, and was announced.
    missed = page.locator("#posts li.post", has_text="Während der Pause geschrieben")
    expect(missed).to_have_count(1, timeout=LIVE_MS)
    expect(page.locator("#live-announcer")).to_contain_text("Bob", timeout=LIVE_MS * 3)
    # Hers was sent on reconnect, acknowledged, and is there once, no longer pending.
    mine = page.locator("#posts li.post", has_text="Offline geschrieben")
    expect(mine).to_have_count(1, timeout=LIVE_MS)
    expect(mine).not_to_have_class(re.compile(r"\bis-pending\b"))
    assert Post.objects.filter(thread=thread, body="Offline geschrieben").count() == 1
    # In the order the thread has them: the missed post before the one she sent afterwards.
    texts = page.locator("#posts li.post .post-body").all_inner_texts()
    assert [t for t in texts if "geschrieben" in t] == [
        "Während der Pause geschrieben",
        "Offline geschrieben",
    ]

    # A reload shows the same thread: nothing twice, nothing pending left in the session.
    page.reload()
    wait_live(page)
    expect(page.locator("#posts li.post", has_text="geschrieben")).to_have_count(2)
    expect(page.locator("#posts li.is-pending")).to_have_count(0)
