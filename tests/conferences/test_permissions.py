"""Who may do what at a conference, as a grid: every persona x every action, one assertion each.

Personas: a visitor (not logged in), a guest invited to read the conference's forum, a member,
a registered member, the chair, an organiser, staff, and a moderator of another forum."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.conferences import services
from consultations.conferences.models import ConferenceRole, Registration
from forums import services as forum_services
from tests import factories
from tests.conferences.pages import login

pytestmark = pytest.mark.django_db

PERSONAS = [
    "visitor",
    "guest",
    "member",
    "registered",
    "chair",
    "organiser",
    "staff",
    "other_moderator",
]
NEEDS = "Platz für einen Rollstuhl in Reihe 1"


@pytest.fixture
def people(sam, alice, bob, gina, mo, chair, conference, agenda):
    ola = factories.make_member(email="ola@example.org", display_name="Ola")
    services.conference_role_grant(
        actor=sam, conference=conference, member=ola, role=ConferenceRole.Role.ORGANISER
    )
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="view")
    other = factories.make_forum(slug="anderes-forum")
    forum_services.forum_grant(actor=sam, forum=other, member=mo, right="moderate")
    services.registration_save(
        actor=bob, conference=conference, attendance="hall", accessibility_needs=NEEDS
    )
    return {
        "visitor": None,
        "guest": gina,
        "member": alice,
        "registered": bob,
        "chair": chair,
        "organiser": ola,
        "staff": sam,
        "other_moderator": mo,
    }


def _client(client, people, persona):
    return login(client, people[persona])


REGISTRATION_LIST = {
    "visitor": 302,
    "guest": 403,
    "member": 403,
    "registered": 403,
    "chair": 403,
    "organiser": 200,
    "staff": 200,
    "other_moderator": 403,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_organisers_see_the_registration_list(client, people, conference, persona):
    response = _client(client, people, persona).get(
        reverse("conferences:registrations", args=[conference.slug])
    )
    assert response.status_code == REGISTRATION_LIST[persona]
    assert (NEEDS in response.content.decode()) == (REGISTRATION_LIST[persona] == 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_one_reads_the_needs_on_the_conference_page(client, people, conference, persona):
    response = _client(client, people, persona).get(conference.get_absolute_url())
    assert response.status_code in (200, 302)
    assert NEEDS not in response.content.decode()


CONSOLE = {p: p in ("chair", "organiser", "staff") for p in PERSONAS}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_chairs_see_the_chairs_console(client, people, conference, persona):
    response = _client(client, people, persona).get(conference.get_absolute_url())
    assert ('id="console-heading"' in response.content.decode()) == CONSOLE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_chairs_set_the_current_item(client, people, conference, agenda, persona):
    response = _client(client, people, persona).post(
        reverse("conferences:agenda_current", args=[conference.slug]), {"item": agenda[1].pk}
    )
    conference.refresh_from_db()
    assert (conference.current_item_id == agenda[1].pk) == CONSOLE[persona]
    if not CONSOLE[persona]:
        assert response.status_code == (302 if persona == "visitor" else 403)


ORGANISE = {p: p in ("organiser", "staff") for p in PERSONAS}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_organisers_reorder_the_agenda(client, people, conference, agenda, persona):
    _client(client, people, persona).post(
        reverse("conferences:agenda_item_move", args=[conference.slug, agenda[0].pk]),
        {"direction": "down"},
    )
    agenda[0].refresh_from_db()
    assert (agenda[0].position == 2) == ORGANISE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_organisers_change_the_phase(client, people, conference, persona):
    _client(client, people, persona).post(
        reverse("conferences:phase", args=[conference.slug]), {"phase": "live"}
    )
    conference.refresh_from_db()
    assert (conference.phase == "live") == ORGANISE[persona]


REGISTER = {p: p not in ("visitor", "guest") for p in PERSONAS}


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_register_and_guests_and_visitors_cannot(client, people, conference, persona):
    _client(client, people, persona).post(
        reverse("conferences:registration", args=[conference.slug]), {"attendance": "remote"}
    )
    member = people[persona]
    registered = (
        member is not None
        and Registration.objects.filter(
            conference=conference, member=member, attendance="remote"
        ).exists()
    )
    assert registered == REGISTER[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_conference_page_is_shown_to_whoever_may_view_its_forum(
    client, people, conference, persona
):
    response = _client(client, people, persona).get(conference.get_absolute_url())
    # a members' forum: visitors are sent to log in; the guest was invited to read
    assert response.status_code == (302 if persona == "visitor" else 200)


def test_a_guest_without_an_invitation_does_not_see_the_conference(client, conference, db):
    stranger = factories.make_guest(email="x@example.org", display_name="Fremd")
    response = login(client, stranger).get(conference.get_absolute_url())
    assert response.status_code == 404
