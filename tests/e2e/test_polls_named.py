"""A closed named poll in a real Chromium against a real daphne: a member sees per option who
chose it (on the conference page and the poll's page), a guest who may read the conference sees
the counts only; when the chair closes a named poll, the names reach an open conference page
live (the members' variant of poll.closed) and a guest's page live without them. axe-core is
clean in German and English at 360 and 1280 px (conference page, poll page, the list by item,
projector), and
nothing scrolls sideways.

Set POLL_SCREENSHOTS=<folder> to keep PNGs (360 and 1280 px) of the closed named poll.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consultations.conferences import services as conference_services
from consultations.conferences.polls import services
from forums import services as forum_services
from tests import factories
from tests.conferences.conftest import agenda, chair, conference  # noqa: F401
from tests.conferences.polls_support import register
from tests.e2e.conftest import login, set_language
from tests.e2e.test_pages import assert_no_problems, check_page, screenshot

pytestmark = pytest.mark.e2e

NAMES = ["Bob", "Dana Weiß-Oğuz", "Emil", "Frieda", "Gül", "Hanne", "zoe"]


@pytest.fixture
def world(conference, agenda, chair, alice, sam, gina):  # noqa: F811
    conference_services.agenda_set_current(actor=sam, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="view")
    register(conference, alice)
    voters = [
        factories.make_member(email=f"v{i}@example.org", display_name=name)
        for i, name in enumerate(NAMES)
    ]
    for member in voters:
        register(conference, member)
    poll = services.poll_open(
        actor=chair,
        conference=conference,
        item=agenda[0],
        question="Soll der Landesverband die Mietenkampagne namentlich unterstützen?",
        kind="yes_no",
        secret=False,
    )
    poll.conference = conference
    codes = ["yes", "no", "yes", "yes", "abstain", "no", "yes"]
    options = {o.code: o.pk for o in poll.options.all()}
    for member, code in zip(voters, codes, strict=True):
        services.poll_vote(actor=member, poll=poll, option_ids=[options[code]])
    services.poll_vote(actor=alice, poll=poll, option_ids=[options["no"]])
    return {"poll": poll, "chair": chair, "alice": alice, "gina": gina}


def test_a_closed_named_poll_lists_the_voters_accessibly_to_members_only(
    new_context, world, browser_errors
):
    services.poll_close(actor=world["chair"], poll=world["poll"])
    poll = world["poll"]
    page = new_context().new_page()
    login(page, world["alice"])
    problems: list[str] = []
    for language in ("de", "en"):
        page.goto("/konferenzen/bk-koalition/")
        set_language(page, language)
        check_page(page, language, problems)
        page.goto(f"/konferenzen/bk-koalition/abstimmungen/{poll.pk}/")
        check_page(page, language, problems)
        page.goto("/konferenzen/bk-koalition/abstimmungen/")  # every poll, by item
        expect(page.locator(f"#poll-{poll.pk} [data-poll-voters] details")).to_have_count(3)
        check_page(page, language, problems)
        page.goto("/konferenzen/bk-koalition/beamer/")  # the newest closed poll, named
        expect(page.locator("[data-poll-projector] [data-poll-voters] details")).to_have_count(3)
        check_page(page, language, problems)
        if language == "de":
            screenshot(page, "named-poll-projector-de", folder_variable="POLL_SCREENSHOTS")
    assert_no_problems(problems)
    page.goto("/konferenzen/bk-koalition/")
    groups = page.locator(f"#poll-{poll.pk} [data-poll-voters] details")
    expect(groups).to_have_count(3)
    expect(groups.nth(0).locator("summary")).to_have_text("Yes: 4 names")
    expect(groups.nth(0).locator("li")).to_have_text(["Bob", "Emil", "Frieda", "zoe"])
    expect(groups.nth(1).locator("li")).to_have_text(["Alice", "Dana Weiß-Oğuz", "Hanne"])
    screenshot(page, "named-poll-closed-en", folder_variable="POLL_SCREENSHOTS")
    set_language(page, "de")
    screenshot(page, "named-poll-closed-de", folder_variable="POLL_SCREENSHOTS")

    guest = new_context().new_page()
    login(guest, world["gina"])
    guest.goto("/konferenzen/bk-koalition/")
    expect(guest.locator(f"#poll-{poll.pk} tr[data-option]")).to_have_count(3)
    expect(guest.locator("[data-poll-voters]")).to_have_count(0)
    assert "Frieda" not in guest.content()
    assert not browser_errors


def test_the_names_arrive_live_when_the_chair_closes_for_members_not_for_guests(
    new_context, world, browser_errors
):
    poll = world["poll"]
    pages = {}
    for who in ("alice", "gina", "chair"):
        page = new_context().new_page()
        login(page, world[who])
        page.goto("/konferenzen/bk-koalition/")
        page.wait_for_function(
            "() => window.Mitmachen.conferenceStream"
            " && window.Mitmachen.conferenceStream.connected()"
        )
        pages[who] = page
    for page in pages.values():  # open: nobody is named, not even for the chair
        expect(page.locator("[data-poll-voters]")).to_have_count(0)
    pages["chair"].locator(f"#poll-{poll.pk}").get_by_role(
        "button", name="Abstimmung schließen"
    ).click()
    member_card = pages["alice"].locator(f"#poll-{poll.pk}")
    expect(member_card.locator("[data-poll-status]")).to_have_text("Geschlossen")
    expect(member_card.locator("[data-poll-voters] details").nth(0).locator("li")).to_have_text(
        ["Bob", "Emil", "Frieda", "zoe"]
    )
    expect(member_card.locator("[data-poll-voters] summary").nth(1)).to_have_text("Nein: 3 Namen")
    guest_card = pages["gina"].locator(f"#poll-{poll.pk}")
    expect(guest_card.locator("[data-poll-status]")).to_have_text("Geschlossen")
    expect(guest_card.locator("tr[data-option]")).to_have_count(3)
    expect(pages["gina"].locator("[data-poll-voters]")).to_have_count(0)
    problems: list[str] = []
    check_page(pages["alice"], "de", problems)  # the live-rendered names, too
    assert_no_problems(problems)
    assert not browser_errors
