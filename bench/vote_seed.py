"""Set up a scratch database for the vote burst; prints what the load client needs as JSON.

Run with the server's environment (``DATABASE_URL``, ``DJANGO_VAR_DIR``): migrates, then creates a
conference with one agenda item, ``--members`` members registered for it, each with a session (as
a login writes it), and two open secret yes/no/abstain polls (one per item: one for the votes
over the socket, one for the votes over HTTP) opened by a staff chair, who gets a session too.

    python bench/vote_seed.py --members 1000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")

#: Sent as the csrftoken cookie and the X-CSRFToken header (Django accepts the unmasked secret).
CSRF = "benchcsrfbenchcsrfbenchcsrfbench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from consultations.conferences import services as conference_services
    from consultations.conferences.models import Registration
    from consultations.conferences.polls import services
    from deliberation.models import Member

    call_command("migrate", verbosity=0, interactive=False)
    staff = Member.objects.create(
        email="bench-staff@example.org",
        display_name="Bench Staff",
        password=make_password(None),
        is_staff=True,
    )
    now = timezone.now()
    conference = conference_services.conference_create(
        actor=staff,
        title="Bench-Konferenz",
        slug="bench-konferenz",
        starts_at=now,
        ends_at=now + timedelta(hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=1),
    )
    item = conference_services.agenda_item_create(
        actor=staff, conference=conference, title="Abstimmung"
    )
    with transaction.atomic():
        Member.objects.bulk_create(
            Member(
                email=f"voter{i}@example.org",
                display_name=f"Voter {i}",
                password=make_password(None),
            )
            for i in range(args.members)
        )
        members = list(Member.objects.filter(email__startswith="voter").order_by("pk"))
        Registration.objects.bulk_create(
            Registration(conference=conference, member=member, attendance="remote")
            for member in members
        )
    poll = services.poll_open(
        actor=staff,
        conference=conference,
        item=item,
        question="Bench?",
        kind="yes_no",
        secret=True,
    )
    # A second poll on a second item for the HTTP row: every member votes once in each.
    http_item = conference_services.agenda_item_create(
        actor=staff, conference=conference, title="Abstimmung per Formular"
    )
    http_poll = services.poll_open(
        actor=staff,
        conference=conference,
        item=http_item,
        question="Bench per Formular?",
        kind="yes_no",
        secret=True,
    )
    conference.refresh_from_db(fields=["last_seq"])

    def cookie(member: Member) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(member.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = member.get_session_auth_hash()
        session.create()
        return (
            f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={CSRF}"
        )

    with transaction.atomic():
        cookies = [cookie(member) for member in members]
        chair_cookie = cookie(staff)
    json.dump(
        {
            "conference": conference.pk,
            "slug": conference.slug,
            "poll": poll.pk,
            "options": list(poll.options.order_by("position").values_list("pk", flat=True)),
            "http_poll": http_poll.pk,
            "http_options": list(
                http_poll.options.order_by("position").values_list("pk", flat=True)
            ),
            "seq": conference.last_seq,
            "chair_cookie": chair_cookie,
            "members": [m.pk for m in members],
            "cookies": cookies,
            "csrf": CSRF,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
