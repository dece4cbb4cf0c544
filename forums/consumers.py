"""The live thread: one websocket per reader of a thread (protocol: docs/PROTOCOL.md).

Thin on purpose: a frame is parsed and checked here, the change is made by ``forums.services``
(which broadcasts after commit), and events reach the socket through this process's hub
(:mod:`deliberation.hub`), never through a channel-layer channel of its own.

Every frame re-authorises: the member is loaded again, the session must still exist, and the
thread is fetched through ``access_thread``. Nothing a client sends may crash the consumer.

A signed-in member's socket also listens on the hub group ``member.<id>``: a service that narrows
the member's rights sends ``access.changed`` there (server-internal, never forwarded), and the
socket re-authorises at once as if a frame had arrived, holding live events back meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from deliberation.fastsend import protocol_of, send_prepared
from deliberation.frames import FrameError, TokenBucket, error_frame, frame_ref, take_frame
from deliberation.hub import get_hub
from deliberation.live import ACCESS_CHANGED_TEXT, MEMBER, MODERATOR, encode, group_name
from deliberation.livework import (
    CLOSE_TRY_AGAIN_LATER,
    DirectDispatch,
    connect_gate,
    reads,
    writes,
)
from deliberation.session_watch import SessionWatchMixin
from deliberation.socket_auth import connect_session_expiry, member_behind
from forums import permissions, selectors, services
from forums.errors import ServiceError
from forums.models import Forum, Thread
from forums.replay import REPLAY_LIMIT

logger = logging.getLogger(__name__)

#: Per-socket frame budget: a burst of this many frames, refilled at RATE_PER_SECOND.
RATE_BURST = 20
RATE_PER_SECOND = 10.0
CLIENT_ID_MAX = 64

#: Close codes (docs/PROTOCOL.md). Refusals at connect happen before the handshake completes,
#: so a browser sees them as a failed connection; the codes matter for later closes.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_DROPPED = 4500

_AFTER = re.compile(r"\d{1,18}")


class Refused(Exception):
    """The socket may no longer read the thread: answer ``forbidden`` and close."""


@dataclass
class Outcome:
    """What one frame produced: frames to send, and whether the socket's audience changed."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    moderator: bool = False
    replay_through: int | None = None
    #: The rights seen by ``hello`` differ from those at connect: re-authorise once more.
    recheck: bool = False


def _int_field(frame: dict[str, Any], name: str, *, minimum: int = 1) -> int:
    value = frame.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FrameError("invalid", _("The field “%(name)s” must be a number.") % {"name": name})
    return value


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


def _replayed(
    thread: Thread, after: int, user: Any, last: int, moderator: bool | None = None
) -> tuple[list[str], int]:
    """The encoded events of ``thread`` after ``after`` as ``user`` may see them, and the
    highest seq among them and ``last`` (sync side). ``moderator`` as for ``events_after``."""
    texts = []
    for event in selectors.events_after(
        thread=thread, after=after, limit=REPLAY_LIMIT, user=user, moderator=moderator
    ):
        texts.append(encode(event))
        last = max(last, int(event.get("seq", 0)))
    return texts, last


def _seq_of(message: dict[str, Any]) -> int | None:
    """The ``seq`` of a thread event the hub delivered, or None (presence and the like)."""
    try:
        seq = json.loads(message["text"]).get("seq")
    except (ValueError, AttributeError, KeyError, TypeError):
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


class ThreadConsumer(DirectDispatch, SessionWatchMixin, AsyncWebsocketConsumer):
    """``ws/threads/<thread_id>/``: a thread's live events, and posting into it."""

    # No channel-layer channel per socket: an alias that is not configured makes channels skip
    # it; the hub is this socket's only path to the layer.
    channel_layer_alias = "__hub_only__"

    thread_id: int
    group: str
    #: Hub deliveries held back while a replay is being sent (None: deliver at once).
    _buffer: list[dict[str, Any]] | None = None
    _raw: Any = None
    _subscribed = False
    _closing = False
    _moderator = False
    #: ``member.<id>`` of a signed-in member (access.changed arrives there), else None.
    _member_group: str | None = None
    #: An access.changed is being handled: live events stay in ``_buffer`` until it is done.
    _recheck_pending = False
    _recheck_task: asyncio.Task[None] | None = None
    #: The replay bound of a buffer whose flush waits for the re-check.
    _pending_through: int | None = None
    member_id: int | None = None
    #: The frame budget's clock (seconds); tests replace it with one they move by hand.
    clock: Callable[[], float] = time.monotonic

    # --- connect --------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._raw = protocol_of(self.scope)
        self.thread_id = int(self.scope["url_route"]["kwargs"]["thread_id"])
        self.group = group_name("thread", self.thread_id)
        self.bucket = TokenBucket(RATE_BURST, RATE_PER_SECOND, clock=self.clock)
        self.language = settings.LANGUAGE_CODE
        self.hub = get_hub()
        #: Serialises client frames, the connect's replay and access re-checks.
        self._lock = asyncio.Lock()
        gate = connect_gate()
        retry_after = gate.admit()
        if retry_after is not None:
            # Shed cleanly: a close the client understands beats a handshake that times out.
            # The hint travels as a frame: daphne drops a close frame's reason.
            await self.accept()
            await self._send_frame({"type": "busy", "retry_after": retry_after})
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        self._db_seconds = 0.0
        try:
            await self._connect()
        finally:
            gate.done()
            gate.record(self._db_seconds)

    async def _connect(self) -> None:
        # The one access check of a connect. The socket joins its member's hub group first: a
        # right revoked after the check reaches it as access.changed, which waits for the lock
        # and re-checks once the socket is up (so hello needs no second check).
        async with self._lock:
            self._buffer = []
            user = self.scope.get("user")
            if user is not None and user.is_authenticated:
                self._member_group = group_name("member", user.pk)
                await self.hub.subscribe(self._member_group, self)
            try:
                info = await self._authorise_connect()
            except Http404:
                await self._unsubscribe()
                await self.close(code=CLOSE_NOT_FOUND)
                return
            except (PermissionDenied, Refused):
                await self._unsubscribe()
                await self.close(code=CLOSE_FORBIDDEN)
                return
            except Exception:
                logger.exception("live thread %s: connect failed", self.thread_id)
                await self._unsubscribe()
                await self.close(code=1011)
                return
            await self.accept()
            after, after_error = self._parse_after()
            if self.member_id is not None:
                # The session's expiry has no event: the socket re-checks at that time itself.
                await self._watch_session(self._access_changed, expires=info["expires"])
            await self._subscribe(moderator=info["can_moderate"])
            try:
                outcome = await self._hello(info, after)
            except Exception:
                logger.exception("live thread %s: hello failed", self.thread_id)
                await self._close(1011)
                return
            if after_error is not None:
                # Right after hello, before anything replayed or synced (docs/PROTOCOL.md).
                outcome.frames.insert(1, error_frame("invalid", after_error, None))
            await self._send_outcome(outcome)
            if outcome.recheck:
                self._access_changed()
            await self._flush_buffer(outcome.replay_through)

    def _parse_after(self) -> tuple[int | None, str | None]:
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        values = query.get("after")
        if not values:
            return None, None
        if _AFTER.fullmatch(values[-1]):
            return int(values[-1]), None
        with translation.override(self.language):
            message = _("“after” must be a sequence number; nothing was replayed.")
        return None, message

    @reads
    def _authorise_connect(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return self._authorise_connect_sync()
        finally:
            self._db_seconds += time.perf_counter() - started

    def _authorise_connect_sync(self) -> dict[str, Any]:
        # The member as the auth middleware found them moments ago (session alive and verified,
        # account active): asking the database again here would tell nothing new.
        user = self.scope.get("user") or AnonymousUser()
        with permissions.grants_read_once():
            thread = permissions.access_thread(user, self.thread_id)
            self._remember(user, thread.forum)
            member = None
            if user.is_authenticated:
                member = {"id": user.pk, "display_name": user.display_name}
            return {
                "member": member,
                "forum": thread.forum_id,
                "can_moderate": permissions.can_moderate(user, thread.forum),
                "can_post": permissions.can_post_in_thread(user, thread),
                "expires": connect_session_expiry(self.scope) if user.is_authenticated else None,
            }

    def _remember(self, user: Any, forum: Forum) -> None:
        """Who is behind the socket, for presence and for error messages (sync side)."""
        self.language = getattr(user, "language", None) or settings.LANGUAGE_CODE
        self.member_id = user.pk if user.is_authenticated else None
        self.show_names = bool(forum.show_presence_names)
        self.display_name = user.display_name if user.is_authenticated else None

    @reads
    def _hello(self, info: dict[str, Any], after: int | None) -> Outcome:
        # Checked again now that the member group is joined: a revocation committed since the
        # connect's check is seen here, one committed later arrives as access.changed.
        started = time.perf_counter()
        try:
            return self._hello_sync(info, after)
        finally:
            self._db_seconds += time.perf_counter() - started

    def _hello_sync(self, info: dict[str, Any], after: int | None) -> Outcome:
        # The socket was authorised by the connect's check and listens for revocations since;
        # only a move of the thread in between would go unseen, so that is compared here.
        user = self.scope.get("user") or AnonymousUser()
        thread = permissions.thread_head(self.thread_id)
        if thread is None:
            raise Refused
        outcome = Outcome(recheck=thread.forum_id != info["forum"])
        outcome.frames.append(
            {
                "type": "hello",
                "protocol": 1,
                "thread": thread.pk,
                "seq": thread.last_seq,
                "locked": thread.locked,
                "online": self.hub.presence_count(self.group),
                "member": info["member"],
                "can_post": info["can_post"],
                "can_moderate": info["can_moderate"],
                "max_frame_bytes": settings.WS_MAX_FRAME_BYTES,
                "heartbeat": settings.LIVE_HEARTBEAT_SECONDS,
            }
        )
        # The connect's check answered "moderator?" for this forum; a moved thread asks again.
        moderator = None if outcome.recheck else info["can_moderate"]
        with permissions.grants_read_once():
            self._replay(outcome, user, thread, after, moderator=moderator)
        return outcome

    def _replay(
        self,
        outcome: Outcome,
        user: Any,
        thread: Thread,
        after: int | None,
        *,
        moderator: bool | None = None,
    ) -> None:
        """Append what a client at ``after`` misses, then ``synced`` (sync side)."""
        last = thread.last_seq
        outcome.replay_through = last
        if after is None or after == last:
            # Nothing to replay: the thread's head was read just now, and whatever is committed
            # after it reaches the socket live (it joined the thread's group before this read).
            # A conference's arrival is mostly such connects: no query for them.
            outcome.frames.append({"type": "synced", "thread": thread.pk, "seq": last})
            return
        if after > last or last - after > REPLAY_LIMIT:
            outcome.frames.append(
                {
                    "type": "reset",
                    "thread": thread.pk,
                    "seq": last,
                    "reason": "ahead" if after > last else "too_far_behind",
                }
            )
            return
        texts, last = _replayed(thread, after, user, last, moderator)
        outcome.texts.extend(texts)
        outcome.replay_through = last
        outcome.frames.append({"type": "synced", "thread": thread.pk, "seq": last})

    # --- the hub --------------------------------------------------------------------------------

    async def _subscribe(self, *, moderator: bool) -> None:
        self._moderator = moderator
        self._subscribed = True
        await self.hub.subscribe(
            self.group,
            self,
            audience=MODERATOR if moderator else MEMBER,
            member_id=self.member_id,
            name=self.display_name if self.show_names else None,
            presence={"thread": self.thread_id},
            show_names=self.show_names,
        )

    async def _unsubscribe(self) -> None:
        self._unwatch_session()
        if self._member_group is not None:
            group, self._member_group = self._member_group, None
            await self.hub.unsubscribe(group, self)
        if self._subscribed:
            self._subscribed = False
            await self.hub.unsubscribe(self.group, self)

    async def hub_send(self, message: dict[str, Any]) -> None:
        if message["text"] == ACCESS_CHANGED_TEXT:
            # Control event of the member group: re-authorise, never forward it.
            self._access_changed()
            return
        if self._buffer is not None:
            self._buffer.append(message)
            return
        # Under daphne the shared message is framed once for all sockets (deliberation.fastsend);
        # elsewhere, or once the socket is closing, the ordinary ASGI send.
        if self._raw is None or not send_prepared(self._raw, message):
            await self.base_send(message)

    async def hub_dropped(self) -> None:
        # Dropped from one group (thread or member): _close leaves whichever groups remain.
        await self._close(CLOSE_DROPPED)

    # --- access.changed -------------------------------------------------------------------------

    def _access_changed(self) -> None:
        """Hold live events back and re-authorise soon, as if a frame had arrived (hub side).

        Synchronous, so nothing the hub delivers after this reaches the client before the
        re-check has decided; the check itself runs in a task, off the hub's fan-out.
        """
        if self._closing:
            return
        if self._buffer is None:
            self._buffer = []
        self._recheck_pending = True
        if self._recheck_task is not None and not self._recheck_task.done():
            return  # the running re-check sees the flag and checks once more
        self._recheck_task = asyncio.get_running_loop().create_task(
            self._recheck(), name=f"recheck-thread-{self.thread_id}"
        )

    async def _recheck(self) -> None:
        async with self._lock:
            # Only this loop flushes while it holds the lock; a flush stops early when another
            # access.changed arrives meanwhile, and the loop checks again.
            while self._recheck_pending and not self._closing:
                self._recheck_pending = False
                try:
                    moderator = await self._reauthorise()
                    if moderator != self._moderator and self._subscribed:
                        await self._subscribe(moderator=moderator)
                        if not moderator:
                            await self._replay_buffered_as_member()
                except Refused as exc:
                    self._buffer = None
                    await self._send_error("forbidden", str(exc), None)
                    await self._close(CLOSE_FORBIDDEN)
                    return
                except Exception:
                    # Fail closed: the client reconnects, and the connect checks its rights.
                    logger.exception("live thread %s: re-checking access failed", self.thread_id)
                    self._buffer = None
                    await self._close(1011)
                    return
                if self._recheck_pending:
                    continue
                through, self._pending_through = self._pending_through, None
                if self._buffer is not None:
                    await self._flush_buffer(through)

    @reads
    def _reauthorise(self) -> bool:
        """The socket's access as of now: whether it moderates; raises Refused when it is lost."""
        with translation.override(self.language):
            user = self._current_user()
            try:
                thread = permissions.access_thread(user, self.thread_id)
            except (Http404, PermissionDenied):
                raise Refused(_("You no longer have access to this thread.")) from None
            return permissions.can_moderate(user, thread.forum)

    async def _replay_buffered_as_member(self) -> None:
        """Replace held moderator texts of thread events by the member's view (replay)."""
        buffer = self._buffer or []
        first: int | None = None
        kept = []
        for message in buffer:
            seq = _seq_of(message)
            if seq is None:
                kept.append(message)
            elif first is None or seq < first:
                first = seq
        if first is None:
            return
        buffer[:] = kept
        texts, through = await self._member_replay(first - 1)
        for text in texts:
            await self.send(text_data=text)
        self._hold_through(through)

    def _hold_through(self, through: int | None) -> None:
        """Remember a replay bound for the flush that the re-check does later."""
        if through is not None and (
            self._pending_through is None or through > self._pending_through
        ):
            self._pending_through = through

    @reads
    def _member_replay(self, after: int) -> tuple[list[str], int]:
        with translation.override(self.language):
            user = self._current_user()
        thread = Thread.objects.get(pk=self.thread_id)
        return _replayed(thread, after, user, after)

    async def _flush_buffer(self, through: int | None) -> None:
        """Send what the hub delivered during a replay, minus what the replay already covered."""
        if self._recheck_pending:
            # An access re-check holds the buffer: it flushes once it has decided.
            self._hold_through(through)
            return
        buffer = self._buffer or []
        while buffer:
            if self._recheck_pending:
                # access.changed arrived during this flush: the rest waits for that re-check.
                self._hold_through(through)
                return
            message = buffer.pop(0)
            if through is not None:
                seq = _seq_of(message)
                if seq is not None and seq <= through:
                    continue
            await self.base_send(message)
        # No await between the last check and this: nothing delivered meanwhile is lost.
        if not self._recheck_pending:
            self._buffer = None

    # --- frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closing:
            return
        # One at a time with an access re-check (access.changed), which may switch the audience.
        async with self._lock:
            await self._receive(text_data, bytes_data)

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        if self._closing:
            return
        ref: str | int | None = None
        buffering = False
        through: int | None = None
        try:
            with translation.override(self.language):
                frame = take_frame(text_data, bytes_data, self.bucket)
                ref = frame_ref(frame)
                kind = frame.get("type")
                if not isinstance(kind, str) or kind not in self.HANDLERS:
                    raise FrameError("invalid", _("Unknown message type."))
            if kind == "resync" and self._buffer is None:
                # Live events wait until the replay is out, so the client sees them in order.
                self._buffer = []
                buffering = True
            # Reads (ping, resync) never queue behind the process's writes.
            handle = self._handle if kind in self.WRITES else self._handle_read
            outcome = await handle(kind, frame, ref)
            through = outcome.replay_through
            if outcome.moderator != self._moderator and self._subscribed:
                await self._subscribe(moderator=outcome.moderator)
            await self._send_outcome(outcome)
        except FrameError as exc:
            ref = ref if exc.ref is None else exc.ref
            await self._send_error(exc.code, exc.message, ref, exc.details)
        except Refused as exc:
            await self._send_error("forbidden", str(exc), ref)
            await self._close(CLOSE_FORBIDDEN)
        except Exception:
            logger.exception("live thread %s: a frame failed", self.thread_id)
            with translation.override(self.language):
                message = _("Something went wrong on the server. Please try again.")
            await self._send_error("internal", message, ref)
        finally:
            if buffering:
                if self._closing:
                    self._buffer = None
                else:
                    await self._flush_buffer(through)

    HANDLERS = frozenset(
        {"ping", "resync", "post.create", "post.edit", "post.delete", "reaction.toggle"}
    )
    WRITES = frozenset({"post.create", "post.edit", "post.delete", "reaction.toggle"})

    def _answer_frame(self, kind: str, frame: dict[str, Any], ref: str | int | None) -> Outcome:
        """Re-authorise, then answer one frame (sync side: writes on the database thread,
        reads on the read pool; see ``_handle`` and ``_handle_read``).

        The member's grants are read once for the frame: the consumer and the service ask the
        same questions of them, and nothing in a frame changes them.
        """
        with translation.override(self.language), permissions.grants_read_once():
            user = self._current_user()
            if user.is_authenticated and user.language:
                self.language = user.language
                translation.activate(self.language)
            try:
                thread = permissions.access_thread(user, self.thread_id)
            except (Http404, PermissionDenied):
                raise Refused(_("You no longer have access to this thread.")) from None
            outcome = Outcome(moderator=permissions.can_moderate(user, thread.forum))
            try:
                self._answer(outcome, kind, frame, ref, user, thread)
            except (ServiceError, FrameError) as exc:
                outcome.frames.append(error_frame(exc.code, exc.message, ref, exc.details))
            return outcome

    _handle = writes(_answer_frame)
    _handle_read = reads(_answer_frame)

    def _answer(
        self,
        outcome: Outcome,
        kind: str,
        frame: dict[str, Any],
        ref: str | int | None,
        user: Any,
        thread: Thread,
    ) -> None:
        if kind == "ping":
            # The stream's head: a client that missed the last event learns it here (#8).
            outcome.frames.append(self._with_ref({"type": "pong", "seq": thread.last_seq}, ref))
            return
        if kind == "resync":
            after = _int_field(frame, "after", minimum=0)
            self._replay(outcome, user, thread, after)
            return
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

    def _current_user(self) -> Any:
        """The member behind the socket as of now (sync side); raises Refused when gone.

        The session must still exist and still verify (a password change or a logout ends it),
        and the account must be active, exactly as for an HTTP request.
        """
        user = member_behind(self.scope)
        if user is None:
            raise Refused(_("Your session has ended. Please sign in again."))
        return user

    # --- sending --------------------------------------------------------------------------------

    @staticmethod
    def _with_ref(frame: dict[str, Any], ref: str | int | None) -> dict[str, Any]:
        if ref is not None and "ref" not in frame:
            frame["ref"] = ref
        return frame

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))

    async def _send_error(
        self,
        code: str,
        message: str,
        ref: str | int | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if self._closing:
            return
        await self._send_frame(error_frame(code, message, ref, details))

    async def _send_outcome(self, outcome: Outcome) -> None:
        """Frames in order: a ``hello`` first, then the replayed events, then the rest."""
        frames = list(outcome.frames)
        if frames and frames[0]["type"] == "hello":
            await self._send_frame(frames.pop(0))
        for text in outcome.texts:
            await self.send(text_data=text)
        for frame in frames:
            await self._send_frame(frame)

    async def _close(self, code: int) -> None:
        if self._closing:
            return
        self._closing = True
        await self._unsubscribe()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        self._closing = True
        await self._unsubscribe()
