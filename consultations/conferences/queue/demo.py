"""A running speaker queue for the demo: the conference demo calls :func:`seed_queue`.

Everything goes through the queue's services, as on the day: registered members ask to speak
on both sub-lists, the chair calls the first, someone asks an interposed question, a point of
order waits at the front and the chair adds a hall speaker without an account.
"""

from __future__ import annotations

from typing import Any

from consultations.conferences import services as conference_services
from consultations.conferences.models import Conference, ConferenceRole, Registration
from consultations.conferences.queue import services
from consultations.conferences.queue.models import SpeakRequest
from deliberation.models import Member

HALL_SPEAKER = "Frau Demir (Saal)"


def _chair(conference: Conference) -> Member | None:
    role = (
        ConferenceRole.objects.filter(conference=conference)
        .select_related("member")
        .order_by("role", "pk")  # a chair before an organiser
        .first()
    )
    if role is not None:
        return role.member
    return Member.objects.filter(is_staff=True, is_active=True).order_by("pk").first()


def seed_queue(conference: Conference) -> bool:
    """Put a running queue on the conference's current item (or its first item).

    Preconditions: the conference is on its live day (``phase == live``), has an agenda, a chair
    (or organiser, or a staff member exists) and at least three registered members (not guests).
    Idempotent: an item that already has requests is left as it is. Returns whether it seeded.
    """
    conference.refresh_from_db()
    if conference.phase != Conference.Phase.LIVE:
        return False
    item = conference.current_item or conference.agenda.order_by("position").first()
    chair = _chair(conference)
    if item is None or chair is None:
        return False
    if SpeakRequest.objects.filter(item=item).exists():
        return False
    if conference.current_item_id != item.pk:
        conference_services.agenda_set_current(actor=chair, conference=conference, item=item)
        conference.refresh_from_db()
    members = [
        r.member
        for r in Registration.objects.filter(conference=conference, member__is_active=True)
        .select_related("member")
        .order_by("pk")
        if not r.member.is_guest
    ]
    if len(members) < 3:
        return False

    def ask(member: Member, kind: str, sublist: str = "") -> None:
        services.speak_request_create(
            actor=member, conference=conference, item=item, kind=kind, sublist=sublist
        )

    plan = [
        ("contribution", "default-0"),
        ("contribution", "default-1"),
        ("question", "default-0"),
        ("contribution", "default-1"),
        ("contribution", "default-0"),
    ]
    for member, (kind, sublist) in zip(members, plan, strict=False):
        ask(member, kind, sublist)
    services.speak_request_call_next(actor=chair, conference=conference, item=item)
    # The one speaking now hears an interposed question from another; a point of order waits.
    ask(members[-1] if len(members) > 5 else members[1], "interposition")
    ask(members[2], "point_of_order")
    services.speak_request_add_hall(
        actor=chair,
        conference=conference,
        item=item,
        name=HALL_SPEAKER,
        kind="contribution",
        sublist="default-1",
    )
    return True


def seed(*, conference: Conference, people: Any = None, stdout: Any = None) -> None:
    """The conference demo's hook (``consultations.conferences.demo``): a running queue."""
    if seed_queue(conference) and stdout is not None:
        stdout.write("conferences: a running speaker queue on the current item")
