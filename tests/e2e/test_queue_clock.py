"""The speaker's countdown in a real browser shows the same time left whether the page was just
loaded or the call reached it late: replayed after a reconnect (the page was behind), or handed
in long after it was made. The speaker was called 100 s before the fixture's end (the call is
written with the test's clock set back; daphne keeps the real time), so about 80 s are left,
never the full "3:00". Each check waits until the page shows what the time since the call says
(within 2 s), however long the machine took to get there: no fixed sleep, no bound on speed.

Before the fix queue.js took the server's clock offset from each ``queue.changed`` snapshot's
``now``, which was the time the event was made: on a replay it restarted from the full time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from consultations.conferences import services as conference_services
from consultations.conferences.models import Conference, ConferenceEvent, Registration
from consultations.conferences.queue import services
from deliberation import clock as clock_module
from tests.clock import FakeClock
from tests.e2e.conftest import login
from tests.factories import make_member, make_staff

pytestmark = pytest.mark.e2e

AGO = 100  # seconds since the speaker was called


@pytest.fixture
def called(db):
    sam = make_staff(email="sam@example.org", display_name="Sam")
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz",
        slug="bk",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
        written_opens_at=now - timedelta(days=5),
        written_closes_at=now + timedelta(days=20),
    )
    item = conference_services.agenda_item_create(actor=sam, conference=conference, title="Pflege")
    Conference.objects.filter(pk=conference.pk).update(phase=Conference.Phase.LIVE)
    conference.refresh_from_db()
    conference_services.agenda_set_current(actor=sam, conference=conference, item=item)
    alice = make_member(email="alice@example.org", display_name="Alice")
    bob = make_member(email="bob@example.org", display_name="Bob")
    for member in (alice, bob):
        Registration.objects.create(conference=conference, member=member, attendance="remote")
    services.speak_request_create(
        actor=alice, conference=conference, item=item, kind="contribution", sublist="default-1"
    )
    conference.refresh_from_db()
    before = conference.last_seq
    # The call, made AGO seconds ago by the server's clock (daphne's clock is the real one).
    called_at = timezone.now() - timedelta(seconds=AGO)
    real, clock_module.clock = clock_module.clock, FakeClock(called_at)
    try:
        services.speak_request_call_next(actor=sam, conference=conference, item=item)
    finally:
        clock_module.clock = real
    conference.refresh_from_db()
    event = ConferenceEvent.objects.get(conference=conference, seq=conference.last_seq)
    assert event.type == "queue.changed"
    return {
        "bob": bob,
        "before": before,
        "head": conference.last_seq,
        "event": event.payload,
        "called_ms": called_at.timestamp() * 1000,
    }


def shown_seconds(page: Any) -> int:
    text = page.inner_text("[data-countdown]").strip()
    negative = text.startswith("−")
    minutes, seconds = text.lstrip("−").split(":")
    value = int(minutes) * 60 + int(seconds)
    return -value if negative else value


#: The seconds the countdown shows, as a function in the page (−m:ss over time).
_SHOWN = """() => {
    const text = document.querySelector("[data-countdown]").textContent.trim();
    const negative = text.startsWith("−");
    const [minutes, seconds] = text.replace("−", "").split(":").map(Number);
    return (negative ? -1 : 1) * (minutes * 60 + seconds);
}"""


def settle(page: Any, head: int) -> None:
    """The stream is connected and has applied everything up to ``head``."""
    page.wait_for_function(
        "(head) => Number(document.querySelector('main').dataset.after) >= head"
        " && window.Mitmachen.conferenceStream && window.Mitmachen.conferenceStream.connected()",
        arg=head,
    )


def shows_time_since_the_call(page: Any, called_ms: float) -> int:
    """Wait until the countdown shows 180 s less the time since the call (within 2 s, by the
    browser's clock, which is the server's here); returns what it shows."""
    page.wait_for_function(
        f"""(called) => {{
            const shown = ({_SHOWN})();
            return Math.abs(shown - (180 - (Date.now() - called) / 1000)) <= 2;
        }}""",
        arg=called_ms,
    )
    return shown_seconds(page)


def test_a_replayed_call_shows_the_same_time_left_as_a_fresh_page(new_context, called):
    fresh = new_context().new_page()
    login(fresh, called["bob"])
    fresh.goto("/konferenzen/bk/")
    settle(fresh, called["head"])
    assert shows_time_since_the_call(fresh, called["called_ms"]) < 180 - AGO + 1

    # A page that was behind: its stream replays the call (as after a reconnect).
    behind = new_context().new_page()
    login(behind, called["bob"])

    # Its <main> says it has seen only the events before the call, so the stream's hello is
    # followed by the call's replay. (Set as the page is parsed, before conference.js runs: a
    # page fulfilled by a route may not open a socket to 127.0.0.1 in Chromium.)
    behind.add_init_script(
        """new MutationObserver((records, observer) => {
            const main = document.querySelector("main[data-conference]");
            if (main) { main.dataset.after = "BEFORE"; observer.disconnect(); }
        }).observe(document, {childList: true, subtree: true});""".replace(
            "BEFORE", str(called["before"])
        )
    )
    replays: list[str] = []
    behind.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda frame: replays.append(str(frame))),
    )
    behind.goto("/konferenzen/bk/")
    settle(behind, called["head"])
    assert any('"queue.changed"' in frame for frame in replays)  # the call was replayed
    shows_time_since_the_call(behind, called["called_ms"])

    # The same call handed in late, as an old outbox row that still carries the time it was
    # made: the countdown keeps the connection's clock.
    stale = dict(called["event"])
    stale["queue"] = {
        **stale["queue"],
        "now": (timezone.now() - timedelta(seconds=AGO)).isoformat(),
    }
    fresh.evaluate(
        "(event) => Mitmachen.conferenceHandlers['queue.changed'].forEach(f => f(event))", stale
    )
    shows_time_since_the_call(fresh, called["called_ms"])
