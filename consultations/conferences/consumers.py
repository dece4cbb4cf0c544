"""The live conference: one websocket per reader of a conference page (docs/PROTOCOL.md).

The protocol is :class:`deliberation.stream_consumer.StreamConsumer`'s, the thread's too. What
is the conference's own: who may view it (the conference forum's visibility and grants,
``permissions.can_view``, asked again on every frame and on ``access.changed``), its replay
(``ConferenceEvent`` rows as stored: each event is a public snapshot of the region it changes)
and its hello (phase, current item, whether the reader chairs). It takes no frames beyond the
protocol's ``ping`` and ``resync``: actions are HTML forms posting to views.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from consultations.conferences import events, live, permissions
from consultations.conferences.models import Conference, ConferenceEvent
from deliberation.replay import payloads_after
from deliberation.stream_consumer import StreamConsumer
from forums.permissions import grants_read_once


class ConferenceConsumer(StreamConsumer):
    """``ws/conferences/<conference_id>/``: a conference's live events."""

    kind = live.KIND
    url_kwarg = "conference_id"

    @contextmanager
    def access_reads(self) -> Iterator[None]:
        # Viewing is the conference forum's right: the member's grants are read once a frame.
        with grants_read_once():
            yield

    def access(self, user: Any, pk: int) -> Conference:
        return permissions.access_conference_stream(user, pk)

    def head(self, pk: int) -> Conference | None:
        return Conference.objects.select_related("current_item").filter(pk=pk).first()

    def connect_info(self, user: Any, stream: Conference) -> dict[str, Any]:
        return {"can_chair": permissions.can_chair(user, stream)}

    def hello_extras(self, stream: Conference, info: dict[str, Any]) -> dict[str, Any]:
        return {
            "phase": stream.phase,
            "current_item": events.agenda_item_payload(stream.current_item),
            "can_chair": info["can_chair"],
        }

    def show_names(self, stream: Conference) -> bool:
        return bool(stream.forum.show_presence_names)

    def replay_events(
        self, stream: Conference, after: int, user: Any, moderator: bool | None
    ) -> list[dict[str, Any]]:
        return payloads_after(
            ConferenceEvent,
            stream_field="conference",
            stream_pk=stream.pk,
            after=after,
            limit=self.replay_limit,
        )

    def lost_access_message(self) -> str:
        return _("You no longer have access to this conference.")
