"""The page shell: navigation (current page, the moderator's queue), favicon, footer pages and
error pages. The browser side (menu button, header height, axe) is in tests/e2e/test_shell.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consultations.conferences import services as conference_services
from deliberation import selectors, services
from deliberation.demo_pages import PAGES, seed_site_pages
from deliberation.models import SitePage
from moderation import services as moderation_services
from moderation.models import Reason
from moderation.selectors import queue_link
from moderation.services_forum import moderator_grant
from tests import factories

pytestmark = pytest.mark.django_db


def nav_link(body: str, href: str) -> str:
    """The opening tag of the main navigation's link to ``href``."""
    nav = body.split('class="site-nav"', 1)[1].split("</nav>", 1)[0]
    match = re.search(rf'<a href="{re.escape(href)}"[^>]*>', nav)
    assert match, f"no navigation link to {href}"
    return match.group(0)


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- navigation: the current page -----------------------------------------------------------


def test_the_overview_is_marked_as_the_current_page_on_the_overview(client):
    body = client.get(reverse("home")).content.decode()
    assert 'aria-current="page"' in nav_link(body, reverse("home"))
    assert "aria-current" not in nav_link(body, reverse("forums:index"))


def test_forums_is_the_current_page_on_the_index_and_the_current_section_inside_a_forum(
    client, alice
):
    thread = factories.make_thread(factories.make_forum(visibility="public"))
    client.force_login(alice)
    index = client.get(reverse("forums:index")).content.decode()
    assert 'aria-current="page"' in nav_link(index, reverse("forums:index"))
    for url in (thread.forum.get_absolute_url(), thread.get_absolute_url()):
        body = client.get(url).content.decode()
        assert 'aria-current="true"' in nav_link(body, reverse("forums:index")), url
        assert "aria-current" not in nav_link(body, reverse("home")), url


def test_conferences_is_in_the_navigation_current_on_the_list_and_the_section_inside(
    client, alice, sam
):
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz Koalitionsvertrag",
        slug="bk",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
    )
    home = client.get(reverse("home")).content.decode()
    assert ">Konferenzen</a>" in home  # for visitors too, in German by default
    assert "aria-current" not in nav_link(home, reverse("conferences:index"))

    client.force_login(alice)
    index = client.get(reverse("conferences:index")).content.decode()
    assert 'aria-current="page"' in nav_link(index, reverse("conferences:index"))
    assert "aria-current" not in nav_link(index, reverse("forums:index"))
    for url in (conference.get_absolute_url(), reverse("conferences:tracker")):
        body = client.get(url).content.decode()
        assert 'aria-current="true"' in nav_link(body, reverse("conferences:index")), url
        assert "aria-current" not in nav_link(body, reverse("home")), url
        assert "aria-current" not in nav_link(body, reverse("forums:index")), url
    forums = client.get(reverse("forums:index")).content.decode()
    assert "aria-current" not in nav_link(forums, reverse("conferences:index"))


# --- navigation: the moderator's queue ------------------------------------------------------


def reported_post(forum, *, reporter):
    post = factories.make_post(factories.make_thread(forum))
    moderation_services.report_create(actor=reporter, post=post, reason=Reason.SPAM)
    return post


def test_a_member_who_moderates_nothing_has_no_queue_in_the_navigation(client, alice):
    client.force_login(alice)
    body = client.get(reverse("home")).content.decode()
    assert queue_link(user=alice) is None
    assert "/moderation/" not in body.split("</header>", 1)[0]


def test_a_moderator_sees_the_queue_of_their_forum_with_its_open_cases(client, sam, mo, alice):
    quiet = factories.make_forum(title="A quiet forum", slug="quiet")
    busy = factories.make_forum(title="Busy forum", slug="busy")
    moderator_grant(actor=sam, forum=quiet, member=mo)
    moderator_grant(actor=sam, forum=busy, member=mo)
    reported_post(busy, reporter=alice)
    reported_post(busy, reporter=alice)
    reported_post(factories.make_forum(), reporter=alice)  # not Mo's forum: not counted

    link = queue_link(user=mo)
    assert link is not None
    assert (link.url, link.open_cases) == (reverse("moderation:queue", args=["busy"]), 2)
    client.force_login(mo)
    body = client.get(reverse("home")).content.decode()
    assert ">Moderation (2<" in body.split("</header>", 1)[0]
    assert f'<a href="{link.url}"' in body


def test_a_moderator_through_a_group_gets_the_queue_too(sam, mo):
    forum = factories.make_forum(slug="by-group")
    group = Group.objects.create(name="Moderation Mitte")
    mo.groups.add(group)
    from guardian.shortcuts import assign_perm

    assign_perm("forums.moderate_forum", group, forum)
    link = queue_link(user=mo)
    assert link is not None and link.url == reverse("moderation:queue", args=["by-group"])


def test_staff_see_the_queue_of_every_forum(sam, alice):
    reported_post(factories.make_forum(), reporter=alice)
    reported_post(factories.make_forum(), reporter=alice)
    link = queue_link(user=sam)
    assert link is not None
    assert (link.url, link.open_cases) == (reverse("moderation:staff_queue"), 2)


def test_the_queue_link_costs_one_query(django_assert_num_queries, sam, mo, alice):
    for _n in range(3):
        forum = factories.make_forum()
        moderator_grant(actor=sam, forum=forum, member=mo)
        reported_post(forum, reporter=alice)
    with django_assert_num_queries(1):
        link = queue_link(user=mo)
    assert link is not None and link.open_cases == 3
    with django_assert_num_queries(1):
        queue_link(user=alice)
    with django_assert_num_queries(0):
        queue_link(user=None)


def test_an_inactive_moderator_has_no_queue_link(sam, mo):
    moderator_grant(actor=sam, forum=factories.make_forum(), member=mo)
    mo.is_active = False
    assert queue_link(user=mo) is None


# --- favicon and logo -----------------------------------------------------------------------


def test_favicon_ico_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age" in response["Cache-Control"]


def test_every_page_links_the_icons_and_shows_the_signet(client):
    body = client.get(reverse("home")).content.decode()
    assert 'rel="icon" href="/static/deliberation/img/favicon.svg"' in body
    assert 'href="/static/deliberation/img/favicon-32.png"' in body
    assert 'class="brand-signet" src="/static/deliberation/img/signet.svg" alt=""' in body


def test_every_page_has_the_live_region_and_the_site_script(client):
    body = client.get(reverse("home")).content.decode()
    assert (
        '<div id="live-announcer" class="live-announcer visually-hidden" aria-live="polite"'
        ' aria-atomic="true"></div>'
    ) in body
    assert re.search(r'<script src="/static/deliberation/js/site.js" nonce="[^"]+" defer>', body)
    button = re.search(r"<button[^>]*data-menu-button[^>]*>", body)
    assert button and 'aria-expanded="false"' in button.group(0)
    assert 'aria-controls="site-menu"' in button.group(0) and 'id="site-menu"' in body


# --- footer pages ---------------------------------------------------------------------------


def test_the_footer_links_the_four_site_pages(client):
    body = client.get(reverse("home")).content.decode()
    footer = body.split('<footer class="site-footer">', 1)[1]
    for path, name in [
        ("/impressum/", "Impressum"),
        ("/datenschutz/", "Datenschutzerklärung"),
        ("/barrierefreiheit/", "Erklärung zur Barrierefreiheit"),
        ("/kontakt/", "Kontakt"),
    ]:
        assert f'<a href="{path}">{name}</a>' in footer


def test_a_page_not_written_yet_shows_a_friendly_notice(client):
    response = client.get("/impressum/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Impressum</h1>" in body
    assert "An dieser Seite wird noch geschrieben." in body


def test_a_page_without_its_row_still_answers(client):
    SitePage.objects.filter(slug="kontakt").delete()
    response = client.get("/kontakt/")
    assert response.status_code == 200
    assert "An dieser Seite wird noch geschrieben." in response.content.decode()


def test_the_text_is_rendered_from_markdown_once_and_sanitised(client):
    page = SitePage.objects.get(slug="impressum")
    services.site_page_update(
        page=page,
        title_de="Impressum",
        body_de="# Anbieter\n\nLandesverband <script>alert(1)</script>\n\n### Vorstand",
        title_en="",
        body_en="",
    )
    page.refresh_from_db()
    assert page.body_de_html.startswith("<h2>Anbieter</h2>")
    assert "<h3>Vorstand</h3>" in page.body_de_html
    assert "<script" not in page.body_de_html
    body = client.get("/impressum/").content.decode()
    assert "<h2>Anbieter</h2>" in body


def test_english_falls_back_to_the_german_text_marked_as_german(english):
    services.site_page_update(
        page=SitePage.objects.get(slug="datenschutz"),
        title_de="Datenschutzerklärung",
        body_de="Wir speichern wenig.",
        title_en="",
        body_en="",
    )
    body = english.get("/datenschutz/").content.decode()
    assert '<html lang="en">' in body
    assert '<article class="site-page" lang="de">' in body
    assert "<h1>Datenschutzerklärung</h1>" in body
    assert "Wir speichern wenig." in body
    assert "This page is available in German only." in body


def test_english_shows_the_english_text_when_there_is_one(english):
    services.site_page_update(
        page=SitePage.objects.get(slug="kontakt"),
        title_de="Kontakt",
        body_de="Schreib uns.",
        title_en="Contact",
        body_en="Write to us.",
    )
    body = english.get("/kontakt/").content.decode()
    assert '<article class="site-page">' in body
    assert "Write to us." in body and "Schreib uns." not in body


def test_an_unknown_language_gets_the_german_text():
    services.site_page_update(
        page=SitePage.objects.get(slug="kontakt"),
        title_de="Kontakt",
        body_de="Schreib uns.",
        title_en="",
        body_en="",
    )
    view = selectors.site_page(slug="kontakt", language="fr")
    assert (view.title, view.lang) == ("Kontakt", "de")
    assert "Schreib uns." in view.html


def test_staff_edit_a_page_in_the_admin_and_the_page_changes(client, sam):
    client.force_login(sam)
    page = SitePage.objects.get(slug="barrierefreiheit")
    url = reverse("admin:deliberation_sitepage_change", args=[page.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title_de": "Barrierefreiheit",
            "body_de": "## Stand der Vereinbarkeit\n\nTeilweise barrierefrei.",
            "title_en": "Accessibility",
            "body_en": "",
        },
    )
    assert response.status_code == 302
    body = Client().get("/barrierefreiheit/").content.decode()
    assert "<h2>Stand der Vereinbarkeit</h2>" in body
    assert "Teilweise barrierefrei." in body


def test_staff_cannot_add_or_delete_site_pages_in_the_admin(client, sam):
    client.force_login(sam)
    assert client.get(reverse("admin:deliberation_sitepage_add")).status_code == 403
    page = SitePage.objects.get(slug="kontakt")
    delete = reverse("admin:deliberation_sitepage_delete", args=[page.pk])
    assert client.get(delete).status_code == 403


def test_a_member_cannot_edit_site_pages(client, alice):
    client.force_login(alice)
    page = SitePage.objects.get(slug="kontakt")
    response = client.get(reverse("admin:deliberation_sitepage_change", args=[page.pk]))
    assert response.status_code == 302  # to the admin's login


def test_the_demo_fills_empty_pages_in_both_languages_and_keeps_written_ones(client):
    services.site_page_update(
        page=SitePage.objects.get(slug="impressum"),
        title_de="Impressum",
        body_de="Unser echtes Impressum.",
        title_en="",
        body_en="",
    )
    seed_site_pages(stdout=type("Out", (), {"write": lambda self, text: None})())
    assert "Unser echtes Impressum." in client.get("/impressum/").content.decode()
    for slug in ("datenschutz", "barrierefreiheit", "kontakt"):
        page = SitePage.objects.get(slug=slug)
        assert "Demo-Text" in page.body_de_html and "Demo text" in page.body_en_html, slug
    statement = SitePage.objects.get(slug="barrierefreiheit").body_de_html
    for section in (
        "Stand der Vereinbarkeit",
        "Nicht barrierefreie Inhalte",
        "Feedback und Kontakt",
        "Schlichtungsverfahren",
    ):
        assert f"<h2>{section}" in statement
    assert (
        "Landesverband möchte, dass alle Mitglieder mitmachen können. Diese Erklärung gilt für"
        in statement
    )
    assert set(PAGES) == set(SitePage.Slug.values)


# --- error pages ----------------------------------------------------------------------------


@pytest.fixture
def production_errors(settings):
    """Django's own error handlers, as members meet them (DEBUG off)."""
    settings.DEBUG = False


def test_an_unknown_address_gets_our_404_page(production_errors, client):
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Diese Seite gibt es nicht" in body
    assert 'class="site-footer"' in body and 'class="site-nav"' in body


def test_the_404_page_speaks_english_to_an_english_member(production_errors, english):
    response = english.get("/gibt-es-nicht/")
    assert response.status_code == 404
    assert "We cannot find this page" in response.content.decode()


def test_a_forbidden_page_gets_our_403_page(production_errors, client, alice):
    client.force_login(alice)
    response = client.get(reverse("moderation:staff_queue"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Diese Seite kannst du nicht öffnen" in body
    assert "Anmelden, wenn du ein Konto hast" not in body  # she is logged in


def test_a_form_without_its_csrf_token_gets_our_403_page(production_errors, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("profile"), {"display_name": "Alice"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Das Formular konnte nicht gesendet werden" in body
    assert "Es wurde nichts gespeichert." in body


def test_an_over_long_page_text_is_refused_in_the_admin_and_nothing_changes(client, sam):
    from deliberation.admin import SITE_PAGE_MAX_LENGTH

    client.force_login(sam)
    page = SitePage.objects.get(slug="kontakt")
    before = (page.body_de, page.body_de_html, page.updated_at)
    url = reverse("admin:deliberation_sitepage_change", args=[page.pk])
    response = client.post(
        url,
        {"title_de": "Kontakt", "body_de": "x" * (SITE_PAGE_MAX_LENGTH + 1), "title_en": ""},
    )
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["body_de"]
    page.refresh_from_db()
    assert (page.body_de, page.body_de_html, page.updated_at) == before


@pytest.mark.parametrize(
    "hostile",
    ["> " * 10_000 + "tief", "<script>alert(1)</script>\n\n# Titel", "[x](javascript:alert(1))"],
)
def test_a_hostile_page_text_renders_safe_and_bounded(hostile):
    page = services.site_page_update(
        page=SitePage.objects.get(slug="impressum"),
        title_de="Impressum",
        body_de=hostile,
        title_en="",
        body_en="",
    )
    html = page.body_de_html
    assert "<script" not in html and "javascript:" not in html
    assert html.count("<blockquote>") <= 100  # deeper nesting is shown as plain text


@pytest.mark.django_db
@pytest.mark.parametrize("who,shown", [("alice", True), ("gina", False), (None, True)])
def test_the_conferences_are_in_the_navigation_except_for_guests(request, who, shown):
    """Guests take part in the forums they are invited to; a conference is for members."""
    client = Client()
    if who is not None:
        client.force_login(request.getfixturevalue(who))
    nav = re.search(r'<nav class="site-nav".*?</nav>', client.get("/").content.decode(), re.S)
    assert ('href="/konferenzen/"' in nav.group(0)) is shown
