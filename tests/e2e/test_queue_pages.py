"""The speaker queue in a real browser: the conference page's panel (chair and member) and the
projector are accessible in German and English at 1280 and 360 px; a member asks to speak by
keyboard; the chair calls them; queue.js, given the queue.changed event, tells the member
"Du hast das Wort" in the live region and shows the video link.

Set QUEUE_SCREENSHOTS=<folder> to keep PNGs of each page.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consultations.conferences import services as conference_services
from consultations.conferences.models import Conference, ConferenceRole, Registration
from consultations.conferences.queue import services
from consultations.conferences.queue.models import SpeakRequest
from tests.e2e.conftest import assert_only_local, login, set_language
from tests.e2e.test_pages import assert_no_problems, check_page, screenshot
from tests.factories import make_member, make_staff

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(db):
    sam = make_staff(email="sam@example.org", display_name="Sam")
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz Koalitionsvertrag",
        slug="bk",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
        written_opens_at=now - timedelta(days=5),
        written_closes_at=now + timedelta(days=20),
        video_url="https://video.example.org/bk",
    )
    item = conference_services.agenda_item_create(
        actor=sam, conference=conference, title="Mieten und Wohnen"
    )
    Conference.objects.filter(pk=conference.pk).update(phase=Conference.Phase.LIVE)
    conference.refresh_from_db()
    conference_services.agenda_set_current(actor=sam, conference=conference, item=item)
    carla = make_member(email="carla@example.org", display_name="Carla")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=carla, role=ConferenceRole.Role.CHAIR
    )
    people = [
        make_member(email=f"{n.lower()}@example.org", display_name=n)
        for n in ("Alice", "Bob", "Dana", "Eve")
    ]
    for person in people:
        Registration.objects.create(conference=conference, member=person, attendance="remote")
    for person, lane in zip(people[1:], ("default-1", "default-0", "default-1"), strict=True):
        services.speak_request_create(
            actor=person, conference=conference, item=item, kind="contribution", sublist=lane
        )
    services.speak_request_call_next(actor=carla, conference=conference, item=item)
    services.speak_request_create(
        actor=people[3], conference=conference, item=item, kind="point_of_order"
    )
    return {"conference": conference, "item": item, "chair": carla, "alice": people[0]}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_queue_pages_are_accessible_for_chair_and_member(
    new_context, world, request_log, browser_errors, language
):
    problems: list[str] = []
    for who in ("chair", "alice"):
        page = new_context().new_page()
        login(page, world[who])
        page.goto("/konferenzen/bk/")
        set_language(page, language)
        check_page(page, language, problems)
        screenshot(page, f"queue-{who}-{language}", folder_variable="QUEUE_SCREENSHOTS")
        page.goto("/konferenzen/bk/beamer/")
        check_page(page, language, problems)
        screenshot(page, f"projector-{who}-{language}", folder_variable="QUEUE_SCREENSHOTS")
    assert_no_problems(problems)
    assert not browser_errors, browser_errors
    assert_only_local(request_log)


def test_a_member_asks_by_keyboard_and_hears_that_they_have_the_floor(new_context, world):
    member = new_context().new_page()
    login(member, world["alice"])
    member.goto("/konferenzen/bk/#redeliste")
    member.focus("#queue-ask-sublist_0")
    member.keyboard.press("Space")
    member.focus(".sq-ask button[type=submit]")
    member.keyboard.press("Enter")
    member.wait_for_function(
        "() => [...document.querySelectorAll('[data-queue-entries] .sq-entry__name')]"
        ".some(e => e.textContent === 'Alice')"
    )

    chair = new_context().new_page()
    login(chair, world["chair"])
    chair.goto("/konferenzen/bk/")
    # The point of order first, then the quota's turn: Alice is third; call until she speaks.
    chair.wait_for_load_state("load")
    for _ in range(3):
        chair.focus(".sq-chair button[value=call_next]")
        with chair.expect_response(lambda r: r.request.method == "POST") as answer:
            chair.keyboard.press("Enter")
        assert answer.value.status == 200 and answer.value.json()["ok"] is True
    snapshot = chair.evaluate(
        "async (url) => (await fetch(url, {headers: {Accept: 'application/json'}})).json()",
        f"/konferenzen/bk/redeliste/{world['item'].pk}/stand/",
    )
    assert snapshot["speaking"][-1]["name"] == "Alice"
    # What conference.js does with the stream's event: hand it to the queue's handler.
    member.evaluate(
        "(event) => Mitmachen.conferenceHandlers['queue.changed'].forEach(f => f(event))",
        {"type": "queue.changed", "item": world["item"].pk, "queue": snapshot},
    )
    member.wait_for_function(
        "() => document.getElementById('live-announcer').textContent.includes('Du hast das Wort')",
        timeout=2000,
    )
    assert member.is_visible("[data-queue-yours] a[href='https://video.example.org/bk']")
    assert json.loads(member.inner_text("#queue-snapshot"))["item"] == world["item"].pk


def test_a_busy_server_sends_the_ask_back_and_the_page_sends_it_again_once(new_context, world):
    """The first ask meets a 503 with a retry hint (as deliberation/overload.py answers when no
    database connection is free): the member hears it once, the focus stays on the button, a
    second press meanwhile sends nothing, and the same ask goes again after the hint."""
    page = new_context().new_page()
    login(page, world["alice"])
    page.goto("/konferenzen/bk/#redeliste")
    asks: list[str] = []
    busy = {"left": 1}

    def first_ask_busy(route: Any) -> None:
        asks.append(route.request.method)
        if busy["left"]:
            busy["left"] -= 1
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body=json.dumps(
                    {
                        "ok": False,
                        "code": "busy",
                        "retry_after": 0.3,
                        "message": "Gerade machen sehr viele mit. Bitte versuche es gleich noch "
                        "einmal.",
                        "html": "",
                    }
                ),
            )
        else:
            route.continue_()

    page.route(f"**/konferenzen/bk/redeliste/{world['item'].pk}/melden/**", first_ask_busy)
    page.evaluate(
        "() => { window.said = []; const say = Mitmachen.announce;"
        " Mitmachen.announce = (text) => { window.said.push(text); say(text); }; }"
    )
    page.focus("#queue-ask-sublist_0")
    page.keyboard.press("Space")
    page.focus(".sq-ask button[type=submit]")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # pressed again while the first is on its way: nothing more
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-queue-entries] .sq-entry__name')]"
        ".some(e => e.textContent === 'Alice')"
    )
    assert asks == ["POST", "POST"]  # the busy answer and the one retry, no third
    assert SpeakRequest.objects.filter(member=world["alice"]).count() == 1
    said = page.evaluate("() => window.said")
    assert [text for text in said if text.startswith("Gerade machen sehr viele mit")] == [
        "Gerade machen sehr viele mit. Bitte versuche es gleich noch einmal."
    ]
    assert page.evaluate(
        "() => document.querySelector('[data-queue]').contains(document.activeElement)"
    )
    assert page.locator("form[data-queue-form][aria-busy]").count() == 0


FOCUSED_ENTRY = """() => { const el = document.activeElement;
  const entry = el.closest('[data-entry]');
  return {tag: el.tagName.toLowerCase(), id: el.id, value: el.getAttribute('value'),
          entry: entry && entry.getAttribute('data-entry'), onEntry: el === entry}; }"""


def test_the_chair_removes_speakers_by_keyboard_and_focus_is_never_lost(new_context, world):
    chair = new_context().new_page()
    login(chair, world["chair"])
    chair.goto("/konferenzen/bk/")
    chair.wait_for_load_state("load")
    entries = chair.locator("[data-queue-entries] > .sq-entry")
    ids = [entries.nth(n).get_attribute("data-entry") for n in range(entries.count())]
    assert len(ids) >= 2, ids
    first = entries.first
    name = first.locator(".sq-entry__name").inner_text()
    remove = first.get_by_role("button", name=f"{name} von der Liste entfernen")
    assert remove.count() == 1

    # Quiet at rest: no red fill, no red border; red once it has keyboard focus.
    def looks(button: Any) -> dict[str, str]:
        return button.evaluate(
            "el => { const s = getComputedStyle(el); return {bg: s.backgroundColor, "
            "border: s.borderTopColor, color: s.color}; }"
        )

    danger = "rgb(164, 22, 26)"
    rest = looks(remove)
    assert rest["bg"] == "rgba(0, 0, 0, 0)" and danger not in rest.values(), rest
    first.locator("button[value=down]").focus()
    chair.keyboard.press("Tab")  # from "Runter" to "Entfernen": reachable by keyboard
    assert chair.evaluate(FOCUSED_ENTRY)["value"] == "remove"
    assert looks(remove)["border"] == danger

    for n, gone in enumerate(ids):
        # The answer, then the snapshot queue.js fetches after it and renders.
        with (
            chair.expect_response(lambda r: "/stand/" in r.url),
            chair.expect_response(lambda r: r.request.method == "POST") as answer,
        ):
            chair.keyboard.press("Enter")
        assert answer.value.json()["ok"] is True
        chair.wait_for_function(
            "(id) => !document.querySelector(`[data-queue-entries] [data-entry='${id}']`)", arg=gone
        )
        if n + 1 < len(ids):
            # Focus is on the entry that took the removed one's place; Tab reaches its buttons.
            chair.wait_for_function(
                "(id) => document.activeElement.getAttribute('data-entry') === id", arg=ids[n + 1]
            )
            focus = chair.evaluate(FOCUSED_ENTRY)
            assert focus["onEntry"] and focus["entry"] == ids[n + 1], focus
            for _ in range(3):  # Hoch, Runter, Entfernen
                chair.keyboard.press("Tab")
            assert chair.evaluate(FOCUSED_ENTRY)["value"] == "remove"
        else:
            # The list is empty: focus is on its heading ("Wartet"), not lost to <body>.
            chair.wait_for_function("() => document.activeElement.id === 'sq-waiting-title'")
    assert chair.locator("[data-queue-empty]").is_visible()
