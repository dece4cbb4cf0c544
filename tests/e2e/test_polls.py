"""A poll in a real Chromium against a real daphne, keyboard only: a registered member votes on
the poll page; with the script the answer replaces the card in place and takes focus; the chair
closes the poll and the results appear; axe-core is clean in German and English at 360 and
1280 px. (The conference page and its stream are the pages and live engineers'; the live
handlers are exercised there.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consultations.conferences.models import Registration
from consultations.conferences.polls import services
from consultations.conferences.polls.models import Ballot
from tests.conferences.conftest import agenda, chair, conference  # noqa: F401
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import set_language

pytestmark = pytest.mark.e2e


@pytest.fixture
def poll(conference, agenda, chair, alice):  # noqa: F811
    Registration.objects.create(conference=conference, member=alice, attendance="remote")
    created = services.poll_open(
        actor=chair,
        conference=conference,
        item=agenda[0],
        question="Mietenkampagne?",
        kind="yes_no",
    )
    return created


def test_a_member_votes_by_keyboard_and_hears_it_counted_once(
    page, login, poll, alice, browser_errors
):
    login(page, alice)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/konferenzen/bk-koalition/abstimmungen/{poll.pk}/")
    assert_accessible(page)
    card = page.locator(f"#poll-{poll.pk}")
    card.get_by_label("Nein").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Stimme abgeben")).to_be_focused()
    page.keyboard.press("Enter")
    answer = page.locator(f"#poll-{poll.pk} [data-poll-answer] .notice")
    expect(answer).to_have_text("Deine Stimme ist gezählt.")
    expect(answer).to_be_focused()
    assert page.url.endswith(f"/abstimmungen/{poll.pk}/")  # no navigation: answered in place
    expect(page.locator(f"#poll-{poll.pk} form[data-poll-vote]")).to_have_count(0)
    assert Ballot.objects.filter(poll=poll, member=alice).count() == 1
    assert_accessible(page)
    assert not browser_errors


def test_the_chair_closes_the_poll_and_the_results_show(
    new_context,
    login,
    poll,
    chair,  # noqa: F811
    alice,
    browser_errors,
):
    services.poll_vote(actor=alice, poll=poll, option_ids=[poll.options.get(code="yes").pk])
    page = new_context().new_page()
    login(page, chair)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/konferenzen/bk-koalition/abstimmungen/{poll.pk}/")
    assert_accessible(page)
    close = page.get_by_role("button", name="Abstimmung schließen")
    close.focus()
    page.keyboard.press("Enter")
    card = page.locator(f"#poll-{poll.pk}")
    expect(card.locator("[data-poll-results]")).to_be_visible()
    expect(card.locator("[data-poll-answer] .notice")).to_be_focused()
    expect(card.locator("tr[data-option]").first).to_contain_text("1")
    for language in ("de", "en"):
        set_language(page, language)
        page.goto(f"/konferenzen/bk-koalition/abstimmungen/{poll.pk}/")
        assert_accessible(page)
        page.goto("/konferenzen/bk-koalition/abstimmungen/")
        assert_accessible(page)
        page.goto("/konferenzen/bk-koalition/abstimmungen/neu/")
        assert_accessible(page)
    assert not browser_errors


def test_the_poll_handlers_apply_turnout_and_results_from_the_stream(
    page,
    login,
    poll,
    chair,  # noqa: F811
    browser_errors,
):
    """conference.js calls the handlers with each applied event; here the test calls them."""
    from consultations.conferences.polls import selectors

    login(page, chair)
    page.goto(f"/konferenzen/bk-koalition/abstimmungen/{poll.pk}/")
    card = page.locator(f"#poll-{poll.pk}")
    expect(card.locator("[data-poll-turnout]")).to_contain_text("0 von 1")
    page.evaluate(
        """(poll) => window.Mitmachen.conferenceHandlers["poll.turnout"].forEach(
            (handle) => handle(
                {type: "poll.turnout", poll: poll, turnout: {ballots: 1, eligible: 1}}))""",
        poll.pk,
    )
    expect(card.locator("[data-poll-turnout]")).to_have_text(
        "1 von 1 Angemeldeten haben online abgestimmt."
    )
    snapshot = selectors.snapshot(poll)
    snapshot.update(status="closed", results_shown=True, hall_counted=True)
    for option, (online, hall) in zip(snapshot["options"], [(1, 4), (0, 2), (0, 0)], strict=True):
        option.update(online=online, hall=hall, total=online + hall)
    page.evaluate(
        """(poll) => window.Mitmachen.conferenceHandlers["poll.closed"].forEach(
            (handle) => handle({type: "poll.closed", seq: 9, poll: poll}))""",
        snapshot,
    )
    expect(card.locator("[data-poll-results]")).to_be_visible()
    expect(card.locator("tr[data-option]")).to_have_count(3)
    expect(card.locator("tr[data-option]").first).to_contain_text("Ja")
    expect(card.locator("tr[data-option]").first.locator("td").last).to_have_text("5")
    expect(card.locator("[data-poll-status]")).to_have_text("Geschlossen")
    expect(card.get_by_role("button", name="Abstimmung schließen")).to_have_count(0)
    expect(page.locator("#live-announcer")).to_contain_text("Die Abstimmung ist geschlossen")
    assert not browser_errors
