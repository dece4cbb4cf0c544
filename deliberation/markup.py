"""Markdown to safe HTML: the one renderer.

Services call :func:`render_markdown` once, on write, and store its output; django-markdownx's
editor preview goes through it as well (``MARKDOWNX_MARKDOWNIFY_FUNCTION``). nh3 (ammonia) keeps
only the tags and attributes listed here; images may only come from our own media URL, so no post
makes a reader's browser contact a third-party host.
"""

from __future__ import annotations

import threading

import markdown
import nh3
from django.conf import settings
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.nl2br import Nl2BrExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "img", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_local = threading.local()


def _markdown() -> markdown.Markdown:
    """This thread's converter, built once: building one per post cost more than converting.

    A ``Markdown`` instance is reused through ``reset()`` (Python-Markdown's documented way),
    but is not thread-safe, hence one per thread. Extensions are passed as instances, so no
    lookup through the installed packages' entry points happens on first use.
    """
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(
            extensions=[
                FencedCodeExtension(),
                TableExtension(),
                SaneListExtension(),
                Nl2BrExtension(),
            ],
            output_format="html",
        )
    return converter


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # Only our own uploads: a relative path below MEDIA_URL, never another host.
        media = settings.MEDIA_URL
        if not value.startswith(media) or value.startswith("//") or ".." in value:
            return None
    if tag == "ol" and attribute == "start" and not value.isdigit():
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Render Markdown source to sanitised HTML. Headings are shifted so posts never emit h1/h2."""
    html = _markdown().reset().convert(text or "")
    html = html.replace("<h1", "<h3").replace("</h1>", "</h3>")
    html = html.replace("<h2", "<h4").replace("</h2>", "</h4>")
    return sanitize_html(html)
