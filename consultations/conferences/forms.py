"""The conference pages' forms. They check shape and bounds for a clear message next to the
field; the services decide again (a form is never the only guard)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.conferences import services
from consultations.conferences.models import Commitment, Conference, Registration
from deliberation.forms import RowIdsChoiceField


class RegistrationForm(forms.Form):
    attendance = forms.ChoiceField(
        label=_("How will you take part?"),
        choices=Registration.Attendance.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose: in the hall or remote.")},
    )
    childcare = forms.BooleanField(
        label=_("I need childcare in the hall"),
        required=False,
    )
    children_ages = forms.CharField(
        label=_("Ages of the children who need care"),
        help_text=_("In whole years, separated by commas, e.g. “2, 7”. At most 10 children."),
        required=False,
        max_length=100,
    )
    accessibility_needs = forms.CharField(
        label=_("Accessibility needs (optional)"),
        help_text=_(
            "For example: a seat near the interpreters, large print, breaks. Only the "
            "organisers read this; it is deleted when the conference is archived."
        ),
        required=False,
        max_length=services.MAX_NEEDS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, conference: Conference, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference
        if not conference.childcare:
            del self.fields["childcare"]
            del self.fields["children_ages"]

    def clean_children_ages(self) -> list[int]:
        raw = self.cleaned_data.get("children_ages", "")
        parts = [p for p in re.split(r"[,;\s]+", raw) if p]
        ages: list[int] = []
        for part in parts:
            if not part.isascii() or not part.isdigit():
                raise forms.ValidationError(_("Please give each age as a whole number of years."))
            ages.append(int(part))
        if any(age > services.MAX_CHILD_AGE for age in ages):
            raise forms.ValidationError(_("Please give ages between 0 and 17 years."))
        if len(ages) > services.MAX_CHILDREN:
            raise forms.ValidationError(_("Childcare can be registered for at most 10 children."))
        return ages

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("childcare"):
            if data.get("attendance") == Registration.Attendance.REMOTE:
                self.add_error("childcare", _("Childcare is offered only in the hall."))
            elif "children_ages" in data and not data["children_ages"]:
                self.add_error(
                    "children_ages", _("Please give the age of each child who needs care.")
                )
            elif (
                data.get("children_ages")
                and min(data["children_ages"]) < 3
                and not self.conference.childcare_under_three
            ):
                self.add_error(
                    "children_ages",
                    _("This conference offers no childcare for children under three."),
                )
        return data


class CommitmentChoiceField(RowIdsChoiceField):
    """Commitments by id (an id no row can have is refused before the database is asked)."""

    def label_from_instance(self, obj: Commitment) -> str:
        prefix = f"{obj.chapter}, {obj.reference}" if obj.reference else obj.chapter
        return f"{prefix}: {obj.text[:120]}"


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    planned_minutes = forms.IntegerField(
        label=_("Planned duration (minutes)"), min_value=1, max_value=24 * 60, initial=30
    )
    speaking_seconds = forms.IntegerField(
        label=_("Speaking time per speaker (seconds)"), min_value=15, max_value=3600, initial=180
    )
    commitments = CommitmentChoiceField(
        label=_("Commitments of the coalition agreement discussed"),
        queryset=Commitment.objects.order_by("chapter", "position", "pk"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class PhaseForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=Conference.Phase.choices)


class AssessmentForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=Commitment.Status.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Reasoning"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TrackerFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Commitment.Status.choices],
    )
    chapter = forms.ChoiceField(label=_("Chapter"), required=False, choices=[])

    def __init__(self, *args: Any, chapters: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chapter"].choices = [("", _("All chapters")), *((c, c) for c in chapters)]
