"""The decisions calendar in a real browser: a member follows a topic by keyboard alone, staff
add a decision in that topic, and the member finds it on the dashboard; the list, the month,
a decision and the forms are axe-clean in German and English at 1280 and 360 px, without
sideways scrolling. Set E2E_SCREENSHOTS=<folder> to keep PNGs of each German page."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from consultations.decisions import services
from consultations.decisions.models import Decision, TopicFollow
from tests import factories
from tests.e2e.conftest import assert_only_local, login
from tests.e2e.test_pages import (
    assert_no_problems,
    check_page,
    check_pages_in_both_languages,
    screenshot,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(daphne_live) -> dict[str, Any]:
    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    alice = factories.make_member(email="alice@example.org", display_name="Alice")
    topics = {
        slug: services.topic_ensure(name=name, slug=slug)
        for slug, name in [
            ("mieten", "Mieten und Wohnen"),
            ("gesundheit-pflege", "Gesundheit und Pflege"),
            ("digitalisierung", "Digitalisierung"),
            ("senioren", "Seniorinnen und Senioren"),
            ("sicherheit", "Sicherheit"),
        ]
    }
    thread = factories.make_thread(author=sam, title="Krankenhausplan: Was heißt das für Spandau?")
    today = timezone.localdate()
    upcoming = services.decision_create(
        actor=sam,
        title="Krankenhausplan 2027: Beschluss im Senat",
        explanation="Der Senat legt fest, welche Kliniken welche Leistungen anbieten.",
        body="Der Entwurf sieht vor, Leistungen an **weniger Standorten** zu bündeln.",
        date=today + timedelta(days=2),
        institution=Decision.Institution.GOVERNMENT,
        topics=[topics["gesundheit-pflege"], topics["senioren"]],
        source_url="https://www.berlin.de/sen/gesundheit/",
        discussion=thread,
    )
    decided = services.decision_create(
        actor=sam,
        title="Novelle des Polizeigesetzes (ASOG)",
        explanation="Bodycams, Videoüberwachung, längerer Gewahrsam.",
        date=today - timedelta(days=3),
        time=time(11, 0),
        institution=Decision.Institution.PARLIAMENT,
        topics=[topics["sicherheit"]],
    )
    services.decision_decide(
        actor=sam,
        decision=decided,
        result="Angenommen; die automatisierte Videoauswertung wurde **gestrichen**.",
        result_url="https://www.parlament-berlin.de/",
    )
    return {"sam": sam, "alice": alice, "topics": topics, "upcoming": upcoming, "decided": decided}


def test_a_member_follows_by_keyboard_and_finds_a_new_decision_on_the_dashboard(
    page, new_context, world, browser_errors
):
    alice, sam = world["alice"], world["sam"]
    login(page, alice)
    page.goto("/entscheidungen/")
    page.keyboard.press("Tab")  # the skip link first
    reached: list[str] = []
    on_target = (
        "() => { const f = document.activeElement.closest('[data-follow-form]');"
        " return !!f && f.action.endsWith('/themen/mieten/folgen/'); }"
    )
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
        if page.evaluate(on_target):
            break
    button = page.locator("[data-follow-form][action$='/themen/mieten/folgen/'] button").first
    assert button.evaluate("b => b === document.activeElement"), "|".join(reached)
    assert button.get_attribute("aria-pressed") == "false"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector(\"[data-follow-form][action$='/themen/mieten/folgen/'] "
        "button\").getAttribute('aria-pressed') === 'true'"
    )
    # in place: the same page, focus still on the button, the sentence announced
    assert page.url.endswith("/entscheidungen/")
    assert button.evaluate("b => b === document.activeElement")
    page.wait_for_function(
        "() => document.getElementById('live-announcer').textContent.includes('Mieten und Wohnen')"
    )
    assert TopicFollow.objects.filter(member=alice, topic=world["topics"]["mieten"]).exists()

    staff = new_context().new_page()
    login(staff, sam)
    staff.goto("/entscheidungen/neu/")
    staff.fill("#id_title", "Mietenschutzgesetz: zweite Lesung")
    staff.fill("#id_explanation", "Mietenkataster und Wohnraumschutz.")
    day = timezone.localdate() + timedelta(days=1)
    staff.fill("#id_date", day.isoformat())
    staff.fill("#id_time", "10:00")
    staff.check("input[name=institution][value=parliament]")
    staff.check(f"input[name=topics][value='{world['topics']['mieten'].pk}']")
    staff.fill("#id_source_url", "https://www.parlament-berlin.de/")
    with staff.expect_navigation():
        staff.click("main form.decision-form button[type=submit]")
    assert "Mietenschutzgesetz" in staff.locator("h1").inner_text()

    page.goto("/")
    upcoming = page.locator("section[aria-labelledby=upcoming]")
    assert "Mietenschutzgesetz: zweite Lesung" in upcoming.inner_text()
    page.goto("/benachrichtigungen/")
    assert "Mietenschutzgesetz" in page.locator("main").inner_text()
    assert not browser_errors


def test_the_member_pages_pass_axe_in_both_languages_and_widths(page, world, request_log):
    services.topic_follow(actor=world["alice"], topic=world["topics"]["senioren"], follow=True)
    login(page, world["alice"])
    today = timezone.localdate()
    problems = check_pages_in_both_languages(
        page,
        [
            "/entscheidungen/",
            "/entscheidungen/?thema=senioren",
            "/entscheidungen/kalender/",
            f"/entscheidungen/kalender/{today.year + 1}/{today.month}/",
            world["upcoming"].get_absolute_url(),
            world["decided"].get_absolute_url(),
            "/",
        ],
        shots="member",
    )
    assert_no_problems(problems)
    assert_only_local(request_log)


def test_the_organiser_pages_pass_axe_in_both_languages_and_widths(page, world):
    login(page, world["sam"])
    pk = world["upcoming"].pk
    problems = check_pages_in_both_languages(
        page,
        [
            "/entscheidungen/neu/",
            f"/entscheidungen/{pk}/",
            f"/entscheidungen/{pk}/bearbeiten/",
            f"/entscheidungen/{pk}/ergebnis/",
        ],
        shots="staff",
    )
    assert_no_problems(problems)


def test_a_refused_form_focuses_its_error_summary_and_is_accessible(page, world):
    login(page, world["sam"])
    page.goto("/entscheidungen/neu/")
    page.fill("#id_title", "")
    page.fill("#id_source_url", "javascript:alert(1)")
    with page.expect_navigation():
        page.click("main form.decision-form button[type=submit]")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    page.wait_for_function("() => document.activeElement.classList.contains('error-summary')")
    problems: list[str] = []
    check_page(page, "de", problems)
    screenshot(page, "staff-form-errors")
    assert_no_problems(problems)
    assert not Decision.objects.filter(title="").exists()
