"""Where people talk: forums, threads, posts, reactions, and each thread's event log.

Only ``forums.services`` writes these. Post HTML is rendered and sanitised once, on write.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from deliberation.models import StreamEvent

#: Short names the forum URLs use themselves (``/foren/suche/`` is the search page).
RESERVED_SLUGS = frozenset({"suche", "thema", "beitrag", "einladung"})


def validate_forum_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is used by the site itself; please choose another short name."),
            code="reserved",
            params={"slug": value},
        )


class Forum(models.Model):
    class Kind(models.TextChoices):
        TOPIC = "topic", _("Topic forum")
        ADVISORY = "advisory", _("Advisory forum (Ratschlag)")
        CONFERENCE = "conference", _("Base conference")

    class Visibility(models.TextChoices):
        MEMBERS = "members", _("All members")
        INVITED = "invited", _("Invited only")
        PUBLIC = "public", _("Readable by the public")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("short name"), max_length=100, unique=True, validators=[validate_forum_slug]
    )
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(editable=False, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TOPIC)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    show_presence_names = models.BooleanField(
        _("show who is online by name"),
        default=False,
        help_text=_("Otherwise only the number of people online is shown."),
    )
    premoderated = models.BooleanField(
        _("pre-moderation"),
        default=False,
        help_text=_("Every post waits for a moderator before others see it."),
    )
    hold_guest_posts = models.BooleanField(
        _("hold guests' posts"),
        default=True,
        help_text=_("Posts of invited guests wait for a moderator before others see it."),
    )
    show_moderator_names = models.BooleanField(
        _("show moderators' names in the public log"), default=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("forum")
        verbose_name_plural = _("forums")
        permissions = [
            ("participate_forum", _("Can post and react in the forum")),
            ("moderate_forum", _("Can moderate the forum")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forums:forum", kwargs={"slug": self.slug})


class ForumUserObjectPermission(UserObjectPermissionBase):
    """Guardian's direct foreign-key grant of a forum right to one member."""

    content_object = models.ForeignKey(Forum, on_delete=models.CASCADE)


class ForumGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Forum, on_delete=models.CASCADE)


class Thread(models.Model):
    forum = models.ForeignKey(
        Forum, verbose_name=_("forum"), on_delete=models.CASCADE, related_name="threads"
    )
    title = models.CharField(_("title"), max_length=200)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    locked = models.BooleanField(_("locked"), default=False)
    pinned = models.BooleanField(_("pinned"), default=False)
    #: Only members of the party (and staff) see the thread: never guests, whatever their grants.
    members_only = models.BooleanField(
        _("members only"),
        default=False,
        help_text=_("Guests of the forum do not see this thread."),
    )
    #: The sequence number of the thread's newest event (gap-free, see ThreadEvent).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    post_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-pinned", "-last_activity_at"]
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        indexes = [
            models.Index(fields=["forum", "-pinned", "-last_activity_at"]),
            # The dashboard's "new in my forums": newest activity across forums.
            models.Index(fields=["-last_activity_at"], name="thread_activity_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forums:thread", kwargs={"pk": self.pk})


class Post(models.Model):
    class State(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HELD = "held", _("Held for moderation")
        HIDDEN = "hidden", _("Hidden by moderation")
        REJECTED = "rejected", _("Rejected by moderation")

    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="posts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="posts",
    )
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    reply_to = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    #: Chosen by the client; a retried create with the same id creates nothing new.
    client_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PUBLISHED
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted by its author"), null=True, blank=True)
    reaction_count = models.PositiveIntegerField(default=0, editable=False)
    #: The thread's sequence number of the event that created the post (for ordering and resync).
    seq = models.PositiveBigIntegerField(default=0, editable=False)
    #: The author's interface language when they wrote it (``settings.LANGUAGES``), so a page in
    #: the other language can mark the text with ``lang``; empty for posts from before it was kept.
    language = models.CharField(_("language"), max_length=8, blank=True, default="", editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            models.Index(fields=["thread", "created_at", "id"]),
            # Unread counts (posts after a read position) and a thread's newest post.
            models.Index(fields=["thread", "seq"], name="post_thread_seq_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=~Q(client_id=""),
                name="post_author_client_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.thread_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostRevision(models.Model):
    """An earlier text of an edited post (kept so edits stay traceable)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class Reaction(models.Model):
    """Agreement (Zustimmung) with a post: one per member and post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "member"], name="reaction_one_per_member")
        ]


class ThreadEvent(StreamEvent):
    """The thread's append-only event log (outbox), written in the same transaction as the change.

    The shape of every stream's outbox (seq, type, payload, created_at), appended by
    :func:`deliberation.streams.record_event`. ``seq`` is gap-free per thread: clients that
    missed events replay them from here. A payload is scrubbed when its post is hidden or its
    author's account is deleted.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="events")
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )

    class Meta:
        ordering = ["thread", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "seq"], name="thread_event_seq_unique")
        ]


class ThreadVisit(models.Model):
    """How far a member has read a thread, for unread markers."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="visits")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thread_visits"
    )
    last_seen_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "member"], name="thread_visit_unique")
        ]
