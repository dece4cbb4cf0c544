"""One rule for the client's address (deliberation.client_ip): the login lockout (django-axes)
and the password-reset limit (django-ratelimit) both count by REMOTE_ADDR, which daphne sets from
the header nginx writes itself; a header the client wrote never counts.

The whole path through a real nginx and daphne: tests/integration/test_nginx_client_address.py.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.test import RequestFactory
from django_ratelimit.core import _get_ip

from deliberation.client_ip import client_ip

FORGED = {
    "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1",
    "HTTP_X_REAL_IP": "203.0.113.9",
    "HTTP_FORWARDED": "for=203.0.113.9",
}


def test_the_lockout_and_the_rate_limit_ask_the_same_function():
    assert settings.AXES_CLIENT_IP_CALLABLE == "deliberation.client_ip.client_ip"
    assert settings.RATELIMIT_IP_META_KEY == "deliberation.client_ip.client_ip"


def test_headers_the_client_wrote_are_ignored_by_both():
    request = RequestFactory().post("/anmelden/", REMOTE_ADDR="192.0.2.10", **FORGED)
    assert client_ip(request) == "192.0.2.10"
    assert get_client_ip_address(request) == "192.0.2.10"
    assert _get_ip(request) == "192.0.2.10"


def test_a_request_without_a_client_address_has_none_rather_than_a_shared_one():
    request = RequestFactory().post("/anmelden/", REMOTE_ADDR="")
    assert client_ip(request) is None
