"""The decisions pages' forms. They check shape and bounds for a clear message next to the
field; the services decide again (a form is never the only guard)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.decisions import links, services
from consultations.decisions.models import Decision, Topic
from consultations.inputs import form_link, link_field
from deliberation.forms import RowIdsChoiceField


class TopicsField(RowIdsChoiceField):
    """Topics by id (an id no row can have is refused before the database is asked)."""


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=services.MAX_TITLE)
    explanation = forms.CharField(
        label=_("Short explanation"),
        help_text=_("One or two sentences: what is being decided, and why it matters."),
        max_length=services.MAX_EXPLANATION,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(
        label=_("Text (optional)"),
        help_text=_("Background, positions, what is at stake. Markdown: **bold**, lists, links."),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Please give a date, e.g. 24.03.2027.")},
    )
    time = forms.TimeField(
        label=_("Time (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Please give the time as hours and minutes, e.g. 10:00.")},
    )
    institution = forms.ChoiceField(
        label=_("Who decides?"),
        choices=Decision.Institution.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose who decides.")},
    )
    topics = TopicsField(
        label=_("Topics"),
        queryset=Topic.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Please choose at least one topic."),
            "invalid_choice": _("Please choose topics from the list."),
            "invalid_pk_value": _("Please choose topics from the list."),
        },
    )
    source_url = link_field(
        _("Source (optional)"),
        _("The official page: the parliament's documentation, the Senate's press release."),
    )
    discussion_address = forms.CharField(
        label=_("Where members discuss it (optional)"),
        help_text=_("Paste the address of a thread or a conference, e.g. /foren/thema/12/."),
        required=False,
        max_length=links.MAX_ADDRESS,
    )

    def clean_date(self) -> Any:
        day = self.cleaned_data["date"]
        if not services.FIRST_DAY <= day <= services.LAST_DAY:
            raise forms.ValidationError(_("Please give a date between 2000 and 2100."))
        return day

    def clean_source_url(self) -> str:
        return form_link(self, "source_url")

    def clean_discussion_address(self) -> Any:
        return links.discussion_from_address(self.cleaned_data.get("discussion_address", ""))


class DecideForm(forms.Form):
    result = forms.CharField(
        label=_("What was decided"),
        help_text=_("Markdown: **bold**, lists, links."),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    result_url = link_field(
        _("Link to the result (optional)"),
        _("The resolution, the law as passed, the press release."),
    )

    def clean_result_url(self) -> str:
        return form_link(self, "result_url")


class FollowForm(forms.Form):
    follow = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1", empty_value=None
    )
