"""Moderation in a real Chromium against a real daphne: a report reaches the moderator's open
queue live, and hiding the post takes its text off the reporter's open thread page live.

alice (member) reports bob's post; mo moderates the forum sam (staff) opened. Two browser
contexts, two sessions. Browser tests are sync; rows are committed (``daphne_live``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forums import services as forum_services
from moderation import services
from moderation.models import Case
from tests.e2e.axe import assert_accessible
from tests.e2e.outer_html import normalised

pytestmark = pytest.mark.e2e

LIVE_MS = 5_000
TEXT = "Ihr seid alle doof"


@pytest.fixture
def post(sam, bob, mo):
    forum = forum_services.forum_create(actor=sam, title="Mieten", slug="mieten")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    thread = forum_services.thread_create(
        actor=bob, forum=forum, title="Mietendeckel", body="Erster Beitrag"
    )
    post, _created = forum_services.post_create(actor=bob, thread=thread, body=TEXT)
    return post


def test_a_report_reaches_the_queue_live_and_hiding_reaches_the_reporter_live(
    new_context, login, post, alice, mo, browser_errors
):
    moderator = new_context().new_page()
    login(moderator, mo)
    moderator.goto("/moderation/mieten/")
    # Locator assertions, not wait_for_function: polling by string would need 'unsafe-eval'.
    expect(moderator.locator("#queue")).to_have_attribute("data-live", "on")
    expect(moderator.locator("#queue-empty")).to_be_visible()
    assert_accessible(moderator)

    reporter = new_context().new_page()
    login(reporter, alice)
    reporter.goto(post.thread.get_absolute_url())
    own_post = reporter.locator(f"#post-{post.pk}")
    expect(own_post.locator(".post-body")).to_contain_text(TEXT)

    # Report without any script of ours: a link to a plain form.
    with reporter.expect_navigation():
        own_post.locator("a.post-report").click()
    assert_accessible(reporter)
    reporter.check("input[name=reason][value=insult]")
    with reporter.expect_navigation():
        reporter.click("main form button[type=submit]")
    expect(reporter.locator(".messages")).to_be_visible()
    expect(reporter.locator("#thread")).to_have_attribute("data-live", "online")

    # The moderator's queue shows the case without a reload, and says so.
    case = Case.objects.get(post=post)
    item = moderator.locator(f"#case-{case.pk}")
    expect(item).to_be_visible(timeout=LIVE_MS)
    expect(item.locator(".queue-post")).to_contain_text(TEXT)
    expect(moderator.locator("#queue-empty")).to_be_hidden()
    expect(moderator.locator("#live-announcer")).not_to_be_empty(timeout=LIVE_MS)
    assert_accessible(moderator)

    # The moderator hides the post with a reason, confirms once, and the case leaves in place.
    item.locator("[data-case-panel] > summary").click()
    item.locator("details.queue-action[data-action=hide] > summary").click()
    item.locator("input[name=reason][value=insult]").first.check()
    item.locator("form[action$='/ausblenden/'] button[type=submit]").click()
    item.locator(".confirm-step button.button--danger").click()
    expect(moderator.locator(f"#case-{case.pk}")).to_have_count(0)

    # On the reporter's open page the text is replaced by the placeholder, without a reload.
    hidden = reporter.locator(f"#post-{post.pk}")
    expect(hidden.locator(".post-body")).not_to_contain_text(TEXT, timeout=LIVE_MS)
    expect(hidden).to_have_attribute("data-state", "hidden")
    expect(hidden.locator(".post-state-note")).to_be_hidden()  # that one is for its author
    # The placeholder names the reason category, in the reader's language (German here).
    expect(hidden.locator(".post-moderation-note")).to_have_text(
        "Von der Moderation ausgeblendet – Beleidigung"
    )
    assert TEXT not in reporter.locator("#posts").inner_text()
    live_html = hidden.evaluate("(li) => li.outerHTML")
    # After a reload the post keeps its place with the same placeholder, still without its text:
    # the same HTML as the live update made of it.
    reporter.reload()
    assert normalised(reporter.locator(f"#post-{post.pk}").evaluate("(li) => li.outerHTML")) == (
        normalised(live_html)
    )
    expect(reporter.locator(f"#post-{post.pk} .post-moderation-note")).to_contain_text(
        "Von der Moderation ausgeblendet – Beleidigung"
    )
    assert TEXT not in reporter.locator("#posts").inner_text()

    # The public log shows the action, accessibly, without the moderator's name.
    reporter.goto("/moderation/mieten/protokoll/")
    # Two entries: mo's appointment and the hiding.
    expect(reporter.locator("table.moderation-log tbody tr")).to_have_count(2)
    expect(reporter.locator("table.moderation-log thead th")).to_have_count(3)  # no name column
    assert "Mo" not in reporter.locator("table.moderation-log tbody").inner_text().split()
    assert_accessible(reporter)
    assert not browser_errors, browser_errors


def test_the_other_moderation_pages_are_accessible(new_context, login, post, sam, bob, mo):
    """Post and thread actions, the moderators page, notifications and the appeal form."""
    services.post_hide(actor=mo, post=post, reason="insult", text="Bitte sachlich.")
    page = new_context().new_page()
    login(page, sam)
    for url in [
        f"/moderation/beitrag/{post.pk}/",
        f"/moderation/thema/{post.thread.pk}/",
        "/moderation/mieten/moderatoren/",
        "/moderation/",
        "/benachrichtigungen/",
    ]:
        page.goto(url)
        assert page.locator("main h1").count() == 1, url
        assert_accessible(page)
    author = new_context().new_page()
    login(author, bob)
    author.goto(post.thread.get_absolute_url())
    expect(author.locator(f"#post-{post.pk} .post-moderation-note")).to_contain_text("Bitte")
    with author.expect_navigation():
        author.locator(f"#post-{post.pk} a.post-appeal").click()
    assert_accessible(author)
    author.fill("textarea[name=text]", "Das war Satire.")
    with author.expect_navigation():
        author.click("main form button[type=submit]")
    expect(author.locator(".messages")).to_be_visible()
