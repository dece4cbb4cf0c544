"""The invitation pages' forms: the organiser's new link and the guest's sign-up. Shape and
bounds for a clear message beside the field; the services decide again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from consultations.advisory.forms import CleanTextForm
from consultations.advisory.invitations import services
from deliberation.forms import RowChoiceField
from deliberation.models import Member

_BADGE_KINDS = [choice for choice in Member.Affiliation.choices if choice[0]]


class InvitationForm(CleanTextForm):
    affiliation = forms.ChoiceField(
        label=_("Kind of badge"), choices=_BADGE_KINDS, initial=Member.Affiliation.INITIATIVE
    )
    label = forms.CharField(
        label=_("Note for the organisers (optional)"),
        help_text=_("Only organisers see it, e.g. “Plenum Kotti & Co, 3 March”."),
        required=False,
        max_length=services.MAX_LABEL,
    )
    max_uses = forms.IntegerField(
        label=_("How many people may use it"),
        help_text=_("1 for one person; more for a group's mailing list."),
        min_value=1,
        max_value=services.MAX_USES,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=services.MAX_VALID_DAYS,
        initial=14,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = RowChoiceField(
            label=_("Organisation"),
            help_text=_("Its guests carry its badge, e.g. “Initiative: Kotti & Co”."),
            queryset=organisations,
            required=False,
            empty_label=_("(none: the kind of badge alone)"),
        )
        self.order_fields(["organisation", "affiliation", "label", "max_uses", "valid_days"])


class GuestSignupForm(CleanTextForm):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("Shown beside your posts with your badge. A first name is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send you a link to confirm it. Nobody else sees it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not a common one."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError(_("Please fill in a display name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            probe = Member(
                email=data.get("email") or "", display_name=data.get("display_name") or ""
            )
            try:
                validate_password(first, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data
