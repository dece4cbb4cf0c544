"""Clocks the test moves: time passes only when the test says so.

``FakeClock`` stands in for ``deliberation.clock`` (datetimes, with sleepers it wakes);
``ManualClock`` for a ``time.monotonic``-like callable (the live sockets' frame budget).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._sleepers: list[asyncio.Future[None]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        while self._now < when:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._sleepers.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._sleepers:
                    self._sleepers.remove(waiter)

    def advance(self, delta: timedelta) -> None:
        """Move time on and wake every sleeper (each checks its own deadline again)."""
        self._now += delta
        sleepers, self._sleepers = self._sleepers, []
        for waiter in sleepers:
            if not waiter.done():
                waiter.set_result(None)

    async def sleeping(self, count: int, *, timeout: float = 10.0) -> None:
        """Wait until ``count`` tasks sleep on this clock (a safety timeout, not a measurement)."""

        async def poll() -> None:
            while len(self._sleepers) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)


class ManualClock:
    """Callable like ``time.monotonic``; stands still until ``advance`` is called.

    An instance, not a function, so that set as a consumer's class attribute it is not bound
    as a method.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
