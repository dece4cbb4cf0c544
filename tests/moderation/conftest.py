"""Fixtures the moderation tests share: two forums, their moderators, a reported post's case.

Personas (tests/conftest.py): sam is staff, mo moderates "Mieten", alice and bob are members.
A test module may define a fixture of the same name to change it for itself.
"""

from __future__ import annotations

import pytest

from moderation import services
from moderation.models import Case, Reason
from tests import factories


@pytest.fixture
def forum(sam):
    return factories.make_forum(actor=sam, title="Mieten", slug="mieten")


@pytest.fixture
def other_forum(sam):
    return factories.make_forum(actor=sam, title="Gesundheit", slug="gesundheit")


@pytest.fixture
def max_(sam, other_forum):
    member = factories.make_member(email="max@example.org", display_name="Max")
    services.moderator_grant(actor=sam, forum=other_forum, member=member)
    return member


@pytest.fixture
def moderator(sam, forum, mo):
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    return mo


@pytest.fixture
def thread(forum, bob):
    return factories.make_thread(forum, author=bob, title="Mietendeckel", body="Erster Beitrag")


@pytest.fixture
def post(thread, bob):
    return factories.make_post(thread, author=bob, body="Ihr seid alle doof")


@pytest.fixture
def case(post, alice):
    services.report_create(actor=alice, post=post, reason=Reason.INSULT, text="beleidigend")
    return Case.objects.get(post=post, status=Case.Status.OPEN)
