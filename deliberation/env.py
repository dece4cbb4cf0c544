"""Strict parsers for configuration from the environment.

Each parser raises ``ImproperlyConfigured`` naming the variable and the value it could not use,
so a typo in a deployment stops the start with a clear message instead of running half-configured.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default).strip()


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={environ[name]!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    if name not in environ or not environ[name].strip():
        return default
    try:
        value = int(environ[name].strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={environ[name]!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return list(default)
    items = [item.strip() for item in environ[name].split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"{name}={environ[name]!r} has an empty entry: give a comma-separated list."
        )
    return items


#: Connections one daphne process may hold at most (requests in flight plus the socket thread).
DATABASE_POOL_SIZE = 10


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Turn ``sqlite:///path`` or ``postgres://user@host:port/db`` into Django's DATABASES entry."""
    import dj_database_url

    if not url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ImproperlyConfigured(
            f"{name}={url!r} is not supported: use sqlite:///path or postgres://user@host:port/db."
        )
    try:
        # No persistent connections: under ASGI every HTTP request runs in a thread of its own
        # (Django's docs: disable them, use a pool). PostgreSQL gets psycopg's pool instead.
        config = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={url!r} cannot be parsed: {exc}") from None
    if config["ENGINE"] == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name}={url!r} names no database.")
        # One pool per daphne process. Channels opens and closes a connection around every
        # websocket frame, and a new PostgreSQL connection cost 3.4 ms here; from the pool it is
        # handed over in microseconds. Checked when taken, so a restarted database server
        # costs no failed request.
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = {
            "pool": {"min_size": 2, "max_size": DATABASE_POOL_SIZE, "timeout": 10},
        }
    else:
        config["OPTIONS"] = {
            "timeout": 20,
            # WAL lets pages read while a post is written, and commits without an fsync of
            # the whole database; IMMEDIATE takes the write lock up front, so two writers
            # queue instead of failing with "database is locked" on upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    return config


def redis_url(name: str = "REDIS_URL", *, environ: Mapping[str, str] | None = None) -> str:
    url = env_str(name, environ=environ)
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name}={url!r} is not a redis:// or rediss:// URL.")
    return url


def origin_of(url: str, *, name: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower case; refuses anything but an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={url!r} is not an http:// or https:// URL.")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}={url!r} has an invalid port.") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def site_origins(
    *, site_url: str, csrf_trusted_origins: Iterable[str], allowed_hosts: Iterable[str]
) -> list[str]:
    """The production site's own origins: ``SITE_URL``'s, the extra origins trusted for forms
    (``CSRF_TRUSTED_ORIGINS``; ``https://*.example.org`` becomes channels' ``.example.org``
    pattern) and each allowed host over HTTPS on its default port (what production serves;
    a host wildcard ``*`` adds nothing)."""
    origins = [origin_of(site_url, name="SITE_URL")]
    for trusted in csrf_trusted_origins:
        scheme, sep, rest = trusted.partition("://*.")
        if sep:
            origins.append(f"{scheme}://.{rest.lower()}")
        else:
            origins.append(origin_of(trusted, name="DJANGO_CSRF_TRUSTED_ORIGINS"))
    origins += [f"https://{host.lower()}" for host in allowed_hosts if host != "*"]
    return list(dict.fromkeys(origins))
