"""Who may do what with the decisions calendar (who-may).

============  ======================================================================
role          may
============  ======================================================================
visitor       nothing: pages send to the login, the feeds answer 404 (but see feed keys)
guest         nothing: the calendar is for party members (every page and feed 404)
member        read the list, calendar, decisions and feeds; follow topics
organiser     what a member may, and add, change and decide decisions
staff         everything
============  ======================================================================

An organiser is a party member who organises any base conference (a ``ConferenceRole``, as the
coalition tracker counts its assessors), or who holds Django's model permission
``decisions.change_decision``, given in the admin to a member or to a group (as the programme
committee is a group): the calendar is one for the whole association, so its right is not per
object and needs no guardian grant. Guests never organise, whatever they were given. The
conference role is read through the app registry: a format imports no other format.

A discussion link is shown only to those who may view its target's forum
(:func:`can_see_discussion`).

A calendar app cannot log in: the feeds' addresses on the pages carry the member's feed key
(:func:`feed_key`), a signature of their id salted with their password hash, as Django's password
reset links are. Whoever holds the address reads that member's calendar; a new password ends
every old address, and a key of a guest or a deactivated account opens nothing.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404

from consultations.decisions.models import Decision, Topic
from deliberation.forms import row_id
from deliberation.models import Member
from forums.permissions import can_view_forum, is_party_member, is_staff

EDIT_PERMISSION = "decisions.change_decision"


def can_read(user: Any) -> bool:
    return is_staff(user) or is_party_member(user)


def _organises_a_conference(user: Any) -> bool:
    if not apps.is_installed("consultations.conferences"):
        return False
    role = apps.get_model("conferences", "ConferenceRole")
    return role.objects.filter(member=user, role="organiser").exists()


def can_edit(user: Any) -> bool:
    """Staff, and party members who organise a conference or hold :data:`EDIT_PERMISSION`
    (directly or through a group). Answered once per user object (a request's member)."""
    if is_staff(user):
        return True
    if not is_party_member(user):
        return False
    cached = user.__dict__.get("_decisions_can_edit")
    if cached is None:
        cached = user.has_perm(EDIT_PERMISSION) or _organises_a_conference(user)
        user.__dict__["_decisions_can_edit"] = cached
    return cached


def can_follow(user: Any) -> bool:
    return can_read(user)


def can_see_discussion(user: Any, decision: Decision) -> bool:
    target = decision.discussion
    forum = getattr(target, "forum", None)
    return forum is not None and can_view_forum(user, forum)


def require_reader(user: Any) -> None:
    """Http404 for anyone who may not read the calendar (guests, visitors)."""
    if not can_read(user):
        raise Http404


def access_decision(user: Any, pk: int, *, for_write: bool = False) -> Decision:
    """The decision ``pk`` with its topics, if ``user`` may read it (else Http404); with
    ``for_write`` also the organiser's right (else PermissionDenied)."""
    require_reader(user)
    decision = Decision.objects.filter(pk=pk).prefetch_related("topics").first()
    if decision is None:
        raise Http404
    if for_write and not can_edit(user):
        raise PermissionDenied
    return decision


def access_topic(user: Any, slug: str) -> Topic:
    require_reader(user)
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        raise Http404
    return topic


FEED_SALT = "consultations.decisions.feed"
#: The query parameter of a feed address that carries the key.
FEED_KEY_PARAMETER = "schluessel"


def _feed_signer(member: Member) -> signing.Signer:
    return signing.Signer(salt=f"{FEED_SALT}:{member.password}")


def feed_key(user: Any) -> str:
    """``user``'s key for the feed addresses ('' for anyone who may not read the calendar)."""
    if not can_read(user):
        return ""
    return _feed_signer(user).sign(str(user.pk))


def feed_reader(user: Any, key: str) -> Any:
    """Who reads a feed: the logged-in ``user``, or else the member whose valid ``key`` is given.
    Http404 when neither may read the calendar."""
    if user.is_authenticated or not key:
        require_reader(user)
        return user
    pk, _sep, _signature = key.partition(":")
    member_id = row_id(pk)
    if member_id is None:
        raise Http404
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    try:
        valid = _feed_signer(member).unsign(key) == pk
    except signing.BadSignature:
        valid = False
    if not valid:
        raise Http404
    require_reader(member)
    return member
