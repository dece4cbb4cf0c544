"""The turnout frame (``poll.turnout``), coalesced: 1,000 votes in 2 s are not 1,000 broadcasts.

Per process and poll, a turnout frame leaves at once if the last one left at least
:data:`INTERVAL` ago; otherwise one trailing frame is scheduled for when the interval is up, and
every vote until then rides on it. Each frame reads the counts when it is sent, so the trailing
frame carries the final number: the chair's screen always converges. Across processes each sends
its own (clients keep the newest number; counts only grow).

Time comes from :mod:`deliberation.clock`; the scheduler is injectable, so tests move the clock
and fire the trailing frame themselves instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from deliberation import clock
from deliberation.live import broadcast_on_commit, group_name

logger = logging.getLogger(__name__)

#: At most one turnout frame per poll and process in this time (plus the trailing one).
INTERVAL = timedelta(milliseconds=250)

Scheduler = Callable[[float, Callable[[], None]], None]


def timer_scheduler(delay: float, action: Callable[[], None]) -> None:
    """Run ``action`` on its own thread after ``delay`` seconds (the real default)."""

    def run() -> None:
        try:
            action()
        finally:
            connection.close()  # the timer thread's own connection

    timer = threading.Timer(delay, run)
    timer.daemon = True
    timer.start()


@dataclass
class _State:
    last_sent: datetime | None = None
    trailing: bool = False


def send_turnout(conference_pk: int, poll_pk: int) -> None:
    """Read the poll's turnout now and broadcast it (no transaction: it leaves at once)."""
    from consultations.conferences.polls import events, selectors
    from consultations.conferences.polls.models import Poll

    poll = Poll.objects.filter(pk=poll_pk).first()
    if poll is None:
        return
    options = None
    if events.results_shown(poll):
        options = [
            events.option_payload(option, shown=True)
            for option in poll.options.order_by("position")
        ]
    eligible = selectors.eligible_count(poll)
    event = events.poll_turnout(
        conference=conference_pk,
        poll=poll_pk,
        ballots=poll.ballots_count,
        eligible=eligible,
        options=options,
    )
    broadcast_on_commit(group_name("conference", conference_pk), event)


class TurnoutCoalescer:
    def __init__(
        self,
        *,
        send: Callable[[int, int], None] = send_turnout,
        schedule: Scheduler = timer_scheduler,
        interval: timedelta = INTERVAL,
    ) -> None:
        self._send = send
        self._schedule = schedule
        self._interval = interval
        self._lock = threading.Lock()
        self._polls: dict[int, _State] = {}

    def notify(self, conference_pk: int, poll_pk: int) -> None:
        """A vote on ``poll_pk`` committed: send its turnout now, or make sure a trailing frame
        will (call after commit)."""
        with self._lock:
            state = self._polls.setdefault(poll_pk, _State())
            if state.trailing:
                return  # the scheduled frame reads the counts when it leaves: it carries this vote
            now = clock.now()
            due = state.last_sent + self._interval if state.last_sent else now
            if now >= due:
                state.last_sent = now
                send_now = True
            else:
                state.trailing = True
                send_now = False
        if send_now:
            self._safe_send(conference_pk, poll_pk)
        else:
            delay = (due - now).total_seconds()
            self._schedule(delay, lambda: self._trailing(conference_pk, poll_pk))

    def _trailing(self, conference_pk: int, poll_pk: int) -> None:
        with self._lock:
            state = self._polls.setdefault(poll_pk, _State())
            state.trailing = False
            state.last_sent = clock.now()
        self._safe_send(conference_pk, poll_pk)

    def _safe_send(self, conference_pk: int, poll_pk: int) -> None:
        try:
            self._send(conference_pk, poll_pk)
        except Exception:
            # The vote is committed; the next frame, the closing event or a reload shows it.
            logger.exception("turnout frame for poll %s failed", poll_pk)

    def forget(self, poll_pk: int) -> None:
        with self._lock:
            self._polls.pop(poll_pk, None)


#: This process's coalescer; tests replace it (``set_coalescer``).
coalescer = TurnoutCoalescer()


def set_coalescer(new: TurnoutCoalescer) -> TurnoutCoalescer:
    global coalescer
    old, coalescer = coalescer, new
    return old


def notify_on_commit(conference_pk: int, poll_pk: int) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: coalescer.notify(conference_pk, poll_pk))
