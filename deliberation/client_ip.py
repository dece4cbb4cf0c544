"""The client's address: one rule for daphne, the login lockout and the rate limits.

Behind nginx the only address to trust is the one nginx itself saw, ``$remote_addr``. nginx
writes it into ``X-Real-IP`` (and ``X-Forwarded-For``), replacing whatever the client sent
(deploy/nginx/mitmachen.conf). daphne runs with ``--proxy-headers --proxy-headers-host
X-Real-IP`` (deploy/systemd) and puts that address into the ASGI scope, which Django hands on as
``REMOTE_ADDR``. django-axes (``AXES_CLIENT_IP_CALLABLE``) and django-ratelimit
(``RATELIMIT_IP_META_KEY``) both ask :func:`client_ip`, which reads ``REMOTE_ADDR`` and never a
forwarded header: a client can write those, and would choose the address it is counted by.
Without a proxy (development) ``REMOTE_ADDR`` is the peer's own address.
"""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``; None where a request has none (django-axes' own requests after a login:
    it then counts nothing by address; django-ratelimit refuses such a request, as by default)."""
    return request.META.get("REMOTE_ADDR") or None
