"""The core's pages: profile, language switch, health check."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from deliberation.models import District, Member

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture
def alice_en(client, alice):
    """alice, logged in, who reads the site in English."""
    alice.language = "en"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    return client


def profile_data(member: Member, **changes) -> dict[str, object]:
    data = {
        "display_name": member.display_name,
        "language": member.language,
        "district": member.district_id or "",
    }
    data.update(changes)
    return data


# --- profile ------------------------------------------------------------------------------


def test_the_profile_needs_a_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_member_sees_their_profile_in_their_language(alice_en, alice):
    response = alice_en.get(reverse("profile"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Your profile" in body
    assert alice.email in body


def test_a_member_changes_display_name_district_and_language(alice_en, alice):
    pankow = District.objects.get(slug="pankow")
    response = alice_en.post(
        reverse("profile"),
        profile_data(alice, display_name="  Alice   B. ", district=pankow.pk, language="de"),
    )
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "de"
    alice.refresh_from_db()
    assert (alice.display_name, alice.district, alice.language) == ("Alice B.", pankow, "de")


def test_a_display_name_taken_by_another_member_is_refused_and_nothing_changes(
    alice_en, alice, bob
):
    response = alice_en.post(reverse("profile"), profile_data(alice, display_name="BOB"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This display name is already taken." in body
    # The rejected name shows only in the form field, not as alice's name in the header.
    assert "(BOB)" not in body
    assert "(Alice)" in body
    alice.refresh_from_db()
    assert alice.display_name == "Alice"


def test_a_member_may_keep_their_own_name_in_another_case(alice_en, alice):
    response = alice_en.post(reverse("profile"), profile_data(alice, display_name="ALICE"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.display_name == "ALICE"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"display_name": " x "}, "at least 2 characters"),
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "y" * 61}, "at most 60 characters"),
        ({"language": "fr"}, "Select a valid choice."),
        ({"district": "999999"}, "Select a valid choice."),
    ],
)
def test_invalid_profile_input_shows_an_error_and_changes_nothing(alice_en, alice, changes, error):
    before = Member.objects.values().get(pk=alice.pk)
    response = alice_en.post(reverse("profile"), profile_data(alice, **changes))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Member.objects.values().get(pk=alice.pk) == before


def test_profile_errors_are_linked_to_their_field_for_screen_readers(alice_en, alice, bob):
    body = alice_en.post(reverse("profile"), profile_data(alice, display_name="Bob")).content
    # Django points aria-describedby at "<id>_error"; the error list must carry that id.
    assert b'aria-describedby="id_display_name_helptext id_display_name_error"' in body
    assert b'aria-invalid="true"' in body
    assert b'<ul class="errorlist" id="id_display_name_error">' in body


def test_languages_are_offered_in_their_own_names(alice_en):
    body = alice_en.get(reverse("profile")).content.decode()
    assert '<option value="de" selected>Deutsch</option>' not in body  # alice reads English
    assert '<option value="de">Deutsch</option>' in body
    assert '<option value="en" selected>English</option>' in body


# --- language switch ----------------------------------------------------------------------


def test_switching_language_sets_the_cookie_and_the_members_preference(client, alice):
    client.force_login(alice)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/profil/"})
    assert response.status_code == 302
    assert response.url == "/profil/"
    assert response.cookies[COOKIE].value == "en"
    alice.refresh_from_db()
    assert alice.language == "en"
    assert client.get("/profil/").headers["Content-Language"] == "en"


def test_an_anonymous_visitor_switches_language_by_cookie_only(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.cookies[COOKIE].value == "en"
    assert client.get(reverse("login")).headers["Content-Language"] == "en"


def test_an_unknown_language_is_refused_and_changes_nothing(client, alice):
    client.force_login(alice)
    client.cookies[COOKIE] = "en"
    alice.language = "en"
    alice.save(update_fields=["language"])
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"}, follow=True)
    assert "This language is not available." in response.content.decode()
    assert client.cookies[COOKIE].value == "en"
    alice.refresh_from_db()
    assert alice.language == "en"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/phish", "javascript:alert(1)", "", "http:///x"],
)
def test_an_unsafe_next_address_sends_you_home_instead(client, next_url):
    response = client.post(reverse("set_language"), {"language": "en", "next": next_url})
    assert response.status_code == 302
    assert response.url == "/"


def test_the_language_switch_takes_no_get(client):
    assert client.get(reverse("set_language"), {"language": "en"}).status_code == 405


# --- health check -------------------------------------------------------------------------


def test_healthz_answers_200_when_database_and_channel_layer_work(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "channel_layer": True}
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_answers_503_when_the_channel_layer_fails(client, settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.deliberation.channel_layers.UnreachableChannelLayer"}
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": True, "channel_layer": False}
    assert "healthz: channel layer" in caplog.text


def test_healthz_is_exempt_from_the_https_redirect_for_the_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # as production sets it
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


# --- notifications ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", str(2**63), "9" * 30, "0", "-1", " 1"])
def test_marking_a_notification_read_by_an_id_no_row_can_have_says_so_and_changes_nothing(
    client, alice, raw
):
    # Found by tests/deliberation/test_forms_hypothesis.py: "²" passed isdigit() and then
    # int() raised; 2**63 made SQLite raise OverflowError. Both were server errors.
    from deliberation import notifications
    from deliberation.models import Notification

    verb = sorted(notifications.registered_verbs())[0]
    note = notifications.notify(member=alice, verb=verb, params={})
    client.force_login(alice)
    response = client.post(reverse("notifications_read"), {"id": raw}, follow=True)
    assert response.status_code == 200
    assert "Diese Benachrichtigung gibt es nicht." in response.content.decode()
    assert Notification.objects.get(pk=note.pk).read_at is None
