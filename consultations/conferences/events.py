"""The conference stream's event catalogue: every event a conference sends is built here.

Events are JSON objects with a prefixed ``type``; :func:`consultations.conferences.live.record`
adds ``seq`` and ``conference``. Documented in docs/PROTOCOL.md beside the thread's catalogue.
"""

from __future__ import annotations

from typing import Any

from consultations.conferences.models import AgendaItem, Conference


def agenda_item_payload(item: AgendaItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.title,
        "planned_minutes": item.planned_minutes,
        "thread": item.thread_id,
        "started_at": item.started_at.isoformat() if item.started_at else None,
    }


def agenda_current(conference: Conference, item: AgendaItem | None) -> dict[str, Any]:
    """The chair moved the conference to ``item`` (None: between items)."""
    return {"type": "agenda.current", "item": agenda_item_payload(item)}


def conference_phase(conference: Conference) -> dict[str, Any]:
    return {"type": "conference.phase", "phase": conference.phase}
