"""How a post's time is written, the same on the server and in the live client.

The server writes it with Django's ``date`` filter, the live client (forums/static/forums/js/
thread.js, ``formatTime``) with its own small formatter; both read the one format string below
(translated per language) and the thread page hands the client that string, the site's time zone
and the month abbreviations (``time_settings``). So a post that arrives live shows the same text
as after a reload. Only the format characters in ``SUPPORTED`` may appear in a translation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import dateformat, timezone
from django.utils.dates import MONTHS_3
from django.utils.translation import pgettext

#: The format characters both formatters understand (Django's ``date`` meanings): day with and
#: without a leading zero, month as number (with / without zero) or abbreviation, four-digit year,
#: 24-hour hour (with / without zero), minutes. A backslash escapes the next character.
SUPPORTED = frozenset("djmnMYHGi")
#: Characters the client copies as they are.
LITERAL = frozenset(" .,:/-–")


def post_time_format() -> str:
    """The format of a post's time in the active language."""
    # Translators: a Django date format using only d j m n M Y H G i (see forums/timeformat.py),
    # e.g. "d.m.Y, H:i" for 01.12.2026, 21:20.
    return pgettext("post time format", "j M Y, H:i")


def format_post_time(value: dt.datetime | None) -> str:
    """``value`` in the site's time zone, written with :func:`post_time_format`."""
    if not value:
        return ""
    return dateformat.format(timezone.localtime(value), post_time_format())


def month_abbreviations() -> list[str]:
    """What ``M`` writes for January to December in the active language (as Django does)."""
    return [str(MONTHS_3[month]).title() for month in range(1, 13)]


def time_settings() -> dict[str, Any]:
    """What the live client needs to write a time as the server does."""
    return {
        "format": post_time_format(),
        "zone": timezone.get_current_timezone_name(),
        "months": month_abbreviations(),
    }
