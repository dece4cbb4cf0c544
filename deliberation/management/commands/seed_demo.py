"""``manage.py seed_demo``: demo logins for every role, then each app's demo content.

Idempotent: a second run creates nothing new, puts the demo logins back into their roles and
prints them again. Refuses to run in production, where a known password would be an open door.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from deliberation import services
from deliberation.demo import DEMO_PASSWORD, DEMO_PEOPLE, DemoPerson
from deliberation.demo_pages import seed_site_pages
from deliberation.models import District, Member

#: Apps whose ``<app>.demo.seed(*, stdout)`` runs after the members exist, in this order.
#: The base conference comes first: its many threads (agenda, coalition tracker) are then older
#: than the forums' demo threads, which stay the demo member's newest on her dashboard.
DEMO_APPS = (
    "consultations.conferences",
    "forums",
    "moderation",
    "consultations",
    "consultations.decisions",
    "consultations.advisory",
)


class Command(BaseCommand):
    help = f"Create demo logins for every role (password: {DEMO_PASSWORD}) and demo content."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production (DJANGO_PRODUCTION=1).")
        with transaction.atomic():
            rows = [(role, *_ensure(person)) for role, person in DEMO_PEOPLE.items()]
            seed_site_pages(stdout=self.stdout)
        for label in DEMO_APPS:
            self._seed_app(label)
        self._print_logins(rows)

    def _seed_app(self, label: str) -> None:
        # Found at run time: the core never imports an app (dependencies point one way).
        if not apps.is_installed(label) or importlib.util.find_spec(f"{label}.demo") is None:
            return
        module = importlib.import_module(f"{label}.demo")
        self.stdout.write(f"{label}: demo content …")
        module.seed(stdout=self.stdout)

    def _print_logins(self, rows: list[tuple[str, Member, bool]]) -> None:
        width = max(len(member.email) for _role, member, _created in rows)
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"Demo logins (password for all: {DEMO_PASSWORD})")
        )
        for role, member, created in rows:
            state = "created" if created else "exists"
            # The interface language of the login, so a tester knows which one shows English.
            language = "English" if member.language == "en" else "German"
            self.stdout.write(
                f"  {role:<10} {member.email:<{width}}  {member.display_name} ({state}),"
                f" interface in {language}"
            )
        self.stdout.write(f"  log in at {settings.SITE_URL}/anmelden/")


def _ensure(person: DemoPerson) -> tuple[Member, bool]:
    """The demo member for ``person``, created if missing and put back into its role."""
    district = District.objects.filter(slug=person.district_slug).first()
    member = Member.objects.filter(email__iexact=person.email).first()
    created = member is None
    if member is None:
        member = services.member_create(
            email=person.email,
            display_name=person.display_name,
            full_name=person.full_name,
            district=district,
            language=person.language,
            kind=person.kind,
            affiliation=person.affiliation,
            invite=False,
        )
    else:
        services.member_update(
            member=member, changes={"kind": person.kind, "affiliation": person.affiliation}
        )
    if not member.check_password(DEMO_PASSWORD):
        services.member_set_password(member=member, password=DEMO_PASSWORD)
    if person.committee != member.is_committee:
        services.member_set_committee(member=member, on=person.committee)
    if person.staff != member.is_staff or person.staff != member.is_superuser:
        services.member_set_staff(member=member, on=person.staff)
    return member, created
