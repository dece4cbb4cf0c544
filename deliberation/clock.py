"""The clock live sockets keep time by: the real one, or one a test moves.

A socket's session expires at a time stored in the database; the socket waits for it
(:mod:`deliberation.session_watch`) and the re-check compares the stored time with
:func:`now` (:mod:`deliberation.socket_auth`). Both ask this module, so a test replaces
:data:`clock` once and moves time without waiting for it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from django.utils import timezone


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return timezone.now()

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))


#: The clock in use; tests replace it (tests/clock.py).
clock: Clock = SystemClock()


def now() -> datetime:
    return clock.now()


async def sleep_until(when: datetime) -> None:
    await clock.sleep_until(when)
