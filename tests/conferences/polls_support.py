"""Support for the polls' tests: a turnout coalescer whose trailing frames the test fires, so no
timer thread outlives a test or touches its database, and a registered member."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from consultations.conferences.models import Registration
from consultations.conferences.polls import turnout


class ManualScheduler:
    def __init__(self) -> None:
        self.pending: list[tuple[float, object]] = []

    def __call__(self, delay, action) -> None:
        self.pending.append((delay, action))

    def fire_all(self) -> None:
        pending, self.pending = self.pending, []
        for _delay, action in pending:
            action()


@pytest.fixture(autouse=True)
def sent_turnouts():
    """Every turnout frame the process would broadcast, as (conference, poll) pairs."""
    sent: list[tuple[int, int]] = []
    scheduler = ManualScheduler()
    coalescer = turnout.TurnoutCoalescer(send=lambda c, p: sent.append((c, p)), schedule=scheduler)
    old = turnout.set_coalescer(coalescer)
    yield SimpleNamespace(frames=sent, scheduler=scheduler)
    turnout.set_coalescer(old)


def register(conference, member, attendance=Registration.Attendance.REMOTE):
    return Registration.objects.create(conference=conference, member=member, attendance=attendance)
