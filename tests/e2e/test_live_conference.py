# The conference fixtures are imported from tests/conferences/conftest.py (not in this folder).
# ruff: noqa: F811
"""conference.js in a real Chromium against a real daphne: the shared client on a conference.

The conference page itself is rendered by the pages' templates; this test gives an ordinary page
of the site the page's markup contract (``<main data-conference data-after>`` and a
``[data-region="current-item"]``) and loads the two scripts as the page does, so that the
client is tested on its own. Playwright adds the scripts (``bypass_csp``: the site's CSP admits
only its own nonced tags).

The chair's moves are made here, in the test process, whose channel layer is not the server's:
no event reaches the page live. The page learns the head from the heartbeat's ``pong`` (every
second here) and fetches what it lacks with ``resync``, the protocol's path for a lost event;
the live path itself is covered by tests/conferences/test_consumers.py and
tests/integration/test_conference_faults.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from playwright.sync_api import expect

from consultations.conferences import events, live, services
from consultations.conferences.models import Conference
from tests.conferences.conftest import agenda, chair, conference  # noqa: F401 (fixtures)
from tests.servers import DaphneServer, daphne_server, database_url_of_current_test_db

pytestmark = pytest.mark.e2e

#: One heartbeat (1 s), the client's grace for an event on its way (2 s), a replay, and slack.
CATCH_UP_MS = 8_000


@pytest.fixture
def daphne_live(
    transactional_db: None, django_db_serialized_rollback: None, tmp_path: Path
) -> Iterator[DaphneServer]:
    """The e2e daphne (tests/e2e/conftest.py), with a heartbeat of one second."""
    server = daphne_server(
        log_dir=tmp_path,
        database_url=database_url_of_current_test_db(),
        extra_env={"LIVE_HEARTBEAT_SECONDS": "1"},
    )
    server.start()
    yield server
    server.stop()


CONTRACT = """({pk, after}) => {
  const main = document.querySelector('main');
  main.dataset.conference = String(pk);
  main.dataset.after = String(after);
  main.dataset.me = '';
  main.dataset.chair = 'false';
  // As templates/conferences/conference.html renders it before the live day.
  const region = document.createElement('section');
  region.dataset.region = 'current-item';
  region.innerHTML = '<h2>Aktueller Tagesordnungspunkt</h2>'
    + '<p class="conf-current__none" data-current-none>Nichts</p>';
  main.prepend(region);
  const badge = document.createElement('span');
  badge.className = 'badge phase-badge phase-badge--preparation';
  main.prepend(badge);
  window.__events = [];
  window.Mitmachen = window.Mitmachen || {};
  Mitmachen.conferenceHandlers = Mitmachen.conferenceHandlers || {};
  (Mitmachen.conferenceHandlers['agenda.current'] =
    Mitmachen.conferenceHandlers['agenda.current'] || []).push(
      (event) => window.__events.push([event.type, event.seq]));
}"""


def set_phase(conference, phase: str) -> None:
    """The phase changes as a service changes it (the pages' ``conference_set_phase`` on main)."""
    with transaction.atomic():
        locked = live.lock(conference)
        Conference.objects.filter(pk=locked.pk).update(phase=phase)
        locked.phase = phase
        live.record_and_broadcast(locked, events.conference_phase(locked))


def open_conference(new_context, login, member, conference):
    page = new_context(bypass_csp=True).new_page()
    login(page, member)
    page.evaluate(CONTRACT, {"pk": conference.pk, "after": conference.last_seq})
    for url in (reverse("javascript-catalog"), "/static/deliberation/js/live.js"):
        page.add_script_tag(url=url)
    page.add_script_tag(url="/static/conferences/conference.js")
    expect(page.locator("main[data-live=online]")).to_have_count(1)
    return page


def test_the_page_follows_the_current_item_and_announces_it_once(
    new_context, login, conference, chair, agenda, alice
):
    services.agenda_set_current(actor=chair, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    page = open_conference(new_context, login, alice, conference)
    expect(page.locator("#live-connection")).to_have_text("Live")

    services.agenda_set_current(actor=chair, conference=conference, item=agenda[1])
    region = page.locator("[data-region=current-item]")
    title = region.locator("[data-current-title]")
    expect(title).to_have_text("TOP 2: Pflege", timeout=CATCH_UP_MS)
    expect(page.locator("#live-announcer")).to_contain_text("Jetzt: TOP 2 – Pflege")
    assert region.get_attribute("data-item") == str(agenda[1].pk)
    # The heading stays; the rest is the page's own markup for an item, link to its thread.
    expect(region.locator("h2")).to_have_text("Aktueller Tagesordnungspunkt")
    expect(region.locator("[data-current-none]")).to_have_count(0)
    expect(region.locator("[data-current-meta]")).to_contain_text("Seit ")
    link = region.locator("a[data-current-link]")
    assert link.get_attribute("href") == agenda[1].thread.get_absolute_url()
    # Every handler registered for the type got the event once, in order.
    assert page.evaluate("window.__events") == [["agenda.current", 2]]
    assert page.locator("main").get_attribute("data-after") == "2"


def test_a_phase_change_updates_the_badge_and_is_announced(new_context, login, conference, alice):
    page = open_conference(new_context, login, alice, conference)
    set_phase(conference, "live")
    badge = page.locator(".phase-badge")
    expect(badge).to_have_text("Konferenztag", timeout=CATCH_UP_MS)
    assert "badge--live" in badge.get_attribute("class")
    expect(page.locator("#live-announcer")).to_contain_text("Phase: Konferenztag")


def test_a_page_that_was_behind_catches_up_from_the_outbox(
    new_context, login, conference, chair, agenda, alice
):
    # The page was rendered at seq 0; three moves happened before its socket connected.
    for item in (agenda[0], agenda[1], None):
        services.agenda_set_current(actor=chair, conference=conference, item=item)
    page = open_conference(new_context, login, alice, conference)
    region = page.locator("[data-region=current-item] [data-current-none]")
    # Before the live day (the conference is in preparation): the page's note for that.
    expect(region).to_have_text("Der Konferenztag hat noch nicht begonnen.")
    expect(page.locator("#live-announcer")).to_contain_text("Zwischen den Tagesordnungspunkten")
    expect(page.locator("main")).to_have_attribute("data-after", "3")
    assert page.evaluate("window.__events") == [
        ["agenda.current", 1],
        ["agenda.current", 2],
        ["agenda.current", 3],
    ]
