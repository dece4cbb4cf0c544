"""The dashboard's slots for formats: what is live now, and what comes up next.

The core imports no app (docs/ARCHITECTURE.md), so a format offers its entries here instead:
a conference registers a provider of :class:`LiveEntry` rows in its ``AppConfig.ready()``, the
decisions calendar one of :class:`UpcomingEntry` rows::

    from deliberation import dashboard

    def conferences_live(*, user, now):
        return [dashboard.LiveEntry(title=c.title, url=c.get_absolute_url(), followers=...)
                for c in selectors.conferences_running(user=user, at=now)]

    dashboard.register_live_now(conferences_live)

A provider gets the member (or an anonymous visitor) and ``now`` from :mod:`deliberation.clock`,
so a test moves time instead of waiting for it; it returns only what that user may see, in a
constant number of queries. Until a format registers, the sections are not shown at all: an
ordinary thread is never called "live".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from deliberation import clock

#: At most this many entries per slot (the dashboard is a phone's first screen).
SLOT_LIMIT = 5


@dataclass(frozen=True)
class LiveEntry:
    """Something running right now that a member can follow (a conference's live day)."""

    title: str
    url: str
    #: How many follow it at this moment (connected, or registered remote participants).
    followers: int = 0
    #: Where it belongs, shown under the title (a forum, a venue); may be empty.
    context: str = ""


@dataclass(frozen=True)
class UpcomingEntry:
    """Something with a date ahead (a conference day, a decision in parliament)."""

    title: str
    url: str
    starts_at: datetime
    context: str = ""
    #: A whole day without a time (a decision on a date): ``starts_at`` is that day's start,
    #: the row stays until the day is over and the page shows the date alone.
    all_day: bool = False


LiveProvider = Callable[..., Iterable[LiveEntry]]
UpcomingProvider = Callable[..., Iterable[UpcomingEntry]]

_live_providers: list[LiveProvider] = []
_upcoming_providers: list[UpcomingProvider] = []


def register_live_now(provider: LiveProvider) -> LiveProvider:
    """Add ``provider(*, user, now)``; registering the same function twice has no effect."""
    if provider not in _live_providers:
        _live_providers.append(provider)
    return provider


def register_upcoming(provider: UpcomingProvider) -> UpcomingProvider:
    """Add ``provider(*, user, now)``; registering the same function twice has no effect."""
    if provider not in _upcoming_providers:
        _upcoming_providers.append(provider)
    return provider


def unregister(provider: Callable[..., Any]) -> None:
    """Remove a provider from both slots (for tests)."""
    for providers in (_live_providers, _upcoming_providers):
        while provider in providers:
            providers.remove(provider)  # type: ignore[arg-type]


def live_now(*, user: Any, now: datetime | None = None) -> list[LiveEntry]:
    """Everything registered providers call live for ``user``, most followed first."""
    now = now or clock.now()
    entries = [entry for provider in _live_providers for entry in provider(user=user, now=now)]
    entries.sort(key=lambda entry: (-entry.followers, entry.title))
    return entries[:SLOT_LIMIT]


def upcoming(*, user: Any, now: datetime | None = None) -> list[UpcomingEntry]:
    """What starts after ``now``, soonest first (rows that started already are dropped: from
    their start they belong to :func:`live_now`; a whole-day row stays until its day is over)."""
    now = now or clock.now()
    today = timezone.localdate(now)
    entries = [
        entry
        for provider in _upcoming_providers
        for entry in provider(user=user, now=now)
        if entry.starts_at > now or (entry.all_day and timezone.localdate(entry.starts_at) >= today)
    ]
    entries.sort(key=lambda entry: (entry.starts_at, entry.title))
    return entries[:SLOT_LIMIT]
