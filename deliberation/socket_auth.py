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

from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.auth import AuthMiddleware as BaseAuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db.models import Exists
from django.utils.crypto import constant_time_compare

from deliberation import clock
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
    alive = Session.objects.filter(session_key=key, expire_date__gt=clock.now())
    fresh = Member.objects.filter(pk=user.pk, is_active=True).filter(Exists(alive)).first()
    if fresh is None or not _hash_verifies(session.get(HASH_SESSION_KEY), fresh):
        return None
    return fresh


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
    from channels.auth import get_user

    return get_user.func(scope)


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
