"""A live socket re-checks its member at the moment its session expires.

A logout, a password change or reset reach a member's open sockets at once (``access.changed``
on ``member.<id>``, sent by the services). Expiry has no such moment in the code: nothing
happens when a session's time runs out. So a signed-in socket reads its session's expiry once at
connect and waits for it; at that time it reads the expiry again (the session may have been
extended meanwhile, e.g. by a later request of the same browser) and waits again, or, when the
session is really over, asks the consumer to re-authorise, which finds the session gone and
closes the socket (4403), as for a logout. Time comes from :mod:`deliberation.clock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from deliberation import clock
from deliberation.livework import reads
from deliberation.socket_auth import connect_session_expiry, session_expiry

logger = logging.getLogger(__name__)


#: ``_watch_session`` reads the expiry itself unless given it.
_UNREAD: Any = object()


class SessionWatchMixin:
    """For a live consumer: call :meth:`_watch_session` once the socket is accepted and its
    member known, and :meth:`_unwatch_session` when it closes. ``on_expired`` (the consumer's
    re-authorisation, hub side: synchronous, no await) runs once the session is over."""

    scope: dict[str, Any]
    _session_watch: asyncio.Task[None] | None = None

    async def _watch_session(
        self, on_expired: Callable[[], None], *, expires: Any = _UNREAD
    ) -> None:
        """``expires``: the session's expiry if the caller read it already (in its own hop)."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or self._session_watch is not None:
            return
        if expires is _UNREAD and "session_expires" in self.scope:
            # Read with the session by the connect's auth middleware moments ago.
            expires = connect_session_expiry(self.scope)
        elif expires is _UNREAD:
            # The first read is awaited here, so a socket's connect costs its query up front
            # and never in the middle of a later frame.
            expires = await reads(session_expiry)(self.scope)
        self._session_watch = asyncio.get_running_loop().create_task(
            self._wait_for_expiry(expires, on_expired), name="session-watch"
        )

    async def _wait_for_expiry(self, expires: Any, on_expired: Callable[[], None]) -> None:
        try:
            while expires is not None and expires > clock.now():
                await clock.sleep_until(expires)
                expires = await reads(session_expiry)(self.scope)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Fail closed: the re-check decides, and refuses a session it cannot verify.
            logger.exception("watching a socket's session failed")
        on_expired()

    def _unwatch_session(self) -> None:
        task, self._session_watch = self._session_watch, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
