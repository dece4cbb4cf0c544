"""A base conference lived through the real socket, by keyboard only, in two browser contexts:
a remote member and the chair, each on the conference page, both on one daphne.

The member asks to speak; the chair calls them; the member's page hears "Du hast das Wort"
through the conference stream (no test hand-feeds an event) within two seconds. Then the chair
opens a poll, it appears on the member's page live, the member votes, and the chair's page shows
the turnout change, again through the stream.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.e2e.test_queue_pages import world  # noqa: F401  (the shared conference fixture)

pytestmark = pytest.mark.e2e


def _live(page) -> None:
    """Wait until the page's conference stream is connected (live.js marks <main>)."""
    page.wait_for_selector("main[data-live=online]", state="attached", timeout=10_000)


def test_a_remote_member_is_called_and_votes_while_the_chair_watches_live(new_context, world):  # noqa: F811
    member = new_context().new_page()
    login(member, world["alice"])
    member.goto("/konferenzen/bk/#redeliste")
    _live(member)
    member.focus("#queue-ask-sublist_0")
    member.keyboard.press("Space")
    member.focus(".sq-ask button[type=submit]")
    member.keyboard.press("Enter")
    expect(member.locator("[data-queue-entries] .sq-entry__name", has_text="Alice")).to_be_visible()

    chair = new_context().new_page()
    login(chair, world["chair"])
    chair.goto("/konferenzen/bk/")
    _live(chair)
    # The chair's page learned of Alice's request through the stream, not by reloading.
    expect(chair.locator("[data-queue-entries] .sq-entry__name", has_text="Alice")).to_be_visible()
    # The point of order first, then the quota's turn: Alice is third.
    for _ in range(3):
        chair.focus(".sq-chair button[value=call_next]")
        with chair.expect_response(lambda r: r.request.method == "POST") as answer:
            chair.keyboard.press("Enter")
        assert answer.value.status == 200
    expect(member.locator("#live-announcer")).to_contain_text("Du hast das Wort", timeout=2_000)
    expect(
        member.locator("[data-queue-yours] a[href='https://video.example.org/bk']")
    ).to_be_visible()

    # The chair opens a poll (keyboard: the question field, Enter submits).
    chair.goto("/konferenzen/bk/abstimmungen/neu/")
    chair.get_by_label("Frage").focus()
    chair.keyboard.type("Soll die Konferenz eine Mietenkampagne empfehlen?")
    with chair.expect_navigation():
        chair.keyboard.press("Enter")
    expect(chair.locator("main")).to_contain_text("Die Abstimmung ist eröffnet.")
    chair.goto("/konferenzen/bk/")
    _live(chair)
    turnout = chair.locator("[data-poll-turnout]").first
    expect(turnout).to_have_text(re.compile(r"^0 "))

    # The poll reached the member's page live; she votes by keyboard.
    card = member.locator("[data-poll]").first
    expect(card).to_be_visible(timeout=5_000)
    expect(member.locator("#live-announcer")).to_contain_text("Abstimmung")
    card.get_by_label("Ja").focus()
    member.keyboard.press("Space")
    member.keyboard.press("Tab")
    member.keyboard.press("Enter")
    expect(card.locator("[data-poll-answer]")).to_contain_text("gezählt")
    # The chair's turnout changed through the stream.
    expect(turnout).to_have_text(re.compile(r"^1 "), timeout=5_000)
