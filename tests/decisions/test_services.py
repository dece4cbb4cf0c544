"""The calendar's writers: who may write, what they accept, and who is told what, once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from consultations.decisions import notices, services
from consultations.decisions.models import Decision
from deliberation import notifications
from deliberation.models import Notification
from forums.errors import ServiceError
from tests import factories
from tests.decisions.conftest import make_decision

pytestmark = pytest.mark.django_db


def _notes(member, verb):
    return list(Notification.objects.filter(member=member, verb=verb))


def test_each_follower_is_told_once_when_a_decision_is_decided(sam, alice, bob, carol_, topics):
    # alice follows two of its topics, bob one, carol none of them
    for topic in (topics["mieten"], topics["pflege"]):
        services.topic_follow(actor=alice, topic=topic, follow=True)
    services.topic_follow(actor=bob, topic=topics["pflege"], follow=True)
    services.topic_follow(actor=carol_, topic=topics["sicherheit"], follow=True)
    decision = make_decision(sam, [topics["mieten"], topics["pflege"]])
    services.decision_decide(
        actor=sam, decision=decision, result="Angenommen.", result_url="https://example.org/a"
    )
    assert len(_notes(alice, notices.DECISION_DECIDED)) == 1
    assert len(_notes(bob, notices.DECISION_DECIDED)) == 1
    assert _notes(carol_, notices.DECISION_DECIDED) == []
    assert _notes(sam, notices.DECISION_DECIDED) == []
    decision.refresh_from_db()
    assert decision.status == Decision.Status.DECIDED and decision.decided_at is not None
    assert decision.result_html == "<p>Angenommen.</p>"


def test_correcting_a_result_tells_nobody_again(sam, alice, topics):
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    decision = make_decision(sam, [topics["mieten"]])
    services.decision_decide(actor=sam, decision=decision, result="Angenommen.")
    services.decision_decide(actor=sam, decision=decision, result="Angenommen, geändert.")
    assert len(_notes(alice, notices.DECISION_DECIDED)) == 1
    decision.refresh_from_db()
    assert decision.result == "Angenommen, geändert."


def test_a_new_decision_tells_each_follower_once_but_not_its_author(
    sam, organiser, alice, bob, topics
):
    for topic in (topics["mieten"], topics["pflege"]):
        services.topic_follow(actor=alice, topic=topic, follow=True)
        services.topic_follow(actor=organiser, topic=topic, follow=True)
    make_decision(organiser, [topics["mieten"], topics["pflege"]])
    assert len(_notes(alice, notices.DECISION_NEW)) == 1
    assert _notes(organiser, notices.DECISION_NEW) == []
    assert _notes(bob, notices.DECISION_NEW) == []


def test_notifications_are_worded_in_each_readers_language(sam, alice, bob, topics):
    bob.language = "en"
    bob.save(update_fields=["language"])
    for member in (alice, bob):
        services.topic_follow(actor=member, topic=topics["mieten"], follow=True)
    decision = make_decision(sam, [topics["mieten"]], title="Mietenschutzgesetz")
    services.decision_decide(actor=sam, decision=decision, result="Angenommen.")
    german = notifications.render(_notes(alice, notices.DECISION_DECIDED)[0])
    english = notifications.render(_notes(bob, notices.DECISION_DECIDED)[0])
    assert "Mietenschutzgesetz" in german and "Mietenschutzgesetz" in english
    assert english.startswith("A decision in a topic you follow was taken")
    assert german != english


def test_inactive_members_and_guests_are_not_told(sam, alice, topics):
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    decision = make_decision(sam, [topics["mieten"]])
    services.decision_decide(actor=sam, decision=decision, result="Angenommen.")
    assert not Notification.objects.filter(member=alice).exists()


def test_a_guest_cannot_follow_a_topic(gina, topics):
    with pytest.raises(ServiceError):
        services.topic_follow(actor=gina, topic=topics["mieten"], follow=True)


def test_following_twice_is_following_once_and_unfollowing_ends_it(alice, topics):
    assert services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    assert services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    assert alice.topic_follows.count() == 1
    assert not services.topic_follow(actor=alice, topic=topics["mieten"], follow=False)
    assert alice.topic_follows.count() == 0


def test_a_member_may_not_write_to_the_calendar(alice, decision, topics):
    with pytest.raises(ServiceError) as raised:
        make_decision(alice, [topics["mieten"]])
    assert raised.value.code == "forbidden"
    with pytest.raises(ServiceError):
        services.decision_decide(actor=alice, decision=decision, result="x")
    assert Decision.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "a\x00b"},
        {"explanation": ""},
        {"source_url": "javascript:alert(1)"},
        {"source_url": "ftp://example.org/"},
        {"source_url": "data:text/html,hi"},
        {"date": date(1999, 12, 31)},
        {"date": "2027-01-01"},
        {"institution": "bundestag"},
        {"topics": []},
    ],
)
def test_bad_input_is_refused_and_writes_nothing(sam, topics, fields):
    fields = dict(fields)
    topic_list = fields.pop("topics", [topics["mieten"]])
    with pytest.raises(ServiceError):
        make_decision(sam, topic_list, **fields)
    assert not Decision.objects.exists()


def test_a_javascript_result_link_is_refused(sam, decision):
    with pytest.raises(ServiceError):
        services.decision_decide(
            actor=sam, decision=decision, result="ok", result_url="javascript:alert(1)"
        )
    decision.refresh_from_db()
    assert decision.status == Decision.Status.UPCOMING


def test_the_text_goes_through_the_platforms_markdown_pipeline(sam, topics):
    decision = make_decision(
        sam, [topics["mieten"]], body="**fett** <script>alert(1)</script> [x](javascript:y)"
    )
    assert "<strong>fett</strong>" in decision.body_html
    assert "<script" not in decision.body_html and "javascript:" not in decision.body_html


def test_a_decision_links_to_a_thread_and_shows_it_only_to_who_may_see_it(sam, alice, topics):
    from consultations.decisions.permissions import can_see_discussion
    from forums.models import Forum

    hidden = factories.make_forum(slug="vorstand", visibility=Forum.Visibility.INVITED)
    thread = factories.make_thread(hidden, author=sam)
    decision = make_decision(sam, [topics["mieten"]], discussion=thread)
    assert decision.discussion_url == thread.get_absolute_url()
    assert can_see_discussion(sam, decision)
    assert not can_see_discussion(alice, decision)


def test_a_decision_links_only_to_whitelisted_targets(sam, topics):
    with pytest.raises(ServiceError):
        make_decision(sam, [topics["mieten"]], discussion=topics["pflege"])


def test_an_organiser_may_not_link_to_a_thread_she_cannot_see(sam, organiser, topics):
    from forums.models import Forum

    hidden = factories.make_forum(slug="vorstand", visibility=Forum.Visibility.INVITED)
    thread = factories.make_thread(hidden, author=sam)
    with pytest.raises(ServiceError):
        make_decision(organiser, [topics["mieten"]], discussion=thread)


def test_only_staff_appoint_organisers_and_never_guests(sam, alice, gina):
    with pytest.raises(ServiceError):
        services.organiser_grant(actor=alice, member=alice)
    with pytest.raises(ServiceError):
        services.organiser_grant(actor=sam, member=gina)


@pytest.fixture
def carol_(db):
    return factories.make_member(email="carol@example.org", display_name="Carol")


def test_the_dashboard_provider_shows_followed_topics_first(sam, alice, topics):
    from consultations.decisions import selectors

    make_decision(sam, [topics["pflege"]], title="Früh, nicht gefolgt", days=1)
    make_decision(sam, [topics["mieten"]], title="Später, gefolgt", days=20)
    now = timezone.now()
    assert [e.title for e in selectors.dashboard_upcoming(user=alice, now=now)] == [
        "Früh, nicht gefolgt",
        "Später, gefolgt",
    ]
    services.topic_follow(actor=alice, topic=topics["mieten"], follow=True)
    for i in range(6):
        make_decision(sam, [topics["mieten"]], title=f"Gefolgt {i}", days=30 + i)
    titles = [e.title for e in selectors.dashboard_upcoming(user=alice, now=now)]
    assert "Früh, nicht gefolgt" not in titles and titles[0] == "Später, gefolgt"
    assert len(titles) == 5


def test_a_whole_day_decision_stays_on_the_dashboard_all_day(sam, alice, topics):
    from deliberation import dashboard

    make_decision(sam, [topics["mieten"]], title="Heute", days=0, time=None)
    late = timezone.localtime().replace(hour=23, minute=0)
    assert [e.title for e in dashboard.upcoming(user=alice, now=late)] == ["Heute"]
    tomorrow = late + timedelta(hours=2)
    assert dashboard.upcoming(user=alice, now=tomorrow) == []


def test_an_organiser_edits_a_decision_linked_where_she_cannot_see_and_the_link_stays(
    sam, organiser, topics
):
    from forums.models import Forum

    hidden = factories.make_forum(slug="vorstand", visibility=Forum.Visibility.INVITED)
    thread = factories.make_thread(hidden, author=sam)
    decision = make_decision(sam, [topics["mieten"]], discussion=thread)
    services.decision_update(
        actor=organiser,
        decision=decision,
        title="Neuer Titel",
        explanation=decision.explanation,
        date=decision.date,
        institution=decision.institution,
        topics=[topics["mieten"]],
        discussion=thread,
    )
    decision.refresh_from_db()
    assert decision.title == "Neuer Titel" and decision.discussion == thread
