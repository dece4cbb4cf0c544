"""What django-axes counts failed logins by (settings: ``AXES_*``).

The address typed in, normalised as the login itself treats it (case-insensitive, see
``MemberManager.get_by_natural_key``), so that ``Anna@…`` and ``anna@…`` share one count. The
client address as daphne reports it: behind nginx daphne runs with ``--proxy-headers`` and sets it
from ``X-Forwarded-For`` (docs/DEPLOY.md); nothing here reads that header itself, which a client
could forge.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out login gets (429), in the member's language, with the wait."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "lockout_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
