"""Where a live socket's database work runs, and how a process admits connects under a burst.

Channels runs every ``database_sync_to_async`` call of a process on ONE thread. Writes belong
there (one writer per process keeps SQLite and the thread's row lock simple), but a connect, a
heartbeat or a resync only reads: on that thread 100 connects at once took 1.8 to 6.3 s, queued
behind each other and behind every post (issue #8). Reads run on a small pool of their own
(:func:`reads`), so they neither wait for writes nor hold them up.

On SQLite (the embedded default) these long-lived threads keep their database connection
between calls (:class:`LiveDatabaseSyncToAsync`): opening one cost about 2 ms of every frame.
HTTP requests still close theirs (each runs in a thread of its own under ASGI, so
``CONN_MAX_AGE`` stays 0), and on PostgreSQL psycopg's pool makes a fresh connection cheap.

A process that still gets more connects than it can serve sheds the surplus cleanly
(:class:`ConnectGate`): the socket is accepted, sent ``{"type": "busy", "retry_after": seconds}``
and closed at once with 4503 ("try again later"), instead of letting handshakes time out while
clients that gave up reconnect and add to the queue. Clients wait that long, with jitter.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from django.db import close_old_connections, connections

F = TypeVar("F", bound=Callable[..., Any])

#: Close code of a shed connect: "try again later", in the application's range (4000-4999) like
#: 4403 and 4404. Not RFC 6455's 1013: autobahn (daphne) lets a server send only 1000 and
#: 3000-4999, and refused to send it.
CLOSE_TRY_AGAIN_LATER = 4503


@functools.cache
def _read_pool() -> ThreadPoolExecutor:
    """The process's pool for live reads (``LIVE_READ_THREADS``). More threads than cores still
    help on PostgreSQL, where a read mostly waits for the server; SQLite (WAL) reads in parallel
    with its one writer. Made on first use, once settings are loaded."""
    from django.conf import settings

    return ThreadPoolExecutor(
        max_workers=settings.LIVE_READ_THREADS, thread_name_prefix="live-read"
    )


#: How long a live thread may keep an idle SQLite connection.
KEEP_SQLITE_SECONDS = 300.0


def _keep_sqlite_connections() -> None:
    """Let this thread's healthy SQLite connections outlive the call (see the module doc)."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" and connection.connection is not None:
            connection.close_at = time.monotonic() + KEEP_SQLITE_SECONDS


class LiveDatabaseSyncToAsync(DatabaseSyncToAsync):
    """channels' ``database_sync_to_async`` for the live threads: broken, obsolete or (except
    on SQLite) used connections are closed around each call, healthy SQLite ones are kept."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return SyncToAsync.thread_handler(self, loop, *args, **kwargs)
        finally:
            _keep_sqlite_connections()
            close_old_connections()


class _ReadPoolSyncToAsync(LiveDatabaseSyncToAsync):
    """On the read pool, which is made on the first call (decorators run at import)."""

    def __init__(self, func: Any) -> None:
        super().__init__(func, thread_sensitive=False)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._executor = _read_pool()
        return await super().__call__(*args, **kwargs)


def writes(func: F) -> F:
    """Run ``func`` on the process's one database thread (every write of a live socket)."""
    return LiveDatabaseSyncToAsync(func)  # type: ignore[return-value]


def reads(func: F) -> F:
    """Run ``func`` on the process's read pool (for reads only: never a service that writes)."""
    return _ReadPoolSyncToAsync(func)  # type: ignore[return-value]


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
