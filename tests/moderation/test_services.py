"""Moderation services: reports and cases, claims, hiding and its scrubbing, mutes, appeals.

World (tests/moderation/world.py): mo and hank moderate the forum, una is muted, bob wrote the
reported post, sam is staff.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from deliberation.models import Notification
from deliberation.notifications import render
from forums import selectors as forum_selectors
from forums.errors import ServiceError
from forums.models import Post, ThreadEvent
from moderation import selectors, services
from moderation.models import Case, ModerationAction
from tests import factories
from tests.moderation import world as w
from tests.moderation.world import fast_hashing_and_fresh_rate_limits  # noqa: F401

SECRET = "Streng geheimer beleidigender Satz"


@pytest.fixture
def world(alice, bob, gina, mo, kim, sam) -> w.World:
    return w.build(alice=alice, bob=bob, gina=gina, mo=mo, kim=kim, sam=sam)


def test_repeated_reports_of_one_post_gather_into_one_case(world, alice, kim):
    services.report_create(actor=alice, post=world.post, reason="off_topic")
    report = services.report_create(actor=kim, post=world.post, reason="threat", text="Drohung")
    case = Case.objects.get(pk=report.case_id)
    assert (case.report_count, case.top_reason) == (2, "threat")
    assert Case.objects.filter(post=world.post, status="open").count() == 1


def test_a_member_cannot_report_the_same_post_twice_while_its_case_is_open(world, alice):
    services.report_create(actor=alice, post=world.post, reason="insult")
    with pytest.raises(ServiceError) as info:
        services.report_create(actor=alice, post=world.post, reason="spam")
    assert info.value.code == "invalid"
    assert "schon gemeldet" in info.value.message


def test_a_member_cannot_report_their_own_post(world, bob):
    with pytest.raises(ServiceError) as info:
        services.report_create(actor=bob, post=world.post, reason="insult")
    assert info.value.code == "invalid"


def test_the_queue_puts_the_most_urgent_case_first(world, alice, kim):
    spam_post = factories.make_post(world.thread, author=world.bob, body="Kauft Zeug")
    services.report_create(actor=alice, post=spam_post, reason="spam")
    services.report_create(actor=alice, post=world.post, reason="threat")
    items = selectors.queue_for_forum(user=world.people["moderator"], forum=world.forum)
    assert [item.post.pk for item in items] == [world.post.pk, spam_post.pk]


def test_reporters_are_told_how_a_case_ended_without_the_moderators_name(world, alice, mo):
    services.report_create(actor=alice, post=world.post, reason="insult")
    services.post_hide(actor=mo, post=world.post, reason="insult")
    note = Notification.objects.get(member=alice)
    text = render(note, language="en")
    assert "Moderation took action" in text and "Insult" in text
    assert "moderator" not in note.params


def test_reporters_learn_the_moderators_name_where_the_forum_shows_it(world, alice, mo):
    world.forum.show_moderator_names = True
    world.forum.save(update_fields=["show_moderator_names"])
    report = services.report_create(actor=alice, post=world.post, reason="insult")
    services.case_dismiss(actor=mo, case=report.case, reason="no_violation")
    text = render(Notification.objects.get(member=alice), language="en")
    assert "no action was needed" in text and "Mo" in text


def test_a_case_claimed_by_another_moderator_is_refused_as_being_handled(world, alice, mo):
    case = services.report_create(actor=alice, post=world.post, reason="insult").case
    services.case_claim(actor=world.hank, case=case)
    with pytest.raises(ServiceError) as info:
        services.case_claim(actor=mo, case=case)
    assert info.value.code == "conflict"
    assert "Hank bearbeitet diesen Fall gerade" in info.value.message


def test_a_claim_lapses_after_ten_minutes(world, alice, mo):
    case = services.report_create(actor=alice, post=world.post, reason="insult").case
    services.case_claim(actor=world.hank, case=case)
    Case.objects.filter(pk=case.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.case_claim(actor=mo, case=case).claimed_by == mo


def test_two_moderators_acting_on_one_case_one_wins_the_other_is_told(world, alice, mo):
    case = services.report_create(actor=alice, post=world.post, reason="insult").case
    services.post_hide(actor=mo, post=world.post, reason="insult")
    with pytest.raises(ServiceError) as info:
        services.case_dismiss(actor=world.hank, case=case)
    assert info.value.code == "conflict"
    assert "schon jemand anderes aus der Moderation gekümmert" in info.value.message
    with pytest.raises(ServiceError) as again:
        services.post_hide(actor=world.hank, post=world.post, reason="spam")
    assert again.value.code == "conflict"
    assert ModerationAction.objects.filter(action="post_hidden").count() == 1


def test_a_muted_members_post_is_refused_with_the_end_of_the_mute(world):
    una = world.people["muted member"]
    # Half past, so both languages show the minutes (English drops ":00" on the full hour).
    until = (timezone.now() + timedelta(hours=1)).replace(minute=30, second=0, microsecond=0)
    services.member_unmute(actor=world.people["moderator"], forum=world.forum, member=una)
    services.member_mute(
        actor=world.people["moderator"], forum=world.forum, member=una, until=until, reason="insult"
    )
    berlin = timezone.localtime(until, ZoneInfo("Europe/Berlin"))
    una.language = "de"
    with pytest.raises(ServiceError) as info:
        factories.make_post(world.thread, author=una, body="Noch was")
    assert info.value.code == "muted"
    assert berlin.strftime("%H:%M") in info.value.message  # German format, Berlin time
    assert f"{berlin.day}. " in info.value.message
    una.language = "en"
    with pytest.raises(ServiceError) as english:
        factories.make_post(world.thread, author=una, body="Noch was")
    assert f"{berlin.hour % 12 or 12}:{berlin.minute:02d}" in english.value.message
    assert english.value.details["until"] == until.isoformat()


def test_after_the_end_of_the_mute_the_member_can_post_again(world):
    una = world.people["muted member"]
    from moderation.models import Mute

    Mute.objects.filter(member=una).update(until=timezone.now() - timedelta(seconds=1))
    post = factories.make_post(world.thread, author=una, body="Wieder da")
    assert post.state == Post.State.PUBLISHED


def test_a_removed_member_can_no_longer_post_but_still_reads_a_members_forum(world, bob, mo):
    services.member_remove_from_forum(actor=mo, forum=world.forum, member=bob, reason="spam")
    with pytest.raises(ServiceError) as info:
        factories.make_post(world.thread, author=bob, body="Hallo?")
    assert info.value.code == "forbidden"
    from forums.permissions import can_view_forum

    assert can_view_forum(bob, world.forum)


def test_an_appeal_cannot_be_decided_by_the_moderator_who_hid_the_post(world, bob):
    post = w.hidden_post_of(world, bob)
    appeal = services.appeal_create(actor=bob, post=post, text="Das war sachlich")
    with pytest.raises(ServiceError) as info:
        services.appeal_decide(actor=world.hank, appeal=appeal, uphold=True, reason="corrected")
    assert info.value.code == "forbidden"
    assert "muss jemand anderes aus der Moderation" in info.value.message


def test_a_second_appeal_is_refused(world, bob, mo):
    post = w.hidden_post_of(world, bob)
    appeal = services.appeal_create(actor=bob, post=post, text="Bitte")
    services.appeal_decide(actor=mo, appeal=appeal, uphold=False, reason="insult")
    with pytest.raises(ServiceError) as info:
        services.appeal_create(actor=bob, post=post, text="Noch einmal")
    assert info.value.code == "invalid"


def test_an_upheld_appeal_restores_the_post_and_tells_the_author(world, bob, mo):
    post = w.hidden_post_of(world, bob)
    appeal = services.appeal_create(actor=bob, post=post, text="Bitte")
    services.appeal_decide(actor=mo, appeal=appeal, uphold=True, reason="corrected")
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    assert "upheld" in render(Notification.objects.get(member=bob), language="en")
    kinds = set(ModerationAction.objects.values_list("action", flat=True))
    assert {"post_restored", "appeal_upheld"} <= kinds


def test_a_hidden_posts_text_is_gone_from_page_data_replay_and_stored_events(world, alice, bob, mo):
    post = factories.make_post(world.thread, author=bob, body=SECRET)
    reply = factories.make_post(world.thread, author=alice, body="Antwort", reply_to_id=post.pk)
    services.post_hide(actor=mo, post=post, reason="insult", text="Bitte sachlich")

    page = forum_selectors.annotate_posts_for_viewer(
        list(forum_selectors.thread_posts(user=alice, thread=world.thread, is_moderator=False)),
        user=alice,
        is_moderator=False,
        can_participate=True,
    )
    assert all(SECRET not in p.body_html and SECRET not in p.body for p in page)
    # The hidden post keeps its place (a placeholder with the reason category), textless.
    assert post.pk in [p.pk for p in page] and reply.pk in [p.pk for p in page]

    replay = forum_selectors.events_after(thread=world.thread, after=0, user=alice)
    assert SECRET not in str(replay)
    hidden = [f for f in replay if f["type"] == "post.hidden"]
    assert hidden and hidden[0]["post"]["body_html"] == ""

    assert SECRET not in str(list(ThreadEvent.objects.values_list("payload", flat=True)))

    own = forum_selectors.events_after(thread=world.thread, after=0, user=bob)
    assert SECRET in str(own)  # the author still sees their own text (with the reason)
    notes = selectors.moderation_notes(user=alice, posts=[post])
    assert notes[post.pk]["reason"] == "insult" and notes[post.pk]["text"] == ""
    assert selectors.moderation_notes(user=bob, posts=[post])[post.pk]["text"] == "Bitte sachlich"


def test_releasing_a_held_post_records_its_created_event_with_the_next_seq(world, sam):
    gus = factories.make_guest(display_name="Gus")
    from forums import services as forum_services

    forum_services.forum_grant(actor=sam, forum=world.forum, member=gus, right="participate")
    post = factories.make_post(world.thread, author=gus, body="Bitte freigeben")
    assert selectors.queue_item(user=sam, kind="post", pk=post.pk).kind == "held"
    before = world.thread.last_seq
    services.post_approve(actor=world.people["moderator"], post=post)
    post.refresh_from_db()
    event = ThreadEvent.objects.get(post=post, type="post.created")
    assert post.seq == event.seq == before + 1
    assert selectors.queue_item(user=sam, kind="post", pk=post.pk) is None


def test_every_action_writes_a_log_entry_and_the_public_log_hides_names_and_texts(world, alice, mo):
    services.thread_lock(actor=mo, thread=world.thread, reason="heated", text="Pause")
    services.thread_pin(actor=mo, thread=world.thread, reason="important")
    entries = selectors.public_log(user=alice, forum=world.forum)
    assert [e.action for e in entries[:2]] == ["thread_pinned", "thread_locked"]
    assert all(e.moderator is None for e in entries)
    world.forum.show_moderator_names = True
    assert selectors.public_log(user=alice, forum=world.forum)[0].moderator == "Mo"


def test_the_demo_seeds_cases_a_held_post_and_log_entries_once(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    counts = (Case.objects.count(), ModerationAction.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Case.objects.count(), ModerationAction.objects.count()) == counts
    kinds = set(Case.objects.filter(status="open").values_list("kind", flat=True))
    assert kinds == {"reports", "held"}
    assert counts[1] >= 2


def test_the_participation_guard_reads_ban_and_mute_in_one_query(
    world, bob, mo, django_assert_num_queries
):
    from moderation.models import ForumBan, Mute
    from moderation.permissions import standing

    una = world.people["muted member"]
    mute_end = Mute.objects.filter(member=una, forum=world.forum).latest("until").until
    with django_assert_num_queries(1):
        assert standing(una, world.forum) == (False, mute_end)
    later = mute_end + timedelta(days=2)
    Mute.objects.create(forum=world.forum, member=una, until=later, reason="spam", created_by=mo)
    assert standing(una, world.forum) == (False, later)  # the mute that ends last
    Mute.objects.filter(member=una).update(lifted_at=timezone.now())
    assert standing(una, world.forum) == (False, None)
    assert standing(bob, world.forum) == (False, None)
    services.member_remove_from_forum(actor=mo, forum=world.forum, member=bob, reason="spam")
    assert standing(bob, world.forum) == (True, None)
    assert standing(bob, world.other_forum) == (False, None)
    ForumBan.objects.filter(member=bob).update(lifted_at=timezone.now())
    assert standing(bob, world.forum) == (False, None)
