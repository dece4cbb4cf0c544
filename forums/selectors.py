"""Reads of the forums that pages need."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from deliberation.models import Member


def threads_live_now(*, user: Member | AnonymousUser) -> list:
    """Threads with recent activity the user may see (filled by the live-threads work)."""
    return []
