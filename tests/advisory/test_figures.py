"""The organisers' participation figures: the privacy rule exactly at four and five people (in
total, among guests, among members), what counts as a post and a person, the period, who may see
the page, and the queries it costs.

Personas (tests/advisory/conftest.py): alice a member, gina a guest of the forum, olga a guest of
another forum, mo the organiser, sam staff; bob organises another advisory forum.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote_from_bytes

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import example, given
from hypothesis import strategies as st

from consultations.advisory import services
from consultations.advisory.figures import (
    ALL_TIME,
    MIN_GROUP,
    PERIODS,
    Counts,
    Figures,
    advisory_counts,
    advisory_figures,
    figures_shown,
    period_of,
    period_start,
)
from deliberation.models import Member
from forums import services as forum_services
from forums.models import Forum, Post
from tests.factories import make_forum, make_guest, make_member, make_post, make_thread
from tests.hostile import FORM_SETTINGS, client_of, hostile_text, rolled_back

pytestmark = pytest.mark.django_db

FEW = "Weniger als fünf Personen"
NO_SPLIT = "keine Aufteilung"


# --- the rule, without the database ------------------------------------------------------------


def _counts(*, guests: int, members: int, deleted_posts: int = 0) -> Counts:
    """Counts of ``guests`` and ``members`` writing two posts each."""
    return Counts(
        participants=guests + members,
        posts=2 * (guests + members) + deleted_posts,
        threads=3,
        guests=guests,
        guest_posts=2 * guests,
        members=members,
        member_posts=2 * members,
    )


def test_the_threshold_is_five_people():
    # The pages say "five" in words; change them together with the constant.
    assert MIN_GROUP == 5


@pytest.mark.parametrize("guests,members", [(0, 0), (0, 4), (4, 0), (1, 3), (2, 2)])
def test_fewer_than_five_participants_show_nothing_at_all(guests, members):
    assert figures_shown(_counts(guests=guests, members=members, deleted_posts=7)) == Figures()
    assert not Figures().shown and not Figures().groups_shown


@pytest.mark.parametrize("guests,members", [(0, 5), (5, 0), (1, 4), (4, 1)])
def test_five_participants_show_the_totals_but_no_split_when_a_group_is_under_five(guests, members):
    figures = figures_shown(_counts(guests=guests, members=members))
    assert (figures.participants, figures.posts, figures.threads) == (5, 10, 3)
    assert not figures.groups_shown
    assert figures.guests is figures.members is None
    assert figures.guest_posts is figures.member_posts is None
    assert figures.guest_share is figures.member_share is None
    assert figures.guest_post_share is figures.member_post_share is None


@pytest.mark.parametrize("guests,members", [(4, 5), (5, 4), (4, 40), (40, 4)])
def test_a_group_of_four_hides_both_groups(guests, members):
    figures = figures_shown(_counts(guests=guests, members=members))
    assert figures.participants == guests + members
    assert not figures.groups_shown
    assert figures.guests is figures.members is figures.guest_share is None


def test_five_guests_and_five_members_show_the_split():
    figures = figures_shown(_counts(guests=5, members=15, deleted_posts=4))
    assert (figures.participants, figures.posts) == (20, 44)
    assert (figures.guests, figures.guest_posts, figures.members, figures.member_posts) == (
        5,
        10,
        15,
        30,
    )
    assert figures.guest_share == 25 and figures.member_share == 75
    assert figures.guest_post_share == pytest.approx(100 * 10 / 44)
    assert figures.member_post_share == pytest.approx(100 * 30 / 44)


@pytest.mark.parametrize("value", [None, "", "alle", "7", "30 ", "365", "-1", "\x00", ["30"], 30])
def test_an_unknown_period_is_all_time(value):
    assert period_of(value) == ALL_TIME


@pytest.mark.parametrize("value,days", [("30", 30), ("90", 90)])
def test_a_known_period_starts_that_many_days_ago(value, days):
    now = timezone.now()
    assert period_of(value) == value
    assert period_start(value, now=now) == now - timedelta(days=days)
    assert period_start(ALL_TIME, now=now) is None


# --- the counts, from the database -------------------------------------------------------------


def _member() -> Member:
    # No password: hashing one for each of the crowd would take most of the test's time.
    return make_member(password=None)


def _guests(advisory, sam, n: int) -> list[Member]:
    guests = [make_guest(password=None) for _ in range(n)]
    for guest in guests:
        forum_services.forum_grant(
            actor=sam, forum=advisory.forum, member=guest, right="participate"
        )
    return guests


def _write(advisory, authors, *, each: int = 1, thread=None) -> list[Post]:
    """``each`` posts by every one of ``authors`` in ``thread`` (a new one, opened by the first
    author, if None), all published (a guest's post is held until a moderator lets it through:
    here it is let through at once)."""
    posts = []
    for author in authors:
        for _ in range(each):
            if thread is None:
                thread = make_thread(advisory.forum, author=author)
                posts.append(thread.posts.get())
            else:
                posts.append(make_post(thread, author=author))
    Post.objects.filter(pk__in=[post.pk for post in posts]).update(state=Post.State.PUBLISHED)
    return posts


def test_only_published_posts_count_not_held_hidden_rejected_or_deleted_ones(advisory, sam):
    members = [_member() for _ in range(5)]
    posts = _write(advisory, members, each=2)
    for post, state in zip(
        posts[:3], [Post.State.HELD, Post.State.HIDDEN, Post.State.REJECTED], strict=True
    ):
        Post.objects.filter(pk=post.pk).update(state=state)
    forum_services.post_delete(actor=members[2], post=posts[4])
    counts = advisory_counts(advisory=advisory)
    # members[0] has no counted post left, members[1] and members[2] one of two each
    assert (counts.posts, counts.participants, counts.members, counts.threads) == (6, 4, 4, 1)
    assert advisory_figures(advisory=advisory) == Figures()


def test_posts_of_deleted_accounts_count_as_posts_but_not_as_people(advisory, sam):
    members = [_member() for _ in range(6)]
    _write(advisory, members, each=2)
    members[5].delete()
    counts = advisory_counts(advisory=advisory)
    assert (counts.posts, counts.participants, counts.members, counts.member_posts) == (
        12,
        5,
        5,
        10,
    )
    members[4].delete()
    assert advisory_counts(advisory=advisory).posts == 12
    assert advisory_figures(advisory=advisory) == Figures()  # four people left


def test_guests_and_members_are_counted_apart(advisory, sam, gina, alice):
    guests = [gina, *_guests(advisory, sam, 4)]
    members = [alice, *(_member() for _ in range(4))]
    thread = _write(advisory, members)[0].thread
    _write(advisory, guests, each=3, thread=thread)
    _write(advisory, [alice])  # a second thread
    counts = advisory_counts(advisory=advisory)
    assert counts == Counts(
        participants=10,
        posts=21,
        threads=2,
        guests=5,
        guest_posts=15,
        members=5,
        member_posts=6,
    )
    figures = advisory_figures(advisory=advisory)
    assert figures.groups_shown and figures.guest_share == 50


def test_posts_of_another_forum_do_not_count(advisory, sam):
    other = make_forum(actor=sam, kind=Forum.Kind.ADVISORY)
    for _ in range(5):
        make_thread(other, author=_member())
    assert advisory_counts(advisory=advisory).posts == 0


def test_the_period_counts_only_posts_written_in_it(advisory, sam):
    members = [_member() for _ in range(5)]
    recent = _write(advisory, members)
    old = _write(advisory, members[:2], thread=recent[0].thread)
    Post.objects.filter(pk__in=[post.pk for post in old]).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    month = period_start("30")
    quarter = period_start("90")
    assert advisory_counts(advisory=advisory, since=month).posts == 5
    assert advisory_counts(advisory=advisory, since=quarter).posts == 7
    assert advisory_counts(advisory=advisory).posts == 7
    Post.objects.filter(pk=recent[4].pk).update(created_at=timezone.now() - timedelta(days=31))
    assert advisory_figures(advisory=advisory, since=month) == Figures()  # four in 30 days
    assert advisory_figures(advisory=advisory, since=quarter).participants == 5


def test_the_counts_are_one_query_however_many_posts(advisory, sam, django_assert_num_queries):
    members = [_member() for _ in range(6)]
    _write(advisory, members, each=3)
    _write(advisory, _guests(advisory, sam, 5))
    with django_assert_num_queries(1):
        advisory_figures(advisory=advisory, since=period_start("90"))
    with django_assert_num_queries(1):
        advisory_figures(advisory=advisory)


# --- the page ----------------------------------------------------------------------------------


def _url(advisory, query: str = "") -> str:
    return reverse("advisory:figures", args=[advisory.forum.slug]) + query


@pytest.fixture
def bob_organises_another(sam, bob, topic):
    other = services.advisory_create(
        actor=sam,
        forum=make_forum(actor=sam, slug="ratschlag-digital", kind=Forum.Kind.ADVISORY),
        topic=topic,
    )
    services.organiser_grant(actor=sam, advisory=other, member=bob)
    return other


# 302: to the login. gina, a guest of the forum, gets 403 like alice: she may see the forum and
# its organisers' pages exist for every advisory forum, so a 403 tells her nothing she does not
# know; olga, who may not see the forum, must not learn that it exists (404).
RIGHTS = {
    "anonymous": 302,
    "alice": 403,
    "gina": 403,
    "olga": 404,
    "bob": 403,
    "mo": 200,
    "sam": 200,
}


@pytest.mark.parametrize("role", list(RIGHTS))
def test_only_organisers_and_staff_see_the_page(request, advisory, bob_organises_another, role):
    client = Client() if role == "anonymous" else client_of(request.getfixturevalue(role))
    response = client.get(_url(advisory))
    assert response.status_code == RIGHTS[role]
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "role,linked", [("alice", False), ("gina", False), ("mo", True), ("sam", True)]
)
def test_the_forum_page_links_to_the_figures_only_for_organisers(request, advisory, role, linked):
    page = client_of(request.getfixturevalue(role)).get(advisory.get_absolute_url())
    assert (_url(advisory) in page.content.decode()) is linked


def test_four_people_get_the_sentence_and_no_number(advisory, sam, mo):
    members = [_member() for _ in range(4)]
    _write(advisory, members, each=3)
    page = client_of(mo).get(_url(advisory)).content.decode()
    assert FEW in page
    assert "conf-totals__number" not in page and "<table" not in page


def test_five_people_get_the_totals_but_not_four_guests_share(advisory, sam, mo, gina):
    _write(advisory, [_member(), gina, *_guests(advisory, sam, 3)], each=3)
    response = client_of(mo).get(_url(advisory))
    page = response.content.decode()
    assert FEW not in page and NO_SPLIT in page
    assert response.context["figures"] == Figures(participants=5, posts=15, threads=1)
    assert "<table" not in page


def test_five_guests_and_five_members_get_the_table(advisory, sam, mo):
    _write(advisory, [*(_member() for _ in range(5)), *_guests(advisory, sam, 5)])
    page = client_of(mo).get(_url(advisory)).content.decode()
    assert FEW not in page and NO_SPLIT not in page
    assert "<table" in page and "50\xa0%" in page


def test_the_period_form_shows_the_chosen_period(advisory, mo):
    response = client_of(mo).get(_url(advisory, "?zeitraum=90"))
    assert response.context["form"]["zeitraum"].value() == "90"
    assert 'value="90" selected' in response.content.decode()
    assert response.context["since"] is not None


@FORM_SETTINGS
@given(value=st.one_of(hostile_text, st.sampled_from(list(PERIODS))))
@example(value="30")
@example(value="9" * 100)
def test_any_period_value_gives_a_page_and_unknown_ones_all_time(advisory, mo, value):
    client = client_of(mo)
    with rolled_back():
        raw = quote_from_bytes(value.encode("utf-8", "surrogatepass"))
        response = client.get(_url(advisory, f"?zeitraum={raw}"))
        assert response.status_code == 200
        chosen = response.context["form"]["zeitraum"].value()
        assert chosen == (value if value in PERIODS else ALL_TIME)


def test_the_page_costs_the_same_queries_with_many_posts(advisory, sam, mo):
    client = client_of(mo)
    _write(advisory, [_member() for _ in range(5)])
    client.get(_url(advisory))
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url(advisory, "?zeitraum=30")).status_code == 200
    _write(advisory, [*(_member() for _ in range(6)), *_guests(advisory, sam, 6)], each=3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(_url(advisory, "?zeitraum=30")).status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("language,number", [("de", "12.345"), ("en", "12,345")])
def test_numbers_are_formatted_for_the_language(advisory, language, number):
    figures = Figures(
        participants=12345,
        posts=20000,
        threads=9,
        guests=6000,
        guest_posts=10000,
        members=6345,
        member_posts=10000,
    )
    with translation.override(language):
        page = render_to_string(
            "advisory/figures.html",
            {
                "advisory": advisory,
                "forum": advisory.forum,
                "figures": figures,
                "period_label": PERIODS[ALL_TIME][1],
            },
        )
    assert number in page
    assert ("49\xa0%" if language == "de" else "49%") in page
