"""The live thread: one websocket per reader of a thread (protocol: docs/PROTOCOL.md).

The protocol (connect, hello, replay and resync, heartbeat, re-authorisation on every frame and
on ``access.changed``, limits, error frames) is :class:`deliberation.stream_consumer
.StreamConsumer`'s, shared with the conference stream. What is the thread's own is here: who may
view it (``access_thread``), its audience (a forum's moderators see held and hidden text), its
replay with scrubbing (``forums.replay``), its hello (lock, rights to post and moderate) and its
frames, which parse and call ``forums.services`` (which broadcasts after commit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from deliberation.frames import FrameError
from deliberation.stream_consumer import (
    CLOSE_DROPPED,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    PROTOCOL_FRAMES,
    RATE_BURST,
    RATE_PER_SECOND,
    Outcome,
    Refused,
    StreamConsumer,
)
from deliberation.stream_consumer import int_field as _int_field
from forums import permissions, selectors, services
from forums.errors import ServiceError
from forums.models import Thread

__all__ = [
    "CLOSE_DROPPED",
    "CLOSE_FORBIDDEN",
    "CLOSE_NOT_FOUND",
    "RATE_BURST",
    "RATE_PER_SECOND",
    "Refused",
    "ThreadConsumer",
]

CLIENT_ID_MAX = 64


def _str_field(frame: dict[str, Any], name: str) -> str:
    value = frame.get(name)
    if not isinstance(value, str):
        raise FrameError("invalid", _("The field “%(name)s” must be text.") % {"name": name})
    return value


def _client_id(frame: dict[str, Any]) -> str:
    value = frame.get("client_id")
    if not isinstance(value, str) or not 1 <= len(value) <= CLIENT_ID_MAX:
        raise FrameError(
            "invalid",
            _("The field “client_id” must be text of 1 to %(max)d characters.")
            % {"max": CLIENT_ID_MAX},
        )
    return value


class ThreadConsumer(StreamConsumer):
    """``ws/threads/<thread_id>/``: a thread's live events, and posting into it."""

    kind = "thread"
    url_kwarg = "thread_id"
    WRITES = frozenset({"post.create", "post.edit", "post.delete", "reaction.toggle"})
    HANDLERS = PROTOCOL_FRAMES | WRITES
    frame_refusals = (ServiceError,)

    @property
    def thread_id(self) -> int:
        return self.stream_id

    @thread_id.setter
    def thread_id(self, value: int) -> None:
        self.stream_id = value

    # --- the stream kind's part (sync side) -----------------------------------------------------

    @contextmanager
    def access_reads(self) -> Iterator[None]:
        # The member's grants are read once for a frame: the consumer and the service ask the
        # same questions of them, and nothing in a frame changes them.
        with permissions.grants_read_once():
            yield

    def access(self, user: Any, pk: int) -> Thread:
        return permissions.access_thread(user, pk)

    def privileged(self, user: Any, stream: Thread) -> bool:
        return permissions.can_moderate(user, stream.forum)

    def head(self, pk: int) -> Thread | None:
        return permissions.thread_head(pk)

    def connect_info(self, user: Any, stream: Thread) -> dict[str, Any]:
        return {
            "forum": stream.forum_id,
            "can_post": permissions.can_post_in_thread(user, stream),
        }

    def moved(self, stream: Thread, info: dict[str, Any]) -> bool:
        # The connect's check answered "moderator?" for this forum; a moved thread asks again.
        return stream.forum_id != info["forum"]

    def hello_extras(self, stream: Thread, info: dict[str, Any]) -> dict[str, Any]:
        return {
            "locked": stream.locked,
            "can_post": info["can_post"],
            "can_moderate": info["can_moderate"],
        }

    def show_names(self, stream: Thread) -> bool:
        return bool(stream.forum.show_presence_names)

    def replay_events(
        self, stream: Thread, after: int, user: Any, moderator: bool | None
    ) -> list[dict[str, Any]]:
        return selectors.events_after(thread=stream, after=after, user=user, moderator=moderator)

    def lost_access_message(self) -> str:
        return _("You no longer have access to this thread.")

    # --- the thread's frames --------------------------------------------------------------------

    def answer(
        self,
        outcome: Outcome,
        kind: str,
        frame: dict[str, Any],
        ref: str | int | None,
        user: Any,
        stream: Any,
    ) -> None:
        thread: Thread = stream
        if not user.is_authenticated:
            raise ServiceError("forbidden", _("Please sign in to take part."))
        if kind == "post.create":
            client_id = _client_id(frame)
            body = _str_field(frame, "body")
            reply_to = frame.get("reply_to")
            if reply_to is not None:
                reply_to = _int_field(frame, "reply_to")
            self._check_participation(user, thread)
            post, _created = services.post_create(
                actor=user, thread=thread, body=body, client_id=client_id, reply_to_id=reply_to
            )
            ack = {
                "type": "ack",
                "client_id": client_id,
                "post": post.pk,
                "seq": post.seq,
                "state": str(post.state),
            }
            # ``id`` (checked in _receive) if the frame had one; the ack names client_id anyway.
            outcome.frames.append(self._with_ref(ack, frame.get("id")))
            return
        post_id = _int_field(frame, "post")
        body = _str_field(frame, "body") if kind == "post.edit" else ""
        if kind != "post.delete":
            # Withdrawing one's own post needs no right to take part (as over HTTP).
            self._check_participation(user, thread)
        post = self._post(user, post_id)
        ack: dict[str, Any] = {"type": "ack", "post": post.pk}
        if kind == "post.edit":
            services.post_edit(actor=user, post=post, body=body)
        elif kind == "post.delete":
            services.post_delete(actor=user, post=post)
        else:
            reacted, count = services.reaction_toggle(actor=user, post=post)
            ack.update(reacted=reacted, reactions=count)
        outcome.frames.append(self._with_ref(ack, ref))

    @staticmethod
    def _check_participation(user: Any, thread: Thread) -> None:
        """The right to take part, on the thread ``_handle`` fetched and authorised for this frame.

        (The services check it again; this answers a member who may only read before a frame's
        fields are looked at, as the HTTP views do.)
        """
        if not permissions.can_participate(user, thread.forum):
            raise ServiceError("forbidden", _("You may not take part in this forum."))

    def _post(self, user: Any, post_id: int) -> Any:
        try:
            post = permissions.access_post(user, post_id)
        except (Http404, PermissionDenied):
            post = None
        if post is None or post.thread_id != self.thread_id:
            raise ServiceError("not_found", _("This post does not exist in this thread."))
        return post
