"""The demo logins ``manage.py seed_demo`` creates, for other apps' demo hooks to look up.

Each app may ship ``<app>/demo.py`` with ``seed(*, stdout)``; ``seed_demo`` calls it after the
members below exist (forums first, then moderation and consultations). A hook finds its people
with :func:`demo_member`, e.g. ``demo_member(MODERATOR)`` to grant moderation of a demo forum:
the moderator and the guest have no rights until a hook grants them.

Never for production: ``seed_demo`` refuses to run there, since everyone knows this password.
"""

from __future__ import annotations

from dataclasses import dataclass

from deliberation.models import Member

DEMO_PASSWORD = "mitmachen-demo"

MEMBER = "member"
MEMBER_2 = "member2"
GUEST = "guest"
MODERATOR = "moderator"
COMMITTEE = "committee"
STAFF = "staff"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    display_name: str
    full_name: str
    district_slug: str | None
    language: str = "de"
    kind: str = Member.Kind.MEMBER
    affiliation: str = ""
    committee: bool = False
    staff: bool = False


DEMO_PEOPLE: dict[str, DemoPerson] = {
    MEMBER: DemoPerson("anna@demo.example.org", "Anna", "Anna Schulz", "neukolln"),
    MEMBER_2: DemoPerson(
        "ben@demo.example.org", "Ben", "Ben Yılmaz", "friedrichshain-kreuzberg", language="en"
    ),
    GUEST: DemoPerson(
        "gina@demo.example.org",
        "Gina (Mieteninitiative)",
        "Gina Weber",
        None,
        kind=Member.Kind.GUEST,
        affiliation=Member.Affiliation.INITIATIVE,
    ),
    MODERATOR: DemoPerson("mo@demo.example.org", "Mo", "Mo Hassan", "mitte"),
    COMMITTEE: DemoPerson("kim@demo.example.org", "Kim", "Kim Nguyen", "pankow", committee=True),
    STAFF: DemoPerson("admin@demo.example.org", "Admin", "Sam Admin", None, staff=True),
}

#: role -> e-mail address of its demo login
DEMO_EMAILS: dict[str, str] = {role: person.email for role, person in DEMO_PEOPLE.items()}


def demo_member(role: str) -> Member:
    """The demo member of ``role`` (one of the constants above); call after ``seed_demo``."""
    return Member.objects.get(email=DEMO_EMAILS[role])
