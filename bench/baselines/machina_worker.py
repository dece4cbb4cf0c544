"""django-machina's topic page, the baseline of our thread page (the ``page-machina`` suite).

Runs in the benchmark's own virtual environment (``bench/page_machina.py`` builds it; machina is
never a dependency of the platform). Migrates a scratch SQLite database, writes one topic per
``--posts`` with the same authors and Markdown bodies as ``bench/thread_page.py``, signs a member
in with Django's test client, visits every page twice (machina marks topics read on the first
visit), then prints the queries and size of each page as one JSON line and answers timing
commands on stdin (``bench/pagework.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # machina_site
sys.path.insert(0, str(HERE.parent))  # pagework
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "machina_site.settings")

from pagework import AUTHORS, answer, post_body, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from machina.core.db.models import get_model

    forum_model = get_model("forum", "Forum")
    topic_model = get_model("forum_conversation", "Topic")
    post_model = get_model("forum_conversation", "Post")
    permission_model = get_model("forum_permission", "ForumPermission")
    grant_model = get_model("forum_permission", "UserForumPermission")
    user_model = get_user_model()

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")  # a scratch file; page requests only read

    viewer = user_model.objects.create_user(username="leserin", email="page-viewer@example.org")
    authors = [
        user_model.objects.create_user(username=f"autorin{i}", email=f"page{i}@example.org")
        for i in range(AUTHORS)
    ]
    forum = forum_model.objects.create(name="Seitenmessung", type=forum_model.FORUM_POST)
    # Every signed-in member may do what a member does (machina's default grants are empty).
    for permission in permission_model.objects.all():
        grant_model.objects.create(
            permission=permission, authenticated_user=True, has_perm=True, forum=None
        )
    topics = {}
    for count in args.posts:
        with transaction.atomic():
            topic = topic_model.objects.create(
                forum=forum,
                poster=authors[0],
                subject=f"{count} Beiträge",
                type=topic_model.TOPIC_POST,
                status=topic_model.TOPIC_UNLOCKED,
            )
            for i in range(count):
                post_model.objects.create(
                    topic=topic,
                    poster=authors[i % AUTHORS],
                    subject=f"{count} Beiträge" if i == 0 else f"Re: {count} Beiträge",
                    content=post_body(i),
                )
        topics[count] = topic_model.objects.get(pk=topic.pk)

    client = Client()
    client.force_login(viewer)
    per_page = settings.MACHINA_TOPIC_POSTS_NUMBER_PER_PAGE

    def get(url: str) -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return response.content

    pages = []
    for count, topic in topics.items():
        last = max(1, math.ceil(count / per_page))
        for label, number in (("first", 1), ("last", last)):
            if label == "last" and last == 1:
                continue
            url = reverse(
                "forum_conversation:topic",
                kwargs={
                    "forum_slug": forum.slug,
                    "forum_pk": forum.pk,
                    "slug": topic.slug,
                    "pk": topic.pk,
                },
            ) + (f"?page={number}" if number > 1 else "")
            shown = min(per_page, count - (number - 1) * per_page)
            pages.append((count, label, url, shown))
    for _count, _label, url, _shown in pages:
        get(url)
        get(url)
    ready = []
    for count, label, url, shown in pages:
        with CaptureQueriesContext(connection) as queries:
            html = get(url)
        sql = [q["sql"][:300] for q in queries.captured_queries]
        ready.append(
            {
                "thread_posts": count,
                "page_label": label,
                "url": url,
                "posts_shown": shown,
                "post_ids_in_html": html.count(b'class="my-3 card post"'),
                "queries": len(sql),
                "bytes": len(html),
                "sql": sql,
            }
        )
    answer({"ready": True, "per_page": per_page, "pages": ready})
    serve(get)


if __name__ == "__main__":
    main()
