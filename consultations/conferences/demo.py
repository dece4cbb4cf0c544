"""Demo content for ``manage.py seed_demo``: a base conference on the coalition agreement.

Live today, with an agenda of four items (each with its thread and first posts), commitments in
three chapters with every status and a history of assessments, registrations of each kind, and
item 2 current. Written through the services, so the demo obeys the real rules; a second run
finds what the first made and adds nothing.

After the core, the feature folders add their part: a closed poll
(``polls.demo.seed_polls``) and a running speaker queue (``queue.demo.seed_queue``); each is
idempotent itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from consultations.conferences import services
from consultations.conferences.models import (
    AgendaItem,
    Commitment,
    Conference,
    ConferenceRole,
    Registration,
)
from consultations.conferences.polls.demo import seed_polls
from consultations.conferences.queue.demo import seed_queue
from consultations.conferences.tracker import services as tracker_services
from deliberation.models import Member
from forums import services as forum_services
from forums.models import Post

SLUG = "basiskonferenz-koalitionsvertrag"

AGENDA: list[tuple[str, str, int, list[tuple[str, str, str]]]] = [
    (
        "Begrüßung und Bilanz nach zwei Jahren",
        "Der Landesvorstand zieht Bilanz: Was hat die Koalition umgesetzt, wo hakt es?",
        20,
        [("member", "demo-bk1-1", "Gut, dass wir das endlich gemeinsam bilanzieren!")],
    ),
    (
        "Mieten und Wohnen",
        "Mietenkataster, Vorkaufsrecht, landeseigene Wohnungen: Was steht im Vertrag, was ist "
        "passiert?",
        60,
        [
            (
                "member",
                "demo-bk2-1",
                "Das Mietenkataster ist seit einem Jahr angekündigt. Woran hängt es?",
            ),
            (
                "member2",
                "demo-bk2-2",
                "Beim Vorkaufsrecht sind uns nach dem Urteil die Hände gebunden – wir "
                "brauchen eine Bundesratsinitiative.",
            ),
        ],
    ),
    (
        "Gesundheit und Pflege",
        "Pflegestützpunkte, Krankenhausplan und Gesundheitskioske in den Bezirken.",
        45,
        [("member2", "demo-bk3-1", "Die Gesundheitskioske wirken – wir brauchen mehr davon.")],
    ),
    (
        "Verwaltung und Digitalisierung",
        "Bürgeramtstermine, digitale Anträge und das Onlinezugangsgesetz.",
        45,
        [],
    ),
]

# (chapter, reference, text, [statuses of the history, oldest first], agenda item index)
COMMITMENTS: list[tuple[str, str, str, list[tuple[str, str]], int]] = [
    (
        "Wohnen",
        "Z. 412",
        "Ein öffentliches Mietenkataster einführen.",
        [
            ("in_progress", "Gesetzentwurf angekündigt."),
            ("problem", "Verzögert: Datenschutzfragen offen."),
        ],
        1,
    ),
    (
        "Wohnen",
        "Z. 420",
        "Mieterhöhungen bei den landeseigenen Gesellschaften auf 2 % im Jahr begrenzen.",
        [
            ("in_progress", "Kooperationsvereinbarung in Verhandlung."),
            ("done", "Vereinbarung unterschrieben."),
        ],
        1,
    ),
    ("Wohnen", "Z. 431", "Das Vorkaufsrecht in Milieuschutzgebieten aktiv nutzen.", [], 1),
    (
        "Gesundheit und Pflege",
        "Z. 812",
        "In jedem Bezirk einen Pflegestützpunkt mehr eröffnen.",
        [("in_progress", "Fünf von zwölf Bezirken haben eröffnet.")],
        2,
    ),
    (
        "Gesundheit und Pflege",
        "Z. 830",
        "Gesundheitskioske in allen Bezirken einrichten.",
        [("done", "Alle zwölf Kioske sind offen.")],
        2,
    ),
    (
        "Gesundheit und Pflege",
        "Z. 845",
        "Einen neuen Landeskrankenhausplan vorlegen.",
        [("problem", "Der Plan ist um ein Jahr verschoben.")],
        2,
    ),
    (
        "Digitalisierung",
        "Z. 1020",
        "Bürgeramtstermine binnen 14 Tagen garantieren.",
        [("in_progress", "Im Schnitt 21 Tage.")],
        3,
    ),
    ("Digitalisierung", "Z. 1034", "Alle Anträge der Bezirksämter digital anbieten.", [], 3),
    (
        "Digitalisierung",
        "Z. 1041",
        "Ein offenes Datenportal für alle Senatsverwaltungen.",
        [("done", "Portal ist online.")],
        3,
    ),
]


def _people() -> dict[str, Member] | None:
    try:
        from deliberation.demo import DEMO_EMAILS
    except ImportError:
        return None
    found = {m.email: m for m in Member.objects.filter(email__in=DEMO_EMAILS.values())}
    people = {role: found.get(email) for role, email in DEMO_EMAILS.items()}
    if any(people.get(r) is None for r in ("member", "member2", "moderator", "staff")):
        return None
    return people  # type: ignore[return-value]


def _conference(staff: Member) -> Conference:
    existing = Conference.objects.filter(slug=SLUG).first()
    if existing is not None:
        return existing
    now = timezone.localtime()
    day = now.replace(hour=10, minute=0, second=0, microsecond=0)
    return services.conference_create(
        actor=staff,
        title="Basiskonferenz: Zwei Jahre Koalitionsvertrag",
        slug=SLUG,
        description="Wie wird der Koalitionsvertrag umgesetzt? Wir sammeln Erfolge und Probleme "
        "– im Saal und von zu Hause. Wer nicht kommen kann, schreibt vorher und nachher mit.",
        starts_at=day,
        ends_at=day + timedelta(hours=7),
        written_opens_at=now - timedelta(days=14),
        written_closes_at=now + timedelta(days=14),
        venue_name="Rathaus Schöneberg, Willy-Brandt-Saal",
        venue_address="John-F.-Kennedy-Platz 1\n10825 Berlin",
        step_free=True,
        hearing_loop=True,
        sign_language=True,
        childcare=True,
        childcare_under_three=True,
        nursing_room=True,
        quiet_room=True,
        access_notes="Aufzug am Eingang Freiherr-vom-Stein-Straße. Die Gebärdensprach"
        "dolmetschung ist auch im Videostream zu sehen.",
        video_url="https://video.example.org/basiskonferenz",
    )


def _agenda(conference: Conference, people: dict[str, Member]) -> list[AgendaItem]:
    staff = people["staff"]
    items = list(conference.agenda.order_by("position"))
    for title, description, minutes, _posts in AGENDA[len(items) :]:
        items.append(
            services.agenda_item_create(
                actor=staff,
                conference=conference,
                title=title,
                description=description,
                planned_minutes=minutes,
            )
        )
    for item, (_title, _description, _minutes, posts) in zip(items, AGENDA, strict=False):
        for role, client_id, body in posts:
            if people.get(role) and not Post.objects.filter(client_id=client_id).exists():
                forum_services.post_create(
                    actor=people[role], thread=item.thread, body=body, client_id=client_id
                )
    return items


def _commitments(items: list[AgendaItem], people: dict[str, Member]) -> None:
    staff = people["staff"]
    for position, (chapter, reference, text, history, item_index) in enumerate(COMMITMENTS):
        commitment = Commitment.objects.filter(reference=reference, chapter=chapter).first()
        if commitment is None:
            commitment = tracker_services.commitment_create(
                actor=staff, chapter=chapter, reference=reference, text=text, position=position
            )
            for status, note in history:
                tracker_services.commitment_assess(
                    actor=staff, commitment=commitment, status=status, note=note
                )
        item = items[item_index]
        if not item.commitments.filter(pk=commitment.pk).exists():
            item.commitments.add(commitment)


def _registrations(conference: Conference, people: dict[str, Member]) -> None:
    wanted = [
        ("member", {"attendance": "hall", "childcare": True, "children_ages": [2, 6]}),
        (
            "member2",
            {"attendance": "remote", "accessibility_needs": "Untertitel im Stream, bitte."},
        ),
        ("committee", {"attendance": "remote"}),
        ("moderator", {"attendance": "hall", "accessibility_needs": "Sitzplatz am Gang."}),
    ]
    for role, fields in wanted:
        member = people.get(role)
        if (
            member is None
            or Registration.objects.filter(conference=conference, member=member).exists()
        ):
            continue
        services.registration_save(actor=member, conference=conference, **fields)


def seed(*, stdout: Any) -> None:
    people = _people()
    if people is None:
        stdout.write("conferences: demo logins missing, no demo conference seeded")
        return
    staff = people["staff"]
    conference = _conference(staff)
    services.conference_role_grant(
        actor=staff,
        conference=conference,
        member=people["moderator"],
        role=ConferenceRole.Role.CHAIR,
    )
    items = _agenda(conference, people)
    _commitments(items, people)
    _registrations(conference, people)
    if conference.phase == Conference.Phase.PREPARATION:
        services.conference_set_phase(actor=staff, conference=conference, phase="live")
    conference.refresh_from_db()
    if conference.current_item_id is None and len(items) >= 2:
        services.agenda_set_current(actor=staff, conference=conference, item=items[0])
        services.agenda_set_current(actor=staff, conference=conference, item=items[1])
    conference.refresh_from_db()
    seed_polls(conference)
    seed_queue(conference)
    stdout.write(f"conferences: {conference.title} ({conference.get_absolute_url()}) ready")
