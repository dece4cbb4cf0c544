"""The components page (/komponenten/, staff only): every piece of the design system with its
name, the markup to copy and a live example, so later pages reuse rather than restyle.

Each example is a template of its own under ``templates/deliberation/components/``: the page
shows that template's source as code and its rendering as the example, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: The colour tokens of site.css, shown as swatches.
COLOUR_TOKENS = [
    "ink",
    "muted",
    "paper",
    "wash",
    "line",
    "brand",
    "brand-ink",
    "brand-dark",
    "brand-wash",
    "link",
    "focus",
    "danger",
    "danger-wash",
    "ok",
    "ok-wash",
    "warn",
    "warn-wash",
    "info-wash",
]

#: The spacing and type scales of site.css: (step, size).
SPACE_TOKENS = [
    ("1", "0.25rem"),
    ("2", "0.5rem"),
    ("3", "0.75rem"),
    ("4", "1rem"),
    ("5", "1.5rem"),
    ("6", "2.5rem"),
]
TEXT_TOKENS = [
    ("sm", "0.875rem"),
    ("base", "1rem"),
    ("lg", "1.125rem"),
    ("xl", "1.35rem"),
    ("2xl", "1.75rem"),
]


@dataclass(frozen=True)
class Component:
    slug: str
    name: Promise
    description: Promise


COMPONENTS = [
    Component(
        "buttons",
        _("Buttons"),
        _(
            "One primary button per form (the action the page is for); secondary for other "
            "actions; quiet for minor ones; destructive for what cannot be undone; quiet "
            "destructive for a removal repeated down a list (red only when pointed at or "
            "focused, with whom it removes in its accessible name). At least 44 px high. A "
            "plain submit button looks primary without a class."
        ),
    ),
    Component(
        "toggles",
        _("Toggle buttons"),
        _(
            "For an on/off state such as agreeing with a post: aria-pressed says the state. "
            "Pressed is filled, has a thicker border and a check mark, so it differs in more "
            "than colour. The button's name stays the same in both states."
        ),
    ),
    Component(
        "badges",
        _("Badges"),
        _(
            "Who someone is (member, parliamentary group, city initiative, staff), that something "
            "is live, or a count. Short words; a badge is never the only place a fact is stated."
        ),
    ),
    Component(
        "cards",
        _("Cards"),
        _("A box for one item of a list: a forum, a notification, a case in the queue."),
    ),
    Component(
        "notices",
        _("Notices"),
        _(
            "A message about the page or what just happened: information, success, warning, "
            "error. The first words say which kind it is; the icon only repeats it."
        ),
    ),
    Component(
        "messages",
        _("Messages after a redirect"),
        _(
            "What a view reports with Django's messages appears at the top of the next page as a "
            "notice. It takes focus when the page loads (unless the form has errors, or the page "
            "opens at an anchor; then it is announced in the live region), so a screen reader "
            "reads it once. Base layout only: views call messages.success() and nothing else."
        ),
    ),
    Component(
        "errors",
        _("Form errors"),
        _(
            "A form that comes back with errors starts with the error summary: it takes focus, "
            "and each entry links to its field. The field shows its own message, marked "
            "aria-invalid and tied to it by aria-describedby. Django adds both attributes; the "
            "field templates add the message ids."
        ),
    ),
    Component(
        "empty",
        _("Empty states"),
        _(
            "Where a list is empty, say what is missing and what to do next, with a link "
            "to the next step if there is one."
        ),
    ),
]


class ExampleForm(forms.Form):
    """A form bound to nothing, to show the error summary and field errors."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Plain words.")
    )


def _source(template_name: str) -> str:
    source = get_template(template_name).template.source
    # The load line is the same in every example; the markup is what a reader copies.
    return source.replace("{% load i18n %}", "", 1).strip()


@login_required
def components(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied
    context = {"example_form": ExampleForm(data={}, prefix="example")}
    sections = []
    for component in COMPONENTS:
        name = f"deliberation/components/{component.slug}.html"
        sections.append(
            {
                "component": component,
                "code": _source(name),
                "example": get_template(name).render(context, request),
            }
        )
    return render(
        request,
        "deliberation/components.html",
        {
            "sections": sections,
            "colour_tokens": COLOUR_TOKENS,
            "space_tokens": SPACE_TOKENS,
            "text_tokens": TEXT_TOKENS,
        },
    )
