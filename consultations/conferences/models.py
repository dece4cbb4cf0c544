"""A base conference, its roles, registrations, agenda, live outbox and the coalition tracker.

Only ``consultations.conferences.services`` (and its sibling service modules) write these.
Each conference owns a forum of kind ``conference``; each agenda item has its own thread in it,
and each commitment of the coalition agreement its own thread in the tracker's forum.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.venues import VenueAccess
from deliberation.models import StreamEvent
from forums.models import Forum, Thread


class Conference(VenueAccess):
    """A base conference; its venue, video room, access and childcare fields are
    :class:`consultations.venues.VenueAccess`'s."""

    class Phase(models.TextChoices):
        PREPARATION = "preparation", _("Preparation")
        LIVE = "live", _("Live day")
        FOLLOW_UP = "follow_up", _("Follow-up")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(editable=False, blank=True)
    phase = models.CharField(
        _("phase"), max_length=12, choices=Phase.choices, default=Phase.PREPARATION
    )
    #: The live day, in the hall and online.
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    #: The written discussion: open from (preparation) until (end of follow-up).
    written_opens_at = models.DateTimeField(_("written discussion opens"))
    written_closes_at = models.DateTimeField(_("written discussion closes"))

    forum = models.OneToOneField(
        Forum, verbose_name=_("forum"), on_delete=models.PROTECT, related_name="conference"
    )
    current_item = models.ForeignKey(
        "AgendaItem",
        verbose_name=_("current agenda item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    #: The newest event of the conference's live stream (gap-free, see ConferenceEvent).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("base conference")
        verbose_name_plural = _("base conferences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="conference_day_order"
            ),
            models.CheckConstraint(
                condition=models.Q(written_closes_at__gt=models.F("written_opens_at")),
                name="conference_written_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("conferences:conference", kwargs={"slug": self.slug})


class ConferenceRole(models.Model):
    """Who runs a conference. Organisers prepare it (agenda, registrations, tracker links) and may
    chair; chairs run the day (current item, speaker queue, polls). Staff may everything."""

    class Role(models.TextChoices):
        ORGANISER = "organiser", _("Organiser")
        CHAIR = "chair", _("Chair")

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="roles")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conference_roles"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("conference role")
        verbose_name_plural = _("conference roles")
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "member", "role"], name="conference_role_unique"
            )
        ]


class Registration(models.Model):
    """A member's registration: in the hall or remote, with optional needs.

    The needs (childcare, accessibility) are special personal data: only organisers see them,
    and they are deleted when the conference is archived.
    """

    class Attendance(models.TextChoices):
        HALL = "hall", _("In the hall")
        REMOTE = "remote", _("Remote")

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="registrations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conference_registrations"
    )
    attendance = models.CharField(_("attendance"), max_length=6, choices=Attendance.choices)
    childcare = models.BooleanField(_("childcare needed"), default=False)
    #: Ages in whole years of the children who need care, e.g. [0, 4].
    children_ages = models.JSONField(_("children's ages"), default=list, blank=True)
    accessibility_needs = models.TextField(_("accessibility needs"), blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "member"], name="conference_registration_unique"
            )
        ]


class Commitment(models.Model):
    """One commitment of the coalition agreement, with its current assessment and its thread."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        IN_PROGRESS = "in_progress", _("In progress")
        NOT_STARTED = "not_started", _("Not started")
        PROBLEM = "problem", _("Problem")

    chapter = models.CharField(_("chapter"), max_length=200)
    reference = models.CharField(_("reference"), max_length=50, blank=True)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED
    )
    thread = models.OneToOneField(
        Thread, on_delete=models.PROTECT, related_name="commitment", null=True, blank=True
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["chapter", "position", "pk"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return self.text[:80]


class CommitmentAssessment(models.Model):
    """One change of a commitment's status: the history, append-only."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="assessments")
    status = models.CharField(_("status"), max_length=12, choices=Commitment.Status.choices)
    note = models.TextField(_("reasoning"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assessed_at = models.DateTimeField(_("assessed"), default=timezone.now)

    class Meta:
        ordering = ["-assessed_at", "-pk"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")


class AgendaItem(models.Model):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    planned_minutes = models.PositiveIntegerField(_("planned duration (minutes)"), default=30)
    #: Each speaker's time on this item unless the chair gives another.
    speaking_seconds = models.PositiveIntegerField(_("speaking time (seconds)"), default=180)
    thread = models.OneToOneField(Thread, on_delete=models.PROTECT, related_name="agenda_item")
    commitments = models.ManyToManyField(
        Commitment, verbose_name=_("commitments"), blank=True, related_name="agenda_items"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["conference", "position"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")

    def __str__(self) -> str:
        return self.title


class ConferenceEvent(StreamEvent):
    """The conference's live stream outbox (current item, speaker queue, polls, timers)."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["conference", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "seq"], name="conference_event_seq_unique"
            )
        ]


# The feature folders' models, registered under this app's label (see each folder's models.py).
from consultations.conferences.polls.models import Ballot, NamedChoice, Poll, PollOption  # noqa: E402, F401
from consultations.conferences.queue.models import SpeakerList, SpeakRequest, SubList  # noqa: E402, F401
