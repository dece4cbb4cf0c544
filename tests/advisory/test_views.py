"""Who sees and changes what, over HTTP: a grid of every role x every page, one answer each.

anonymous is sent to the login; alice (member) and gina (guest of this forum) see the page but
no forms; olga (guest of another forum) finds nothing; mo (organiser) and sam (staff) may all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultations.advisory import services
from consultations.advisory.models import Invitation, Meeting, Organisation
from tests.advisory.conftest import VIDEO
from tests.hostile import client_of

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "alice", "gina", "olga", "mo", "sam"]
#: page -> expected status per role (302: to the login)
READ = {"anonymous": 302, "alice": 200, "gina": 200, "olga": 404, "mo": 200, "sam": 200}
WRITE = {"anonymous": 302, "alice": 403, "gina": 403, "olga": 404, "mo": 200, "sam": 200}


def _client(request, role: str) -> Client:
    if role == "anonymous":
        return Client()
    return client_of(request.getfixturevalue(role))


def _pages(advisory, meeting, organisation) -> dict[str, tuple[str, dict]]:
    slug = advisory.forum.slug
    return {
        "page": (reverse("advisory:detail", args=[slug]), READ),
        "edit": (reverse("advisory:edit", args=[slug]), WRITE),
        "meeting_create": (reverse("advisory:meeting_create", args=[slug]), WRITE),
        "meeting_edit": (reverse("advisory:meeting_edit", args=[slug, meeting.pk]), WRITE),
        "organisation_create": (reverse("advisory:organisation_create", args=[slug]), WRITE),
        "organisation_edit": (
            reverse("advisory:organisation_edit", args=[slug, organisation.pk]),
            WRITE,
        ),
        "invitations": (reverse("advisory:invitations", args=[slug]), WRITE),
    }


PAGES = [
    "page",
    "edit",
    "meeting_create",
    "meeting_edit",
    "organisation_create",
    "organisation_edit",
    "invitations",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_role_gets_each_page_as_the_grid_says(
    request, advisory, meeting, organisation, role, page
):
    url, expected = _pages(advisory, meeting, organisation)[page]
    assert _client(request, role).get(url).status_code == expected[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES[1:])
def test_a_post_by_each_role_changes_only_what_the_grid_allows(
    request, advisory, meeting, organisation, role, page
):
    url, expected = _pages(advisory, meeting, organisation)[page]
    before = (Meeting.objects.count(), Organisation.objects.count(), Invitation.objects.count())
    # empty forms, and a topic id beyond 64 bits (the topic itself may be left empty)
    response = _client(request, role).post(url, {"topic": str(2**64)} if page == "edit" else {})
    if expected[role] == 200:
        assert response.status_code == 200  # the empty form is refused with errors
        assert b"error-summary" in response.content
    else:
        assert response.status_code == expected[role]
    assert (
        Meeting.objects.count(),
        Organisation.objects.count(),
        Invitation.objects.count(),
    ) == before


@pytest.mark.parametrize("role", ROLES)
def test_the_index_lists_the_members_advisory_forum_only_to_those_who_may_see_it(
    request, advisory, role
):
    response = _client(request, role).get(reverse("advisory:index"))
    assert response.status_code == 200  # as the forum list: anonymous readers see public ones
    assert ("Ratschlag Mieten" in response.content.decode()) == (role not in {"olga", "anonymous"})


@pytest.mark.parametrize(
    "role,shown", [("alice", True), ("gina", True), ("mo", True), ("sam", True)]
)
def test_the_video_link_is_in_the_page_only_for_those_who_take_part(request, advisory, role, shown):
    page = _client(request, role).get(advisory.get_absolute_url()).content.decode()
    assert (VIDEO in page) is shown


def test_the_video_link_is_never_in_a_public_page_for_an_anonymous_reader(advisory, sam):
    from forums.models import Forum

    Forum.objects.filter(pk=advisory.forum_id).update(visibility=Forum.Visibility.PUBLIC)
    page = Client().get(advisory.get_absolute_url())
    assert page.status_code == 200
    assert VIDEO not in page.content.decode()
    assert "Online" in page.content.decode()  # the meeting is there, its link is not


def test_an_invited_only_forum_shows_the_link_to_its_guest_but_not_to_a_member_without_a_grant(
    advisory, alice, gina
):
    from forums.models import Forum

    Forum.objects.filter(pk=advisory.forum_id).update(visibility=Forum.Visibility.INVITED)
    assert client_of(alice).get(advisory.get_absolute_url()).status_code == 404
    assert VIDEO in client_of(gina).get(advisory.get_absolute_url()).content.decode()


def test_the_page_shows_the_next_meeting_the_organisations_and_the_threads(advisory, alice):
    from tests.factories import make_thread

    make_thread(advisory.forum, author=alice, title="Mietenkataster jetzt")
    page = client_of(alice).get(advisory.get_absolute_url()).content.decode()
    assert "Erstes Treffen" in page and "Nachbarschaftshaus Urbanstraße" in page
    assert "Kotti &amp; Co" in page and 'rel="noopener noreferrer"' in page
    assert "https://kottiundco.net/" in page and "Initiative: Kotti &amp; Co" in page
    assert "Mietenkataster jetzt" in page
    assert "Stufenloser Zugang" in page or "Step-free access" in page


def test_the_forum_list_links_to_the_advisory_forums(alice):
    page = client_of(alice).get(reverse("forums:index")).content.decode()
    assert reverse("advisory:index") in page


def test_the_organiser_adds_a_meeting_and_it_is_shown(advisory, mo):
    client = client_of(mo)
    response = client.post(
        reverse("advisory:meeting_create", args=[advisory.forum.slug]),
        {
            "title": "Online-Treffen",
            "date": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "starts": "19:00",
            "ends": "21:00",
            "video_url": "https://video.example.org/zwei",
            "sign_language": "on",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="Online-Treffen")
    assert meeting.sign_language and not meeting.step_free
    assert "Online-Treffen" in client.get(advisory.get_absolute_url()).content.decode()


def test_a_meeting_that_ends_before_it_starts_is_refused_with_a_message(advisory, mo):
    response = client_of(mo).post(
        reverse("advisory:meeting_create", args=[advisory.forum.slug]),
        {"title": "X", "date": "2027-03-01", "starts": "20:00", "ends": "19:00", "venue_name": "Y"},
    )
    assert response.status_code == 200
    assert "nach" in response.content.decode() or "after" in response.content.decode()
    assert Meeting.objects.count() == 1


def test_a_meeting_of_another_advisory_forum_is_not_found(advisory, mo, sam, topic):
    from forums.models import Forum
    from tests.factories import make_forum

    other = services.advisory_create(
        actor=sam,
        forum=make_forum(actor=sam, slug="ratschlag-digital", kind=Forum.Kind.ADVISORY),
        topic=topic,
    )
    meeting = advisory.meetings.get()
    url = reverse("advisory:meeting_edit", args=[other.forum.slug, meeting.pk])
    assert client_of(sam).get(url).status_code == 404


def test_a_guest_cannot_be_made_an_organiser(advisory, sam, gina):
    from forums.errors import ServiceError

    with pytest.raises(ServiceError):
        services.organiser_grant(actor=sam, advisory=advisory, member=gina)


def test_the_page_costs_the_same_queries_with_many_meetings_and_organisations(advisory, alice, sam):
    client = client_of(alice)
    url = advisory.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    start = timezone.now() + timedelta(days=14)
    for n in range(6):
        services.meeting_create(
            actor=sam,
            advisory=advisory,
            title=f"Treffen {n}",
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=2),
            video_url="https://video.example.org/x",
        )
        services.organisation_create(actor=sam, advisory=advisory, name=f"Initiative {n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 14
