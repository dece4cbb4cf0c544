"""The dashboard: what is live (only what a format calls live, at the test's clock), threads with
unread posts and their counts, what is new in the member's forums, and the page around them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliberation import clock as deliberation_clock
from deliberation import dashboard as slots
from deliberation import selectors
from deliberation.models import Member
from forums import services
from forums.models import Forum, Post, Thread
from tests.clock import FakeClock
from tests.factories import make_forum, make_guest, make_member, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _many_posts_allowed(settings):
    settings.POST_RATE_LIMIT = 10_000


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.make_aware(datetime(2026, 12, 5, 17, 0)))
    monkeypatch.setattr(deliberation_clock, "clock", fake)
    return fake


def read_to_end(member: Member, thread: Thread) -> None:
    thread.refresh_from_db()
    services.thread_mark_read(member=member, thread=thread, seq=thread.last_seq)


def dash(user) -> dict:
    return selectors.dashboard(user=user)


# --- threads with unread posts ----------------------------------------------------------------


def test_a_read_thread_with_new_posts_by_others_shows_how_many_and_where_to_go_on(alice, bob):
    thread = make_thread(make_forum(slug="lesen"), author=alice, title="Mieten")
    read_to_end(alice, thread)
    first_new = make_post(thread, author=bob)
    make_post(thread, author=bob)
    make_post(thread, author=alice)  # her own post is not news to her

    [row] = dash(alice)["unread_threads"]

    assert row == thread
    assert row.unread_count == 2
    assert row.first_unread_id == first_new.pk


def test_a_thread_read_to_its_end_is_not_listed(alice, bob):
    thread = make_thread(make_forum(slug="fertig"), author=bob)
    make_post(thread, author=bob)
    read_to_end(alice, thread)
    assert dash(alice)["unread_threads"] == []


def test_only_posts_after_the_read_position_count(alice, bob):
    thread = make_thread(make_forum(slug="halb"), author=bob)
    make_post(thread, author=bob)
    read_to_end(alice, thread)
    make_post(thread, author=bob)
    read_to_end(bob, thread)
    make_post(thread, author=bob)
    make_post(thread, author=bob)
    make_post(thread, author=bob)
    assert [t.unread_count for t in dash(alice)["unread_threads"]] == [4]


def test_held_and_deleted_posts_are_not_counted_as_unread(alice, bob):
    forum = make_forum(slug="vorab", premoderated=True)
    services.forum_grant(actor=_staff(), forum=forum, member=alice, right="participate")
    thread = make_thread(forum, author=_staff())
    read_to_end(alice, thread)
    held = make_post(thread, author=bob)
    assert held.state == Post.State.HELD
    assert dash(alice)["unread_threads"] == []

    open_forum = make_forum(slug="offen")
    other = make_thread(open_forum, author=bob)
    read_to_end(alice, other)
    gone = make_post(other, author=bob)
    kept = make_post(other, author=bob)
    services.post_delete(actor=bob, post=gone)
    [row] = dash(alice)["unread_threads"]
    assert (row.unread_count, row.first_unread_id) == (1, kept.pk)


def test_a_thread_never_opened_is_new_in_the_forums_not_an_unread_count(alice, bob):
    thread = make_thread(make_forum(slug="neu"), author=bob)
    page = dash(alice)
    assert page["unread_threads"] == []
    assert [(t, t.is_unread) for t in page["activity"]] == [(thread, True)]


def test_unread_threads_come_newest_activity_first_five_at_most(alice, bob):
    forum = make_forum(slug="viele")
    threads = [make_thread(forum, author=bob, title=f"T{n}") for n in range(7)]
    for thread in threads:
        read_to_end(alice, thread)
    start = timezone.now()
    # Activity in an order other than creation: the newest post decides.
    for minutes, index in enumerate([3, 0, 6, 1, 5, 2, 4]):
        make_post(threads[index], author=bob)
        Thread.objects.filter(pk=threads[index].pk).update(
            last_activity_at=start + timedelta(minutes=minutes)
        )

    page = dash(alice)

    assert [t.title for t in page["unread_threads"]] == ["T4", "T2", "T5", "T1", "T6"]
    assert page["more_unread"] is True
    # What the short list leaves out still shows below, but nothing appears twice.
    listed = {t.pk for t in page["unread_threads"]}
    assert not listed & {t.pk for t in page["activity"]}


def test_more_unread_is_false_when_all_fit(alice, bob):
    thread = make_thread(make_forum(slug="eins"), author=bob)
    read_to_end(alice, thread)
    make_post(thread, author=bob)
    assert dash(alice)["more_unread"] is False


# --- permissions ------------------------------------------------------------------------------


def _staff() -> Member:
    return Member.objects.filter(is_staff=True).order_by("pk").first() or make_member(
        is_staff=True, is_superuser=True
    )


def test_a_private_forums_thread_never_appears_for_a_non_member(alice, bob):
    secret = make_forum(slug="geheim", visibility=Forum.Visibility.INVITED)
    services.forum_grant(actor=_staff(), forum=secret, member=bob, right="participate")
    thread = make_thread(secret, author=bob, title="Vertraulich")
    make_post(thread, author=bob)

    for user in (alice, AnonymousUser()):
        page = dash(user)
        assert thread not in page["unread_threads"]
        assert thread not in page["activity"]
    assert thread in dash(bob)["activity"]


def test_a_thread_read_before_a_right_was_taken_away_is_no_longer_listed(alice, bob):
    secret = make_forum(slug="entzogen", visibility=Forum.Visibility.INVITED)
    for member in (alice, bob):
        services.forum_grant(actor=_staff(), forum=secret, member=member, right="participate")
    thread = make_thread(secret, author=bob)
    read_to_end(alice, thread)
    make_post(thread, author=bob)
    assert dash(alice)["unread_threads"] == [thread]

    services.forum_revoke(actor=_staff(), forum=secret, member=alice, right="participate")

    page = dash(alice)
    assert page["unread_threads"] == []
    assert thread not in page["activity"]


def test_a_guest_sees_only_the_forum_they_were_invited_to(bob):
    guest = make_guest(display_name="Gast")
    members = make_thread(make_forum(slug="mitglieder"), author=bob, title="Nur Mitglieder")
    invited = make_forum(slug="ratschlag", visibility=Forum.Visibility.INVITED)
    for member in (guest, bob):
        services.forum_grant(actor=_staff(), forum=invited, member=member, right="participate")
    theirs = make_thread(invited, author=bob, title="Mit Gästen")
    assert [t.pk for t in dash(guest)["activity"]] == [theirs.pk]
    assert members.pk not in [t.pk for t in dash(guest)["activity"]]


def test_visitors_see_only_public_forums(bob):
    public = make_thread(make_forum(slug="oeffentlich", visibility="public"), author=bob)
    make_thread(make_forum(slug="intern"), author=bob)
    page = dash(AnonymousUser())
    assert [t.pk for t in page["activity"]] == [public.pk]
    assert page["unread_threads"] == []
    assert [t.is_unread for t in page["activity"]] == [False]


# --- what is new in my forums -----------------------------------------------------------------


def test_activity_shows_the_newest_readable_post_with_its_author_and_badge(alice, bob):
    forum = make_forum(slug="ratschlag-mieten")
    group = make_member(
        display_name="Fraktionsbüro", affiliation=Member.Affiliation.PARLIAMENTARY_GROUP
    )
    thread = make_thread(forum, author=bob, title="Vorkaufsrecht")
    said = make_post(thread, author=group, body="Wir haben **Erfahrung** damit.")
    withdrawn = make_post(thread, author=bob, body="Zurückgezogen")
    services.post_delete(actor=bob, post=withdrawn)

    [row] = dash(alice)["activity"]

    assert row.last_post == said
    assert row.last_post.author.badge == "Fraktion"
    assert row.last_post_excerpt == "Wir haben Erfahrung damit."


def test_new_in_activity_means_a_post_the_member_has_not_seen(alice, bob):
    forum = make_forum(slug="markiert")
    agreed = make_thread(forum, author=bob, title="Nur Zustimmung seitdem")
    read_to_end(alice, agreed)
    services.reaction_toggle(actor=make_member(), post=agreed.posts.get())  # an event, no post
    mine = make_thread(forum, author=bob, title="Zuletzt von mir")
    read_to_end(alice, mine)
    make_post(mine, author=alice)
    unseen = make_thread(forum, author=bob, title="Nie geöffnet")

    marks = {t.title: t.is_unread for t in dash(alice)["activity"]}

    assert marks == {agreed.title: False, mine.title: False, unseen.title: True}


def test_activity_is_newest_first_and_short(alice, bob):
    forum = make_forum(slug="kurz")
    threads = [make_thread(forum, author=bob, title=f"A{n}") for n in range(9)]
    start = timezone.now()
    for n, thread in enumerate(threads):
        Thread.objects.filter(pk=thread.pk).update(last_activity_at=start - timedelta(minutes=n))
    assert [t.title for t in dash(alice)["activity"]] == [f"A{n}" for n in range(6)]


# --- live now and coming up: only what a format offers, at the test's clock -------------------


def test_nothing_is_live_until_a_format_says_so(alice, bob):
    thread = make_thread(make_forum(slug="aktiv"), author=bob)
    make_post(thread, author=bob)  # a busy ordinary thread is not "live"
    page = dash(alice)
    assert page["live_now"] == []
    assert page["upcoming"] == []


@pytest.fixture
def conference_slots():
    """A stand-in for the conferences of issue #11: live from 18:00 to 21:00 on 5 December."""
    starts = timezone.make_aware(datetime(2026, 12, 5, 18, 0))
    ends = starts + timedelta(hours=3)

    def live(*, user, now):
        if not user.is_authenticated or not (starts <= now < ends):
            return []
        return [slots.LiveEntry(title="Basiskonferenz", url="/konferenz/1/", followers=42)]

    def coming(*, user, now):
        return [
            slots.UpcomingEntry(title="Basiskonferenz", url="/konferenz/1/", starts_at=starts),
            slots.UpcomingEntry(title="Plenum", url="/e/2/", starts_at=starts - timedelta(days=1)),
        ]

    slots.register_live_now(live)
    slots.register_live_now(live)  # twice: still one entry
    slots.register_upcoming(coming)
    yield
    slots.unregister(live)
    slots.unregister(coming)


def test_a_format_is_live_exactly_while_its_provider_says_so(alice, fake_clock, conference_slots):
    page = dash(alice)
    assert page["live_now"] == []
    assert [e.title for e in page["upcoming"]] == ["Basiskonferenz"]  # the past one is dropped

    fake_clock.advance(timedelta(hours=1))
    [entry] = dash(alice)["live_now"]
    assert (entry.title, entry.followers) == ("Basiskonferenz", 42)
    assert dash(alice)["upcoming"] == []  # it has started: live, no longer coming up

    fake_clock.advance(timedelta(hours=3))
    assert dash(alice)["live_now"] == []


def test_live_entries_are_shown_with_badge_and_followers(
    client, alice, fake_clock, conference_slots
):
    client.force_login(alice)
    assert "Jetzt live" not in client.get("/").content.decode()
    fake_clock.advance(timedelta(hours=1, minutes=30))
    html = client.get("/").content.decode()
    assert "Jetzt live" in html
    assert 'class="badge badge--live"' in html
    assert "42 Personen folgen" in html


# --- the page ---------------------------------------------------------------------------------


def test_a_visitor_is_told_what_the_platform_is_and_how_to_log_in(client):
    html = client.get("/").content.decode()
    assert 'href="/anmelden/"' in html and "Passwort vergessen?" in html
    assert "Gäste aus Initiativen" in html
    assert "Jetzt live" not in html and "Demnächst" not in html
    assert "Neue Antworten für dich" not in html
    assert "Neu in den öffentlichen Foren" not in html  # no public forum: no empty section
    assert 'class="empty-state"' not in html


def test_a_member_with_nothing_new_gets_a_next_step(client, alice):
    client.force_login(alice)
    html = client.get("/").content.decode()
    # One empty state, not one per section, and it leads to the forums.
    assert html.count('class="empty-state"') == 1
    assert "Noch nichts Neues" in html and "Sobald in deinen Foren jemand schreibt" in html
    assert 'class="button button--secondary" href="/foren/"' in html
    assert 'class="empty"' not in html  # no italic placeholders for formats that do not exist


def test_a_member_who_has_read_everything_is_told_so_above_whats_new(client, alice, bob):
    make_thread(make_forum(slug="ungelesen"), author=bob, title="Noch nie geöffnet")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert html.count('class="empty-state"') == 1
    assert "Noch nichts Neues für dich" in html
    assert "Noch nie geöffnet" in html


def test_a_member_sees_counts_and_links_to_the_first_unread_post(client, alice, bob):
    thread = make_thread(make_forum(slug="zaehlen", title="Forum Zählen"), author=bob, title="Z")
    read_to_end(alice, thread)
    first = make_post(thread, author=bob)
    make_post(thread, author=bob)
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert f'href="/foren/beitrag/{first.pk}/"' in html
    assert "(2 neue Beiträge)" in html
    assert "Forum Zählen" in html


def test_the_dashboard_in_english(client, alice, bob):
    alice.language = "en"
    alice.save(update_fields=["language"])
    thread = make_thread(make_forum(slug="en"), author=bob)
    read_to_end(alice, thread)
    make_post(thread, author=bob)
    client.force_login(alice)
    client.cookies["django_language"] = "en"
    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "New replies for you" in html and "(1 new post)" in html


def _busy_world(member: Member, *, forums: int, threads: int, author: Member) -> None:
    for _ in range(forums):
        forum = make_forum()
        for _ in range(threads):
            thread = make_thread(forum, author=author)
            read_to_end(member, thread)
            make_post(thread, author=author)


def _queries_for_home(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries)


def test_the_dashboards_queries_do_not_grow_with_forums_and_threads(client, alice, bob):
    client.force_login(alice)
    _busy_world(alice, forums=1, threads=1, author=bob)
    make_thread(make_forum(), author=bob)  # never opened: one row in "new in your forums"
    few = _queries_for_home(client)
    _busy_world(alice, forums=6, threads=5, author=bob)
    many = _queries_for_home(client)
    assert many == few
    assert many <= 10
    html = client.get("/").content.decode()
    assert html.count("badge badge--count") >= 5


def test_a_visitors_dashboard_costs_few_queries(client, django_assert_max_num_queries, bob):
    for n in range(5):
        make_thread(make_forum(slug=f"pub-{n}", visibility="public"), author=bob)
    with django_assert_max_num_queries(4):
        assert client.get("/").status_code == 200


def test_the_demo_member_finds_new_replies_and_new_threads_on_her_dashboard():
    import io

    from django.core.management import call_command

    from deliberation.demo import MEMBER, demo_member

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # a second run keeps her read positions

    page = dash(demo_member(MEMBER))

    assert {t.title: t.unread_count for t in page["unread_threads"]} == {
        "Mietendeckel 2.0 – was kann das Land noch tun?": 2,
        "Willkommen im Mitgliederforum": 1,
    }
    assert "Barrierefreiheit bei unseren Veranstaltungen" in [t.title for t in page["activity"]]
