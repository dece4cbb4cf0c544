"""Replaying a thread's event log to a client that missed events (reconnect or a seq gap).

The rows come from the one outbox replay of every stream (:mod:`deliberation.replay`); what is
the thread's own is the scrubbing: a post event carries the post as it is now, for the reader.
``forums.selectors.events_after`` is the public name; it lives here so the replay sits next to
nothing but the catalogue it shares with the live path (``forums.events``).
"""

from __future__ import annotations

from typing import Any

from deliberation.replay import REPLAY_LIMIT, rows_after
from forums import events
from forums.models import Thread, ThreadEvent
from forums.permissions import can_moderate, checker_for

__all__ = ["REPLAY_LIMIT", "events_after"]


def events_after(
    *,
    thread: Thread,
    after: int,
    limit: int = REPLAY_LIMIT,
    user: Any,
    moderator: bool | None = None,
) -> list[dict]:
    """The thread's events with ``seq > after``, oldest first, at most ``limit`` of them.

    Frames have the live frames' shape. Post events carry the post as it is now, for this
    ``user``: text that was since deleted or hidden is gone, held/hidden text is shown only to
    its author and the forum's moderators. Precondition: ``user`` may view the thread (fetch it
    with ``access_thread``). A client that receives ``limit`` frames asks again from the last seq.
    """
    rows = rows_after(
        ThreadEvent,
        stream_field="thread",
        stream_pk=thread.pk,
        after=after,
        limit=limit,
        select_related=("post__author", "post__reply_to__author"),
    )
    if moderator is None:
        moderator = can_moderate(user, thread.forum, checker=checker_for(user))
    user_id = user.pk if user is not None and user.is_authenticated else None
    frames = []
    for row in rows:
        post = row.post
        reveal = post is not None and (moderator or post.author_id == user_id)
        frames.append(
            events.replay(
                type_=row.type,
                seq=row.seq,
                thread_id=thread.pk,
                stored=row.payload,
                post=post,
                reveal=reveal,
            )
        )
    return frames
