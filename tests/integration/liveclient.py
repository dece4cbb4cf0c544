"""A protocol client of a live stream (a thread, a conference) for tests against real servers
(docs/PROTOCOL.md), and what it saw.

It behaves as the platform's browser script is meant to, on the parts that matter under faults:

- connects with ``?after=<last_seq>``, always, and re-sends every unacknowledged ``post.create``
  with its original ``client_id`` after each ``hello`` (the server makes that idempotent);
- applies each thread event once: an event with ``seq <= last_seq`` is ignored, live or replayed;
  a live event beyond ``last_seq + 1`` is a gap: it sends ``resync`` and waits for ``synced``;
- pings every ``heartbeat`` seconds; a ``pong`` carries the thread's head (``seq``), and a head
  beyond ``last_seq`` while no replay is running makes it send ``resync`` (it missed an event and
  nothing else would tell it);
- a ``busy`` frame and a close with code 4503 is the server shedding a connect burst: it waits
  ``retry_after * (1 + random())`` seconds (``retry_after`` from the ``busy`` frame) and
  connects again; any other close or failure: exponential backoff with jitter;
- 4403 and 4404 end it (the server says it will never be let in).

It records, per client, what the fault tests compare against the database: each applied seq and
whether it came live or by a replay, duplicates (a seq received again after it was applied),
acks, errors, connections, sheds and failed handshakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.servers import DaphneServer

#: Frames that carry no thread event (``seq`` there, if any, means something else).
NOT_EVENTS = frozenset({"hello", "synced", "reset", "ack", "pong", "presence", "error"})
#: Close codes after which a client never comes back (docs/PROTOCOL.md, "Close codes").
FINAL_CLOSES = frozenset({4403, 4404})
SHED = 4503
BUSY = "busy"


class Shed(Exception):
    """The server shed this connect (a ``busy`` frame, then 4503)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"shed, retry after {retry_after} s")
        self.retry_after = retry_after


#: Errors after which a post is sent again (same client_id) rather than given up.
RETRY_ERRORS = frozenset({"internal", "rate_limited"})


@dataclass
class Record:
    """What one client saw (the tests' evidence)."""

    #: Thread events applied, in order of application (never a seq twice: de-duplicated).
    applied: list[int] = field(default_factory=list)
    #: seq -> "live" or "replay" (a replay after connect or after a resync).
    via: dict[int, str] = field(default_factory=dict)
    #: seq -> loop time at which it was applied.
    applied_at: dict[int, float] = field(default_factory=dict)
    #: How often each seq arrived (applied or not).
    received: Counter[int] = field(default_factory=Counter)
    #: Seqs that arrived outside a replay: certainly live frames. (During a replay a live frame
    #: that was on its way before the server took the resync arrives too, and the replay then
    #: sends the same seq again: see :meth:`LiveClient.got_live`.)
    live: set[int] = field(default_factory=set)
    #: A thread event received again after it had been applied (ignored, but counted).
    duplicates: list[int] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    resets: list[dict[str, Any]] = field(default_factory=list)
    #: Successful connections (a ``hello`` received); reconnects = connections - 1.
    connections: int = 0
    #: Connects the server shed with 4503, and the ``retry_after`` each one carried.
    sheds: list[float] = field(default_factory=list)
    #: Failed attempts: refused, handshake error or timeout, closed before ``hello`` (not 4503).
    failures: list[str] = field(default_factory=list)
    #: Close codes of established connections, in order.
    closes: list[int | None] = field(default_factory=list)
    resyncs_after_pong: int = 0
    resyncs_after_gap: int = 0
    pong_timeouts: int = 0
    #: Loop time of the first ``synced``.
    first_synced_at: float | None = None

    @property
    def reconnects(self) -> int:
        return max(0, self.connections - 1)


class LiveClient:
    """One reader (and poster, with a session cookie) of one live stream; see the module doc.

    ``stream`` is the socket path's kind (``threads``, ``conferences``): every stream speaks the
    same protocol, only threads take posts. ``start()`` runs it in the background until
    ``stop()``. Timing parameters are arguments so that tests can run a heartbeat of 1 s where
    browsers use 25 s.
    """

    def __init__(
        self,
        name: str,
        server: DaphneServer,
        stream_id: int,
        *,
        cookie: str | None = None,
        last_seq: int = 0,
        heartbeat: float = 1.0,
        pong_timeout: float = 10.0,
        open_timeout: float = 15.0,
        backoff_first: float = 0.5,
        backoff_cap: float = 5.0,
        post_retry: float = 1.0,
        head_grace: float = 1.0,
        stream: str = "threads",
    ) -> None:
        self.name = name
        self.stream = stream
        self.server = server
        self.stream_id = stream_id
        self.cookie = cookie
        self.last_seq = last_seq
        self.heartbeat = heartbeat
        self.pong_timeout = pong_timeout
        self.open_timeout = open_timeout
        self.backoff_first = backoff_first
        self.backoff_cap = backoff_cap
        self.post_retry = post_retry
        #: After a pong ahead of us, how long the live event may still be on its way before we
        #: resync (the protocol's "convergence without a next event"; the browser waits 2 s).
        self.head_grace = head_grace
        self.record = Record()
        #: Unacknowledged posts: client_id -> body, in the order they were made.
        self.pending: dict[str, str] = {}
        #: Every post this client made (client_id -> body), acknowledged or not.
        self.posted: dict[str, str] = {}
        self.hello: dict[str, Any] | None = None
        self.connected = asyncio.Event()
        self.synced = asyncio.Event()
        self.done = False
        self._ws: Any = None
        self._replaying = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._last_ping: float | None = None
        #: Thread events received ahead of a gap, waiting for the replay: seq -> live/replay.
        self._held: dict[int, str] = {}

    # --- use ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Close the socket and stop reconnecting."""
        self._stopping = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            # A client between attempts (backing off, or in a handshake) has no socket to close.
            done, _pending = await asyncio.wait([self._task], timeout=3)
            if not done:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def post(self, body: str) -> str:
        """Post ``body`` now if connected, else after the next ``hello``; returns the client_id."""
        client_id = uuid.uuid4().hex
        self.pending[client_id] = body
        self.posted[client_id] = body
        if self.connected.is_set():
            await self._send_post(client_id)
        return client_id

    def holds(self, seqs: set[int]) -> bool:
        return seqs <= set(self.record.applied)

    def got_live(self, seq: int) -> bool:
        """Whether ``seq`` reached this client by a live frame (not only by a replay).

        A seq that arrived twice came once live and once replayed: the server replays a range
        once per resync, and a resync overlaps a live frame only when the frame was on its way.
        """
        return seq in self.record.live or self.record.received[seq] >= 2

    @property
    def applied_set(self) -> set[int]:
        return set(self.record.applied)

    # --- the connection loop --------------------------------------------------------------------

    def _url(self) -> str:
        return f"{self.server.ws_url}/ws/{self.stream}/{self.stream_id}/?after={self.last_seq}"

    async def _run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        delay = self.backoff_first
        while not self._stopping:
            headers = {"Cookie": self.cookie} if self.cookie else {}
            wait: float | None = None
            try:
                ws = await connect(
                    self._url(),
                    origin=self.server.url,
                    additional_headers=headers,
                    open_timeout=self.open_timeout,
                    # The protocol's heartbeat is the application's ping; no library pings.
                    ping_interval=None,
                    close_timeout=2,
                    max_queue=None,
                )
            except Exception as exc:
                self.record.failures.append(f"connect: {type(exc).__name__}: {exc}")
                wait = self._jitter(delay)
                delay = min(delay * 2, self.backoff_cap)
            else:
                self._ws = ws
                try:
                    first = json.loads(await asyncio.wait_for(ws.recv(), self.open_timeout))
                    if first.get("type") == BUSY:
                        # Shed: the hint comes as a frame, then the close (4503).
                        raise Shed(self._retry_after(first.get("retry_after")))
                except Shed as shed:
                    self.record.sheds.append(shed.retry_after)
                    wait = shed.retry_after * (1 + random.random())
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd else None
                    if code == SHED:
                        retry_after = self._retry_after(None)
                        self.record.sheds.append(retry_after)
                        wait = retry_after * (1 + random.random())
                    elif code in FINAL_CLOSES:
                        self.record.failures.append(f"refused with {code}")
                        break
                    else:
                        self.record.failures.append(f"closed before hello: {code}")
                        wait = self._jitter(delay)
                        delay = min(delay * 2, self.backoff_cap)
                except Exception as exc:
                    self.record.failures.append(f"hello: {type(exc).__name__}: {exc}")
                    wait = self._jitter(delay)
                    delay = min(delay * 2, self.backoff_cap)
                else:
                    delay = self.backoff_first
                    code = await self._session(ws, first)
                    self.record.closes.append(code)
                    if code in FINAL_CLOSES:
                        break
                    wait = self._jitter(delay)
                finally:
                    self._ws = None
                    self.connected.clear()
                    with contextlib.suppress(Exception):
                        await ws.close()
            if wait is not None and not self._stopping:
                await asyncio.sleep(wait)
        self.done = True

    @staticmethod
    def _retry_after(value: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        return float(value) if ok else 1.0

    @staticmethod
    def _jitter(delay: float) -> float:
        return delay * (0.5 + random.random() / 2)

    async def _session(self, ws: Any, hello: dict[str, Any]) -> int | None:
        """One established connection, from its ``hello`` to its close; returns the close code."""
        from websockets.exceptions import ConnectionClosed

        if hello.get("type") != "hello":
            self.record.errors.append({"unexpected_first_frame": hello})
        self.hello = hello
        self.record.connections += 1
        # Connected with ?after=: the server replays, then sends synced.
        self._replaying = True
        self.connected.set()
        for client_id in list(self.pending):
            await self._send_post(client_id)
        pinger = asyncio.get_running_loop().create_task(self._ping_loop(ws))
        try:
            async for text in ws:
                await self._on_frame(ws, json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pinger
            self._replaying = False
            self._last_ping = None
            self._held.clear()  # the next connect replays from last_seq
        return ws.close_code

    async def _ping_loop(self, ws: Any) -> None:
        loop = asyncio.get_running_loop()
        # Spread the clients' pings over the interval rather than all in the same instant.
        await asyncio.sleep(random.random() * self.heartbeat)
        while True:
            if self._last_ping is not None and loop.time() - self._last_ping > self.pong_timeout:
                self.record.pong_timeouts += 1
                await ws.close(code=4000, reason="pong timeout")
                return
            if self._last_ping is None:
                self._last_ping = loop.time()
                await self._send(ws, {"type": "ping"})
            await asyncio.sleep(self.heartbeat)

    async def _send(self, ws: Any, frame: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps(frame))

    async def _send_post(self, client_id: str) -> None:
        ws = self._ws
        if ws is None or client_id not in self.pending:
            return
        body = self.pending[client_id]
        await self._send(ws, {"type": "post.create", "client_id": client_id, "body": body})

    async def _resync_if_behind(self, ws: Any, head: int) -> None:
        """A pong said the head is ``head``; if its event has not come live meanwhile, fetch it."""
        if ws is not self._ws or self._replaying or self.last_seq >= head:
            return
        self.record.resyncs_after_pong += 1
        try:
            await self._resync(ws)
        except Exception:  # the socket went away meanwhile: the reconnect replays anyway
            return

    async def _resync(self, ws: Any) -> None:
        self._replaying = True
        await self._send(ws, {"type": "resync", "after": self.last_seq})

    # --- frames ---------------------------------------------------------------------------------

    async def _on_frame(self, ws: Any, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        seq = frame.get("seq")
        loop = asyncio.get_running_loop()
        if kind not in NOT_EVENTS and isinstance(seq, int):
            self.record.received[seq] += 1
            if not self._replaying:
                self.record.live.add(seq)
            if seq in self.record.via:
                self.record.duplicates.append(seq)
                return
            if seq <= self.last_seq:
                return  # not applied before, but behind us (e.g. hidden from this reader)
            if seq == self.last_seq + 1:
                self._apply(seq)
                self._apply_held(contiguous=True)
                return
            if not self._replaying:
                self.record.resyncs_after_gap += 1
                self._held[seq] = "live"
                await self._resync(ws)
                return
            # During a replay a seq may be skipped (an event this reader may not see), but a
            # frame beyond the gap may also be a live one that was on its way before the server
            # took the resync: hold it until the replay fills in before it, or until synced.
            self._held[seq] = "replay"
        elif kind == "synced":
            self._apply_held(contiguous=False)
            self.last_seq = max(self.last_seq, int(frame["seq"]))
            self._replaying = False
            if self.record.first_synced_at is None:
                self.record.first_synced_at = loop.time()
            self.synced.set()
        elif kind == "pong":
            self._last_ping = None
            head = frame.get("seq")
            if isinstance(head, int) and head > self.last_seq and not self._replaying:
                loop.call_later(
                    self.head_grace,
                    lambda: asyncio.ensure_future(self._resync_if_behind(ws, head)),
                )
        elif kind == "ack":
            client_id = frame.get("client_id")
            if isinstance(client_id, str):
                self.record.acks[client_id] = frame
                self.pending.pop(client_id, None)
        elif kind == "error":
            self.record.errors.append(frame)
            ref = frame.get("ref")
            if isinstance(ref, str) and ref in self.pending:
                if frame.get("code") in RETRY_ERRORS:
                    loop.call_later(self.post_retry, self._retry_post, ref)
                else:
                    self.pending.pop(ref, None)
        elif kind == "reset":
            self._held.clear()
            self.record.resets.append(frame)
            self.last_seq = max(self.last_seq, int(frame["seq"]))
            self._replaying = False
            self.synced.set()

    def _apply(self, seq: int, via: str | None = None) -> None:
        self.record.applied.append(seq)
        self.record.via[seq] = via or ("replay" if self._replaying else "live")
        self.record.applied_at[seq] = asyncio.get_running_loop().time()
        self.last_seq = seq

    def _apply_held(self, *, contiguous: bool) -> None:
        """Apply held frames: the next ones in order, or (at ``synced``) all still ahead."""
        for seq in sorted(self._held):
            via = self._held.pop(seq)
            if seq <= self.last_seq:
                continue
            if contiguous and seq != self.last_seq + 1:
                self._held[seq] = via
                return
            self._apply(seq, via)

    def _retry_post(self, client_id: str) -> None:
        if client_id in self.pending and self._ws is not None:
            asyncio.get_running_loop().create_task(self._send_post(client_id))


async def until(condition: Callable[[], bool], what: str, timeout: float) -> float:
    """Wait until ``condition()`` holds; returns the seconds it took. Fails after ``timeout``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        if loop.time() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
    return loop.time() - started
