"""Who is behind a websocket now: the per-frame re-authorisation of a live socket.

At connect, channels' ``AuthMiddlewareStack`` loads the session and the member once. A socket
lives for hours, so every frame asks again, as an HTTP request would: the session must still
exist and not have expired (a logout deletes it), the account must still be active, and the
session's auth hash must still match the member's (a password change ends other sessions).

:func:`member_behind` answers this in one query, where ``django.contrib.auth.get_user`` takes
two plus a decode of the session (measured on the write path of a post, docs/PERFORMANCE.md).
It reads only the database session store; with any other ``SESSION_ENGINE`` it falls back to
``get_user`` on a freshly loaded session.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.auth import AuthMiddleware as BaseAuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.crypto import constant_time_compare

from deliberation import clock, rawrows
from deliberation.livework import reads
from deliberation.models import Member

_DB_ENGINE = "django.contrib.sessions.backends.db"


def member_behind(scope: dict[str, Any]) -> Member | AnonymousUser | None:
    """The socket's member as of now (sync side; call in the database thread).

    Returns ``AnonymousUser`` for a socket opened without signing in, and None when a signed-in
    socket's session has ended (logged out, expired, password changed, account deactivated or
    replaced by another login): the caller refuses the frame or treats it as anonymous.
    """
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return AnonymousUser()
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if not key:
        return None
    if settings.SESSION_ENGINE != _DB_ENGINE:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        fresh = get_user(SimpleNamespace(session=store(session_key=key)))
        if not fresh.is_authenticated or fresh.pk != user.pk or not fresh.is_active:
            return None
        return fresh
    fresh = _active_member_with_session(user.pk, key)
    if fresh is None or not _hash_verifies(session.get(HASH_SESSION_KEY), fresh):
        return None
    return fresh


def _active_member_with_session(member_id: Any, key: str) -> Member | None:
    """The active member ``member_id`` if the session ``key`` is alive: one query of SQL kept
    compiled (:mod:`deliberation.rawrows`; every heartbeat of every socket asks this)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql = _sql(connection.alias).member_with_session
    return _active_member(member_id, connection, sql, [key, _now_param(connection)])


def _now_param(connection: Any) -> Any:
    """Now, as the database compares it with a ``DateTimeField`` (SQLite stores text)."""
    return connection.ops.adapt_datetimefield_value(clock.now())


def session_expiry(scope: dict[str, Any]) -> datetime | None:
    """When the socket's session expires as stored now; None when it no longer exists (sync
    side, one query). For :mod:`deliberation.session_watch`."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return None
    if settings.SESSION_ENGINE != _DB_ENGINE:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
        if not store.exists(key):
            return None
        return store.get_expiry_date()
    return Session.objects.filter(session_key=key).values_list("expire_date", flat=True).first()


def _hash_verifies(session_hash: str | None, member: Member) -> bool:
    """Whether the hash the session was signed in with still belongs to ``member``'s password.

    ``session`` here is the copy loaded at connect: a session's hash changes only with a new
    key (``update_session_auth_hash`` cycles it), and then the old key no longer exists.
    """
    if not session_hash:
        return False
    if constant_time_compare(session_hash, member.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, fallback)
        for fallback in member.get_session_auth_fallback_hash()
    )


@reads
def _user_of(scope: dict[str, Any]) -> Any:
    if settings.SESSION_ENGINE == _DB_ENGINE:
        return _member_of_session(scope)
    from channels.auth import get_user

    return get_user.func(scope)


def _member_of_session(scope: dict[str, Any]) -> Member | AnonymousUser:
    """What channels' ``get_user`` answers, for the database session store, in two queries of
    SQL kept compiled instead of two ORM queries (a connect burst is mostly this).

    The session's row is read with its expiry, which the connect keeps in
    ``scope["session_expires"]`` (see :func:`connect_session_expiry`), and its decoded data
    fill the session object, so nothing loads it again. A session whose hash no longer
    verifies gives an anonymous socket, as with ``get_user`` (which also deletes the session:
    that write is left to the next HTTP request, not done on the read pool).
    """
    session = scope["session"]
    key = session.session_key
    if not key:
        return AnonymousUser()
    connection = connections[DEFAULT_DB_ALIAS]
    sql = _sql(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql.session, [key, _now_param(connection)])
        row = cursor.fetchone()
    if row is None:
        session._session_cache = {}
        scope["session_expires"] = None
        return AnonymousUser()
    data = session.decode(row[0])
    session._session_cache = data
    expires = row[1]
    for converter in sql.expiry_converters:
        expires = converter(expires, sql.expiry_column, connection)
    scope["session_expires"] = expires
    member_id, backend_path = data.get(SESSION_KEY), data.get(BACKEND_SESSION_KEY)
    if member_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    try:
        member_id = Member._meta.pk.to_python(member_id)
    except ValidationError:
        return AnonymousUser()
    member = _active_member(member_id, connection)
    if member is None or not _hash_verifies(data.get(HASH_SESSION_KEY), member):
        return AnonymousUser()
    return member


def _active_member(
    member_id: Any, connection: Any, sql: str | None = None, params: list[Any] | None = None
) -> Member | None:
    """The active member ``member_id``, or None: by :attr:`_Sql.member`, or by ``sql`` (one of
    :class:`_Sql`'s, which ask more) with ``params`` after the member's pk."""
    with connection.cursor() as cursor:
        cursor.execute(sql or _sql(connection.alias).member, [member_id, *(params or [])])
        row = cursor.fetchone()
    return None if row is None else rawrows.reader(Member, connection).build(row)


@dataclass(frozen=True)
class _Sql:
    """The SQL of the connect's and every frame's session and member reads, and the converters
    of the session's expiry: built once per database (they depend only on the models), so a
    read does not quote twenty column names again each time."""

    #: The session's data and expiry, if alive: ``[key, now]``.
    session: str
    #: The active member: ``[pk]``.
    member: str
    #: The active member whose session is alive: ``[pk, key, now]``.
    member_with_session: str
    expiry_column: Any
    expiry_converters: tuple[Any, ...]


@functools.cache
def _sql(alias: str) -> _Sql:
    connection = connections[alias]
    quote = connection.ops.quote_name
    members = rawrows.reader(Member, connection)
    sessions = quote(Session._meta.db_table)
    member = (
        f"SELECT {members.columns('m')} FROM {quote(members.table)} m"  # noqa: S608
        f" WHERE m.{quote(Member._meta.pk.column)} = %s AND m.{quote('is_active')}"
    )
    alive = (
        f" AND EXISTS (SELECT 1 FROM {sessions} s"  # noqa: S608
        f" WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s)"
    )
    expiry_column = Session._meta.get_field("expire_date").get_col(Session._meta.db_table)
    return _Sql(
        session=(
            f"SELECT {quote('session_data')}, {quote('expire_date')} FROM {sessions}"  # noqa: S608
            f" WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        ),
        member=member,
        member_with_session=member + alive,
        expiry_column=expiry_column,
        expiry_converters=tuple(connection.ops.get_db_converters(expiry_column)),
    )


def connect_session_expiry(scope: dict[str, Any]) -> datetime | None:
    """The session's expiry as the connect's auth middleware read it moments ago (taken once:
    later checks read it anew), else as stored now (:func:`session_expiry`, a query)."""
    if "session_expires" in scope:
        return scope.pop("session_expires")
    return session_expiry(scope)


class AuthMiddleware(BaseAuthMiddleware):
    """channels' ``AuthMiddleware``, reading the session and member on the live read pool.

    channels reads them on the process's one database thread, where every connect of a burst
    queued behind the others and behind every post (issue #8).
    """

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        scope["user"]._wrapped = await _user_of(scope)


def AuthMiddlewareStack(inner: Any) -> Any:
    """Cookies, the session, and the member behind it, as channels' stack of the same name."""
    return CookieMiddleware(SessionMiddleware(AuthMiddleware(inner)))
