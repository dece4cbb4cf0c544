"""The conference pages: list, conference page (venue, access, schedule, regions), agenda
management and the chair's buttons, as each persona sees them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from consultations.conferences import services
from consultations.conferences.models import AgendaItem, Conference, ConferenceRole
from deliberation import clock
from deliberation.models import Member
from tests.clock import FakeClock
from tests.conferences.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_clock(monkeypatch, conference):
    fake = FakeClock(conference.starts_at)
    monkeypatch.setattr(clock, "clock", fake)
    return fake


def page(client, member, conference):
    login(client, member)
    return client.get(conference.get_absolute_url())


def test_the_list_shows_a_conference_with_its_phase(client, alice, conference):
    login(client, alice)
    response = client.get(reverse("conferences:index"))
    assert response.status_code == 200
    assert conference.title in response.content.decode()
    assert "phase-badge--preparation" in response.content.decode()


def test_the_conference_page_carries_the_live_data_attributes(client, alice, conference):
    html = page(client, alice, conference).content.decode()
    assert f'data-conference="{conference.pk}"' in html
    assert f'data-after="{conference.last_seq}"' in html
    assert f'data-me="{alice.pk}"' in html
    assert 'data-chair="false"' in html
    assert 'data-region="current-item"' in html
    assert 'data-region="queue"' in html
    assert 'data-region="polls"' in html
    assert "conferences/conference.js" in html


def test_the_page_lists_only_the_access_features_present(client, alice, conference):
    html = page(client, alice, conference).content.decode()
    assert "Step-free access" in html
    assert "Hearing loop" not in html
    assert "Quiet room" not in html


def test_the_written_discussion_window_is_stated(client, alice, conference):
    html = page(client, alice, conference).content.decode()
    assert "Written discussion: open from" in html


def test_the_video_link_is_for_remote_participants_and_chairs_only(
    client, alice, bob, chair, conference
):
    Conference.objects.filter(pk=conference.pk).update(video_url="https://video.example.org/room")
    services.registration_save(actor=alice, conference=conference, attendance="remote")
    services.registration_save(actor=bob, conference=conference, attendance="hall")
    assert "video.example.org" in page(client, alice, conference).content.decode()
    assert "video.example.org" not in page(client, bob, conference).content.decode()
    assert "video.example.org" in page(client, chair, conference).content.decode()


def test_a_member_not_registered_is_told_where_the_video_link_appears(client, bob, conference):
    Conference.objects.filter(pk=conference.pk).update(video_url="https://video.example.org/room")
    html = page(client, bob, conference).content.decode()
    assert "video.example.org" not in html
    assert "shown here to those registered to take part remotely" in html


def test_the_agenda_links_each_item_to_its_thread(client, alice, conference, agenda):
    html = page(client, alice, conference).content.decode()
    for item in agenda:
        assert item.thread.get_absolute_url() in html


def test_the_schedule_plans_each_item_from_the_start_and_the_durations(conference, agenda):
    from consultations.conferences import selectors

    rows = selectors.schedule(conference, selectors.agenda(conference)).rows
    assert rows[0].planned_start == conference.starts_at
    assert rows[1].planned_start == conference.starts_at + timedelta(minutes=30)


def test_the_page_says_how_far_behind_the_day_is(
    client, sam, alice, conference, agenda, fake_clock
):
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    fake_clock.advance(timedelta(minutes=10))
    services.agenda_set_current(actor=sam, conference=conference, item=agenda[0])
    fake_clock.advance(timedelta(minutes=35))  # started 10 late, planned 30: now 15 late
    html = page(client, alice, conference).content.decode()
    assert "15 min behind schedule" in html


def test_the_page_says_on_schedule_when_the_day_keeps_time(
    client, sam, alice, conference, agenda, fake_clock
):
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    services.agenda_set_current(actor=sam, conference=conference, item=agenda[0])
    fake_clock.advance(timedelta(minutes=20))
    html = page(client, alice, conference).content.decode()
    assert "On schedule" in html


def test_the_current_item_region_names_the_current_item(client, sam, alice, conference, agenda):
    services.conference_set_phase(actor=sam, conference=conference, phase="live")
    services.agenda_set_current(actor=sam, conference=conference, item=agenda[1])
    html = page(client, alice, conference).content.decode()
    assert "Item 2: Pflege" in html


def test_the_chair_sees_the_console_and_a_member_does_not(client, alice, chair, conference, agenda):
    assert 'id="console-heading"' not in page(client, alice, conference).content.decode()
    assert 'id="console-heading"' in page(client, chair, conference).content.decode()


def test_the_chairs_next_item_button_moves_through_the_agenda(client, chair, conference, agenda):
    login(client, chair)
    url = reverse("conferences:agenda_current", args=[conference.slug])
    client.post(url, {"next": "1"})
    conference.refresh_from_db()
    assert conference.current_item == agenda[0]
    client.post(url, {"next": "1"})
    conference.refresh_from_db()
    assert conference.current_item == agenda[1]
    client.post(url, {"next": "1"})
    conference.refresh_from_db()
    assert conference.current_item is None


def test_the_chair_makes_an_item_current(client, chair, conference, agenda):
    login(client, chair)
    client.post(
        reverse("conferences:agenda_current", args=[conference.slug]), {"item": agenda[1].pk}
    )
    conference.refresh_from_db()
    assert conference.current_item == agenda[1]


def test_a_member_cannot_make_an_item_current(client, alice, conference, agenda):
    login(client, alice)
    response = client.post(
        reverse("conferences:agenda_current", args=[conference.slug]), {"item": agenda[1].pk}
    )
    assert response.status_code == 403
    conference.refresh_from_db()
    assert conference.current_item is None


@pytest.mark.parametrize("bad", ["x", "²", "-1", "99999999"])
def test_a_bad_item_number_changes_nothing(client, chair, conference, agenda, bad):
    login(client, chair)
    response = client.post(
        reverse("conferences:agenda_current", args=[conference.slug]), {"item": bad}
    )
    assert response.status_code == 404
    conference.refresh_from_db()
    assert conference.current_item is None


def test_an_organiser_adds_an_item_with_commitments(client, sam, conference):
    from consultations.conferences.tracker.services import commitment_create

    commitment = commitment_create(actor=sam, chapter="Wohnen", text="Mietenkataster")
    login(client, sam)
    response = client.post(
        reverse("conferences:agenda_item_create", args=[conference.slug]),
        {
            "title": "Wohnen",
            "description": "Was ist erreicht?",
            "planned_minutes": "45",
            "speaking_seconds": "120",
            "commitments": [commitment.pk],
        },
    )
    assert response.status_code == 302
    item = AgendaItem.objects.get(conference=conference)
    assert item.planned_minutes == 45
    assert list(item.commitments.all()) == [commitment]


def test_an_organiser_edits_an_item(client, sam, conference, agenda):
    login(client, sam)
    client.post(
        reverse("conferences:agenda_item_edit", args=[conference.slug, agenda[0].pk]),
        {"title": "Mieten und Wohnen", "planned_minutes": "60", "speaking_seconds": "90"},
    )
    agenda[0].refresh_from_db()
    assert (agenda[0].title, agenda[0].planned_minutes, agenda[0].speaking_seconds) == (
        "Mieten und Wohnen",
        60,
        90,
    )


def test_a_bad_duration_is_refused_with_a_message_and_changes_nothing(
    client, sam, conference, agenda
):
    login(client, sam)
    response = client.post(
        reverse("conferences:agenda_item_edit", args=[conference.slug, agenda[0].pk]),
        {"title": "x", "planned_minutes": "0", "speaking_seconds": "5"},
    )
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    agenda[0].refresh_from_db()
    assert agenda[0].title == "Mieten"


def test_an_organiser_moves_an_item_down(client, sam, conference, agenda):
    login(client, sam)
    client.post(
        reverse("conferences:agenda_item_move", args=[conference.slug, agenda[0].pk]),
        {"direction": "down"},
    )
    order = list(conference.agenda.order_by("position").values_list("title", flat=True))
    assert order == ["Pflege", "Mieten"]


def test_a_chair_who_is_not_an_organiser_may_not_edit_the_agenda(client, chair, conference, agenda):
    login(client, chair)
    response = client.post(
        reverse("conferences:agenda_item_move", args=[conference.slug, agenda[0].pk]),
        {"direction": "down"},
    )
    assert response.status_code == 403
    assert ConferenceRole.objects.filter(member=chair, role="chair").exists()
    order = list(conference.agenda.order_by("position").values_list("title", flat=True))
    assert order == ["Mieten", "Pflege"]


def test_the_conference_page_costs_few_queries(
    client, alice, conference, agenda, django_assert_max_num_queries
):
    login(client, alice)
    for i in range(6):
        services.agenda_item_create(
            actor=conference.forum and _sam(), conference=conference, title=f"Punkt {i}"
        )
    with django_assert_max_num_queries(25):
        client.get(conference.get_absolute_url())


def _sam():
    from deliberation.models import Member

    return Member.objects.get(email="sam@example.org")


def test_the_admin_lists_registrations_without_their_needs(client, sam, alice, conference):
    services.registration_save(
        actor=alice, conference=conference, attendance="hall", accessibility_needs="Rampe bitte"
    )
    login(client, sam)
    response = client.get(reverse("admin:conferences_registration_changelist"))
    assert response.status_code == 200
    assert "Alice" in response.content.decode()
    assert "Rampe bitte" not in response.content.decode()
    for name in ("conference", "commitment"):
        assert client.get(reverse(f"admin:conferences_{name}_changelist")).status_code == 200


def _live_day(conference, chair, sam, alice, *, items: int, speakers: int, polls: int) -> None:
    """A live day as the arrival benchmark sees it: ``items`` agenda items each linked to two
    commitments, the first current with ``speakers`` hall speakers waiting (one speaking), alice
    registered and waiting too, ``polls`` open polls on as many items and a closed one on the
    current item."""
    from consultations.conferences.models import Commitment, Registration
    from consultations.conferences.polls import services as poll_services
    from consultations.conferences.queue import services as queue_services

    Registration.objects.create(conference=conference, member=alice, attendance="remote")
    Conference.objects.filter(pk=conference.pk).update(phase=Conference.Phase.LIVE)
    conference.refresh_from_db()
    agenda = [
        services.agenda_item_create(actor=sam, conference=conference, title=f"Punkt {i}")
        for i in range(items)
    ]
    for i, item in enumerate(agenda):
        item.commitments.add(
            *(Commitment.objects.create(chapter="1", text=f"Zusage {i}.{k}") for k in range(2))
        )
    current = agenda[0]
    services.agenda_set_current(actor=chair, conference=conference, item=current)
    for i in range(speakers):
        queue_services.speak_request_add_hall(
            actor=chair,
            conference=conference,
            item=current,
            name=f"Gast {i}",
            kind="contribution",
            sublist="default-0",
        )
    queue_services.speak_request_call_next(actor=chair, conference=conference, item=current)
    queue_services.speak_request_create(
        actor=alice, conference=conference, item=current, kind="contribution", sublist="default-0"
    )
    closed = poll_services.poll_open(
        actor=chair, conference=conference, item=current, question="Vertagen?", kind="yes_no"
    )
    poll_services.poll_close(actor=chair, poll=closed)
    for item in agenda[1 : polls + 1]:
        poll_services.poll_open(
            actor=chair, conference=conference, item=item, question=f"{item.title}?", kind="yes_no"
        )


@pytest.mark.parametrize(
    ("items", "speakers", "polls"), [(2, 2, 1), (12, 30, 8)], ids=["small", "larger"]
)
def test_the_live_conference_page_costs_the_same_few_queries_whatever_its_size(
    client, conference, chair, sam, alice, items, speakers, polls, django_assert_max_num_queries
):
    _live_day(conference, chair, sam, alice, items=items, speakers=speakers, polls=polls)
    login(client, alice)
    with django_assert_max_num_queries(18):
        response = client.get(conference.get_absolute_url())
    body = response.content.decode()
    # Waiting: the hall speakers but the one speaking, and alice; plus the empty <template>.
    assert body.count('class="sq-entry"') == speakers + 1
    assert body.count("data-poll=") >= polls
    assert "Zusage 0.1" in body


@pytest.mark.parametrize("commitment", [str(2**63), "-1", "²", "x" * 50])
def test_an_agenda_item_with_an_impossible_commitment_id_is_a_form_error_not_a_crash(
    client, sam, conference, commitment
):
    """An id no row can have (beyond 64 bits SQLite raises instead of finding nothing) is
    refused by the form, in the user's language, and nothing is written."""
    login(client, sam)
    Member.objects.filter(pk=sam.pk).update(language="de")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    url = reverse("conferences:agenda_item_create", args=[conference.slug])
    response = client.post(
        url,
        {
            "title": "Mieten",
            "planned_minutes": "30",
            "speaking_seconds": "180",
            "commitments": [commitment],
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code in (200, 400)
    assert "ist keine gültige Auswahl" in response.content.decode()
    assert not AgendaItem.objects.filter(conference=conference).exists()
