from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.validators import MaxLengthValidator
from django.utils import translation
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from deliberation.models import Member

DISPLAY_NAME_MIN = 2


def languages_in_their_own_names() -> list[tuple[str, str]]:
    """("de", "Deutsch"), ("en", "English"): a reader finds their language whatever is active."""
    return [(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]


#: The largest id a row can have (a 64-bit signed primary key).
MAX_ROW_ID = 2**63 - 1


def row_id(raw: str) -> int | None:
    """The id in a form field, or None if no row can have it.

    ASCII digits only ("²" passes ``isdigit()`` but not ``int()``), and within the column's
    range: a larger number makes SQLite raise instead of finding nothing.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ROW_ID)):
        return None
    pk = int(raw)
    return pk if 0 < pk <= MAX_ROW_ID else None


class RowIdsChoiceField(forms.ModelMultipleChoiceField):
    """Rows by id; an id that is no row id at all (text, negative, beyond 64 bits, which SQLite
    cannot even compare) is refused as an invalid choice before the database is asked."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if row_id(str(pk)) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(pk)[:20]},
                )
        return super()._check_values(value)


class RowChoiceField(forms.ModelChoiceField):
    """One row by id; an id no row can have (text, negative, beyond 64 bits) is refused before
    the database is asked."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if row_id(str(value)) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["display_name", "language", "district"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages_in_their_own_names()
        self.fields["district"].empty_label = _("None")

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if len(name) < DISPLAY_NAME_MIN:
            raise forms.ValidationError(_("Please choose a display name of at least 2 characters."))
        taken = Member.objects.filter(display_name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This display name is already taken."))
        return name


class MemberAuthenticationForm(AuthenticationForm):
    """Django's login form, with the length of the address checked before anything looks it up.

    Django only sets the field's ``max_length`` attribute after the field is built, so the limit
    becomes a widget attribute but no validator: any length reached ``authenticate()``. Then
    SQLite refuses the case-insensitive lookup (a LIKE pattern over 50,000 bytes: a server
    error), and django-axes would store the address in its 255-character column (PostgreSQL
    refuses). No address of a member is longer than the field.
    """

    #: One message for an unknown address and a wrong password, so the form does not tell
    #: whether an address has an account; Django's own asks to "enter" what was entered.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail address or password is wrong."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class MemberPasswordResetForm(PasswordResetForm):
    """Also reaches members who never set a password (their invitation link may have expired).

    The mail goes out in the member's preferred language, not the language of whoever asked.
    """

    def get_users(self, email: str) -> Iterator[Member]:
        yield from Member.objects.filter(email__iexact=email, is_active=True)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        member = context["user"]
        codes = {code for code, _name in settings.LANGUAGES}
        language = member.language if member.language in codes else settings.LANGUAGE_CODE
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
