"""The conference's live stream: append an event to its outbox, broadcast it after commit.

Every conference service that changes what the conference page shows (current item, speaker
queue, timer, polls) locks the conference row with :func:`lock`, records its event with
:func:`record` and broadcasts with :func:`broadcast` last. Events are built in
``consultations.conferences.events`` (the one catalogue), documented in docs/PROTOCOL.md.
"""

from __future__ import annotations

from typing import Any

from consultations.conferences.models import Conference, ConferenceEvent
from deliberation.live import broadcast_on_commit, group_name
from deliberation.streams import lock_stream, record_event

#: The stream kind: hub groups ``conference.<pk>``, sockets at ``/ws/conferences/<pk>/``.
KIND = "conference"


def lock(conference: Conference | int) -> Conference:
    """The conference row, locked until the transaction ends (serialises its seq and queues)."""
    pk = conference.pk if isinstance(conference, Conference) else conference
    return lock_stream(Conference, pk)


def record(conference: Conference, event: dict[str, Any]) -> dict[str, Any]:
    """Append ``event`` with the next seq. Inside atomic, with ``conference`` from :func:`lock`."""
    return record_event(conference, event, outbox=ConferenceEvent, stream_field="conference")


def broadcast(
    conference: Conference, event: dict[str, Any], *, members_event: dict[str, Any] | None = None
) -> None:
    """``members_event``: what the party's members receive instead of ``event`` (the stream's
    privileged audience, ``ConferenceConsumer.privileged``), where they may see more."""
    broadcast_on_commit(group_name(KIND, conference.pk), event, moderator_event=members_event)


def record_and_broadcast(
    conference: Conference, event: dict[str, Any], *, members_event: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Record ``event`` (the public variant: what the outbox keeps and replays to everyone) and
    broadcast it; ``members_event``, if given, is the members' variant of the same event (it gets
    the same seq). Replays rebuild the members' variant from the database (the consumer)."""
    full = record(conference, event)
    members_full = None
    if members_event is not None:
        members_full = {**members_event, "seq": full["seq"], "conference": conference.pk}
    broadcast(conference, full, members_event=members_full)
    return full
