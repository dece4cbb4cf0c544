"""The advisory pages' forms: shape and bounds for a clear message next to the field; the
services decide again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.advisory import services
from consultations.advisory.figures import PERIODS
from consultations.inputs import form_link, link_field
from consultations.venues import ACCESS_FEATURES
from deliberation.forms import RowChoiceField


class CleanTextForm(forms.Form):
    """Refuses NUL in every text field with a message (Django's own message names no field)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, _("This field contains a character that is not allowed."))
        return data


class AdvisoryForm(forms.Form):
    hold_guest_posts = forms.BooleanField(
        label=_("Guests' posts wait for a moderator"),
        help_text=_(
            "Recommended. Members' posts appear at once unless the whole forum is moderated."
        ),
        required=False,
    )

    def __init__(self, *args: Any, topics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"] = RowChoiceField(
            label=_("Topic"), queryset=topics, required=False, empty_label=_("(no topic)")
        )
        self.order_fields(["topic", "hold_guest_posts"])


class OrganisationForm(CleanTextForm):
    name = forms.CharField(label=_("Name"), max_length=services.MAX_NAME)
    description = forms.CharField(
        label=_("Short description (optional)"),
        required=False,
        max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    url = link_field(_("Web address (optional)"), _("Starting with https:// or http://."))
    badge_label = forms.CharField(
        label=_("Badge of its guests (optional)"),
        help_text=_("Shown beside its guests' names, e.g. “Initiative: Kotti & Co” or “Fraktion”."),
        required=False,
        max_length=services.MAX_BADGE,
    )

    def clean_url(self) -> str:
        return form_link(self, "url")


class MeetingForm(CleanTextForm):
    title = forms.CharField(label=_("Title"), max_length=services.MAX_NAME)
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Please give a date, e.g. 24.03.2027.")},
    )
    starts = forms.TimeField(
        label=_("From"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Please give a time, e.g. 18:30.")},
    )
    ends = forms.TimeField(
        label=_("Until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Please give a time, e.g. 21:00.")},
    )
    venue_name = forms.CharField(
        label=_("Venue (optional if online)"), required=False, max_length=services.MAX_NAME
    )
    venue_address = forms.CharField(
        label=_("Address (optional)"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    video_url = link_field(
        _("Video room (optional)"),
        _("Only those who may take part in the forum are shown this link."),
    )
    step_free = forms.BooleanField(label=_("step-free access"), required=False)
    hearing_loop = forms.BooleanField(label=_("hearing loop"), required=False)
    sign_language = forms.BooleanField(label=_("sign-language interpretation"), required=False)
    childcare = forms.BooleanField(label=_("childcare"), required=False)
    childcare_under_three = forms.BooleanField(
        label=_("childcare for children under three"), required=False
    )
    nursing_room = forms.BooleanField(label=_("room for nursing and changing"), required=False)
    quiet_room = forms.BooleanField(label=_("quiet room"), required=False)
    access_notes = forms.CharField(
        label=_("Further notes on access (optional)"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, conferences: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["conference"] = RowChoiceField(
            label=_("Conference day (optional)"),
            help_text=_(
                "A base conference you organise for this meeting brings its agenda with "
                "threads, the speaker queue and polls."
            ),
            queryset=conferences,
            required=False,
            empty_label=_("(none)"),
        )

    def clean_video_url(self) -> str:
        return form_link(self, "video_url")

    @property
    def access_fields(self) -> list[Any]:
        return [self[name] for name in ACCESS_FEATURES]


class PeriodForm(forms.Form):
    """The period of the participation figures (a GET form; the view reads the value through
    ``figures.period_of``, so a bad value is all time and this form only renders the choice)."""

    zeitraum = forms.ChoiceField(
        label=_("Period"),
        choices=[(key, label) for key, (_days, label) in PERIODS.items()],
        required=False,
    )
