"""Curating the forums: reports and their cases, the append-only moderation log, mutes, bans,
appeals, and the moderation note a hidden or rejected post carries.

Only ``moderation.services`` writes these. ``ModerationAction`` is append-only: the model, its
manager, the admin and (on PostgreSQL, and for updates on SQLite) a database trigger refuse to
change or delete an entry.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forums.models import Forum, Post


class Reason(models.TextChoices):
    """Why a post was reported, or why a moderator acted (the public log shows the category)."""

    THREAT = "threat", _("Threat")
    DISCRIMINATION = "discrimination", _("Discrimination")
    INSULT = "insult", _("Insult")
    PERSONAL_DATA = "personal_data", _("Personal data of others")
    SPAM = "spam", _("Spam")
    OFF_TOPIC = "off_topic", _("Off topic")
    OTHER = "other", _("Other")
    # Only moderators give these (never a report reason).
    HEATED = "heated", _("Discussion getting heated")
    CONCLUDED = "concluded", _("Discussion concluded")
    IMPORTANT = "important", _("Important for everyone")
    WRONG_FORUM = "wrong_forum", _("Belongs in another forum")
    CORRECTED = "corrected", _("Earlier decision corrected")
    NO_VIOLATION = "no_violation", _("No violation of the rules")


#: The reasons a member may choose when reporting, most severe first.
REPORT_REASONS: tuple[str, ...] = (
    Reason.THREAT,
    Reason.DISCRIMINATION,
    Reason.INSULT,
    Reason.PERSONAL_DATA,
    Reason.SPAM,
    Reason.OFF_TOPIC,
    Reason.OTHER,
)
#: Severity of a report reason (higher is more urgent).
SEVERITY: dict[str, int] = {
    reason: len(REPORT_REASONS) - i for i, reason in enumerate(REPORT_REASONS)
}


class Case(models.Model):
    """One post waiting for a moderator: reported (reports gather here), held, or appealed.

    At most one open case per post (a unique constraint), so repeated reports count up on the
    same case. A moderator claims a case (``claimed_by`` until ``claimed_until``, ten minutes) so
    two do not handle it at once; every decision locks the row (``select_for_update``).
    """

    class Kind(models.TextChoices):
        REPORTS = "reports", _("Reported post")
        HELD = "held", _("Post waiting for release")
        APPEAL = "appeal", _("Appeal against hiding")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACTIONED = "actioned", _("Action taken")
        DISMISSED = "dismissed", _("No action needed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="moderation_cases"
    )
    #: The post's forum, kept here for the per-forum queue (moved with the thread).
    forum = models.ForeignKey(
        Forum, verbose_name=_("forum"), on_delete=models.CASCADE, related_name="moderation_cases"
    )
    report_count = models.PositiveIntegerField(_("reports"), default=0)
    #: The most severe report reason so far ("" for held posts and appeals).
    top_reason = models.CharField(_("most severe reason"), max_length=20, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name = _("moderation case")
        verbose_name_plural = _("moderation cases")
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=Q(status="open"), name="moderation_case_one_open"
            )
        ]
        indexes = [models.Index(fields=["forum", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def claim_holder(self, now: Any = None) -> Any:
        """Who holds a live claim on the case (``None`` when unclaimed or lapsed)."""
        now = now or timezone.now()
        if self.claimed_by_id and self.claimed_until and self.claimed_until > now:
            return self.claimed_by
        return None


class Report(models.Model):
    """One member's report of one post; it belongs to the post's open case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.CASCADE,
        related_name="moderation_reports",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("details"), blank=True, max_length=1000)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["case", "reporter"], name="report_one_per_case")
        ]


class PostNote(models.Model):
    """Why a post is hidden or rejected right now (removed when the post is published again).

    Its author sees ``reason`` and ``text``; everyone else sees only the reason category.
    """

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="moderation_note")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("explanation"), blank=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)


class Mute(models.Model):
    """A member may not post, edit or react in ``forum`` until ``until`` (unless lifted)."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="mutes")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_mutes"
    )
    until = models.DateTimeField(_("muted until"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("explanation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mute")
        verbose_name_plural = _("mutes")
        indexes = [models.Index(fields=["member", "forum", "until"])]


class ForumBan(models.Model):
    """A member removed from a forum: their grants are revoked and they may no longer take part.

    They can still read a forum that is open to all members or to the public (reading does not
    depend on grants there); an invited forum they can no longer see, as their grants are gone.
    """

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="bans")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_bans"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("explanation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("removal from a forum")
        verbose_name_plural = _("removals from forums")
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "member"],
                condition=Q(lifted_at__isnull=True),
                name="forum_ban_one_active",
            )
        ]


class Appeal(models.Model):
    """The author's one appeal against the hiding (or rejection) of their post."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="appeal")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_appeals"
    )
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="appeal")
    text = models.TextField(_("appeal"), max_length=1000)
    #: The moderator who hid the post: they may not decide the appeal.
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("appealed"), default=timezone.now)
    upheld = models.BooleanField(_("upheld"), null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    decision_text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")


# --- the append-only log ------------------------------------------------------------------------


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an entry of the moderation log."""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AppendOnlyError("the moderation log is append-only")


class ModerationActionQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse()

    def delete(self) -> NoReturn:
        _refuse()

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    _raw_delete = _refuse  # type: ignore[assignment]


class ModerationActionManager(models.Manager.from_queryset(ModerationActionQuerySet)):  # type: ignore[misc]
    pass


class ModerationAction(models.Model):
    """One entry of the moderation log: who did what to which target, and why.

    Targets are plain ids plus a short label (not foreign keys), so deleting a forum, a post
    or an account never cascades into the log. ``actor`` is a foreign key without a database
    constraint that is never nulled: a deleted account leaves a dangling id (shown as unknown).
    """

    class Kind(models.TextChoices):
        CASE_DISMISSED = "case_dismissed", _("Report closed without action")
        POST_HIDDEN = "post_hidden", _("Post hidden")
        POST_RESTORED = "post_restored", _("Post restored")
        POST_APPROVED = "post_approved", _("Post released")
        POST_REJECTED = "post_rejected", _("Post rejected")
        THREAD_LOCKED = "thread_locked", _("Thread locked")
        THREAD_UNLOCKED = "thread_unlocked", _("Thread unlocked")
        THREAD_PINNED = "thread_pinned", _("Thread pinned")
        THREAD_UNPINNED = "thread_unpinned", _("Thread unpinned")
        THREAD_MOVED = "thread_moved", _("Thread moved")
        THREAD_MEMBERS_ONLY = "thread_members_only", _("Thread made members-only")
        THREAD_OPENED_TO_GUESTS = "thread_opened_to_guests", _("Thread opened to guests")
        MEMBER_MUTED = "member_muted", _("Member muted")
        MEMBER_UNMUTED = "member_unmuted", _("Mute lifted")
        MEMBER_REMOVED = "member_removed", _("Member removed from the forum")
        MODERATOR_GRANTED = "moderator_granted", _("Moderator appointed")
        MODERATOR_REVOKED = "moderator_revoked", _("Moderator rights revoked")
        APPEAL_UPHELD = "appeal_upheld", _("Appeal upheld")
        APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderator"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=30, choices=Kind.choices)
    forum_id = models.BigIntegerField(_("forum"), null=True, db_index=True)
    thread_id = models.BigIntegerField(_("thread"), null=True)
    post_id = models.BigIntegerField(_("post"), null=True)
    member_id = models.BigIntegerField(_("member"), null=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    reason_text = models.TextField(_("explanation"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = ModerationActionManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.target_label})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            _refuse()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()
