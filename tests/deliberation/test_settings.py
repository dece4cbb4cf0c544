"""Production settings refuse to start half-configured; the env parsers are strict."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from deliberation.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url,
)

ROOT = Path(__file__).resolve().parents[2]
_OURS = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_", "SITE_URL", "PASSWORD_RESET_")


def run_django(tmp_path: Path, code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run Python with only the given configuration (nothing inherited from this shell)."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(_OURS)}
    clean.update(
        DJANGO_SETTINGS_MODULE="deliberation.settings", DJANGO_VAR_DIR=str(tmp_path), **env
    )
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


SETUP = ["-c", "import django; django.setup()"]
SECRET = secrets.token_urlsafe(45)  # 60 characters
PRODUCTION = {
    "DJANGO_PRODUCTION": "1",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "mitmachen.example.org",
    "EMAIL_HOST": "localhost",
}


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key != name}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (without("DJANGO_SECRET_KEY"), "DJANGO_SECRET_KEY is not set"),
        (without("DJANGO_ALLOWED_HOSTS"), "DJANGO_ALLOWED_HOSTS is not set"),
        ({**PRODUCTION, "DJANGO_SECRET_KEY": "too-short"}, "at least 50 characters"),
        ({**PRODUCTION, "DJANGO_DEBUG": "1"}, "DJANGO_DEBUG must not be on"),
        (without("EMAIL_HOST"), "EMAIL_HOST is not set"),
        ({**PRODUCTION, "DJANGO_PRODUCTION": "ja"}, "DJANGO_PRODUCTION='ja' is not a boolean"),
        ({**PRODUCTION, "LIVE_READ_THREADS": "viele"}, "LIVE_READ_THREADS='viele' is not a"),
        ({**PRODUCTION, "LIVE_CONNECT_MAX_WAIT_MS": "-1"}, "must be at least 0"),
    ],
    ids=[
        "no-secret",
        "no-hosts",
        "short-secret",
        "debug",
        "no-mail",
        "bad-boolean",
        "bad-read-threads",
        "negative-connect-wait",
    ],
)
def test_production_refuses_to_start_without_what_it_needs(tmp_path, env, message):
    result = run_django(tmp_path, SETUP, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_starts_with_a_secret_key_allowed_hosts_and_mail(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT)"
    )
    result = run_django(tmp_path, ["-c", code], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("False ['mitmachen.example.org'] True True True ['^healthz$']")


def test_the_deploy_check_reports_no_issues_in_production(tmp_path):
    result = run_django(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_needs_no_configuration_at_all(tmp_path):
    result = run_django(tmp_path, ["manage.py", "check"])
    assert result.returncode == 0, result.stderr


# --- the parsers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("off", False)],
)
def test_env_bool_reads_the_usual_spellings(value, expected):
    assert env_bool("X", not expected, environ={"X": value}) is expected


def test_env_bool_uses_the_default_only_when_unset():
    assert env_bool("X", True, environ={}) is True
    assert env_bool("X", True, environ={"X": ""}) is False


@pytest.mark.parametrize("value", ["maybe", "2", "ja", "tru"])
def test_env_bool_rejects_anything_else(value):
    with pytest.raises(ImproperlyConfigured, match=f"X='{value}' is not a boolean"):
        env_bool("X", False, environ={"X": value})


def test_env_int_reads_whole_numbers_and_rejects_the_rest():
    assert env_int("N", 5, environ={"N": " 42 "}) == 42
    assert env_int("N", 5, environ={"N": ""}) == 5
    with pytest.raises(ImproperlyConfigured, match="is not a whole number"):
        env_int("N", 5, environ={"N": "3.5"})
    with pytest.raises(ImproperlyConfigured, match="must be at least 600"):
        env_int("N", 5, minimum=600, environ={"N": "60"})


def test_env_list_splits_on_commas_and_rejects_empty_entries():
    assert env_list("L", [], environ={"L": "a.org, b.org"}) == ["a.org", "b.org"]
    assert env_list("L", ["d"], environ={}) == ["d"]
    for value in ["a.org,,b.org", "a.org,", ""]:
        with pytest.raises(ImproperlyConfigured, match="has an empty entry"):
            env_list("L", [], environ={"L": value})


def test_env_str_strips_whitespace():
    assert env_str("S", environ={"S": "  value \n"}) == "value"


def test_database_urls_for_sqlite_and_postgres_are_understood():
    sqlite = database_from_url("sqlite:////tmp/x.sqlite3")
    assert (sqlite["ENGINE"], sqlite["NAME"]) == ("django.db.backends.sqlite3", "/tmp/x.sqlite3")
    pg = database_from_url("postgres://user:pw@db:5432/mitmachen")
    assert (pg["ENGINE"], pg["NAME"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "mitmachen",
        "db",
        5432,
    )
    # Not persistent (ASGI runs each request in its own thread): PostgreSQL pools instead.
    assert sqlite["CONN_MAX_AGE"] == pg["CONN_MAX_AGE"] == 0
    assert pg["OPTIONS"]["pool"]["max_size"] >= 2
    assert pg["CONN_HEALTH_CHECKS"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user@db/x", "is not supported"),
        ("postgres://user@db:5432/", "names no database"),
        ("db.sqlite3", "is not supported"),
    ],
)
def test_database_urls_of_other_kinds_are_rejected(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


def test_redis_url_must_be_a_redis_url():
    assert redis_url(environ={"REDIS_URL": "redis://localhost:6379/0"}).startswith("redis://")
    assert redis_url(environ={}) == ""
    with pytest.raises(ImproperlyConfigured, match="is not a redis:// or rediss:// URL"):
        redis_url(environ={"REDIS_URL": "http://localhost:6379"})


def test_production_takes_the_websocket_origins_from_the_site_url_trusted_origins_and_hosts(
    tmp_path,
):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.WEBSOCKET_ORIGINS)"
    )
    env = {
        **PRODUCTION,
        "SITE_URL": "https://Mitmachen.example.org:8443/",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://beteiligung.example.org,https://*.partei.example",
        "DJANGO_ALLOWED_HOSTS": "mitmachen.example.org,*",
    }
    result = run_django(tmp_path, ["-c", code], **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [
            "https://mitmachen.example.org:8443",
            "https://beteiligung.example.org",
            "https://.partei.example",
            "https://mitmachen.example.org",
        ]
    )


@pytest.mark.parametrize("url", ["mitmachen.example.org", "ftp://example.org", "http:///no-host"])
def test_a_site_url_that_is_no_http_url_stops_the_start(tmp_path, url):
    result = run_django(tmp_path, SETUP, **PRODUCTION, SITE_URL=url)
    assert result.returncode != 0
    assert f"SITE_URL={url!r} is not an http:// or https:// URL" in result.stderr
