"""The speaker queue's services: who may ask and run it, the call order (points of order,
interposed questions, the quota's alternation, first-time priority), a closed list, the timer,
the counts beside each name, and the event every change sends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consultations.conferences import services as conference_services
from consultations.conferences.models import ConferenceEvent, ConferenceRole
from consultations.conferences.queue import selectors, services
from consultations.conferences.queue.models import SpeakerList, SpeakRequest, SubList
from deliberation import clock as deliberation_clock
from forums import services as forum_services
from forums.errors import ServiceError
from tests import factories
from tests.clock import FakeClock
from tests.conferences.queue_world import *  # noqa: F403 (fixtures)
from tests.conferences.queue_world import lanes, names, register

pytestmark = pytest.mark.django_db

Kind = SpeakRequest.Kind
State = SpeakRequest.State
QUOTA, OPEN = "default-0", "default-1"


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(deliberation_clock, "clock", fake)
    return fake


def ask(conference, item, member, kind=Kind.CONTRIBUTION, sublist=OPEN):
    return services.speak_request_create(
        actor=member, conference=conference, item=item, kind=kind, sublist=sublist
    )


def call(conference, item, chair, **kwargs):
    return services.speak_request_call_next(actor=chair, conference=conference, item=item, **kwargs)


def quota_key(item) -> str:
    return lanes(item)[0]


# --- asking ----------------------------------------------------------------------------------


def test_a_registered_member_asks_to_speak_and_everyone_is_told(conference, live_item, speakers):
    entry = ask(conference, live_item, speakers["alice"], sublist=QUOTA)
    assert entry.state == State.WAITING
    assert entry.sublist.name.startswith("Quotierte Liste")
    event = ConferenceEvent.objects.filter(conference=conference).latest("seq")
    assert event.type == "queue.changed"
    assert json.loads(json.dumps(event.payload)) == event.payload
    queue = event.payload["queue"]
    assert [e["name"] for e in queue["entries"]] == ["Alice"]
    assert queue["entries"][0]["member"] == speakers["alice"].pk
    assert queue["entries"][0]["sublist_short"] == "quotiert"
    assert "email" not in json.dumps(event.payload)


def test_the_default_sublists_are_stored_once_on_first_use(conference, live_item, speakers):
    ask(conference, live_item, speakers["alice"], sublist=QUOTA)
    ask(conference, live_item, speakers["bob"], sublist=lanes(live_item)[1])
    assert SubList.objects.filter(conference=conference).count() == 2


def test_an_unregistered_member_may_not_ask(conference, live_item, alice):
    with pytest.raises(ServiceError) as caught:
        ask(conference, live_item, alice)
    assert caught.value.code == "forbidden"
    assert not SpeakRequest.objects.exists()


def test_a_guest_may_never_ask_even_when_registered(conference, live_item, gina, sam):
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="participate")
    register(conference, gina)
    with pytest.raises(ServiceError) as caught:
        ask(conference, live_item, gina)
    assert caught.value.code == "forbidden"
    assert not SpeakRequest.objects.exists()


def test_a_member_waits_once_per_item_with_a_contribution_or_question(
    conference, live_item, speakers
):
    ask(conference, live_item, speakers["alice"])
    with pytest.raises(ServiceError) as caught:
        ask(conference, live_item, speakers["alice"], kind=Kind.QUESTION)
    assert caught.value.code == "conflict"
    assert SpeakRequest.objects.count() == 1


def test_the_database_refuses_a_second_waiting_contribution(conference, live_item, speakers):
    first = ask(conference, live_item, speakers["alice"])
    with pytest.raises(IntegrityError), transaction.atomic():
        SpeakRequest.objects.create(
            item=live_item,
            member=speakers["alice"],
            kind=Kind.QUESTION,
            sublist=first.sublist,
            created_at=timezone.now(),
        )


def test_a_member_may_have_a_point_of_order_beside_a_contribution_but_one_at_a_time(
    conference, live_item, speakers
):
    ask(conference, live_item, speakers["alice"])
    ask(conference, live_item, speakers["alice"], kind=Kind.POINT_OF_ORDER)
    with pytest.raises(ServiceError):
        ask(conference, live_item, speakers["alice"], kind=Kind.POINT_OF_ORDER)
    assert SpeakRequest.objects.count() == 2


def test_an_unknown_sublist_or_kind_is_refused_and_changes_nothing(conference, live_item, speakers):
    for kind, sublist in [
        (Kind.CONTRIBUTION, "default-7"),
        (Kind.CONTRIBUTION, "default-²"),
        (Kind.CONTRIBUTION, "999999"),
        (Kind.CONTRIBUTION, ""),
        ("speech", OPEN),
    ]:
        with pytest.raises(ServiceError) as caught:
            ask(conference, live_item, speakers["alice"], kind=kind, sublist=sublist)
        assert caught.value.code == "invalid"
    assert not SpeakRequest.objects.exists()
    assert not ConferenceEvent.objects.filter(type="queue.changed").exists()


def test_nobody_asks_before_the_live_day(conference, agenda, speakers):
    with pytest.raises(ServiceError) as caught:
        ask(conference, agenda[0], speakers["alice"])
    assert caught.value.code == "closed"


def test_a_member_withdraws_their_own_request_but_not_anothers(conference, live_item, speakers):
    entry = ask(conference, live_item, speakers["alice"])
    with pytest.raises(ServiceError):
        services.speak_request_withdraw(actor=speakers["bob"], entry=entry)
    services.speak_request_withdraw(actor=speakers["alice"], entry=entry)
    entry.refresh_from_db()
    assert entry.state == State.WITHDRAWN
    assert names(live_item) == []
    ask(conference, live_item, speakers["alice"])  # and may ask again
    assert names(live_item) == ["Alice"]


# --- the call order --------------------------------------------------------------------------


def test_the_quota_lists_are_called_alternately_while_both_have_entries(
    conference, live_item, speakers, chair
):
    for who in ("alice", "bob", "mo"):
        ask(conference, live_item, speakers[who], sublist=OPEN)
    ask(conference, live_item, speakers["dana"], sublist=QUOTA)
    ask(conference, live_item, speakers["eve"], sublist=QUOTA)
    assert names(live_item) == ["Dana", "Alice", "Eve", "Bob", "Mo"]
    called = [call(conference, live_item, chair).member.display_name for _ in range(5)]
    assert called == ["Dana", "Alice", "Eve", "Bob", "Mo"]


def test_the_turn_goes_to_the_other_list_after_a_call(conference, live_item, speakers, chair):
    ask(conference, live_item, speakers["alice"], sublist=QUOTA)
    ask(conference, live_item, speakers["bob"], sublist=QUOTA)
    call(conference, live_item, chair)  # Alice, from the quota list
    ask(conference, live_item, speakers["mo"], sublist=OPEN)
    snapshot = selectors.queue_snapshot(live_item)
    assert [e["name"] for e in snapshot["entries"]] == ["Mo", "Bob"]
    assert snapshot["next_sublist"] == lanes(live_item)[1]


def test_a_point_of_order_goes_to_the_front_even_on_a_closed_list(
    conference, live_item, speakers, chair
):
    ask(conference, live_item, speakers["alice"])
    services.speaker_list_set_open(
        actor=chair, conference=conference, item=live_item, is_open=False
    )
    with pytest.raises(ServiceError) as caught:
        ask(conference, live_item, speakers["bob"])
    assert caught.value.code == "closed"
    ask(conference, live_item, speakers["bob"], kind=Kind.POINT_OF_ORDER)
    assert names(live_item) == ["Bob", "Alice"]
    services.speaker_list_set_open(actor=chair, conference=conference, item=live_item, is_open=True)
    ask(conference, live_item, speakers["mo"])
    assert names(live_item) == ["Bob", "Alice", "Mo"]


def test_an_interposed_question_needs_a_speaker_and_is_shown_under_them(
    conference, live_item, speakers, chair
):
    with pytest.raises(ServiceError) as caught:
        ask(conference, live_item, speakers["bob"], kind=Kind.INTERPOSITION)
    assert caught.value.code == "closed"
    ask(conference, live_item, speakers["alice"])
    ask(conference, live_item, speakers["mo"])
    speaking = call(conference, live_item, chair)
    question = ask(conference, live_item, speakers["bob"], kind=Kind.INTERPOSITION)
    assert question.parent_id == speaking.pk
    snapshot = selectors.queue_snapshot(live_item)
    assert [(e["name"], e["parent"]) for e in snapshot["entries"]] == [
        ("Bob", speaking.pk),
        ("Mo", None),
    ]
    with pytest.raises(ServiceError):
        ask(conference, live_item, speakers["alice"], kind=Kind.INTERPOSITION)  # herself


def test_the_speaker_resumes_after_an_interposed_question_with_the_time_added(
    conference, live_item, speakers, chair, fake_clock
):
    ask(conference, live_item, speakers["alice"])
    alice_turn = call(conference, live_item, chair)
    started = alice_turn.started_at
    ask(conference, live_item, speakers["bob"], kind=Kind.INTERPOSITION)
    fake_clock.advance(timedelta(seconds=20))
    bob_turn = call(conference, live_item, chair)
    assert bob_turn.kind == Kind.INTERPOSITION
    snapshot = selectors.queue_snapshot(live_item)
    assert snapshot["current"] == bob_turn.pk
    assert [e["name"] for e in snapshot["speaking"]] == ["Alice", "Bob"]
    fake_clock.advance(timedelta(seconds=30))
    services.speak_request_finish(actor=chair, entry=bob_turn)
    alice_turn.refresh_from_db()
    assert alice_turn.state == State.SPEAKING
    assert alice_turn.started_at == started + timedelta(seconds=30)
    assert selectors.queue_snapshot(live_item)["current"] == alice_turn.pk


def test_waiting_interposed_questions_lapse_when_their_speaker_finishes(
    conference, live_item, speakers, chair
):
    ask(conference, live_item, speakers["alice"])
    turn = call(conference, live_item, chair)
    question = ask(conference, live_item, speakers["bob"], kind=Kind.INTERPOSITION)
    services.speak_request_finish(actor=chair, entry=turn)
    question.refresh_from_db()
    assert question.state == State.LAPSED
    assert selectors.queue_snapshot(live_item)["speaking"] == []


def test_first_time_speakers_go_before_repeat_speakers_when_the_chair_turns_it_on(
    conference, live_item, speakers, chair
):
    ask(conference, live_item, speakers["alice"])
    call(conference, live_item, chair)
    ask(conference, live_item, speakers["alice"])  # again, a repeat speaker now
    ask(conference, live_item, speakers["bob"])
    assert names(live_item) == ["Alice", "Bob"]
    services.speaker_list_set_priority(
        actor=chair, conference=conference, item=live_item, first_time=True
    )
    snapshot = selectors.queue_snapshot(live_item)
    assert [(e["name"], e["first_time"]) for e in snapshot["entries"]] == [
        ("Bob", True),
        ("Alice", False),
    ]
    assert call(conference, live_item, chair).member == speakers["bob"]


def test_the_chair_moves_an_entry_within_its_sublist(conference, live_item, speakers, chair):
    for who in ("alice", "bob", "mo"):
        ask(conference, live_item, speakers[who])
    mo_entry = SpeakRequest.objects.get(member=speakers["mo"])
    services.speak_request_move(actor=chair, entry=mo_entry, direction="up")
    assert names(live_item) == ["Alice", "Mo", "Bob"]
    services.speak_request_move(actor=chair, entry=mo_entry, direction="up")
    assert names(live_item) == ["Mo", "Alice", "Bob"]
    with pytest.raises(ServiceError):
        services.speak_request_move(actor=chair, entry=mo_entry, direction="up")
    with pytest.raises(ServiceError):
        services.speak_request_move(actor=chair, entry=mo_entry, direction="sideways")
    assert names(live_item) == ["Mo", "Alice", "Bob"]


def test_the_chair_removes_a_request_and_adds_a_hall_speaker_by_name(
    conference, live_item, speakers, chair
):
    entry = ask(conference, live_item, speakers["alice"])
    services.speak_request_remove(actor=chair, entry=entry)
    hall = services.speak_request_add_hall(
        actor=chair,
        conference=conference,
        item=live_item,
        name="  Frau   Yilmaz ",
        kind=Kind.CONTRIBUTION,
        sublist=QUOTA,
    )
    assert hall.member is None and hall.name == "Frau Yilmaz"
    snapshot = selectors.queue_snapshot(live_item)
    assert [(e["name"], e["member"]) for e in snapshot["entries"]] == [("Frau Yilmaz", None)]
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ServiceError):
            services.speak_request_add_hall(
                actor=chair,
                conference=conference,
                item=live_item,
                name=bad,
                kind=Kind.CONTRIBUTION,
                sublist=QUOTA,
            )
    assert SpeakRequest.objects.filter(state=State.WAITING).count() == 1


def test_calling_with_nobody_waiting_ends_the_turn_and_then_does_nothing(
    conference, live_item, speakers, chair
):
    ask(conference, live_item, speakers["alice"])
    call(conference, live_item, chair)
    assert call(conference, live_item, chair) is None
    assert SpeakRequest.objects.get().state == State.DONE
    before = ConferenceEvent.objects.count()
    assert call(conference, live_item, chair) is None
    assert ConferenceEvent.objects.count() == before


# --- timer and counts ------------------------------------------------------------------------


def test_the_speaker_gets_the_items_time_or_the_chairs(conference, live_item, speakers, chair):
    ask(conference, live_item, speakers["alice"])
    ask(conference, live_item, speakers["bob"])
    assert call(conference, live_item, chair).seconds == live_item.speaking_seconds
    turn = call(conference, live_item, chair, seconds=60)
    assert turn.seconds == 60
    services.speak_request_set_time(actor=chair, entry=turn, seconds=90)
    speaker = selectors.queue_snapshot(live_item)["speaking"][0]
    assert speaker["seconds"] == 90 and speaker["started_at"]
    for bad in (0, 14, 3601):
        with pytest.raises(ServiceError):
            services.speak_request_set_time(actor=chair, entry=turn, seconds=bad)
    turn.refresh_from_db()
    assert turn.seconds == 90


def test_each_speakers_count_and_total_time_on_the_conference_are_shown(
    conference, agenda, live_item, speakers, chair, fake_clock
):
    ask(conference, live_item, speakers["alice"])
    call(conference, live_item, chair)
    fake_clock.advance(timedelta(seconds=100))
    call(conference, live_item, chair)  # Alice done after 100 s
    conference_services.agenda_set_current(actor=chair, conference=conference, item=agenda[1])
    ask(conference, agenda[1], speakers["alice"])
    ask(conference, agenda[1], speakers["bob"])
    snapshot = selectors.queue_snapshot(agenda[1])
    by_name = {e["name"]: (e["count"], e["seconds_total"]) for e in snapshot["entries"]}
    assert by_name == {"Alice": (1, 100), "Bob": (0, 0)}


# --- who may run the list: the grid ----------------------------------------------------------


@pytest.fixture
def roles(conference, sam, alice, gina, mo, speakers):
    organiser = factories.make_member(email="otto@example.org", display_name="Otto")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=organiser, role=ConferenceRole.Role.ORGANISER
    )
    chair_person = factories.make_member(email="cleo@example.org", display_name="Cleo")
    conference_services.conference_role_grant(
        actor=sam, conference=conference, member=chair_person, role=ConferenceRole.Role.CHAIR
    )
    other_forum = factories.make_forum(actor=sam)
    from moderation import services as moderation_services

    moderation_services.moderator_grant(actor=sam, forum=other_forum, member=mo)
    unregistered = factories.make_member(email="una@example.org", display_name="Una")
    return {
        "member": unregistered,
        "guest": gina,
        "registered member": speakers["bob"],
        "chair": chair_person,
        "organiser": organiser,
        "staff": sam,
        "moderator of another forum": mo,
    }


CHAIR_RIGHTS = {
    "member": False,
    "guest": False,
    "registered member": False,
    "chair": True,
    "organiser": True,
    "staff": True,
    "moderator of another forum": False,
}


def _chair_actions(conference, item, entry):
    return {
        "call next": lambda a: services.speak_request_call_next(
            actor=a, conference=conference, item=item
        ),
        "close": lambda a: services.speaker_list_set_open(
            actor=a, conference=conference, item=item, is_open=False
        ),
        "first-time priority": lambda a: services.speaker_list_set_priority(
            actor=a, conference=conference, item=item, first_time=True
        ),
        "move": lambda a: services.speak_request_move(actor=a, entry=entry, direction="down"),
        "remove": lambda a: services.speak_request_remove(actor=a, entry=entry),
        "add a hall speaker": lambda a: services.speak_request_add_hall(
            actor=a, conference=conference, item=item, name="Herr K.", kind="point_of_order"
        ),
        "add a sub-list": lambda a: services.sublist_create(
            actor=a, conference=conference, item=item, name="Jugend", short="jung"
        ),
    }


@pytest.mark.parametrize("role", list(CHAIR_RIGHTS))
@pytest.mark.parametrize(
    "action",
    [
        "call next",
        "close",
        "first-time priority",
        "move",
        "remove",
        "add a hall speaker",
        "add a sub-list",
    ],
)
def test_only_chairs_organisers_and_staff_run_the_list(
    conference, live_item, speakers, roles, role, action
):
    entry = ask(conference, live_item, speakers["alice"])
    ask(conference, live_item, speakers["dana"])
    before = ConferenceEvent.objects.count()
    act = _chair_actions(conference, live_item, entry)[action]
    # A fresh conference object per actor: the permission cache is per instance.
    conference.refresh_from_db()
    if CHAIR_RIGHTS[role]:
        act(roles[role])
        assert ConferenceEvent.objects.count() == before + 1
    else:
        with pytest.raises(ServiceError) as caught:
            act(roles[role])
        assert caught.value.code == "forbidden"
        assert ConferenceEvent.objects.count() == before
        assert SpeakRequest.objects.filter(state=State.WAITING).count() == 2
        assert SpeakerList.objects.get(item=live_item).is_open


ASK_RIGHTS = {
    "member": False,
    "guest": False,
    "registered member": True,
    "chair": False,  # chairing is no registration: chairs register like everyone to speak
    "organiser": False,
    "staff": False,
    "moderator of another forum": True,  # mo is registered (speakers) and that is what counts
}


@pytest.mark.parametrize("role", list(ASK_RIGHTS))
def test_only_registered_members_ask_to_speak(conference, live_item, speakers, roles, role):
    if ASK_RIGHTS[role]:
        ask(conference, live_item, roles[role])
        assert SpeakRequest.objects.filter(member=roles[role]).exists()
    else:
        with pytest.raises(ServiceError) as caught:
            ask(conference, live_item, roles[role])
        assert caught.value.code == "forbidden"
        assert not SpeakRequest.objects.exists()


# --- sub-lists -------------------------------------------------------------------------------


def test_the_chair_adds_a_third_sublist_for_one_item_and_the_three_take_turns(
    conference, live_item, agenda, speakers, chair
):
    services.sublist_create(
        actor=chair, conference=conference, item=live_item, name="Jugendliste", short="jung"
    )
    keys = lanes(live_item)
    assert len(keys) == 3
    assert lanes(agenda[1]) == ["default-0", "default-1"]  # the other item keeps the defaults
    ask(conference, live_item, speakers["alice"], sublist=keys[1])
    ask(conference, live_item, speakers["bob"], sublist=keys[1])
    ask(conference, live_item, speakers["mo"], sublist=keys[2])
    ask(conference, live_item, speakers["dana"], sublist=keys[0])
    assert names(live_item) == ["Dana", "Alice", "Mo", "Bob"]
    with pytest.raises(ServiceError):
        services.sublist_create(
            actor=chair, conference=conference, item=live_item, name="jugendliste", short="j"
        )
    with pytest.raises(ServiceError):
        services.sublist_create(
            actor=chair, conference=conference, item=live_item, name="x" * 121, short="j"
        )


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_seeds_a_running_queue_once(conference, live_item, speakers, chair):
    from consultations.conferences.queue.demo import HALL_SPEAKER, seed_queue

    assert seed_queue(conference) is True
    snapshot = selectors.queue_snapshot(live_item)
    assert len(snapshot["speaking"]) == 1
    kinds = [e["kind"] for e in snapshot["entries"]]
    assert kinds[0] == "point_of_order" and "interposition" in kinds
    assert HALL_SPEAKER in [e["name"] for e in snapshot["entries"]]
    before = SpeakRequest.objects.count()
    assert seed_queue(conference) is False
    assert SpeakRequest.objects.count() == before
