"""Browser fixtures: a real Chromium (Playwright) against a real daphne on the test database.

Use them like this::

    @pytest.mark.e2e
    def test_alice_sees_her_profile(page, alice):
        login(page, alice)              # or the ``login`` fixture
        page.goto("/profil/")           # relative to the running daphne
        assert_accessible(page)         # tests/e2e/axe.py

``page`` lives in its own browser context; a test that needs a second member asks
``new_context()`` for another one (separate cookies, so a separate session). Every request any
context of the test makes is recorded in ``request_log``; ``assert_only_local(request_log)``
fails on anything that left 127.0.0.1. ``browser_errors`` collects uncaught script errors and
Content-Security-Policy refusals.

Browser tests are plain (sync) functions: while Playwright's sync API lives, an asyncio loop is
marked running in this thread, so ``async def`` tests cannot run in this package.

Locally the browser tests skip when Playwright or /usr/bin/chromium is missing; under CI=true they
fail instead (``tests.conftest.require``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require
from tests.e2e.gallery import CHROMIUM, CHROMIUM_ARGS  # one place for how Chromium starts
from tests.factories import PASSWORD
from tests.servers import DaphneServer, daphne_server, database_url_of_current_test_db

#: Milliseconds a Playwright action or navigation may take before the test fails.
TIMEOUT_MS = 15_000
LOCAL_HOSTS = {"127.0.0.1"}
#: Schemes a page may use without touching the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is a browser test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def playwright_instance(django_db_setup: None) -> Iterator[Any]:
    """Playwright's sync API, alive while this package's tests run.

    Between two sync calls Playwright marks its event loop as running in this thread, so Django
    would refuse ORM calls from the test ("async context") and pytest-asyncio could not start a
    loop. Hence: the test database is set up first, ORM calls are allowed only while Playwright
    lives, and it is stopped when the browser tests are done (package scope), before any
    async test elsewhere runs.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        require(False, "Playwright for Python is not installed (pip install -e '.[dev]')")
        return
    from django.db import connections

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    # Django keeps DB connections in an asgiref Local that switches to separate storage while a
    # loop runs: without this the test would open a second connection, one that lacks the test
    # database's serialized contents and sees none of a TestCase transaction.
    same = {alias: connections[alias] for alias in connections}
    try:
        with sync_playwright() as playwright:
            for alias, connection in same.items():
                setattr(connections._connections, alias, connection)
            try:
                yield playwright
            finally:
                for alias in same:
                    with contextlib.suppress(AttributeError):
                        delattr(connections._connections, alias)
    finally:
        asyncio._set_running_loop(None)  # Playwright's marker must not outlive it.
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright_instance: Any) -> Iterator[Any]:
    require(
        CHROMIUM.exists(),
        f"Chromium not found at {CHROMIUM} (Debian: apt-get install -y chromium)",
    )
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def daphne_live(
    transactional_db: None, django_db_serialized_rollback: None, tmp_path: Path
) -> Iterator[DaphneServer]:
    """A daphne process serving the test database; stopped after the test.

    Transactional, so rows the test creates are committed and visible to the server; serialized
    rollback brings back what migrations put in (districts, the committee group) after the flush.
    """
    server = daphne_server(log_dir=tmp_path, database_url=database_url_of_current_test_db())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_server_url(daphne_live: DaphneServer) -> str:
    """Base URL (``http://127.0.0.1:<port>``) of a daphne serving the test database."""
    return daphne_live.url


@pytest.fixture
def request_log() -> list[str]:
    """Every URL any browser context of this test requested, in order."""
    return []


@pytest.fixture
def browser_errors() -> list[str]:
    """Uncaught script errors and Content-Security-Policy refusals in any context of this test."""
    return []


def _record_console(errors: list[str], message: Any) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(f"CSP: {message.text}")


@pytest.fixture
def new_context(
    browser: Any, live_server_url: str, request_log: list[str], browser_errors: list[str]
) -> Iterator[Callable[..., Any]]:
    """Factory of browser contexts (one per member); all are closed after the test.

    Keyword arguments go to ``browser.new_context``; defaults: the server's base URL, German
    locale, a desktop viewport.
    """
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("base_url", live_server_url)
        options.setdefault("locale", "de-DE")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.on("request", lambda request: request_log.append(request.url))
        context.on("console", lambda message: _record_console(browser_errors, message))
        context.on("weberror", lambda error: browser_errors.append(f"script: {error.error}"))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def login(page: Any, member: Any, *, password: str = PASSWORD) -> None:
    """Log ``member`` in through the login form, as a person would, and wait for the dashboard."""
    page.goto("/anmelden/")
    page.fill("input[name=username]", member.email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if urlsplit(page.url).path.startswith("/anmelden/"):
        raise AssertionError(f"login of {member.email} failed: still on {page.url}")


@pytest.fixture(name="login")
def login_fixture() -> Callable[..., None]:
    """The :func:`login` helper as a fixture: ``login(page, alice)``."""
    return login


def set_language(page: Any, code: str) -> None:
    """Switch the language with the header's language switch; a member's choice is saved.

    On a phone the switch is in the header's menu: it is opened first.
    """
    menu_button = page.locator("[data-menu-button]")
    closed = menu_button.count() and menu_button.get_attribute("aria-expanded") != "true"
    if closed and menu_button.is_visible():
        menu_button.click()
    with page.expect_navigation():
        page.click(f".lang-switch button[value={code}]")
    actual = page.get_attribute("html", "lang")
    if actual != code:
        raise AssertionError(f"language switch to {code!r} left the page in {actual!r}")


def non_local_urls(urls: list[str]) -> list[str]:
    """The URLs that would leave this machine (anything but 127.0.0.1 and data:/blob:)."""
    foreign = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in LOCAL_HOSTS:
            continue
        foreign.append(url)
    return foreign


def assert_only_local(urls: list[str]) -> None:
    assert urls, "no request was recorded: is request_log wired to the browser context?"
    foreign = non_local_urls(urls)
    assert not foreign, "pages loaded third-party URLs:\n" + "\n".join(sorted(set(foreign)))
