"""``{{ post.created_at|post_time }}``: a post's time as the live client writes it too."""

from __future__ import annotations

import datetime as dt

from django import template

from forums.timeformat import format_post_time

register = template.Library()


@register.filter
def post_time(value: dt.datetime | None) -> str:
    return format_post_time(value)
