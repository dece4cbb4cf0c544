"""The coalition agreement tracker: who adds and assesses commitments, the history, the threads
in one tracker forum, and the overview's counts and no-JS filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consultations.conferences import services as conference_services
from consultations.conferences.models import Commitment, CommitmentAssessment, ConferenceRole
from consultations.conferences.tracker import services
from consultations.conferences.tracker.services import TRACKER_FORUM_SLUG
from forums.errors import ServiceError
from forums.models import Forum
from tests import factories
from tests.conferences.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def commitments(sam):
    return [
        services.commitment_create(
            actor=sam, chapter="Wohnen", reference="Z. 101", text="Mietenkataster einführen"
        ),
        services.commitment_create(actor=sam, chapter="Wohnen", text="Vorkaufsrecht nutzen"),
        services.commitment_create(
            actor=sam, chapter="Gesundheit", text="Pflegestützpunkte ausbauen"
        ),
    ]


@pytest.fixture
def organiser(sam, conference):
    ola = factories.make_member(email="ola@example.org", display_name="Ola")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=ola, role=ConferenceRole.Role.ORGANISER
    )
    return ola


def test_each_commitment_gets_its_own_thread_in_one_tracker_forum(commitments):
    forums = {c.thread.forum_id for c in commitments}
    assert len(forums) == 1
    forum = Forum.objects.get(pk=forums.pop())
    assert (forum.slug, forum.kind) == (TRACKER_FORUM_SLUG, Forum.Kind.TOPIC)
    assert len({c.thread_id for c in commitments}) == 3
    assert commitments[0].thread.title.startswith("Z. 101: Mietenkataster")


def test_a_member_or_organiser_may_not_add_commitments(alice, organiser):
    for actor in (alice, organiser):
        with pytest.raises(ServiceError):
            services.commitment_create(actor=actor, chapter="Wohnen", text="x")
    assert not Commitment.objects.exists()


def test_an_organiser_assesses_and_the_history_keeps_who_and_when(organiser, sam, commitments):
    services.commitment_assess(
        actor=organiser, commitment=commitments[0], status="in_progress", note="Entwurf liegt vor"
    )
    services.commitment_assess(actor=sam, commitment=commitments[0], status="done")
    commitments[0].refresh_from_db()
    assert commitments[0].status == "done"
    history = list(commitments[0].assessments.order_by("assessed_at", "pk"))
    assert [(a.status, a.assessed_by, a.note) for a in history] == [
        ("in_progress", organiser, "Entwurf liegt vor"),
        ("done", sam, ""),
    ]
    assert all(a.assessed_at is not None for a in history)


@pytest.mark.parametrize("persona", ["alice", "chair", "gina", "mo"])
def test_members_chairs_guests_and_moderators_may_not_assess(request, commitments, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(ServiceError) as caught:
        services.commitment_assess(actor=actor, commitment=commitments[0], status="done")
    assert caught.value.code == "forbidden"
    assert not CommitmentAssessment.objects.exists()


@pytest.mark.parametrize(
    ("status", "note"), [("finished", ""), ("done", "x" * 2001), ("done", None), ("", "")]
)
def test_a_bad_assessment_changes_nothing(sam, commitments, status, note):
    with pytest.raises(ServiceError):
        services.commitment_assess(actor=sam, commitment=commitments[0], status=status, note=note)
    commitments[0].refresh_from_db()
    assert commitments[0].status == "not_started"
    assert not CommitmentAssessment.objects.exists()


def test_the_overview_counts_by_status_and_groups_by_chapter(client, sam, alice, commitments):
    services.commitment_assess(actor=sam, commitment=commitments[0], status="done")
    services.commitment_assess(actor=sam, commitment=commitments[2], status="problem")
    html = login(client, alice).get(reverse("conferences:tracker")).content.decode()
    assert "3 of 3 commitments shown" in html
    assert html.index("Gesundheit") < html.index("Wohnen")
    assert "Pflegestützpunkte" in html


def test_the_overview_filters_by_status_and_chapter_without_javascript(
    client, sam, alice, commitments
):
    services.commitment_assess(actor=sam, commitment=commitments[0], status="done")
    login(client, alice)
    html = client.get(reverse("conferences:tracker"), {"status": "done"}).content.decode()
    assert "1 of 3 commitment shown" in html
    assert "Mietenkataster" in html and "Vorkaufsrecht" not in html
    html = client.get(reverse("conferences:tracker"), {"chapter": "Gesundheit"}).content.decode()
    assert "Pflegestützpunkte" in html and "Mietenkataster" not in html


@pytest.mark.parametrize(
    "query", [{"status": "nonsense"}, {"chapter": "x" * 5000}, {"status": "\x00"}]
)
def test_a_bad_filter_shows_everything(client, alice, commitments, query):
    response = login(client, alice).get(reverse("conferences:tracker"), query)
    assert response.status_code == 200
    assert "3 of 3 commitments shown" in response.content.decode()


def test_the_overview_costs_few_queries(
    client, sam, alice, commitments, django_assert_max_num_queries
):
    for i in range(15):
        c = services.commitment_create(actor=sam, chapter=f"Kapitel {i % 4}", text=f"Vorhaben {i}")
        services.commitment_assess(actor=sam, commitment=c, status="in_progress")
    login(client, alice)
    with django_assert_max_num_queries(15):
        client.get(reverse("conferences:tracker"))


def test_the_commitment_page_shows_the_history_and_the_thread(client, sam, alice, commitments):
    services.commitment_assess(
        actor=sam, commitment=commitments[0], status="problem", note="Klage anhängig"
    )
    html = (
        login(client, alice)
        .get(reverse("conferences:commitment", args=[commitments[0].pk]))
        .content.decode()
    )
    assert "Klage anhängig" in html
    assert commitments[0].thread.get_absolute_url() in html
    assert 'action="/konferenzen/koalitionsvertrag/' not in html  # alice may not assess


def test_an_organiser_assesses_through_the_form(client, organiser, commitments):
    login(client, organiser)
    url = reverse("conferences:commitment_assess", args=[commitments[1].pk])
    response = client.post(url, {"status": "in_progress", "note": "Läuft"})
    assert response.status_code == 302
    commitments[1].refresh_from_db()
    assert commitments[1].status == "in_progress"


def test_a_member_posting_the_assessment_form_is_refused(client, alice, commitments):
    response = login(client, alice).post(
        reverse("conferences:commitment_assess", args=[commitments[1].pk]), {"status": "done"}
    )
    assert response.status_code == 403
    assert not CommitmentAssessment.objects.exists()


def test_a_guest_does_not_see_the_tracker(client, gina, commitments):
    response = login(client, gina).get(reverse("conferences:tracker"))
    assert response.status_code == 403


def test_an_agenda_item_links_the_commitments_it_discusses(sam, conference, agenda, commitments):
    conference_services.agenda_item_update(
        actor=sam, item=agenda[0], title="Mieten", commitments=commitments[:2]
    )
    assert set(commitments[0].agenda_items.all()) == {agenda[0]}
