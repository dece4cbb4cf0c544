"""The conference core: creation with its forum, agenda threads, the current item's event, and
the written discussion's window (phase rules)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.conferences import services
from consultations.conferences.models import Conference, ConferenceEvent, ConferenceRole
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Forum

pytestmark = pytest.mark.django_db


def test_a_conference_owns_a_forum_of_its_kind(conference):
    assert conference.forum.kind == Forum.Kind.CONFERENCE
    assert conference.forum.slug == "bk-koalition"
    assert conference.step_free is True


def test_a_member_may_not_create_a_conference(alice):
    now = timezone.now()
    with pytest.raises(ServiceError) as caught:
        services.conference_create(
            actor=alice,
            title="x",
            slug="x",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            written_opens_at=now,
            written_closes_at=now + timedelta(hours=1),
        )
    assert caught.value.code == "forbidden"
    assert not Conference.objects.exists()


def test_each_agenda_item_has_its_own_thread_in_the_conferences_forum(conference, sam):
    first = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    second = services.agenda_item_create(actor=sam, conference=conference, title="Pflege")
    assert (first.position, second.position) == (1, 2)
    assert first.thread.forum_id == conference.forum_id
    assert first.thread_id != second.thread_id


def test_the_current_item_is_recorded_with_a_gap_free_seq(conference, sam):
    first = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    second = services.agenda_item_create(actor=sam, conference=conference, title="Pflege")
    services.agenda_set_current(actor=sam, conference=conference, item=first)
    services.agenda_set_current(actor=sam, conference=conference, item=first)  # no change
    services.agenda_set_current(actor=sam, conference=conference, item=second)
    rows = list(ConferenceEvent.objects.filter(conference=conference).order_by("seq"))
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].payload["item"]["id"] == second.pk
    json.dumps(rows[1].payload, default=str)
    first.refresh_from_db()
    assert first.started_at is not None and first.ended_at is not None


def test_a_member_may_not_move_the_agenda(conference, sam, alice):
    item = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    with pytest.raises(ServiceError) as caught:
        services.agenda_set_current(actor=alice, conference=conference, item=item)
    assert caught.value.code == "forbidden"
    conference.refresh_from_db()
    assert conference.current_item_id is None


def test_no_written_post_after_the_follow_up_closes(conference, sam, alice):
    item = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    forum_services.post_create(actor=alice, thread=item.thread, body="Vorher geht es.")
    Conference.objects.filter(pk=conference.pk).update(
        written_closes_at=timezone.now() - timedelta(minutes=1),
        written_opens_at=timezone.now() - timedelta(days=2),
    )
    with pytest.raises(ServiceError) as caught:
        forum_services.post_create(actor=alice, thread=item.thread, body="Zu spät.")
    assert caught.value.code == "closed"


def test_no_written_post_before_the_preparation_opens(conference, sam, alice):
    item = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    Conference.objects.filter(pk=conference.pk).update(
        written_opens_at=timezone.now() + timedelta(days=1)
    )
    with pytest.raises(ServiceError) as caught:
        forum_services.post_create(actor=alice, thread=item.thread, body="Zu früh.")
    assert caught.value.code == "closed"
    assert "beginnt am" in caught.value.message


def test_organisers_moderate_the_conference_forum(conference, sam, alice):
    services.conference_role_grant(
        actor=sam, conference=conference, member=alice, role=ConferenceRole.Role.ORGANISER
    )
    from forums.permissions import can_moderate

    assert can_moderate(alice, conference.forum)
