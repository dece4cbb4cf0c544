"""Reads of the core's pages. The dashboard gathers what each format offers the member."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from deliberation import clock
from deliberation import dashboard as slots
from deliberation.models import Member


def dashboard(*, user: Member | AnonymousUser) -> dict[str, Any]:
    """The home page's sections, in a number of queries that does not grow with the forums.

    - ``live_now``, ``upcoming``: what formats registered in :mod:`deliberation.dashboard`
      offer at this moment (:mod:`deliberation.clock`); empty lists until a format registers,
      and the page then leaves the sections out.
    - ``unread_threads`` (at most ``UNREAD_LIMIT``) and ``more_unread`` (whether there are more):
      threads the member has read before with new posts by others, each with its count.
    - ``activity``: the newest threads in the user's forums, those above left out.
    """
    from forums import selectors as forum_selectors

    now = clock.now()
    limit = forum_selectors.UNREAD_LIMIT
    unread = forum_selectors.threads_with_unread_posts(user=user, limit=limit + 1)
    unread_threads = unread[:limit]
    return {
        "now": now,
        "live_now": slots.live_now(user=user, now=now),
        "upcoming": slots.upcoming(user=user, now=now),
        "unread_threads": unread_threads,
        "more_unread": len(unread) > limit,
        "activity": forum_selectors.forum_activity(
            user=user, exclude=[thread.pk for thread in unread_threads]
        ),
    }
