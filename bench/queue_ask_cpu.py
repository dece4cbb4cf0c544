"""CPU per ask-to-speak, in-process: N registered members ask one after another on the current
item of a live conference (a fresh SQLite test database; CPU by ``time.process_time``).

Run from a checkout's root, so the same script measures two versions in one run::

    (cd /work/main && .venv/bin/python /path/to/bench/queue_ask_cpu.py 200)
    .venv/bin/python bench/queue_ask_cpu.py 200

Prints the mean CPU per ask, the means of the first and the last 10, and the queries per ask.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402


def main(count: int) -> None:
    from consultations.conferences import services
    from consultations.conferences.models import Conference, ConferenceRole, Registration
    from consultations.conferences.queue import services as queue
    from tests import factories

    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    now = timezone.now()
    conference = services.conference_create(
        actor=sam,
        title="Bench",
        slug="bench",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=6),
        written_opens_at=now - timedelta(days=1),
        written_closes_at=now + timedelta(days=30),
        venue_name="Rathaus",
        step_free=True,
    )
    chair = factories.make_member(email="carla@example.org", display_name="Carla")
    services.conference_role_grant(
        actor=sam, conference=conference, member=chair, role=ConferenceRole.Role.CHAIR
    )
    item = services.agenda_item_create(actor=sam, conference=conference, title="Mieten")
    Conference.objects.filter(pk=conference.pk).update(phase=Conference.Phase.LIVE)
    conference.refresh_from_db()
    services.agenda_set_current(actor=chair, conference=conference, item=item)
    conference.refresh_from_db()
    members = [
        factories.make_member(email=f"m{i}@example.org", display_name=f"M{i}") for i in range(count)
    ]
    for member in members:
        Registration.objects.create(conference=conference, member=member, attendance="remote")
    seconds: list[float] = []
    queries: list[int] = []
    for i, member in enumerate(members):
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            queue.speak_request_create(
                actor=member,
                conference=conference,
                item=item,
                kind="contribution",
                sublist="default-0" if i % 2 else "default-1",
            )
            seconds.append(time.process_time() - started)
        queries.append(len(captured.captured_queries))

    def ms(values: list[float]) -> str:
        return f"{1000 * sum(values) / len(values):.1f} ms"

    print(
        f"{os.getcwd()}: {count} asks, mean CPU {ms(seconds)}; first 10 {ms(seconds[:10])}, "
        f"last 10 {ms(seconds[-10:])}; queries first {queries[0]}, then {queries[1]}, "
        f"last {queries[-1]}; total {sum(seconds):.2f} s"
    )


if __name__ == "__main__":
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
