"""Who may do what: every role x every action, one assertion per cell.

Roles: anonymous; olga, an outsider (a guest of nothing); alice, a member; gina as a guest of
another forum; gina as a guest of this forum (participate grant); mo, a moderator (moderate
grant); sam, staff. Actions: view the forum, post, agree with bob's post, edit bob's post.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404

from forums import permissions, services
from forums.errors import ServiceError
from forums.models import Forum, Post
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "member", "guest_elsewhere", "guest_here", "moderator", "staff"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # Fast password hashing: the grid creates several members per cell.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def _world(visibility: str, *, sam, bob):
    forum = factories.make_forum(actor=sam, visibility=visibility)
    other = factories.make_forum(actor=sam)
    thread = factories.make_thread(forum, author=sam)
    services.forum_grant(actor=sam, forum=forum, member=bob, right="participate")
    bobs_post = factories.make_post(thread, author=bob)
    return forum, other, thread, bobs_post


def _user(role, *, forum, other, sam, alice, gina, mo, olga):
    if role == "anonymous":
        return AnonymousUser()
    if role == "outsider":
        return olga
    if role == "member":
        return alice
    if role == "guest_elsewhere":
        services.forum_grant(actor=sam, forum=other, member=gina, right="participate")
        return gina
    if role == "guest_here":
        services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
        return gina
    if role == "moderator":
        services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
        return mo
    return sam


def _allowed(call) -> bool:
    try:
        call()
    except ServiceError as error:
        assert error.code == "forbidden", error
        return False
    return True


def _act(action, user, *, forum, thread, bobs_post) -> bool:
    if action == "view":
        return permissions.can_view_forum(user, forum)
    if action == "post":
        return _allowed(lambda: services.post_create(actor=user, thread=thread, body="Hallo"))
    if action == "react":
        return _allowed(lambda: services.reaction_toggle(actor=user, post=bobs_post))
    return _allowed(lambda: services.post_edit(actor=user, post=bobs_post, body="Geändert"))


MEMBERS_FORUM = {
    #                  view   post   react  edit bob's post
    "anonymous": (False, False, False, False),
    "outsider": (False, False, False, False),
    "member": (True, True, True, False),
    "guest_elsewhere": (False, False, False, False),
    "guest_here": (True, True, True, False),
    "moderator": (True, True, True, False),
    "staff": (True, True, True, False),
}
INVITED_FORUM = {
    #                  view   post
    "anonymous": (False, False),
    "outsider": (False, False),
    "member": (False, False),
    "guest_elsewhere": (False, False),
    "guest_here": (True, True),
    "moderator": (True, True),
    "staff": (True, True),
}
PUBLIC_FORUM = {
    # A guest sees only the forums they were invited to, public ones too (issue #12).
    "anonymous": (True, False),
    "outsider": (False, False),
    "member": (True, True),
    "guest_elsewhere": (False, False),
    "guest_here": (True, True),
    "moderator": (True, True),
    "staff": (True, True),
}
GRID = (
    [("members", role, a, MEMBERS_FORUM[role][i]) for role in ROLES for i, a in
     enumerate(["view", "post", "react", "edit"])]
    + [("invited", role, a, INVITED_FORUM[role][i]) for role in ROLES for i, a in
       enumerate(["view", "post"])]
    + [("public", role, a, PUBLIC_FORUM[role][i]) for role in ROLES for i, a in
       enumerate(["view", "post"])]
)  # fmt: skip


@pytest.mark.parametrize(("visibility", "role", "action", "expected"), GRID)
def test_the_permission_grid(
    visibility, role, action, expected, sam, bob, alice, gina, mo, olga
):  # fmt: skip
    forum, other, thread, bobs_post = _world(visibility, sam=sam, bob=bob)
    user = _user(role, forum=forum, other=other, sam=sam, alice=alice, gina=gina, mo=mo, olga=olga)
    assert _act(action, user, forum=forum, thread=thread, bobs_post=bobs_post) is expected


# --- beyond the grid ----------------------------------------------------------------------------


def test_an_inactive_member_sees_nothing_even_in_a_public_forum(alice, sam):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.PUBLIC)
    alice.is_active = False
    alice.save()
    assert not permissions.can_view_forum(alice, forum)
    assert not permissions.visible_forums(alice).exists()


def test_a_view_grant_lets_a_guest_read_but_not_post(gina, sam):
    forum = factories.make_forum(actor=sam)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="view")
    assert permissions.can_view_forum(gina, forum)
    assert not permissions.can_participate(gina, forum)


def test_only_a_moderate_grant_or_staff_moderates(alice, mo, sam):
    forum = factories.make_forum(actor=sam)
    services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    assert [permissions.can_moderate(u, forum) for u in (alice, mo, sam)] == [False, True, True]


def test_visible_forums_lists_exactly_the_viewable_forums(alice, gina, sam):
    members = factories.make_forum(actor=sam, slug="m")
    invited = factories.make_forum(actor=sam, slug="i", visibility=Forum.Visibility.INVITED)
    public = factories.make_forum(actor=sam, slug="p", visibility=Forum.Visibility.PUBLIC)
    services.forum_grant(actor=sam, forum=invited, member=gina, right="participate")
    assert set(permissions.visible_forums(AnonymousUser())) == {public}
    assert set(permissions.visible_forums(alice)) == {members, public}
    # A guest: only the forums they were invited to, not the public one (issue #12).
    assert set(permissions.visible_forums(gina)) == {invited}
    assert set(permissions.visible_forums(sam)) == {members, invited, public}


def test_access_forum_hides_an_invisible_forum_as_404(alice, sam):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED)
    with pytest.raises(Http404):
        permissions.access_forum(alice, slug=forum.slug)


def test_access_forum_for_write_refuses_a_reader_with_403(gina, sam):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.PUBLIC)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="view")
    assert permissions.access_forum(gina, pk=forum.pk) == forum
    with pytest.raises(PermissionDenied):
        permissions.access_forum(gina, pk=forum.pk, for_write=True)


def test_access_thread_hides_threads_of_invisible_forums(olga, alice, sam):
    thread = factories.make_thread(factories.make_forum(actor=sam), author=alice)
    assert permissions.access_thread(alice, thread.pk) == thread
    with pytest.raises(Http404):
        permissions.access_thread(olga, thread.pk)


def test_a_held_post_is_visible_only_to_its_author_and_moderators(alice, bob, gina, mo, sam):
    forum = factories.make_forum(actor=sam)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    services.forum_grant(actor=sam, forum=forum, member=mo, right="moderate")
    thread = factories.make_thread(forum, author=alice)
    held = factories.make_post(thread, author=gina)
    assert held.state == Post.State.HELD
    assert permissions.access_post(gina, held.pk) == held
    assert permissions.access_post(mo, held.pk) == held
    with pytest.raises(Http404):
        permissions.access_post(bob, held.pk)


def test_a_checker_with_prefetched_forums_answers_without_further_queries(
    gina, sam, django_assert_num_queries
):
    forums = [factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED) for _ in "abc"]
    services.forum_grant(actor=sam, forum=forums[1], member=gina, right="view")
    checker = permissions.checker_for(gina, forums)
    with django_assert_num_queries(0):
        seen = [permissions.can_view_forum(gina, f, checker=checker) for f in forums]
    assert seen == [False, True, False]


def test_grants_come_directly_and_through_groups_as_guardian_reads_them(gina, sam):
    from django.contrib.auth.models import Group
    from guardian.core import ObjectPermissionChecker
    from guardian.shortcuts import assign_perm

    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="view")
    assert permissions._read_grants(gina, forum) == {permissions.VIEW}
    group = Group.objects.create(name="Bezirksvorstand")
    gina.groups.add(group)
    assign_perm(permissions.MODERATE, group, forum)
    assign_perm(permissions.VIEW, group, forum)  # held twice: once directly, once by the group
    expected = set(ObjectPermissionChecker(gina).get_perms(forum))
    assert (
        permissions._read_grants(gina, forum)
        == expected
        == {permissions.VIEW, permissions.MODERATE}
    )
    assert permissions.can_moderate(gina, forum)
    other = factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED)
    assert permissions._read_grants(gina, other) == frozenset()


def test_one_read_of_the_grants_serves_a_whole_frame(gina, sam, django_assert_num_queries):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    with django_assert_num_queries(1), permissions.grants_read_once():
        assert permissions.can_view_forum(gina, forum)
        assert permissions.can_participate(gina, forum)
        assert not permissions.can_moderate(gina, forum)
        assert not permissions.can_moderate(gina, forum)
    # Outside the block every question reads the grants again, and sees a change at once.
    with django_assert_num_queries(2):
        assert permissions.can_participate(gina, forum)
        assert not permissions.can_moderate(gina, forum)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="moderate")
    assert permissions.can_moderate(gina, forum)


def test_the_memo_ends_with_its_block_and_is_per_member_and_forum(gina, olga, sam):
    forum = factories.make_forum(actor=sam, visibility=Forum.Visibility.INVITED)
    services.forum_grant(actor=sam, forum=forum, member=gina, right="view")
    with permissions.grants_read_once():
        assert permissions.can_view_forum(gina, forum)
        assert not permissions.can_view_forum(olga, forum)
        services.forum_revoke(actor=sam, forum=forum, member=gina, right="view")
        assert permissions.can_view_forum(gina, forum)  # read once: documented
    assert not permissions.can_view_forum(gina, forum)


# --- one query for a live frame: forums.permissions._thread_with_grants ------------------------


@pytest.mark.parametrize("how", ["none", "direct", "group", "both", "anonymous", "staff"])
def test_the_frames_single_query_reads_the_grants_the_orm_reads(
    how, sam, django_assert_num_queries
):
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    forum = services.forum_create(
        actor=sam, title="Eingeladen", slug="eingeladen", visibility=Forum.Visibility.INVITED
    )
    thread = services.thread_create(actor=sam, forum=forum, title="Vertraulich", body="Text")
    other = services.forum_create(actor=sam, title="Anderes", slug="anderes")
    user = factories.make_staff() if how == "staff" else factories.make_member()
    group = Group.objects.create(name="Rat")
    if how in ("direct", "both"):
        assign_perm(permissions.PARTICIPATE, user, forum)
    if how in ("group", "both"):
        user.groups.add(group)
        assign_perm(permissions.MODERATE, group, forum)
    assign_perm(permissions.MODERATE, user, other)  # a grant elsewhere counts for nothing here
    if how == "anonymous":
        user = AnonymousUser()
    memo = {}
    with django_assert_num_queries(1):
        found = permissions._thread_with_grants(user, thread.pk, memo)
    assert found == thread and found.forum == forum
    assert (found.title, found.last_seq, found.forum.visibility) == (
        thread.title,
        thread.last_seq,
        forum.visibility,
    )
    if how == "anonymous":
        assert memo == {}
    else:
        assert memo == {(user.pk, forum.pk): permissions._read_grants(user, forum)}


def test_a_frame_for_a_missing_thread_reads_one_query_and_finds_nothing(alice):
    with permissions.grants_read_once(), pytest.raises(Http404):
        permissions.access_thread(alice, 999_999)
