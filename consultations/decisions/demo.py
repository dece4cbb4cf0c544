"""Demo content for ``manage.py seed_demo``: the five topics of the decisions calendar and five
decisions of Berlin state politics across them, one already decided, some linked to the demo's
threads and its base conference. Members follow topics (the demo member: rents, health and care),
so the dashboard and the notifications show what following does. Mo organises the calendar.

Written through the services; a second run finds what the first made and adds nothing.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone

from consultations.decisions import services
from consultations.decisions.models import Decision, Topic
from deliberation.models import Member

TOPICS = [
    ("mieten", "Mieten und Wohnen"),
    ("gesundheit-pflege", "Gesundheit und Pflege"),
    ("digitalisierung", "Digitalisierung"),
    ("senioren", "Seniorinnen und Senioren"),
    ("sicherheit", "Sicherheit"),
]

#: (title, days from today, time, institution, topics, explanation, body, source, link, result)
DECISIONS: list[dict[str, Any]] = [
    {
        "title": "Mietenschutzgesetz: zweite Lesung im Abgeordnetenhaus",
        "days": 9,
        "time": time(10, 0),
        "institution": Decision.Institution.PARLIAMENT,
        "topics": ["mieten"],
        "explanation": "Nach dem Aus für den Mietendeckel will die Koalition Mieterinnen und "
        "Mieter mit Landesmitteln schützen: Mietenkataster, Wohnraumschutz, strengere Regeln "
        "für möblierte Wohnungen.",
        "body": "Der Gesetzentwurf des Senats liegt seit dem Frühjahr im Ausschuss für "
        "Stadtentwicklung. Strittig sind vor allem:\n\n"
        "- ein **öffentliches Mietenkataster** mit allen Bestandsmieten,\n"
        "- Bußgelder bis 500.000 € bei Zweckentfremdung,\n"
        "- eine Genehmigungspflicht für möbliertes Wohnen auf Zeit.\n\n"
        "Die Fraktion bittet um Rückmeldung aus den Bezirken vor der zweiten Lesung.",
        "source": "https://www.parlament-berlin.de/",
        "link": ("thread", "Mietendeckel 2.0 – was kann das Land noch tun?"),
    },
    {
        "title": "Krankenhausplan 2027: Beschluss im Senat",
        "days": 16,
        "time": None,
        "institution": Decision.Institution.GOVERNMENT,
        "topics": ["gesundheit-pflege", "senioren"],
        "explanation": "Der Senat legt fest, welche Kliniken welche Leistungen anbieten – mit "
        "Folgen für Notaufnahmen und Geburtsstationen in den Außenbezirken.",
        "body": "Der Entwurf sieht vor, Leistungen an weniger Standorten zu bündeln. Die "
        "Bezirksverbände Spandau und Marzahn-Hellersdorf fürchten längere Wege zur nächsten "
        "Notaufnahme. Auf der Basiskonferenz sprechen wir darüber im Block Gesundheit.",
        "source": "https://www.berlin.de/sen/gesundheit/",
        "link": ("conference", "basiskonferenz-koalitionsvertrag"),
    },
    {
        "title": "Digitalisierung der Bürgerämter: Termine online ohne Wartezeit",
        "days": 23,
        "time": time(14, 0),
        "institution": Decision.Institution.GOVERNMENT,
        "topics": ["digitalisierung"],
        "explanation": "Der Senat entscheidet über das Programm „Bürgeramt digital“: "
        "Ummeldung, Führungszeugnis und Anwohnerparken vollständig online.",
        "body": "Geplant ist, bis Ende 2027 die zwanzig häufigsten Dienstleistungen digital "
        "anzubieten. Offen ist, wie Menschen ohne Internetzugang weiter Termine bekommen – "
        "und ob die Bezirke dafür Personal erhalten.",
        "source": "https://service.berlin.de/",
        "link": None,
    },
    {
        "title": "Seniorenmitwirkungsgesetz: Position des Landesausschusses",
        "days": 37,
        "time": time(18, 30),
        "institution": Decision.Institution.PARTY,
        "topics": ["senioren"],
        "explanation": "Der Landesausschuss beschließt unsere Position zur Novelle: mehr Rechte "
        "für die bezirklichen Seniorenvertretungen, auch digital wählbar.",
        "body": "Der Antrag der AG 60 plus schlägt vor, die Seniorenvertretungen künftig auch "
        "online wählen zu lassen und ihnen ein Rederecht in den Ausschüssen der "
        "Bezirksverordnetenversammlungen zu geben.",
        "source": "",
        "link": ("thread", None),
    },
    {
        "title": "Novelle des Polizeigesetzes (ASOG)",
        "days": -12,
        "time": time(11, 0),
        "institution": Decision.Institution.PARLIAMENT,
        "topics": ["sicherheit", "digitalisierung"],
        "explanation": "Das Abgeordnetenhaus hat über neue Befugnisse der Polizei entschieden: "
        "Bodycams, Videoüberwachung an kriminalitätsbelasteten Orten, längerer Gewahrsam.",
        "body": "Umstritten waren vor allem der Präventivgewahrsam von bis zu fünf Tagen und "
        "die Auswertung von Videoaufnahmen mit Software.",
        "source": "https://www.parlament-berlin.de/",
        "link": None,
        "result": "Angenommen mit den Stimmen der Koalition. Die automatisierte Auswertung "
        "von Videoaufnahmen wurde auf unseren Druck **gestrichen**; der Gewahrsam bleibt bei "
        "höchstens zwei Tagen.",
        "result_url": "https://www.parlament-berlin.de/",
    },
]

#: Who follows what: role -> topic slugs.
FOLLOWS = {
    "member": ["mieten", "gesundheit-pflege"],
    "member2": ["sicherheit", "digitalisierung"],
    "moderator": ["senioren"],
}


def _people() -> dict[str, Member] | None:
    try:
        from deliberation.demo import DEMO_EMAILS
    except ImportError:
        return None
    found = {m.email: m for m in Member.objects.filter(email__in=DEMO_EMAILS.values())}
    people = {role: found.get(email) for role, email in DEMO_EMAILS.items()}
    if people.get("staff") is None:
        return None
    return people  # type: ignore[return-value]


def _target(link: tuple[str, str | None] | None) -> Any:
    """The demo's thread (by title; None: the members' forum's first thread) or conference (by
    short name), found through the app registry: a format imports no other format."""
    if link is None:
        return None
    kind, key = link
    if kind == "conference":
        if not apps.is_installed("consultations.conferences"):
            return None
        return apps.get_model("conferences", "Conference").objects.filter(slug=key).first()
    threads = apps.get_model("forums", "Thread").objects.select_related("forum")
    if key is None:
        return threads.filter(forum__slug="mitglieder").order_by("pk").first()
    return threads.filter(title=key).first()


def seed(*, stdout: Any) -> None:
    people = _people()
    if people is None:
        stdout.write("decisions: demo logins missing, no demo decisions seeded")
        return
    staff = people["staff"]
    topics = {slug: services.topic_ensure(name=name, slug=slug) for slug, name in TOPICS}
    for role, slugs in FOLLOWS.items():
        member = people.get(role)
        if member is not None:
            for slug in slugs:
                services.topic_follow(actor=member, topic=topics[slug], follow=True)
    if people.get("moderator") is not None:
        services.organiser_grant(actor=staff, member=people["moderator"])
    today = timezone.localdate()
    for entry in DECISIONS:
        decision = Decision.objects.filter(title=entry["title"]).first()
        if decision is None:
            decision = services.decision_create(
                actor=staff,
                title=entry["title"],
                explanation=entry["explanation"],
                body=entry["body"],
                date=today + timedelta(days=entry["days"]),
                time=entry["time"],
                institution=entry["institution"],
                topics=[topics[slug] for slug in entry["topics"]],
                source_url=entry["source"],
                discussion=_target(entry["link"]),
            )
        if entry.get("result") and not decision.is_decided:
            services.decision_decide(
                actor=staff,
                decision=decision,
                result=entry["result"],
                result_url=entry.get("result_url", ""),
            )
    stdout.write(
        f"decisions: {len(TOPICS)} topics, {Topic.objects.count()} in all; "
        f"{Decision.objects.count()} decisions (/entscheidungen/) ready"
    )
