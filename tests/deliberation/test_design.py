"""The design system's server side: the staff-only components page, the error summary every form
starts with when it comes back with errors, messages as notices that take focus, empty states.

Personas: alice is a member, bob another member, sam is staff (tests/conftest.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib import messages
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from deliberation.components import COMPONENTS
from moderation.models import Report
from tests import factories

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))

    def by_id(self, element_id: str) -> tuple[str, dict[str, str]] | None:
        return next((e for e in self.found if e[1].get("id") == element_id), None)

    def with_class(self, name: str) -> list[tuple[str, dict[str, str]]]:
        return [e for e in self.found if name in e[1].get("class", "").split()]


def client_for(member, language: str = "en") -> Client:
    member.language = language
    member.save(update_fields=["language"])
    client = Client()
    client.force_login(member)
    return client


def summary_of(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "the page has no error summary"
    return match.group(0)


def summary_links(html: str) -> list[tuple[str, str]]:
    """(target id, text) of each link in the error summary."""
    return [
        (href, " ".join(text.split()))
        for href, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary_of(html), re.S)
    ]


# --- the components page --------------------------------------------------------------------


def test_the_components_page_sends_a_visitor_to_log_in(client):
    response = client.get(reverse("components"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_components_page_is_refused_to_a_member_who_is_not_staff(alice):
    assert client_for(alice).get(reverse("components")).status_code == 403


def test_staff_see_every_component_with_its_markup_and_a_live_example(sam):
    response = client_for(sam).get(reverse("components"))
    assert response.status_code == 200
    html = response.content.decode()
    page = Elements(html)
    for component in COMPONENTS:
        section = page.by_id(component.slug)
        assert section is not None and section[0] == "section", component.slug
        assert str(component.name) in html
    # The markup is shown as escaped code; the same markup, rendered, is the example.
    assert "&lt;button type=&quot;button&quot; class=&quot;toggle&quot; aria-pressed" in html
    pressed = [e for e in page.with_class("toggle") if e[1].get("aria-pressed") == "true"]
    unpressed = [e for e in page.with_class("toggle") if e[1].get("aria-pressed") == "false"]
    assert pressed and unpressed
    for kind in ("member", "group", "initiative", "staff", "live", "count"):
        assert page.with_class(f"badge--{kind}"), kind
    for kind in ("info", "success", "warning", "error"):
        assert page.with_class(f"notice--{kind}"), kind
    assert page.with_class("empty-state")
    # The example form's error summary must not steal focus from the page.
    summary = page.with_class("error-summary")
    assert len(summary) == 1 and "data-autofocus" not in summary[0][1]


def test_the_components_page_speaks_german_to_a_german_member(sam):
    html = client_for(sam, "de").get(reverse("components")).content.decode()
    assert "<h1>Komponenten</h1>" in html
    assert "Bitte korrigiere Folgendes" in html


# --- the error summary ----------------------------------------------------------------------


@pytest.fixture
def post(bob):
    forum = factories.make_forum(title="Mieten", slug="mieten")
    thread = factories.make_thread(forum, author=bob, title="Mietendeckel")
    return factories.make_post(thread, author=bob, body="Ein Beitrag")


def test_an_empty_report_comes_back_with_a_summary_that_links_to_the_reason(post, alice):
    response = client_for(alice).post(reverse("moderation:report", args=[post.pk]), {})
    assert response.status_code == 200
    html = response.content.decode()
    assert summary_links(html) == [
        ("id_reason_0", "Why are you reporting this post? – Please choose a reason.")
    ]
    page = Elements(html)
    # The link's target exists, and the summary is the element that takes focus on load.
    assert page.by_id("id_reason_0") is not None
    summary = page.with_class("error-summary")[0][1]
    assert summary["tabindex"] == "-1" and summary["data-autofocus"] == "error-summary"
    radios = [a for t, a in page.found if t == "input" and a.get("name") == "reason"]
    assert radios and all(a.get("aria-invalid") == "true" for a in radios)
    # The radio group (a fieldset) is described by its error text, which exists.
    fieldset = next(a for t, a in page.found if t == "fieldset")
    assert page.by_id(fieldset["aria-describedby"]) is not None
    assert not Report.objects.exists()


def test_a_valid_report_page_has_no_summary(post, alice):
    html = client_for(alice).get(reverse("moderation:report", args=[post.pk])).content.decode()
    assert "error-summary" not in html
    assert 'aria-invalid="true"' not in html


def test_each_field_error_links_to_a_field_that_is_invalid_and_described_by_its_error(alice):
    response = client_for(alice).post(
        reverse("profile"), {"display_name": "", "language": "fr", "district": ""}
    )
    html = response.content.decode()
    links = summary_links(html)
    assert [target for target, _text in links] == ["id_display_name", "id_language"]
    assert links[0][1] == "Display name – This field is required."
    page = Elements(html)
    for target, _text in links:
        _tag, attrs = page.by_id(target)
        assert attrs.get("aria-invalid") == "true", target
        described = attrs["aria-describedby"].split()
        assert f"{target}_error" in described
        assert all(page.by_id(part) is not None for part in described), described
    # A field without an error is neither marked nor described by an error.
    _tag, district = page.by_id("id_district")
    assert "aria-invalid" not in district
    assert "_error" not in district.get("aria-describedby", "")


def test_a_wrong_password_is_summarised_without_a_link(alice):
    response = Client().post(
        reverse("login"), {"username": alice.email, "password": "not the password"}
    )
    html = response.content.decode()
    summary = summary_of(html)
    assert "<a " not in summary
    assert "<li>" in summary
    assert 'role="alert"' not in summary  # focus, not an alert, makes it read (site.js)


def test_an_empty_reply_comes_back_with_a_summary_that_links_to_the_editor(post, alice):
    response = client_for(alice).post(
        reverse("forums:thread_reply", args=[post.thread.pk]), {"body": "", "client_id": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    links = summary_links(html)
    assert [target for target, _text in links] == ["id_body"]
    tag, attrs = Elements(html).by_id("id_body")
    assert tag == "textarea" and attrs.get("aria-invalid") == "true"


def test_the_summary_escapes_what_a_member_typed():
    template = Template('{% include "deliberation/_error_summary.html" %}')

    class Form:
        errors = True

        def non_field_errors(self):
            return ["<script>alert(1)</script>"]

        def __iter__(self):
            return iter([])

    html = template.render(Context({"form": Form()}))
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- messages -------------------------------------------------------------------------------


def test_a_message_after_a_redirect_is_a_notice_that_takes_focus_not_a_status_region(alice):
    client = client_for(alice)
    response = client.post(
        reverse("profile"), {"display_name": "Alice", "language": "en", "district": ""}, follow=True
    )
    html = response.content.decode()
    page = Elements(html)
    box = page.with_class("messages")
    assert len(box) == 1
    assert box[0][1]["tabindex"] == "-1" and box[0][1]["data-autofocus"] == "messages"
    assert "role" not in box[0][1]
    notices = page.with_class("notice--success")
    assert len(notices) == 1
    assert "Your profile has been saved." in html


@pytest.mark.parametrize(
    ("level", "kind"),
    [
        (messages.SUCCESS, "notice--success"),
        (messages.ERROR, "notice--error"),
        (messages.WARNING, "notice--warning"),
        (messages.INFO, "notice--info"),
    ],
)
def test_each_message_level_has_its_notice(level, kind):
    from django.contrib.messages.storage.base import Message

    html = Template('{% include "deliberation/_messages.html" %}').render(
        Context({"messages": [Message(level, "Text")]})
    )
    assert f'class="notice {kind}"' in html


# --- empty states ---------------------------------------------------------------------------


def test_an_empty_forum_says_how_to_start_the_first_thread(alice):
    forum = factories.make_forum(title="Leer", slug="leer")
    html = client_for(alice).get(forum.get_absolute_url()).content.decode()
    page = Elements(html)
    assert page.with_class("empty-state")
    assert "No threads yet." in html
    assert "Start the first thread with the button above" in html
    create = reverse("forums:thread_create", args=[forum.slug])
    assert f'<a class="button" href="{create}">' in html


def test_an_empty_forum_tells_a_reader_who_may_not_post_what_to_expect(alice):
    forum = factories.make_forum(title="Zu", slug="zu", state="closed")
    html = client_for(alice).get(forum.get_absolute_url()).content.decode()
    assert "When a thread is started here" in html
    assert reverse("forums:thread_create", args=[forum.slug]) not in html


def test_no_notifications_is_an_empty_state_with_a_next_step(alice):
    html = client_for(alice).get(reverse("notifications")).content.decode()
    assert Elements(html).with_class("empty-state")
    assert "You have no notifications." in html
    assert f'href="{reverse("forums:index")}">Go to the forums</a>' in html


def test_an_empty_search_result_escapes_the_query(alice):
    query = "<b>Raumfahrt</b>"
    html = client_for(alice).get(reverse("forums:search"), {"q": query}).content.decode()
    assert Elements(html).with_class("empty-state")
    assert "<b>Raumfahrt</b>" not in html
    assert "&lt;b&gt;Raumfahrt&lt;/b&gt;" in html


def test_the_base_buttons_never_outrank_a_class():
    """The issue's bug: button[type=submit] in site.css outranked .agree-button."""
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "deliberation/static/deliberation/css/site.css").read_text()
    for selector in re.findall(r"(?m)^([^{}/@]*\bbutton[^{}]*)\{", css):
        for part in selector.split(","):
            part = part.strip()
            if re.fullmatch(r"button(\[[^\]]*\])*(:\w+)*", part):
                pytest.fail(f"a bare element selector outranks classes: {part!r}")
    assert ":where(button[type=submit])" in css
