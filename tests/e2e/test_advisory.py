"""Advisory forums in a real browser: an organiser adds a meeting by keyboard alone; the index,
the page and the organisers' forms are axe-clean in German and English at 1280 and 360 px,
without sideways scrolling. Set E2E_SCREENSHOTS=<folder> to keep PNGs of the German pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.advisory import services
from consultations.advisory.models import Meeting
from consultations.decisions.services import topic_ensure
from deliberation.models import Member
from forums import services as forum_services
from forums.models import Forum, Post
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
    mo = factories.make_member(email="mo@example.org", display_name="Mo")
    alice = factories.make_member(email="alice@example.org", display_name="Alice")
    forum = factories.make_forum(
        actor=sam,
        title="Ratschlag Mieten",
        slug="mieten",
        kind=Forum.Kind.ADVISORY,
        description="Wie sorgen wir für bezahlbare Mieten in Berlin?",
    )
    factories.make_thread(forum, author=alice, title="Mietenkataster: Was Wien besser macht")
    advisory = services.advisory_create(
        actor=sam, forum=forum, topic=topic_ensure(name="Mieten und Wohnen", slug="mieten")
    )
    services.organiser_grant(actor=sam, advisory=advisory, member=mo)
    day = timezone.localdate() + timedelta(days=7)
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    meeting = services.meeting_create(
        actor=sam,
        advisory=advisory,
        title="Erstes Treffen: Mieten im Bestand",
        starts_at=start + timedelta(hours=18),
        ends_at=start + timedelta(hours=21),
        venue_name="Nachbarschaftshaus Urbanstraße",
        venue_address="Urbanstraße 21\n10961 Berlin",
        step_free=True,
        childcare=True,
        nursing_room=True,
        access_notes="Aufzug am Seiteneingang.",
    )
    services.meeting_create(
        actor=sam,
        advisory=advisory,
        title="Online-Treffen: Vorschläge für das Wahlprogramm",
        starts_at=start + timedelta(days=28, hours=19),
        ends_at=start + timedelta(days=28, hours=21),
        video_url="https://video.example.org/ratschlag-mieten",
    )
    for name, badge in [
        ("Kotti & Co", "Initiative: Kotti & Co"),
        ("Mieterverein Berlin-Nord", "Initiative: Mieterverein Berlin-Nord"),
        ("Fraktion im Abgeordnetenhaus", "Fraktion"),
    ]:
        organisation = services.organisation_create(
            actor=sam,
            advisory=advisory,
            name=name,
            description="Mieter*innen organisieren sich gegen Verdrängung.",
            url="https://example.org/",
            badge_label=badge,
        )
    forum_services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    return {
        "advisory": advisory,
        "mo": mo,
        "alice": alice,
        "meeting": meeting,
        "organisation": organisation,
    }


def test_the_member_pages_pass_axe_in_both_languages_and_widths(page, world, request_log):
    login(page, world["alice"])
    problems = check_pages_in_both_languages(
        page, ["/ratschlaege/", world["advisory"].get_absolute_url()], shots="member"
    )
    assert_no_problems(problems)
    assert_only_local(request_log)


def test_the_organiser_pages_pass_axe_in_both_languages_and_widths(page, world):
    login(page, world["mo"])
    slug = world["advisory"].forum.slug
    problems = check_pages_in_both_languages(
        page,
        [
            f"/ratschlaege/{slug}/",
            f"/ratschlaege/{slug}/bearbeiten/",
            f"/ratschlaege/{slug}/treffen/neu/",
            f"/ratschlaege/{slug}/treffen/{world['meeting'].pk}/",
            f"/ratschlaege/{slug}/organisationen/neu/",
            f"/ratschlaege/{slug}/organisationen/{world['organisation'].pk}/",
        ],
        shots="organiser",
    )
    assert_no_problems(problems)


def _people_who_wrote(world: dict[str, Any]) -> None:
    """Five guests (120 days ago) and five members (alice's thread, four replies, one of them 60
    days ago): all time shows the split, 90 days the totals only, 30 days nothing."""
    sam = Member.objects.get(email="sam@example.org")
    forum = world["advisory"].forum
    thread = forum.threads.get()
    guests = [factories.make_guest(password=None) for _ in range(5)]
    old, older = timezone.now() - timedelta(days=60), timezone.now() - timedelta(days=120)
    for guest in guests:
        forum_services.forum_grant(actor=sam, forum=forum, member=guest, right="participate")
        post = factories.make_post(thread, author=guest)
        Post.objects.filter(pk=post.pk).update(state=Post.State.PUBLISHED, created_at=older)
    for n in range(4):
        post = factories.make_post(thread, author=factories.make_member(password=None))
        if n == 0:
            Post.objects.filter(pk=post.pk).update(created_at=old)


def test_the_participation_figures_pass_axe_in_every_state(page, world):
    _people_who_wrote(world)
    login(page, world["mo"])
    url = reverse("advisory:figures", args=[world["advisory"].forum.slug])
    problems = check_pages_in_both_languages(
        page, [url, f"{url}?zeitraum=90", f"{url}?zeitraum=30"], shots="figures"
    )
    assert_no_problems(problems)
    page.goto(url)
    assert page.locator("main table").count() == 1
    page.goto(f"{url}?zeitraum=90")
    assert page.locator("main table").count() == 0
    assert page.locator("main .conf-totals__number").count() == 3
    page.goto(f"{url}?zeitraum=30")
    assert page.locator("main .conf-totals__number").count() == 0
    assert page.locator("main .empty-state").count() == 1


def test_an_organiser_adds_a_meeting_by_keyboard(page, world, browser_errors):
    login(page, world["mo"])
    page.goto(world["advisory"].get_absolute_url())
    add = page.locator("main a", has_text="Treffen hinzufügen")
    for _ in range(40):
        page.keyboard.press("Tab")
        if add.evaluate("a => a === document.activeElement"):
            break
    assert add.evaluate("a => a === document.activeElement")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # a first try without a place: refused, the summary takes focus
    page.keyboard.press("Tab")  # skip link
    page.focus("#id_title")
    page.keyboard.type("Drittes Treffen")
    page.keyboard.press("Tab")
    day = timezone.localdate() + timedelta(days=14)
    # The date and time widgets' own keys differ per browser locale: filled, not typed.
    page.fill("#id_date", day.isoformat())
    page.fill("#id_starts", "18:30")
    page.fill("#id_ends", "21:00")
    page.focus("#id_title")  # Enter in a text field sends the form (a time field does not)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.classList.contains('error-summary')")
    problems: list[str] = []
    check_page(page, "de", problems)
    screenshot(page, "organiser-meeting-errors")
    assert_no_problems(problems)
    page.focus("#id_venue_name")
    page.keyboard.type("Rathaus Kreuzberg")
    page.keyboard.press("Tab")  # the address
    page.keyboard.press("Tab")  # the video room
    page.keyboard.press("Tab")  # step-free access
    page.keyboard.press("Space")
    page.focus("#id_title")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(world["advisory"].get_absolute_url()), page.locator(
        "main"
    ).inner_text()
    meeting = Meeting.objects.get(title="Drittes Treffen")
    assert meeting.venue_name == "Rathaus Kreuzberg" and meeting.step_free
    assert timezone.localtime(meeting.starts_at).strftime("%H:%M") == "18:30"
    assert "Drittes Treffen" in page.locator("main").inner_text()
    assert not browser_errors
