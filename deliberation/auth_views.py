"""Django's logout, password-reset and password-change views, ending the sockets they end.

A logout deletes the session; a password reset or change makes every session of the member fail
its auth-hash check (the changing browser's own session gets a new key). HTTP notices at the next
request; an open websocket would only at its next frame, and a silent one never. So after each,
the member's open sockets are told to re-check now (``services.member_sessions_ended``): each
closes if its own session is over, while sockets of the member's other, still valid sessions
stay open.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from deliberation import services


class MemberLogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if member is not None:
            services.member_sessions_ended(member=member)  # type: ignore[arg-type]
        return response


class MemberPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.member_sessions_ended(member=form.user)
        return response


def admin_password_change(request: HttpRequest) -> HttpResponse:
    """The admin's "change my password" (``admin:password_change``), served in its place.

    Routed before ``admin.site.urls``, wrapped in ``admin.site.admin_view`` (deliberation/urls).
    """
    member = request.user
    response = admin.site.password_change(request)
    if request.method == "POST" and response.status_code == 302:  # changed; else the form again
        services.member_sessions_ended(member=member)  # type: ignore[arg-type]
    return response
