"""Members and the district associations they belong to."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

COMMITTEE_GROUP = "Programmkommission"


class District(models.Model):
    """A district association (Bezirksverband); Berlin has twelve, created by a data migration."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district association")
        verbose_name_plural = _("district associations")

    def __str__(self) -> str:
        return self.name


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> Member:
        if not email:
            raise ValueError("Members need an e-mail address.")
        member = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            member.set_password(password)
        else:
            member.set_unusable_password()
        member.save(using=self._db)
        return member

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> Member:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("display_name", email.split("@")[0])
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> Member:
        # E-mail login is case-insensitive: addresses are stored lower-cased.
        return self.get(email__iexact=username or "")


class Member(AbstractBaseUser, PermissionsMixin):
    """A party member or an invited guest.

    Everyone else sees only ``display_name`` (which may be a pseudonym); ``full_name`` is for staff.
    A guest is a member of kind ``guest`` whose rights come from forum-scoped grants only, shown
    everywhere under their ``affiliation`` badge.
    """

    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        GUEST = "guest", _("Guest")

    class Affiliation(models.TextChoices):
        NONE = "", _("None")
        INITIATIVE = "initiative", _("Initiative")
        PARLIAMENTARY_GROUP = "fraktion", _("Parliamentary group")
        EXPERT = "expert", _("Expert")

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("Shown to everyone instead of your name. A pseudonym is fine."),
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district association"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="de"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    affiliation = models.CharField(
        _("affiliation badge"), max_length=20, choices=Affiliation.choices, blank=True
    )
    #: The badge's own words ("Initiative: Kotti & Co"), set by a guest's first invitation;
    #: empty: the affiliation's name.
    badge_label = models.CharField(
        _("badge text"),
        max_length=60,
        blank=True,
        help_text=_("Shown instead of the affiliation's name, e.g. “Initiative: Kotti & Co”."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(Lower("display_name"), name="member_display_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        return self.full_name or self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_guest(self) -> bool:
        return self.kind == self.Kind.GUEST

    @property
    def badge(self) -> str:
        """The visible badge next to the display name ("Initiative: Kotti & Co", "Fraktion"),
        or ''."""
        if self.badge_label:
            return self.badge_label
        return self.get_affiliation_display() if self.affiliation else ""

    @property
    def is_committee(self) -> bool:
        return self.groups.filter(name=COMMITTEE_GROUP).exists()


class Notification(models.Model):
    """Something a member is told about (a report handled, an appeal decided).

    Stored as a ``verb`` and its ``params`` rather than as text, so the message is rendered in
    the reader's language when it is shown (``deliberation.notifications.render``).
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    verb = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["member", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.verb} for {self.member_id}"


class SitePage(models.Model):
    """A page every footer links to (Impressum, privacy, accessibility, contact), written by staff.

    A fixed set: one row per :class:`Slug`, created by a migration and edited in the admin. The
    Markdown of each language is rendered once, when saved (``services.site_page_update``); an
    empty English text falls back to the German one.
    """

    class Slug(models.TextChoices):
        IMPRESSUM = "impressum", _("Legal notice")
        PRIVACY = "datenschutz", _("Privacy policy")
        ACCESSIBILITY = "barrierefreiheit", _("Accessibility statement")
        CONTACT = "kontakt", _("Contact")

    slug = models.CharField(_("page"), max_length=30, choices=Slug.choices, unique=True)
    title_de = models.CharField(_("title (German)"), max_length=200, blank=True)
    body_de = models.TextField(_("text (German)"), blank=True)
    body_de_html = models.TextField(editable=False, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    body_en_html = models.TextField(editable=False, blank=True)
    updated_at = models.DateTimeField(_("last changed"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("site page")
        verbose_name_plural = _("site pages")

    def __str__(self) -> str:
        return str(self.Slug(self.slug).label) if self.slug in self.Slug.values else self.slug


class StreamEvent(models.Model):
    """The shape of every live stream's outbox (a thread's, a conference's): one row per event.

    A concrete outbox adds a foreign key to its stream and a unique constraint on (stream, seq);
    ``seq`` is gap-free per stream, appended only by :func:`deliberation.streams.record_event`
    inside the transaction of the change it describes. ``payload`` is the complete event as
    clients receive it (``type`` and ``seq`` included), so a replay sends it unchanged.
    """

    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
