"""Moderation of threads and members, and the appointment of moderators (re-exported by
``moderation.services``). Each action is logged in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from guardian.shortcuts import get_perms

from deliberation.live import access_changed_on_commit
from forums import services as forum_services
from forums import services_moderation
from forums.errors import ServiceError
from forums.models import Forum, Thread
from forums.permissions import RIGHTS
from moderation import permissions
from moderation.logbook import (
    clean_reason,
    clean_text,
    log,
    require_actor,
    require_moderator,
    thread_label,
)
from moderation.models import Case, ForumBan, ModerationAction, Mute

Kind = ModerationAction.Kind
BERLIN = ZoneInfo("Europe/Berlin")
MAX_MUTE_DAYS = 365


# --- the participation guard (registered in apps.ready) -----------------------------------------


def mute_end_text(until: datetime, language: str) -> str:
    """The end of a mute as the member reads it: their language, Berlin time."""
    with translation.override(language):
        return date_format(timezone.localtime(until, BERLIN), "DATETIME_FORMAT")


def participation_guard(actor: Any, forum: Forum) -> None:
    """Refuses posts, edits and reactions of members removed from or muted in ``forum``."""
    banned, muted_until = permissions.standing(actor, forum)
    if banned:
        raise ServiceError("forbidden", _("You have been removed from this forum by moderation."))
    if muted_until is not None:
        language = getattr(actor, "language", None) or translation.get_language()
        with translation.override(language):
            message = _(
                "You are muted in this forum until %(end)s (Berlin time). Until then you can "
                "read, but not post, edit or react."
            ) % {"end": mute_end_text(muted_until, language)}
        raise ServiceError("muted", message, details={"until": muted_until.isoformat()})


# --- threads ------------------------------------------------------------------------------------


def _thread_flag(
    *, actor: Any, thread: Thread, field: str, value: bool, action: str, reason: str, text: str
) -> Thread:
    require_moderator(actor, thread.forum)
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        before = Thread.objects.select_for_update().get(pk=thread.pk)
        if getattr(before, field) == value:
            return thread  # nothing changes, nothing to log
        if field == "locked":
            forum_services.thread_set_locked(actor=actor, thread=thread, locked=value)
        elif field == "members_only":
            services_moderation.thread_set_members_only(
                actor=actor, thread=thread, members_only=value
            )
        else:
            forum_services.thread_set_pinned(actor=actor, thread=thread, pinned=value)
        log(
            actor=actor,
            action=action,
            thread=thread,
            label=thread_label(thread),
            reason=reason,
            text=text,
        )
    return thread


def thread_lock(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="locked",
        value=True,
        action=Kind.THREAD_LOCKED,
        reason=reason,
        text=text,
    )


def thread_unlock(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="locked",
        value=False,
        action=Kind.THREAD_UNLOCKED,
        reason=reason,
        text=text,
    )


def thread_pin(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="pinned",
        value=True,
        action=Kind.THREAD_PINNED,
        reason=reason,
        text=text,
    )


def thread_unpin(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="pinned",
        value=False,
        action=Kind.THREAD_UNPINNED,
        reason=reason,
        text=text,
    )


def thread_make_members_only(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    """Hide ``thread`` from the forum's guests (moderators who are members, staff); a guest's
    open socket of it closes at once."""
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="members_only",
        value=True,
        action=Kind.THREAD_MEMBERS_ONLY,
        reason=reason,
        text=text,
    )


def thread_open_to_guests(*, actor: Any, thread: Thread, reason: str, text: str = "") -> Thread:
    """Let the forum's guests see ``thread`` again (lifts the members-only mark)."""
    return _thread_flag(
        actor=actor,
        thread=thread,
        field="members_only",
        value=False,
        action=Kind.THREAD_OPENED_TO_GUESTS,
        reason=reason,
        text=text,
    )


def thread_move(
    *, actor: Any, thread: Thread, to_forum: Forum, reason: str, text: str = ""
) -> Thread:
    """Move a thread into another forum (moderators of both, or staff); its cases move along."""
    require_actor(actor)
    if not permissions.can_move_thread(actor, thread, to_forum):
        raise ServiceError(
            "forbidden", _("Only moderators of both forums may move a thread between them.")
        )
    reason = clean_reason(reason)
    text = clean_text(text)
    from_forum = thread.forum
    with transaction.atomic():
        services_moderation.thread_move(actor=actor, thread=thread, to_forum=to_forum)
        Case.objects.filter(post__thread=thread).update(forum=to_forum)
        log(
            actor=actor,
            action=Kind.THREAD_MOVED,
            forum=from_forum,
            thread=thread,
            label=thread_label(thread),
            reason=reason,
            text=text,
            details={"from": from_forum.pk, "to": to_forum.pk},
        )
    return thread


# --- members ------------------------------------------------------------------------------------


def require_may_act_on(actor: Any, forum: Forum, member: Any) -> None:
    """Refuses muting or removing a moderator of ``forum`` or staff unless ``actor`` is staff."""
    if not permissions.can_act_on_member(actor, forum, member):
        raise ServiceError(
            "forbidden", _("Only staff may mute or remove a moderator or a member of staff.")
        )


def member_mute(
    *, actor: Any, forum: Forum, member: Any, until: datetime, reason: str, text: str = ""
) -> Mute:
    """Mute ``member`` in ``forum`` until ``until`` (in the future, at most a year ahead)."""
    require_moderator(actor, forum)
    reason = clean_reason(reason)
    text = clean_text(text)
    now = timezone.now()
    if not isinstance(until, datetime) or timezone.is_naive(until) or until <= now:
        raise ServiceError("invalid", _("A mute must end in the future."))
    if (until - now).days > MAX_MUTE_DAYS:
        raise ServiceError("invalid", _("A mute may last at most a year."))
    if member.pk == actor.pk:
        raise ServiceError("invalid", _("You cannot mute yourself."))
    require_may_act_on(actor, forum, member)
    with transaction.atomic():
        mute = Mute.objects.create(
            forum=forum, member=member, until=until, reason=reason, text=text, created_by=actor
        )
        log(
            actor=actor,
            action=Kind.MEMBER_MUTED,
            forum=forum,
            member=member,
            label=member.display_name,
            reason=reason,
            text=text,
            details={"until": until.isoformat()},
        )
    return mute


def member_unmute(
    *, actor: Any, forum: Forum, member: Any, reason: str = "", text: str = ""
) -> int:
    """Lift every mute of ``member`` in ``forum`` now; returns how many were in force."""
    require_moderator(actor, forum)
    require_may_act_on(actor, forum, member)
    reason = clean_reason(reason) if reason else ""
    text = clean_text(text)
    now = timezone.now()
    with transaction.atomic():
        lifted = Mute.objects.filter(
            forum=forum, member=member, lifted_at__isnull=True, until__gt=now
        ).update(lifted_at=now)
        if not lifted:
            raise ServiceError("invalid", _("This member is not muted in this forum."))
        log(
            actor=actor,
            action=Kind.MEMBER_UNMUTED,
            forum=forum,
            member=member,
            label=member.display_name,
            reason=reason,
            text=text,
        )
    return lifted


def member_remove_from_forum(
    *, actor: Any, forum: Forum, member: Any, reason: str, text: str = ""
) -> ForumBan:
    """Remove ``member`` from ``forum``: revoke their grants there and bar them from taking part.

    A removed member may no longer post, edit or react there (the participation guard) nor
    report; they can still read a forum open to all members or to the public, but no longer an
    invited one (their grants are gone). Removing a moderator is for staff.
    """
    require_moderator(actor, forum)
    reason = clean_reason(reason)
    text = clean_text(text)
    if member.pk == actor.pk:
        raise ServiceError("invalid", _("You cannot remove yourself."))
    require_may_act_on(actor, forum, member)
    held = set(get_perms(member, forum))
    with transaction.atomic():
        if ForumBan.objects.filter(forum=forum, member=member, lifted_at__isnull=True).exists():
            raise ServiceError(
                "conflict", _("This member has already been removed from the forum.")
            )
        for right, perm in RIGHTS.items():
            if perm in held:
                forum_services.forum_revoke(actor=actor, forum=forum, member=member, right=right)
        ban = ForumBan.objects.create(
            forum=forum, member=member, reason=reason, text=text, created_by=actor
        )
        log(
            actor=actor,
            action=Kind.MEMBER_REMOVED,
            forum=forum,
            member=member,
            label=member.display_name,
            reason=reason,
            text=text,
            details={"revoked": sorted(r for r, p in RIGHTS.items() if p in held)},
        )
        # Also without a grant to revoke: the member's open sockets re-check their rights now.
        access_changed_on_commit(member.pk)
    return ban


# --- moderators ---------------------------------------------------------------------------------


def moderator_grant(*, actor: Any, forum: Forum, member: Any) -> None:
    """Appoint ``member`` moderator of ``forum`` (staff, the forum organisers); logged."""
    require_actor(actor)
    if not permissions.can_manage_moderators(actor, forum):
        raise ServiceError("forbidden", _("Only staff may appoint moderators."))
    with transaction.atomic():
        forum_services.forum_grant(actor=actor, forum=forum, member=member, right="moderate")
        log(
            actor=actor,
            action=Kind.MODERATOR_GRANTED,
            forum=forum,
            member=member,
            label=member.display_name,
        )


def moderator_revoke(*, actor: Any, forum: Forum, member: Any) -> None:
    """Take moderator rights in ``forum`` away from ``member`` (staff); logged."""
    require_actor(actor)
    if not permissions.can_manage_moderators(actor, forum):
        raise ServiceError("forbidden", _("Only staff may revoke moderator rights."))
    with transaction.atomic():
        forum_services.forum_revoke(actor=actor, forum=forum, member=member, right="moderate")
        log(
            actor=actor,
            action=Kind.MODERATOR_REVOKED,
            forum=forum,
            member=member,
            label=member.display_name,
        )
        # forum_revoke already announced it; said here too, so that this service does not
        # depend on that detail (one extra re-check of the member's sockets, after commit).
        access_changed_on_commit(member.pk)
