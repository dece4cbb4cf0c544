"""A forum with people in every role, for the moderation tests (built through the services).

alice is a member, bob the author whose post gets reported, gina a guest with a participate grant,
una a member muted in the forum, mo the forum's moderator, otto moderator of another forum, kim on
the programme committee, sam staff; hank is a second moderator who hides posts, so that the
moderator deciding an appeal is somebody else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from forums import services as forum_services
from forums.models import Forum, Post, Thread
from moderation import services
from tests import factories


@dataclass
class World:
    forum: Forum
    other_forum: Forum
    thread: Thread
    post: Post  # bob's published post
    people: dict[str, Any] = field(default_factory=dict)
    bob: Any = None
    hank: Any = None
    sam: Any = None
    muted_post: Post | None = None

    def actor(self, role: str) -> Any:
        return AnonymousUser() if role == "anonymous" else self.people[role]


def build(*, alice, bob, gina, mo, kim, sam) -> World:
    forum = factories.make_forum(actor=sam, title="Mieten", slug="mieten-welt")
    other = factories.make_forum(actor=sam, title="Gesundheit", slug="gesundheit-welt")
    hank = factories.make_member(display_name="Hank")
    otto = factories.make_member(display_name="Otto")
    una = factories.make_member(display_name="Una")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    services.moderator_grant(actor=sam, forum=forum, member=hank)
    services.moderator_grant(actor=sam, forum=other, member=otto)
    forum_services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    thread = factories.make_thread(forum, author=alice, title="Mietendeckel")
    post = factories.make_post(thread, author=bob, body="Bobs Beitrag")
    muted_post = factories.make_post(thread, author=una, body="Unas Beitrag")
    services.member_mute(
        actor=mo,
        forum=forum,
        member=una,
        until=timezone.now() + timedelta(hours=2),
        reason="insult",
    )
    people = {
        "member": alice,
        "guest": gina,
        "muted member": una,
        "moderator": mo,
        "moderator elsewhere": otto,
        "committee": kim,
        "staff": sam,
    }
    return World(
        forum=forum,
        other_forum=other,
        thread=thread,
        post=post,
        people=people,
        bob=bob,
        hank=hank,
        sam=sam,
        muted_post=muted_post,
    )


def hidden_post_of(world: World, author: Any, body: str = "Versteckt") -> Post:
    """A post by ``author`` in the world's thread, published (released if held), then hidden by
    hank."""
    if author.pk == world.people["muted member"].pk:
        post = world.muted_post
    else:
        post = factories.make_post(world.thread, author=author, body=body)
    if post.state == Post.State.HELD:
        post = services.post_approve(actor=world.hank, post=post)
    return services.post_hide(actor=world.hank, post=post, reason="insult", text="Bitte sachlich")


@pytest.fixture(autouse=True)
def fast_hashing_and_fresh_rate_limits(settings):
    """Worlds create a dozen accounts: a fast hasher keeps them cheap (no login is tested here);
    the rate-limit counters live in the cache, which outlives a test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()
