"""The one catalogue of a thread's live events.

Every frame a thread's socket receives is built here, from the database rows, so the live
path (``forums.services`` -> ``deliberation.live``) and the replay path
(``forums.selectors.events_after``) produce the same shapes. A builder returns the event
without ``seq`` and ``thread``; the services' ``_record_event`` adds both. Everything
returned is plain JSON (str, int, bool, None, list, dict).

Shapes (every post-related event carries ``post`` with at least ``id``, so a client merges by id)::

    post.created / post.edited / post.deleted / post.hidden / post.restored
        {"type", "seq", "thread", "post": <post_payload>}
    reaction.changed   {"type", "seq", "thread", "post": {"id", "reactions"}}
    thread.locked      {"type", "seq", "thread", "locked": bool}
    thread.pinned      {"type", "seq", "thread", "pinned": bool}
"""

from __future__ import annotations

import html
from typing import Any

from django.utils.html import strip_tags
from django.utils.text import Truncator

from forums.models import Post, Thread

POST_CREATED = "post.created"
POST_EDITED = "post.edited"
POST_DELETED = "post.deleted"
POST_HIDDEN = "post.hidden"
POST_RESTORED = "post.restored"
REACTION_CHANGED = "reaction.changed"
THREAD_LOCKED = "thread.locked"
THREAD_PINNED = "thread.pinned"

#: Event types whose ``post`` is a full :func:`post_payload` (rebuilt from the row on replay).
FULL_POST_TYPES = frozenset({POST_CREATED, POST_EDITED, POST_DELETED, POST_HIDDEN, POST_RESTORED})
TYPES = FULL_POST_TYPES | {REACTION_CHANGED, THREAD_LOCKED, THREAD_PINNED}

EXCERPT_CHARS = 140


def author_payload(member: Any) -> dict[str, Any] | None:
    """Who wrote it, as everyone may see it; ``None`` once the account is deleted."""
    if member is None:
        return None
    return {
        "id": member.pk,
        "display_name": member.display_name,
        "badge": str(member.badge),
        "affiliation": member.affiliation,
        # The badge's own words ("Initiative: Kotti & Co"), the same in every language; '' for
        # the affiliation's plain name, which each reader's client shows in its language.
        "badge_label": member.badge_label,
    }


def is_readable(post: Post) -> bool:
    """Whether the post's text may be shown to everyone who can see the thread."""
    return post.state == Post.State.PUBLISHED and post.deleted_at is None


def plain_excerpt(post: Post, chars: int = EXCERPT_CHARS) -> str:
    """The start of a post's text as plain text (not HTML), whatever its state: the one place
    that turns stored HTML into an excerpt (events, pages and the moderation queue)."""
    text = html.unescape(strip_tags(post.body_html))
    return Truncator(" ".join(text.split())).chars(chars)


def excerpt(post: Post) -> str:
    """Plain text (not HTML: clients insert it as text) of the start of a readable post."""
    if not is_readable(post):
        return ""
    return plain_excerpt(post)


def post_payload(post: Post, *, reveal: bool = False) -> dict[str, Any]:
    """The post as a client shows it.

    ``language`` is the author's interface language when they wrote it ('' for older posts): a
    page in another language marks the text with ``lang``.

    The text of a deleted post is never shown. The text of a held, hidden or rejected post is
    shown only with ``reveal`` (its author and moderators); everyone else gets an empty body.
    """
    show_body = post.deleted_at is None and (post.state == Post.State.PUBLISHED or reveal)
    reply_to = None
    if post.reply_to_id is not None and post.reply_to is not None:
        parent = post.reply_to
        reply_to = {
            "id": parent.pk,
            "author": parent.author.display_name if parent.author is not None else None,
            "excerpt": excerpt(parent),
            "deleted": parent.deleted_at is not None,
            "language": parent.language,
        }
    return {
        "id": post.pk,
        "seq": post.seq,
        "author": author_payload(post.author),
        "body_html": post.body_html if show_body else "",
        "reply_to": reply_to,
        "created_at": post.created_at.isoformat(),
        "edited": post.edited_at is not None,
        "deleted": post.deleted_at is not None,
        "state": str(post.state),
        "reactions": post.reaction_count,
        "language": post.language,
    }


def _post_event(type_: str, post: Post, *, reveal: bool = False) -> dict[str, Any]:
    return {"type": type_, "post": post_payload(post, reveal=reveal)}


def post_created(post: Post, *, reveal: bool = False) -> dict[str, Any]:
    return _post_event(POST_CREATED, post, reveal=reveal)


def post_edited(post: Post, *, reveal: bool = False) -> dict[str, Any]:
    return _post_event(POST_EDITED, post, reveal=reveal)


def post_deleted(post: Post) -> dict[str, Any]:
    return _post_event(POST_DELETED, post)


def post_hidden(post: Post, *, reveal: bool = False) -> dict[str, Any]:
    """For the moderation app: members get it with an empty body, moderators with ``reveal``."""
    return _post_event(POST_HIDDEN, post, reveal=reveal)


def post_restored(post: Post) -> dict[str, Any]:
    return _post_event(POST_RESTORED, post)


def reaction_changed(post: Post) -> dict[str, Any]:
    return {"type": REACTION_CHANGED, "post": {"id": post.pk, "reactions": post.reaction_count}}


def thread_locked(thread: Thread) -> dict[str, Any]:
    return {"type": THREAD_LOCKED, "locked": thread.locked}


def thread_pinned(thread: Thread) -> dict[str, Any]:
    return {"type": THREAD_PINNED, "pinned": thread.pinned}


def replay(
    *, type_: str, seq: int, thread_id: int, stored: dict[str, Any], post: Post | None, reveal: bool
) -> dict[str, Any]:
    """One logged event as a client replaying it receives it.

    Post events are rebuilt from the post's current row, so a replay never shows text that has
    since been edited away, deleted, hidden, or whose author's account was deleted (the live
    frames carried what was true then; the replay carries what is true now, in the same shape).
    """
    if post is not None and type_ in FULL_POST_TYPES:
        body = _post_event(type_, post, reveal=reveal)
    elif post is not None and type_ == REACTION_CHANGED:
        body = reaction_changed(post)
    else:
        body = {k: v for k, v in stored.items() if k not in {"seq", "thread"}}
        body["type"] = type_
    return {"type": type_, "seq": seq, "thread": thread_id, **body}
