from __future__ import annotations

from django import template

from moderation.models import Reason

register = template.Library()


@register.simple_tag
def reason_labels() -> dict[str, str]:
    """Every reason category's label in the active language, for the live thread client."""
    return {code: str(label) for code, label in Reason.choices}
