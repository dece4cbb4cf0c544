"""``{% unread_notification_count as n %}``: the header's badge (one COUNT per page)."""

from __future__ import annotations

from typing import Any

from django import template

from deliberation.notifications import unread_for

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_for(member=user).count()
