"""Smoke test of the first command a newcomer types: ``make run``.

The commands come from ``make -n run`` itself (migrate, collectstatic, seed_demo, daphne), so the
test follows the Makefile. They run in a fresh temporary DJANGO_VAR_DIR with its own SQLite file
and none of the suite's DATABASE_URL/REDIS_URL, as on a newcomer's machine. Then the server is
asked for the dashboard, /healthz and the stylesheet, and one of the demo logins that seed_demo
printed is used to log in through the login form.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require
from tests.servers import ROOT, DaphneServer, free_port, wait_for_port

# "Demo logins (password for all: mitmachen-demo)" followed by lines "  <role> <e-mail> <name> ..."
PASSWORD_LINE = re.compile(r"password[^:\n]*:\s*([^\s)]+)", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def make_run_commands(port: int) -> tuple[list[str], str]:
    """The manage.py steps and the daphne command of ``make run``, read from ``make -n``."""
    require(shutil.which("make") is not None, "make is not installed")
    dry_run = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    steps = [line for line in dry_run if " manage.py " in line]
    servers = [line for line in dry_run if "daphne " in line]
    assert [step.split(" manage.py ")[1].split()[0] for step in steps] == [
        "migrate",
        "collectstatic",
        "seed_demo",
    ], f"make run changed; update this test:\n{dry_run}"
    assert len(servers) == 1, f"make run starts no daphne, or several:\n{dry_run}"
    return steps, servers[0]


def newcomer_env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update({"DJANGO_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"})
    return env


def run_step(command: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        shlex.split(command),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def printed_login(seed_output: str) -> tuple[str, str]:
    """The first demo e-mail address and the password that seed_demo printed."""
    password = PASSWORD_LINE.search(seed_output)
    assert password, f"seed_demo printed no password:\n{seed_output}"
    after = seed_output[password.end() :]
    email = EMAIL.search(after)
    assert email, f"seed_demo printed no demo login:\n{seed_output}"
    return email.group(0), password.group(1)


class Browser:
    """Just enough of a browser: cookies, redirects, an Accept-Language header."""

    def __init__(self, base_url: str, language: str = "en") -> None:
        self.base_url = base_url
        self.language = language
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str, str, str]:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method="POST")
        request.add_header("Referer", self.base_url + path)
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str, str]:
        """(status, final path, content type, body) of ``request`` after redirects."""
        request.add_header("Accept-Language", self.language)
        try:
            with self.opener.open(request, timeout=20) as response:
                body = response.read().decode("utf-8", errors="replace")
                path = urllib.parse.urlsplit(response.url).path
                return response.status, path, response.headers.get_content_type(), body
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", errors="replace")
            return error.code, request.full_url, error.headers.get_content_type(), body


@pytest.fixture
def made_run(tmp_path):
    """The server of ``make run`` in a fresh var dir; yields (server, seed_demo's output)."""
    port = free_port()
    steps, daphne_command = make_run_commands(port)
    env = newcomer_env(tmp_path / "var")
    outputs = [run_step(step, env) for step in steps]
    server = DaphneServer(port=port, env=env, log_path=tmp_path / "daphne.log")
    # Not server.start(): that runs ``python -m daphne``; this runs make run's own command line.
    server.process = subprocess.Popen(
        shlex.split(daphne_command),
        cwd=ROOT,
        env=env,
        stdout=server.log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60, process=server.process)
    except Exception as exc:
        server.stop()
        raise AssertionError(f"make run's daphne did not start:\n{server.log()}") from exc
    yield server, outputs[-1]
    server.stop()
    assert server.process.returncode is not None, "daphne did not stop"


def test_make_run_serves_the_dashboard_health_static_files_and_demo_logins(made_run):
    server, seed_output = made_run
    browser = Browser(server.url, language="en")

    status, _path, content_type, body = browser.get("/")
    assert (status, content_type) == (200, "text/html"), server.log()
    assert "Take part – from the hall or from home" in body
    assert '<html lang="en">' in body

    status, _path, content_type, body = browser.get("/healthz")
    assert (status, content_type) == (200, "application/json"), body
    assert json.loads(body)["status"] == "ok"

    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+\.css)"', browser.get("/")[3])
    assert stylesheet, "the dashboard links no stylesheet"
    status, _path, content_type, body = browser.get(stylesheet.group(1))
    assert (status, content_type) == (200, "text/css")
    assert ".skip-link" in body

    email, password = printed_login(seed_output)
    status, _path, _type, login_page = browser.get("/anmelden/")
    assert status == 200
    token = CSRF_INPUT.search(login_page)
    assert token, "the login form has no CSRF token"
    status, path, _type, body = browser.post(
        "/anmelden/",
        {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password},
    )
    assert (status, path) == (200, "/"), f"login as {email} failed ({status} {path})"
    assert 'action="/abmelden/"' in body, "logged in, the page should offer to log out"
    status, path, _type, _body = browser.get("/profil/")
    assert (status, path) == (200, "/profil/")
