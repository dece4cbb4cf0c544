"""What django-axes counts failed logins by (settings: ``AXES_*``).

The address typed in, normalised as the login itself treats it (case-insensitive, see
``MemberManager.get_by_natural_key``), so that ``Anna@…`` and ``anna@…`` share one count. The
client address by the one rule of :mod:`deliberation.client_ip` (the address nginx saw).
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.views import PasswordResetView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out login gets (429), in the member's language, with the wait."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "lockout_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


# --- password reset -----------------------------------------------------------------------------


class GuardedPasswordResetView(PasswordResetView):
    """Django's password reset, limited so that nobody can use it to flood a mailbox.

    Per address asked for (``PASSWORD_RESET_RATE_ADDRESS``): further requests get the usual
    answer but send nothing, so a stranger learns nothing and the member gets no more mail. Per
    IP address (``PASSWORD_RESET_RATE_IP``): a page asking to try again later (429). Counted in
    the shared cache (Redis in production) by django-ratelimit.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_ratelimited(
            request,
            group="password-reset-ip",
            key="ip",
            rate=settings.PASSWORD_RESET_RATE_IP,
            method="POST",
            increment=True,
        ):
            return render(request, "registration/password_reset_limited.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        address = form.cleaned_data["email"].strip().lower()
        if is_ratelimited(
            self.request,
            group="password-reset-address",
            key=lambda group, request: address,
            rate=settings.PASSWORD_RESET_RATE_ADDRESS,
            method="POST",
            increment=True,
        ):
            return HttpResponseRedirect(self.get_success_url())  # as if sent; nothing is
        return super().form_valid(form)
