from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from deliberation.models import Member


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["display_name", "language", "district"]

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("Please choose a display name of at least 2 characters."))
        taken = Member.objects.filter(display_name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This display name is already taken."))
        return name


class MemberPasswordResetForm(PasswordResetForm):
    """Also reaches members who never set a password (their invitation link may have expired)."""

    def get_users(self, email: str) -> Iterator[Member]:
        yield from Member.objects.filter(email__iexact=email, is_active=True)
