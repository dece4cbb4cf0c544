"""Shared fixtures of the decisions calendar's tests. Personas (tests/conftest.py): sam is staff,
alice and bob are members, gina a guest; here ``organiser`` (ola) holds the calendar's right,
``topics`` are rents, care and security, and ``decision`` is an upcoming decision on rents."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from consultations.decisions import services
from consultations.decisions.models import Decision
from tests import factories


@pytest.fixture
def topics(db):
    return {
        slug: services.topic_ensure(name=name, slug=slug)
        for slug, name in [
            ("mieten", "Mieten und Wohnen"),
            ("pflege", "Gesundheit und Pflege"),
            ("sicherheit", "Sicherheit"),
        ]
    }


@pytest.fixture
def organiser(sam):
    ola = factories.make_member(email="ola@example.org", display_name="Ola")
    services.organiser_grant(actor=sam, member=ola)
    return ola


def make_decision(actor, topics, *, title="Mietenschutzgesetz", days=9, **fields):
    values = {
        "title": title,
        "explanation": "Zweite Lesung im Abgeordnetenhaus.",
        "date": timezone.localdate() + timedelta(days=days),
        "time": time(10, 0),
        "institution": Decision.Institution.PARLIAMENT,
        "topics": topics,
        "source_url": "https://www.parlament-berlin.de/",
    }
    values.update(fields)
    return services.decision_create(actor=actor, **values)


@pytest.fixture
def decision(sam, topics):
    return make_decision(sam, [topics["mieten"]])


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """The personas' passwords hashed cheaply: these tests are about the calendar, not logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
