"""Registration: in the hall or remote, with needs; change and withdraw; guests refused; the
organisers' totals; the needs deleted on archive; the phase rules of conference_set_phase."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consultations.conferences import selectors, services
from consultations.conferences.models import Conference, ConferenceEvent, Registration
from forums.errors import ServiceError
from forums.models import Forum
from tests import factories
from tests.conferences.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def childcare(conference):
    Conference.objects.filter(pk=conference.pk).update(childcare=True, childcare_under_three=True)
    conference.refresh_from_db()
    return conference


def test_a_member_registers_for_the_hall_with_childcare(alice, childcare):
    registration = services.registration_save(
        actor=alice, conference=childcare, attendance="hall", childcare=True, children_ages=[4, 1]
    )
    assert registration.attendance == "hall"
    assert registration.children_ages == [1, 4]


def test_registering_again_changes_the_one_registration(alice, childcare):
    services.registration_save(actor=alice, conference=childcare, attendance="hall")
    services.registration_save(
        actor=alice, conference=childcare, attendance="remote", accessibility_needs="Untertitel"
    )
    registration = Registration.objects.get(conference=childcare, member=alice)
    assert registration.attendance == "remote"
    assert registration.accessibility_needs == "Untertitel"
    assert Registration.objects.filter(conference=childcare).count() == 1


def test_a_guest_cannot_register(gina, conference):
    with pytest.raises(ServiceError) as caught:
        services.registration_save(actor=gina, conference=conference, attendance="remote")
    assert caught.value.code == "forbidden"
    assert not Registration.objects.exists()


def test_a_guest_is_told_on_the_form_that_guests_cannot_register(client, gina, sam, conference):
    from forums import services as forum_services

    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="view")
    login(client, gina)
    response = client.get(reverse("conferences:registration", args=[conference.slug]), follow=True)
    assert "Guests cannot register for a conference." in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"attendance": "balcony"}, "invalid"),
        ({"attendance": "remote", "childcare": True, "children_ages": [3]}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": []}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": [18]}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": [-1]}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": ["3"]}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": [True]}, "invalid"),
        ({"attendance": "hall", "childcare": True, "children_ages": [5] * 11}, "invalid"),
        ({"attendance": "hall", "accessibility_needs": "x" * 2001}, "too_long"),
        ({"attendance": "hall", "accessibility_needs": None}, "invalid"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(alice, childcare, fields, code):
    with pytest.raises(ServiceError) as caught:
        services.registration_save(actor=alice, conference=childcare, **fields)
    assert caught.value.code == code
    assert not Registration.objects.exists()


def test_children_under_three_need_childcare_for_under_threes(alice, conference):
    Conference.objects.filter(pk=conference.pk).update(childcare=True)
    conference.refresh_from_db()
    with pytest.raises(ServiceError):
        services.registration_save(
            actor=alice, conference=conference, attendance="hall", childcare=True, children_ages=[2]
        )
    assert not Registration.objects.exists()


@given(ages=st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=40))
@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_list_of_ages_is_stored_only_when_valid(alice, childcare, ages):
    Registration.objects.all().delete()
    try:
        services.registration_save(
            actor=alice, conference=childcare, attendance="hall", childcare=True, children_ages=ages
        )
    except ServiceError:
        assert not Registration.objects.exists()
    else:
        stored = Registration.objects.get().children_ages
        assert 1 <= len(stored) <= 10
        assert all(0 <= age <= 17 for age in stored)


@given(text=st.text(max_size=3000))
@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
def test_any_needs_text_is_stored_bounded_or_refused(alice, conference, text):
    Registration.objects.all().delete()
    try:
        services.registration_save(
            actor=alice, conference=conference, attendance="remote", accessibility_needs=text
        )
    except ServiceError:
        assert not Registration.objects.exists()
    else:
        stored = Registration.objects.get().accessibility_needs
        assert len(stored) <= 2000 and "\x00" not in stored


def test_the_form_registers_and_the_ages_field_is_validated(client, alice, childcare):
    login(client, alice)
    url = reverse("conferences:registration", args=[childcare.slug])
    response = client.post(
        url, {"attendance": "hall", "childcare": "on", "children_ages": "2, zwölf"}
    )
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert not Registration.objects.exists()
    response = client.post(url, {"attendance": "hall", "childcare": "on", "children_ages": "2; 7"})
    assert response.status_code == 302
    assert Registration.objects.get().children_ages == [2, 7]


def test_the_form_refuses_non_ascii_digits(client, alice, childcare):
    login(client, alice)
    url = reverse("conferences:registration", args=[childcare.slug])
    response = client.post(url, {"attendance": "hall", "childcare": "on", "children_ages": "²"})
    assert response.status_code == 200
    assert not Registration.objects.exists()


def test_a_member_withdraws_the_registration(client, alice, conference):
    services.registration_save(actor=alice, conference=conference, attendance="hall")
    login(client, alice)
    client.post(reverse("conferences:unregister", args=[conference.slug]))
    assert not Registration.objects.exists()


def test_the_totals_count_hall_remote_age_groups_and_needs(sam, childcare):
    people = [factories.make_member() for _ in range(5)]
    services.registration_save(
        actor=people[0],
        conference=childcare,
        attendance="hall",
        childcare=True,
        children_ages=[0, 2, 3],
    )
    services.registration_save(
        actor=people[1],
        conference=childcare,
        attendance="hall",
        childcare=True,
        children_ages=[5, 6, 11, 12, 17],
    )
    services.registration_save(
        actor=people[2], conference=childcare, attendance="remote", accessibility_needs="Untertitel"
    )
    services.registration_save(actor=people[3], conference=childcare, attendance="remote")
    services.registration_save(
        actor=people[4], conference=childcare, attendance="hall", accessibility_needs="Rampe"
    )
    totals = selectors.registration_totals(childcare)
    assert (totals.total, totals.hall, totals.remote) == (5, 3, 2)
    assert totals.childcare == 2
    assert totals.children == {"under_3": 2, "3_5": 2, "6_11": 2, "12_plus": 2}
    assert totals.accessibility == 2


def test_the_totals_cost_two_queries_for_any_number(childcare, django_assert_max_num_queries):
    for _ in range(30):
        services.registration_save(
            actor=factories.make_member(),
            conference=childcare,
            attendance="hall",
            childcare=True,
            children_ages=[4],
        )
    with django_assert_max_num_queries(2):
        selectors.registration_totals(childcare)


def test_the_organisers_page_lists_registrations_in_few_queries(
    client, sam, childcare, django_assert_max_num_queries
):
    for _ in range(20):
        services.registration_save(
            actor=factories.make_member(),
            conference=childcare,
            attendance="remote",
            accessibility_needs="Gebärdensprache",
        )
    login(client, sam)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("conferences:registrations", args=[childcare.slug]))
    assert response.content.decode().count("Gebärdensprache") == 20


# --- phases and archive -----------------------------------------------------------------------


def test_archiving_deletes_every_registrations_needs(sam, alice, bob, childcare):
    services.registration_save(
        actor=alice,
        conference=childcare,
        attendance="hall",
        childcare=True,
        children_ages=[1, 4],
        accessibility_needs="Rollstuhlplatz",
    )
    services.registration_save(
        actor=bob, conference=childcare, attendance="remote", accessibility_needs="Untertitel"
    )
    for phase in ("live", "follow_up", "archived"):
        services.conference_set_phase(actor=sam, conference=childcare, phase=phase)
    rows = list(
        Registration.objects.filter(conference=childcare).values(
            "attendance", "childcare", "children_ages", "accessibility_needs"
        )
    )
    assert len(rows) == 2  # who came stays, how they came stays
    for row in rows:
        assert (row["childcare"], row["children_ages"], row["accessibility_needs"]) == (
            False,
            [],
            "",
        )


def test_archiving_closes_the_forum_and_records_the_phase_event(sam, conference):
    for phase in ("live", "follow_up", "archived"):
        services.conference_set_phase(actor=sam, conference=conference, phase=phase)
    conference.forum.refresh_from_db()
    assert conference.forum.state == Forum.State.ARCHIVED
    events = list(ConferenceEvent.objects.filter(conference=conference).order_by("seq"))
    assert [e.payload["phase"] for e in events] == ["live", "follow_up", "archived"]
    assert [e.seq for e in events] == [1, 2, 3]


def test_a_phase_may_not_be_skipped_forward(sam, conference):
    with pytest.raises(ServiceError):
        services.conference_set_phase(actor=sam, conference=conference, phase="follow_up")
    conference.refresh_from_db()
    assert conference.phase == "preparation"


def test_a_phase_may_step_back_but_never_out_of_the_archive(sam, conference):
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    services.conference_set_phase(actor=sam, conference=conference, phase="preparation")
    assert Conference.objects.get().phase == "preparation"
    for phase in ("live", "follow_up", "archived"):
        services.conference_set_phase(actor=sam, conference=conference, phase=phase)
    with pytest.raises(ServiceError):
        services.conference_set_phase(actor=sam, conference=conference, phase="follow_up")
    assert Conference.objects.get().phase == "archived"


def test_a_chair_may_not_change_the_phase(chair, conference):
    with pytest.raises(ServiceError) as caught:
        services.conference_set_phase(actor=chair, conference=conference, phase="live")
    assert caught.value.code == "forbidden"


def test_no_one_registers_for_an_archived_conference(sam, alice, conference):
    for phase in ("live", "follow_up", "archived"):
        services.conference_set_phase(actor=sam, conference=conference, phase=phase)
    with pytest.raises(ServiceError):
        services.registration_save(actor=alice, conference=conference, attendance="hall")
    assert not Registration.objects.exists()
