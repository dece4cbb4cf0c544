"""The iCal feed (parsed back with icalendar) and the dashboard's live-now and coming-up slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from consultations.conferences import selectors, services
from deliberation import dashboard
from forums.models import Forum
from tests import factories
from tests.conferences.pages import login

pytestmark = pytest.mark.django_db


def _events(response):
    assert response["Content-Type"].startswith("text/calendar")
    return [c for c in Calendar.from_ical(response.content).walk("VEVENT")]


def test_the_feed_lists_a_members_conference_for_a_member(client, alice, conference):
    events = _events(login(client, alice).get(reverse("conferences:calendar")))
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == conference.title
    # iCalendar keeps whole seconds
    assert event.decoded("dtstart") == conference.starts_at.replace(microsecond=0)
    assert event.decoded("dtend") == conference.ends_at.replace(microsecond=0)
    assert "Rathaus Mitte" in str(event["location"])
    assert str(event["url"]).endswith(conference.get_absolute_url())


def test_a_visitor_sees_only_public_conferences(client, sam, conference):
    now = conference.starts_at
    public = services.conference_create(
        actor=sam,
        title="Offene Konferenz",
        slug="offen",
        starts_at=now,
        ends_at=now + timedelta(hours=2),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=1),
    )
    Forum.objects.filter(pk=public.forum_id).update(visibility=Forum.Visibility.PUBLIC)
    events = _events(login(client, None).get(reverse("conferences:calendar")))
    assert [str(e["summary"]) for e in events] == ["Offene Konferenz"]


def test_every_event_has_a_stable_unique_id(client, alice, conference):
    first = _events(login(client, alice).get(reverse("conferences:calendar")))[0]["uid"]
    second = _events(client.get(reverse("conferences:calendar")))[0]["uid"]
    assert first == second == f"conference-{conference.pk}@testserver"


def test_the_feed_costs_one_query_per_request(
    client, sam, alice, conference, django_assert_max_num_queries
):
    now = conference.starts_at
    for i in range(10):
        services.conference_create(
            actor=sam,
            title=f"K {i}",
            slug=f"k-{i}",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            written_opens_at=now,
            written_closes_at=now + timedelta(hours=1),
        )
    login(client, alice)
    with django_assert_max_num_queries(6):
        events = _events(client.get(reverse("conferences:calendar")))
    assert len(events) == 11


def test_a_live_conference_is_on_the_dashboard_with_its_remote_participants(
    sam, alice, bob, conference
):
    services.registration_save(actor=alice, conference=conference, attendance="remote")
    services.registration_save(actor=bob, conference=conference, attendance="hall")
    assert dashboard.live_now(user=alice) == []
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    entries = dashboard.live_now(user=alice)
    assert [(e.title, e.followers) for e in entries] == [(conference.title, 1)]


def test_an_upcoming_conference_is_on_the_dashboard(alice, conference):
    entries = dashboard.upcoming(user=alice, now=conference.starts_at - timedelta(days=1))
    assert [e.url for e in entries] == [conference.get_absolute_url()]
    assert dashboard.upcoming(user=alice, now=conference.starts_at + timedelta(minutes=1)) == []


def test_the_dashboard_slots_cost_constant_queries(
    sam, alice, conference, django_assert_max_num_queries
):
    now = conference.starts_at
    for i in range(8):
        c = services.conference_create(
            actor=sam,
            title=f"K {i}",
            slug=f"k-{i}",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            written_opens_at=now,
            written_closes_at=now + timedelta(hours=1),
        )
        services.conference_set_phase(actor=sam, conference=c, phase="live")
        services.registration_save(actor=factories.make_member(), conference=c, attendance="remote")
    with django_assert_max_num_queries(2):
        selectors.dashboard_live_now(user=alice, now=now)
    with django_assert_max_num_queries(2):
        selectors.dashboard_upcoming(user=alice, now=now - timedelta(days=1))


def test_a_guest_sees_no_conference_on_the_dashboard(gina, conference):
    assert dashboard.upcoming(user=gina, now=conference.starts_at - timedelta(days=1)) == []


def test_the_dashboard_page_shows_the_live_conference(client, sam, alice, conference):
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    html = login(client, alice).get("/").content.decode()
    assert conference.title in html
