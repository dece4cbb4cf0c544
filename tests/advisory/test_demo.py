"""The demo's advisory forum: Ratschlag on rents, three organisations, two meetings, Mo organises;
a second run adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from consultations.advisory.models import AdvisoryForum, AdvisoryRole
from tests.hostile import client_of

pytestmark = pytest.mark.django_db


def test_the_demo_makes_the_rents_forum_an_advisory_forum_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    advisory = AdvisoryForum.objects.select_related("forum", "topic").get()
    assert advisory.forum.slug == "mieten" and advisory.topic.slug == "mieten"
    assert [o.name for o in advisory.organisations.all()] == [
        "Kotti & Co",
        "Mieterverein Berlin-Nord",
        "Fraktion im Abgeordnetenhaus",
    ]
    first, second = advisory.meetings.all()
    now = timezone.now()
    assert first.venue_name and first.step_free and first.childcare and not first.video_url
    assert second.video_url and not second.venue_name and second.starts_at > first.starts_at > now
    mo = AdvisoryRole.objects.get(advisory=advisory).member
    assert mo.email == "mo@demo.example.org"
    assert advisory.forum.threads.count() >= 2
    page = client_of(mo).get(advisory.get_absolute_url())
    assert page.status_code == 200 and "Kotti &amp; Co" in page.content.decode()


def test_the_demo_has_guests_from_two_initiatives_and_the_group_a_pending_link_and_a_held_post():
    from consultations.advisory.invitations.models import Invitation, InvitationUse
    from forums.models import Post
    from forums.permissions import can_participate

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    advisory = AdvisoryForum.objects.get()
    badges = sorted({use.guest.badge for use in InvitationUse.objects.select_related("guest")})
    assert badges == [
        "Fraktion",
        "Initiative",
        "Initiative: Kotti & Co",
        "Initiative: Mieterverein Berlin-Nord",
    ]
    for use in InvitationUse.objects.select_related("guest"):
        assert use.confirmed_at and use.guest.is_guest
        assert can_participate(use.guest, advisory.forum)
    unused = [i for i in Invitation.objects.all() if i.use_count == 0]
    assert len(unused) == 1 and unused[0].status() == "valid"
    held = Post.objects.get(client_id="demo-advisory-held-1")
    assert held.state == Post.State.HELD and held.author.badge == "Initiative: Kotti & Co"
    assert Invitation.objects.count() == 4  # the second run added nothing
