"""Logging in and out, and setting a password by link (invitation or reset)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.urls import reverse
from django.utils import translation

from deliberation import services
from tests.factories import PASSWORD, make_member

NEW_PASSWORD = "a-new-long-passphrase-42"

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def link_path(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/passwort/setzen/\S+/)", body)
    assert match, body
    return match.group(1)


def set_password_via(client, path: str, password: str = NEW_PASSWORD):
    """Open a password link and submit a new password; return the final response."""
    response = client.get(path, follow=True)
    assert response.context["validlink"], "the link should still be valid"
    form_url = response.redirect_chain[-1][0]
    return client.post(
        form_url, {"new_password1": password, "new_password2": password}, follow=True
    )


# --- logging in and out -------------------------------------------------------------------


def test_the_login_page_renders_in_german_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()
    assert response.headers["Content-Language"] == "de"


def test_a_member_logs_in_with_email_and_password(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_the_email_address_is_case_insensitive_at_login(client, alice):
    client.post(reverse("login"), {"username": "Alice@Example.ORG", "password": PASSWORD})
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_a_wrong_password_shows_an_error_and_starts_no_session(english, alice):
    response = english.post(reverse("login"), {"username": alice.email, "password": "wrong-one"})
    assert response.status_code == 200
    assert "The e-mail address or password is wrong." in response.content.decode()
    assert SESSION_KEY not in english.session


def test_an_unknown_address_gets_the_same_error_as_a_wrong_password(english, alice):
    wrong_password = english.post(reverse("login"), {"username": alice.email, "password": "x"})
    unknown = english.post(reverse("login"), {"username": "nobody@example.org", "password": "x"})
    assert "The e-mail address or password is wrong." in unknown.content.decode()
    assert "The e-mail address or password is wrong." in wrong_password.content.decode()


def test_the_login_error_is_in_german_for_a_german_browser(client, alice):
    response = client.post(
        reverse("login"),
        {"username": alice.email, "password": "wrong-one"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = response.content.decode()
    assert response.headers["Content-Language"] == "de"
    assert "E-Mail-Adresse oder Passwort ist falsch." in body
    assert 'class="error-summary"' in body  # takes focus on load (site.js): read at once
    assert SESSION_KEY not in client.session


def test_logout_by_post_ends_the_session(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert client.get(reverse("profile")).status_code == 302  # back to the login page


def test_logout_by_get_is_refused_and_keeps_the_session(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_an_inactive_member_cannot_log_in(client):
    make_member(email="gone@example.org", is_active=False)
    client.post(reverse("login"), {"username": "gone@example.org", "password": PASSWORD})
    assert SESSION_KEY not in client.session


# --- password links -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["password_reset", "password_reset_done", "password_reset_complete", "login"]
)
def test_every_account_page_renders_for_anonymous_visitors(client, name):
    assert client.get(reverse(name)).status_code == 200


def test_a_password_reset_link_works_once(english, alice):
    english.post(reverse("password_reset"), {"email": "ALICE@example.org"})
    assert len(mail.outbox) == 1
    path = link_path(mail.outbox[0].body)

    response = set_password_via(english, path)
    assert response.redirect_chain[-1][0] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)

    again = english.get(path, follow=True)
    assert not again.context["validlink"]
    assert "This link is no longer valid" in again.content.decode()


def test_a_password_reset_link_expires_after_the_timeout(english, alice, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    english.post(reverse("password_reset"), {"email": alice.email})
    path = link_path(mail.outbox[0].body)
    issued = PasswordResetTokenGenerator()._now()

    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: issued + timedelta(seconds=3599)
    )
    assert english.get(path, follow=True).context["validlink"]

    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: issued + timedelta(seconds=3601)
    )
    expired = english.get(path, follow=True)
    assert not expired.context["validlink"]
    assert "no longer valid" in expired.content.decode()


def test_a_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client, alice):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_reset_reaches_a_member_who_never_set_a_password(english):
    member = services.member_create(
        email="new@example.org", display_name="Newbie", invite=False, language="en"
    )
    assert not member.has_usable_password()
    english.post(reverse("password_reset"), {"email": "new@example.org"})
    assert len(mail.outbox) == 1
    set_password_via(english, link_path(mail.outbox[0].body))
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_a_reset_mail_is_in_the_members_language_not_the_askers(client, alice):
    alice.language = "en"
    alice.save(update_fields=["language"])
    client.post(reverse("password_reset"), {"email": alice.email}, HTTP_ACCEPT_LANGUAGE="de")
    assert "Someone asked to set a new password" in mail.outbox[0].body


def test_a_weak_new_password_is_refused_with_a_reason(english, alice):
    english.post(reverse("password_reset"), {"email": alice.email})
    response = set_password_via(english, link_path(mail.outbox[0].body), password="12345")
    assert "This password is too short" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# --- invitations --------------------------------------------------------------------------


def test_a_new_member_is_invited_after_commit_with_a_working_link(
    english, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = services.member_create(email="Neu@Example.org", display_name="Neu", language="en")
    assert member.email == "neu@example.org"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["neu@example.org"]
    assert message.subject == "Welcome to Mitmachen"
    assert "Hello Neu," in message.body

    set_password_via(english, link_path(message.body))
    response = english.post(
        reverse("login"), {"username": "neu@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert english.session[SESSION_KEY] == str(member.pk)


def test_the_invitation_is_rendered_in_the_members_language(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The German text is not translated yet: check which language is active while rendering."""
    rendered_in: list[str | None] = []
    original = services.render_to_string

    def spy(*args, **kwargs):
        rendered_in.append(translation.get_language())
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "render_to_string", spy)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.member_create(email="de@example.org", display_name="Deutsch", language="de")
        services.member_create(email="en@example.org", display_name="English", language="en")
    assert rendered_in == ["de", "de", "en", "en"]  # subject and body of each
    assert [message.to for message in mail.outbox] == [["de@example.org"], ["en@example.org"]]


def test_no_invitation_is_sent_when_not_asked_for(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.member_create(email="quiet@example.org", display_name="Quiet", invite=False)
    assert mail.outbox == []
