"""Every form and POST endpoint of the core, with hostile input (properties: tests/hostile.py).

Personas: alice edits her profile, switches language, marks notifications read and logs out;
anonymous visitors log in and ask for (and use) password links. Login, logout, the language switch
and the password pages answer a success with a redirect and no message (``may_succeed_silently``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import given
from hypothesis import strategies as st

from deliberation.models import District, Member
from tests import factories
from tests.hostile import (
    FORM_SETTINGS,
    field_value,
    foreign_ids,
    form_data,
    hostile_text,
    post_form,
    rolled_back,
    submit,
)
from tests.hostile_world import form_world  # noqa: F401 (the fixture "fw")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def last(value):
    """What Django reads from a repeated key: its last value."""
    return value[-1] if isinstance(value, list) else value


def off_site(location: str) -> bool:
    return "evil.example" in location.split("?")[0]


# --- a signed-in member -------------------------------------------------------------------------


@FORM_SETTINGS
@given(data=st.data())
def test_the_profile_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    districts = list(District.objects.values_list("pk", flat=True)[:2])
    values = data.draw(
        form_data(
            display_name=field_value("Alice B.", "Bob", "bob", "  A  "),
            language=field_value("de", "en", "fr"),
            district=field_value(*districts, extra=[0, 2**63, -1]),
        )
    )
    with rolled_back():
        outcome = submit(fw.client(fw.alice), reverse("profile"), values)
        if outcome.changed:
            name = Member.objects.get(pk=fw.alice.pk).display_name
            assert name == " ".join(name.split()) and len(name) >= 2
            assert name.lower() != "bob"


@FORM_SETTINGS
@given(
    data=form_data(
        language=field_value("de", "en"),
        next=field_value("/foren/", "https://evil.example/", "//evil.example/", "/\\evil.example"),
    )
)
def test_switching_language_with_hostile_fields_never_crashes_or_leaves_the_site(fw, data):
    with rolled_back():
        client = fw.client(fw.alice)
        submit_outcome = submit(client, reverse("set_language"), data, may_succeed_silently=True)
        assert submit_outcome.status in (302, 400)  # 400: over 1,000 fields
        response = post_form(client, reverse("set_language"), data)
        assert not off_site(response.get("Location", ""))
        assert Member.objects.get(pk=fw.alice.pk).language in {"de", "en"}


@FORM_SETTINGS
@given(data=st.data())
def test_marking_notifications_read_with_hostile_ids_never_crashes(fw, data):
    values = data.draw(form_data(id=field_value(fw.notification.pk, extra=[0, 2**63, 10**30])))
    with rolled_back():
        outcome = submit(fw.client(fw.alice), reverse("notifications_read"), values)
        if outcome.changed:
            assert outcome.changed == ["deliberation.Notification"]


# --- signing in and out -------------------------------------------------------------------------


@FORM_SETTINGS
@given(
    data=form_data(
        username=field_value("alice@example.org", "ALICE@example.org ", "olga@example.org"),
        password=field_value(factories.PASSWORD, "falsch"),
        next=field_value("/foren/", "https://evil.example/"),
    )
)
def test_logging_in_with_hostile_fields_never_crashes_and_only_the_password_lets_in(fw, data):
    with rolled_back():
        client = Client()
        # A login writes its time; a failed one only django-axes' count (not snapshotted).
        outcome = submit(
            client,
            reverse("login"),
            data,
            ignore={"deliberation.Member"},
            may_succeed_silently=True,
        )
        signed_in = "_auth_user_id" in client.session
        password = data.get("password")
        if signed_in:
            assert last(password) == factories.PASSWORD
            assert outcome.status == 302
        else:
            assert outcome.status in (200, 400, 429)


@FORM_SETTINGS
@given(data=form_data(next=field_value("/", "https://evil.example/")))
def test_logging_out_with_hostile_fields_never_crashes_and_changes_nothing(fw, data):
    with rolled_back():
        client = Client()
        client.force_login(fw.alice)
        outcome = submit(client, reverse("logout"), data, may_succeed_silently=True)
        # 400: over 1,000 fields. Django's LogoutView has logged out by then (it reads ``next``
        # after logging out), the safe direction; a 302 always means logged out.
        assert outcome.status in (302, 400)
        assert outcome.status == 400 or "_auth_user_id" not in client.session


# --- password links -----------------------------------------------------------------------------


@FORM_SETTINGS
@given(data=form_data(email=field_value("alice@example.org", "ALICE@EXAMPLE.ORG", "x@y.de")))
def test_asking_for_a_password_link_with_hostile_fields_never_crashes_or_mails_a_stranger(fw, data):
    with rolled_back():
        mail.outbox = []
        outcome = submit(Client(), reverse("password_reset"), data, may_succeed_silently=True)
        assert outcome.status in (200, 302, 400, 429)
        assert all(message.to == [fw.alice.email] for message in mail.outbox)


@FORM_SETTINGS
@given(
    data=form_data(
        new_password1=field_value("ein-neues-gutes-pw-7", "kurz"),
        new_password2=field_value("ein-neues-gutes-pw-7", "kurz"),
    ),
    # A path carries UTF-8 only: no lone surrogates there.
    uid=st.one_of(
        st.just("own"),
        hostile_text.filter(lambda s: s and "/" not in s and s.isprintable() and s.isascii()),
        st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=80),
    ),
)
def test_setting_a_password_with_hostile_fields_never_crashes_and_a_refusal_keeps_the_old(
    fw, data, uid
):
    with rolled_back():
        client = Client()
        if uid == "own":
            uidb64 = urlsafe_base64_encode(force_bytes(fw.alice.pk))
            token = default_token_generator.make_token(fw.alice)
            link = client.get(reverse("password_reset_confirm", args=[uidb64, token]))
            url = link["Location"]  # Django moves the token into the session
        else:
            url = reverse("password_reset_confirm", args=[uid, "set-password"])
        outcome = submit(client, url, data, may_succeed_silently=True)
        changed = not Member.objects.get(pk=fw.alice.pk).check_password(factories.PASSWORD)
        if changed:
            assert outcome.status == 302 and uid == "own"
            assert last(data["new_password1"]) == last(data["new_password2"])
        else:
            assert outcome.status in (200, 400)


@FORM_SETTINGS
@given(member_pk=foreign_ids)
def test_a_password_link_for_nobody_never_crashes(fw, member_pk):
    uidb64 = urlsafe_base64_encode(force_bytes(member_pk))
    response = Client().get(reverse("password_reset_confirm", args=[uidb64, "x-y"]))
    assert response.status_code == 200


# --- and a valid submission still works ---------------------------------------------------------


def test_valid_submissions_of_the_core_forms_still_change_what_they_should(fw):
    alice = fw.client(fw.alice)
    with rolled_back():
        data = {"display_name": "Alice B.", "language": "de", "district": ""}
        assert submit(alice, reverse("profile"), data).changed == ["deliberation.Member"]
    with rolled_back():
        data = {"id": fw.notification.pk}
        outcome = submit(alice, reverse("notifications_read"), data)
        assert outcome.changed == ["deliberation.Notification"]
    with rolled_back():
        client = Client()
        data = {"username": "ALICE@example.org", "password": factories.PASSWORD}
        submit(
            client,
            reverse("login"),
            data,
            ignore={"deliberation.Member"},
            may_succeed_silently=True,
        )
        assert int(client.session["_auth_user_id"]) == fw.alice.pk
