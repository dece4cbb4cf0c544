"""What a guest reaches (issue #12): only the forums they were invited to, and there only the
threads not marked members-only; over HTTP and over every socket.

The world: gina is a guest with a participate grant on one advisory forum ("granted"), which
holds a normal thread and a members-only thread. Around it: a members' forum, a public forum, an
invited forum gina holds no grant on, and a conference whose forum is public. alice is a member,
mo moderates the granted forum, sam is staff. Each cell of the grids is one address and the exact
answer gina gets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from consultations.advisory import services as advisory_services
from consultations.conferences import services as conference_services
from consultations.conferences.models import Conference
from consultations.decisions.models import Topic
from deliberation.asgi import application
from deliberation.models import Member
from forums import consumers, permissions, services, services_moderation
from forums.errors import ServiceError
from forums.forms import ThreadForm
from forums.models import Forum, Thread
from moderation import services as moderation_services
from moderation.models import ModerationAction
from tests import factories
from tests.forums.test_consumers import (  # noqa: F401 (_fresh_hub: autouse fixture)
    HOST,
    ORIGIN,
    TIMEOUT,
    _fresh_hub,
    frames_until_closed,
    open_socket,
    session_cookie,
)


@dataclass
class World:
    members: Forum
    public: Forum
    invited: Forum
    granted: Forum
    conference: Conference
    threads: dict[str, Thread]


def _world(*, sam: Member, alice: Member, gina: Member, mo: Member) -> World:
    members = factories.make_forum(actor=sam, title="Mitgliederforum", slug="mitglieder")
    public = factories.make_forum(
        actor=sam, title="Offenes Forum", slug="offen", visibility=Forum.Visibility.PUBLIC
    )
    invited = factories.make_forum(
        actor=sam, title="Geladenes Forum", slug="geladen", visibility=Forum.Visibility.INVITED
    )
    granted = factories.make_forum(
        actor=sam, title="Ratschlag Mieten", slug="ratschlag", kind=Forum.Kind.ADVISORY
    )
    services.forum_grant(actor=sam, forum=granted, member=gina, right="participate")
    services.forum_grant(actor=sam, forum=granted, member=mo, right="moderate")
    topic = Topic.objects.create(name="Mieten", slug="mieten")
    advisory_services.advisory_create(actor=sam, forum=granted, topic=topic)
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=sam,
        title="Basiskonferenz",
        slug="basiskonferenz",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
    )
    # A public conference forum: before issue #12 every guest could read it.
    Forum.objects.filter(pk=conference.forum_id).update(visibility=Forum.Visibility.PUBLIC)
    conference.refresh_from_db()

    def thread(forum: Forum, title: str, **fields: Any) -> Thread:
        made = factories.make_thread(forum, author=sam, title=title, body=f"Text {title}", **fields)
        factories.make_post(made, author=sam, body=f"Antwort in {title}")
        return made

    threads = {
        "members": thread(members, "Faden Mitglieder"),
        "public": thread(public, "Faden Offen"),
        "invited": thread(invited, "Faden Geladen"),
        "granted": thread(granted, "Faden Ratschlag"),
        "granted_members_only": thread(granted, "Faden Intern", members_only=True),
        "conference": thread(conference.forum, "Faden Konferenz"),
    }
    return World(members, public, invited, granted, conference, threads)


@pytest.fixture
def world(sam, alice, gina, mo) -> World:
    return _world(sam=sam, alice=alice, gina=gina, mo=mo)


def _last_post_pk(thread: Thread) -> int:
    return thread.posts.order_by("-pk").values_list("pk", flat=True)[0]


# --- over HTTP --------------------------------------------------------------------------------

FORUMS = [
    ("members", 404),
    ("public", 404),  # 200 before issue #12
    ("invited", 404),
    ("granted", 200),
    ("conference_forum", 404),  # public: 200 before issue #12
]
THREADS = [
    ("members", 404),
    ("public", 404),
    ("invited", 404),
    ("granted", 200),
    ("granted_members_only", 404),
    ("conference", 404),
]


def _forum(world: World, key: str) -> Forum:
    return world.conference.forum if key == "conference_forum" else getattr(world, key)


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "status"), FORUMS)
def test_a_guest_reaches_only_the_forum_they_were_invited_to(client, world, gina, key, status):
    client.force_login(gina)
    url = reverse("forums:forum", kwargs={"slug": _forum(world, key).slug})
    assert client.get(url).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "status"), THREADS)
def test_a_guest_reaches_only_the_normal_threads_of_their_forum(client, world, gina, key, status):
    client.force_login(gina)
    url = reverse("forums:thread", kwargs={"pk": world.threads[key].pk})
    assert client.get(url).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "status"), [(key, 302 if status == 200 else status) for key, status in THREADS]
)
def test_a_guest_follows_a_post_permalink_only_into_a_thread_they_may_read(
    client, world, gina, key, status
):
    client.force_login(gina)
    url = reverse("forums:post", kwargs={"pk": _last_post_pk(world.threads[key])})
    assert client.get(url).status_code == status


def _pages(world: World) -> list[tuple[str, str, int]]:
    granted, members_only = world.threads["granted"], world.threads["granted_members_only"]
    slug = world.conference.slug
    return [
        ("advisory forum", reverse("advisory:detail", kwargs={"slug": world.granted.slug}), 200),
        ("conference", reverse("conferences:conference", kwargs={"slug": slug}), 404),
        ("conference polls", reverse("conferences:polls", kwargs={"slug": slug}), 404),
        ("decisions calendar", reverse("decisions:month_now"), 404),
        ("moderate the normal thread", reverse("moderation:thread", args=[granted.pk]), 403),
        ("moderate the members-only thread",
         reverse("moderation:thread", args=[members_only.pk]), 404),
        ("queue of the granted forum", reverse("moderation:queue", args=[world.granted.slug]), 403),
        ("log of the granted forum", reverse("moderation:log", args=[world.granted.slug]), 200),
        ("log of the public forum", reverse("moderation:log", args=[world.public.slug]), 404),
        ("log of the members' forum", reverse("moderation:log", args=[world.members.slug]), 404),
    ]  # fmt: skip


PAGE_NAMES = [
    "advisory forum",
    "conference",
    "conference polls",
    "decisions calendar",
    "moderate the normal thread",
    "moderate the members-only thread",
    "queue of the granted forum",
    "log of the granted forum",
    "log of the public forum",
    "log of the members' forum",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_a_guest_reaches_no_page_outside_their_forum(client, world, gina, name):
    (url, status) = next((u, s) for n, u, s in _pages(world) if n == name)
    client.force_login(gina)
    assert client.get(url).status_code == status


ALL_TITLES = [
    "Faden Mitglieder",
    "Faden Offen",
    "Faden Geladen",
    "Faden Ratschlag",
    "Faden Intern",
    "Faden Konferenz",
]


def _titles_in(html: str) -> set[str]:
    return {title for title in ALL_TITLES if title in html}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("dashboard", {"Faden Ratschlag"}),
        ("advisory forum", {"Faden Ratschlag"}),
        ("granted forum", {"Faden Ratschlag"}),
        ("search", {"Faden Ratschlag"}),
    ],
)
def test_every_list_a_guest_sees_names_only_the_normal_threads_of_their_forum(
    client, world, gina, page, expected
):
    client.force_login(gina)
    urls = {
        "dashboard": reverse("home"),
        "advisory forum": reverse("advisory:detail", kwargs={"slug": world.granted.slug}),
        "granted forum": reverse("forums:forum", kwargs={"slug": world.granted.slug}),
        "search": reverse("forums:search") + "?q=Faden",
    }
    response = client.get(urls[page])
    assert response.status_code == 200
    assert _titles_in(response.content.decode()) == expected


@pytest.mark.django_db
def test_the_forum_and_advisory_indexes_list_only_the_invited_forum(client, world, gina, alice):
    Member.objects.filter(pk=gina.pk).update(language="en")
    client.force_login(gina)
    html = client.get(reverse("forums:index")).content.decode()
    titles = {"Mitgliederforum", "Offenes Forum", "Geladenes Forum", "Ratschlag Mieten"}
    assert {t for t in titles if t in html} == {"Ratschlag Mieten"}
    assert "Basiskonferenz" not in html
    # The forum's thread count counts only the threads gina may read.
    assert "1 thread" in html and "2 threads" not in html
    assert "Basiskonferenz" not in client.get(reverse("conferences:index")).content.decode()
    client.force_login(alice)
    html = client.get(reverse("forums:index")).content.decode()
    assert {t for t in titles if t in html} == {
        "Mitgliederforum",
        "Offenes Forum",
        "Ratschlag Mieten",
    }


@pytest.mark.django_db
def test_members_and_staff_see_the_members_only_thread_and_anonymous_visitors_do_not(
    client, world, alice, sam
):
    url = reverse("forums:thread", kwargs={"pk": world.threads["granted_members_only"].pk})
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert "members only" in response.content.decode() or "nur für Mitglieder" in (
        response.content.decode()
    )
    client.force_login(sam)
    assert client.get(url).status_code == 200
    client.logout()
    public_thread = Thread.objects.create(
        forum=world.public, title="Offen, intern", members_only=True
    )
    assert permissions.can_view_thread(None, public_thread) is False
    assert permissions.can_view_forum(None, world.public) is True


@pytest.mark.django_db
def test_the_thread_list_marks_a_members_only_thread_with_a_badge(client, world, alice):
    client.force_login(alice)
    Member.objects.filter(pk=alice.pk).update(language="en")
    html = client.get(reverse("forums:forum", kwargs={"slug": world.granted.slug})).content.decode()
    assert html.count('<span class="badge badge--member">members only</span>') == 1


@pytest.mark.django_db
def test_the_thread_page_costs_no_more_queries_for_a_guest_or_a_members_only_thread(
    client, world, gina, alice, django_assert_num_queries
):
    # A member: tests/forums/test_views.py's budget (10 on a first visit, 8 after), whether the
    # thread is members-only or not. A guest: two more, as before issue #12 (their grants are
    # read by access_thread and again by the page: two guardian queries each time).
    ContentType.objects.get_for_model(Forum)
    for member, key, first, again in [
        (alice, "granted", 10, 8),
        (alice, "granted_members_only", 10, 8),
        (gina, "granted", 12, 10),
    ]:
        client.force_login(member)
        url = reverse("forums:thread", kwargs={"pk": world.threads[key].pk})
        with django_assert_num_queries(first):
            assert client.get(url).status_code == 200
        with django_assert_num_queries(again):
            assert client.get(url).status_code == 200


# --- who sets members_only --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_guest_cannot_make_a_thread_members_only(world, gina, sam):
    with pytest.raises(ServiceError) as refused:
        services.thread_create(
            actor=gina, forum=world.granted, title="Geheim", body="Text", members_only=True
        )
    assert refused.value.code == "forbidden"
    # Not even as a moderator of the forum: the mark would hide the thread from themselves.
    services.forum_grant(actor=sam, forum=world.granted, member=gina, right="moderate")
    with pytest.raises(ServiceError):
        services_moderation.thread_set_members_only(
            actor=gina, thread=world.threads["granted"], members_only=True
        )
    with pytest.raises(ServiceError):
        moderation_services.thread_make_members_only(
            actor=gina, thread=world.threads["granted"], reason="other"
        )
    assert Thread.objects.get(pk=world.threads["granted"].pk).members_only is False
    assert ThreadForm(may_set_members_only=False).fields.keys() == {"title", "body", "client_id"}


@pytest.mark.django_db
def test_a_member_who_does_not_moderate_cannot_make_a_thread_members_only(world, alice):
    with pytest.raises(ServiceError):
        services.thread_create(
            actor=alice, forum=world.members, title="Geheim", body="Text", members_only=True
        )
    with pytest.raises(ServiceError):
        services_moderation.thread_set_members_only(
            actor=alice, thread=world.threads["members"], members_only=True
        )


@pytest.mark.django_db
def test_the_thread_form_offers_the_checkbox_only_to_who_may_set_it(client, world, gina, alice, mo):
    url = reverse("forums:thread_create", kwargs={"slug": world.granted.slug})
    for member, offered in [(gina, False), (alice, False), (mo, True)]:
        client.force_login(member)
        assert ('name="members_only"' in client.get(url).content.decode()) is offered, member


@pytest.mark.django_db
def test_a_moderator_opens_a_members_only_thread_from_the_form(client, world, mo):
    client.force_login(mo)
    url = reverse("forums:thread_create", kwargs={"slug": world.granted.slug})
    response = client.post(
        url,
        {"title": "Nur intern", "body": "Vorbesprechung", "client_id": "x1", "members_only": "on"},
    )
    assert response.status_code == 302
    assert Thread.objects.get(title="Nur intern").members_only is True


@pytest.mark.django_db
def test_a_guest_posting_members_only_through_the_form_gets_a_normal_thread(client, world, gina):
    client.force_login(gina)
    url = reverse("forums:thread_create", kwargs={"slug": world.granted.slug})
    client.post(
        url, {"title": "Von Gina", "body": "Hallo", "client_id": "g1", "members_only": "on"}
    )
    assert Thread.objects.get(title="Von Gina").members_only is False


@pytest.mark.django_db
def test_the_moderator_toggle_is_logged_like_lock_and_pin(client, world, mo):
    thread = world.threads["granted"]
    client.force_login(mo)
    page = client.get(reverse("moderation:thread", args=[thread.pk])).content.decode()
    assert reverse("moderation:thread_action", args=[thread.pk, "nur-mitglieder"]) in page
    response = client.post(
        reverse("moderation:thread_action", args=[thread.pk, "nur-mitglieder"]),
        {"reason": "other", "text": "Vorbesprechung"},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.members_only is True
    moderation_services.thread_open_to_guests(actor=mo, thread=thread, reason="other")
    thread.refresh_from_db()
    assert thread.members_only is False
    actions = list(
        ModerationAction.objects.filter(thread_id=thread.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["thread_members_only", "thread_opened_to_guests"]


@pytest.mark.django_db
def test_a_guest_moderator_is_not_offered_the_toggle(client, world, gina, sam):
    services.forum_grant(actor=sam, forum=world.granted, member=gina, right="moderate")
    thread = world.threads["granted"]
    client.force_login(gina)
    page = client.get(reverse("moderation:thread", args=[thread.pk])).content.decode()
    assert "nur-mitglieder" not in page
    response = client.post(
        reverse("moderation:thread_action", args=[thread.pk, "nur-mitglieder"]),
        {"reason": "other"},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.members_only is False


# --- over the sockets -------------------------------------------------------------------------

SOCKETS = [
    ("thread", "members", False),
    ("thread", "public", False),
    ("thread", "invited", False),
    ("thread", "granted", True),
    ("thread", "granted_members_only", False),
    ("thread", "conference", False),
    ("conference", "conference", False),
]


def _socket(path: str, cookie: bytes) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[HOST, ORIGIN, (b"cookie", cookie)])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("kind", "key", "accepted"), SOCKETS)
async def test_a_guest_connects_only_to_the_normal_threads_of_their_forum(
    sam, alice, gina, mo, kind, key, accepted
):
    world = await database_sync_to_async(_world)(sam=sam, alice=alice, gina=gina, mo=mo)
    if kind == "thread":
        path = f"/ws/threads/{world.threads[key].pk}/"
    else:
        path = f"/ws/conferences/{world.conference.pk}/"
    ws = _socket(path, await session_cookie(gina))
    connected, code = await ws.connect(timeout=TIMEOUT)
    if accepted:
        assert connected, code
        hello = await ws.receive_json_from(timeout=TIMEOUT)
        assert hello["type"] == "hello"
        await ws.disconnect()
    else:
        assert (connected, code) == (False, consumers.CLOSE_NOT_FOUND)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_making_a_thread_members_only_closes_a_guests_open_socket_at_once(
    sam, alice, gina, mo
):
    world = await database_sync_to_async(_world)(sam=sam, alice=alice, gina=gina, mo=mo)
    thread = world.threads["granted"]
    ws, _, _ = await open_socket(thread.pk, await session_cookie(gina))
    member_ws, _, _ = await open_socket(thread.pk, await session_cookie(alice))

    def hide_then_post():
        moderation_services.thread_make_members_only(actor=mo, thread=thread, reason="other")
        services.post_create(actor=alice, thread=thread, body="Jetzt nur für Mitglieder")

    # gina sends nothing: the mark alone closes her socket, before the next post reaches her.
    await database_sync_to_async(hide_then_post)()
    frames = await frames_until_closed(ws, consumers.CLOSE_FORBIDDEN)
    assert [f["type"] for f in frames if f["type"] != "presence"] == ["error"]
    assert "Jetzt nur für Mitglieder" not in json.dumps(frames)
    # alice, a member, keeps reading.
    while True:
        frame = await member_ws.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == "post.created":
            break
    assert "Jetzt nur für Mitglieder" in frame["post"]["body_html"]
    await member_ws.disconnect()
    # And she cannot come back.
    again = _socket(f"/ws/threads/{thread.pk}/", await session_cookie(gina))
    assert await again.connect(timeout=TIMEOUT) == (False, consumers.CLOSE_NOT_FOUND)


# --- member lists: a guest gets the count only -------------------------------------------------


async def test_a_guest_socket_gets_the_count_of_readers_but_never_their_names(monkeypatch):
    from deliberation import hub as hub_module
    from tests.forums.test_hub import CountingLayer, FakeSocket

    layer = CountingLayer()
    monkeypatch.setattr(hub_module, "get_channel_layer", lambda alias=None: layer)
    hub = hub_module.Hub(presence_debounce=0.05, presence_interval=0.2, presence_ttl=0.5)
    member, guest = FakeSocket(), FakeSocket()
    presence = {"thread": 1}
    await hub.subscribe(
        "thread.1", member, member_id=1, name="Bea", presence=presence, show_names=True
    )
    await hub.subscribe(
        "thread.1",
        guest,
        member_id=2,
        name="Gina",
        presence=presence,
        show_names=True,
        sees_names=False,
    )
    await hub.flush_presence()
    assert member.frames()[-1] == {
        "type": "presence",
        "thread": 1,
        "count": 2,
        "names": ["Bea", "Gina"],
    }
    assert guest.frames()[-1] == {"type": "presence", "thread": 1, "count": 2}
    await hub.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_guests_thread_socket_asks_the_hub_for_the_count_only(
    sam, alice, gina, mo, monkeypatch
):
    from deliberation.hub import Hub

    world = await database_sync_to_async(_world)(sam=sam, alice=alice, gina=gina, mo=mo)
    await database_sync_to_async(Forum.objects.filter(pk=world.granted.pk).update)(
        show_presence_names=True
    )
    seen: list[tuple[int | None, bool]] = []
    subscribe = Hub.subscribe

    async def spy(self, group, subscriber, **kwargs):
        if kwargs.get("presence") is not None:
            seen.append((kwargs.get("member_id"), kwargs.get("sees_names", True)))
        return await subscribe(self, group, subscriber, **kwargs)

    monkeypatch.setattr(Hub, "subscribe", spy)
    thread = world.threads["granted"]
    for member in (alice, gina):
        ws, _, _ = await open_socket(thread.pk, await session_cookie(member))
        await ws.disconnect()
    assert seen == [(alice.pk, True), (gina.pk, False)]


@pytest.mark.django_db
def test_a_guest_moderators_queue_leaves_out_the_members_only_threads(world, gina, alice, sam):
    from moderation import selectors as moderation_selectors

    services.forum_grant(actor=sam, forum=world.granted, member=gina, right="moderate")
    Forum.objects.filter(pk=world.granted.pk).update(premoderated=True)
    for key in ("granted", "granted_members_only"):
        thread = Thread.objects.select_related("forum").get(pk=world.threads[key].pk)
        services.post_create(actor=alice, thread=thread, body=f"Wartet in {key}")
    forum = Forum.objects.get(pk=world.granted.pk)
    seen = {item.post.body for item in moderation_selectors.queue_for_forum(user=gina, forum=forum)}
    assert seen == {"Wartet in granted"}
    for_staff = moderation_selectors.queue_for_forum(user=sam, forum=forum)
    assert {item.post.body for item in for_staff} == {
        "Wartet in granted",
        "Wartet in granted_members_only",
    }
    hidden = next(i for i in for_staff if i.post.thread.members_only)
    assert moderation_selectors.queue_item(user=gina, kind="case", pk=hidden.case.pk) is None
