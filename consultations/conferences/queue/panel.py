"""What the speaker queue's panel and the projector show, read for one request.

The conference page includes ``conferences/queue/_panel.html`` with ``conference``, ``request``
and ``user`` in its context; the panel's tag (``{% speaker_queue conference %}``, in
``consultations/conferences/templatetags/queue_tags.py``) reads everything else here.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from consultations.conferences.models import Conference
from consultations.conferences.permissions import can_chair, can_enter_video, is_registered
from consultations.conferences.queue import selectors
from consultations.conferences.queue.forms import AskForm


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
        # The link itself is in the page only for whom it is meant; queue.js only unhides it.
        "video_url": conference.video_url if can_enter_video(user, conference) else "",
        "is_live": conference.phase == Conference.Phase.LIVE,
        # Reversed once: every waiting entry's form posts here (``_entry.html``).
        "entry_url": reverse("conferences:queue_entry", args=[conference.slug]),
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
        # The countdown's text before (or without) queue.js: the time left now, not the full.
        time_left=selectors.time_left(state.current),
        interrupting=current if current and current["kind"] == "interposition" else None,
        waiting_interpositions=[e for e in snapshot["entries"] if e["kind"] == "interposition"],
        entries=[e for e in snapshot["entries"] if e["kind"] != "interposition"],
        next_three=snapshot["entries"][:3],
        # The ask form only for those who see it (the hall speaker's form has a page of its own).
        ask_form=AskForm(lanes=lanes, auto_id="queue-ask-%s")
        if context["may_ask"] and context["is_live"]
        else None,
        lanes=lanes,
    )
    return context
