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
from django.urls import reverse
from playwright.sync_api import expect

from consultations.conferences import services
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
  const region = document.createElement('p');
  region.dataset.region = 'current-item';
  main.prepend(region);
  window.__events = [];
  window.Mitmachen = window.Mitmachen || {};
  Mitmachen.conferenceHandlers = Mitmachen.conferenceHandlers || {};
  (Mitmachen.conferenceHandlers['agenda.current'] =
    Mitmachen.conferenceHandlers['agenda.current'] || []).push(
      (event) => window.__events.push([event.type, event.seq]));
}"""


def open_conference(new_context, login, member, conference):
    page = new_context(bypass_csp=True).new_page()
    login(page, member)
    page.evaluate(CONTRACT, {"pk": conference.pk, "after": conference.last_seq})
    for url in (reverse("javascript-catalog"), "/static/deliberation/js/live.js"):
        page.add_script_tag(url=url)
    page.add_script_tag(url="/static/conferences/js/conference.js")
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
    expect(region).to_have_text("Jetzt: TOP 2 – Pflege", timeout=CATCH_UP_MS)
    expect(page.locator("#live-announcer")).to_contain_text("Jetzt: TOP 2 – Pflege")
    assert region.get_attribute("data-item") == str(agenda[1].pk)
    # Every handler registered for the type got the event once, in order.
    assert page.evaluate("window.__events") == [["agenda.current", 2]]
    assert page.locator("main").get_attribute("data-after") == "2"


def test_a_page_that_was_behind_catches_up_from_the_outbox(
    new_context, login, conference, chair, agenda, alice
):
    # The page was rendered at seq 0; three moves happened before its socket connected.
    for item in (agenda[0], agenda[1], None):
        services.agenda_set_current(actor=chair, conference=conference, item=item)
    page = open_conference(new_context, login, alice, conference)
    region = page.locator("[data-region=current-item]")
    expect(region).to_have_text("Zwischen den Tagesordnungspunkten")
    expect(page.locator("main")).to_have_attribute("data-after", "3")
    assert page.evaluate("window.__events") == [
        ["agenda.current", 1],
        ["agenda.current", 2],
        ["agenda.current", 3],
    ]
