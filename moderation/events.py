"""The moderation queue's live events (the one catalogue; plain JSON only).

Sent to ``modqueue.<forum_id>`` (the forum's moderators) and ``modqueue.staff`` (staff), through
``deliberation.live.broadcast_on_commit`` with two audiences: the moderator frame carries the
item; the member frame carries only the case id, so a socket that somehow joined as a member
learns nothing about the post. Consumers of these groups admit moderators only.

Shapes::

    queue.changed   {"type", "case", "item": <queue item, moderators only>}
    queue.removed   {"type", "case", "status": "actioned" | "dismissed"}
"""

from __future__ import annotations

from typing import Any

from deliberation.live import group_name
from forums.events import plain_excerpt
from forums.models import Post
from moderation.models import Case

QUEUE_CHANGED = "queue.changed"
QUEUE_REMOVED = "queue.removed"
TYPES = frozenset({QUEUE_CHANGED, QUEUE_REMOVED})

STAFF_GROUP = group_name("modqueue", "staff")
EXCERPT_CHARS = 200


def forum_group(forum_id: int) -> str:
    """``modqueue.<forum_id>``: the live queue of one forum's moderators."""
    return group_name("modqueue", forum_id)


def post_excerpt(post: Post) -> str:
    """Plain text of the post's start, for moderators (held and hidden text included)."""
    if post.deleted_at is not None:
        return ""
    return plain_excerpt(post, EXCERPT_CHARS)


def item_payload(case: Case, *, urgency: int) -> dict[str, Any]:
    """A queue item as the moderation queue shows it (for moderators only)."""
    post = case.post
    thread = post.thread
    holder = case.claim_holder()
    return {
        "case": case.pk,
        "kind": str(case.kind),
        "forum": {"id": case.forum_id, "title": case.forum.title},
        "thread": {"id": thread.pk, "title": thread.title, "members_only": thread.members_only},
        "post": {
            "id": post.pk,
            "state": str(post.state),
            "author": post.author.display_name if post.author is not None else None,
            "excerpt": post_excerpt(post),
        },
        "reports": case.report_count,
        "top_reason": case.top_reason,
        "urgency": urgency,
        "opened_at": case.opened_at.isoformat(),
        "claim": (
            {
                "by": {"id": holder.pk, "display_name": holder.display_name},
                "until": case.claimed_until.isoformat(),
            }
            if holder is not None and case.claimed_until is not None
            else None
        ),
    }


def queue_changed(case: Case, *, urgency: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(member frame, moderator frame)`` of a new or changed queue item."""
    return (
        {"type": QUEUE_CHANGED, "case": case.pk},
        {"type": QUEUE_CHANGED, "case": case.pk, "item": item_payload(case, urgency=urgency)},
    )


def queue_removed(case: Case) -> dict[str, Any]:
    return {"type": QUEUE_REMOVED, "case": case.pk, "status": str(case.status)}
