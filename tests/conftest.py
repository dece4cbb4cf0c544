"""Persona fixtures shared by every test.

alice is an ordinary member; gina a guest (city initiative) with no grants yet; mo becomes a
moderator wherever a test grants it; kim sits on the programme committee; sam is staff; olga is an
outsider: logged in, but a guest of nothing. The tests that use them spell out their rights.
"""

from __future__ import annotations

import os

import pytest

from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's laptop when a real part is missing; fail in CI (CI=true)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


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
def _media_root(settings, tmp_path):
    """Uploads of a test land in its own folder and never in the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
