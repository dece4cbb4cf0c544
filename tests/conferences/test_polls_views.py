"""The polls' pages and actions: voting without JavaScript (POST, a clear confirmation) and with
it (fetch, the card in place), bad input answered with a translated error and nothing changed,
the chair's forms, the conference page's panel and the projector's result."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consultations.conferences.polls import services
from consultations.conferences.polls.forms import VoteForm
from consultations.conferences.polls.models import Ballot, Poll, PollOption
from forums.errors import ServiceError
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


@pytest.fixture
def poll(conference, agenda, chair):
    created = services.poll_open(
        actor=chair,
        conference=conference,
        item=agenda[0],
        question="Mietenkampagne?",
        kind="yes_no",
    )
    created.conference = conference
    return created


def url(name, poll):
    return reverse(f"conferences:{name}", kwargs={"slug": poll.conference.slug, "pk": poll.pk})


def yes(poll):
    return poll.options.get(code="yes")


def counted(poll) -> int:
    return Poll.objects.get(pk=poll.pk).ballots_count


def test_a_registered_member_votes_without_javascript_and_is_told_it_counted(
    client, conference, poll, alice
):
    register(conference, alice)
    client.force_login(alice)
    page = client.get(url("poll", poll))
    assert page.status_code == 200
    assert 'name="option"' in page.text and "Stimme abgeben" in page.text
    response = client.post(url("poll_vote", poll), {"option": yes(poll).pk}, follow=True)
    assert response.redirect_chain[-1][0] == url("poll", poll)
    assert "Deine Stimme ist gezählt." in response.text
    assert 'name="option"' not in response.text  # no second form
    assert counted(poll) == 1


def test_the_vote_returns_to_the_conference_page_it_came_from_never_elsewhere(
    client, conference, poll, alice, bob
):
    register(conference, alice)
    register(conference, bob)
    client.force_login(alice)
    back = "/konferenzen/bk-koalition/"
    response = client.post(url("poll_vote", poll), {"option": yes(poll).pk, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    client.force_login(bob)
    evil = client.post(
        url("poll_vote", poll), {"option": yes(poll).pk, "next": "https://evil.example/"}
    )
    assert evil.status_code == 302 and evil["Location"] == url("poll", poll)


def test_a_vote_by_fetch_answers_with_the_card_in_place(client, conference, poll, alice):
    register(conference, alice)
    client.force_login(alice)
    response = client.post(url("poll_vote", poll), {"option": yes(poll).pk}, **FETCH)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["message"] == "Deine Stimme ist gezählt."
    assert body["html"] == ""  # a secret poll's card has nothing new: the script shows the answer
    assert counted(poll) == 1


def test_a_named_vote_by_fetch_answers_with_the_card_showing_the_choice(
    client, conference, agenda, chair, alice
):
    register(conference, alice)
    named = services.poll_open(
        actor=chair,
        conference=conference,
        item=agenda[1],
        question="Namentlich?",
        kind="yes_no",
        secret=False,
    )
    named.conference = conference
    client.force_login(alice)
    response = client.post(url("poll_vote", named), {"option": yes(named).pk}, **FETCH)
    html = response.json()["html"]
    assert f'id="poll-{named.pk}"' in html and 'name="option"' not in html
    assert "Deine Wahl: Ja" in html


@pytest.mark.parametrize(
    "case, status",
    [
        ("unknown_option", 400),
        ("no_option", 400),
        ("text_option", 400),
        ("second_vote", 409),
        ("closed", 409),
        ("unregistered", 403),
    ],
)
def test_bad_votes_get_a_translated_error_and_change_nothing(
    client, conference, poll, chair, alice, bob, case, status
):
    voter = bob if case == "unregistered" else alice
    register(conference, alice)
    data = {"option": yes(poll).pk}
    if case == "unknown_option":
        data = {"option": 999_999}
    elif case == "no_option":
        data = {}
    elif case == "text_option":
        data = {"option": "ja"}
    elif case == "second_vote":
        services.poll_vote(actor=alice, poll=poll, option_ids=[yes(poll).pk])
    elif case == "closed":
        services.poll_close(actor=chair, poll=poll)
    before = counted(poll)
    client.force_login(voter)
    for extra in ({}, FETCH):
        response = client.post(url("poll_vote", poll), data, **extra)
        assert response.status_code == status
        message = response.json()["message"] if extra else response.text
        assert any(
            german in message
            for german in (
                "Bitte wähle",
                "bereits abgestimmt",
                "geschlossen",
                "angemeldet",
            )
        ), message
    assert counted(poll) == before
    assert PollOption.objects.filter(poll=poll, online_count__gt=before).count() == 0


def test_a_guest_cannot_reach_the_poll_or_vote(client, conference, poll, gina):
    client.force_login(gina)
    response = client.post(url("poll_vote", poll), {"option": yes(poll).pk})
    assert response.status_code in (403, 404)
    assert not Ballot.objects.exists()


def test_a_visitor_is_sent_to_log_in(client, poll):
    response = client.post(url("poll_vote", poll), {"option": yes(poll).pk})
    assert response.status_code == 302 and "/anmelden/" in response["Location"]
    assert not Ballot.objects.exists()


def test_the_chair_opens_a_poll_with_the_form(client, conference, agenda, chair):
    client.force_login(chair)
    create = reverse("conferences:poll_create", kwargs={"slug": conference.slug})
    assert client.get(create).status_code == 200
    bad = client.post(
        create, {"item": agenda[1].pk, "question": "", "kind": "single", "max_choices": 1}
    )
    assert bad.status_code == 400 and "error-summary" in bad.text
    refused = client.post(
        create,
        {
            "item": agenda[1].pk,
            "question": "Was zuerst?",
            "kind": "single",
            "options": "A",
            "max_choices": 1,
        },
    )
    assert refused.status_code == 400 and "mindestens zwei" in refused.text
    assert not Poll.objects.exists()
    response = client.post(
        create,
        {
            "item": agenda[1].pk,
            "question": "Was zuerst?",
            "kind": "multiple",
            "options": "Mieten\nPflege\n\nVerkehr",
            "max_choices": 2,
            "secret": "on",
        },
    )
    poll = Poll.objects.get()
    assert response.status_code == 302
    assert [o.label for o in poll.options.order_by("position")] == ["Mieten", "Pflege", "Verkehr"]
    assert poll.secret and poll.max_choices == 2 and not poll.live_results


def test_a_member_may_not_open_close_or_count(client, conference, poll, alice):
    register(conference, alice)
    client.force_login(alice)
    assert (
        client.get(reverse("conferences:poll_create", kwargs={"slug": conference.slug})).status_code
        == 403
    )
    assert client.post(url("poll_close", poll)).status_code == 403
    assert client.post(url("poll_hall_count", poll), {}).status_code == 403
    assert Poll.objects.get(pk=poll.pk).is_open


def test_the_chair_counts_the_hall_and_closes(client, conference, poll, chair):
    client.force_login(chair)
    fields = {
        f"option_{o.pk}": n
        for o, n in zip(poll.options.order_by("position"), (5, 2, 1), strict=True)
    }
    response = client.post(url("poll_hall_count", poll), fields, follow=True)
    assert "Die Saalzählung ist gespeichert." in response.text
    bad = client.post(url("poll_hall_count", poll), {**fields, f"option_{yes(poll).pk}": -3})
    assert bad.status_code == 400
    assert yes(poll).hall_count == 5
    response = client.post(url("poll_close", poll), **FETCH)
    assert response.json()["ok"] is True
    html = response.json()["html"]
    assert "<td>5</td>" in html  # the hall column, now that the results are shown
    assert Poll.objects.get(pk=poll.pk).status == "closed"


def render_partial(name, conference, user, path="/konferenzen/bk-koalition/"):
    request = RequestFactory().get(path)
    request.user = user
    template = engines["django"].from_string(f'{{% include "conferences/polls/{name}" %}}')
    return template.render({"conference": conference, "request": request, "user": user}, request)


def test_the_panel_shows_the_open_poll_and_the_chairs_tools(
    conference, poll, chair, alice, django_assert_max_num_queries
):
    register(conference, alice)
    html = render_partial("_panel.html", conference, alice)
    assert "Mietenkampagne?" in html and 'name="option"' in html
    assert "Abstimmung schließen" not in html
    chair_html = render_partial("_panel.html", conference, chair)
    assert "Abstimmung schließen" in chair_html and "Saalzählung" in chair_html
    assert 'name="option"' not in chair_html  # the chair is not registered
    assert "0 von 1 Angemeldeten haben online abgestimmt." in chair_html


def test_the_panels_queries_do_not_grow_with_the_polls(
    conference, agenda, chair, alice, sam, django_assert_max_num_queries
):
    register(conference, alice)
    from consultations.conferences import services as conference_services

    conference_services.agenda_set_current(actor=sam, conference=conference, item=agenda[0])
    conference.refresh_from_db()
    for n in range(6):
        poll = services.poll_open(
            actor=chair, conference=conference, item=agenda[0], question=f"F{n}?", kind="yes_no"
        )
        poll.conference = conference
        if n < 5:
            services.poll_close(actor=chair, poll=poll)
    with django_assert_max_num_queries(12):
        html = render_partial("_panel.html", conference, alice)
    assert html.count('class="card poll"') == 6


def test_the_projector_shows_the_newest_closed_result(conference, poll, chair, alice):
    register(conference, alice)
    empty = render_partial("_projector.html", conference, alice)
    assert "Noch keine Abstimmung ist geschlossen." in empty
    services.poll_vote(actor=alice, poll=poll, option_ids=[yes(poll).pk])
    services.poll_close(actor=chair, poll=poll)
    html = render_partial("_projector.html", conference, alice)
    assert "Mietenkampagne?" in html and "<td>1</td>" in html and "Ja" in html


def test_the_list_keeps_results_with_their_item(client, conference, poll, chair, alice):
    services.poll_close(actor=chair, poll=poll)
    client.force_login(alice)
    response = client.get(reverse("conferences:polls", kwargs={"slug": conference.slug}))
    assert response.status_code == 200
    assert "1. Mieten" in response.text and "Mietenkampagne?" in response.text


def test_a_poll_of_another_conference_is_not_found(client, conference, poll, alice):
    client.force_login(alice)
    response = client.get(
        reverse("conferences:poll", kwargs={"slug": conference.slug, "pk": poll.pk + 1000})
    )
    assert response.status_code == 404


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    values=st.lists(
        st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=30)),
        max_size=6,
    ),
    kind=st.sampled_from(["yes_no", "single", "multiple"]),
)
def test_any_vote_form_input_is_either_refused_cleanly_or_counted_once(
    conference, agenda, chair, alice, values, kind
):
    from django.db import transaction
    from django.http import QueryDict

    register_once = not conference.registrations.filter(member=alice).exists()
    if register_once:
        register(conference, alice)
    sid = transaction.savepoint()
    try:
        poll = services.poll_open(
            actor=chair,
            conference=conference,
            item=agenda[0],
            question="H?",
            kind=kind,
            options=["A", "B", "C"],
            max_choices=2,
        )
        poll.conference = conference
        options = list(poll.options.order_by("position"))
        data = QueryDict(mutable=True)
        data.setlist("option", values)
        form = VoteForm(data, poll=poll, options=options)
        if not form.is_valid():
            assert form.errors["option"]
            assert Poll.objects.get(pk=poll.pk).ballots_count == 0
            return
        ids = form.option_ids()
        assert set(ids) <= {o.pk for o in options}
        try:
            services.poll_vote(actor=alice, poll=poll, option_ids=ids)
        except ServiceError as error:
            assert error.code == "invalid" and error.message
            assert Poll.objects.get(pk=poll.pk).ballots_count == 0
        else:
            assert Poll.objects.get(pk=poll.pk).ballots_count == 1
            assert sum(o.online_count for o in poll.options.all()) == len(set(ids))
    finally:
        transaction.savepoint_rollback(sid)


_hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "A\nB\n\n" * 5, "x" * 5000, "<script>", "²", "-1", "1e309"]),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    # "ITEM" stands for a real agenda item, so the opening path is taken too.
    item=st.one_of(
        st.just("ITEM"), st.integers(min_value=-(2**70), max_value=2**70).map(str), _hostile_text
    ),
    question=st.one_of(st.just("Sollen wir?"), _hostile_text),
    kind=st.one_of(st.sampled_from(["yes_no", "single", "multiple"]), _hostile_text),
    options=_hostile_text,
    max_choices=st.one_of(
        st.just("1"), st.integers(min_value=-(2**70), max_value=2**70).map(str), _hostile_text
    ),
)
def test_any_poll_form_input_is_either_refused_cleanly_or_opens_one_poll(
    client, conference, agenda, chair, item, question, kind, options, max_choices
):
    client.force_login(chair)
    if item == "ITEM":
        item = str(agenda[1].pk)  # an item without an open poll until one is opened here
    before = Poll.objects.count()
    response = client.post(
        reverse("conferences:poll_create", kwargs={"slug": conference.slug}),
        {
            "item": item,
            "question": question,
            "kind": kind,
            "options": options,
            "max_choices": max_choices,
        },
    )
    assert response.status_code in (302, 400), response.status_code
    event(f"answered {response.status_code}")
    if response.status_code == 400:
        assert Poll.objects.count() == before
        assert "error-summary" in response.content.decode() or response.context["form"].errors
    else:
        assert Poll.objects.count() == before + 1
        Poll.objects.filter(status=Poll.Status.OPEN).update(status=Poll.Status.CLOSED)
