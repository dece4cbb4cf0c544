"""Demo content for ``manage.py seed_demo``: an advisory forum on rents and a members' forum.

Everything is written through ``forums.services`` (so the demo obeys the real rules and fills
the event log), and every write carries a fixed ``client_id``: a second run finds what the first
created and adds nothing. Called after ``deliberation`` created the demo logins.
"""

from __future__ import annotations

from typing import Any

from deliberation.models import Member
from forums import services
from forums.models import Forum, Post, Reaction, Thread

# (role, client_id, body, reply_to client_id or None)
Script = list[tuple[str, str, str, str | None]]

MIETEN_THREADS: list[tuple[str, str, Script]] = [
    (
        "Mietendeckel 2.0 – was kann das Land noch tun?",
        "member",
        [
            (
                "member",
                "demo-m1-1",
                "Nach dem Urteil aus Karlsruhe ist der Landesmietendeckel vom "
                "Tisch. Welche Spielräume hat Berlin trotzdem noch? Ich denke an die landeseigenen "
                "Wohnungsbaugesellschaften und an den **Milieuschutz**.",
                None,
            ),
            (
                "member2",
                "demo-m1-2",
                "Bei den Landeseigenen geht viel: Mieterhöhungen begrenzen, "
                "Neuvermietung an WBS-Berechtigte koppeln. Das steht auch im "
                "Koalitionsvertrag – umgesetzt ist davon aber wenig.",
                "demo-m1-1",
            ),
            (
                "moderator",
                "demo-m1-3",
                "Danke für den Auftakt. Bitte sammelt hier konkrete "
                "Vorschläge; wir fassen sie Ende des Monats für die Programmkommission zusammen.",
                None,
            ),
            (
                "member",
                "demo-m1-4",
                "Vorschlag:\n\n1. Mieterhöhungen bei den Landeseigenen auf "
                "1 % im Jahr begrenzen\n2. Vorkaufsrecht in Milieuschutzgebieten aktiv nutzen\n"
                "3. Mietenkataster veröffentlichen",
                "demo-m1-2",
            ),
            (
                "member2",
                "demo-m1-5",
                "Punkt 3 unterstütze ich sehr. Ein öffentliches Mietenkataster "
                "gibt es in anderen Städten schon; wir könnten bei Wien abschauen.",
                "demo-m1-4",
            ),
            (
                "committee",
                "demo-m1-6",
                "Für die Programmkommission: Schreibt bitte zu jedem Vorschlag "
                "dazu, was er das Land ungefähr kostet. Dann können wir ihn besser einordnen.",
                "demo-m1-4",
            ),
        ],
    ),
    (
        "Vergesellschaftung: wie geht es nach dem Volksentscheid weiter?",
        "member2",
        [
            (
                "member2",
                "demo-m2-1",
                "59 % haben 2021 für die Vergesellschaftung großer "
                "Wohnungskonzerne gestimmt. Wie halten wir das Thema in der Koalition lebendig?",
                None,
            ),
            (
                "member",
                "demo-m2-2",
                "Wir sollten auf ein Vergesellschaftungsrahmengesetz "
                "drängen, das vor Gericht hält – lieber gründlich als schnell.",
                "demo-m2-1",
            ),
            (
                "guest",
                "demo-m2-3",
                "Aus Sicht unserer Initiative: bitte die Mieterinnen und "
                "Mieter in den betroffenen Beständen früh einbeziehen.",
                "demo-m2-1",
            ),
        ],
    ),
    (
        "Leerstand und Ferienwohnungen in Friedrichshain-Kreuzberg",
        "member2",
        [
            (
                "member2",
                "demo-m3-1",
                "In meinem Kiez stehen Wohnungen monatelang leer oder "
                "werden als Ferienwohnung vermietet. Das Zweckentfremdungsverbot wird kaum "
                "kontrolliert.",
                None,
            ),
            (
                "member",
                "demo-m3-2",
                "Die Bezirksämter brauchen dafür Personal. Vielleicht "
                "eine Forderung an den Landeshaushalt?",
                "demo-m3-1",
            ),
        ],
    ),
]

#: (role agreeing, client_id of the post)
MIETEN_REACTIONS = [
    ("member2", "demo-m1-1"),
    ("moderator", "demo-m1-1"),
    ("member", "demo-m1-2"),
    ("member2", "demo-m1-4"),
    ("moderator", "demo-m1-4"),
    ("member", "demo-m2-1"),
    ("member2", "demo-m2-2"),
    ("member", "demo-m3-1"),
]

TOPIC_THREADS: list[tuple[str, str, Script]] = [
    (
        "Willkommen im Mitgliederforum",
        "moderator",
        [
            (
                "moderator",
                "demo-t1-1",
                "Hier ist Platz für alles, was nicht in einen Ratschlag "
                "passt. Bitte bleibt freundlich und beim Thema.",
                None,
            ),
            (
                "member",
                "demo-t1-2",
                "Danke! Gibt es schon einen Termin für die nächste Basiskonferenz?",
                "demo-t1-1",
            ),
            (
                "moderator",
                "demo-t1-3",
                "Noch nicht. Sobald der Termin feststeht, steht er hier und auf deiner Übersicht.",
                "demo-t1-2",
            ),
        ],
    ),
    (
        "Barrierefreiheit bei unseren Veranstaltungen",
        "member2",
        [
            (
                "member2",
                "demo-t2-1",
                "Beim letzten Kreisparteitag gab es keine Induktionsschleife und "
                "keinen Ruheraum. Was sollte bei jeder Veranstaltung selbstverständlich sein?",
                None,
            ),
            (
                "moderator",
                "demo-t2-2",
                "Gute Frage. Sammelt bitte konkrete Punkte; die Landesgeschäftsstelle "
                "macht daraus eine Checkliste.",
                "demo-t2-1",
            ),
        ],
    ),
]

#: How far the demo member has read (the client_id of the last post she saw, per thread): the
#: dashboard then shows her threads with new replies, and threads she never opened below them.
MEMBER_READ_UP_TO = ["demo-m1-4", "demo-m2-2", "demo-m3-2", "demo-t1-2"]


def _people() -> dict[str, Member] | None:
    try:
        from deliberation.demo import DEMO_EMAILS
    except ImportError:  # the core's demo logins are not there: nothing to seed for
        return None
    people = {m.email: m for m in Member.objects.filter(email__in=DEMO_EMAILS.values())}
    found = {role: people.get(email) for role, email in DEMO_EMAILS.items()}
    if any(found.get(role) is None for role in ("member", "member2", "moderator", "staff")):
        return None
    return found  # type: ignore[return-value]


def _forum(staff: Member, *, slug: str, **fields: Any) -> Forum:
    forum = Forum.objects.filter(slug=slug).first()
    return forum or services.forum_create(actor=staff, slug=slug, **fields)


def _thread(forum: Forum, people: dict, title: str, opener: str, script: Script) -> Thread:
    role, client_id, body, _reply = script[0]
    thread = services.thread_create(
        actor=people[opener], forum=forum, title=title, body=body, client_id=client_id
    )
    for role, client_id, body, reply in script[1:]:
        actor = people.get(role)
        if actor is None:
            continue
        parent = Post.objects.filter(client_id=reply).first() if reply else None
        services.post_create(
            actor=actor,
            thread=thread,
            body=body,
            client_id=client_id,
            reply_to_id=parent.pk if parent else None,
        )
    return thread


def seed(*, stdout: Any) -> None:
    people = _people()
    if people is None:
        stdout.write("forums: demo logins missing, no demo forums seeded")
        return
    staff = people["staff"]
    mieten = _forum(
        staff,
        slug="mieten",
        title="Ratschlag Mieten und Wohnen",
        kind=Forum.Kind.ADVISORY,
        description="Wie sorgen wir für bezahlbare Mieten in Berlin? Sammelt Vorschläge "
        "für das Wahlprogramm – die Programmkommission beantwortet jedes Ergebnis.",
        show_presence_names=True,
    )
    topic = _forum(
        staff,
        slug="mitglieder",
        title="Mitgliederforum",
        kind=Forum.Kind.TOPIC,
        description="Offener Austausch unter Mitgliedern.",
    )
    for forum in (mieten, topic):
        services.forum_grant(actor=staff, forum=forum, member=people["moderator"], right="moderate")
    if people.get("guest") is not None:
        services.forum_grant(actor=staff, forum=mieten, member=people["guest"], right="participate")
    for title, opener, script in MIETEN_THREADS:
        _thread(mieten, people, title, opener, script)
    for title, opener, script in TOPIC_THREADS:
        _thread(topic, people, title, opener, script)
    for role, client_id in MIETEN_REACTIONS:
        member, post = people.get(role), Post.objects.filter(client_id=client_id).first()
        if member is None or post is None or post.author_id == member.pk:
            continue
        if not Reaction.objects.filter(post=post, member=member).exists():
            services.reaction_toggle(actor=member, post=post)
    _mark_read(people["member"], MEMBER_READ_UP_TO)
    stdout.write(f"forums: {mieten.title} (/{mieten.slug}) and {topic.title} ready")


def _mark_read(member: Member, client_ids: list[str]) -> None:
    """Record ``member`` as having read each thread up to the post with that client_id (a read
    position never moves backwards, so a second run changes nothing)."""
    for post in Post.objects.filter(client_id__in=client_ids).select_related("thread"):
        services.thread_mark_read(member=member, thread=post.thread, seq=post.seq)
