"""The polls' forms: open a poll (chair), vote (member), hall count (chair).

Forms only parse; the rules (who may, when, how many) are the services'.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.conferences.models import Conference
from consultations.conferences.polls.models import Poll, PollOption
from consultations.conferences.polls.services import MAX_OPTIONS, MAX_QUESTION


class PollOpenForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Agenda item"), queryset=None, empty_label=None)
    question = forms.CharField(label=_("Question"), max_length=MAX_QUESTION)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Poll.Kind.choices,
        initial=Poll.Kind.YES_NO,
        widget=forms.RadioSelect,
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=MAX_OPTIONS * 210,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One option per line; not needed for yes / no / abstain."),
    )
    max_choices = forms.IntegerField(
        label=_("At most this many choices"),
        min_value=1,
        max_value=MAX_OPTIONS,
        initial=1,
        help_text=_("Only for multiple choice."),
    )
    secret = forms.BooleanField(label=_("Secret ballot"), required=False, initial=True)
    live_results = forms.BooleanField(
        label=_("Show the results while voting"), required=False, initial=False
    )

    def __init__(self, *args: Any, conference: Conference, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = conference.agenda.order_by("position")
        if conference.current_item_id:
            self.fields["item"].initial = conference.current_item_id

    def option_lines(self) -> list[str]:
        return [line for line in self.cleaned_data.get("options", "").splitlines() if line.strip()]


def _label(option: PollOption) -> str:
    return option.display_label


class VoteForm(forms.Form):
    """One field, ``option``: a radio group (yes/no, single choice) or check boxes (multiple)."""

    def __init__(self, *args: Any, poll: Poll, options: list[PollOption], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"poll-{poll.pk}-%s")
        super().__init__(*args, **kwargs)
        choices = [(str(option.pk), _label(option)) for option in options]
        errors = {
            "required": _("Please choose an option."),
            "invalid_choice": _("Please choose one of the poll's options."),
            "invalid_list": _("Please choose one of the poll's options."),
        }
        if poll.kind == Poll.Kind.MULTIPLE:
            self.fields["option"] = forms.TypedMultipleChoiceField(
                label=poll.question,
                choices=choices,
                coerce=int,
                widget=forms.CheckboxSelectMultiple,
                error_messages=errors,
                help_text=_("Tick up to %(count)d.") % {"count": poll.max_choices},
            )
        else:
            self.fields["option"] = forms.TypedChoiceField(
                label=poll.question,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages=errors,
            )

    def option_ids(self) -> list[int]:
        value = self.cleaned_data["option"]
        return list(value) if isinstance(value, list) else [value]


class HallCountForm(forms.Form):
    def __init__(self, *args: Any, poll: Poll, options: list[PollOption], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"hall-{poll.pk}-%s")
        super().__init__(*args, **kwargs)
        for option in options:
            self.fields[f"option_{option.pk}"] = forms.IntegerField(
                label=_label(option), min_value=0, max_value=100_000, initial=option.hall_count
            )

    def counts(self) -> dict[int, int]:
        return {
            int(name.removeprefix("option_")): value for name, value in self.cleaned_data.items()
        }
