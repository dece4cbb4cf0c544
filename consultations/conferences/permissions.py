"""Who may do what at a conference (who-may). When-may (phase, open list, open poll) is the
services' concern.

============  =========================================================================
role          may
============  =========================================================================
visitor       nothing (conferences are for members; the forum's visibility decides reading)
guest         read if the forum lets them; never register, never vote, never ask to speak
member        read; register; once registered: ask to speak, vote in polls
chair         everything a member may, and run the day: current item, queue, timer, polls
organiser     everything a chair may, and prepare: agenda, registrations list and totals
staff         everything
============  =========================================================================

A moderator of the conference's forum curates its threads (``forums``/``moderation``) but holds
no conference role from that: chairing is a role of its own (:class:`ConferenceRole`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from consultations.conferences.models import Conference, ConferenceRole, Registration
from forums.permissions import can_view_forum, is_party_member, is_staff


def _roles(user: Any, conference: Conference) -> set[str]:
    if not is_party_member(user):  # guests hold no conference role (conference_role_grant)
        return set()
    cache = getattr(conference, "_roles_cache", None)
    if cache is None:
        cache = conference._roles_cache = {}
    if user.pk not in cache:
        cache[user.pk] = set(
            ConferenceRole.objects.filter(conference=conference, member=user).values_list(
                "role", flat=True
            )
        )
    return cache[user.pk]


def can_view(user: Any, conference: Conference) -> bool:
    return can_view_forum(user, conference.forum)


def can_organise(user: Any, conference: Conference) -> bool:
    return is_staff(user) or ConferenceRole.Role.ORGANISER in _roles(user, conference)


def can_chair(user: Any, conference: Conference) -> bool:
    return is_staff(user) or bool(
        _roles(user, conference) & {ConferenceRole.Role.ORGANISER, ConferenceRole.Role.CHAIR}
    )


def can_register(user: Any, conference: Conference) -> bool:
    """Members (never guests) who may view the conference may register."""
    return is_party_member(user) and can_view(user, conference)


def _attendance(user: Any, conference: Conference) -> str | None:
    """``user``'s attendance ("hall", "remote") at ``conference``, None if not registered."""
    if not can_register(user, conference):
        return None
    known = getattr(conference, "_attendance_cache", {})
    if user.pk in known:
        return known[user.pk]
    return (
        Registration.objects.filter(conference=conference, member=user)
        .values_list("attendance", flat=True)
        .first()
    )


def is_registered(user: Any, conference: Conference) -> bool:
    return _attendance(user, conference) is not None


def can_enter_video(user: Any, conference: Conference) -> bool:
    """Who is given the video room's link (the conference page, the queue's "you have the
    floor"): chairs, and members registered to take part remotely. Checked here, on the server,
    so no page carries the link for anyone else, hidden or not."""
    if not conference.video_url:
        return False
    if can_chair(user, conference):
        return True
    return _attendance(user, conference) == Registration.Attendance.REMOTE


def remember_registration(user: Any, conference: Conference, registration: Any) -> None:
    """Note on this request's ``conference`` how ``user`` is registered (read already), so that
    the page's panels (queue, polls, video) ask :func:`is_registered` and
    :func:`can_enter_video` without a query of their own. Only for a conference object read for
    one request, after the registration was read."""
    if user.is_authenticated:
        cache = conference.__dict__.setdefault("_attendance_cache", {})
        cache[user.pk] = registration.attendance if registration is not None else None


def access_conference(user: Any, slug: str, *, chair: bool = False) -> Conference:
    """The conference (with its forum), if ``user`` may view it; else Http404.

    With ``chair``, also requires the chair's right (PermissionDenied without it).
    """
    return _access(user, {"slug": slug}, chair=chair)


def access_conference_stream(user: Any, pk: int) -> Conference:
    """The conference by its pk, as :func:`access_conference` (the live socket names it so)."""
    return _access(user, {"pk": pk}, chair=False)


def _access(user: Any, lookup: dict[str, Any], *, chair: bool) -> Conference:
    conference = Conference.objects.select_related("forum", "current_item").filter(**lookup).first()
    if conference is None or not can_view(user, conference):
        raise Http404
    if chair and not can_chair(user, conference):
        raise PermissionDenied
    return conference
