"""The speaker queue (Redeliste) of an agenda item: one list for the hall and for home.

Only ``consultations.conferences.queue.services`` writes these, always with the conference row
locked (``live.lock``), so the list, its positions and its alternation change one at a time.
Registered as models of the ``conferences`` app by ``consultations/conferences/models.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SubList(models.Model):
    """One sub-list of the quota (quotierte Redeliste): called in turn while several have entries.

    A conference's sub-lists apply to every item; an item with sub-lists of its own uses those
    instead. The speaker chooses the sub-list on each request; it is never stored on a profile.
    """

    conference = models.ForeignKey(
        "conferences.Conference", on_delete=models.CASCADE, related_name="speaker_sublists"
    )
    item = models.ForeignKey(
        "conferences.AgendaItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="speaker_sublists",
    )
    name = models.CharField(_("name"), max_length=120)
    short = models.CharField(_("short label"), max_length=30)
    position = models.PositiveIntegerField(_("position"), default=0)
    #: Which of the default sub-lists this one was stored from (None: the chair made it), so a
    #: form rendered before the defaults were stored (``default-<n>``) still finds it.
    origin = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("sub-list")
        verbose_name_plural = _("sub-lists")

    def __str__(self) -> str:
        return self.name


class SpeakerList(models.Model):
    """An item's list: open or closed, first-time priority, and whose turn the quota gives next."""

    item = models.OneToOneField(
        "conferences.AgendaItem", on_delete=models.CASCADE, related_name="speaker_list"
    )
    is_open = models.BooleanField(_("open"), default=True)
    first_time_priority = models.BooleanField(_("first-time speakers first"), default=False)
    #: The sub-list that gave the last speaker; the next turn goes to the one after it.
    last_sublist = models.ForeignKey(
        SubList, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("speaker list")
        verbose_name_plural = _("speaker lists")


class SpeakRequest(models.Model):
    """One request to speak (Wortmeldung), from a member or, added by the chair, from the hall."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", _("Contribution")
        QUESTION = "question", _("Question")
        POINT_OF_ORDER = "point_of_order", _("Point of order")
        INTERPOSITION = "interposition", _("Interposed question")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SPEAKING = "speaking", _("Speaking")
        DONE = "done", _("Done")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REMOVED = "removed", _("Removed by the chair")
        #: An interposed question whose speaker finished before it was called.
        LAPSED = "lapsed", _("Lapsed")

    item = models.ForeignKey(
        "conferences.AgendaItem", on_delete=models.CASCADE, related_name="speak_requests"
    )
    #: Null for a hall speaker without an account, whom the chair added by name.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="speak_requests",
    )
    #: The hall speaker's name (members are shown by their current display name).
    name = models.CharField(_("name"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sublist = models.ForeignKey(
        SubList, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    #: An interposed question's speaker (the entry speaking when it was asked).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="interpositions"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    #: Order within its lane (points of order; each sub-list); the chair moves entries.
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("asked"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    #: The speaking time given when called (the item's default unless the chair gave another).
    seconds = models.PositiveIntegerField(_("speaking time (seconds)"), null=True, blank=True)

    class Meta:
        ordering = ["item", "position", "pk"]
        verbose_name = _("request to speak")
        verbose_name_plural = _("requests to speak")
        indexes = [models.Index(fields=["item", "state"], name="speak_request_item_state")]
        constraints = [
            # One waiting contribution or question per member per item ...
            models.UniqueConstraint(
                fields=["item", "member"],
                condition=Q(state="waiting", kind__in=["contribution", "question"]),
                name="speak_request_one_waiting_speech",
            ),
            # ... one point of order at a time ...
            models.UniqueConstraint(
                fields=["item", "member"],
                condition=Q(state="waiting", kind="point_of_order"),
                name="speak_request_one_waiting_point_of_order",
            ),
            # ... and one interposed question at a time.
            models.UniqueConstraint(
                fields=["item", "member"],
                condition=Q(state="waiting", kind="interposition"),
                name="speak_request_one_waiting_interposition",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False) | ~Q(name=""),
                name="speak_request_has_a_speaker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.member or self.name}"
