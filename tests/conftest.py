"""Persona fixtures shared by every test.

alice is an ordinary member; gina a guest (city initiative) with no grants yet; mo becomes a
moderator wherever a test grants it; kim sits on the programme committee; sam is staff; olga is an
outsider: logged in, but a guest of nothing. The tests that use them spell out their rights.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests import factories

# A fast password hasher for the accounts the tests create, here and in every daphne the tests
# start (they inherit the environment): PBKDF2 costs about 0.4 s of CPU per account. Read by
# deliberation/settings.py, never in production.
os.environ.setdefault("MITMACHEN_FAST_TEST_PASSWORDS", "1")
FAST_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests: the same examples on every run (derandomised: a failure in CI reproduces
# locally), a fixed budget, no per-example deadline (the machines are shared and loaded), and
# no example database written into the work tree. HYPOTHESIS_PROFILE=thorough searches wider.
hypothesis_settings.register_profile(
    "ci", derandomize=True, max_examples=50, deadline=None, database=None, print_blob=True
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("ci"), derandomize=False, max_examples=1_000
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's laptop when a real part is missing; fail in CI (CI=true)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        if marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"):
            return True
        if marker.args and marker.args[0]:
            return True
    return "transactional_db" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test gets serialized rollback.

    A transactional test ends with a flush. Without serialized rollback the flush re-creates
    content types and permissions (post_migrate), on PostgreSQL under new ids; the next test
    with serialized rollback then re-inserts them under their old ids and fails on the unique
    (app_label, model). With it everywhere, each transactional test starts from what the
    migrations made (districts, the committee group) and leaves an empty database.
    """
    for item in items:
        names = getattr(item, "fixturenames", None)
        wanted = "django_db_serialized_rollback"
        if names is not None and wanted not in names and _is_transactional(item):
            names.append(wanted)


@pytest.fixture
def alice(db):
    return factories.make_member(email="alice@example.org", display_name="Alice")


@pytest.fixture
def bob(db):
    return factories.make_member(email="bob@example.org", display_name="Bob")


@pytest.fixture
def gina(db):
    return factories.make_guest(email="gina@example.org", display_name="Gina (Mieteninitiative)")


@pytest.fixture
def mo(db):
    return factories.make_member(email="mo@example.org", display_name="Mo")


@pytest.fixture
def kim(db):
    return factories.make_committee_member(email="kim@example.org", display_name="Kim")


@pytest.fixture
def sam(db):
    return factories.make_staff(email="sam@example.org", display_name="Sam")


@pytest.fixture
def olga(db):
    return factories.make_guest(email="olga@example.org", display_name="Olga")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The test process read its settings before this file set the environment: the same fast
    hasher for the accounts each test creates (see FAST_PASSWORD_HASHERS)."""
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's language (German), whatever an earlier test activated:
    Django's active translation is per thread and outlives a test that forgot to reset it."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads of a test land in its own folder and never in the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


async def close_live_state() -> None:
    """End of an async socket test: close this loop's hub and its layer's connections, so the
    next test's loop starts with neither (see ``_fresh_live_state``)."""
    from channels.layers import channel_layers

    from deliberation.hub import get_hub, reset_hub

    await get_hub().close()
    reset_hub(None)
    layer = channel_layers.backends.pop("default", None)
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


@pytest.fixture(autouse=True)
def _fresh_live_state():
    """Every test starts with no hub and no cached channel layer instance.

    channels caches one layer instance per process, and channels_redis remembers the event loop
    that receives on it: a hub left receiving by an earlier test (whose loop is gone) would make
    the next test's hub fail to receive and wait for frames that never come. Async fixtures of
    the consumer tests close their hub first; this only drops what is left.
    """
    from channels.layers import channel_layers

    from deliberation.hub import reset_hub

    reset_hub(None)
    channel_layers.backends.clear()
    yield
    reset_hub(None)
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts the rate limits afresh (django-ratelimit's password-reset limits, and
    deliberation.ratelimit's posts, edits and previews), without flushing a cache other things
    may share: their keys get a prefix of their own."""
    import uuid

    settings.RATELIMIT_CACHE_PREFIX = f"rl-{uuid.uuid4().hex}:"
