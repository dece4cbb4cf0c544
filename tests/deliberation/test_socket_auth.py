"""Who is behind a live socket on each frame (deliberation.socket_auth.member_behind).

The scope is built as channels' AuthMiddlewareStack builds it at connect: the session loaded
from its cookie and the member it names. Personas: alice and bob are members.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.utils import timezone

from deliberation.socket_auth import member_behind
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_signed_in_socket_gets_its_member_fresh_in_one_query(alice, django_assert_num_queries):
    scope = factories.socket_scope_of(alice)
    alice.display_name = "Alice Neu"
    alice.save(update_fields=["display_name"])
    with django_assert_num_queries(1):
        member = member_behind(scope)
    assert member.pk == alice.pk
    assert member.display_name == "Alice Neu"


def test_an_anonymous_socket_stays_anonymous(db):
    assert isinstance(member_behind({"user": AnonymousUser()}), AnonymousUser)
    assert isinstance(member_behind({}), AnonymousUser)


def test_a_logout_ends_it(alice):
    scope = factories.socket_scope_of(alice)
    Session.objects.filter(session_key=scope["session"].session_key).delete()
    assert member_behind(scope) is None


def test_an_expired_session_ends_it(alice):
    scope = factories.socket_scope_of(alice)
    Session.objects.filter(session_key=scope["session"].session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert member_behind(scope) is None


def test_a_password_change_ends_it(alice):
    scope = factories.socket_scope_of(alice)
    alice.set_password("ein ganz neues Passwort")
    alice.save(update_fields=["password"])
    assert member_behind(scope) is None


def test_deactivation_ends_it(alice):
    scope = factories.socket_scope_of(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert member_behind(scope) is None


def test_another_members_session_does_not_keep_it_alive(alice, bob):
    scope = factories.socket_scope_of(alice)
    factories.socket_scope_of(bob)
    Session.objects.filter(session_key=scope["session"].session_key).delete()
    assert member_behind(scope) is None


def test_a_rotated_secret_key_keeps_sessions_signed_with_a_fallback(alice, settings):
    scope = factories.socket_scope_of(alice)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old]
    assert member_behind(scope).pk == alice.pk
    settings.SECRET_KEY_FALLBACKS = []
    assert member_behind(scope) is None


def test_another_session_engine_is_asked_through_django(alice, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    scope = factories.socket_scope_of(alice)
    assert member_behind(scope).pk == alice.pk
    scope["session"].__class__(session_key=scope["session"].session_key).delete()
    assert member_behind(scope) is None


# --- at connect: the auth middleware's read (deliberation.socket_auth._member_of_session) ------


def _fresh_scope(member):
    """A scope as the session middleware leaves it: the session named, not yet loaded."""
    from django.contrib.sessions.backends.db import SessionStore

    key = factories.socket_scope_of(member)["session"].session_key
    return {"session": SessionStore(session_key=key)}


def _as_channels_finds(scope):
    """What channels' own ``get_user`` finds for the same session key."""
    from channels.auth import get_user
    from django.contrib.sessions.backends.db import SessionStore

    return get_user.func({"session": SessionStore(session_key=scope["session"].session_key)})


def test_the_connect_finds_the_member_as_channels_does_in_two_queries(
    alice, django_assert_num_queries
):
    from deliberation.socket_auth import _member_of_session

    scope = _fresh_scope(alice)
    with django_assert_num_queries(2):
        member = _member_of_session(scope)
    assert member == _as_channels_finds(scope) == alice
    assert (member.display_name, member.is_staff, member.language) == (
        alice.display_name,
        alice.is_staff,
        alice.language,
    )
    stored = Session.objects.get(session_key=scope["session"].session_key).expire_date
    assert scope["session_expires"] == stored
    assert scope["session_expires"].tzinfo is not None
    with django_assert_num_queries(0):  # the session's data came with the row
        assert scope["session"].get("_auth_user_id") == str(alice.pk)


@pytest.mark.parametrize(
    "ending", ["logout", "expired", "password", "deactivated", "backend", "no member"]
)
def test_an_ended_session_connects_anonymously_as_with_channels(alice, ending, settings):
    from deliberation.socket_auth import _member_of_session

    scope = _fresh_scope(alice)
    rows = Session.objects.filter(session_key=scope["session"].session_key)
    if ending == "logout":
        rows.delete()
    elif ending == "expired":
        rows.update(expire_date=timezone.now() - timedelta(seconds=1))
    elif ending == "password":
        alice.set_password("ein ganz neues Passwort")
        alice.save(update_fields=["password"])
    elif ending == "deactivated":
        alice.is_active = False
        alice.save(update_fields=["is_active"])
    elif ending == "backend":
        settings.AUTHENTICATION_BACKENDS = ["guardian.backends.ObjectPermissionBackend"]
    else:
        store = scope["session"]
        store.load()
        store["_auth_user_id"] = "not a number"
        store.save()
    assert isinstance(_member_of_session(scope), AnonymousUser)
    if ending != "no member":  # channels' get_user raises on a key that is not a number
        assert isinstance(_as_channels_finds(scope), AnonymousUser)


def test_an_anonymous_connect_reads_nothing(db, django_assert_num_queries):
    from django.contrib.sessions.backends.db import SessionStore

    from deliberation.socket_auth import _member_of_session

    with django_assert_num_queries(0):
        assert isinstance(_member_of_session({"session": SessionStore()}), AnonymousUser)
