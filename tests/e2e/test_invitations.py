"""A guest comes in through an invitation link, in a real browser on a real daphne: she creates
the account by keyboard, confirms the address from the mail the server wrote, and writes in the
forum under her badge; the moderators release the post and a member sees it live with the badge.
The invitation pages (the link, the confirmation, the organisers' list) are axe-clean in German
and English at 1280 and 360 px. Set E2E_SCREENSHOTS=<folder> to keep PNGs of the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_string
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from consultations.advisory import services
from consultations.advisory.invitations import services as invitations
from deliberation.models import Member
from forums import services as forum_services
from forums.models import Forum, Post
from forums.permissions import can_participate
from tests import factories
from tests.e2e.conftest import assert_only_local, login
from tests.e2e.test_pages import assert_no_problems, check_pages_in_both_languages, screenshot
from tests.servers import DaphneServer, daphne_server, database_url_of_current_test_db

pytestmark = pytest.mark.e2e

PASSWORD = "Mieten-runter-2026"
LIVE_MS = 10_000


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def daphne_live(
    transactional_db: None, django_db_serialized_rollback: None, tmp_path: Path, mail_dir: Path
) -> Iterator[DaphneServer]:
    """The package's daphne, writing each mail as a file into ``mail_dir``."""
    server = daphne_server(
        log_dir=tmp_path,
        database_url=database_url_of_current_test_db(),
        extra_env={"EMAIL_FILE_PATH": str(mail_dir)},
    )
    server.start()
    yield server
    server.stop()


def mails(folder: Path) -> list[Any]:
    return [
        message_from_string(path.read_text(), policy=email_policy)
        for path in sorted(folder.glob("*.log"))
    ]


@pytest.fixture
def world(daphne_live) -> dict[str, Any]:
    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    mo = factories.make_member(email="mo@example.org", display_name="Mo")
    alice = factories.make_member(email="alice@example.org", display_name="Alice")
    forum = factories.make_forum(
        actor=sam, title="Ratschlag Mieten", slug="mieten", kind=Forum.Kind.ADVISORY
    )
    thread = factories.make_thread(forum, author=alice, title="Modernisierung und Mieten")
    advisory = services.advisory_create(actor=sam, forum=forum)
    services.organiser_grant(actor=sam, advisory=advisory, member=mo)
    forum_services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    kotti = services.organisation_create(
        actor=sam, advisory=advisory, name="Kotti & Co", badge_label="Initiative: Kotti & Co"
    )
    link = invitations.invitation_create(
        actor=mo, advisory=advisory, organisation=kotti, affiliation="initiative", max_uses=5
    )
    return {"advisory": advisory, "thread": thread, "link": link, "mo": mo, "alice": alice}


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} never took the focus")


def test_a_guest_accepts_confirms_and_posts_under_her_badge(
    new_context, world, mail_dir, request_log, browser_errors
):
    link = world["link"]
    guest_page = new_context().new_page()
    guest_page.goto(link.get_absolute_url())
    expect(guest_page.locator("h1")).to_contain_text("Ratschlag Mieten")
    expect(guest_page.locator("main .badge")).to_contain_text("Initiative: Kotti & Co")

    # By keyboard alone: tab to each field, type, send with Enter.
    for selector, text in [
        ("#id_display_name", "Hatice"),
        ("#id_email", "hatice@kotti.example.org"),
        ("#id_password1", PASSWORD),
        ("#id_password2", PASSWORD),
    ]:
        _tab_to(guest_page, selector)
        guest_page.keyboard.type(text)
    with guest_page.expect_navigation():
        guest_page.keyboard.press("Enter")
    expect(guest_page.locator("h1")).to_have_text("Bitte bestätige deine Adresse")
    screenshot(guest_page, "invitation-sent")

    (message,) = mails(mail_dir)
    assert message["To"] == "hatice@kotti.example.org"
    body = message.get_content()
    confirm = re.search(r"https?://[^/\s]+(/ratschlaege/einladung/bestaetigen/\S+/)", body)
    assert confirm, body
    guest_page.goto(confirm.group(1))
    assert not Member.objects.get(email="hatice@kotti.example.org").is_active  # opened: nothing
    _tab_to(guest_page, "main button[type=submit]")
    with guest_page.expect_navigation():
        guest_page.keyboard.press("Enter")
    assert guest_page.url.endswith(world["advisory"].get_absolute_url())
    expect(guest_page.locator(".messages")).to_contain_text("Willkommen, Hatice")

    # A member watches the thread live while the guest writes.
    member_page = new_context().new_page()
    login(member_page, world["alice"])
    thread_url = reverse("forums:thread", args=[world["thread"].pk])
    member_page.goto(thread_url)
    expect(member_page.locator("#thread[data-live=online]")).to_have_count(1, timeout=LIVE_MS)

    guest_page.goto(thread_url)
    expect(guest_page.locator("#thread[data-live=online]")).to_have_count(1, timeout=LIVE_MS)
    guest_page.fill(
        "#reply-form textarea[name=body]", "Bei uns am Kotti stiegen die Mieten um 40 %."
    )
    guest_page.click("#reply-form button[type=submit]")
    own = guest_page.locator("#posts li.post", has_text="stiegen die Mieten")
    expect(own).to_be_visible(timeout=LIVE_MS)
    expect(own.locator(".post-badge")).to_have_text("Initiative: Kotti & Co")
    screenshot(guest_page, "invitation-guest-post-held")

    post = Post.objects.get(body__contains="stiegen die Mieten")
    assert post.state == Post.State.HELD
    expect(member_page.locator("#posts li.post", has_text="stiegen die Mieten")).to_have_count(0)
    # Mo releases it on the post's moderation page (the server broadcasts; the test cannot).
    moderator_page = new_context().new_page()
    login(moderator_page, world["mo"])
    moderator_page.goto(f"/moderation/beitrag/{post.pk}/")
    with moderator_page.expect_navigation():
        moderator_page.click("main form[action$='/freigeben/'] button[type=submit]")
    shown = member_page.locator("#posts li.post", has_text="stiegen die Mieten")
    expect(shown).to_be_visible(timeout=LIVE_MS)
    expect(shown.locator(".post-author")).to_have_text("Hatice")
    expect(shown.locator(".post-badge")).to_have_text("Initiative: Kotti & Co")
    assert_only_local(request_log)
    assert not browser_errors


def test_the_invitation_pages_pass_axe_in_both_languages_and_widths(page, world, mail_dir):
    link = world["link"]
    olga = factories.make_guest(email="olga@example.org", display_name="Olga")
    member_link = invitations.invitation_create(
        actor=world["mo"], advisory=world["advisory"], affiliation="fraktion", label="Fraktion"
    )
    invitations.guest_join(actor=olga, invitation=member_link)  # a guest listed by the link
    anonymous = [
        link.get_absolute_url(),
        reverse("advisory:invitation_sent"),
        reverse("advisory:guest_confirm", args=["a" * 60]),
        "/ratschlaege/einladung/" + "x" * 43 + "/",  # unknown: the clear 404
    ]
    problems = check_pages_in_both_languages(page, anonymous, shots="invitation")
    login(page, world["mo"])
    problems += check_pages_in_both_languages(
        page,
        [
            reverse("advisory:invitations", args=["mieten"]),
            link.get_absolute_url(),  # a member opens a guests' link
        ],
        shots="invitation-organiser",
    )
    assert_no_problems(problems)


def test_an_organiser_copies_a_link_and_ends_a_guests_access_by_keyboard(page, world):
    olga = factories.make_guest(email="olga@example.org", display_name="Olga")
    invitations.guest_join(actor=olga, invitation=world["link"])
    login(page, world["mo"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(reverse("advisory:invitations", args=["mieten"]))
    _tab_to(page, "main button[data-copy]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-copy-status]")).to_have_text("Der Link ist kopiert.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(world["link"].get_absolute_url())
    _tab_to(page, "main .invitation-guests button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Olga hat keinen Zugang mehr")
    assert not can_participate(olga, world["advisory"].forum)
