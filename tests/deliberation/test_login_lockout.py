"""Login lockout (django-axes, settings AXES_*, deliberation.login_guard).

Five wrong passwords for one address from one IP address pause logging in with that address from
there for 15 minutes. Personas: alice and bob are members (password ``tests.factories.PASSWORD``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HALL = "192.0.2.10"
HOME = "198.51.100.7"
WRONG = "not-the-password"


def attempt(client, username: str, password: str, ip: str = HALL, **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def fail(client, username: str, times: int, ip: str = HALL) -> None:
    """``times`` wrong passwords; the one that reaches the limit already gets the pause page."""
    for _ in range(times):
        response = attempt(client, username, WRONG, ip)
        assert SESSION_KEY not in client.session
        reached = AccessAttempt.objects.filter(
            username=username.strip().lower(),
            ip_address=ip,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        ).exists()
        assert response.status_code == (429 if reached else 200)


def test_five_wrong_passwords_pause_the_login_even_with_the_right_one(client, alice):
    assert settings.AXES_FAILURE_LIMIT == 5
    fail(client, alice.email, 4)
    response = attempt(client, alice.email, WRONG)
    assert response.status_code == 429
    response = attempt(client, alice.email, PASSWORD)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    page = response.content.decode()
    assert "Anmeldung pausiert" in page
    assert "5-mal hintereinander falsch" in page
    assert "in 15 Minuten" in page
    assert reverse("password_reset") in page


def test_the_pause_is_per_address_and_ip_so_the_hall_and_the_member_at_home_go_on(
    client, alice, bob
):
    fail(client, alice.email, 5)
    assert attempt(client, alice.email, PASSWORD).status_code == 429
    # Bob logs in from the same hall network.
    assert attempt(client, bob.email, PASSWORD).status_code == 302
    client.logout()
    # Alice herself, at home: another address, not paused.
    assert attempt(client, alice.email, PASSWORD, ip=HOME).status_code == 302
    assert int(client.session[SESSION_KEY]) == alice.pk


def test_capitals_in_the_address_count_as_the_same_address(client, alice):
    fail(client, "Alice@Example.org", 3)
    fail(client, "ALICE@EXAMPLE.ORG ", 2)
    assert attempt(client, alice.email, PASSWORD).status_code == 429


def test_a_successful_login_clears_the_count(client, alice):
    fail(client, alice.email, 4)
    assert attempt(client, alice.email, PASSWORD).status_code == 302
    client.logout()
    fail(client, alice.email, 4)
    assert attempt(client, alice.email, PASSWORD).status_code == 302


def test_after_the_wait_the_member_can_log_in_again(client, alice):
    fail(client, alice.email, 5)
    assert attempt(client, alice.email, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, alice.email, PASSWORD).status_code == 302


def test_the_pause_page_speaks_the_browsers_language(client, alice):
    fail(client, alice.email, 5)
    response = attempt(client, alice.email, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 429
    assert "Login paused" in page
    assert "wrong 5 times in a row" in page
    assert "try again in 15 minutes" in page


def test_authentication_without_a_request_is_refused_rather_than_unguarded(alice):
    # Every login goes through a form with its request; a caller without one is a programming
    # error, and axes refuses it instead of letting it past the lockout.
    from axes.exceptions import AxesBackendRequestParameterRequired

    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username=alice.email, password=PASSWORD)
    request = RequestFactory().post(reverse("login"), REMOTE_ADDR=HOME)
    assert authenticate(request, username=alice.email, password=PASSWORD) == alice


@pytest.mark.parametrize("length", [255, 60_000])
def test_an_address_longer_than_any_members_is_refused_by_the_form_not_the_database(
    client, alice, length
):
    # Found by tests/deliberation/test_forms_hypothesis.py: the login form set max_length but
    # never checked it, so 60,000 characters reached SQLite's LIKE (a server error) and axes'
    # 255-character column.
    response = attempt(client, "a" * length, WRONG)
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert SESSION_KEY not in client.session
    assert not AccessAttempt.objects.exists()
