"""The speaker queue's template tags: ``{% speaker_queue conference %}`` renders its panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from consultations.conferences.models import Conference
from consultations.conferences.queue.panel import panel_context

register = template.Library()


@register.inclusion_tag("conferences/queue/_queue.html", takes_context=True)
def speaker_queue(context: template.Context, conference: Conference) -> dict[str, Any]:
    return panel_context(context["request"], conference)


@register.filter
def minutes(seconds: Any) -> str:
    """Seconds as m:ss (speaking time beside a name, the countdown's start)."""
    try:
        total = max(0, int(seconds or 0))
    except (TypeError, ValueError):
        return "0:00"
    return f"{total // 60}:{total % 60:02d}"


@register.filter
def name_slot(name: Any) -> SafeString:
    """A name (escaped) in the slot queue.js fills on live updates, for use inside a translated
    sentence: ``{% blocktranslate with name=e.name|name_slot %}Remove {{ name }} …``."""
    return format_html('<span data-slot="name">{}</span>', "" if name is None else name)


@register.filter
def countdown(seconds: Any) -> str:
    """Seconds left as m:ss, over time as −m:ss (as queue.js shows it); empty for None."""
    if seconds is None or seconds == "":
        return ""
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return ""
    text = minutes(abs(value))
    return f"\u2212{text}" if value < 0 else text
