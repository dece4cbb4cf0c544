"""Behind the documented nginx, the client's address is the one nginx saw, never one it was told.

nginx (deploy/nginx/mitmachen.conf, made runnable on a free port without TLS) in front of one
daphne started with the options of deploy/systemd/mitmachen-daphne@.service. A client that sends
its own ``X-Forwarded-For`` or ``X-Real-IP`` must not choose the address that the login lockout
(django-axes) and the password-reset limit (django-ratelimit) count by: rotating the header
neither escapes the count nor unlocks a paused login. Every request here comes from 127.0.0.1.

Needs ``/usr/sbin/nginx`` (Debian: apt-get install -y nginx); skips without it on a laptop,
fails under CI=true (``.ci/run`` installs it).
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.conftest import require
from tests.factories import PASSWORD
from tests.servers import (
    NGINX,
    DaphneServer,
    NginxServer,
    daphne_args_of_unit,
    daphne_server,
    database_url_of_current_test_db,
    free_port,
)

pytestmark = pytest.mark.integration

SPOOFED = ["203.0.113.9", "198.51.100.1", "192.0.2.77", "203.0.113.10", "198.51.100.2"]
WRONG = "not-the-password"


@pytest.fixture
def front(
    transactional_db: None, django_db_serialized_rollback: None, tmp_path: Path
) -> Iterator[NginxServer]:
    """nginx on a free port in front of a daphne serving the test database."""
    require(NGINX.exists(), f"nginx not found at {NGINX} (Debian: apt-get install -y nginx)")
    daphne: DaphneServer = daphne_server(
        log_dir=tmp_path,
        database_url=database_url_of_current_test_db(),
        extra_env={"PASSWORD_RESET_RATE_IP": "3/h"},
        args=daphne_args_of_unit(),
    )
    daphne.start(timeout=60)
    nginx = NginxServer(port=free_port(), work_dir=tmp_path / "nginx")
    try:
        nginx.start(upstream_ports=[daphne.port])
        yield nginx
    finally:
        nginx.stop()
        daphne.stop()


class Browser:
    """A client with cookies that fills in Django's forms (CSRF token included)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        )

    def request(
        self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def submit(self, path: str, fields: dict[str, str], **headers: str) -> int:
        status, page = self.request(path, headers=headers)
        assert status == 200, (status, page[:500])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        status, _ = self.request(
            path, {**fields, "csrfmiddlewaretoken": token.group(1)}, headers=headers
        )
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def spoofing(address: str) -> dict[str, str]:
    """Headers a client sets to claim another address."""
    return {"X-Forwarded-For": address, "X-Real-IP": address, "Forwarded": f"for={address}"}


def login(front: NginxServer, email: str, password: str, address: str) -> int:
    fields = {"username": email, "password": password}
    return Browser(front.url).submit(reverse("login"), fields, **spoofing(address))


def test_a_rotating_x_forwarded_for_neither_escapes_the_lockout_nor_unlocks_it(front, alice):
    statuses = [login(front, alice.email, WRONG, address) for address in SPOOFED]
    # The fifth wrong password from the one real address pauses the login.
    assert statuses == [200, 200, 200, 200, 429]
    assert login(front, alice.email, PASSWORD, "203.0.113.99") == 429
    attempts = AccessAttempt.objects.filter(username=alice.email)
    assert list(attempts.values_list("ip_address", "failures_since_start")) == [("127.0.0.1", 6)]


def test_a_rotating_x_forwarded_for_does_not_escape_the_password_reset_limit(front, alice):
    statuses = [
        Browser(front.url).submit(
            reverse("password_reset"), {"email": f"nobody{n}@example.org"}, **spoofing(address)
        )
        for n, address in enumerate(SPOOFED[:4])
    ]
    assert statuses == [302, 302, 302, 429]
