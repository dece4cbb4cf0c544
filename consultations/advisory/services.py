"""Every change to an advisory forum, its meetings, organisations and organisers.

Views, forms, the demo and tests call these; nothing else writes the advisory models. Each
checks the actor's right again (a form is never the only guard) and the input's bounds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from consultations.advisory.models import AdvisoryForum, AdvisoryRole, Meeting, Organisation
from consultations.advisory.permissions import can_organise
from consultations.inputs import clean_link, clean_text
from consultations.venues import ACCESS_FEATURES
from deliberation.models import Member
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Forum
from forums.permissions import is_staff

MAX_NAME = 200
MAX_DESCRIPTION = 500
MAX_BADGE = 60
MAX_TEXT = 2_000
FIRST_YEAR = 2000
LAST_YEAR = 2100


def _require_organiser(actor: Any, advisory: AdvisoryForum) -> None:
    if not can_organise(actor, advisory):
        raise ServiceError("forbidden", _("Only the forum's organisers may change this."))


def advisory_create(*, actor: Member, forum: Forum, topic: Any = None) -> AdvisoryForum:
    """Make ``forum`` an advisory forum (staff only); idempotent."""
    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may open advisory forums."))
    if forum.kind != Forum.Kind.ADVISORY:
        raise ServiceError("invalid", _("Only a forum of kind advisory can be an advisory forum."))
    advisory, _created = AdvisoryForum.objects.get_or_create(forum=forum, defaults={"topic": topic})
    return advisory


def advisory_update(
    *, actor: Member, advisory: AdvisoryForum, topic: Any, hold_guest_posts: bool | None = None
) -> AdvisoryForum:
    """Change the topic and (if given) whether guests' posts wait for a moderator."""
    _require_organiser(actor, advisory)
    with transaction.atomic():
        advisory.topic = topic
        advisory.save(update_fields=["topic"])
        if hold_guest_posts is not None:
            forum_services.forum_set_hold_guest_posts(forum=advisory.forum, on=hold_guest_posts)
    return advisory


def organiser_grant(
    *, actor: Member, advisory: AdvisoryForum, member: Member, on: bool = True
) -> None:
    """Make ``member`` an organiser of ``advisory`` (or no longer, ``on`` False): staff only,
    never a guest. Idempotent."""
    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may appoint organisers."))
    if on and (member.is_guest or not member.is_active):
        raise ServiceError("invalid", _("Guests cannot organise an advisory forum."))
    if on:
        AdvisoryRole.objects.get_or_create(advisory=advisory, member=member)
    else:
        AdvisoryRole.objects.filter(advisory=advisory, member=member).delete()
    advisory.__dict__.pop("_organiser_cache", None)


def _organisation_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": clean_text(data.get("name"), limit=MAX_NAME, label=_("Name"), required=True),
        "description": clean_text(
            data.get("description"), limit=MAX_DESCRIPTION, label=_("Short description")
        ),
        "url": clean_link(data.get("url"), label=_("Web address")),
        "badge_label": clean_text(data.get("badge_label"), limit=MAX_BADGE, label=_("Badge")),
    }


def organisation_create(*, actor: Member, advisory: AdvisoryForum, **data: Any) -> Organisation:
    _require_organiser(actor, advisory)
    fields = _organisation_fields(data)
    with transaction.atomic():
        position = advisory.organisations.count()
        return Organisation.objects.create(advisory=advisory, position=position, **fields)


def organisation_update(*, actor: Member, organisation: Organisation, **data: Any) -> Organisation:
    _require_organiser(actor, organisation.advisory)
    fields = _organisation_fields(data)
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.save(update_fields=list(fields))
    return organisation


def _when(value: Any, label: str) -> datetime:
    if not isinstance(value, datetime) or not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ServiceError(
            "invalid", _("%(field)s: please give a time between 2000 and 2100.") % {"field": label}
        )
    return value


def _meeting_fields(
    actor: Member, data: dict[str, Any], *, current: Meeting | None = None
) -> dict[str, Any]:
    starts_at = _when(data.get("starts_at"), _("Starts"))
    ends_at = _when(data.get("ends_at"), _("Ends"))
    if ends_at <= starts_at:
        raise ServiceError("invalid", _("A meeting must end after it starts."))
    fields: dict[str, Any] = {
        "title": clean_text(data.get("title"), limit=MAX_NAME, label=_("Title"), required=True),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "venue_name": clean_text(data.get("venue_name"), limit=MAX_NAME, label=_("Venue")),
        "venue_address": clean_text(data.get("venue_address"), limit=MAX_TEXT, label=_("Address")),
        "access_notes": clean_text(
            data.get("access_notes"), limit=MAX_TEXT, label=_("Further notes on access")
        ),
        "video_url": clean_link(data.get("video_url"), label=_("Video room")),
        "conference": data.get("conference"),
    }
    if not (fields["venue_name"] or fields["video_url"]):
        raise ServiceError("invalid", _("Please give a venue or a video room (or both)."))
    conference = fields["conference"]
    kept = current is not None and conference is not None and conference.pk == current.conference_id
    if conference is not None and not kept and conference not in organised_conferences(actor):
        raise ServiceError("forbidden", _("You can only link a conference you organise."))
    for name in ACCESS_FEATURES:
        fields[name] = bool(data.get(name))
    return fields


def organised_conferences(actor: Member, *, keep: int | None = None) -> Any:
    """The conferences ``actor`` may link a meeting to: those she organises (staff: all), and
    ``keep``, the one a meeting is linked to already. Read through the app registry: the
    meeting's link is the one place this format touches the conference's models."""
    conferences = apps.get_model("conferences", "Conference").objects.order_by("-starts_at")
    if is_staff(actor):
        return conferences
    roles = apps.get_model("conferences", "ConferenceRole").objects.filter(
        member_id=actor.pk, role="organiser"
    )
    return conferences.filter(Q(pk__in=roles.values("conference_id")) | Q(pk=keep))


def meeting_create(*, actor: Member, advisory: AdvisoryForum, **data: Any) -> Meeting:
    _require_organiser(actor, advisory)
    return Meeting.objects.create(advisory=advisory, **_meeting_fields(actor, data))


def meeting_update(*, actor: Member, meeting: Meeting, **data: Any) -> Meeting:
    _require_organiser(actor, meeting.advisory)
    # A link another organiser made to her conference is kept; a new one must be one's own.
    fields = _meeting_fields(actor, data, current=meeting)
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save(update_fields=list(fields))
    return meeting
