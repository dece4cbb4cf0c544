"""What the structured formats share about free input: a bounded text and an http(s) link.

Services call :func:`clean_text` and :func:`clean_link` (a form is never the only guard); a
refusal is a :class:`forums.errors.ServiceError` in the reader's language, naming the field.
Forms take the same link field (:func:`link_field`) and show the services' message beside it
(:func:`form_link`), so a page and a service never disagree on what a link is.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from forums.errors import ServiceError

#: The longest web address we keep.
MAX_URL = 500

_http_url = URLValidator(schemes=["http", "https"])


def clean_text(value: Any, *, limit: int, label: str, required: bool = False) -> str:
    """``value`` stripped, within ``limit`` characters, without NUL (and not empty if
    ``required``); else ServiceError."""
    value = str(value or "").strip()
    if "\x00" in value:
        raise ServiceError(
            "invalid", _("%(field)s contains a character that is not allowed.") % {"field": label}
        )
    if required and not value:
        raise ServiceError("invalid", _("Please fill in %(field)s.") % {"field": label})
    if len(value) > limit:
        raise ServiceError(
            "too_long",
            _("%(field)s may have at most %(limit)d characters.")
            % {"field": label, "limit": limit},
        )
    return value


def clean_link(value: Any, *, label: str) -> str:
    """``value`` if it is an http or https address (or empty); else ServiceError."""
    value = str(value or "").strip()
    if not value:
        return ""
    if len(value) > MAX_URL or "\x00" in value:
        raise ServiceError("invalid", _("%(field)s is not a valid web address.") % {"field": label})
    try:
        _http_url(value)
    except ValidationError:
        raise ServiceError(
            "invalid",
            _("%(field)s must be a web address starting with http:// or https://.")
            % {"field": label},
        ) from None
    return value


def link_field(label: Any, help_text: Any = "") -> forms.CharField:
    """An optional web address as a form field (the phone's keyboard for addresses)."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=MAX_URL,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )


def form_link(form: forms.Form, name: str) -> str:
    """A form's ``clean_<name>`` for a :func:`link_field`: :func:`clean_link`'s answer, or its
    message beside the field."""
    try:
        return clean_link(form.cleaned_data.get(name, ""), label=str(form.fields[name].label))
    except ServiceError as error:
        raise forms.ValidationError(error.message) from None
