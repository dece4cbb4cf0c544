"""Where a live socket's database work runs, and how a process admits connects under a burst.

Channels runs every ``database_sync_to_async`` call of a process on ONE thread. Writes belong
there (one writer per process keeps SQLite and the thread's row lock simple), but a connect, a
heartbeat or a resync only reads: on that thread 100 connects at once took 1.8 to 6.3 s, queued
behind each other and behind every post (issue #8). Reads run on a small pool of their own
(:func:`reads`), so they neither wait for writes nor hold them up.

A process that still gets more connects than it can serve sheds the surplus cleanly
(:class:`ConnectGate`): the socket is accepted and closed at once with 1013 ("try again later")
and a JSON reason ``{"retry_after": seconds}``, instead of letting handshakes time out while
clients that gave up reconnect and add to the queue. Clients wait that long, with jitter.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync

F = TypeVar("F", bound=Callable[..., Any])

#: Close code of a shed connect (RFC 6455's registry: "Try Again Later").
CLOSE_TRY_AGAIN_LATER = 1013

#: Threads for a process's live reads. More threads than cores still help on PostgreSQL, where
#: a read mostly waits for the server; SQLite (WAL) reads in parallel with its one writer.
READ_THREADS = max(1, int(os.environ.get("LIVE_READ_THREADS", "4")))

_read_pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="live-read")


def reads(func: F) -> F:
    """Like ``database_sync_to_async``, but on the process's read pool (for reads only).

    Anything that writes (a service call) must stay on ``database_sync_to_async``.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_read_pool)  # type: ignore[return-value]


class ConnectGate:
    """Admits a connect while the process can serve it within ``max_wait`` seconds.

    The expected wait is the number of connects in progress times the recent cost of one
    connect's database work (measured inside the worker thread, so a queue does not count
    twice). Reads of several threads share the interpreter's lock, so the estimate assumes no
    parallelism: it sheds a little early rather than late. Nothing here reads a clock, so tests
    drive the estimate by the costs they record.
    """

    def __init__(self, *, max_wait: float = 2.0) -> None:
        self.max_wait = max_wait
        self.pending = 0
        #: Recent seconds of database work per connect (exponentially weighted).
        self.cost = 0.01
        self.shed = 0

    def expected_wait(self) -> float:
        return self.pending * self.cost

    def admit(self) -> float | None:
        """None if the connect may proceed (call :meth:`done` after), else seconds to wait."""
        wait = self.expected_wait()
        if wait >= self.max_wait:
            self.shed += 1
            return round(min(30.0, max(1.0, wait)), 1)
        self.pending += 1
        return None

    def done(self) -> None:
        """An admitted connect finished (or failed)."""
        self.pending = max(0, self.pending - 1)

    def record(self, seconds: float) -> None:
        """One connect's database work took ``seconds`` (capped: one slow read is no trend)."""
        self.cost = 0.9 * self.cost + 0.1 * min(max(seconds, 0.0), 0.5)

    @staticmethod
    def reason(retry_after: float) -> str:
        return json.dumps({"retry_after": retry_after})


@functools.cache
def connect_gate() -> ConnectGate:
    """This process's gate (``LIVE_CONNECT_MAX_WAIT`` seconds, default 2)."""
    from django.conf import settings

    return ConnectGate(max_wait=settings.LIVE_CONNECT_MAX_WAIT)


class DirectDispatch:
    """Mixin for live consumers: dispatch a message without a hop onto the database thread.

    channels (4.2+) runs ``close_old_connections`` on the process's one database thread before
    every handler, so every connect and every frame of every socket queued there, behind the
    writes (issue #8). The live consumers touch the database only through
    ``database_sync_to_async`` and :func:`reads`, which close old connections around each call
    already, on the thread that owns them.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
