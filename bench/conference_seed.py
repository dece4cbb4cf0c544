"""Set up a scratch database for the conference suites; prints what the load client needs as JSON.

Run with the server's environment (``DATABASE_URL``, ``DJANGO_VAR_DIR``): migrates, then creates a
live conference with one agenda item marked current (by a staff chair), ``--members`` members
registered for it (remote), each with a session as a login writes it (the CSRF secret as a cookie
too), the chair's session, and a members' forum with one thread (the thread arrival's baseline).

    python bench/conference_seed.py --members 1000

With ``--queue <item pk>`` it seeds nothing and prints the item's queue as the database has it:
the snapshot ``queue.changed`` would carry now (``selectors.queue_snapshot`` without ``now``),
the conference's ``last_seq`` and every member's count of requests on the item.
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
    parser.add_argument("--queue", type=int, help="print this item's queue; seed nothing")
    args = parser.parse_args()

    import django

    django.setup()
    if args.queue:
        print_queue(args.queue)
        return
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from consultations.conferences import services as conference_services
    from consultations.conferences.models import Conference, Registration
    from deliberation.models import Member
    from forums import services as forum_services
    from forums.models import Forum

    call_command("migrate", verbosity=0, interactive=False)
    staff = Member.objects.create(
        email="bench-chair@example.org",
        display_name="Bench Chair",
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
        description="Eine Konferenz für den Benchmark.",
    )
    items = [
        conference_services.agenda_item_create(
            actor=staff, conference=conference, title=f"TOP {n}", description="Aussprache."
        )
        for n in (1, 2, 3)
    ]
    conference = conference_services.conference_set_phase(
        actor=staff, conference=conference, phase=Conference.Phase.LIVE
    )
    conference = conference_services.agenda_set_current(
        actor=staff, conference=conference, item=items[0]
    )
    with transaction.atomic():
        Member.objects.bulk_create(
            Member(
                email=f"arrival{i}@example.org",
                display_name=f"Arrival {i}",
                password=make_password(None),
            )
            for i in range(args.members)
        )
        members = list(Member.objects.filter(email__startswith="arrival").order_by("pk"))
        Registration.objects.bulk_create(
            Registration(conference=conference, member=member, attendance="remote")
            for member in members
        )
        forum = Forum.objects.create(
            title="Benchmark",
            slug="benchmark",
            visibility=Forum.Visibility.MEMBERS,
            state=Forum.State.OPEN,
        )
    thread = forum_services.thread_create(
        actor=staff, forum=forum, title="Ankunft", body="Der Thread der Ankunft."
    )

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
    conference.refresh_from_db()
    thread.refresh_from_db()
    json.dump(
        {
            "conference": conference.pk,
            "slug": conference.slug,
            "last_seq": conference.last_seq,
            "item": items[0].pk,
            "items": [i.pk for i in items],
            "members": [m.pk for m in members],
            "cookies": cookies,
            "chair": staff.pk,
            "chair_cookie": chair_cookie,
            "csrf": CSRF,
            "thread": thread.pk,
            "thread_last_seq": thread.last_seq,
        },
        sys.stdout,
    )


def print_queue(item_pk: int) -> None:
    from django.db.models import Count

    from consultations.conferences.models import AgendaItem
    from consultations.conferences.queue.models import SpeakRequest
    from consultations.conferences.queue.selectors import queue_snapshot

    item = AgendaItem.objects.select_related("conference").get(pk=item_pk)
    snapshot = queue_snapshot(item)
    snapshot.pop("now", None)
    rows = (
        SpeakRequest.objects.filter(item=item, member__isnull=False)
        .values("member_id")
        .annotate(n=Count("pk"))
    )
    json.dump(
        {
            "queue": snapshot,
            "last_seq": item.conference.last_seq,
            "requests": {str(r["member_id"]): r["n"] for r in rows},
            "states": dict(
                SpeakRequest.objects.filter(item=item)
                .values_list("state")
                .annotate(n=Count("pk"))
                .values_list("state", "n")
            ),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
