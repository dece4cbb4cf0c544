"""Live polls of a conference: the poll, its options with their counters, and who voted.

Who voted is kept apart from what was voted. :class:`Ballot` says only that a member voted in a
poll (unique per poll and member: the database refuses a second vote); it has no time and no
choice. What was voted is counted on the options (:attr:`PollOption.online_count`, raised with
``F()`` under the poll's row lock), so for a secret poll no table holds a path from a member to
an option. Only a named poll also keeps each ballot's choices (:class:`NamedChoice`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consultations.conferences.models import AgendaItem, Conference


class Poll(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no / abstain")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="polls")
    item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), on_delete=models.CASCADE, related_name="polls"
    )
    question = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    #: How many options a voter may tick (1 unless the kind is multiple choice).
    max_choices = models.PositiveSmallIntegerField(_("at most this many choices"), default=1)
    secret = models.BooleanField(_("secret ballot"), default=True)
    #: Whether the counts are shown while the poll is open (else only once it is closed).
    live_results = models.BooleanField(_("show results while voting"), default=False)
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN
    )
    #: How many members voted online (the turnout); raised with each ballot under the row lock.
    ballots_count = models.PositiveIntegerField(default=0, editable=False)
    #: How many members were registered (and so could vote) when the poll closed.
    eligible_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    #: Whether the chair entered a hall count (per option, for those voting without a device).
    hall_counted = models.BooleanField(default=False, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "pk"]
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(status="open"),
                name="poll_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=models.Q(max_choices__gte=1), name="poll_max_choices_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.question

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class PollOption(models.Model):
    class Code(models.TextChoices):
        """The fixed options of a yes/no/abstain poll; shown in each reader's language."""

        YES = "yes", _("Yes")
        NO = "no", _("No")
        ABSTAIN = "abstain", _("Abstain")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=7, choices=Code.choices, blank=True)
    label = models.CharField(_("option"), max_length=200, blank=True)
    #: Ticks given online (secret and named polls alike).
    online_count = models.PositiveIntegerField(default=0, editable=False)
    #: Ticks counted in the hall by the chair for those without a device.
    hall_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["poll", "position"]
        verbose_name = _("poll option")
        verbose_name_plural = _("poll options")
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position")
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return str(self.Code(self.code).label) if self.code else self.label

    @property
    def total(self) -> int:
        return self.online_count + self.hall_count


class Ballot(models.Model):
    """That ``member`` voted in ``poll``: nothing more (no time, no choice).

    The unique constraint is what makes a vote count once, whatever the requests race.
    """

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="poll_ballots"
    )

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [models.UniqueConstraint(fields=["poll", "member"], name="poll_ballot_once")]


class NamedChoice(models.Model):
    """What a member chose in a named (not secret) poll. Never written for a secret poll."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("named choice")
        verbose_name_plural = _("named choices")
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option"], name="poll_named_choice_once")
        ]
