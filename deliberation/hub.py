"""One hub per process: the only channel-layer subscriber of this process's live sockets.

Why: the per-socket channel-layer path (every socket in a group, ``json.dumps`` per socket) is what
saturates (DESIGN.md, "Fan-out"). Here each process owns ONE layer channel; a group of the layer
has one member per process, not per socket. :mod:`deliberation.live` encodes an event once per
audience; the hub writes that same text to each local socket of the group.

The hub also carries presence (who is online on a resource) across processes: each hub reports
its local sockets to the group (debounced on change, and every ``presence_interval`` seconds),
keeps the other hubs' reports until they expire, and pushes a ``presence`` frame to its local
sockets when the total changes.

The hub is a speed path, never the only path: the layer is at-most-once, and clients close gaps
from the database (resync). So a hub that cannot reach the layer logs, backs off and re-joins;
it never blocks a connect for long.

On Redis (issue #8): an idle read is normal, not a failure; the hub keeps ONE channel for the life
of the process, through quiet periods and through Redis outages alike, so no group ever holds a
dead channel of a living process. After a failure, and whenever its liveness marker shows that
Redis lost its data (a restart), it joins all its groups again. Membership is renewed every
``rejoin_interval`` seconds and expires after the layer's ``group_expiry``, so the channel of a
process that died leaves its groups by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import get_channel_layer

from deliberation.live import MEMBER, MODERATOR, encode, layer_group

logger = logging.getLogger(__name__)

HUB_EVENT = "hub.event"
HUB_PRESENCE = "hub.presence"


class Subscriber(Protocol):
    """What the hub needs of a socket (a consumer)."""

    async def hub_send(self, message: dict[str, Any]) -> None:
        """Write ``message`` (a ready ``websocket.send``, shared by many sockets) to the socket."""

    async def hub_dropped(self) -> None:
        """The hub gave up on this socket (its send failed or stalled): close it."""


@dataclass(eq=False, slots=True)
class Subscription:
    subscriber: Subscriber
    audience: str = MEMBER
    #: For presence: who is behind the socket (``None``: anonymous reader) and the name shown.
    member_id: int | None = None
    name: str | None = None
    #: Whether this reader's presence frames may carry the names (a guest gets the count only).
    sees_names: bool = True


@dataclass(slots=True)
class PresenceReport:
    members: dict[int, str | None]
    anonymous: int
    expires_at: float


@dataclass(slots=True)
class GroupPresence:
    """Presence settings of one group: the resource a frame names, and whether names are shown."""

    resource: dict[str, Any]
    show_names: bool = False
    remote: dict[str, PresenceReport] = field(default_factory=dict)
    last_pushed: tuple[int, tuple[str, ...]] | None = None


class Hub:
    """Receives every live event of this process's groups and writes it to the local sockets.

    Create through :func:`get_hub`; the hub starts itself on the first :meth:`subscribe`.
    Intervals are parameters so that tests can run them fast.
    """

    def __init__(
        self,
        *,
        layer_alias: str = DEFAULT_CHANNEL_LAYER,
        presence_debounce: float = 1.0,
        presence_interval: float = 20.0,
        presence_ttl: float = 60.0,
        rejoin_interval: float = 3600.0,
        send_timeout: float = 5.0,
        join_timeout: float = 5.0,
        liveness_interval: float = 2.0,
        retry_delay: float = 0.1,
        retry_delay_max: float = 5.0,
    ) -> None:
        self.layer_alias = layer_alias
        self.presence_debounce = presence_debounce
        self.presence_interval = presence_interval
        self.presence_ttl = presence_ttl
        self.rejoin_interval = rejoin_interval
        self.send_timeout = send_timeout
        self.join_timeout = join_timeout
        self.liveness_interval = liveness_interval
        self.retry_delay = retry_delay
        self.retry_delay_max = retry_delay_max
        #: Tells this hub's presence reports from the other processes'.
        self.origin = uuid.uuid4().hex
        self.loop: asyncio.AbstractEventLoop | None = None
        self.layer: Any = None
        self.channel: str | None = None
        #: How often the hub was started (1 in a healthy process; tests assert it).
        self.starts = 0
        self._groups: dict[str, dict[Subscriber, Subscription]] = {}
        #: Local groups per layer group (member groups share one layer group, live.layer_group).
        self._layer_refs: dict[str, set[str]] = {}
        #: Join tasks, by layer group.
        self._joins: dict[str, asyncio.Task[None]] = {}
        #: How often this hub joined its groups again after a failure or a Redis restart (tests).
        self.recoveries = 0
        self._presence: dict[str, GroupPresence] = {}
        self._dirty_local: set[str] = set()
        self._dirty_total: set[str] = set()
        self._asked: set[str] = set()
        self._ready: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    def ensure_started(self) -> None:
        """Start the receive loop and the presence ticker, once. Synchronous on purpose.

        There is no ``await`` between the check and the claim, so two connects that race cannot
        start two loops on one process.
        """
        if self._tasks or self._closed:
            return
        self.loop = asyncio.get_running_loop()
        self.starts += 1
        self._ready = asyncio.Event()
        self._tasks = [
            self.loop.create_task(self._receive_loop(), name="hub-receive"),
            self.loop.create_task(self._tick_loop(), name="hub-presence"),
        ]

    async def close(self) -> None:
        """Stop the loops and leave every group (tests; a process that exits just stops)."""
        self._closed = True
        tasks = [*self._tasks, *self._joins.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            # channels_redis may finish a blocking pop before it honours the cancel: don't wait.
            await asyncio.wait(tasks, timeout=0.5)
        if self.layer is not None and self.channel is not None:
            for joined in list(self._layer_refs):
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(joined, self.channel)
        self._groups.clear()
        self._layer_refs.clear()
        self._joins.clear()

    # --- subscribers ----------------------------------------------------------------------------

    async def subscribe(
        self,
        group: str,
        subscriber: Subscriber,
        *,
        audience: str = MEMBER,
        member_id: int | None = None,
        name: str | None = None,
        presence: dict[str, Any] | None = None,
        show_names: bool = False,
        sees_names: bool = True,
    ) -> None:
        """Deliver ``group``'s events to ``subscriber`` from now on (or again, with new settings).

        Returns once this process has joined the group on the layer (or after ``join_timeout``
        when the layer is unreachable: the join is retried in the background and the client
        closes any gap by resync). ``presence`` is the resource a presence frame names
        (``{"thread": 42}``); without it the group carries no presence. ``show_names`` is the
        group's setting; ``sees_names=False`` gives this subscriber the count only.
        """
        self.ensure_started()
        subs = self._groups.setdefault(group, {})
        subs[subscriber] = Subscription(subscriber, audience, member_id, name, sees_names)
        joined = layer_group(group)
        self._layer_refs.setdefault(joined, set()).add(group)
        if presence is not None:
            state = self._presence.get(group)
            if state is None:
                self._presence[group] = GroupPresence(resource=dict(presence))
            self._presence[group].show_names = show_names
            self._mark_local(group)
        join = self._joins.get(joined)
        if join is None:
            join = self._joins[joined] = asyncio.get_running_loop().create_task(self._join(joined))
        if not join.done():
            try:
                await asyncio.wait_for(asyncio.shield(join), self.join_timeout)
            except TimeoutError:
                logger.warning("hub: joining %s takes long; delivering once joined", group)

    async def unsubscribe(self, group: str, subscriber: Subscriber) -> None:
        """Stop delivering to ``subscriber``; the process leaves the group with its last socket."""
        if self._remove(group, subscriber):
            await self._leave(group)

    def _remove(self, group: str, subscriber: Subscriber) -> bool:
        """Drop a subscriber (synchronously); True when it was the group's last local one."""
        subs = self._groups.get(group)
        if subs is None or subs.pop(subscriber, None) is None:
            return False
        if group in self._presence:
            self._mark_local(group)
        if subs:
            return False
        del self._groups[group]
        return True

    async def _leave(self, group: str) -> None:
        joined = layer_group(group)
        refs = self._layer_refs.get(joined)
        if refs is not None:
            refs.discard(group)
        state = self._presence.pop(group, None)
        self._dirty_local.discard(group)
        self._dirty_total.discard(group)
        self._asked.discard(group)
        if refs:
            return  # other local groups still need the layer group (member groups share one)
        self._layer_refs.pop(joined, None)
        join = self._joins.pop(joined, None)
        if join is not None and not join.done():
            join.cancel()
        if self.layer is None or self.channel is None:
            return
        try:
            if state is not None:
                # Tell the others at once rather than letting our report expire.
                await self._publish_presence(group, members={}, anonymous=0)
            await self.layer.group_discard(joined, self.channel)
        except Exception:
            logger.warning("hub: leaving %s failed", joined, exc_info=True)
        if self._layer_refs.get(joined) and joined not in self._joins:
            # Someone subscribed again while we were leaving: join again.
            self._joins[joined] = asyncio.get_running_loop().create_task(self._join(joined))

    def local_count(self, group: str) -> int:
        return len(self._groups.get(group, ()))

    def presence_count(self, group: str) -> int:
        """How many people are on ``group`` now, across every process that reported."""
        return self._presence_total(group)[0]

    # --- the layer ------------------------------------------------------------------------------

    async def _join(self, joined: str) -> None:
        delay = self.retry_delay
        while True:
            assert self._ready is not None
            await self._ready.wait()
            channel = self.channel
            try:
                await self.layer.group_add(joined, channel)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("hub: joining %s failed; retrying", joined, exc_info=True)
                await asyncio.sleep(delay + random.random() * delay)
                delay = min(delay * 2, self.retry_delay_max)
                if not self._layer_refs.get(joined):
                    return

    async def _rejoin_all(self) -> bool:
        """Join every layer group with local sockets again; True when all joins succeeded.

        Joining is idempotent (it renews the membership's timestamp), so this serves after a
        failure, after Redis lost its data, and as the periodic renewal.
        """
        ok = True
        for joined in list(self._layer_refs):
            try:
                await self.layer.group_add(joined, self.channel)
            except Exception:
                ok = False
                logger.warning("hub: re-joining %s failed", joined, exc_info=True)
        return ok

    async def _open_channel(self) -> None:
        """Create the process's one channel (once: it is kept through every failure)."""
        self.layer = get_channel_layer(self.layer_alias)
        if self.layer is None:
            raise RuntimeError(f"no channel layer {self.layer_alias!r} is configured")
        self.channel = await self.layer.new_channel()
        await self._rejoin_all()
        await self._check_liveness()
        assert self._ready is not None
        self._ready.set()
        logger.info("hub: listening on %s", self.channel)

    async def _recover(self) -> bool:
        """After a failure: join every group again on the same channel; True once it worked."""
        if not await self._rejoin_all():
            return False
        self.recoveries += 1
        self._dirty_local.update(g for g in self._groups if g in self._presence)
        self._asked.clear()
        logger.info("hub: joined %d groups again on %s", len(self._layer_refs), self.channel)
        return True

    async def _receive_loop(self) -> None:
        delay = self.retry_delay
        failed = False
        while not self._closed:
            try:
                if self.channel is None:
                    await self._open_channel()
                elif failed:
                    if not await self._recover():
                        raise ConnectionError("the channel layer is not reachable yet")
                    failed = False
                    delay = self.retry_delay
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                # An idle read that outlived a socket timeout: quiet, not broken. Nothing was
                # lost (channels_redis keeps undelivered messages in Redis): read again.
                logger.debug("hub: an idle read timed out; reading on")
                continue
            except Exception:
                if self._closed:
                    # channels_redis may turn our cancel into another error: we are done.
                    return
                logger.warning(
                    "hub: channel layer failed; joining again in %.1f s", delay, exc_info=True
                )
                failed = True
                await asyncio.sleep(delay + random.random() * delay)
                delay = min(delay * 2, self.retry_delay_max)
                continue
            try:
                await self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub: could not dispatch %r", message.get("type"))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == HUB_EVENT:
            await self._fan_out_event(message["group"], message["texts"])
        elif kind == HUB_PRESENCE:
            self._on_presence_report(message)
        else:
            logger.warning("hub: ignoring a message of type %r", kind)

    # --- fan-out --------------------------------------------------------------------------------

    async def _fan_out_event(self, group: str, texts: dict[str, str]) -> None:
        subs = self._groups.get(group)
        if not subs:
            return
        # One message per audience, shared by every socket: no encoding, no copy per socket.
        member = {"type": "websocket.send", "text": texts[MEMBER]}
        moderator_text = texts.get(MODERATOR)
        moderator = {"type": "websocket.send", "text": moderator_text} if moderator_text else member
        await self._write(
            group,
            [(sub, moderator if sub.audience == MODERATOR else member) for sub in subs.values()],
        )

    async def _write(self, group: str, targets: list[tuple[Subscription, dict[str, Any]]]) -> None:
        """Write to each socket in turn; a failing socket is dropped, a stalled one too.

        Sends on daphne only buffer (they never wait for the client), so one timeout for the
        whole pass, pushed forward before each socket, bounds what one stalled socket can cost
        the others without a timer or task per socket.
        """
        assert self.loop is not None
        index = 0
        while index < len(targets):
            try:
                async with asyncio.timeout(None) as budget:
                    since_armed = 0
                    while index < len(targets):
                        sub, message = targets[index]
                        # A healthy send takes microseconds, so pushing the deadline forward
                        # every 32 sockets bounds a stall just as well as every socket would,
                        # without re-arming a timer per socket on the hot path.
                        if since_armed == 0:
                            budget.reschedule(self.loop.time() + self.send_timeout)
                        since_armed = (since_armed + 1) % 32
                        try:
                            await sub.subscriber.hub_send(message)
                        except Exception:
                            logger.warning("hub: a socket of %s failed; dropping it", group)
                            self._drop(group, sub)
                        index += 1
            except TimeoutError:
                logger.warning("hub: a socket of %s stalled; dropping it", group)
                self._drop(group, targets[index][0])
                index += 1

    def _drop(self, group: str, sub: Subscription) -> None:
        if self._remove(group, sub.subscriber):
            asyncio.get_running_loop().create_task(self._leave(group))
        asyncio.get_running_loop().create_task(self._close_dropped(sub.subscriber))

    @staticmethod
    async def _close_dropped(subscriber: Subscriber) -> None:
        try:
            await subscriber.hub_dropped()
        except Exception:
            logger.debug("hub: closing a dropped socket failed", exc_info=True)

    # --- presence -------------------------------------------------------------------------------

    def _mark_local(self, group: str) -> None:
        self._dirty_local.add(group)

    def _local_presence(self, group: str) -> tuple[dict[int, str | None], int]:
        members: dict[int, str | None] = {}
        anonymous = 0
        for sub in self._groups.get(group, {}).values():
            if sub.member_id is None:
                anonymous += 1
            else:
                members[sub.member_id] = sub.name
        return members, anonymous

    def _presence_total(self, group: str) -> tuple[int, tuple[str, ...]]:
        members, anonymous = self._local_presence(group)
        everyone = dict(members)
        state = self._presence.get(group)
        if state is not None:
            for report in state.remote.values():
                everyone.update(report.members)
                anonymous += report.anonymous
        names: tuple[str, ...] = ()
        if state is not None and state.show_names:
            names = tuple(sorted({name for name in everyone.values() if name}, key=str.casefold))
        return len(everyone) + anonymous, names

    async def _publish_presence(
        self, group: str, *, members: dict[int, str | None], anonymous: int, ask: bool = False
    ) -> None:
        await self.layer.group_send(
            layer_group(group),
            {
                "type": HUB_PRESENCE,
                "group": group,
                "origin": self.origin,
                "members": [[pk, name] for pk, name in members.items()],
                "anonymous": anonymous,
                # A hub new to the group asks the others to report now, not in 20 s.
                "ask": ask,
            },
        )

    def _on_presence_report(self, message: dict[str, Any]) -> None:
        group = message.get("group", "")
        origin = message.get("origin")
        state = self._presence.get(group)
        if state is None or origin == self.origin or group not in self._groups:
            return
        assert self.loop is not None
        members = {int(pk): name for pk, name in message.get("members", [])}
        anonymous = int(message.get("anonymous", 0))
        if members or anonymous:
            state.remote[origin] = PresenceReport(
                members, anonymous, self.loop.time() + self.presence_ttl
            )
        else:
            state.remote.pop(origin, None)
        self._dirty_total.add(group)
        if message.get("ask"):
            self._mark_local(group)

    def _expire_reports(self) -> None:
        assert self.loop is not None
        now = self.loop.time()
        for group, state in self._presence.items():
            stale = [origin for origin, rep in state.remote.items() if rep.expires_at <= now]
            for origin in stale:
                del state.remote[origin]
            if stale:
                self._dirty_total.add(group)

    async def _push_presence(self, group: str) -> None:
        state = self._presence.get(group)
        subs = self._groups.get(group)
        if state is None or not subs:
            return
        count, names = self._presence_total(group)
        if state.last_pushed == (count, names):
            return
        state.last_pushed = (count, names)
        frame: dict[str, Any] = {"type": "presence", **state.resource, "count": count}
        count_only = {"type": "websocket.send", "text": encode(frame)}
        message = count_only
        if state.show_names:
            message = {"type": "websocket.send", "text": encode({**frame, "names": list(names)})}
        await self._write(
            group, [(sub, message if sub.sees_names else count_only) for sub in subs.values()]
        )

    async def flush_presence(self) -> None:
        """Publish changed local presence and push changed totals (the ticker calls this)."""
        local, self._dirty_local = self._dirty_local, set()
        for group in local:
            if group not in self._presence or group not in self._groups:
                continue
            members, anonymous = self._local_presence(group)
            ask = group not in self._asked
            self._asked.add(group)
            try:
                await self._publish_presence(group, members=members, anonymous=anonymous, ask=ask)
            except Exception:
                logger.warning("hub: publishing presence of %s failed", group, exc_info=True)
        totals, self._dirty_total = self._dirty_total | local, set()
        for group in totals:
            await self._push_presence(group)

    async def _tick_loop(self) -> None:
        assert self.loop is not None
        next_report = self.loop.time() + self.presence_interval
        next_rejoin = self.loop.time() + self.rejoin_interval
        next_liveness = self.loop.time() + self.liveness_interval
        while True:
            await asyncio.sleep(min(self.presence_debounce, self.liveness_interval))
            try:
                now = self.loop.time()
                if now >= next_report:
                    next_report = now + self.presence_interval
                    self._dirty_local.update(g for g in self._groups if g in self._presence)
                    self._expire_reports()
                if now >= next_liveness and self.channel is not None:
                    next_liveness = now + self.liveness_interval
                    if not await self._check_liveness():
                        await self._recover()
                if now >= next_rejoin and self.channel is not None:
                    # The layer expires group membership (group_expiry): renew it.
                    next_rejoin = now + self.rejoin_interval
                    await self._rejoin_all()
                if self._dirty_local or self._dirty_total:
                    await self.flush_presence()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub: presence tick failed")

    async def _check_liveness(self) -> bool:
        """Whether Redis still holds what this hub wrote (False after a restart that lost it).

        A marker key with an expiry, rewritten every ``liveness_interval``: when the rewrite
        finds no old value, Redis lost its data (restart, failover) and this hub's group
        memberships with it. Layers without Redis connections (in-memory) always pass.
        """
        connection = getattr(self.layer, "connection", None)
        if connection is None or self.channel is None:
            return True
        key = f"{self.layer.prefix}hub.alive.{self.origin}"
        ttl = max(5, int(self.liveness_interval * 5))
        alive = True
        try:
            for index in range(self.layer.ring_size):
                previous = await connection(index).set(key, b"1", ex=ttl, get=True)
                alive = alive and previous is not None
        except Exception:
            logger.warning("hub: the liveness check failed", exc_info=True)
            return False
        if not alive and self._liveness_seen:
            logger.warning("hub: Redis lost this hub's groups (restarted?); joining again")
            return False
        self._liveness_seen = True
        return True

    _liveness_seen = False

    def groups(self) -> Iterable[str]:
        return list(self._groups)

    def layer_groups(self) -> Iterable[str]:
        """The channel-layer groups this process belongs to (tests)."""
        return list(self._layer_refs)


_hub: Hub | None = None


def get_hub() -> Hub:
    """This process's hub (one per event loop; a test's new loop gets a new hub)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or (_hub.loop is not None and _hub.loop is not loop) or _hub._closed:
        from django.conf import settings

        _hub = Hub(rejoin_interval=settings.LIVE_GROUP_RENEW_SECONDS)
    return _hub


def reset_hub(hub: Hub | None = None) -> None:
    """Replace this process's hub (tests)."""
    global _hub
    _hub = hub
