"""A clock for time-dependent code that the test moves by hand (no sleeps, no wall clock)."""

from __future__ import annotations


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
