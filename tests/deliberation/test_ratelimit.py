"""deliberation.ratelimit: a fixed window per member and action on the shared cache; fails open."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache

from deliberation import ratelimit

#: A Redis nobody listens on: the cache raises as it does while Redis restarts.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    cache.clear()
    now = [999_960.0]  # the start of a 60 s window
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


def test_the_limit_allows_that_many_then_says_how_long_to_wait(clock):
    assert [ratelimit.hit("post", 7, limit=2, window=60) for _ in range(2)] == [None, None]
    clock[0] += 15
    assert ratelimit.hit("post", 7, limit=2, window=60) == 45


def test_a_new_window_starts_a_new_count(clock):
    for _ in range(3):
        ratelimit.hit("post", 7, limit=2, window=60)
    clock[0] += 60
    assert ratelimit.hit("post", 7, limit=2, window=60) is None


def test_members_and_actions_are_counted_apart():
    assert ratelimit.hit("post", 7, limit=1, window=60) is None
    assert ratelimit.hit("post", 8, limit=1, window=60) is None
    assert ratelimit.hit("edit", 7, limit=1, window=60) is None
    assert ratelimit.hit("post", 7, limit=1, window=60) is not None


def test_a_cache_outage_allows_the_action_and_logs_a_warning(settings, caplog):
    settings.CACHES = DEAD_REDIS
    with caplog.at_level(logging.WARNING, logger="deliberation.ratelimit"):
        assert all(ratelimit.hit("post", 7, limit=1, window=60) is None for _ in range(3))
    assert len(caplog.records) == 3
    assert "cache unavailable" in caplog.records[0].getMessage()
