"""seed_demo's base conference: live, item 2 current, four agenda items with threads, commitments
in three chapters with every status and a history, registrations of each kind; idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from consultations.conferences.models import (
    Commitment,
    CommitmentAssessment,
    Conference,
    ConferenceEvent,
    Registration,
)
from forums.models import Post, Thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts():
    return tuple(
        model.objects.count()
        for model in (
            Conference,
            Commitment,
            CommitmentAssessment,
            Registration,
            Thread,
            Post,
            ConferenceEvent,
        )
    )


def test_seed_demo_adds_a_live_base_conference_and_a_second_run_adds_nothing():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=out)
    assert _counts() == first
    assert "anna@demo.example.org" in out.getvalue()  # the logins are still printed

    conference = Conference.objects.get()
    assert conference.phase == "live"
    agenda = list(conference.agenda.order_by("position"))
    assert len(agenda) == 4
    assert conference.current_item == agenda[1]
    assert all(item.thread_id for item in agenda)
    assert Post.objects.filter(thread=agenda[1].thread).count() >= 2

    chapters = set(Commitment.objects.values_list("chapter", flat=True))
    assert len(chapters) == 3
    assert set(Commitment.objects.values_list("status", flat=True)) == set(Commitment.Status.values)
    assert CommitmentAssessment.objects.count() >= 5
    assert all(item.commitments.exists() for item in agenda[1:])

    registrations = Registration.objects.filter(conference=conference)
    assert registrations.filter(attendance="hall").exists()
    assert registrations.filter(attendance="remote").exists()
    assert registrations.filter(childcare=True).exists()
    assert registrations.exclude(accessibility_needs="").exists()
