"""Plain forms for the thread pages; they validate input shape, the services decide the rest.

Length limits, locks, mutes and rate limits are the services' rules (``forums.services``): the
forms leave them to the service so the rule lives in one place, and its refusal reaches the page
as a message while the member's text stays in the form.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

MARKDOWN_HELP = _(
    "Formatting: **bold**, *italic*, a list with “- ” at the start of each line, "
    "a link as [text](https://…)"
)


def new_client_id() -> str:
    """A fresh id per rendered form: a resubmitted form (double click, reload) creates one post."""
    return uuid.uuid4().hex


class BodyField(forms.CharField):
    """The post text: a plain textarea (works without JavaScript), Markdown explained below it."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("label", _("Your post"))
        kwargs.setdefault("help_text", MARKDOWN_HELP)
        kwargs.setdefault("strip", True)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6}))
        kwargs.setdefault(
            "error_messages", {"required": _("Please write something before you send it.")}
        )
        super().__init__(**kwargs)


class ThreadForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        error_messages={"required": _("Please give the thread a title.")},
    )
    body = BodyField(label=_("First post"))
    client_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    members_only = forms.BooleanField(
        label=_("Members only"),
        required=False,
        help_text=_("Guests of the forum do not see this thread."),
    )

    def __init__(self, *args: object, may_set_members_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not may_set_members_only:
            # Offered only to who may set it (the forum's moderators who are members, staff);
            # the service refuses everyone else anyway.
            del self.fields["members_only"]


class PostForm(forms.Form):
    body = BodyField(label=_("Your reply"))
    client_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    reply_to = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class AgreeForm(forms.Form):
    """The thread page's agreement form: the pressed toggle (a submit button) sends its id."""

    # Bounded: a larger number would overflow the database's integer, not just match nothing.
    post = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class PostEditForm(forms.Form):
    body = BodyField(label=_("Text"))
