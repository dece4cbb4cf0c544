"""Reads of the core's pages. The dashboard gathers what each format offers the member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from deliberation import clock
from deliberation import dashboard as slots
from deliberation.models import Member, SitePage


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


@dataclass(frozen=True)
class SitePageView:
    """What a site page shows in one language: ``lang`` is the language of title and text."""

    slug: str
    title: str
    html: str
    lang: str
    updated_at: datetime | None

    @property
    def filled(self) -> bool:
        return bool(self.html)


def site_page(*, slug: str, language: str) -> SitePageView:
    """The site page ``slug`` in ``language``: its own text, else the German one, else empty.

    English without an English text shows the German title and text (``lang`` "de"); any other
    language is treated like English. A page with no text at all (or no row) has an empty
    ``html``, and its title is the page's name in the active language.
    """
    page = SitePage.objects.filter(slug=slug).first()
    label = SitePage.Slug(slug).label
    if page is not None and language != "de" and page.body_en_html:
        title, html, lang = page.title_en or str(label), page.body_en_html, language
    elif page is not None and page.body_de_html:
        with translation.override("de"):
            title, html, lang = page.title_de or str(label), page.body_de_html, "de"
    else:
        title, html, lang = str(label), "", language
    updated_at = page.updated_at if page is not None and html else None
    return SitePageView(slug=slug, title=title, html=html, lang=lang, updated_at=updated_at)
