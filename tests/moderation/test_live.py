"""A hidden post vanishes from every connected client at once (real ASGI stack and hub).

alice (member) and mo (the forum's moderator) watch the thread; bob writes the post mo hides.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from forums import services as forum_services
from moderation import services
from tests.forums.test_consumers import (  # the consumer tests' helpers: one way to connect
    _fresh_hub,  # noqa: F401  (autouse: a fresh hub and layer per test)
    frames_until,
    next_of,
    open_socket,
    session_cookie,
)
from tests.moderation.world import fast_hashing_and_fresh_rate_limits  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = "Streng geheimer beleidigender Satz"


@pytest.fixture
def thread(sam, mo):
    forum = forum_services.forum_create(actor=sam, title="Mieten", slug="mieten-live")
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    return forum_services.thread_create(actor=sam, forum=forum, title="Deckel", body="Erster")


async def test_a_hidden_post_leaves_members_screens_and_moderators_see_it_revealed(
    thread, alice, bob, mo
):
    member_ws, _hello, _ = await open_socket(thread.pk, await session_cookie(alice))
    moderator_ws, _hello, _ = await open_socket(thread.pk, await session_cookie(mo))

    post, _created = await database_sync_to_async(forum_services.post_create)(
        actor=bob, thread=thread, body=SECRET
    )
    assert SECRET in (await next_of(member_ws, "post.created"))["post"]["body_html"]
    await next_of(moderator_ws, "post.created")

    await database_sync_to_async(services.post_hide)(actor=mo, post=post, reason="insult")

    hidden = await next_of(member_ws, "post.hidden")
    assert hidden["post"]["id"] == post.pk
    assert hidden["post"]["body_html"] == ""
    assert hidden["moderation"] == {"reason": "insult"}
    assert SECRET not in json.dumps(hidden)

    revealed = await next_of(moderator_ws, "post.hidden")
    assert revealed["seq"] == hidden["seq"]
    assert SECRET in revealed["post"]["body_html"]

    # Nothing the member receives after the hide carries the text: live frames, nor a resync.
    await database_sync_to_async(forum_services.post_create)(
        actor=bob, thread=thread, body="Danach"
    )
    after_hide = await frames_until(member_ws, "post.created")
    await member_ws.send_json_to({"type": "resync", "after": 0})
    after_hide += await frames_until(member_ws, "synced")
    assert all(SECRET not in json.dumps(frame) for frame in after_hide)
    assert any(f["type"] == "post.hidden" for f in after_hide)

    await member_ws.disconnect()
    await moderator_ws.disconnect()


async def test_a_revoked_moderator_gets_the_members_frames_at_once(thread, alice, bob, mo, sam):
    ws, hello, _ = await open_socket(thread.pk, await session_cookie(mo))
    assert hello["can_moderate"] is True
    post, _created = await database_sync_to_async(forum_services.post_create)(
        actor=bob, thread=thread, body=SECRET
    )
    await next_of(ws, "post.created")

    def revoke_then_hide():
        services.moderator_revoke(actor=sam, forum=thread.forum, member=mo)
        services.post_hide(actor=sam, post=post, reason="insult")

    # mo sends nothing: the revocation alone switches the socket to the members' texts.
    await database_sync_to_async(revoke_then_hide)()
    frames = await frames_until(ws, "post.hidden")
    hidden = frames[-1]
    assert hidden["post"]["id"] == post.pk
    assert hidden["post"]["body_html"] == ""
    assert SECRET not in json.dumps(frames)
    assert all(f["type"] != "access.changed" for f in frames)
    await ws.disconnect()
