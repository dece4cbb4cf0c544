"""Who may do what in moderation (who-may); ``moderation.services`` adds when-may and state.

Rules:

* report a post: an active account that can view the forum and see the published post, not its
  author, not removed from the forum. Muted members may report (a mute limits speaking, not
  asking for help).
* every moderation action, claims and the forum's queue: moderators of the post's forum and staff.
* mute, unmute or remove a member: moderators of the forum act on members and guests; on a
  moderator of the forum or on staff, only staff may (one rule, :func:`can_act_on_member`).
* no one acts on themselves: a case about a moderator's own post (hide, restore, claim, close,
  approve, reject, decide its appeal) is for another moderator (``can_act_on_member`` with
  ``content=True``; fellow moderators' posts are fair game).
* move a thread: moderators of both forums, or staff.
* appoint or revoke moderators: staff only (the forum organisers).
* the staff queue (every forum): staff only.
* the public log: everyone who can view the forum.
* appeal: the author of a hidden or rejected post, once.
* decide an appeal: a moderator of the forum, or staff, who did not hide the post.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from forums.models import Forum, Post, Thread
from forums.permissions import can_moderate, can_see_post, can_view_forum, is_staff
from moderation.models import Appeal, ForumBan, Mute


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_banned(member: Any, forum: Forum) -> bool:
    if not _active(member):
        return False
    return ForumBan.objects.filter(forum=forum, member=member, lifted_at__isnull=True).exists()


def standing(member: Any, forum: Forum) -> tuple[bool, datetime | None]:
    """Whether ``member`` is removed from ``forum``, and the end of a mute in force: one query.

    For the participation guard, which asks both on every post, edit and reaction.
    """
    if not _active(member):
        return False, None
    bans = ForumBan.objects.filter(forum=OuterRef("pk"), member=member, lifted_at__isnull=True)
    mutes = Mute.objects.filter(
        forum=OuterRef("pk"), member=member, lifted_at__isnull=True, until__gt=timezone.now()
    ).order_by("-until")
    row = (
        Forum.objects.filter(pk=forum.pk)
        .annotate(banned=Exists(bans), muted_until=Subquery(mutes.values("until")[:1]))
        .values_list("banned", "muted_until")
        .first()
    )
    return (bool(row[0]), row[1]) if row else (False, None)


def active_mute(member: Any, forum: Forum) -> Mute | None:
    """The mute of ``member`` in ``forum`` that ends last, if one is in force now."""
    if not _active(member):
        return None
    return (
        Mute.objects.filter(
            forum=forum, member=member, lifted_at__isnull=True, until__gt=timezone.now()
        )
        .order_by("-until")
        .first()
    )


def can_report(user: Any, post: Post) -> bool:
    if not _active(user):
        return False
    forum = post.thread.forum
    return (
        can_view_forum(user, forum)
        and post.state == Post.State.PUBLISHED
        and post.deleted_at is None
        and can_see_post(user, post)
        and post.author_id != user.pk
        and not is_banned(user, forum)
    )


def can_moderate_forum(user: Any, forum: Forum) -> bool:
    return can_moderate(user, forum)


def can_act_on_member(actor: Any, forum: Forum, member: Any, *, content: bool = False) -> bool:
    """Whether ``actor`` may act on ``member`` in ``forum``: mute, unmute or remove them, or, with
    ``content=True``, act on a post of theirs (hide, restore, approve, reject, a case about it).

    Nobody acts on themselves: a moderator who wrote the post is a party to the case, so another
    moderator handles it. Moderators keep order among those who take part; a fellow moderator or
    staff is staff's business, so a moderator can neither silence nor remove the people who
    oversee them (their posts, though, any moderator may handle).
    """
    if not can_moderate(actor, forum):
        return False
    if member is not None and getattr(member, "pk", None) == actor.pk:
        return False
    if content:
        return True
    return is_staff(actor) or not can_moderate(member, forum)


def can_act_on_post(actor: Any, post: Post) -> bool:
    """Shorthand of :func:`can_act_on_member` for a post (its author, its forum)."""
    author = post.author if post.author_id is not None else None
    return can_act_on_member(actor, post.thread.forum, author, content=True)


def can_move_thread(user: Any, thread: Thread, to_forum: Forum) -> bool:
    return can_moderate(user, thread.forum) and can_moderate(user, to_forum)


def can_manage_moderators(user: Any, forum: Forum) -> bool:
    return is_staff(user)


def can_view_queue(user: Any, forum: Forum | None = None) -> bool:
    """The queue of ``forum``, or with ``forum=None`` the staff queue of every forum."""
    if forum is None:
        return is_staff(user)
    return can_moderate(user, forum)


def can_view_public_log(user: Any, forum: Forum) -> bool:
    return can_view_forum(user, forum)


def can_appeal(user: Any, post: Post) -> bool:
    return (
        _active(user)
        and post.author_id == user.pk
        and post.state in (Post.State.HIDDEN, Post.State.REJECTED)
        and post.deleted_at is None
        and not Appeal.objects.filter(post=post).exists()
    )


def can_decide_appeal(user: Any, appeal: Appeal) -> bool:
    return _active(user) and can_act_on_post(user, appeal.post) and appeal.hidden_by_id != user.pk
