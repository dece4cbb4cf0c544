"""The speaker queue's forms: they check shape only; the services decide (who, when, which list)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.conferences.queue.models import SpeakRequest
from consultations.conferences.queue.selectors import DEFAULT_KEY_PREFIX, Lane

Kind = SpeakRequest.Kind

ASK_KINDS = [
    (Kind.CONTRIBUTION, _("Contribution")),
    (Kind.QUESTION, _("Question")),
    (Kind.POINT_OF_ORDER, _("Point of order (to the front)")),
    (Kind.INTERPOSITION, _("Interposed question to the current speaker")),
]
HALL_KINDS = ASK_KINDS[:3]


class _SublistField(forms.ChoiceField):
    """The sub-lists offered now, and the default keys a page rendered earlier still sends.

    A page rendered before the first request stored the default sub-lists offers
    ``default-<n>``; after that the offered keys are the stored lists' pks. The service resolves
    a default key to its stored list, or refuses it where the chair configured others.
    """

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or str(value).startswith(DEFAULT_KEY_PREFIX)


class _QueueForm(forms.Form):
    sublist = _SublistField(
        label=_("List"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("You choose anew each time; it is not stored on your profile."),
    )

    def __init__(self, *args, lanes: list[Lane], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sublist"].choices = [(ln.key, ln.name) for ln in lanes]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Kind.CONTRIBUTION, Kind.QUESTION) and not data.get("sublist"):
            self.add_error("sublist", _("Please choose one of the lists."))
        return data


class AskForm(_QueueForm):
    kind = forms.ChoiceField(
        label=_("I would like to make"),
        choices=ASK_KINDS,
        initial=Kind.CONTRIBUTION,
        widget=forms.RadioSelect,
    )
    field_order = ["kind", "sublist"]


class HallSpeakerForm(_QueueForm):
    name = forms.CharField(label=_("Name of the speaker in the hall"), max_length=80)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=HALL_KINDS, initial=Kind.CONTRIBUTION, widget=forms.RadioSelect
    )
    field_order = ["name", "kind", "sublist"]


class ListActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("call_next", _("Call next")),
            ("close", _("Close the list")),
            ("open", _("Reopen the list")),
            ("priority_on", _("First-time speakers first")),
            ("priority_off", _("Plain order")),
        ]
    )
    seconds = forms.IntegerField(
        label=_("Speaking time (seconds)"), required=False, min_value=15, max_value=3600
    )


class EntryActionForm(forms.Form):
    entry = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(
        choices=[
            ("withdraw", _("Withdraw")),
            ("up", _("Up")),
            ("down", _("Down")),
            ("remove", _("Remove")),
            ("finish", _("Done")),
            ("time", _("Set time")),
        ]
    )
    seconds = forms.IntegerField(
        label=_("Speaking time (seconds)"), required=False, min_value=15, max_value=3600
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "time" and data.get("seconds") is None:
            self.add_error("seconds", _("Please give a speaking time between 15 s and 60 min."))
        return data


class SubListForm(forms.Form):
    name = forms.CharField(label=_("Name of the list"), max_length=120)
    short = forms.CharField(
        label=_("Short label"), max_length=30, help_text=_("Shown beside each name.")
    )
    scope = forms.ChoiceField(
        label=_("For"),
        choices=[("item", _("this agenda item")), ("conference", _("every agenda item"))],
        initial="item",
        widget=forms.RadioSelect,
    )
