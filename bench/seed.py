"""Set up a scratch database for the fan-out benchmark; prints what the load client needs as JSON.

Run with the server's environment (``DATABASE_URL``, ``DJANGO_VAR_DIR``): migrates, then creates
one open members' forum, ``--threads`` threads (a fresh thread per measurement), ``--members``
members with a session each, and ``--posters`` posting members with theirs (the consumer allows a
socket about ten frames a second, so fast rates are spread over several posting sockets).
Sessions are written with Django's ``SessionStore`` exactly as a login would write them.

    python bench/seed.py --members 1000 --threads 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--posters", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import transaction

    from deliberation.models import Member
    from forums.models import Forum, Thread

    call_command("migrate", verbosity=0, interactive=False)
    try:
        from forums import services
    except ImportError:
        services = None

    with transaction.atomic():
        Member.objects.bulk_create(
            Member(
                email=f"bench{i}@example.org",
                display_name=f"Bench {i}",
                password=make_password(None),
            )
            for i in range(args.members + args.posters)
        )
        members = list(Member.objects.filter(email__startswith="bench").order_by("pk"))
        posters, receivers = members[: args.posters], members[args.posters :]
        poster = posters[0]
        forum = Forum.objects.create(
            title="Benchmark",
            slug="benchmark",
            visibility=Forum.Visibility.MEMBERS,
            state=Forum.State.OPEN,
        )

    threads = []
    for i in range(args.threads):
        if services is not None and hasattr(services, "thread_create"):
            thread = services.thread_create(
                actor=poster, forum=forum, title=f"Fan-out {i}", body="Opening post."
            )
        else:  # the baselines need only a thread id and sessions
            thread = Thread.objects.create(forum=forum, title=f"Fan-out {i}", opened_by=poster)
        threads.append(thread.pk)

    def cookie(member: Member) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(member.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = member.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    with transaction.atomic():
        poster_cookies = [cookie(member) for member in posters]
        cookies = [cookie(member) for member in receivers]
    last_seq = {pk: Thread.objects.get(pk=pk).last_seq for pk in threads}
    json.dump(
        {
            "threads": threads,
            "last_seq": last_seq,
            "poster_cookies": poster_cookies,
            "cookies": cookies,
            "services": services is not None,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
