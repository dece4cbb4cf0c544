"""Replaying a stream's outbox to a client that missed events (reconnect, or a seq gap).

One query for every stream kind: the rows of a :class:`deliberation.models.StreamEvent` outbox
after a seq, oldest first, bounded. What a row becomes for the reader is the stream kind's
concern: a conference's events are public snapshots and replay as stored
(:func:`payloads_after`); a thread's post events are scrubbed for the reader (``forums.replay``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

#: The most events one replay sends; a client that receives this many asks again from the last.
REPLAY_LIMIT = 500


def rows_after(
    outbox: type[models.Model],
    *,
    stream_field: str,
    stream_pk: int,
    after: Any,
    limit: int = REPLAY_LIMIT,
    select_related: Sequence[str] = (),
) -> models.QuerySet:
    """The outbox rows of the stream ``stream_pk`` with ``seq > after``, oldest first.

    ``after`` is clamped to 0 and ``limit`` to 1..REPLAY_LIMIT. Precondition: the reader may
    view the stream (the consumer checked it in the same frame).
    """
    try:
        after = max(0, int(after))
    except (TypeError, ValueError):
        after = 0
    limit = max(1, min(int(limit), REPLAY_LIMIT))
    rows = outbox.objects.filter(**{f"{stream_field}_id": stream_pk, "seq__gt": after})
    if select_related:
        rows = rows.select_related(*select_related)
    return rows.order_by("seq")[:limit]


def payloads_after(
    outbox: type[models.Model],
    *,
    stream_field: str,
    stream_pk: int,
    after: Any,
    limit: int = REPLAY_LIMIT,
) -> list[dict[str, Any]]:
    """The stored events after ``after``, unchanged: for outboxes whose payloads are public."""
    rows = rows_after(
        outbox, stream_field=stream_field, stream_pk=stream_pk, after=after, limit=limit
    )
    return list(rows.values_list("payload", flat=True))
