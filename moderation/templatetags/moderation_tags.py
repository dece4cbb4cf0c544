from __future__ import annotations

from typing import Any

from django import template

from moderation.models import Reason
from moderation.selectors import QueueLink, queue_link

register = template.Library()


@register.simple_tag
def reason_labels() -> dict[str, str]:
    """Every reason category's label in the active language, for the live thread client."""
    return {code: str(label) for code, label in Reason.choices}


@register.simple_tag(takes_context=True)
def moderation_queue_link(context: dict[str, Any]) -> QueueLink | None:
    """``{% moderation_queue_link as queue %}``: the header's link to the member's queue (or None).

    One query per page, and none for a visitor who is not logged in.
    """
    request = context.get("request")
    return queue_link(user=getattr(request, "user", None))
