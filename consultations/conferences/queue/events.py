"""The speaker queue's part of the conference stream's event catalogue.

``queue.changed`` carries the item's complete public queue (see
``selectors.queue_snapshot``), so applying the newest is enough and replays are idempotent.
Documented in docs/PROTOCOL.md beside the conference's other events.
"""

from __future__ import annotations

from typing import Any

from consultations.conferences.models import AgendaItem
from consultations.conferences.queue.selectors import QueueState, queue_snapshot


def queue_changed(item: AgendaItem, *, state: QueueState | None = None) -> dict[str, Any]:
    """The queue of ``item`` after a change. Inside the writing transaction (conference locked).

    ``state``: the queue as it now is, where the writer already knows it (else it is read).
    """
    # No "now" in it: the event is stored and replayed (see queue_snapshot); clients keep time
    # by the stream's hello.
    snapshot = queue_snapshot(item, state=state, with_now=False)
    return {"type": "queue.changed", "item": item.pk, "queue": snapshot}
