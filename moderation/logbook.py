"""Shared pieces of the moderation services: input checks, the log entry, notifications, and
the live queue broadcast. Used only by ``moderation.services*``."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deliberation import notifications
from deliberation.live import broadcast_on_commit
from forums.errors import ServiceError
from forums.models import Forum, Post, Thread
from forums.permissions import can_moderate
from moderation import events
from moderation.models import REPORT_REASONS, Case, ModerationAction, Reason

TEXT_MAX_LENGTH = 1000
LABEL_MAX = 200


def require_actor(actor: Any) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise ServiceError("forbidden", _("Please sign in to take part."))


def require_moderator(actor: Any, forum: Forum) -> None:
    require_actor(actor)
    if not can_moderate(actor, forum):
        raise ServiceError("forbidden", _("Only moderators of this forum may do this."))


def require_not_own_post(actor: Any, post: Post) -> None:
    """Refuse a moderator acting on a case about their own post (call after require_moderator)."""
    if post.author_id is not None and post.author_id == actor.pk:
        raise ServiceError(
            "forbidden",
            _("You wrote this post, so another moderator has to handle this case."),
        )


def clean_reason(reason: Any, *, reports: bool = False) -> str:
    allowed = REPORT_REASONS if reports else Reason.values
    if not isinstance(reason, str) or reason not in allowed:
        raise ServiceError("invalid", _("Please choose a reason."))
    return reason


def clean_text(text: Any, *, required: bool = False) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ServiceError("invalid", _("Please write some text."))
    text = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if required and not text:
        raise ServiceError("invalid", _("Please write some text."))
    if len(text) > TEXT_MAX_LENGTH:
        raise ServiceError(
            "too_long",
            _("Your text has %(length)d characters; at most %(limit)d are allowed.")
            % {"length": len(text), "limit": TEXT_MAX_LENGTH},
            details={"length": len(text), "max": TEXT_MAX_LENGTH},
        )
    return text


def post_label(post: Post) -> str:
    return f"#{post.pk} in “{post.thread.title}”"[:LABEL_MAX]


def thread_label(thread: Thread) -> str:
    return f"“{thread.title}”"[:LABEL_MAX]


def post_url(post: Post) -> str:
    try:
        return reverse("forums:post", kwargs={"pk": post.pk})
    except NoReverseMatch:
        return ""


def log(
    *,
    actor: Any,
    action: str,
    forum: Forum | None = None,
    thread: Thread | None = None,
    post: Post | None = None,
    member: Any = None,
    label: str = "",
    reason: str = "",
    text: str = "",
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    """Append one entry to the moderation log (inside the action's transaction)."""
    if post is not None and thread is None:
        thread = post.thread
    if thread is not None and forum is None:
        forum = thread.forum
    return ModerationAction.objects.create(
        actor=actor,
        action=action,
        forum_id=forum.pk if forum is not None else None,
        thread_id=thread.pk if thread is not None else None,
        post_id=post.pk if post is not None else None,
        member_id=member.pk if member is not None else None,
        target_label=label[:LABEL_MAX],
        reason=reason,
        reason_text=text,
        details=details or {},
    )


# --- live queue ---------------------------------------------------------------------------------


def broadcast_case(case: Case) -> None:
    """Tell the queues of the case's forum and of staff that it is new, changed or gone."""
    from moderation.selectors import urgency

    if case.is_open:
        case = Case.objects.select_related(
            "forum", "post__thread", "post__author", "claimed_by"
        ).get(pk=case.pk)
        member_event, moderator_event = events.queue_changed(case, urgency=urgency(case))
    else:
        member_event = moderator_event = events.queue_removed(case)
    for group in (events.forum_group(case.forum_id), events.STAFF_GROUP):
        broadcast_on_commit(group, member_event, moderator_event=moderator_event)


# --- notifications ------------------------------------------------------------------------------

REPORT_ACTIONED = "moderation.report_actioned"
REPORT_DISMISSED = "moderation.report_dismissed"
APPEAL_UPHELD = "moderation.appeal_upheld"
APPEAL_REJECTED = "moderation.appeal_rejected"


def _reason_label(params: dict[str, Any]) -> str:
    code = params.get("reason") or ""
    return str(Reason(code).label) if code in Reason.values else ""


def _report_actioned(params: dict[str, Any]) -> str:
    values = {"reason": _reason_label(params), "moderator": params.get("moderator", "")}
    if values["moderator"]:
        return (
            _(
                "Thank you for your report. %(moderator)s took action on the post "
                "(reason: %(reason)s)."
            )
            % values
        )
    return _(
        "Thank you for your report. Moderation took action on the post (reason: %(reason)s)."
    ) % (values)


def _report_dismissed(params: dict[str, Any]) -> str:
    moderator = params.get("moderator", "")
    if moderator:
        return _(
            "Thank you for your report. %(moderator)s looked at the post and found that no "
            "action was needed."
        ) % {"moderator": moderator}
    return _(
        "Thank you for your report. Moderation looked at the post and found that no action "
        "was needed."
    )


def _appeal(params: dict[str, Any], upheld: bool) -> str:
    values = {"reason": _reason_label(params), "text": params.get("text", "")}
    if upheld:
        message = _("Your appeal was upheld: your post is visible again. Reason: %(reason)s.")
    else:
        message = _("Your appeal was not upheld: your post stays hidden. Reason: %(reason)s.")
    parts = [message % values]
    if values["text"]:
        parts.append(_("Explanation: %(text)s") % values)
    if params.get("moderator"):
        parts.append(_("Decided by %(moderator)s.") % {"moderator": params["moderator"]})
    return " ".join(parts)


notifications.register(REPORT_ACTIONED, _report_actioned)
notifications.register(REPORT_DISMISSED, _report_dismissed)
notifications.register(APPEAL_UPHELD, lambda params: _appeal(params, True))
notifications.register(APPEAL_REJECTED, lambda params: _appeal(params, False))
# Make the verbs' names known to makemessages-independent readers (admin, lists).
VERB_LABELS = {
    REPORT_ACTIONED: gettext_lazy("Report handled"),
    REPORT_DISMISSED: gettext_lazy("Report closed"),
    APPEAL_UPHELD: gettext_lazy("Appeal upheld"),
    APPEAL_REJECTED: gettext_lazy("Appeal not upheld"),
}


def moderator_param(actor: Any, forum: Forum) -> dict[str, str]:
    """The moderator's name for a notification, only where the forum shows moderators' names."""
    if forum.show_moderator_names and actor is not None:
        return {"moderator": actor.display_name}
    return {}


def notify_reporters(case: Case, *, actor: Any, actioned: bool, reason: str) -> None:
    verb = REPORT_ACTIONED if actioned else REPORT_DISMISSED
    params = {"reason": reason, **moderator_param(actor, case.forum)}
    url = post_url(case.post) if actioned is False else ""
    for report in case.reports.select_related("reporter"):
        notifications.notify(member=report.reporter, verb=verb, params=params, url=url)
