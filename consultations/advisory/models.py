"""The thematic advisory forum (Ratschlag): a forum of kind ``advisory`` with a topic, its
meetings, the organisations taking part, and its organisers.

Only ``consultations.advisory.services`` writes these. The forum keeps its threads, visibility,
moderation and guests as every forum does; a meeting's agenda is a base conference's (an optional
link), never a second agenda model.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.venues import VenueAccess
from forums.models import Forum


class AdvisoryForum(models.Model):
    forum = models.OneToOneField(
        Forum, verbose_name=_("forum"), on_delete=models.CASCADE, related_name="advisory"
    )
    topic = models.ForeignKey(
        "decisions.Topic",
        verbose_name=_("topic"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advisory_forums",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["forum__title"]
        verbose_name = _("advisory forum")
        verbose_name_plural = _("advisory forums")

    def __str__(self) -> str:
        return self.forum.title

    def get_absolute_url(self) -> str:
        return reverse("advisory:detail", kwargs={"slug": self.forum.slug})


class AdvisoryRole(models.Model):
    """A member who organises the advisory forum: edits its details, meetings and organisations.
    Staff may all of it without a role."""

    advisory = models.ForeignKey(AdvisoryForum, on_delete=models.CASCADE, related_name="roles")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advisory_roles"
    )

    class Meta:
        verbose_name = _("organiser of an advisory forum")
        verbose_name_plural = _("organisers of advisory forums")
        constraints = [
            models.UniqueConstraint(fields=["advisory", "member"], name="advisory_role_unique")
        ]


class Organisation(models.Model):
    """An organisation taking part (an initiative, the parliamentary group)."""

    advisory = models.ForeignKey(
        AdvisoryForum, on_delete=models.CASCADE, related_name="organisations"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("short description"), max_length=500, blank=True)
    url = models.URLField(_("web address"), max_length=500, blank=True)
    #: The badge its guests carry (issue #12 item 2, invitations, reads it).
    badge_label = models.CharField(_("badge of its guests"), max_length=60, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Meeting(VenueAccess):
    """One meeting of an advisory forum: in a room, online, or both."""

    advisory = models.ForeignKey(AdvisoryForum, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    #: A base conference for the meeting day: its agenda, speaker queue and polls.
    conference = models.ForeignKey(
        "conferences.Conference",
        verbose_name=_("conference day"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advisory_meetings",
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_order"
            )
        ]

    def __str__(self) -> str:
        return self.title


# The feature folders' models, registered under this app's label.
from consultations.advisory.invitations.models import Invitation, InvitationUse  # noqa: E402, F401
