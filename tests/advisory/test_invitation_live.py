"""Invitations under real concurrency and over real sockets.

Ending a guest's access closes the guest's open live socket at once, not at its next frame
(the ASGI stack with the session cookie, as tests/forums/test_consumers.py). A link's uses are
never more than its maximum however many people take it at the same moment (PostgreSQL: row
locks across connections; skipped on SQLite, which serialises writers).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core import mail

from consultations.advisory import services as advisory_services
from consultations.advisory.invitations import services
from consultations.advisory.invitations.models import Invitation, InvitationUse
from deliberation.models import Member
from forums import consumers
from forums import services as forum_services
from forums.models import Forum
from tests import factories
from tests.conferences.test_polls_concurrency import needs_postgres, race
from tests.forums.test_consumers import (  # noqa: F401  (_fresh_hub: each test's own hub)
    _fresh_hub,
    frames_until_closed,
    open_socket,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _advisory(sam, mo):
    forum = factories.make_forum(actor=sam, title="Ratschlag Pflege", kind=Forum.Kind.ADVISORY)
    advisory = advisory_services.advisory_create(actor=sam, forum=forum)
    advisory_services.organiser_grant(actor=sam, advisory=advisory, member=mo)
    return advisory


async def test_ending_a_guests_access_closes_her_open_socket_at_once(sam, mo, olga):
    def setup():
        advisory = _advisory(sam, mo)
        link = services.invitation_create(actor=mo, advisory=advisory, affiliation="initiative")
        services.guest_join(actor=olga, invitation=link)
        thread = forum_services.thread_create(
            actor=mo, forum=advisory.forum, title="Pflegenotstand", body="Erster Beitrag"
        )
        return thread, InvitationUse.objects.select_related("invitation__advisory__forum").get()

    thread, use = await database_sync_to_async(setup)()
    ws, hello, _ = await open_socket(thread.pk, await session_cookie(olga))
    assert hello["can_post"] is True

    def end_then_post():
        services.guest_access_end(actor=mo, use=use)
        forum_services.post_create(actor=mo, thread=thread, body="Nach dem Ende")

    # olga sends nothing: ending her access alone closes the socket, before the next post.
    await database_sync_to_async(end_then_post)()
    frames = await frames_until_closed(ws, consumers.CLOSE_FORBIDDEN)
    assert "Nach dem Ende" not in str(frames)
    assert [f["code"] for f in frames if f["type"] == "error"] == ["forbidden"]


def test_a_link_is_never_used_more_often_than_allowed_however_many_take_it_at_once(sam, mo):
    needs_postgres()
    advisory = _advisory(sam, mo)
    link = services.invitation_create(
        actor=mo, advisory=advisory, affiliation="initiative", max_uses=3
    )
    guests = [
        factories.make_guest(email=f"racer{n}@example.org", display_name=f"Racer {n}")
        for n in range(6)
    ]
    signups = [
        (
            lambda n=n: services.guest_register(
                invitation=link,
                display_name=f"Neu {n}",
                email=f"neu{n}@example.org",
                password="Pflege-jetzt-2026",
            )
        )
        for n in range(6)
    ]
    joins = [(lambda g=g: services.guest_join(actor=g, invitation=link)) for g in guests]
    outcomes = race(signups + joins)
    assert sorted(outcomes).count("counted") == 3, outcomes
    assert sorted(outcomes).count("closed") == 9, outcomes
    link = Invitation.objects.get(pk=link.pk)
    assert link.use_count == 3 == InvitationUse.objects.filter(invitation=link).count()
    # Exactly the three who got in have an account or a grant from it; the refused made nothing.
    assert Member.objects.filter(email__startswith="neu").count() == sum(
        1
        for use in InvitationUse.objects.filter(invitation=link)
        if use.guest.email.startswith("neu")
    )
    assert len(mail.outbox) <= 3
