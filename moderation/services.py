"""The only writers of moderation: reports, cases and claims, actions on posts, appeals.

Thread, member and moderator actions live in ``moderation.services_forum`` and are re-exported
here, so callers use ``moderation.services`` for everything.

Every action: who-may (``moderation.permissions``), then state; one ``transaction.atomic()``
that locks the post's open case (``select_for_update``) before changing anything, changes the
post through ``forums.services_moderation`` (which locks the thread, records and broadcasts its
event), appends a ``ModerationAction``, tells reporters or authors (notifications), and
broadcasts the queue change after commit. Lock order: case, then thread.

Two moderators on one case: the second finds the case closed, or the post no longer in the state
the action starts from, and gets ``ServiceError("conflict")`` ("already handled"). A live claim
of another moderator also gives ``"conflict"``, naming that the case is being handled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from deliberation import notifications
from forums.errors import ServiceError
from forums.models import Post
from forums.services_moderation import post_set_moderation_state
from moderation import permissions
from moderation.logbook import (
    APPEAL_REJECTED,
    APPEAL_UPHELD,
    broadcast_case,
    clean_reason,
    clean_text,
    log,
    moderator_param,
    notify_reporters,
    post_label,
    post_url,
    require_actor,
    require_moderator,
    require_not_own_post,
)
from moderation.models import SEVERITY, Appeal, Case, ModerationAction, PostNote, Reason, Report

CLAIM_DURATION = timedelta(minutes=10)
Kind = ModerationAction.Kind


# --- cases --------------------------------------------------------------------------------------


def _lock_open_case(post: Post) -> Case | None:
    """The post's open case, locked until the transaction ends (call inside atomic)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .filter(post_id=post.pk, status=Case.Status.OPEN)
        .select_related("forum")
        .first()
    )


def _already_handled() -> ServiceError:
    return ServiceError("conflict", _("This case has already been handled by another moderator."))


def _check_claim(case: Case, actor: Any) -> None:
    holder = case.claim_holder()
    if holder is not None and holder.pk != actor.pk:
        until = timezone.localtime(case.claimed_until)
        raise ServiceError(
            "conflict",
            _("%(name)s is handling this case right now (claimed until %(time)s).")
            % {"name": holder.display_name, "time": time_format(until, "TIME_FORMAT")},
            details={"claimed_by": holder.pk, "claimed_until": case.claimed_until.isoformat()},
        )


def _close_case(case: Case, *, actor: Any, status: str) -> None:
    case.status = status
    case.decided_by = actor
    case.decided_at = timezone.now()
    case.claimed_by = None
    case.claimed_until = None
    case.save(update_fields=["status", "decided_by", "decided_at", "claimed_by", "claimed_until"])
    broadcast_case(case)


def _open_case(*, kind: str, post: Post) -> Case:
    """Create the post's open case, or lock the one that exists (call inside atomic)."""
    case = _lock_open_case(post)
    if case is not None:
        return case
    try:
        with transaction.atomic():
            case = Case.objects.create(kind=kind, post=post, forum=post.thread.forum)
    except IntegrityError:  # another report opened it at the same moment
        case = _lock_open_case(post)
        if case is None:
            raise
        return case
    return Case.objects.select_for_update(of=("self",)).select_related("forum").get(pk=case.pk)


def case_claim(*, actor: Any, case: Case) -> Case:
    """Take ``case`` for ten minutes, so other moderators see it is being handled.

    Claiming one's own claim again extends it. Raises ``conflict`` while another moderator's
    claim is live, or once the case is closed.
    """
    require_moderator(actor, case.forum)
    require_not_own_post(actor, case.post)
    with transaction.atomic():
        row = (
            Case.objects.select_for_update(of=("self",))
            .select_related("claimed_by")
            .get(pk=case.pk)
        )
        if not row.is_open:
            raise _already_handled()
        _check_claim(row, actor)
        row.claimed_by = actor
        row.claimed_until = timezone.now() + CLAIM_DURATION
        row.save(update_fields=["claimed_by", "claimed_until"])
        broadcast_case(row)
    return row


def case_release(*, actor: Any, case: Case) -> Case:
    """Give up one's own claim (staff may release anyone's)."""
    require_moderator(actor, case.forum)
    with transaction.atomic():
        row = Case.objects.select_for_update().get(pk=case.pk)
        if row.claimed_by_id not in (None, actor.pk) and not permissions.is_staff(actor):
            raise ServiceError(
                "forbidden", _("Only the moderator who took the case can release it.")
            )
        row.claimed_by = None
        row.claimed_until = None
        row.save(update_fields=["claimed_by", "claimed_until"])
        if row.is_open:
            broadcast_case(row)
    return row


def case_dismiss(
    *, actor: Any, case: Case, reason: str = Reason.NO_VIOLATION, text: str = ""
) -> Case:
    """Close a case of reports without action; each reporter is told that none was needed."""
    require_moderator(actor, case.forum)
    require_not_own_post(actor, case.post)
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        row = (
            Case.objects.select_for_update(of=("self",))
            .select_related("forum", "post__thread")
            .get(pk=case.pk)
        )
        if not row.is_open:
            raise _already_handled()
        if row.kind != Case.Kind.REPORTS:
            raise ServiceError(
                "invalid",
                _(
                    "Only reports can be closed without action. Release or reject a held post, "
                    "or decide an appeal."
                ),
            )
        _check_claim(row, actor)
        _close_case(row, actor=actor, status=Case.Status.DISMISSED)
        log(
            actor=actor,
            action=Kind.CASE_DISMISSED,
            post=row.post,
            label=post_label(row.post),
            reason=reason,
            text=text,
            details={"reports": row.report_count},
        )
        notify_reporters(row, actor=actor, actioned=False, reason=reason)
    return row


# --- reports ------------------------------------------------------------------------------------


def report_create(*, actor: Any, post: Post, reason: str, text: str = "") -> Report:
    """Report ``post`` to the moderators of its forum.

    Reports of one post gather in its one open case. Refused: one's own post (``invalid``),
    posts one cannot see or that are not published (``forbidden``), a second report of the same
    post while its case is open (``invalid``).
    """
    require_actor(actor)
    if post.author_id == actor.pk:
        raise ServiceError("invalid", _("You cannot report your own post."))
    if not permissions.can_report(actor, post):
        raise ServiceError("forbidden", _("You cannot report this post."))
    reason = clean_reason(reason, reports=True)
    text = clean_text(text)
    with transaction.atomic():
        case = _open_case(kind=Case.Kind.REPORTS, post=post)
        if case.kind != Case.Kind.REPORTS:
            raise ServiceError("forbidden", _("You cannot report this post."))
        if Report.objects.filter(case=case, reporter=actor).exists():
            raise ServiceError(
                "invalid",
                _("You have already reported this post. The moderators are looking at it."),
            )
        report = Report.objects.create(
            case=case, post=post, reporter=actor, reason=reason, text=text
        )
        case.report_count += 1
        if SEVERITY[reason] > SEVERITY.get(case.top_reason, 0):
            case.top_reason = reason
        case.save(update_fields=["report_count", "top_reason"])
        broadcast_case(case)
    return report


# --- posts --------------------------------------------------------------------------------------


def _moderation_extra(reason: str) -> dict[str, Any]:
    return {"moderation": {"reason": reason}}


def _set_note(post: Post, *, actor: Any, reason: str, text: str) -> None:
    PostNote.objects.update_or_create(
        post=post, defaults={"reason": reason, "text": text, "moderator": actor}
    )


def _case_to_act_on(post: Post, actor: Any, expected_case: int | None = None) -> Case | None:
    """The post's open case, locked, once ``actor`` may act on it (no one else's claim holds).

    Call inside ``transaction.atomic()``; raises ``conflict`` while another moderator holds it,
    and when the moderator acted on case ``expected_case`` (from the queue) that is no longer
    the post's open case: someone else decided it meanwhile, so nothing is overridden unseen.
    """
    case = _lock_open_case(post)
    if expected_case is not None and (case is None or case.pk != expected_case):
        raise _already_handled()
    if case is not None:
        _check_claim(case, actor)
    return case


def _log_post(
    actor: Any, action: str, post: Post, *, reason: str, text: str, details: dict | None = None
) -> None:
    """Log an action on ``post`` (its author is the member it concerns)."""
    log(
        actor=actor,
        action=action,
        post=post,
        member=post.author,
        label=post_label(post),
        reason=reason,
        text=text,
        details=details,
    )


def post_hide(
    *, actor: Any, post: Post, reason: str, text: str = "", expected_case: int | None = None
) -> Post:
    """Hide a published post with a reason. Its author still sees it with the reason; everyone
    else sees a placeholder with the reason category; the text leaves every client (``post.hidden``
    without body) and the thread's stored events. Closes the post's open case (reporters told).
    ``expected_case``: the queue case the moderator acted on; gone meanwhile gives ``conflict``.
    """
    require_moderator(actor, post.thread.forum)
    require_not_own_post(actor, post)
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        case = _case_to_act_on(post, actor, expected_case)
        current, _event = post_set_moderation_state(
            post=post,
            state=Post.State.HIDDEN,
            from_states=frozenset({Post.State.PUBLISHED}),
            extra=_moderation_extra(reason),
        )
        _set_note(current, actor=actor, reason=reason, text=text)
        _log_post(actor, Kind.POST_HIDDEN, current, reason=reason, text=text)
        if case is not None:
            _close_case(case, actor=actor, status=Case.Status.ACTIONED)
            notify_reporters(case, actor=actor, actioned=True, reason=reason)
    return current


def _publish_again(actor: Any, post: Post, *, reason: str, from_state: str) -> Post:
    current, _event = post_set_moderation_state(
        post=post,
        state=Post.State.PUBLISHED,
        from_states=frozenset({from_state}),
        extra=_moderation_extra(reason) if reason else None,
    )
    PostNote.objects.filter(post=current).delete()
    return current


def post_restore(
    *, actor: Any, post: Post, reason: str, text: str = "", expected_case: int | None = None
) -> Post:
    """Show a hidden post again (``post.restored``). An open appeal on it is upheld with it.
    ``expected_case``: the queue case the moderator acted on; gone meanwhile gives ``conflict``.
    """
    require_moderator(actor, post.thread.forum)
    require_not_own_post(actor, post)
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        case = _case_to_act_on(post, actor, expected_case)
        current = _publish_again(actor, post, reason=reason, from_state=Post.State.HIDDEN)
        _log_post(actor, Kind.POST_RESTORED, current, reason=reason, text=text)
        if case is not None and case.kind == Case.Kind.APPEAL:
            _decide_appeal_row(case, actor=actor, uphold=True, reason=reason, text=text)
    return current


def post_approve(
    *, actor: Any, post: Post, reason: str = "", text: str = "", expected_case: int | None = None
) -> Post:
    """Release a held post: it is published now, with the thread's next seq (``post.created``).
    ``expected_case``: the queue case the moderator acted on; gone meanwhile gives ``conflict``.
    """
    require_moderator(actor, post.thread.forum)
    require_not_own_post(actor, post)
    reason = clean_reason(reason) if reason else ""
    text = clean_text(text)
    with transaction.atomic():
        case = _case_to_act_on(post, actor, expected_case)
        current = _publish_again(actor, post, reason="", from_state=Post.State.HELD)
        _log_post(actor, Kind.POST_APPROVED, current, reason=reason, text=text)
        if case is not None:
            _close_case(case, actor=actor, status=Case.Status.ACTIONED)
    return current


def post_reject(
    *, actor: Any, post: Post, reason: str, text: str = "", expected_case: int | None = None
) -> Post:
    """Reject a held post: it is never published; its author sees it with the reason.
    ``expected_case``: the queue case the moderator acted on; gone meanwhile gives ``conflict``.
    """
    require_moderator(actor, post.thread.forum)
    require_not_own_post(actor, post)
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        case = _case_to_act_on(post, actor, expected_case)
        current, _event = post_set_moderation_state(
            post=post, state=Post.State.REJECTED, from_states=frozenset({Post.State.HELD})
        )
        _set_note(current, actor=actor, reason=reason, text=text)
        _log_post(actor, Kind.POST_REJECTED, current, reason=reason, text=text)
        if case is not None:
            _close_case(case, actor=actor, status=Case.Status.ACTIONED)
    return current


def on_held_post(post: Post) -> None:
    """forums' held-post listener: a held post opens a case in its forum's queue."""
    case = _open_case(kind=Case.Kind.HELD, post=post)
    broadcast_case(case)


# --- appeals ------------------------------------------------------------------------------------


def appeal_create(*, actor: Any, post: Post, text: str) -> Appeal:
    """The author of a hidden (or rejected) post asks for another look, once per post."""
    require_actor(actor)
    if post.author_id != actor.pk:
        raise ServiceError(
            "forbidden", _("Only the author of a post can appeal against its hiding.")
        )
    if Appeal.objects.filter(post=post).exists():
        raise ServiceError("invalid", _("You have already appealed once for this post."))
    if post.state not in (Post.State.HIDDEN, Post.State.REJECTED) or post.deleted_at is not None:
        raise ServiceError("invalid", _("This post is not hidden by moderation."))
    text = clean_text(text, required=True)
    note = PostNote.objects.filter(post=post).first()
    with transaction.atomic():
        case = _open_case(kind=Case.Kind.APPEAL, post=post)
        if case.kind != Case.Kind.APPEAL:
            raise ServiceError("invalid", _("This post is not hidden by moderation."))
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    post=post,
                    author=actor,
                    case=case,
                    text=text,
                    hidden_by=note.moderator if note is not None else None,
                )
        except IntegrityError:
            raise ServiceError(
                "invalid", _("You have already appealed once for this post.")
            ) from None
        broadcast_case(case)
    return appeal


def _decide_appeal_row(case: Case, *, actor: Any, uphold: bool, reason: str, text: str) -> Appeal:
    """Record the decision on the locked appeal ``case``, close it and tell the author."""
    appeal = Appeal.objects.select_related("post__thread__forum", "author").get(case=case)
    appeal.upheld = uphold
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.decision_reason = reason
    appeal.decision_text = text
    appeal.save(
        update_fields=["upheld", "decided_by", "decided_at", "decision_reason", "decision_text"]
    )
    post = appeal.post
    log(
        actor=actor,
        action=Kind.APPEAL_UPHELD if uphold else Kind.APPEAL_REJECTED,
        post=post,
        member=appeal.author,
        label=post_label(post),
        reason=reason,
        text=text,
    )
    _close_case(case, actor=actor, status=Case.Status.ACTIONED if uphold else Case.Status.DISMISSED)
    notifications.notify(
        member=appeal.author,
        verb=APPEAL_UPHELD if uphold else APPEAL_REJECTED,
        params={"reason": reason, "text": text, **moderator_param(actor, post.thread.forum)},
        url=post_url(post),
    )
    return appeal


def appeal_decide(
    *, actor: Any, appeal: Appeal, uphold: bool, reason: str, text: str = ""
) -> Appeal:
    """Decide an appeal: upholding it publishes the post again (logged as a restore too).

    The moderator who hid the post may not decide (``forbidden``); a decided appeal gives
    ``conflict``. The author is told the decision and its reason.
    """
    forum = appeal.post.thread.forum
    require_moderator(actor, forum)
    require_not_own_post(actor, appeal.post)
    if appeal.hidden_by_id is not None and appeal.hidden_by_id == actor.pk:
        raise ServiceError(
            "forbidden",
            _("You hid this post, so another moderator has to decide on the appeal against it."),
        )
    reason = clean_reason(reason)
    text = clean_text(text)
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("forum")
            .get(pk=appeal.case_id)
        )
        if not case.is_open:
            raise _already_handled()
        _check_claim(case, actor)
        post = appeal.post
        if uphold:
            state = Post.objects.get(pk=post.pk).state
            current = _publish_again(actor, post, reason=reason, from_state=state)
            _log_post(
                actor,
                Kind.POST_RESTORED,
                current,
                reason=reason,
                text=text,
                details={"appeal": appeal.pk},
            )
        decided = _decide_appeal_row(case, actor=actor, uphold=uphold, reason=reason, text=text)
    return decided


from moderation.services_forum import (  # noqa: E402  (re-exported: one API for callers)
    member_mute,
    member_remove_from_forum,
    member_unmute,
    moderator_grant,
    moderator_revoke,
    participation_guard,
    thread_lock,
    thread_make_members_only,
    thread_move,
    thread_open_to_guests,
    thread_pin,
    thread_unlock,
    thread_unpin,
)

__all__ = [
    "CLAIM_DURATION",
    "appeal_create",
    "appeal_decide",
    "case_claim",
    "case_dismiss",
    "case_release",
    "member_mute",
    "member_remove_from_forum",
    "member_unmute",
    "moderator_grant",
    "moderator_revoke",
    "on_held_post",
    "participation_guard",
    "post_approve",
    "post_hide",
    "post_reject",
    "post_restore",
    "report_create",
    "thread_lock",
    "thread_make_members_only",
    "thread_move",
    "thread_open_to_guests",
    "thread_pin",
    "thread_unlock",
    "thread_unpin",
]
