"""Demo content for ``manage.py seed_demo``: the forums demo's rents forum made an advisory
forum ("Ratschlag Mieten") on the topic rents, with three organisations, two meetings (next week
in a room, later online) and Mo as its organiser. Its threads are the forums demo's. Each
organisation has an invitation link with its guests (Hatice and Gina from Kotti & Co, Jonas from
the Mieterverein, Petra from the parliamentary group), one link is still unused, and Hatice's
first post waits for the moderators.

Runs after ``forums`` and ``consultations.decisions`` (the forum and the topic). Written through
the services; a second run finds what the first made and adds nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone

from consultations.advisory import services
from consultations.advisory.invitations import services as invitations
from consultations.advisory.models import AdvisoryForum
from deliberation import services as member_services
from deliberation.demo import DEMO_PEOPLE, GUEST, MODERATOR, STAFF
from deliberation.models import Member
from forums import services as forum_services
from forums.models import Forum

FORUM_SLUG = "mieten"

ORGANISATIONS: list[dict[str, str]] = [
    {
        "name": "Kotti & Co",
        "description": "Mieter*innengemeinschaft am Kottbusser Tor, seit 2012 gegen "
        "Verdrängung aus dem sozialen Wohnungsbau.",
        "url": "https://kottiundco.net/",
        "badge_label": "Initiative: Kotti & Co",
    },
    {
        "name": "Mieterverein Berlin-Nord",
        "description": "Beratung und Hilfe für Mieterinnen und Mieter in Pankow, Reinickendorf "
        "und Spandau.",
        "url": "https://mieterverein-nord.example.org/",
        "badge_label": "Initiative: Mieterverein Berlin-Nord",
    },
    {
        "name": "Fraktion im Abgeordnetenhaus",
        "description": "Die wohnungspolitischen Sprecherinnen und Sprecher unserer Fraktion.",
        "url": "https://fraktion.example.org/wohnen",
        "badge_label": "Fraktion",
    },
]


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


MEETINGS: list[dict[str, Any]] = [
    {
        "title": "Erstes Treffen: Mieten im Bestand",
        "days": 7,
        "hours": (18, 21),
        "venue_name": "Nachbarschaftshaus Urbanstraße",
        "venue_address": "Urbanstraße 21\n10961 Berlin",
        "step_free": True,
        "hearing_loop": True,
        "childcare": True,
        "nursing_room": True,
        "access_notes": "Aufzug am Seiteneingang. Kinderbetreuung bitte bis drei Tage vorher "
        "anmelden.",
    },
    {
        "title": "Online-Treffen: Vorschläge für das Wahlprogramm",
        "days": 35,
        "hours": (19, 21),
        "video_url": "https://video.example.org/ratschlag-mieten",
        "access_notes": "Mit Live-Untertiteln. Einwahl auch per Telefon möglich.",
    },
]


#: Guests who came in through the organisations' links: (organisation, e-mail, display name).
GUESTS = [
    ("Kotti & Co", "hatice@demo.example.org", "Hatice"),
    ("Mieterverein Berlin-Nord", "jonas@demo.example.org", "Jonas B."),
    ("Fraktion im Abgeordnetenhaus", "petra@demo.example.org", "Petra (MdA)"),
]
HELD_GUEST_POST = "demo-advisory-held-1"


def _seed_invitations(advisory: AdvisoryForum, organiser: Member, stdout: Any) -> None:
    """A link per organisation with its guests (Gina through Kotti & Co's), a link nobody has
    used yet, and a guest's post waiting for the moderators. Guests get no usable password: the
    demo's guest login is Gina."""
    if advisory.invitations.exists():
        return
    links = {}
    for organisation in advisory.organisations.all():
        kind = "fraktion" if organisation.badge_label == "Fraktion" else "initiative"
        links[organisation.name] = invitations.invitation_create(
            actor=organiser,
            advisory=advisory,
            organisation=organisation,
            affiliation=kind,
            label=f"Verteiler {organisation.name}",
            max_uses=10,
            valid_days=30,
        )
    invitations.invitation_create(
        actor=organiser,
        advisory=advisory,
        affiliation="expert",
        label="Für die Sachverständige aus der Mieterberatung (noch nicht weitergegeben)",
        max_uses=1,
        valid_days=14,
    )
    gina = _person(GUEST)
    if gina is not None:
        invitations.guest_join(actor=gina, invitation=links["Kotti & Co"])
    guests = []
    for organisation, email, name in GUESTS:
        link = links[organisation]
        guest = Member.objects.filter(email=email).first() or member_services.member_create(
            email=email,
            display_name=name,
            kind=Member.Kind.GUEST,
            affiliation=link.affiliation,
            badge_label=link.badge_label,
            invite=False,
        )
        invitations.guest_join(actor=guest, invitation=link)
        guests.append(guest)
    thread = advisory.forum.threads.order_by("pk").first()
    if thread is not None:
        forum_services.post_create(
            actor=guests[0],
            thread=thread,
            body="Bei uns am Kotti sind die Mieten nach der Modernisierung um 40 % gestiegen. "
            "Wir laden euch zu unserem nächsten Treffen ein!",
            client_id=HELD_GUEST_POST,
        )
    stdout.write(
        f"advisory: {len(links) + 1} invitation links, {len(guests)} guests and a held guest post"
    )


def _person(role: str) -> Member | None:
    return Member.objects.filter(email__iexact=DEMO_PEOPLE[role].email).first()


def seed(*, stdout: Any) -> None:
    staff, mo = _person(STAFF), _person(MODERATOR)
    forum = Forum.objects.filter(slug=FORUM_SLUG).first()
    if staff is None or forum is None:
        stdout.write("advisory: demo logins or the rents forum missing, nothing seeded")
        return
    topic = apps.get_model("decisions", "Topic").objects.filter(slug="mieten").first()
    existed = AdvisoryForum.objects.filter(forum=forum).exists()
    advisory = services.advisory_create(actor=staff, forum=forum, topic=topic)
    if mo is not None:
        services.organiser_grant(actor=staff, advisory=advisory, member=mo)
    if not existed:
        for entry in ORGANISATIONS:
            services.organisation_create(actor=staff, advisory=advisory, **entry)
        for entry in MEETINGS:
            data = dict(entry)
            days, (start, end) = data.pop("days"), data.pop("hours")
            services.meeting_create(
                actor=staff,
                advisory=advisory,
                starts_at=_at(days, start),
                ends_at=_at(days, end),
                **data,
            )
    _seed_invitations(advisory, mo or staff, stdout)
    stdout.write(
        f"advisory: {forum.title} (/ratschlaege/{forum.slug}/) with "
        f"{advisory.organisations.count()} organisations and "
        f"{advisory.meetings.count()} meetings ready"
    )
