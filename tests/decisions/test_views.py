"""The calendar's pages over HTTP: the iCal feeds (parsed back with icalendar), the list's order
and filter, the month, the follow toggle with and without scripts, the forms, and the queries
the list and the dashboard cost (constant in the number of decisions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from consultations.decisions import selectors, services
from consultations.decisions.models import Decision, TopicFollow
from deliberation.models import Notification
from tests import factories
from tests.conferences.pages import login
from tests.decisions.conftest import make_decision

pytestmark = pytest.mark.django_db


def _events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_topics_feed_holds_every_decision_of_the_topic_and_none_of_others(
    client, sam, alice, topics
):
    rents = [make_decision(sam, [topics["mieten"]], title=f"Mieten {i}", days=i) for i in range(4)]
    both = make_decision(sam, [topics["mieten"], topics["pflege"]], title="Beides", time=None)
    services.decision_decide(actor=sam, decision=rents[0], result="Angenommen.")
    other = make_decision(sam, [topics["pflege"]], title="Nur Pflege")
    login(client, alice)
    events = _events(client.get(reverse("decisions:topic_feed", args=["mieten"])))
    uids = {str(e["uid"]) for e in events}
    expected = {f"decision-{d.pk}@testserver" for d in [*rents, both]}
    assert uids == expected
    assert f"decision-{other.pk}@testserver" not in uids
    everything = _events(client.get(reverse("decisions:feed")))
    assert len(everything) == 6


def test_a_feed_event_carries_the_date_the_link_and_the_topics(client, sam, alice, topics):
    timed = make_decision(sam, [topics["mieten"]], title="Mit Zeit")
    whole = make_decision(sam, [topics["mieten"]], title="Ganztags", time=None, days=3)
    login(client, alice)
    events = {str(e["uid"]): e for e in _events(client.get(reverse("decisions:feed")))}
    event = events[f"decision-{timed.pk}@testserver"]
    assert event.decoded("dtstart") == timed.starts_at
    assert str(event["url"]).endswith(timed.get_absolute_url())
    assert "Mit Zeit" in str(event["summary"])
    assert "Mieten und Wohnen" in event["categories"].to_ical().decode()
    all_day = events[f"decision-{whole.pk}@testserver"]
    assert all_day.decoded("dtstart") == whole.date  # a date, not a time: all day
    assert all_day.decoded("dtend") == whole.date + timedelta(days=1)


def test_the_list_shows_upcoming_soonest_first_then_decided_newest_first(sam, topics):
    later = make_decision(sam, [topics["mieten"]], title="Später", days=20)
    sooner = make_decision(sam, [topics["mieten"]], title="Bald", days=2)
    old = make_decision(sam, [topics["mieten"]], title="Alt", days=-30)
    recent = make_decision(sam, [topics["mieten"]], title="Neu entschieden", days=-3)
    for d in (old, recent):
        services.decision_decide(actor=sam, decision=d, result="Ja.")
    assert list(selectors.decision_list()) == [sooner, later, recent, old]


def test_the_list_filters_by_topic(client, sam, alice, topics):
    make_decision(sam, [topics["mieten"]], title="Mietenschutz")
    make_decision(sam, [topics["pflege"]], title="Krankenhausplan")
    html = login(client, alice).get(reverse("decisions:index") + "?thema=pflege").content.decode()
    assert "Krankenhausplan" in html and "Mietenschutz" not in html


def test_the_list_costs_the_same_queries_for_three_and_thirty_decisions(
    client, sam, alice, topics, django_assert_num_queries
):
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    client.force_login(alice)
    for i in range(3):
        make_decision(sam, [topics["mieten"], topics["pflege"]], title=f"A {i}", days=i)
    client.get(reverse("decisions:index"))  # warm (sessions, content types)
    # session, member, count, page, its topics, all topics, followed, the member's rights (2)
    # and conference roles, and the header's moderation link and notification count
    with django_assert_num_queries(12) as few:
        client.get(reverse("decisions:index"))
    for i in range(27):
        make_decision(sam, [topics["mieten"], topics["sicherheit"]], title=f"B {i}", days=i)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("decisions:index"))
    assert response.content.decode().count('class="card decision-card') == 20


def test_the_dashboard_provider_costs_one_query_whatever_the_number(
    sam, alice, topics, django_assert_num_queries
):
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    for i in range(12):
        make_decision(sam, [topics["mieten"], topics["pflege"]], title=f"D {i}", days=i + 1)
    with django_assert_num_queries(1):
        entries = selectors.dashboard_upcoming(user=alice, now=timezone.now())
    assert len(entries) == 5


def test_the_month_shows_its_decisions_as_a_table_with_headers(client, sam, alice, topics):
    today = timezone.localdate()
    make_decision(sam, [topics["mieten"]], title="Diesen Monat", days=0)
    html = login(client, alice).get(reverse("decisions:month_now")).content.decode()
    assert '<table class="month-grid">' in html and '<th scope="col">' in html
    assert "Diesen Monat" in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    far = reverse("decisions:month", args=[today.year + 1, today.month])
    assert "Diesen Monat" not in client.get(far).content.decode()


def test_following_without_scripts_redirects_back_with_a_message(client, alice, topics):
    login(client, alice)
    url = reverse("decisions:follow", args=["mieten"])
    response = client.post(url, {"follow": "1", "next": "/entscheidungen/?thema=mieten"})
    assert response.status_code == 302 and response["Location"] == "/entscheidungen/?thema=mieten"
    assert TopicFollow.objects.filter(member=alice, topic=topics["mieten"]).exists()
    page = client.get(reverse("decisions:index")).content.decode()
    assert 'aria-pressed="true"' in page
    response = client.post(url, {"follow": "0", "next": "https://evil.example/"})
    assert response["Location"] == reverse("decisions:index")
    assert not TopicFollow.objects.filter(member=alice).exists()


def test_following_with_fetch_answers_json(client, alice, topics):
    login(client, alice)
    url = reverse("decisions:follow", args=["mieten"])
    response = client.post(url, {"follow": "1"}, headers={"Accept": "application/json"})
    assert response.json()["following"] is True
    assert "Mieten und Wohnen" in response.json()["message"]
    bad = client.post(url, {"follow": "ja"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400


def test_an_organiser_adds_a_decision_linked_to_a_thread_and_followers_are_told(
    client, sam, organiser, alice, topics
):
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    thread = factories.make_thread(author=sam)
    login(client, organiser)
    response = client.post(
        reverse("decisions:create"),
        {
            "title": "Mietenschutzgesetz",
            "explanation": "Zweite Lesung.",
            "body": "Text",
            "date": "2027-03-24",
            "time": "10:00",
            "institution": "parliament",
            "topics": [topics["mieten"].pk],
            "source_url": "https://www.parlament-berlin.de/",
            "discussion_address": f"http://testserver{thread.get_absolute_url()}",
        },
    )
    decision = Decision.objects.get()
    assert response.status_code == 302 and response["Location"] == decision.get_absolute_url()
    assert decision.discussion == thread
    assert Notification.objects.filter(member=alice, verb="decisions.new").count() == 1
    html = client.get(decision.get_absolute_url()).content.decode()
    assert thread.get_absolute_url() in html


def test_a_refused_form_shows_the_error_summary_and_writes_nothing(client, organiser, topics):
    login(client, organiser)
    response = client.post(
        reverse("decisions:create"),
        {
            "title": "",
            "explanation": "x",
            "date": "2027-02-30",
            "institution": "parliament",
            "topics": ["999999"],
            "source_url": "javascript:alert(1)",
            "discussion_address": "/entscheidungen/",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'data-autofocus="error-summary"' in html
    form = response.context["form"]
    assert set(form.errors) == {"title", "date", "topics", "source_url", "discussion_address"}
    assert not Decision.objects.exists()


def test_the_detail_page_escapes_and_shows_the_result(client, sam, alice, topics):
    decision = make_decision(sam, [topics["mieten"]], title="<b>Titel</b>")
    services.decision_decide(
        actor=sam, decision=decision, result="**Angenommen**", result_url="https://example.org/r"
    )
    html = login(client, alice).get(decision.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Titel&lt;/b&gt;" in html
    assert "<strong>Angenommen</strong>" in html and "https://example.org/r" in html


def test_the_conference_list_links_to_the_calendar_for_members_only(client, alice, gina):
    assert reverse("decisions:index") in login(client, alice).get("/konferenzen/").content.decode()
    client.force_login(gina)
    assert reverse("decisions:index") not in client.get("/konferenzen/").content.decode()
