"""Who may do what in the decisions calendar, over HTTP, as a grid: every persona x every action,
one assertion each. Visitors are sent to log in (feeds: 404, a calendar app cannot log in);
guests find no calendar at all (404); members read and follow; organisers and staff also add,
change and decide."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.decisions.models import Decision, TopicFollow

pytestmark = pytest.mark.django_db

PERSONAS = ["visitor", "guest", "member", "organiser", "staff"]
LOGIN = "login"

#: action -> persona -> expected status (LOGIN: a redirect to the login page)
GRID: dict[str, dict[str, int | str]] = {
    "list": {"visitor": LOGIN, "guest": 404, "member": 200, "organiser": 200, "staff": 200},
    "detail": {"visitor": LOGIN, "guest": 404, "member": 200, "organiser": 200, "staff": 200},
    "calendar": {"visitor": LOGIN, "guest": 404, "member": 200, "organiser": 200, "staff": 200},
    "feed": {"visitor": 404, "guest": 404, "member": 200, "organiser": 200, "staff": 200},
    "topic_feed": {"visitor": 404, "guest": 404, "member": 200, "organiser": 200, "staff": 200},
    "create": {"visitor": LOGIN, "guest": 404, "member": 403, "organiser": 200, "staff": 200},
    "edit": {"visitor": LOGIN, "guest": 404, "member": 403, "organiser": 200, "staff": 200},
    "decide": {"visitor": LOGIN, "guest": 404, "member": 403, "organiser": 302, "staff": 302},
    "follow": {"visitor": LOGIN, "guest": 404, "member": 302, "organiser": 302, "staff": 302},
}


@pytest.fixture
def people(alice, gina, organiser, sam):
    return {"visitor": None, "guest": gina, "member": alice, "organiser": organiser, "staff": sam}


def _request(client, action, decision, topic):
    pk = decision.pk
    if action == "list":
        return client.get(reverse("decisions:index"))
    if action == "detail":
        return client.get(reverse("decisions:detail", args=[pk]))
    if action == "calendar":
        return client.get(reverse("decisions:month_now"))
    if action == "feed":
        return client.get(reverse("decisions:feed"))
    if action == "topic_feed":
        return client.get(reverse("decisions:topic_feed", args=[topic.slug]))
    if action == "create":
        return client.get(reverse("decisions:create"))
    if action == "edit":
        return client.get(reverse("decisions:edit", args=[pk]))
    if action == "decide":
        return client.post(
            reverse("decisions:decide", args=[pk]),
            {"result": "Angenommen.", "result_url": "https://example.org/"},
        )
    if action == "follow":
        return client.post(reverse("decisions:follow", args=[topic.slug]), {"follow": "1"})
    raise AssertionError(action)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(GRID))
def test_the_grid(client, people, decision, topics, persona, action):
    member = people[persona]
    if member is not None:
        client.force_login(member)
    response = _request(client, action, decision, topics["mieten"])
    expected = GRID[action][persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("persona", ["visitor", "guest", "member"])
def test_a_refused_decide_changes_nothing(client, people, decision, topics, persona):
    if people[persona] is not None:
        client.force_login(people[persona])
    _request(client, "decide", decision, topics["mieten"])
    decision.refresh_from_db()
    assert decision.status == Decision.Status.UPCOMING and decision.result == ""


@pytest.mark.parametrize("persona", ["visitor", "guest"])
def test_a_refused_follow_follows_nothing(client, people, decision, topics, persona):
    if people[persona] is not None:
        client.force_login(people[persona])
    _request(client, "follow", decision, topics["mieten"])
    assert not TopicFollow.objects.exists()


def test_an_organiser_who_became_a_guest_may_not_edit(client, organiser, decision):
    organiser.kind = organiser.Kind.GUEST
    organiser.save(update_fields=["kind"])
    client.force_login(organiser)
    assert client.get(reverse("decisions:edit", args=[decision.pk])).status_code == 404


def test_an_unknown_decision_and_topic_are_404_for_a_member(client, alice, topics):
    client.force_login(alice)
    assert client.get(reverse("decisions:detail", args=[999_999])).status_code == 404
    assert client.get(reverse("decisions:topic_feed", args=["gibt-es-nicht"])).status_code == 404
    assert client.get(reverse("decisions:index") + "?thema=gibt-es-nicht").status_code == 404
    assert client.get(reverse("decisions:month", args=[1999, 12])).status_code == 404
    assert client.get(reverse("decisions:month", args=[2026, 13])).status_code == 404


def test_a_guest_sees_no_decision_on_the_dashboard(client, gina, decision):
    client.force_login(gina)
    assert decision.title not in client.get("/").content.decode()


# --- feed keys: calendar apps cannot log in -------------------------------------------------------


def _feed(client, key, slug=None):
    from consultations.decisions.permissions import FEED_KEY_PARAMETER

    url = reverse("decisions:topic_feed", args=[slug]) if slug else reverse("decisions:feed")
    return client.get(url, {FEED_KEY_PARAMETER: key})


def test_a_members_feed_key_opens_the_feeds_without_a_login(client, alice, decision, topics):
    from consultations.decisions.permissions import feed_key

    key = feed_key(alice)
    assert _feed(client, key).status_code == 200
    assert _feed(client, key, "mieten").status_code == 200
    assert decision.title in _feed(client, key).content.decode()


def test_the_pages_offer_feed_addresses_with_the_members_key(client, alice, topics):
    from consultations.decisions.permissions import feed_key

    client.force_login(alice)
    assert feed_key(alice) in client.get(reverse("decisions:index")).content.decode()


@pytest.mark.parametrize(
    "tamper", ["", "x", "1:abc", "99999999999999999999:x", "9999999999999999999:x", "-1:x", "\x00"]
)
def test_a_forged_feed_key_opens_nothing(client, alice, decision, tamper):
    from consultations.decisions.permissions import feed_key

    assert _feed(client, tamper).status_code == 404
    other = feed_key(alice).rsplit(":", 1)[0] + ":forged"
    assert _feed(client, other).status_code == 404


def test_a_new_password_ends_the_old_feed_address(client, alice, decision):
    from consultations.decisions.permissions import feed_key

    key = feed_key(alice)
    alice.set_password("ein neues langes Passwort")
    alice.save(update_fields=["password"])
    assert _feed(client, key).status_code == 404


def test_a_guests_or_deactivated_members_key_opens_nothing(client, alice, gina, decision):
    from consultations.decisions.permissions import _feed_signer, feed_key

    assert feed_key(gina) == ""
    guest_key = _feed_signer(gina).sign(str(gina.pk))
    assert _feed(client, guest_key).status_code == 404
    key = feed_key(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert _feed(client, key).status_code == 404


def test_an_organiser_of_a_conference_organises_the_calendar(client, sam, topics, decision):
    from datetime import timedelta

    from django.utils import timezone

    from consultations.conferences import services as conference_services
    from consultations.conferences.models import ConferenceRole
    from tests import factories

    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz",
        slug="bk",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=4),
        written_opens_at=now,
        written_closes_at=now + timedelta(days=9),
    )
    carla = factories.make_member(email="carla@example.org", display_name="Carla")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=carla, role=ConferenceRole.Role.CHAIR
    )
    client.force_login(carla)
    assert client.get(reverse("decisions:create")).status_code == 403  # a chair is no organiser
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=carla, role=ConferenceRole.Role.ORGANISER
    )
    assert client.get(reverse("decisions:create")).status_code == 200
    assert client.get(reverse("decisions:edit", args=[decision.pk])).status_code == 200
