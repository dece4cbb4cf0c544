"""Factories for tests: small functions that build valid objects with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Group

from deliberation.models import COMMITTEE_GROUP, District, Member

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-7"


def make_member(**fields: Any) -> Member:
    n = next(_counter)
    fields.setdefault("email", f"member{n}@example.org")
    fields.setdefault("display_name", f"Mitglied {n}")
    fields.setdefault("district", District.objects.order_by("pk").first())
    password = fields.pop("password", PASSWORD)
    return Member.objects.create_user(password=password, **fields)


def make_guest(**fields: Any) -> Member:
    fields.setdefault("kind", Member.Kind.GUEST)
    fields.setdefault("affiliation", Member.Affiliation.INITIATIVE)
    fields.setdefault("district", None)
    return make_member(**fields)


def make_committee_member(**fields: Any) -> Member:
    member = make_member(**fields)
    member.groups.add(Group.objects.get(name=COMMITTEE_GROUP))
    return member


def make_staff(**fields: Any) -> Member:
    fields.setdefault("is_staff", True)
    fields.setdefault("is_superuser", True)
    return make_member(**fields)


# --- forums (built through forums.services, so they obey the same rules as real ones) ----------


def _staff_actor() -> Member:
    staff = Member.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    return staff or make_staff(display_name=f"Geschäftsstelle {next(_counter)}")


def make_forum(**fields: Any):
    from forums import services

    n = next(_counter)
    fields.setdefault("title", f"Forum {n}")
    fields.setdefault("slug", f"forum-{n}")
    state = fields.pop("state", None)
    actor = fields.pop("actor", None) or _staff_actor()
    forum = services.forum_create(actor=actor, **fields)
    if state is not None:
        forum = services.forum_set_state(actor=actor, forum=forum, state=state)
    return forum


def make_thread(forum=None, *, author: Member | None = None, **fields: Any):
    from forums import services

    n = next(_counter)
    forum = forum or make_forum()
    fields.setdefault("title", f"Thread {n}")
    fields.setdefault("body", f"Erster Beitrag {n}")
    return services.thread_create(actor=author or _staff_actor(), forum=forum, **fields)


def make_post(thread=None, *, author: Member | None = None, **fields: Any):
    from forums import services

    thread = thread or make_thread()
    fields.setdefault("body", f"Beitrag {next(_counter)}")
    post, _created = services.post_create(actor=author or _staff_actor(), thread=thread, **fields)
    return post


def socket_scope_of(member: Member) -> dict:
    """The scope channels' AuthMiddlewareStack builds when ``member``'s browser opens a socket:
    the session loaded from its cookie and the member it names."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.conf import settings
    from django.contrib.auth import get_user

    key = session_cookie_of(member).split("=", 1)[1]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    user = get_user(SimpleNamespace(session=session))
    assert user.pk == member.pk
    return {"session": session, "user": user}


def session_cookie_of(member: Member) -> str:
    """``sessionid=...`` of ``member`` logged in through Django's test client (for websockets)."""
    from django.test import Client

    client = Client()
    client.force_login(member)
    return f"sessionid={client.cookies['sessionid'].value}"
