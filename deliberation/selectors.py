"""Reads the core's pages need. The dashboard gathers what each format offers the member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from deliberation.models import Member, SitePage


def dashboard(*, user: Member | AnonymousUser) -> dict[str, Any]:
    """The dashboard's sections; each later format adds its entries here (empty lists say so)."""
    from forums import selectors as forum_selectors

    return {
        "live_now": forum_selectors.threads_live_now(user=user),
        "upcoming": [],
        "open_consultations": [],
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
