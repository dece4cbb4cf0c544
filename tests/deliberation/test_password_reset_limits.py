"""Password reset mails are limited (deliberation.login_guard.GuardedPasswordResetView).

Per address asked for: three an hour; further requests answer as usual and send nothing. Per IP
address: twenty an hour; then a page asking to try again later. Personas: alice and bob.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

RESET = reverse("password_reset")
DONE = reverse("password_reset_done")
HOME = "198.51.100.7"


def ask(client, email: str, ip: str = "192.0.2.10", **headers):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, **headers)


def test_a_fourth_request_for_one_address_is_answered_as_usual_but_sends_nothing(
    client, alice, bob, settings
):
    assert settings.PASSWORD_RESET_RATE_ADDRESS == "3/h"
    for _ in range(3):
        assert ask(client, alice.email)["Location"] == DONE
    assert len(mail.outbox) == 3
    # Capitals and another network make no difference: it is the address that is protected.
    response = ask(client, "ALICE@Example.org", ip=HOME)
    assert (response.status_code, response["Location"]) == (302, DONE)
    assert len(mail.outbox) == 3
    # Someone else's address is not affected.
    ask(client, bob.email)
    assert [m.to for m in mail.outbox[3:]] == [[bob.email]]


def test_unknown_addresses_look_the_same_and_count_too(client, alice):
    for _ in range(4):
        assert ask(client, "niemand@example.org")["Location"] == DONE
    assert mail.outbox == []


def test_too_many_requests_from_one_network_get_a_clear_page_and_no_mail(client, alice, settings):
    settings.PASSWORD_RESET_RATE_IP = "5/h"
    for i in range(5):
        ask(client, f"person{i}@example.org")
    response = ask(client, alice.email)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Zu viele Anfragen" in page
    assert "in einer Stunde noch einmal" in page
    assert mail.outbox == []
    # Another network still gets its link.
    assert ask(client, alice.email, ip=HOME)["Location"] == DONE
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_the_limit_page_speaks_english_to_an_english_browser(client, settings):
    settings.PASSWORD_RESET_RATE_IP = "1/h"
    ask(client, "a@example.org")
    response = ask(client, "b@example.org", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
