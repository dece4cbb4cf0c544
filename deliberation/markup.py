"""Markdown to safe HTML: the one renderer.

Services call :func:`render_markdown` once, on write, and store its output; the editor preview
(``forums.uploads.markdownify``, and django-markdownx through ``MARKDOWNX_MARKDOWNIFY_FUNCTION``)
goes through it as well.

Two steps, each with one job:

1. **cmark-gfm** (GitHub's CommonMark engine, through ``cmarkgfm``) parses the Markdown. Its
   parser is linear on hostile input: Python-Markdown, used before, is quadratic on runs of ``[``
   (10,000 of them took 44.7 s, cmark-gfm a few milliseconds; tests/forums/
   test_markup_pathological.py keeps it so). Raw HTML in a post is not passed through (no
   ``CMARK_OPT_UNSAFE``): cmark leaves an HTML comment in its place, which nh3 strips, so
   ``a <b>x</b> c`` shows ``a x c`` and an HTML block (a line starting with ``<div>``) shows
   nothing. A line break in the text is a line break in the post (``CMARK_OPT_HARDBREAKS``, as
   people write in a forum). GFM extensions, chosen for a forum:
   ``table`` (the sanitiser allows tables), ``strikethrough`` (``<del>``) and ``autolink``
   (``www.…`` and bare ``https://…`` become links). Not used: ``tasklist`` (it emits
   ``<input>``, which the sanitiser drops anyway), ``tagfilter`` (pointless when raw HTML is
   omitted) and footnotes (``id`` attributes that would collide between posts on one page).
2. **nh3** (Rust's ammonia) keeps only the tags and attributes listed here, whatever step 1
   produced. No attribute is allowed on every tag (nh3's default would keep ``title`` and ``lang``
   everywhere; the generic set is given explicitly as empty). Images may only come from our own
   uploads: a plain path below ``MEDIA_URL`` (see :func:`is_media_path`); any other image is
   replaced by its alt text, so no post makes a reader's browser request a third-party URL or an
   arbitrary URL of our own site.
"""

from __future__ import annotations

import ctypes
import html as html_lib
import re

import nh3
from cmarkgfm import _cmark
from django.conf import settings

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "img", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    # Attributes allowed on every tag: none. nh3's default here is {"title", "lang"}.
    "*": set(),
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer ugc"

EXTENSIONS = ("table", "strikethrough", "autolink")
_lib, _ffi = _cmark.lib, _cmark.ffi
OPTIONS = _lib.CMARK_OPT_HARDBREAKS | _lib.CMARK_OPT_VALIDATE_UTF8

# cmarkgfm's own helpers never free the parsed tree nor the rendered string (measured here:
# 110 KB lost per render of a 1 KB post with extensions). The library exports the functions
# that do; they are called through ctypes on the very library cffi loaded.
_native = ctypes.CDLL(_cmark.__file__)


class _CmarkMem(ctypes.Structure):
    _fields_ = [
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ]


_native.cmark_get_default_mem_allocator.restype = ctypes.POINTER(_CmarkMem)
_native.cmark_get_default_mem_allocator.argtypes = []
_native.cmark_node_free.restype = None
_native.cmark_node_free.argtypes = [ctypes.c_void_p]
_free = _native.cmark_get_default_mem_allocator().contents.free

# Registering the core extensions is not thread-safe in cmark-gfm: do it once, at import.
_lib.cmark_gfm_core_extensions_ensure_registered()
_extensions = [_lib.cmark_find_syntax_extension(name.encode()) for name in EXTENSIONS]
if any(ext == _ffi.NULL for ext in _extensions):  # pragma: no cover - a broken cmarkgfm build
    raise ImportError(f"cmark-gfm lacks one of the extensions {EXTENSIONS}")


def _address(pointer: object) -> int:
    return int(_ffi.cast("uintptr_t", pointer))


def markdown_to_html(text: str) -> str:
    """cmark-gfm's HTML for ``text``, unsanitised (raw HTML escaped, links not yet checked).

    Thread-safe: each call has its own parser. A lone surrogate (possible in a JSON string) is
    passed through and replaced by U+FFFD by cmark's UTF-8 validation, never raised.
    """
    source = text.encode("utf-8", "surrogatepass")
    parser = _lib.cmark_parser_new(OPTIONS)
    root = _ffi.NULL
    try:
        for extension in _extensions:
            _lib.cmark_parser_attach_syntax_extension(parser, extension)
        _lib.cmark_parser_feed(parser, source, len(source))
        root = _lib.cmark_parser_finish(parser)
        rendered = _lib.cmark_render_html(
            root, OPTIONS, _lib.cmark_parser_get_syntax_extensions(parser)
        )
        try:
            return _ffi.string(rendered).decode("utf-8")
        finally:
            _free(_address(rendered))
    finally:
        if root != _ffi.NULL:
            _native.cmark_node_free(_address(root))
        _lib.cmark_parser_free(parser)


# One path segment of an uploaded file: letters, digits, "_" and "-", with single dots between
# them ("plan.png", "a_1.b.webp"). So no "." or ".." segment, no empty segment ("//"), and no
# "%", "\\", "?", "#", ";" or ":" by which a browser could be led elsewhere.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def is_media_path(value: str) -> bool:
    """Whether ``value`` names a file below MEDIA_URL in its normalised, unencoded form."""
    media = settings.MEDIA_URL
    if not media.endswith("/") or not value.startswith(media):
        return False
    rest = value[len(media) :]
    return all(_SEGMENT.fullmatch(segment) for segment in rest.split("/"))


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not is_media_path(value):
        return None
    if tag == "ol" and attribute == "start" and not value.isdigit():
        return None
    return value


def sanitize_html(html: str, *, tags: set[str] = ALLOWED_TAGS) -> str:
    """Only the tags and attributes listed above; an image without an allowed source is dropped.

    ``html`` may be anything; the result is safe to insert into a page as it is. ``tags`` is
    :data:`ALLOWED_TAGS`, or for a site page those plus ``h2``.
    """
    cleaned = nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )
    if "<img" not in cleaned:
        return cleaned
    return _IMG.sub(_img_without_source_to_text, cleaned)


# An <img> as nh3 writes it: attributes always double-quoted, with '"' escaped inside values.
_IMG = re.compile(r'<img((?:\s+[a-z]+="[^"]*")*)\s*/?>')
_ATTRIBUTE = re.compile(r'([a-z]+)="([^"]*)"')


def _img_without_source_to_text(match: re.Match[str]) -> str:
    attributes = dict(_ATTRIBUTE.findall(match.group(1)))
    if "src" in attributes:
        return match.group(0)
    return html_lib.escape(html_lib.unescape(attributes.get("alt", "")), quote=False)


#: Quotes and lists nested deeper than this (in tags: a list level is <ul> and <li>) are not
#: rendered: html5ever, under nh3, is quadratic in the depth of such blocks (10,000 ">" took
#: 330 ms there, 20,000 1.3 s) and no one quotes a quote a hundred times.
MAX_BLOCK_NESTING = 100
_BLOCK_OPENINGS = ("<blockquote>", "<ul>", "<ol", "<li>")
_BLOCK_TAG = re.compile(r"<(/?)(?:blockquote|ul|ol|li)[ >]")


def _nests_too_deep(html: str) -> bool:
    # The number of openings bounds the depth, and costs one pass in C: almost always enough.
    if sum(html.count(opening) for opening in _BLOCK_OPENINGS) <= MAX_BLOCK_NESTING:
        return False
    depth = 0
    for tag in _BLOCK_TAG.finditer(html):
        depth += -1 if tag.group(1) else 1
        if depth > MAX_BLOCK_NESTING:
            return True
    return False


def _as_plain_text(text: str) -> str:
    """``text`` as one paragraph of escaped text: safe as it is, so not sanitised again."""
    return "<p>" + html_lib.escape(text, quote=False).replace("\n", "<br>\n") + "</p>"


#: Posts never emit h1/h2 (the page's title and sections are those): # and ## become h3, h4.
POST_HEADINGS = (("<h1>", "<h3>"), ("</h1>", "</h3>"), ("<h2>", "<h4>"), ("</h2>", "</h4>"))
#: A site page (Impressum, privacy, ...) has its title as h1 and its sections as h2.
PAGE_TAGS = ALLOWED_TAGS | {"h2"}
PAGE_HEADINGS = (("<h1>", "<h2>"), ("</h1>", "</h2>"))


def render_markdown(
    text: str,
    *,
    headings: tuple[tuple[str, str], ...] = POST_HEADINGS,
    tags: set[str] = ALLOWED_TAGS,
) -> str:
    """Render Markdown source to sanitised HTML, headings shifted by ``headings``.

    Never raises on any string. A text whose quotes or lists nest deeper than
    ``MAX_BLOCK_NESTING`` is shown as plain text instead.
    """
    text = text or ""
    html = markdown_to_html(text).rstrip("\n")
    if _nests_too_deep(html):
        return _as_plain_text(text)
    # cmark writes headings as bare tags; raw "<h1" typed in a text was escaped to "&lt;h1".
    for old, new in headings:
        html = html.replace(old, new)
    return sanitize_html(html, tags=tags)


def render_page_markdown(text: str) -> str:
    """Render a site page's Markdown (written by staff in the admin): as :func:`render_markdown`,
    except that ``#`` and ``##`` both become the page's sections (h2) and ``###`` its
    subsections, since the page's title is its only h1."""
    return render_markdown(text, headings=PAGE_HEADINGS, tags=PAGE_TAGS)
