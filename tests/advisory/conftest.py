"""An advisory forum on rents for the advisory tests: alice a member, gina a guest of it, olga
a guest of another forum, mo its organiser, sam staff; one meeting next week with a venue and a
video room, one organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.advisory import services
from consultations.decisions.models import Topic
from forums import services as forum_services
from forums.models import Forum
from tests.factories import make_forum

VIDEO = "https://video.example.org/ratschlag-mieten"


@pytest.fixture
def topic(db):
    return Topic.objects.create(name="Mieten und Wohnen", slug="mieten")


@pytest.fixture
def advisory(sam, mo, gina, olga, topic):
    forum = make_forum(
        actor=sam, title="Ratschlag Mieten", slug="ratschlag-mieten", kind=Forum.Kind.ADVISORY
    )
    forum_services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    other = make_forum(actor=sam, title="Ratschlag Pflege", slug="ratschlag-pflege")
    forum_services.forum_grant(actor=sam, forum=other, member=olga, right="participate")
    advisory = services.advisory_create(actor=sam, forum=forum, topic=topic)
    services.organiser_grant(actor=sam, advisory=advisory, member=mo)
    start = timezone.now() + timedelta(days=7)
    services.meeting_create(
        actor=sam,
        advisory=advisory,
        title="Erstes Treffen",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        venue_name="Nachbarschaftshaus Urbanstraße",
        video_url=VIDEO,
        step_free=True,
        childcare=True,
    )
    services.organisation_create(
        actor=sam,
        advisory=advisory,
        name="Kotti & Co",
        description="Mieter*innengemeinschaft",
        url="https://kottiundco.net/",
        badge_label="Initiative: Kotti & Co",
    )
    return advisory


@pytest.fixture
def meeting(advisory):
    return advisory.meetings.get()


@pytest.fixture
def organisation(advisory):
    return advisory.organisations.get()
