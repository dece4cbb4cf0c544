"""Forum writers the moderation app needs (added for it; forums never imports moderation).

Part of the forums services (same rules: the only writers, broadcast after commit), kept in their
own module so the moderation transitions sit together. Who-may is the caller's job:
``moderation.services`` checks the moderator and writes its log entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.live import thread_access_changed_on_commit
from deliberation.models import Member
from forums import events
from forums.errors import ServiceError
from forums.models import Forum, Post, Thread, ThreadEvent
from forums.permissions import can_moderate, can_set_members_only
from forums.services import _broadcast, _lock_thread, _record_event, _require_actor, _sync

#: Which moderation state a post may move to from which (see post_set_moderation_state).
_TRANSITIONS: dict[str, frozenset[str]] = {
    Post.State.HIDDEN: frozenset({Post.State.PUBLISHED}),
    Post.State.REJECTED: frozenset({Post.State.HELD}),
    Post.State.PUBLISHED: frozenset({Post.State.HELD, Post.State.HIDDEN, Post.State.REJECTED}),
}


def _scrub_stored_text(thread: Thread, post: Post) -> None:
    """Remove ``post``'s text from the thread's stored event payloads (its own events, and the
    reply excerpts of posts answering it), so the outbox holds no hidden text."""
    for row in ThreadEvent.objects.filter(thread=thread, post=post):
        payload = row.payload
        if isinstance(payload.get("post"), dict) and payload["post"].get("body_html"):
            payload["post"]["body_html"] = ""
            row.save(update_fields=["payload"])
    for row in ThreadEvent.objects.filter(thread=thread, payload__post__reply_to__id=post.pk):
        reply_to = row.payload["post"]["reply_to"]
        if reply_to.get("excerpt"):
            reply_to["excerpt"] = ""
            row.save(update_fields=["payload"])


def post_set_moderation_state(
    *,
    post: Post,
    state: str,
    from_states: frozenset[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Post, dict | None]:
    """Move ``post`` to moderation ``state``, record its thread event and broadcast it on commit.

    What each transition means for the thread:

    * published -> hidden: ``post.hidden``; the members' frame has no body, the moderators'
      frame reveals it; the text is scrubbed from every stored payload of the thread's log.
    * hidden -> published: ``post.restored`` (the post keeps its place and seq).
    * held or rejected -> published: the post gets the next seq and its ``post.created`` now.
    * held -> rejected: no event (a held post never had one).

    ``from_states`` narrows the states the post may come from (e.g. only held, for a release).
    ``extra`` (plain JSON, e.g. ``{"moderation": {"reason": "insult"}}``) is merged into the
    live frames (a replay rebuilds frames from the row and does not carry it). Returns the post
    and the member frame (``None`` when nothing was broadcast). Raises
    ``ServiceError("conflict")`` when the post is no longer in a state the transition starts
    from (another moderator was faster), ``"invalid"`` for a post its author deleted.
    """
    if state not in _TRANSITIONS:
        raise ServiceError("invalid", _("Unknown post state."))
    extra = extra or {}
    with transaction.atomic():
        locked = _lock_thread(post.thread)
        current = Post.objects.select_related("author", "reply_to__author").get(pk=post.pk)
        if current.deleted_at is not None:
            raise ServiceError("invalid", _("This post has been deleted by its author."))
        sources = _TRANSITIONS[state] if from_states is None else _TRANSITIONS[state] & from_states
        if current.state not in sources:
            raise ServiceError(
                "conflict", _("This post has already been handled by another moderator.")
            )
        current.state = state
        event: dict | None = None
        moderator_event: dict | None = None
        if state == Post.State.HIDDEN:
            current.save(update_fields=["state"])
            _scrub_stored_text(locked, current)
            event = _record_event(locked, {**events.post_hidden(current), **extra}, post=current)
            moderator_event = {
                **events.post_hidden(current, reveal=True),
                **extra,
                "seq": event["seq"],
                "thread": locked.pk,
            }
            locked.post_count = max(0, locked.post_count - 1)
            Thread.objects.filter(pk=locked.pk, post_count__gt=0).update(
                post_count=F("post_count") - 1
            )
        elif state == Post.State.PUBLISHED and current.seq:
            current.save(update_fields=["state"])
            event = _record_event(locked, {**events.post_restored(current), **extra}, post=current)
            locked.post_count += 1
            Thread.objects.filter(pk=locked.pk).update(post_count=F("post_count") + 1)
        elif state == Post.State.PUBLISHED:
            # Released now: it joins the thread's sequence at the end, like a new post.
            now = timezone.now()
            current.seq = locked.last_seq + 1
            current.save(update_fields=["state", "seq"])
            event = _record_event(locked, {**events.post_created(current), **extra}, post=current)
            locked.post_count += 1
            locked.last_activity_at = now
            Thread.objects.filter(pk=locked.pk).update(
                post_count=F("post_count") + 1, last_activity_at=now
            )
        else:  # held -> rejected
            current.save(update_fields=["state"])
        if event is not None:
            _broadcast(locked, event, moderator_event=moderator_event)
    _sync(post.thread, locked)
    post.state = current.state
    post.seq = current.seq
    return current, event


def thread_move(*, actor: Member, thread: Thread, to_forum: Forum) -> Thread:
    """Move ``thread`` into ``to_forum`` (moderators of both forums, or staff).

    The thread keeps its sequence. Every open socket of the thread re-authorises at once
    (``access.changed`` on the thread's group): a reader who may not see the new forum is closed
    before any later post reaches them.
    """
    _require_actor(actor)
    if not (can_moderate(actor, thread.forum) and can_moderate(actor, to_forum)):
        raise ServiceError(
            "forbidden", _("Only moderators of both forums may move a thread between them.")
        )
    if to_forum.pk == thread.forum_id:
        raise ServiceError("invalid", _("The thread is already in this forum."))
    with transaction.atomic():
        row = _lock_thread(thread)
        Thread.objects.filter(pk=row.pk).update(forum=to_forum)
        thread_access_changed_on_commit(row.pk)
    thread.forum = to_forum
    return thread


def thread_set_members_only(*, actor: Member, thread: Thread, members_only: bool) -> Thread:
    """Mark ``thread`` members-only, or open it to the forum's guests again (the forum's
    moderators who are members of the party, and staff; ``can_set_members_only``).

    Marking it closes the guests' open sockets of the thread at once: every socket of the
    thread re-authorises after commit (``access.changed``), and a guest's check now fails.
    Returns the thread; nothing happens when the mark is already as asked.
    """
    _require_actor(actor)
    if not can_set_members_only(actor, thread.forum):
        raise ServiceError(
            "forbidden", _("Only the forum's moderators may decide who sees a thread.")
        )
    with transaction.atomic():
        row = _lock_thread(thread)
        if row.members_only != members_only:
            row.members_only = members_only
            Thread.objects.filter(pk=row.pk).update(members_only=members_only)
            thread_access_changed_on_commit(row.pk)
    thread.members_only = members_only
    return thread
