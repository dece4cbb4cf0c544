"""Per-member action limits counted in the shared cache: the one helper for posts, edits, previews.

A fixed window: at most ``limit`` actions per ``window`` seconds, counted in the default cache
(Redis in production, so every process sees the same count). If the cache fails (Redis
restarting, a stale connection), the action is allowed and a warning is logged: a cache outage
never turns a valid post into an error (issues #8 and #9).

Time comes from :data:`clock`, which tests replace to control the window.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

#: Seconds since the epoch; replaced by tests that need to control the window.
clock: Callable[[], float] = time.time


def hit(action: str, who: object, *, limit: int, window: int) -> int | None:
    """Count one ``action`` by ``who``; None if allowed, else the seconds until the next window.

    ``who`` is anything with a stable ``str()`` (a member's primary key). Never raises for a
    cache failure: the action is then allowed, and the failure logged at WARNING.
    """
    now = clock()
    # Under the prefix django-ratelimit's counters use: one setting moves every rate counter.
    prefix = getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:")
    key = f"{prefix}{action}:{who}:{int(now // window)}"
    try:
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
    except Exception as error:  # any cache backend's failure, e.g. redis.ConnectionError
        logger.warning(
            "rate limit %r not counted for %s (cache unavailable: %r); allowed",
            action,
            who,
            error,
        )
        return None
    if count > limit:
        return max(1, math.ceil(window - (now % window)))
    return None
