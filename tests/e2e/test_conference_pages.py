"""The conference pages in a real browser: the conference page, the registration form, the
organisers' registrations and the tracker, axe-clean in German and English at 1280 and 360 px,
without sideways scrolling; the registration form filled and sent by keyboard alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consultations.conferences import services
from consultations.conferences.models import Registration
from consultations.conferences.tracker import services as tracker
from tests import factories
from tests.e2e.conftest import assert_only_local, login
from tests.e2e.test_pages import assert_no_problems, check_page, check_pages_in_both_languages

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(daphne_live) -> dict[str, Any]:
    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    alice = factories.make_member(email="alice@example.org", display_name="Alice")
    now = timezone.now()
    conference = services.conference_create(
        actor=sam,
        title="Basiskonferenz Koalitionsvertrag",
        slug="bk",
        description="Wie wird der Koalitionsvertrag umgesetzt?",
        starts_at=now - timedelta(minutes=50),
        ends_at=now + timedelta(hours=5),
        written_opens_at=now - timedelta(days=3),
        written_closes_at=now + timedelta(days=20),
        venue_name="Rathaus Schöneberg",
        venue_address="John-F.-Kennedy-Platz 1\n10825 Berlin",
        step_free=True,
        hearing_loop=True,
        childcare=True,
        childcare_under_three=True,
        quiet_room=True,
        video_url="https://video.example.org/bk",
    )
    commitment = tracker.commitment_create(
        actor=sam, chapter="Wohnen", reference="Z. 412", text="Ein Mietenkataster einführen."
    )
    tracker.commitment_assess(actor=sam, commitment=commitment, status="problem", note="Verzögert")
    items = [
        services.agenda_item_create(actor=sam, conference=conference, title=title)
        for title in ("Begrüßung", "Mieten und Wohnen", "Gesundheit und Pflege")
    ]
    services.agenda_item_update(
        actor=sam, item=items[1], title="Mieten und Wohnen", commitments=[commitment]
    )
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    services.agenda_set_current(actor=sam, conference=conference, item=items[0])
    for i in range(3):
        services.registration_save(
            actor=factories.make_member(),
            conference=conference,
            attendance="hall" if i else "remote",
            childcare=bool(i),
            children_ages=[i + 1] if i else [],
            accessibility_needs="Untertitel" if i == 2 else "",
        )
    return {"sam": sam, "alice": alice, "conference": conference, "commitment": commitment}


def test_the_member_pages_pass_axe_in_both_languages_and_widths(page, world, request_log):
    login(page, world["alice"])
    problems = check_pages_in_both_languages(
        page,
        [
            "/konferenzen/",
            world["conference"].get_absolute_url(),
            "/konferenzen/bk/anmeldung/",
            "/konferenzen/koalitionsvertrag/",
            f"/konferenzen/koalitionsvertrag/{world['commitment'].pk}/",
        ],
    )
    assert_no_problems(problems)
    assert_only_local(request_log)


def test_the_organiser_pages_pass_axe_in_both_languages_and_widths(page, world):
    login(page, world["sam"])
    problems = check_pages_in_both_languages(
        page,
        [
            world["conference"].get_absolute_url(),
            "/konferenzen/bk/anmeldungen/",
            "/konferenzen/bk/tagesordnung/neu/",
            f"/konferenzen/koalitionsvertrag/{world['commitment'].pk}/",
        ],
    )
    assert_no_problems(problems)


def test_a_failed_registration_form_is_accessible(page, world):
    login(page, world["alice"])
    page.goto("/konferenzen/bk/anmeldung/")
    page.check("#id_attendance_0")
    page.check("#id_childcare")
    page.fill("#id_children_ages", "zwei")
    with page.expect_navigation():
        page.click("main form.conf-form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    problems: list[str] = []
    check_page(page, "de", problems)
    assert_no_problems(problems)


def test_a_member_registers_by_keyboard_alone(page, world):
    login(page, world["alice"])
    page.goto("/konferenzen/bk/anmeldung/")
    reached: list[str] = []
    page.keyboard.press("Tab")  # skip link first
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.textContent")
        reached.append(focused)
        if focused == "id_attendance_0":
            break
    assert "id_attendance_0" in reached, reached
    page.keyboard.press("ArrowDown")  # the radio group: to "remote"
    assert page.evaluate("document.activeElement.id") == "id_attendance_1"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_childcare"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_children_ages"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_accessibility_needs"
    page.keyboard.type("Untertitel im Stream")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    registration = Registration.objects.get(member=world["alice"])
    assert registration.attendance == "remote"
    assert registration.accessibility_needs == "Untertitel im Stream"
    # back on the conference page: the remote member now sees the video room
    # (the speaker queue's hidden "you have the floor" box holds it too, shown only when called)
    assert page.locator("a[href='https://video.example.org/bk']:visible").count() == 1
