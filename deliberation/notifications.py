"""Telling members about things: ``notify`` stores a notification, ``render`` words it.

A notification is a ``verb`` (e.g. ``"moderation.report_actioned"``) with JSON ``params``; its
text comes from a registry of translatable templates, rendered in the reader's language when it
is shown, so a member who switches language reads old notifications in the new one. Apps
register their verbs (``register``) when they are loaded; deliberation imports no app.

A template is a lazily translated string with ``%(name)s`` placeholders, or a callable
``(params) -> str`` called with the reader's language active (for params that must be
translated themselves, such as a reason category).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from deliberation.models import Member, Notification

Template = Any  # a lazy translatable string or Callable[[dict[str, Any]], str]

_templates: dict[str, Template] = {}


def register(verb: str, template: Template) -> None:
    """Register the text of ``verb`` (idempotent for the same template)."""
    _templates[verb] = template


def notify(
    *, member: Member, verb: str, params: dict[str, Any] | None = None, url: str = ""
) -> Notification:
    """Store a notification for ``member``. ``params`` must be plain JSON."""
    if verb not in _templates:
        raise ValueError(f"unknown notification verb {verb!r}")
    return Notification.objects.create(member=member, verb=verb, params=params or {}, url=url)


def notify_many(
    *, members: Iterable[Member], verb: str, params: dict[str, Any] | None = None, url: str = ""
) -> int:
    """Store the same notification once for each of ``members`` (one insert); returns how many.

    Each member gets at most one, however often they appear in ``members``."""
    if verb not in _templates:
        raise ValueError(f"unknown notification verb {verb!r}")
    seen: set[int] = set()
    rows = []
    for member in members:
        if member.pk in seen:
            continue
        seen.add(member.pk)
        rows.append(Notification(member=member, verb=verb, params=params or {}, url=url))
    Notification.objects.bulk_create(rows)
    return len(rows)


def render(notification: Notification, *, language: str | None = None) -> str:
    """The notification's text in ``language`` (default: its member's preferred language)."""
    if language is None:
        language = getattr(notification.member, "language", None) or settings.LANGUAGE_CODE
    template = _templates.get(notification.verb)
    with translation.override(language):
        if template is None:
            return _("You have a new notification.")
        params = dict(notification.params or {})
        try:
            if callable(template):
                return str(template(params))
            return str(template) % params
        except (KeyError, TypeError, ValueError):
            return _("You have a new notification.")


def unread_for(*, member: Member) -> QuerySet[Notification]:
    """The member's unread notifications, newest first."""
    return Notification.objects.filter(member=member, read_at__isnull=True)


def mark_read(*, member: Member, ids: list[int] | None = None) -> int:
    """Mark the member's notifications (all, or those in ``ids``) as read; returns how many."""
    rows = unread_for(member=member)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


def registered_verbs() -> frozenset[str]:
    return frozenset(_templates)


__all__ = ["mark_read", "notify", "notify_many", "register", "registered_verbs", "render"]
