"""Who may do what in a forum: guardian grants and roles (who-may).

When-may (a closed or archived forum, a locked thread, an edit window) is checked by
``forums.services``; the functions here answer only whether a person holds the right.

Rules, per forum visibility:

============  ====================================  ==========================================
visibility    view                                  participate (post, reply, react)
============  ====================================  ==========================================
public        anonymous visitors, active members;   active members; guests with a grant
              guests only with a grant
members       active members; anyone with a grant   active members; guests with a grant
invited       only those with a grant               only those with a participate grant
============  ====================================  ==========================================

A grant is guardian's ``view_forum``, ``participate_forum`` or ``moderate_forum`` on the forum,
held directly or through a group; a stronger grant implies the weaker ones (moderate >
participate > view). Staff may everything; inactive accounts nothing. A guest (``Member.kind``
guest) has no right from being a member: only grants count, so a guest sees only the forums they
were invited to, public ones included (an anonymous visitor still reads a public forum).

A thread marked ``members_only`` is seen only by members of the party and staff, in any forum:
never by a guest (whatever their grants, moderate included) nor an anonymous visitor.
:func:`can_view_thread` and :func:`visible_threads_q` answer it; who may set the mark is
:func:`can_set_members_only` (moderators of the forum who are members of the party, and staff).

For lists pass a ``checker`` made by :func:`checker_for` with the forums prefetched, so a page
of forums costs two queries rather than two per forum. A websocket frame checks several rights
of one member on one forum (view, moderate, then the service's participate and moderate): inside
:func:`grants_read_once` the grants are read from the database once for the whole block.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.core import ObjectPermissionChecker

from deliberation import rawrows
from deliberation.models import Member
from deliberation.rawrows import RowReader
from forums.models import (
    Forum,
    ForumGroupObjectPermission,
    ForumUserObjectPermission,
    Post,
    Thread,
)

User = Member | AnonymousUser

VIEW = "view_forum"
PARTICIPATE = "participate_forum"
MODERATE = "moderate_forum"
#: The rights a service may grant, by the names the forms and services use.
RIGHTS: dict[str, str] = {"view": VIEW, "participate": PARTICIPATE, "moderate": MODERATE}
_IMPLIES_VIEW = (VIEW, PARTICIPATE, MODERATE)
_IMPLIES_PARTICIPATE = (PARTICIPATE, MODERATE)


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    return _active(user) and bool(user.is_staff or user.is_superuser)


def is_party_member(user: Any) -> bool:
    """An active account that is not a guest: a member of the party."""
    return _active(user) and not user.is_guest


def checker_for(user: Any, forums: Iterable[Forum] | None = None) -> ObjectPermissionChecker | None:
    """A guardian checker for ``user`` (None for anonymous), with ``forums`` prefetched.

    Inside :func:`grants_read_once` and without ``forums``, None: the block's memo serves.
    """
    if not _active(user) or (forums is None and _grants_memo.get() is not None):
        return None
    checker = ObjectPermissionChecker(user)
    if forums is not None:
        forums = list(forums)
        if forums:
            checker.prefetch_perms(forums)
    return checker


#: (member pk, forum pk) -> grants, inside :func:`grants_read_once`; None outside it.
_grants_memo: ContextVar[dict[tuple[int, int], frozenset[str]] | None] = ContextVar(
    "forums_grants_memo", default=None
)


@contextmanager
def grants_read_once() -> Iterator[None]:
    """Read each member's grants on each forum at most once inside the block.

    For one websocket frame, which asks several questions of the same rights. Not for a block
    that changes grants: a grant or revocation inside it would not be seen.
    """
    token = _grants_memo.set({})
    try:
        yield
    finally:
        _grants_memo.reset(token)


def _grants(
    user: Any, forum: Forum, checker: ObjectPermissionChecker | None
) -> frozenset[str] | set[str]:
    if not _active(user):
        return set()
    if checker is not None:
        return set(checker.get_perms(forum))
    memo = _grants_memo.get()
    if memo is None:
        return _read_grants(user, forum)
    key = (user.pk, forum.pk)
    grants = memo.get(key)
    if grants is None:
        grants = memo[key] = _read_grants(user, forum)
    return grants


def _read_grants(user: Any, forum: Forum) -> frozenset[str]:
    """The codenames granted to ``user`` on ``forum``, directly or through a group: one query.

    What guardian's ``get_perms`` answers for an active account in two (staff and superusers
    never get here: every check answers them before asking for grants).
    """
    direct = ForumUserObjectPermission.objects.filter(user=user, content_object=forum)
    through_groups = ForumGroupObjectPermission.objects.filter(
        group__user=user, content_object=forum
    )
    codename = "permission__codename"
    return frozenset(
        direct.values_list(codename, flat=True).union(
            through_groups.values_list(codename, flat=True)
        )
    )


def can_view_forum(
    user: Any, forum: Forum, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    if user is not None and user.is_authenticated and not user.is_active:
        return False
    if is_staff(user):
        return True
    if not _active(user):
        return forum.visibility == Forum.Visibility.PUBLIC
    if forum.visibility != Forum.Visibility.INVITED and is_party_member(user):
        return True
    # A guest, or a member in an invited forum: only a grant opens it.
    return any(perm in _IMPLIES_VIEW for perm in _grants(user, forum, checker))


def sees_members_only(user: Any) -> bool:
    """Whether ``user`` may see threads marked members-only (members of the party and staff)."""
    return is_party_member(user) or is_staff(user)


def can_view_thread(
    user: Any, thread: Thread, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    """Whether ``user`` may view ``thread``: its forum, and a members-only thread only as a
    member of the party or staff."""
    if thread.members_only and not sees_members_only(user):
        return False
    return can_view_forum(user, thread.forum, checker=checker)


def can_set_members_only(
    user: Any, forum: Forum, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    """Whether ``user`` may mark a thread of ``forum`` members-only or lift the mark: its
    moderators who are members of the party, and staff (a guest moderator never: the mark
    hides the thread from them)."""
    return sees_members_only(user) and can_moderate(user, forum, checker=checker)


def can_participate(
    user: Any, forum: Forum, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    """Whether ``user`` holds the right to post and react (not whether the forum is open)."""
    if not _active(user):
        return False
    if is_staff(user):
        return True
    if forum.visibility != Forum.Visibility.INVITED and is_party_member(user):
        return True
    return any(perm in _IMPLIES_PARTICIPATE for perm in _grants(user, forum, checker))


def can_moderate(
    user: Any, forum: Forum, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    if not _active(user):
        return False
    return is_staff(user) or MODERATE in _grants(user, forum, checker)


def can_post_in_thread(
    user: Any, thread: Thread, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    """Whether to offer ``user`` a reply in ``thread`` now: the right to take part, an open forum,
    and an unlocked thread, where moderators may still write (as ``forums.services`` allows).

    For the thread page's form and the socket's ``hello``; the services decide again on every
    post (mutes and removals included).
    """
    forum = thread.forum
    return (
        forum.state == Forum.State.OPEN
        and can_participate(user, forum, checker=checker)
        and (not thread.locked or can_moderate(user, forum, checker=checker))
    )


def can_see_post(user: Any, post: Post, *, checker: ObjectPermissionChecker | None = None) -> bool:
    """Whether ``user`` may see ``post`` at all (its forum's visibility is checked separately).

    Published posts, and the tombstones of deleted ones, are seen by everyone who sees the
    thread; held, hidden and rejected posts only by their author and the forum's moderators.
    """
    if post.state == Post.State.PUBLISHED:
        return True
    if _active(user) and post.author_id == user.pk:
        return True
    return can_moderate(user, post.thread.forum, checker=checker)


def can_see_post_text(
    user: Any, post: Post, *, checker: ObjectPermissionChecker | None = None
) -> bool:
    """Whether ``user`` may read the post's text: published, or held/hidden for its author and
    moderators; never once its author deleted it."""
    return post.deleted_at is None and can_see_post(user, post, checker=checker)


def visible_forums(user: Any) -> QuerySet[Forum]:
    """Every forum ``user`` may view, for lists and search (one query, no per-forum checks)."""
    forums = Forum.objects.all()
    if user is not None and user.is_authenticated and not user.is_active:
        return forums.none()
    if is_staff(user):
        return forums
    public = Q(visibility=Forum.Visibility.PUBLIC)
    if not _active(user):
        return forums.filter(public)
    visible = Q(pk__in=[])  # a guest: only the forums granted below
    if is_party_member(user):
        visible = public | Q(visibility=Forum.Visibility.MEMBERS)
    user_grants = ForumUserObjectPermission.objects.filter(
        user=user, permission__codename__in=_IMPLIES_VIEW
    ).values("content_object_id")
    group_grants = ForumGroupObjectPermission.objects.filter(
        group__in=user.groups.all(), permission__codename__in=_IMPLIES_VIEW
    ).values("content_object_id")
    visible |= Q(pk__in=user_grants) | Q(pk__in=group_grants)
    return forums.filter(visible)


def visible_threads_q(user: Any, prefix: str = "") -> Q:
    """The condition on threads ``user`` may view (their forum visible, and members-only ones
    only for members and staff), for a thread queryset or, with ``prefix`` (``"thread__"``),
    one of posts. For lists and search: no per-thread checks."""
    condition = Q(**{f"{prefix}forum__in": visible_forums(user)})
    if not sees_members_only(user):
        condition &= Q(**{f"{prefix}members_only": False})
    return condition


# --- access helpers: fetch only what the user may see -------------------------------------------


def access_forum(
    user: Any, *, slug: str | None = None, pk: int | None = None, for_write: bool = False
) -> Forum:
    """The forum, if ``user`` may view it; raises Http404 otherwise (its existence stays secret).

    With ``for_write``, also requires the right to participate (PermissionDenied without it).
    """
    if (slug is None) == (pk is None):
        raise TypeError("access_forum needs exactly one of slug or pk")
    lookup = {"slug": slug} if slug is not None else {"pk": pk}
    forum = Forum.objects.filter(**lookup).first()
    if forum is None:
        raise Http404("no such forum")
    checker = checker_for(user)
    if not can_view_forum(user, forum, checker=checker):
        raise Http404("no such forum")
    if for_write and not can_participate(user, forum, checker=checker):
        raise PermissionDenied
    return forum


def access_thread(user: Any, pk: int, *, for_write: bool = False) -> Thread:
    """The thread (with its forum), if ``user`` may view it (:func:`can_view_thread`); else Http404.

    With ``for_write``, also requires the right to participate (PermissionDenied without it).
    Inside :func:`grants_read_once` the thread, its forum and the member's grants on it come in
    one query (:func:`_thread_with_grants`): every live frame starts here.
    """
    memo = _grants_memo.get()
    if memo is not None:
        thread = _thread_with_grants(user, pk, memo)
    else:
        thread = Thread.objects.select_related("forum").filter(pk=pk).first()
    if thread is None:
        raise Http404("no such thread")
    checker = checker_for(user)
    if not can_view_thread(user, thread, checker=checker):
        raise Http404("no such thread")
    if for_write and not can_participate(user, thread.forum, checker=checker):
        raise PermissionDenied
    return thread


@functools.cache
def _thread_with_grants_sql(vendor: str) -> tuple[str, RowReader, RowReader]:
    """The SQL of :func:`_thread_with_grants` (built once per database), and its row readers."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    threads = rawrows.reader(Thread, connection)
    forums = rawrows.reader(Forum, connection)
    user_perms = ForumUserObjectPermission._meta
    group_perms = ForumGroupObjectPermission._meta
    codenames = Permission._meta
    memberships = Member._meta.get_field("groups").remote_field.through._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    aggregate = "string_agg" if vendor == "postgresql" else "group_concat"
    codename, pk = quote("codename"), quote("id")
    permission_table = quote(codenames.db_table)
    # Only quoted identifiers of our models are interpolated; every value is a parameter.
    # Codenames are identifiers (Django's own rule), so a comma separates them safely.
    direct = (
        f"SELECT p.{codename} AS codename FROM {quote(user_perms.db_table)} u"  # noqa: S608
        f" JOIN {permission_table} p ON p.{pk} = u.{column(user_perms, 'permission')}"
        f" WHERE u.{column(user_perms, 'user')} = %s"
        f" AND u.{column(user_perms, 'content_object')} = f.{pk}"
    )
    through_groups = (
        f"SELECT p.{codename} FROM {quote(group_perms.db_table)} gp"  # noqa: S608
        f" JOIN {permission_table} p ON p.{pk} = gp.{column(group_perms, 'permission')}"
        f" JOIN {quote(memberships.db_table)} m"
        f" ON m.{column(memberships, 'group')} = gp.{column(group_perms, 'group')}"
        f" WHERE m.{column(memberships, 'member')} = %s"
        f" AND gp.{column(group_perms, 'content_object')} = f.{pk}"
    )
    union = f"{direct} UNION {through_groups}"
    grants = f"(SELECT {aggregate}(g.codename, ',') FROM ({union}) g)"  # noqa: S608
    sql = (
        f"SELECT {threads.columns('t')}, {forums.columns('f')}, {grants}"  # noqa: S608
        f" FROM {quote(threads.table)} t JOIN {quote(forums.table)} f"
        f" ON f.{pk} = t.{quote(Thread._meta.get_field('forum').column)}"
        f" WHERE t.{pk} = %s"
    )
    return sql, threads, forums


def _thread_with_grants(
    user: Any, pk: int, memo: dict[tuple[int, int], frozenset[str]]
) -> Thread | None:
    """The thread with its forum, and ``user``'s grants on that forum put into ``memo``: one
    query of hand-written SQL (:mod:`deliberation.rawrows`), where the ORM took two and spent
    most of their CPU compiling them. Must answer as ``_read_grants`` does (tested)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, threads, forums = _thread_with_grants_sql(connection.vendor)
    member_id = user.pk if _active(user) else None
    try:
        thread_pk = int(pk)
    except (TypeError, ValueError):
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, [member_id, member_id, thread_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    thread = threads.build(row, 0)
    forum = forums.build(row, len(threads))
    Thread._meta.get_field("forum").set_cached_value(thread, forum)
    if member_id is not None:
        found = row[len(threads) + len(forums)]
        memo[(member_id, forum.pk)] = frozenset(found.split(",")) if found else frozenset()
    return thread


#: What a connect's ``hello`` reads of its thread (the rest is deferred).
_HEAD_FIELDS = ("id", "forum", "last_seq", "locked")


def thread_head(pk: int) -> Thread | None:
    """The thread's id, forum, head (``last_seq``) and lock, without an access check: for a
    socket whose access was checked (one query of SQL kept compiled)."""
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(_thread_head_sql(connection.alias), [pk])
        row = cursor.fetchone()
    return None if row is None else rawrows.reader(Thread, connection, _HEAD_FIELDS).build(row)


@functools.cache
def _thread_head_sql(alias: str) -> str:
    """The SQL of :func:`thread_head`, built once per database."""
    connection = connections[alias]
    threads = rawrows.reader(Thread, connection, _HEAD_FIELDS)
    quote = connection.ops.quote_name
    table, column = quote(threads.table), quote("id")
    return f"SELECT {threads.columns('t')} FROM {table} t WHERE t.{column} = %s"  # noqa: S608


def access_post(user: Any, pk: int, *, for_write: bool = False) -> Post:
    """The post, if ``user`` may view its thread and the post itself; else Http404.

    Held, hidden and rejected posts exist only for their author and moderators. With
    ``for_write``, also requires the right to participate in the forum (PermissionDenied); who may
    edit or delete this particular post (its author) is checked by the services.
    """
    post = (
        Post.objects.select_related("thread__forum", "author", "reply_to__author")
        .filter(pk=pk)
        .first()
    )
    if post is None:
        raise Http404("no such post")
    forum = post.thread.forum
    checker = checker_for(user)
    if not can_view_thread(user, post.thread, checker=checker) or not can_see_post(
        user, post, checker=checker
    ):
        raise Http404("no such post")
    if for_write and not can_participate(user, forum, checker=checker):
        raise PermissionDenied
    return post
