"""Plain forms of the moderation pages: they check the input's shape, the services decide the rest.

Every form works without JavaScript. Who may act, and whether the action fits the object's state,
is for ``moderation.services``; its refusal reaches the page as a message and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REASON_TEXT_MAX = 1000


def _report_reasons() -> list[tuple[str, str]]:
    # Imported late: the choices belong to the models, which load after the forms in some checks.
    from moderation.models import REPORT_REASONS, Reason

    return [(value, Reason(value).label) for value in REPORT_REASONS]


def _all_reasons() -> list[tuple[str, str]]:
    from moderation.models import Reason

    return [("", _("Choose a reason")), *Reason.choices]


def _reason_category(label: Any = None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label or _("Reason category"),
        choices=_all_reasons,
        error_messages={
            "required": _("Please choose a reason category."),
            "invalid_choice": _("Please choose one of the reason categories listed."),
        },
    )


def _reason_text(*, required: bool, label: Any = None, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        max_length=REASON_TEXT_MAX,
        strip=True,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Please give a reason."),
            "max_length": _("Please keep the reason to %(limit_value)d characters."),
        },
    )


def _confirmation() -> forms.BooleanField:
    """The "ask once" of a destructive action without JavaScript: a box to tick. With
    JavaScript the queue asks inline instead, hides the box and ticks it on "Yes"."""
    return forms.BooleanField(
        label=_("Yes, I am sure"),
        required=True,
        error_messages={"required": _("Please tick “Yes, I am sure” to confirm.")},
    )


class ReportForm(forms.Form):
    """A participant reports a post: why (one category), and optionally more in their words."""

    reason = forms.ChoiceField(
        label=_("Why are you reporting this post?"),
        choices=_report_reasons,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a reason."),
            "invalid_choice": _("Please choose one of the reasons listed."),
        },
    )
    text = _reason_text(
        required=False,
        label=_("Anything the moderators should know (optional)"),
        help_text=_("Only the moderators read this."),
    )


class HideForm(forms.Form):
    """Hide a post: the category everyone sees, and a text for the author and the log."""

    reason = forms.ChoiceField(
        label=_("Reason category"),
        choices=_report_reasons,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a reason category."),
            "invalid_choice": _("Please choose one of the reason categories listed."),
        },
    )
    text = _reason_text(
        required=False,
        label=_("Explanation for the author (optional)"),
        help_text=_("The author reads this with the reason category."),
    )
    confirm = _confirmation()


class ActionForm(forms.Form):
    """Every other action: a reason category (shown in the public log) and an optional text."""

    reason = _reason_category()
    text = _reason_text(required=False, label=_("Explanation (optional)"))

    def __init__(self, *args: Any, initial_reason: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if initial_reason:
            self.fields["reason"].initial = initial_reason


class RemoveForm(ActionForm):
    """Remove a member from a forum: destructive, so it asks once."""

    confirm = _confirmation()


class MuteForm(forms.Form):
    """Mute a member in one forum, for a fixed time or until a chosen moment."""

    DURATIONS = {
        "1h": timedelta(hours=1),
        "24h": timedelta(hours=24),
        "7d": timedelta(days=7),
    }
    duration = forms.ChoiceField(
        label=_("Mute for"),
        choices=[
            ("1h", _("1 hour")),
            ("24h", _("24 hours")),
            ("7d", _("7 days")),
            ("custom", _("until a date of my choice")),
        ],
        widget=forms.RadioSelect,
        initial="24h",
        error_messages={"required": _("Please choose how long.")},
    )
    until = forms.DateTimeField(
        label=_("Until (only for a date of your choice)"),
        required=False,
        help_text=_("Format: YYYY-MM-DD HH:MM"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d"],
        error_messages={
            "invalid": _("Please enter a date and time in the format YYYY-MM-DD HH:MM.")
        },
    )
    reason = _reason_category()
    text = _reason_text(required=False, label=_("Explanation for the member (optional)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        duration = data.get("duration")
        if duration == "custom":
            until: datetime | None = data.get("until")
            if until is None:
                self.add_error("until", _("Please enter until when the member is muted."))
            elif until <= timezone.now():
                self.add_error("until", _("The end of the mute must lie in the future."))
            else:
                data["until_at"] = until
        elif duration in self.DURATIONS:
            data["until_at"] = timezone.now() + self.DURATIONS[duration]
        return data


class MoveForm(forms.Form):
    """Move a thread to another forum the moderator also moderates."""

    forum = forms.ModelChoiceField(
        label=_("Move to forum"),
        queryset=None,
        empty_label=None,
        error_messages={
            "required": _("Please choose a forum."),
            "invalid_choice": _("Please choose one of the forums listed."),
        },
    )
    reason = _reason_category()
    text = _reason_text(required=False, label=_("Explanation (optional)"))

    def __init__(self, *args: Any, forums: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["forum"].queryset = forums


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should the post be shown again?"),
        max_length=REASON_TEXT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Please explain your appeal."),
            "max_length": _("Please keep your appeal to %(limit_value)d characters."),
        },
    )


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("restore", _("Uphold the appeal: show the post again")),
            ("keep", _("Reject the appeal: the post stays hidden")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a decision."),
            "invalid_choice": _("Please choose one of the decisions listed."),
        },
    )
    reason = _reason_category()
    text = _reason_text(required=False, label=_("Explanation for the author (optional)"))


class ModeratorGrantForm(forms.Form):
    """Staff appoint a moderator by e-mail address (display names are pseudonyms, not keys)."""

    email = forms.EmailField(
        label=_("E-mail address of the member"),
        error_messages={
            "required": _("Please enter an e-mail address."),
            "invalid": _("Please enter a valid e-mail address."),
        },
    )
