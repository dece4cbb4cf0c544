"""A conference on its live day with a current item and registered members, for the queue's tests.

Registrations are made directly: registering is another service's concern, the queue only reads
that a member is registered.
"""

from __future__ import annotations

from typing import Any

import pytest

from consultations.conferences import services
from consultations.conferences.models import Conference, Registration
from consultations.conferences.queue import selectors
from tests import factories

__all__ = ["fast_hashing", "live_item", "speakers"]


def register(conference: Conference, *members: Any, attendance: str = "remote") -> None:
    for member in members:
        Registration.objects.get_or_create(
            conference=conference, member=member, defaults={"attendance": attendance}
        )


def go_live(conference: Conference) -> None:
    Conference.objects.filter(pk=conference.pk).update(phase=Conference.Phase.LIVE)
    conference.refresh_from_db()


def lanes(item) -> list[str]:
    return [lane.key for lane in selectors.lanes_of(item)]


def names(item) -> list[str]:
    return [e["name"] for e in selectors.queue_snapshot(item)["entries"]]


@pytest.fixture
def live_item(conference, agenda, chair, sam):
    """The first agenda item, current, on the live day."""
    go_live(conference)
    services.agenda_set_current(actor=chair, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    return agenda[0]


@pytest.fixture
def speakers(conference, alice, bob, mo):
    """Registered members: alice, bob, mo and dana, eve."""
    dana = factories.make_member(email="dana@example.org", display_name="Dana")
    eve = factories.make_member(email="eve@example.org", display_name="Eve")
    register(conference, alice, bob, mo, dana, eve)
    return {"alice": alice, "bob": bob, "mo": mo, "dana": dana, "eve": eve}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """The queue's tests create many accounts and log none in by password: hash cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
