"""Two moderators deciding one case at the same moment: one wins, the other is told.

Needs PostgreSQL (row locks across connections); skipped on SQLite, which serialises writers.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from forums.errors import ServiceError
from moderation import services
from moderation.models import Case, ModerationAction
from tests import factories
from tests.moderation.world import fast_hashing_and_fresh_rate_limits  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_moderators_hiding_one_reported_post_at_once_one_wins(alice, bob, mo, sam):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (DATABASE_URL=postgres://...)")
    hank = factories.make_member(display_name="Hank")
    forum = factories.make_forum(actor=sam)
    for moderator in (mo, hank):
        services.moderator_grant(actor=sam, forum=forum, member=moderator)
    thread = factories.make_thread(forum, author=alice)
    post = factories.make_post(thread, author=bob, body="Gemeldet")
    services.report_create(actor=alice, post=post, reason="insult")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(moderator, reason):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.post_hide(actor=moderator, post=post, reason=reason)
            outcomes[moderator.display_name] = "won"
        except ServiceError as error:
            outcomes[moderator.display_name] = error.code
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=act, args=(mo, "insult")),
        threading.Thread(target=act, args=(hank, "spam")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    assert ModerationAction.objects.filter(action="post_hidden").count() == 1
    assert Case.objects.get(post=post).status == "actioned"
