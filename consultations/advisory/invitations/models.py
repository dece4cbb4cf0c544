"""Invitations of outside guests to an advisory forum, and who came in through which link.

An :class:`Invitation` is a link an organiser hands out (single or multiple use, until a date,
revocable) carrying the badge its guests will wear. Each guest who came in through it has an
:class:`InvitationUse`: pending until the guest confirmed the e-mail address, ended when an
organiser ended the guest's access to the forum. Only ``invitations.services`` writes these.
Registered under the advisory app's label (``consultations/advisory/models.py`` imports them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.advisory.models import AdvisoryForum, Organisation
from deliberation.models import Member


class Invitation(models.Model):
    advisory = models.ForeignKey(
        AdvisoryForum,
        verbose_name=_("advisory forum"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    #: A random, unguessable key: the link's only secret (``secrets.token_urlsafe``).
    token = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(
        _("note for the organisers"),
        max_length=120,
        blank=True,
        help_text=_("Only organisers see it, e.g. “Plenum Kotti & Co, 3 March”."),
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    affiliation = models.CharField(
        _("kind of badge"), max_length=20, choices=Member.Affiliation.choices
    )
    #: The badge's words a new guest will carry, fixed when the link is made; empty: the
    #: kind's name, in each reader's language.
    badge_label = models.CharField(_("badge"), max_length=60, blank=True)
    max_uses = models.PositiveIntegerField(_("maximum uses"), default=1)
    use_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    expires_at = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation link")
        verbose_name_plural = _("invitation links")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(use_count__lte=models.F("max_uses")),
                name="invitation_uses_within_limit",
            ),
            models.CheckConstraint(condition=models.Q(max_uses__gte=1), name="invitation_max_uses"),
        ]

    def __str__(self) -> str:
        return self.label or self.badge

    def get_absolute_url(self) -> str:
        return reverse("advisory:invitation", kwargs={"token": self.token})

    @property
    def badge(self) -> str:
        """The badge its guests carry, as :attr:`Member.badge` will show it."""
        return self.badge_label or self.get_affiliation_display()

    def status(self, now=None) -> str:
        """``revoked``, ``expired``, ``used_up`` or ``valid`` (in that order of precedence)."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.use_count >= self.max_uses:
            return "used_up"
        return "valid"


class InvitationUse(models.Model):
    """A guest who came into the forum through an invitation link."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="uses")
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitation_uses"
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    #: When the guest confirmed the e-mail address (None: pending, no access yet).
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    ended_at = models.DateTimeField(_("access ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-joined_at", "-pk"]
        verbose_name = _("guest who came through an invitation")
        verbose_name_plural = _("guests who came through invitations")
        constraints = [
            models.UniqueConstraint(fields=["invitation", "guest"], name="invitation_use_unique")
        ]
