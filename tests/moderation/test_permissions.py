"""Who may do what in moderation: every role x every action, one assertion per cell.

Rights in the world (tests/moderation/world.py): mo and hank moderate the forum, otto another
forum; gina is a guest with a participate grant; una is muted; sam is staff. Allowed means the
service or selector ran; refused means ServiceError("forbidden") or PermissionDenied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from forums.errors import ServiceError
from forums.models import Post
from moderation import selectors, services
from tests import factories
from tests.moderation import world as w
from tests.moderation.world import fast_hashing_and_fresh_rate_limits  # noqa: F401

ROLES = [
    "anonymous",
    "member",
    "guest",
    "muted member",
    "moderator",
    "moderator elsewhere",
    "committee",
    "staff",
]
EVERYONE_SIGNED_IN = set(ROLES) - {"anonymous"}
MODERATORS = {"moderator", "staff"}
STAFF = {"staff"}


@pytest.fixture
def world(alice, bob, gina, mo, kim, sam) -> w.World:
    return w.build(alice=alice, bob=bob, gina=gina, mo=mo, kim=kim, sam=sam)


def _reported_case(world: w.World) -> Any:
    reporter = factories.make_member(display_name="Rita")
    report = services.report_create(actor=reporter, post=world.post, reason="spam")
    return report.case


def _held_post(world: w.World) -> Post:
    gus = factories.make_guest(display_name="Gus")
    from forums import services as forum_services

    forum_services.forum_grant(actor=world.sam, forum=world.forum, member=gus, right="participate")
    post = factories.make_post(world.thread, author=gus, body="Wartet")
    assert post.state == Post.State.HELD
    return post


def _appeal(world: w.World, actor: Any) -> Any:
    if not actor.is_authenticated:
        post = w.hidden_post_of(world, world.bob)
    else:
        post = w.hidden_post_of(world, actor)
    return services.appeal_create(actor=actor, post=post, text="Bitte noch einmal ansehen")


def _decide(world: w.World, actor: Any) -> Any:
    post = w.hidden_post_of(world, world.bob)
    appeal = services.appeal_create(actor=world.bob, post=post, text="Das war sachlich")
    return services.appeal_decide(actor=actor, appeal=appeal, uphold=False, reason="insult")


ACTIONS: dict[str, tuple[Callable[[w.World, Any], Any], set[str]]] = {
    "report": (
        lambda world, a: services.report_create(actor=a, post=world.post, reason="insult"),
        EVERYONE_SIGNED_IN,
    ),
    "claim": (
        lambda world, a: services.case_claim(actor=a, case=_reported_case(world)),
        MODERATORS,
    ),
    "hide": (
        lambda world, a: services.post_hide(actor=a, post=world.post, reason="insult"),
        MODERATORS,
    ),
    "restore": (
        lambda world, a: services.post_restore(
            actor=a, post=w.hidden_post_of(world, world.bob), reason="corrected"
        ),
        MODERATORS,
    ),
    "approve": (
        lambda world, a: services.post_approve(actor=a, post=_held_post(world)),
        MODERATORS,
    ),
    "reject": (
        lambda world, a: services.post_reject(actor=a, post=_held_post(world), reason="spam"),
        MODERATORS,
    ),
    "lock": (
        lambda world, a: services.thread_lock(actor=a, thread=world.thread, reason="heated"),
        MODERATORS,
    ),
    "pin": (
        lambda world, a: services.thread_pin(actor=a, thread=world.thread, reason="important"),
        MODERATORS,
    ),
    "move": (
        lambda world, a: services.thread_move(
            actor=a, thread=world.thread, to_forum=world.other_forum, reason="wrong_forum"
        ),
        STAFF,
    ),
    "mute": (
        lambda world, a: services.member_mute(
            actor=a,
            forum=world.forum,
            member=world.bob,
            until=timezone.now() + timedelta(hours=1),
            reason="insult",
        ),
        MODERATORS,
    ),
    "remove": (
        lambda world, a: services.member_remove_from_forum(
            actor=a, forum=world.forum, member=world.bob, reason="spam"
        ),
        MODERATORS,
    ),
    "grant moderator": (
        lambda world, a: services.moderator_grant(actor=a, forum=world.forum, member=world.bob),
        STAFF,
    ),
    "view queue": (
        lambda world, a: selectors.queue_for_forum(user=a, forum=world.forum),
        MODERATORS,
    ),
    "view public log": (
        lambda world, a: selectors.public_log(user=a, forum=world.forum),
        EVERYONE_SIGNED_IN,
    ),
    "appeal": (_appeal, EVERYONE_SIGNED_IN),
    "decide appeal": (_decide, MODERATORS),
}


def _allowed(call: Callable[[], Any]) -> bool:
    try:
        call()
    except PermissionDenied:
        return False
    except ServiceError as error:
        if error.code == "forbidden":
            return False
        raise
    return True


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_the_moderation_actions_its_rights_allow(world, role, action):
    call, allowed_roles = ACTIONS[action]
    actor = world.actor(role)
    assert _allowed(lambda: call(world, actor)) is (role in allowed_roles)


def test_a_moderator_of_both_forums_may_move_a_thread_between_them(world, mo, sam):
    services.moderator_grant(actor=sam, forum=world.other_forum, member=mo)
    services.thread_move(
        actor=mo, thread=world.thread, to_forum=world.other_forum, reason="wrong_forum"
    )
    world.thread.refresh_from_db()
    assert world.thread.forum_id == world.other_forum.pk


def test_only_staff_see_the_queue_of_every_forum(world):
    for role in ROLES:
        actor = world.actor(role)
        assert _allowed(lambda actor=actor: selectors.queue_for_staff(user=actor)) is (
            role in STAFF
        )


def test_the_public_log_of_a_public_forum_is_open_to_anonymous_readers(sam):
    from django.contrib.auth.models import AnonymousUser

    forum = factories.make_forum(actor=sam, visibility="public")
    assert selectors.public_log(user=AnonymousUser(), forum=forum) == []


# --- whom a moderator may act on: one rule for mute and remove -----------------------------------

#: Targets in the forum: hank is a second moderator of it, otto moderates another forum only.
TARGETS = ["member", "guest", "committee", "moderator elsewhere", "moderator", "staff"]
OVERSEERS = {"moderator", "staff"}


def _target(world: w.World, role: str) -> Any:
    if role == "moderator":
        return world.hank
    if role == "staff":
        return factories.make_staff(display_name="Stella")
    if role == "member":
        return world.bob
    return world.actor(role)


MEMBER_ACTIONS: dict[str, Callable[[w.World, Any, Any], Any]] = {
    "mute": lambda world, actor, target: services.member_mute(
        actor=actor,
        forum=world.forum,
        member=target,
        until=timezone.now() + timedelta(hours=1),
        reason="insult",
    ),
    "remove": lambda world, actor, target: services.member_remove_from_forum(
        actor=actor, forum=world.forum, member=target, reason="spam"
    ),
}


@pytest.mark.parametrize("action", list(MEMBER_ACTIONS))
@pytest.mark.parametrize("target_role", TARGETS)
@pytest.mark.parametrize("actor_role", ["moderator", "moderator elsewhere", "staff"])
def test_moderators_act_on_members_and_guests_and_only_staff_act_on_moderators_and_staff(
    world, actor_role, target_role, action
):
    actor = world.actor(actor_role)
    target = _target(world, target_role)
    expected = actor_role == "staff" or (actor_role == "moderator" and target_role not in OVERSEERS)
    assert _allowed(lambda: MEMBER_ACTIONS[action](world, actor, target)) is expected


def test_a_moderator_may_not_lift_a_mute_staff_placed_on_a_fellow_moderator(world, mo, sam):
    services.member_mute(
        actor=sam,
        forum=world.forum,
        member=world.hank,
        until=timezone.now() + timedelta(hours=1),
        reason="insult",
    )
    assert not _allowed(
        lambda: services.member_unmute(actor=mo, forum=world.forum, member=world.hank)
    )
    assert services.member_unmute(actor=sam, forum=world.forum, member=world.hank) == 1
