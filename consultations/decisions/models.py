"""Upcoming decisions, their topics, and who follows which topic.

Only ``consultations.decisions.services`` writes these. A decision links to where members
discuss it through a generic relation (:attr:`Decision.discussion`) restricted to
:data:`DISCUSSION_TARGETS`: a thread or a conference today, a member consultation later, added
to that list without a migration of this model.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Where a decision may link for its discussion: (app label, model name) -> the URL name whose
#: address, pasted into the form, names such a target, and the URL keyword that identifies it.
#: Every target has a ``forum`` (whose visibility decides who is shown the link) and a
#: ``get_absolute_url``. A later format (a member consultation) adds its line here.
DISCUSSION_TARGETS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("forums", "thread"): ("forums:thread", "pk", "pk"),
    ("conferences", "conference"): ("conferences:conference", "slug", "slug"),
}


def discussion_target_choices() -> models.Q:
    """The content types a decision may link to (``limit_choices_to`` of the relation)."""
    query = models.Q(pk__in=[])
    for app_label, model in DISCUSSION_TARGETS:
        query |= models.Q(app_label=app_label, model=model)
    return query


class Topic(models.Model):
    """A theme members follow (rents, health and care, digitalisation, seniors, security)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('decisions:index')}?thema={self.slug}"


class TopicFollow(models.Model):
    """``member`` follows ``topic``: told of each new decision in it, and when one is taken."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="follows")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_follows"
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("followed topic")
        verbose_name_plural = _("followed topics")
        constraints = [
            models.UniqueConstraint(fields=["topic", "member"], name="topic_follow_unique")
        ]


class Decision(models.Model):
    class Institution(models.TextChoices):
        GOVERNMENT = "government", _("State government (Senate)")
        PARLIAMENT = "parliament", _("State parliament (Abgeordnetenhaus)")
        PARTY = "party", _("Party")

    class Status(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        DECIDED = "decided", _("Decided")

    title = models.CharField(_("title"), max_length=200)
    explanation = models.CharField(_("short explanation"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    body_html = models.TextField(editable=False, blank=True)
    date = models.DateField(_("date"))
    time = models.TimeField(_("time"), null=True, blank=True)
    institution = models.CharField(_("who decides"), max_length=12, choices=Institution.choices)
    source_url = models.URLField(_("source"), max_length=500, blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="decisions")

    discussion_type = models.ForeignKey(
        ContentType,
        verbose_name=_("kind of discussion"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        limit_choices_to=discussion_target_choices,
        related_name="+",
    )
    discussion_id = models.PositiveBigIntegerField(_("discussion"), null=True, blank=True)
    discussion = GenericForeignKey("discussion_type", "discussion_id")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPCOMING
    )
    result = models.TextField(_("result"), blank=True)
    result_html = models.TextField(editable=False, blank=True)
    result_url = models.URLField(_("link to the result"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("result entered"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)

    class Meta:
        ordering = ["date", "time", "pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        indexes = [models.Index(fields=["status", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discussion_type__isnull=True, discussion_id__isnull=True)
                | models.Q(discussion_type__isnull=False, discussion_id__isnull=False),
                name="decision_discussion_complete",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("decisions:detail", kwargs={"pk": self.pk})

    @property
    def is_decided(self) -> bool:
        return self.status == self.Status.DECIDED

    @property
    def starts_at(self) -> Any:
        """The decision's moment as an aware datetime (the day's start without a time)."""
        from datetime import datetime, time

        moment = datetime.combine(self.date, self.time or time(0, 0))
        return timezone.make_aware(moment)

    @property
    def discussion_url(self) -> str:
        """Where members discuss this decision, or ''. Whether a reader may open it is
        :func:`consultations.decisions.permissions.can_see_discussion`."""
        target = self.discussion
        if target is None:
            return ""
        return target.get_absolute_url()
