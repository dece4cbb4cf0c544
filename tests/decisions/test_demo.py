"""seed_demo's decisions calendar: five topics, five decisions across them, one decided with its
result and link, some linked to the demo's thread and conference, followers told once; a second
run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from consultations.decisions.models import Decision, Topic, TopicFollow
from consultations.decisions.permissions import can_edit
from deliberation.demo import MEMBER, MODERATOR, demo_member
from deliberation.models import Notification

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Topic.objects.count(),
        Decision.objects.count(),
        TopicFollow.objects.count(),
        Notification.objects.filter(verb__startswith="decisions.").count(),
    )


def test_the_demo_seeds_the_calendar_once():
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    assert first[:2] == (5, 5)
    decided = Decision.objects.get(status=Decision.Status.DECIDED)
    assert decided.result and decided.result_url.startswith("https://")
    kinds = {d.discussion_type.model for d in Decision.objects.exclude(discussion_type=None)}
    assert kinds == {"thread", "conference"}
    assert all(d.topics.exists() for d in Decision.objects.all())
    assert {t.slug for t in Topic.objects.all()} == {
        "mieten",
        "gesundheit-pflege",
        "digitalisierung",
        "senioren",
        "sicherheit",
    }
    anna = demo_member(MEMBER)
    assert Notification.objects.filter(member=anna, verb="decisions.new").count() == 2
    assert can_edit(demo_member(MODERATOR))
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
