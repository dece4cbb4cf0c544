"""Who may do what with an advisory forum (who-may).

Everyone who may view the forum (``forums.permissions``: members, guests granted this forum,
the public for a public forum) sees its page. Organisers (an :class:`AdvisoryRole`, never a
guest) and staff edit its details, meetings and organisations. A meeting's video link is given
only to those who may take part in the forum (as a conference gives it only to those who may
enter): never to an anonymous reader of a public forum.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from consultations.advisory.models import AdvisoryForum, AdvisoryRole
from forums.permissions import (
    can_participate,
    can_view_forum,
    is_party_member,
    is_staff,
    visible_forums,
)


def can_organise(user: Any, advisory: AdvisoryForum) -> bool:
    if is_staff(user):
        return True
    if not is_party_member(user):
        return False
    cache = advisory.__dict__.setdefault("_organiser_cache", {})
    if user.pk not in cache:
        cache[user.pk] = AdvisoryRole.objects.filter(advisory=advisory, member=user).exists()
    return cache[user.pk]


def can_enter_video(user: Any, advisory: AdvisoryForum) -> bool:
    """Whether the page may carry the meetings' video links for ``user`` (checked on the server:
    no page carries a link for anyone else, hidden or not)."""
    return can_participate(user, advisory.forum) or can_organise(user, advisory)


def visible_advisories(user: Any) -> QuerySet[AdvisoryForum]:
    """The advisory forums ``user`` may view (one query)."""
    return AdvisoryForum.objects.filter(forum__in=visible_forums(user)).select_related(
        "forum", "topic"
    )


def access_advisory(user: Any, slug: str, *, organise: bool = False) -> AdvisoryForum:
    """The advisory forum (with its forum and topic) if ``user`` may view it, else Http404;
    with ``organise``, also the organiser's right (PermissionDenied without it)."""
    advisory = (
        AdvisoryForum.objects.select_related("forum", "topic").filter(forum__slug=slug).first()
    )
    if advisory is None or not can_view_forum(user, advisory.forum):
        raise Http404("no such advisory forum")
    if organise and not can_organise(user, advisory):
        raise PermissionDenied
    return advisory
