"""The live stream socket: one protocol for every stream kind (docs/PROTOCOL.md).

A stream is a row with a gap-free ``last_seq`` and an outbox (:mod:`deliberation.streams`); a
thread and a conference are streams. :class:`StreamConsumer` owns the protocol every stream
speaks: the connect (shed with 4503 under a burst), ``hello`` with the head, replay and
``resync`` from the outbox with live events held back meanwhile, de-duplication by seq, the
heartbeat (``pong`` carries the head), the frame budget, error frames, and re-authorisation on
every frame, on ``access.changed`` and at the session's expiry. Events reach the socket through
this process's hub (:mod:`deliberation.hub`), never through a channel-layer channel of its own.

A stream kind subclasses it and supplies only what is its own (see "The stream kind's part"):
how its URL names the stream and who may view it, its replay source, its audience (a thread's
moderators see more), its extra client frames, and what its ``hello`` says beyond the head.
Nothing a client sends may crash the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
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
from deliberation.replay import REPLAY_LIMIT
from deliberation.session_watch import SessionWatchMixin
from deliberation.socket_auth import connect_session_expiry, member_behind

logger = logging.getLogger(__name__)

#: Per-socket frame budget: a burst of this many frames, refilled at RATE_PER_SECOND.
RATE_BURST = 20
RATE_PER_SECOND = 10.0

#: Close codes (docs/PROTOCOL.md). Refusals at connect happen before the handshake completes,
#: so a browser sees them as a failed connection; the codes matter for later closes.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_DROPPED = 4500

#: The protocol's own client frames; a stream kind adds its own to ``HANDLERS``.
PROTOCOL_FRAMES = frozenset({"ping", "resync"})

_AFTER = re.compile(r"\d{1,18}")


class Refused(Exception):
    """The socket may no longer read the stream: answer ``forbidden`` and close."""


@dataclass
class Outcome:
    """What one frame produced: frames to send, and whether the socket's audience changed."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    #: The socket's audience as of this frame: True for the stream's privileged readers.
    moderator: bool = False
    replay_through: int | None = None
    #: The rights seen by ``hello`` differ from those at connect: re-authorise once more.
    recheck: bool = False


def int_field(frame: dict[str, Any], name: str, *, minimum: int = 1) -> int:
    value = frame.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FrameError("invalid", _("The field “%(name)s” must be a number.") % {"name": name})
    return value


def seq_of(message: dict[str, Any]) -> int | None:
    """The ``seq`` of a stream event the hub delivered, or None (presence and the like)."""
    try:
        seq = json.loads(message["text"]).get("seq")
    except (ValueError, AttributeError, KeyError, TypeError):
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def with_ref(frame: dict[str, Any], ref: str | int | None) -> dict[str, Any]:
    if ref is not None and "ref" not in frame:
        frame["ref"] = ref
    return frame


class StreamConsumer(DirectDispatch, SessionWatchMixin, AsyncWebsocketConsumer):
    """``ws/<kind>s/<pk>/``: one stream's live events, replay and resync, and its frames."""

    # No channel-layer channel per socket: an alias that is not configured makes channels skip
    # it; the hub is this socket's only path to the layer.
    channel_layer_alias = "__hub_only__"

    # --- the stream kind's part -----------------------------------------------------------------

    #: The stream kind: hub group ``<kind>.<pk>``, and the key frames name the stream by.
    kind: ClassVar[str]
    #: The URL route's keyword that carries the stream's pk.
    url_kwarg: ClassVar[str]
    #: Client frames this stream answers; the protocol's own (``ping``, ``resync``) included.
    HANDLERS: ClassVar[frozenset[str]] = PROTOCOL_FRAMES
    #: Those of ``HANDLERS`` that write: answered on the process's database thread.
    WRITES: ClassVar[frozenset[str]] = frozenset()
    #: Refusals a stream's own frames may raise besides FrameError (with ``code``, ``message``
    #: and ``details``, like it), answered as error frames; they must change nothing.
    frame_refusals: ClassVar[tuple[type[Exception], ...]] = ()
    #: A client further behind than this is told to reload (``reset``), not replayed to.
    replay_limit: ClassVar[int] = REPLAY_LIMIT

    def access(self, user: Any, pk: int) -> Any:
        """The stream if ``user`` may view it, else Http404 / PermissionDenied (sync side).

        Runs at connect and again on every frame and every re-check.
        """
        raise NotImplementedError

    def privileged(self, user: Any, stream: Any) -> bool:
        """Whether ``user`` reads the stream's privileged audience (a thread's moderators)."""
        return False

    def head(self, pk: int) -> Any | None:
        """The stream's row with its ``last_seq`` read now, without an access check (for a
        socket whose access was checked), or None when it is gone."""
        raise NotImplementedError

    def connect_info(self, user: Any, stream: Any) -> dict[str, Any]:
        """What the connect's check learnt that ``hello`` needs (beside member and expiry)."""
        return {}

    def hello_extras(self, stream: Any, info: dict[str, Any]) -> dict[str, Any]:
        """The stream's own fields of ``hello``."""
        return {}

    def moved(self, stream: Any, info: dict[str, Any]) -> bool:
        """Whether the stream changed since the connect's check so that access may differ."""
        return False

    def show_names(self, stream: Any) -> bool:
        """Whether presence frames name the readers."""
        return False

    def replay_events(
        self, stream: Any, after: int, user: Any, moderator: bool | None
    ) -> list[dict[str, Any]]:
        """The stream's events with ``seq > after`` as ``user`` may see them, oldest first, at
        most REPLAY_LIMIT. ``moderator``: the audience if known, None to ask again."""
        raise NotImplementedError

    def answer(
        self,
        outcome: Outcome,
        kind: str,
        frame: dict[str, Any],
        ref: str | int | None,
        user: Any,
        stream: Any,
    ) -> None:
        """Answer one of the stream's own frames (``HANDLERS`` beyond ping and resync)."""
        raise FrameError("invalid", _("Unknown message type."))

    def lost_access_message(self) -> str:
        return _("You no longer have access to this stream.")

    @contextlib.contextmanager
    def access_reads(self) -> Iterator[None]:
        """The block of one frame's access questions (a stream may read grants once in it)."""
        yield

    # --- state ----------------------------------------------------------------------------------

    stream_id: int
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
    #: After a replay: live events up to this seq were replayed already. On Redis an event
    #: committed before the replay's read can still be in flight to the hub after the buffer
    #: was flushed; it is dropped here. Cleared by the first later event, so the steady state
    #: parses no event.
    _drop_through: int | None = None
    #: The socket's access was refused: it is sending its error and closing, and nothing the hub
    #: delivers meanwhile may reach it (seen in CI: a post after a revocation slipped in between).
    _refused = False
    member_id: int | None = None
    display_name: str | None = None
    _show_names = False
    _guest = False
    #: The frame budget's clock (seconds); tests replace it with one they move by hand.
    clock: Callable[[], float] = time.monotonic

    # --- connect --------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._raw = protocol_of(self.scope)
        self.stream_id = int(self.scope["url_route"]["kwargs"][self.url_kwarg])
        self.group = group_name(self.kind, self.stream_id)
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
                logger.exception("live %s %s: connect failed", self.kind, self.stream_id)
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
                logger.exception("live %s %s: hello failed", self.kind, self.stream_id)
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
        with self.access_reads():
            stream = self.access(user, self.stream_id)
            self._remember(user, stream)
            member = None
            if user.is_authenticated:
                # The badge in this reader's own language: for the own posts it draws at once.
                member = {
                    "id": user.pk,
                    "display_name": user.display_name,
                    "badge": str(user.badge),
                }
            return {
                "member": member,
                "can_moderate": self.privileged(user, stream),
                **self.connect_info(user, stream),
                "expires": connect_session_expiry(self.scope) if user.is_authenticated else None,
            }

    def _remember(self, user: Any, stream: Any) -> None:
        """Who is behind the socket, for presence and for error messages (sync side)."""
        self.language = getattr(user, "language", None) or settings.LANGUAGE_CODE
        self.member_id = user.pk if user.is_authenticated else None
        self._show_names = self.show_names(stream)
        self._guest = bool(user.is_authenticated and user.is_guest)
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
        # only a move of the stream in between would go unseen, so that is compared here.
        user = self.scope.get("user") or AnonymousUser()
        stream = self.head(self.stream_id)
        if stream is None:
            raise Refused
        outcome = Outcome(recheck=self.moved(stream, info))
        outcome.frames.append(
            {
                "type": "hello",
                "protocol": 1,
                self.kind: stream.pk,
                "seq": stream.last_seq,
                "online": self.hub.presence_count(self.group),
                "member": info["member"],
                **self.hello_extras(stream, info),
                "max_frame_bytes": settings.WS_MAX_FRAME_BYTES,
                "heartbeat": settings.LIVE_HEARTBEAT_SECONDS,
            }
        )
        # The connect's check answered the audience; a moved stream asks again.
        moderator = None if outcome.recheck else info["can_moderate"]
        with self.access_reads():
            self._replay(outcome, user, stream, after, moderator=moderator)
        return outcome

    def _replayed(
        self, stream: Any, after: int, user: Any, last: int, moderator: bool | None = None
    ) -> tuple[list[str], int]:
        """The encoded events of ``stream`` after ``after`` as ``user`` may see them, and the
        highest seq among them and ``last`` (sync side)."""
        texts = []
        for event in self.replay_events(stream, after, user, moderator):
            texts.append(encode(event))
            last = max(last, int(event.get("seq", 0)))
        return texts, last

    def _replay(
        self,
        outcome: Outcome,
        user: Any,
        stream: Any,
        after: int | None,
        *,
        moderator: bool | None = None,
    ) -> None:
        """Append what a client at ``after`` misses, then ``synced`` (sync side)."""
        last = stream.last_seq
        outcome.replay_through = last
        if after is None or after == last:
            # Nothing to replay: the stream's head was read just now, and whatever is committed
            # after it reaches the socket live (it joined the stream's group before this read).
            # A conference's arrival is mostly such connects: no query for them.
            outcome.frames.append({"type": "synced", self.kind: stream.pk, "seq": last})
            return
        if after > last or last - after > self.replay_limit:
            outcome.frames.append(
                {
                    "type": "reset",
                    self.kind: stream.pk,
                    "seq": last,
                    "reason": "ahead" if after > last else "too_far_behind",
                }
            )
            return
        texts, last = self._replayed(stream, after, user, last, moderator)
        outcome.texts.extend(texts)
        outcome.replay_through = last
        outcome.frames.append({"type": "synced", self.kind: stream.pk, "seq": last})

    # --- the hub --------------------------------------------------------------------------------

    async def _subscribe(self, *, moderator: bool) -> None:
        self._moderator = moderator
        self._subscribed = True
        await self.hub.subscribe(
            self.group,
            self,
            audience=MODERATOR if moderator else MEMBER,
            member_id=self.member_id,
            name=self.display_name if self._show_names else None,
            presence={self.kind: self.stream_id},
            show_names=self._show_names,
            # Guests never see who else is there, only how many (issue #12).
            sees_names=not self._guest,
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
        if self._refused:
            return
        if message["text"] == ACCESS_CHANGED_TEXT:
            # Control event of the member group: re-authorise, never forward it.
            self._access_changed()
            return
        if self._buffer is not None:
            self._buffer.append(message)
            return
        if self._drop_through is not None:
            seq = seq_of(message)
            if seq is not None:
                if seq <= self._drop_through:
                    return
                self._drop_through = None
        # Under daphne the shared message is framed once for all sockets (deliberation.fastsend);
        # elsewhere, or once the socket is closing, the ordinary ASGI send.
        if self._raw is None or not send_prepared(self._raw, message):
            await self.base_send(message)

    async def hub_dropped(self) -> None:
        # Dropped from one group (stream or member): _close leaves whichever groups remain.
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
            self._recheck(), name=f"recheck-{self.kind}-{self.stream_id}"
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
                    self._refused = True
                    self._buffer = None
                    await self._send_error("forbidden", str(exc), None)
                    await self._close(CLOSE_FORBIDDEN)
                    return
                except Exception:
                    # Fail closed: the client reconnects, and the connect checks its rights.
                    logger.exception(
                        "live %s %s: re-checking access failed", self.kind, self.stream_id
                    )
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
        """The socket's access as of now: its audience; raises Refused when it is lost."""
        with translation.override(self.language):
            user = self._current_user()
            stream = self._access_or_refuse(user)
            return self.privileged(user, stream)

    def _access_or_refuse(self, user: Any) -> Any:
        try:
            return self.access(user, self.stream_id)
        except (Http404, PermissionDenied):
            raise Refused(self.lost_access_message()) from None

    async def _replay_buffered_as_member(self) -> None:
        """Replace held privileged texts of stream events by the member's view (replay)."""
        buffer = self._buffer or []
        first: int | None = None
        kept = []
        for message in buffer:
            seq = seq_of(message)
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
        stream = self.head(self.stream_id)
        if stream is None:
            return [], after
        return self._replayed(stream, after, user, after)

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
                seq = seq_of(message)
                if seq is not None and seq <= through:
                    continue
            await self.base_send(message)
        # No await between the last check and this: nothing delivered meanwhile is lost.
        if not self._recheck_pending:
            self._buffer = None
            self._drop_through = through

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
            self._refused = True
            await self._send_error("forbidden", str(exc), ref)
            await self._close(CLOSE_FORBIDDEN)
        except Exception:
            logger.exception("live %s %s: a frame failed", self.kind, self.stream_id)
            with translation.override(self.language):
                message = _("Something went wrong on the server. Please try again.")
            await self._send_error("internal", message, ref)
        finally:
            if buffering:
                if self._closing:
                    self._buffer = None
                else:
                    await self._flush_buffer(through)

    def _answer_frame(self, kind: str, frame: dict[str, Any], ref: str | int | None) -> Outcome:
        """Re-authorise, then answer one frame (sync side: writes on the database thread,
        reads on the read pool; see ``_handle`` and ``_handle_read``).

        The stream's access questions are asked inside :meth:`access_reads`: the consumer and
        the services ask the same questions, and nothing in a frame changes the answers.
        """
        with translation.override(self.language), self.access_reads():
            user = self._current_user()
            if user.is_authenticated and user.language:
                self.language = user.language
                translation.activate(self.language)
            stream = self._access_or_refuse(user)
            outcome = Outcome(moderator=self.privileged(user, stream))
            try:
                if kind == "ping":
                    # The stream's head: a client that missed the last event learns it here.
                    outcome.frames.append(with_ref({"type": "pong", "seq": stream.last_seq}, ref))
                elif kind == "resync":
                    after = int_field(frame, "after", minimum=0)
                    self._replay(outcome, user, stream, after)
                else:
                    self.answer(outcome, kind, frame, ref, user, stream)
            except (FrameError, *self.frame_refusals) as exc:
                outcome.frames.append(
                    error_frame(exc.code, exc.message, ref, getattr(exc, "details", None))
                )
            return outcome

    _handle = writes(_answer_frame)
    _handle_read = reads(_answer_frame)

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

    _with_ref = staticmethod(with_ref)

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
