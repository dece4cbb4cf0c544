"""``{% speaker_queue conference %}``: the speaker queue's panel, from nothing but the conference.

The conference page includes ``conferences/queue/_panel.html`` with ``conference``, ``request``
and ``user`` in its context; the panel reads everything else through :func:`panel_context`.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from consultations.conferences.models import Conference
from consultations.conferences.permissions import can_chair, is_registered
from consultations.conferences.queue import selectors
from consultations.conferences.queue.forms import AskForm, HallSpeakerForm

register = template.Library()


def panel_context(request: HttpRequest, conference: Conference) -> dict[str, Any]:
    """Everything the queue's panel (and the projector) shows, for ``request.user``."""
    user = request.user
    item = selectors.item_for_panel(conference)
    context: dict[str, Any] = {
        "conference": conference,
        "item": item,
        "request": request,
        "user": user,
        "me": user.pk if user.is_authenticated else None,
        "is_chair": can_chair(user, conference),
        "may_ask": is_registered(user, conference),
        "is_live": conference.phase == Conference.Phase.LIVE,
    }
    if item is None:
        return context
    state = selectors.queue_state(item)
    snapshot = selectors.queue_snapshot(item, state=state)
    lanes = state.lanes
    speaking = snapshot["speaking"]
    main = next((e for e in speaking if e["kind"] != "interposition"), None)
    current = speaking[-1] if speaking else None
    context.update(
        snapshot=snapshot,
        main_speaker=main,
        current=current,
        interrupting=current if current and current["kind"] == "interposition" else None,
        waiting_interpositions=[e for e in snapshot["entries"] if e["kind"] == "interposition"],
        entries=[e for e in snapshot["entries"] if e["kind"] != "interposition"],
        next_three=snapshot["entries"][:3],
        ask_form=AskForm(lanes=lanes, auto_id="queue-ask-%s"),
        hall_form=HallSpeakerForm(lanes=lanes, auto_id="queue-hall-%s"),
        lanes=lanes,
    )
    return context


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
