"""One forum with an object for every form to act on, for the property-based form tests.

Built on the moderation tests' world (``tests.moderation.world``: alice member, bob author, gina
guest, una muted, mo and hank moderators, otto moderator of the other forum, kim committee, sam
staff), plus what the forms need: alice's own post, her hidden post (to appeal), bob's hidden post
with his appeal (to decide), a case opened by alice's report of bob's post, a notification for
alice, and a thread with a post in the other forum (whose ids a hostile form sends).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client

from deliberation import notifications
from deliberation.models import Member, Notification
from forums.models import Post, Thread
from moderation import services
from moderation.models import Appeal, Case
from tests import factories
from tests.hostile import client_of
from tests.moderation import world as moderation_world


@dataclass
class FormWorld:
    base: moderation_world.World
    alice: Member
    bob: Member
    mo: Member
    sam: Member
    otto: Member
    own_post: Post  # alice's, published
    own_hidden: Post  # alice's, hidden by hank, not yet appealed
    appeal: Appeal  # bob's appeal against hank hiding his other post
    case: Case  # alice reported bob's post
    other_thread: Thread  # in the other forum
    other_post: Post
    notification: Notification  # alice's, unread
    clients: dict[int, Client] = field(default_factory=dict)

    def client(self, member: Member) -> Client:
        """A client signed in as ``member``, once per test: its session outlives the examples."""
        if member.pk not in self.clients:
            self.clients[member.pk] = client_of(member)
        return self.clients[member.pk]

    @property
    def forum(self):
        return self.base.forum

    @property
    def thread(self) -> Thread:
        return self.base.thread

    def foreign_post_ids(self) -> list[int]:
        """Posts a hostile form may name: elsewhere, hidden, someone else's."""
        return [
            self.other_post.pk,
            self.own_hidden.pk,
            self.appeal.post_id,
            self.base.post.pk,
            self.base.muted_post.pk,
        ]


def build(*, alice, bob, gina, mo, kim, sam) -> FormWorld:
    base = moderation_world.build(alice=alice, bob=bob, gina=gina, mo=mo, kim=kim, sam=sam)
    otto = base.people["moderator elsewhere"]
    own_post = factories.make_post(base.thread, author=alice, body="Alices Beitrag")
    own_hidden = moderation_world.hidden_post_of(base, alice, body="Alices versteckter Beitrag")
    bob_hidden = moderation_world.hidden_post_of(base, bob, body="Bobs versteckter Beitrag")
    appeal = services.appeal_create(actor=bob, post=bob_hidden, text="Bitte noch einmal ansehen")
    report = services.report_create(actor=alice, post=base.post, reason="insult", text="")
    other_thread = factories.make_thread(base.other_forum, author=otto, title="Anderswo")
    other_post = factories.make_post(other_thread, author=otto, body="Ottos Beitrag")
    if not Notification.objects.filter(member=alice, read_at__isnull=True).exists():
        verb = sorted(notifications.registered_verbs())[0]
        notifications.notify(member=alice, verb=verb, params={})
    return FormWorld(
        base=base,
        alice=alice,
        bob=bob,
        mo=mo,
        sam=sam,
        otto=otto,
        own_post=own_post,
        own_hidden=own_hidden,
        appeal=appeal,
        case=report.case,
        other_thread=other_thread,
        other_post=other_post,
        notification=Notification.objects.filter(member=alice, read_at__isnull=True).first(),
    )


@pytest.fixture(name="fw")
def form_world(alice, bob, gina, mo, kim, sam, settings) -> FormWorld:
    """The world as fixture ``fw``: import ``form_world`` into a test module to use it."""
    # The world posts more than a member may per minute, and the examples post again.
    settings.POST_RATE_LIMIT = 1_000_000
    world = build(alice=alice, bob=bob, gina=gina, mo=mo, kim=kim, sam=sam)
    for member in (alice, gina, mo, sam, world.otto):
        # Signed in before any example, outside their rolled-back transactions.
        world.client(member)
    return world
