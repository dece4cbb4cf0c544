"""Fixtures for tests against the real engines: PostgreSQL, Redis, several daphne processes.

These tests need the suite itself to run on PostgreSQL (the daphne processes serve the test
database, and SQLite is no stand-in for row locks and concurrent writers)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m pytest tests/integration

On a laptop without them the tests skip and say why; under CI=true they fail instead
(``.ci/run`` exports both URLs). ``daphne_cluster(n)`` starts n daphne processes on the test
database with REDIS_URL set, and points this test process's channel layer at the same Redis,
so an event a service broadcasts here reaches the hubs of all n processes.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require
from tests.servers import (
    DaphneServer,
    RedisServer,
    daphne_server,
    database_url_of_current_test_db,
    redis_server,
)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES = ("127.0.0.1", 5432)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def reachable(host: str, port: int, *, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url(django_db_setup: None) -> str:
    """URL of the PostgreSQL test database this suite runs on (for daphne processes)."""
    from django.db import connection

    conf = connection.settings_dict
    require(
        conf["ENGINE"] == "django.db.backends.postgresql",
        "the suite runs on SQLite; integration tests need DATABASE_URL=postgres://...",
    )
    host = conf.get("HOST") or DEFAULT_POSTGRES[0]
    port = int(conf.get("PORT") or DEFAULT_POSTGRES[1])
    require(reachable(host, port), f"PostgreSQL does not answer on {host}:{port}")
    return database_url_of_current_test_db()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """REDIS_URL, or the local default; the server must answer PING."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require(reachable(host, port), f"Redis does not answer on {host}:{port} ({url})")
    import redis

    try:
        answered = redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        answered = False
        reason = f"Redis at {url} refused PING: {exc}"
    else:
        reason = f"Redis at {url} did not answer PING"
    require(bool(answered), reason)
    return url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own on a spare port, started; stopped after the test.

    For fault tests, which kill and restart it (``own_redis.kill()``, ``own_redis.start()``, same
    port). A test module points the servers and this process's layer at it by overriding
    ``redis_url``::

        @pytest.fixture
        def redis_url(own_redis):
            return own_redis.url
    """
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    require(os.access(executable, os.X_OK), "redis-server is not installed")
    server = redis_server(log_dir=tmp_path, executable=executable).start()
    yield server
    server.stop()


@pytest.fixture
def redis_channel_layer(settings, redis_url: str) -> str:
    """Point this test process's channel layer at ``redis_url`` (as the servers' is).

    Without REDIS_URL in the environment the suite's own layer is in-memory; channels drops its
    cached layer when CHANNEL_LAYERS changes, and the ``settings`` fixture restores it after.
    Returns the layer's key prefix.
    """
    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"] == "deliberation.layers.RedisChannelLayer":
        config = dict(layer.get("CONFIG", {}))
    else:
        config = {
            "capacity": 5000,
            "expiry": 30,
            "group_expiry": settings.LIVE_GROUP_EXPIRY_SECONDS,
        }
    config["hosts"] = [redis_url]
    config.setdefault("prefix", os.environ.get("CHANNELS_PREFIX", "mitmachen"))
    prefix = config["prefix"]
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "deliberation.layers.RedisChannelLayer", "CONFIG": config}
    }
    return prefix


@pytest.fixture
def daphne_cluster(
    transactional_db: None,
    django_db_serialized_rollback: None,
    postgres_url: str,
    redis_url: str,
    redis_channel_layer: str,
    tmp_path: Path,
) -> Iterator[Callable[..., list[DaphneServer]]]:
    """Factory: ``daphne_cluster(2)`` starts two daphne processes sharing the test database and
    one Redis channel layer (same CHANNELS_PREFIX as this process); all stop after the test.

    Transactional, so what the test writes is committed and visible to the processes.
    """
    started: list[DaphneServer] = []

    def start(n: int, *, extra_env: Mapping[str, str] | None = None) -> list[DaphneServer]:
        env = {"REDIS_URL": redis_url, "CHANNELS_PREFIX": redis_channel_layer}
        env.update(extra_env or {})
        servers = [
            daphne_server(log_dir=tmp_path, database_url=postgres_url, extra_env=env)
            for _ in range(n)
        ]
        started.extend(servers)
        # Side by side: each process spends its start-up importing Django, not waiting.
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(lambda server: server.start(timeout=60), servers))
        return servers

    yield start
    for server in started:
        server.stop()
