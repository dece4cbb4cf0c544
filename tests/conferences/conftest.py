"""Shared conference fixtures. Personas (tests/conftest.py): sam is staff, alice and bob are
members, gina a guest, mo a member who moderates other forums; here ``chair`` (carla) chairs the
conference and ``conference`` has its written discussion open now and its live day ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.conferences import services
from consultations.conferences.models import ConferenceRole
from tests import factories


@pytest.fixture
def conference(sam):
    now = timezone.now()
    return services.conference_create(
        actor=sam,
        title="Basiskonferenz Koalitionsvertrag",
        slug="bk-koalition",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
        venue_name="Rathaus Mitte",
        step_free=True,
    )


@pytest.fixture
def chair(conference, sam):
    carla = factories.make_member(email="carla@example.org", display_name="Carla")
    services.conference_role_grant(
        actor=sam, conference=conference, member=carla, role=ConferenceRole.Role.CHAIR
    )
    return carla


@pytest.fixture
def agenda(conference, sam):
    """Two agenda items, each with its thread."""
    return [
        services.agenda_item_create(actor=sam, conference=conference, title="Mieten"),
        services.agenda_item_create(actor=sam, conference=conference, title="Pflege"),
    ]
