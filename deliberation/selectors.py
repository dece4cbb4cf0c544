"""Reads the core's pages need. The dashboard gathers what each format offers the member."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from deliberation.models import Member


def dashboard(*, user: Member | AnonymousUser) -> dict[str, Any]:
    """The dashboard's sections; each later format adds its entries here (empty lists say so)."""
    from forums import selectors as forum_selectors

    return {
        "live_now": forum_selectors.threads_live_now(user=user),
        "upcoming": [],
        "open_consultations": [],
    }
