"""The speaker queue's pages and forms, without JavaScript: every action works as a plain form,
bad input gets a translated error and changes nothing, rights are checked on every request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from consultations.conferences import services as conference_services
from consultations.conferences.models import ConferenceEvent
from consultations.conferences.queue import services
from consultations.conferences.queue.models import SpeakRequest
from tests import factories
from tests.conferences.queue_world import *  # noqa: F403 (fixtures)
from tests.conferences.queue_world import go_live, register

pytestmark = pytest.mark.django_db


def ask_url(conference, item):
    return reverse("conferences:queue_ask", args=[conference.slug, item.pk])


def list_url(conference, item):
    return reverse("conferences:queue_list", args=[conference.slug, item.pk])


def entry_url(conference):
    return reverse("conferences:queue_entry", args=[conference.slug])


def test_a_registered_member_asks_to_speak_with_a_plain_form(
    client, conference, live_item, speakers
):
    client.force_login(speakers["alice"])
    response = client.post(
        ask_url(conference, live_item), {"kind": "question", "sublist": "default-0"}, follow=True
    )
    assert response.redirect_chain[-1][0].endswith("#redeliste")
    assert "Du stehst auf der Redeliste." in response.content.decode()
    entry = SpeakRequest.objects.get()
    assert (entry.member, entry.kind) == (speakers["alice"], "question")


def test_the_conference_page_shows_the_queue_with_counts_and_the_ask_form(
    client, conference, live_item, speakers, chair, django_assert_max_num_queries
):
    services.speak_request_create(
        actor=speakers["bob"],
        conference=conference,
        item=live_item,
        kind="contribution",
        sublist="default-1",
    )
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    for who in ("mo", "dana", "eve"):
        services.speak_request_create(
            actor=speakers[who],
            conference=conference,
            item=live_item,
            kind="contribution",
            sublist="default-0",
        )
    client.force_login(speakers["alice"])
    with django_assert_max_num_queries(30):
        page = client.get(conference.get_absolute_url()).content.decode()
    assert "Redeliste" in page and "Es spricht" in page
    assert "Wortmeldungen: 0 · Zeit: 0:00" in page
    assert page.index("Mo") < page.index("Dana") < page.index("Eve")
    assert "Zu Wort melden" in page
    assert 'id="queue-snapshot"' in page


def test_a_bad_kind_gets_a_translated_error_and_changes_nothing(
    client, conference, live_item, speakers
):
    client.force_login(speakers["alice"])
    response = client.post(ask_url(conference, live_item), {"kind": "rant", "sublist": "x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bitte korrigiere" in page or "error-summary" in page
    assert "Bitte eine gültige Auswahl treffen." in page
    assert not SpeakRequest.objects.exists()


def test_a_page_rendered_before_the_default_lists_were_stored_still_asks_with_their_keys(
    client, conference, live_item, speakers
):
    # Found by the queue-burst bench: the first request stores the default sub-lists, and every
    # page already open sent "default-<n>" that the form no longer offered (400 for all of them).
    services.speak_request_create(
        actor=speakers["bob"],
        conference=conference,
        item=live_item,
        kind="contribution",
        sublist="default-1",
    )
    client.force_login(speakers["alice"])
    ok = client.post(
        ask_url(conference, live_item),
        {"kind": "contribution", "sublist": "default-0"},
        HTTP_ACCEPT="application/json",
    )
    assert ok.json() == {"ok": True, "message": "Du stehst auf der Redeliste."}
    entry = SpeakRequest.objects.get(member=speakers["alice"])
    assert entry.sublist.origin == 0
    assert entry.sublist_id != SpeakRequest.objects.get(member=speakers["bob"]).sublist_id


def test_an_unknown_default_key_is_refused_and_changes_nothing(
    client, conference, live_item, speakers
):
    client.force_login(speakers["alice"])
    response = client.post(
        ask_url(conference, live_item),
        {"kind": "contribution", "sublist": "default-7"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Bitte wähle eine der Listen."
    assert not SpeakRequest.objects.exists()


def test_a_closed_list_refuses_with_its_reason_on_the_form_page(
    client, conference, live_item, speakers, chair
):
    services.speaker_list_set_open(
        actor=chair, conference=conference, item=live_item, is_open=False
    )
    client.force_login(speakers["alice"])
    response = client.post(
        ask_url(conference, live_item), {"kind": "contribution", "sublist": "default-0"}
    )
    assert response.status_code == 400
    assert "Die Redeliste ist geschlossen." in response.content.decode()
    assert not SpeakRequest.objects.exists()


def test_the_ask_form_answers_json_to_a_script(client, conference, live_item, speakers):
    client.force_login(speakers["alice"])
    ok = client.post(
        ask_url(conference, live_item),
        {"kind": "point_of_order"},
        HTTP_ACCEPT="application/json",
    )
    assert ok.json() == {"ok": True, "message": "Du stehst auf der Redeliste."}
    again = client.post(
        ask_url(conference, live_item), {"kind": "point_of_order"}, HTTP_ACCEPT="application/json"
    )
    assert again.status_code == 400
    assert again.json()["message"] == "Dein GO-Antrag wartet schon."


def test_an_unregistered_member_sees_why_and_cannot_ask(client, conference, live_item, alice):
    client.force_login(alice)
    page = client.get(ask_url(conference, live_item)).content.decode()
    assert "angemeldet sind, können sich zu Wort melden" in page
    response = client.post(
        ask_url(conference, live_item), {"kind": "contribution", "sublist": "default-0"}
    )
    assert response.status_code == 400
    assert not SpeakRequest.objects.exists()


def test_a_visitor_is_sent_to_log_in(client, conference, live_item):
    response = client.post(ask_url(conference, live_item), {"kind": "contribution"})
    assert response.status_code == 302 and "/anmelden/" in response["Location"]
    assert not SpeakRequest.objects.exists()


def test_a_guest_of_another_forum_does_not_see_the_conference(client, conference, live_item, gina):
    client.force_login(gina)
    assert client.get(reverse("conferences:projector", args=[conference.slug])).status_code == 404
    assert client.post(ask_url(conference, live_item), {"kind": "contribution"}).status_code == 404


def test_the_chair_calls_next_and_a_member_may_not(client, conference, live_item, speakers, chair):
    services.speak_request_create(
        actor=speakers["bob"],
        conference=conference,
        item=live_item,
        kind="contribution",
        sublist="default-1",
    )
    client.force_login(speakers["alice"])
    refused = client.post(list_url(conference, live_item), {"action": "call_next"}, follow=True)
    assert "Nur die Sitzungsleitung" in refused.content.decode()
    assert SpeakRequest.objects.get().state == "waiting"
    client.force_login(chair)
    done = client.post(list_url(conference, live_item), {"action": "call_next"}, follow=True)
    assert "Bob hat das Wort." in done.content.decode()
    assert SpeakRequest.objects.get().state == "speaking"


def test_bad_chair_input_changes_nothing(client, conference, live_item, speakers, chair):
    entry = services.speak_request_create(
        actor=speakers["bob"],
        conference=conference,
        item=live_item,
        kind="contribution",
        sublist="default-1",
    )
    before = ConferenceEvent.objects.count()
    client.force_login(chair)
    for data in [
        {"action": "explode"},
        {"action": "call_next", "seconds": "5"},
        {"action": "call_next", "seconds": "9" * 40},
    ]:
        response = client.post(
            list_url(conference, live_item), data, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400
    for data in [
        {"entry": "abc", "action": "remove"},
        {"entry": str(entry.pk), "action": "time"},
        {"entry": "99999999", "action": "remove"},
        {"entry": "²", "action": "remove"},
        {"entry": str(2**70), "action": "remove"},
    ]:
        response = client.post(entry_url(conference), data, HTTP_ACCEPT="application/json")
        assert response.status_code == 400, data
        assert response.json()["ok"] is False
    assert ConferenceEvent.objects.count() == before
    entry.refresh_from_db()
    assert entry.state == "waiting"


def test_the_chair_adds_a_hall_speaker_and_a_bad_name_is_refused(
    client, conference, live_item, chair
):
    client.force_login(chair)
    url = reverse("conferences:queue_hall", args=[conference.slug, live_item.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "x" * 81, "kind": "contribution", "sublist": "default-0"})
    assert bad.status_code == 400
    assert not SpeakRequest.objects.exists()
    ok = client.post(url, {"name": "Herr Okafor", "kind": "contribution", "sublist": "default-0"})
    assert ok.status_code == 302
    assert SpeakRequest.objects.get().name == "Herr Okafor"


def test_the_chairs_remove_button_is_quiet_and_names_whom_it_takes_off_the_list(
    client, conference, live_item, speakers, chair
):
    services.speak_request_add_hall(
        actor=chair,
        conference=conference,
        item=live_item,
        name="Anna <b>Beispiel</b>",
        kind="contribution",
        sublist="default-0",
    )
    client.force_login(chair)
    page = client.get(conference.get_absolute_url()).content.decode()
    queue = page[page.index('id="redeliste"') :]
    assert "button--danger" not in queue  # no wall of red down the list
    button = re.search(r'<button[^>]*value="remove"[^>]*>.*?</button>', queue, re.S)
    assert button is not None
    assert 'class="button--quiet-danger button--small sq-entry__remove"' in button.group(0)
    assert (
        '<span aria-hidden="true">Entfernen</span><span class="visually-hidden">'
        '<span data-slot="name">Anna &lt;b&gt;Beispiel&lt;/b&gt;</span> von der Liste entfernen'
        "</span>"
    ) in button.group(0)
    # The <template> queue.js clones has the same sentence around an empty slot.
    assert '<span data-slot="name"></span> von der Liste entfernen' in queue

    chair.language = "en"  # a member's saved language beats the browser's
    chair.save(update_fields=["language"])
    english = client.get(conference.get_absolute_url()).content.decode()
    assert (
        'Remove <span data-slot="name">Anna &lt;b&gt;Beispiel&lt;/b&gt;</span> from the list'
        in english
    )

    client.force_login(speakers["alice"])
    assert 'value="remove"' not in client.get(conference.get_absolute_url()).content.decode()


def test_a_member_may_not_open_the_chairs_pages(client, conference, live_item, speakers):
    client.force_login(speakers["alice"])
    for name in ("queue_hall", "queue_sublists"):
        url = reverse(f"conferences:{name}", args=[conference.slug, live_item.pk])
        assert client.get(url).status_code == 403


def test_the_chair_adds_a_sublist(client, conference, live_item, chair):
    client.force_login(chair)
    url = reverse("conferences:queue_sublists", args=[conference.slug, live_item.pk])
    page = client.get(url).content.decode()
    assert "Quotierte Liste (Frauen, inter, nicht-binäre, trans und agender Personen)" in page
    assert client.post(url, {"name": "", "short": "", "scope": "item"}).status_code == 400
    response = client.post(url, {"name": "Jugendliste", "short": "jung", "scope": "item"})
    assert response.status_code == 302
    assert "Jugendliste" in client.get(url).content.decode()


def test_a_member_withdraws_their_request_with_the_entry_form(
    client, conference, live_item, speakers
):
    entry = services.speak_request_create(
        actor=speakers["alice"],
        conference=conference,
        item=live_item,
        kind="contribution",
        sublist="default-0",
    )
    client.force_login(speakers["bob"])
    client.post(entry_url(conference), {"entry": entry.pk, "action": "withdraw"})
    entry.refresh_from_db()
    assert entry.state == "waiting"
    client.force_login(speakers["alice"])
    client.post(entry_url(conference), {"entry": entry.pk, "action": "withdraw"})
    entry.refresh_from_db()
    assert entry.state == "withdrawn"


def test_the_projector_shows_the_speaker_and_the_next_three(
    client, conference, live_item, speakers, chair
):
    for i, who in enumerate(("alice", "bob", "mo", "dana", "eve")):
        services.speak_request_create(
            actor=speakers[who],
            conference=conference,
            item=live_item,
            kind="contribution",
            sublist=f"default-{i % 2}",
        )
    services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    client.force_login(speakers["alice"])
    page = client.get(reverse("conferences:projector", args=[conference.slug])).content.decode()
    assert "Mieten" in page and "Es spricht" in page
    nxt = page[page.index('id="projector-next"') :]
    listed = nxt[: nxt.index("</ol>")]
    assert listed.count('class="sq-entry"') == 3
    assert "Eve" not in listed


def test_the_snapshot_is_json_for_those_who_may_view(client, conference, live_item, speakers):
    client.force_login(speakers["alice"])
    url = reverse("conferences:queue_snapshot", args=[conference.slug, live_item.pk])
    data = client.get(url).json()
    assert data["item"] == live_item.pk and data["open"] is True


class TestAskFormProperties(HypothesisTestCase):
    """Whatever a client posts to the ask form, the answer is a refusal (400, nothing changed)
    or one well-formed request; never a server error."""

    @classmethod
    def setUpTestData(cls):
        sam = factories.make_staff(email="sam@example.org", display_name="Sam")
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        cls.conference = conference_services.conference_create(
            actor=sam,
            title="BK",
            slug="bk",
            starts_at=now,
            ends_at=now + timedelta(hours=6),
            written_opens_at=now - timedelta(days=1),
            written_closes_at=now + timedelta(days=3),
        )
        cls.item = conference_services.agenda_item_create(
            actor=sam, conference=cls.conference, title="Mieten"
        )
        go_live(cls.conference)
        conference_services.agenda_set_current(actor=sam, conference=cls.conference, item=cls.item)
        cls.member = factories.make_member(email="p@example.org", display_name="P")
        register(cls.conference, cls.member)

    @given(
        kind=st.one_of(
            st.sampled_from(["contribution", "question", "point_of_order", "interposition"]),
            st.text(max_size=300),
        ),
        sublist=st.one_of(
            st.sampled_from(["default-0", "default-1", "default-2", ""]),
            st.text(max_size=300),
        ),
    )
    def test_any_posted_fields_give_one_request_or_a_refusal(self, kind, sublist):
        SpeakRequest.objects.all().delete()
        self.client.force_login(self.member)
        response = self.client.post(
            ask_url(self.conference, self.item),
            {"kind": kind.replace("\x00", ""), "sublist": sublist.replace("\x00", "")},
        )
        assert response.status_code in (302, 400)
        count = SpeakRequest.objects.count()
        assert count == (1 if response.status_code == 302 else 0)


def test_the_video_link_in_the_queue_is_only_in_the_pages_of_those_it_is_for(
    client, conference, live_item, chair, alice, bob, mo
):
    # A live queue with someone speaking: the "you have the floor" box is on every page, but the
    # video link in it only in the pages of remote participants and chairs (not hidden for the
    # rest: absent), as the conference page's own video card.
    from consultations.conferences.models import Conference
    from consultations.conferences.queue import services as queue_services

    Conference.objects.filter(pk=conference.pk).update(video_url="https://video.example.org/r")
    conference.refresh_from_db()
    register(conference, alice)
    register(conference, bob, attendance="hall")
    queue_services.speak_request_create(
        actor=alice, conference=conference, item=live_item, kind="contribution", sublist="default-0"
    )
    queue_services.speak_request_call_next(actor=chair, conference=conference, item=live_item)
    url = reverse("conferences:conference", kwargs={"slug": conference.slug})
    projector = reverse("conferences:projector", kwargs={"slug": conference.slug})
    for person, shown in ((alice, True), (chair, True), (bob, False), (mo, False)):
        client.force_login(person)
        if shown:
            assert "video.example.org" in client.get(url).content.decode(), person
        else:
            for address in (url, projector):
                assert "video.example.org" not in client.get(address).content.decode(), (
                    person,
                    address,
                )
