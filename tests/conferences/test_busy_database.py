"""A busy database answers 503 with Retry-After, never 500: a real psycopg pool of one
connection, held by another thread, so a request's wait for a connection runs out.

Needs PostgreSQL (the pool is psycopg's); skipped on SQLite. Run with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name>.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client

from consultations.conferences.polls import services
from consultations.conferences.polls.models import Ballot
from deliberation import overload
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's (DATABASE_URL=postgres://...)")


@contextlib.contextmanager
def pool_held_elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pool shrunk to one connection with a short wait, and another thread holding it."""
    connection.close()
    connection.close_pool()
    options = dict(connection.settings_dict["OPTIONS"])
    options["pool"] = {"min_size": 1, "max_size": 1, "timeout": 0.3}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        from django.db import connection as own

        own.ensure_connection()
        taken.set()
        release.wait(30)
        own.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)
        connection.close()
        connection.close_pool()
        monkeypatch.undo()


def _signed_in(member) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(member)
    return client


def test_a_page_without_a_free_connection_answers_503_with_retry_after_in_german(monkeypatch):
    needs_postgres()
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="de")
    with pool_held_elsewhere(monkeypatch):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(overload.RETRY_AFTER)
    page = response.content.decode()
    assert "Fehler 503" in page
    assert "Gerade machen sehr viele mit" in page


def test_a_fetch_vote_without_a_free_connection_gets_json_to_retry_and_changes_nothing(
    conference, agenda, chair, alice, monkeypatch
):
    needs_postgres()
    register(conference, alice)
    poll = services.poll_open(
        actor=chair, conference=conference, item=agenda[0], question="Ja?", kind="yes_no"
    )
    yes = poll.options.order_by("position").first()
    client = _signed_in(alice)
    url = f"/konferenzen/{conference.slug}/abstimmungen/{poll.pk}/abstimmen/"
    with pool_held_elsewhere(monkeypatch):
        response = client.post(url, {"option": yes.pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 503
    assert response["Retry-After"] == str(overload.RETRY_AFTER)
    body = response.json()
    assert (body["ok"], body["code"], body["retry_after"]) == (False, "busy", overload.RETRY_AFTER)
    assert body["message"].startswith("Gerade machen sehr viele mit")
    assert Ballot.objects.filter(poll=poll).count() == 0
    # With the connection free again the same vote is counted.
    response = client.post(url, {"option": yes.pk}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_a_queue_ask_without_a_free_connection_gets_json_to_retry_and_changes_nothing(
    conference, agenda, alice, monkeypatch
):
    """queue.js asks for JSON by ``Accept`` (and the header polls.js sends): both get the
    busy answer it retries on, not the HTML 503 page it could not read."""
    from consultations.conferences.queue.models import SpeakRequest

    needs_postgres()
    register(conference, alice)
    client = _signed_in(alice)
    url = f"/konferenzen/{conference.slug}/redeliste/{agenda[0].pk}/melden/"
    data = {"kind": "contribution"}
    with pool_held_elsewhere(monkeypatch):
        response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(overload.RETRY_AFTER)
    body = response.json()
    assert (body["ok"], body["code"], body["retry_after"]) == (False, "busy", overload.RETRY_AFTER)
    assert not SpeakRequest.objects.exists()
