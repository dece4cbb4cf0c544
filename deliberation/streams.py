"""The outbox of a live stream: append an event with the stream's next gap-free seq.

One mechanism serves every stream kind (threads, conferences). A stream is a model row with a
``last_seq`` column; its outbox is a concrete :class:`deliberation.models.StreamEvent` with a
foreign key to it. Services append with :func:`record_event` inside their transaction, then
broadcast with :func:`deliberation.live.broadcast_on_commit`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


def lock_stream(model: type[M], pk: Any) -> M:
    """The stream's row, locked until the transaction ends. Call inside ``transaction.atomic()``."""
    return model.objects.select_for_update(of=("self",)).get(pk=pk)


def record_event(
    stream: models.Model,
    event: dict[str, Any],
    *,
    outbox: type[models.Model],
    stream_field: str,
    also: dict[str, Any] | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """Append ``event`` to ``stream``'s outbox with the next seq; return the complete event.

    Precondition: inside ``transaction.atomic()``, with ``stream`` fetched locked in this
    transaction (so ``stream.last_seq`` is current). ``stream_field`` names the outbox's foreign
    key to the stream, also the key clients see (``"thread": 42``). ``also`` are further columns
    of the stream row set in the same UPDATE; ``columns`` further columns of the outbox row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside transaction.atomic()")
    seq = stream.last_seq + 1
    # The guard on last_seq turns a caller that forgot the lock into an error, not a gap.
    if (
        not type(stream)
        .objects.filter(pk=stream.pk, last_seq=seq - 1)
        .update(last_seq=seq, **(also or {}))
    ):
        raise RuntimeError(f"{type(stream).__name__} changed under record_event: was it locked?")
    stream.last_seq = seq
    full = {**event, "type": event["type"], "seq": seq, stream_field: stream.pk}
    outbox.objects.create(
        **{stream_field: stream}, seq=seq, type=event["type"], payload=full, **columns
    )
    return full
