"""A named poll ("namentliche Abstimmung") lists who chose what once it is closed: per option the
display names, sorted, with their count, on every page that shows closed results (the
conference page's panel, the poll's page, the list by item, the projector) and in the members'
variant of the ``poll.closed`` event. Never while it is open (not even for the chair), never for
a secret poll, never for guests or visitors. One query reads the names of every poll shown.

Personas: sam staff, alice and bob members, gina a guest (here allowed to read the conference's
forum), carla (``chair``) chairs the conference.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations.conferences import live
from consultations.conferences import services as conference_services
from consultations.conferences.models import ConferenceEvent
from consultations.conferences.polls import selectors, services
from consultations.conferences.polls.models import Poll
from forums import services as forum_services
from tests import factories
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db

VOTERS_BOX = "data-poll-voters"


@pytest.fixture
def zoe(db):
    return factories.make_member(email="zoe@example.org", display_name="zoe")


@pytest.fixture
def guest_reader(conference, gina, sam):
    """Gina may read the conference's forum (some setups invite a guest into it)."""
    forum_services.forum_grant(actor=sam, forum=conference.forum, member=gina, right="view")
    return gina


@pytest.fixture
def current(conference, agenda, sam):
    """Item 1 is being discussed: the conference page's panel shows its closed polls."""
    conference_services.agenda_set_current(actor=sam, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    return agenda[0]


def open_poll(conference, item, chair, *, secret: bool, question: str = "Mietendeckel?"):
    poll = services.poll_open(
        actor=chair,
        conference=conference,
        item=item,
        question=question,
        kind=Poll.Kind.YES_NO,
        secret=secret,
    )
    poll.conference = conference
    return poll


def option(poll, code):
    return poll.options.get(code=code)


def vote(poll, member, code):
    services.poll_vote(actor=member, poll=poll, option_ids=[option(poll, code).pk])


@pytest.fixture
def voted(conference, current, chair, alice, bob, zoe):
    """A named and a secret poll on the current item, each with the same three votes:
    bob and zoe yes, alice no (zoe's lower-case name sorts among the others by letter)."""
    for member in (alice, bob, zoe):
        register(conference, member)
    polls = {}
    for secret, question in ((False, "Namentlich?"), (True, "Geheim?")):
        poll = open_poll(conference, current, chair, secret=secret, question=question)
        vote(poll, zoe, "yes")
        vote(poll, alice, "no")
        vote(poll, bob, "yes")
        polls["secret" if secret else "named"] = poll
        if secret:
            continue
        # One open poll per item: the named one closes before the secret one opens.
        services.poll_close(actor=chair, poll=poll)
    services.poll_close(actor=chair, poll=polls["secret"])
    return polls


class _Voters(HTMLParser):
    """Each voters' box of a page: per option, (its summary, the names listed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.boxes: list[list[tuple[str, list[str]]]] = []
        self.depth = 0  # <div>s open inside the current box (0: outside any)
        self.field: str | None = None
        self.templates = 0  # inside a <template> (what polls.js clones): not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self.templates += 1
        if self.templates:
            return
        if tag == "div" and self.depth:
            self.depth += 1
        elif tag == "div" and any(name == VOTERS_BOX for name, _ in attrs):
            self.depth = 1
            self.boxes.append([])
        elif self.depth and tag == "summary":
            self.boxes[-1].append(("", []))
            self.field = "summary"
        elif self.depth and tag == "li":
            self.boxes[-1][-1][1].append("")
            self.field = "li"

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.templates -= 1
        if self.templates:
            return
        if tag == "div" and self.depth:
            self.depth -= 1
        if tag in ("summary", "li"):
            self.field = None

    def handle_data(self, data: str) -> None:
        if self.templates:
            return
        if self.field == "summary":
            label, names = self.boxes[-1][-1]
            self.boxes[-1][-1] = (label + data, names)
        elif self.field == "li":
            self.boxes[-1][-1][1][-1] += data


def voter_boxes(html: str) -> list[list[tuple[str, list[str]]]]:
    scan = _Voters()
    scan.feed(html)
    return [[(" ".join(label.split()), names) for label, names in box] for box in scan.boxes]


def assert_names_nobody(html: str, where: Any = "") -> None:
    assert voter_boxes(html) == [], where
    assert "zoe" not in html and "Bob" not in html, where


# --- pages ---------------------------------------------------------------------------------


def test_a_closed_named_poll_lists_per_option_who_chose_it_sorted_with_the_count(
    client, conference, voted, alice
):
    client.force_login(alice)
    page = client.get(reverse("conferences:poll", args=[conference.slug, voted["named"].pk]))
    # Per option in the poll's order, by name (case-insensitive: Bob before zoe), with the count.
    assert voter_boxes(page.text) == [
        [("Ja: 2 Namen", ["Bob", "zoe"]), ("Nein: 1 Name", ["Alice"]), ("Enthaltung: 0 Namen", [])]
    ]
    assert "Deine Wahl: Nein</p>" in page.text  # her own choice, without a stray "; " after it


def test_the_conference_page_and_the_list_by_item_name_the_voters_too(
    client, conference, voted, alice
):
    client.force_login(alice)
    for address in (
        reverse("conferences:conference", args=[conference.slug]),
        reverse("conferences:polls", args=[conference.slug]),
    ):
        boxes = voter_boxes(client.get(address).text)
        # The named poll's card only, not the secret one's.
        assert [[names for _, names in box] for box in boxes] == [[["Bob", "zoe"], ["Alice"], []]]


def test_the_projector_names_the_voters_of_the_newest_closed_poll_if_it_is_named(
    client, conference, current, chair, alice, bob, zoe
):
    for member in (alice, bob, zoe):
        register(conference, member)
    secret = open_poll(conference, current, chair, secret=True, question="Geheim?")
    vote(secret, zoe, "no")
    services.poll_close(actor=chair, poll=secret)
    client.force_login(alice)
    projector = reverse("conferences:projector", args=[conference.slug])
    html = client.get(projector).text
    assert "Geheim?" in html
    assert_names_nobody(html)
    named = open_poll(conference, current, chair, secret=False, question="Namentlich?")
    vote(named, zoe, "no")
    vote(named, bob, "yes")
    services.poll_close(actor=chair, poll=named)
    html = client.get(projector).text
    assert "Namentlich?" in html
    assert [[names for _, names in box] for box in voter_boxes(html)] == [[["Bob"], ["zoe"], []]]


def test_an_open_named_poll_names_nobody_not_even_for_the_chair(
    client, conference, current, chair, alice, bob
):
    register(conference, alice)
    register(conference, bob)
    poll = services.poll_open(
        actor=chair,
        conference=conference,
        item=current,
        question="Live?",
        kind=Poll.Kind.YES_NO,
        secret=False,
        live_results=True,  # the counts are public while it is open; the names are not
    )
    poll.conference = conference
    vote(poll, alice, "yes")
    for reader in (chair, bob, alice):
        client.force_login(reader)
        for address in (
            reverse("conferences:conference", args=[conference.slug]),
            reverse("conferences:poll", args=[conference.slug, poll.pk]),
            reverse("conferences:polls", args=[conference.slug]),
        ):
            assert voter_boxes(client.get(address).text) == [], (reader, address)
    client.force_login(bob)
    html = client.get(reverse("conferences:poll", args=[conference.slug, poll.pk])).text
    assert "Alice" not in html
    view = selectors.poll_views(chair, conference, [Poll.objects.get(pk=poll.pk)])[0]
    assert view.voters is None and view.named_results == []


def test_a_secret_poll_names_nobody_anywhere(client, conference, voted, alice, chair, sam):
    secret = voted["secret"]
    for reader in (alice, chair, sam):
        client.force_login(reader)
        for address in (
            reverse("conferences:poll", args=[conference.slug, secret.pk]),
            reverse("conferences:projector", args=[conference.slug]),  # shows the secret one
        ):
            assert_names_nobody(client.get(address).text, (reader, address))
    assert selectors.voters_of([Poll.objects.get(pk=secret.pk)]) == {}


def test_a_guest_who_may_read_the_conference_sees_the_counts_never_the_names(
    client, conference, voted, guest_reader
):
    client.force_login(guest_reader)
    for address in (
        reverse("conferences:conference", args=[conference.slug]),
        reverse("conferences:poll", args=[conference.slug, voted["named"].pk]),
        reverse("conferences:polls", args=[conference.slug]),
    ):
        response = client.get(address)
        assert response.status_code == 200, address
        assert "Namentlich?" in response.text, address  # the results are there ...
        assert_names_nobody(response.text, address)  # ... the names are not
    assert not selectors.may_see_voters(guest_reader)
    assert not selectors.may_see_voters(AnonymousUser())


def test_one_query_reads_the_names_of_every_poll_shown(
    conference, agenda, chair, alice, bob, zoe, django_assert_num_queries
):
    for member in (alice, bob, zoe):
        register(conference, member)
    polls = []
    for item in agenda:
        poll = open_poll(conference, item, chair, secret=False)
        vote(poll, alice, "yes")
        vote(poll, bob, "no")
        vote(poll, zoe, "no")
        services.poll_close(actor=chair, poll=poll)
        polls.append(Poll.objects.get(pk=poll.pk))
    open_one = open_poll(conference, agenda[0], chair, secret=False, question="Offen?")
    polls.append(Poll.objects.get(pk=open_one.pk))
    with django_assert_num_queries(1):
        voters = selectors.voters_of(polls)
    assert set(voters) == {polls[0].pk, polls[1].pk}  # the open one is not even asked for
    for poll in polls[:2]:
        assert voters[poll.pk] == {
            option(poll, "yes").pk: ["Alice"],
            option(poll, "no").pk: ["Bob", "zoe"],
        }
    # The pages' reading of them (selectors.poll_views): one query for the names of all.
    loaded = [p for _, group in selectors.polls_by_item(conference) for p in group]
    with CaptureQueriesContext(connection) as queries:
        views = selectors.poll_views(alice, conference, loaded)
    assert len([q for q in queries.captured_queries if "display_name" in q["sql"]]) == 1
    assert [v.voters is not None for v in views] == [True, False, True]


# --- the poll.closed event -------------------------------------------------------------------


@pytest.fixture
def broadcasts(monkeypatch) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every conference event broadcast: (the public event, the members' variant or None)."""
    sent: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def spy(group, event, *, moderator_event=None):
        sent.append((json.loads(json.dumps(event)), json.loads(json.dumps(moderator_event))))

    monkeypatch.setattr(live, "broadcast_on_commit", spy)
    return sent


def test_the_closed_named_polls_event_names_the_voters_for_members_only(
    conference, current, chair, alice, bob, zoe, broadcasts
):
    for member in (alice, bob, zoe):
        register(conference, member)
    poll = open_poll(conference, current, chair, secret=False)
    vote(poll, zoe, "yes")
    vote(poll, bob, "yes")
    vote(poll, alice, "no")
    services.poll_close(actor=chair, poll=poll)
    public, members = broadcasts[-1]
    assert public["type"] == members["type"] == "poll.closed"
    assert public["seq"] == members["seq"] and members["conference"] == conference.pk
    assert all("voters" not in o for o in public["poll"]["options"])
    assert [o["voters"] for o in members["poll"]["options"]] == [["Bob", "zoe"], ["Alice"], []]
    assert [o["total"] for o in members["poll"]["options"]] == [2, 1, 0]
    # The outbox keeps the public variant only (what a replay sends to everyone).
    stored = ConferenceEvent.objects.get(type="poll.closed").payload
    assert stored == public and "Alice" not in json.dumps(stored)
    # A later hall count of the closed poll carries the names for members as well.
    services.poll_hall_count(actor=chair, poll=poll, counts={option(poll, "no").pk: 4})
    public, members = broadcasts[-1]
    assert public["type"] == "poll.hall_count" and "voters" not in json.dumps(public)
    assert members["poll"]["options"][1] == {**public["poll"]["options"][1], "voters": ["Alice"]}


def test_no_event_of_a_secret_or_an_open_poll_names_anyone(
    conference, current, chair, alice, bob, broadcasts
):
    register(conference, alice)
    register(conference, bob)
    named_open = services.poll_open(
        actor=chair,
        conference=conference,
        item=current,
        question="Offen?",
        kind=Poll.Kind.YES_NO,
        secret=False,
        live_results=True,
    )
    named_open.conference = conference
    vote(named_open, alice, "yes")
    services.poll_hall_count(actor=chair, poll=named_open, counts={option(named_open, "no").pk: 2})
    services.poll_close(actor=chair, poll=named_open)
    secret = open_poll(conference, current, chair, secret=True)
    vote(secret, bob, "no")
    services.poll_close(actor=chair, poll=secret)
    services.poll_hall_count(actor=chair, poll=secret, counts={option(secret, "yes").pk: 1})
    texts = [(public, members) for public, members in broadcasts if "poll" in public]
    # Only the named poll's close has a members' variant; nothing else names anyone.
    with_names = [public["type"] for public, members in texts if members is not None]
    assert with_names == ["poll.closed"]
    for public, members in texts:
        assert "Bob" not in json.dumps(public) and "Alice" not in json.dumps(public)
        if public["poll"]["id"] == secret.pk:
            assert members is None
    for row in ConferenceEvent.objects.all():
        assert "voters" not in json.dumps(row.payload)
