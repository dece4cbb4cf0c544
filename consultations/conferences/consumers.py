"""The live conference: one websocket per reader of a conference page (docs/PROTOCOL.md).

The protocol is :class:`deliberation.stream_consumer.StreamConsumer`'s, the thread's too. What
is the conference's own: who may view it (the conference forum's visibility and grants,
``permissions.can_view``, asked again on every frame and on ``access.changed``), its replay
(``ConferenceEvent`` rows as stored: each event is a public snapshot of the region it changes)
and its hello (phase, current item, whether the reader chairs). Beyond the protocol's ``ping``
and ``resync`` it takes one frame, ``poll.vote``: a member already connected votes without a
second HTTP request, through the same service as the vote form (``polls.services.poll_vote``).
Every other action is an HTML form posting to a view.

Its privileged audience is the party's members (signed in, not guests): they receive a closed
named poll's events with who chose what (``polls.events.with_voters``); guests and visitors who
may read the conference receive the public snapshot. The outbox keeps only the public one; a
replay adds the names for a member, read from the database as they are now.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from consultations.conferences import events, live, permissions
from consultations.conferences.models import Conference, ConferenceEvent
from consultations.conferences.polls import selectors as poll_selectors
from consultations.conferences.polls import services as poll_services
from consultations.conferences.polls.models import Poll
from deliberation import clock
from deliberation.frames import REF_INT_MAX, FrameError
from deliberation.replay import payloads_after
from deliberation.stream_consumer import PROTOCOL_FRAMES, Outcome, StreamConsumer, int_field
from forums.errors import ServiceError
from forums.permissions import grants_read_once


def _option_ids(frame: dict[str, Any]) -> list[int]:
    """``options``: 1 to MAX_OPTIONS option pks (the service checks they are the poll's)."""
    value = frame.get("options")
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= poll_services.MAX_OPTIONS
        or any(
            isinstance(pk, bool) or not isinstance(pk, int) or not 1 <= pk <= REF_INT_MAX
            for pk in value
        )
    ):
        raise FrameError("invalid", _("Please choose one of the poll's options."))
    return value


class ConferenceConsumer(StreamConsumer):
    """``ws/conferences/<conference_id>/``: a conference's live events."""

    kind = live.KIND
    url_kwarg = "conference_id"
    WRITES = frozenset({"poll.vote"})
    HANDLERS = PROTOCOL_FRAMES | WRITES
    frame_refusals = (ServiceError,)

    @contextmanager
    def access_reads(self) -> Iterator[None]:
        # Viewing is the conference forum's right: the member's grants are read once a frame.
        with grants_read_once():
            yield

    def access(self, user: Any, pk: int) -> Conference:
        return permissions.access_conference_stream(user, pk)

    def privileged(self, user: Any, stream: Conference) -> bool:
        # Who may see a closed named poll's voters: the party's members, never guests.
        return poll_selectors.may_see_voters(user)

    def head(self, pk: int) -> Conference | None:
        return Conference.objects.select_related("current_item").filter(pk=pk).first()

    def connect_info(self, user: Any, stream: Conference) -> dict[str, Any]:
        return {"can_chair": permissions.can_chair(user, stream)}

    def hello_extras(self, stream: Conference, info: dict[str, Any]) -> dict[str, Any]:
        return {
            # The server's clock now: the client's one offset for this connection, so that a
            # countdown (the speaker's time) runs from started_at against the server's time,
            # whenever the event that carried started_at was made or arrives (a replay).
            "now": clock.now().isoformat(),
            "phase": stream.phase,
            "current_item": events.agenda_item_payload(stream.current_item),
            "can_chair": info["can_chair"],
        }

    def show_names(self, stream: Conference) -> bool:
        return bool(stream.forum.show_presence_names)

    def replay_events(
        self, stream: Conference, after: int, user: Any, moderator: bool | None
    ) -> list[dict[str, Any]]:
        payloads = payloads_after(
            ConferenceEvent,
            stream_field="conference",
            stream_pk=stream.pk,
            after=after,
            limit=self.replay_limit,
        )
        if moderator is None:
            moderator = self.privileged(user, stream)
        if moderator:
            payloads = poll_selectors.replayed_with_voters(payloads)
        return payloads

    def lost_access_message(self) -> str:
        return _("You no longer have access to this conference.")

    # --- the conference's frames ----------------------------------------------------------------

    def answer(
        self,
        outcome: Outcome,
        kind: str,
        frame: dict[str, Any],
        ref: str | int | None,
        user: Any,
        stream: Any,
    ) -> None:
        conference: Conference = stream
        # kind == "poll.vote", the only frame of HANDLERS beyond the protocol's.
        if not user.is_authenticated:
            raise ServiceError("forbidden", _("Please log in to vote."))
        poll_pk = int_field(frame, "poll")
        if poll_pk > REF_INT_MAX:  # no such row, and more than the database's integers hold
            raise FrameError(
                "invalid", _("The field “%(name)s” must be a number.") % {"name": "poll"}
            )
        option_ids = _option_ids(frame)
        poll = Poll.objects.filter(pk=poll_pk, conference_id=conference.pk).first()
        if poll is None:
            raise ServiceError("not_found", _("This poll does not exist in this conference."))
        poll.conference = conference
        ballots = poll_services.poll_vote(actor=user, poll=poll, option_ids=option_ids)
        outcome.frames.append(
            self._with_ref({"type": "ack", "poll": poll.pk, "turnout": {"ballots": ballots}}, ref)
        )
