"""Server time and SQL queries of the thread page, at several thread lengths.

Run by ``bench/run.py`` with a scratch ``DATABASE_URL``: migrates, writes threads of ``--posts``
posts through ``forums.services`` (every fifth post a reply, some agreements), then renders the
first and the last page of each with Django's test client in-process, as a signed-in member.
Queries are counted with ``CaptureQueriesContext``; time is the fastest of ``--repeat`` requests
(median reported too), taken round-robin over the pages after every page was visited once (so the
one-off "mark as read" write is not timed). Prints JSON.

With ``--serve`` it prints the queries and size of every page as one JSON line and then answers
timing commands on stdin (``bench/pagework.py``): the ``page-machina`` suite alternates them with
django-machina's worker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")

from bench.pagework import AUTHORS, answer, post_body, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--serve", action="store_true", help="answer timing commands on stdin")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="instead of timing, profile --repeat requests of the longest thread's first page "
        "with cProfile into FILE (read it with python -m pstats FILE)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deliberation.models import Member
    from forums import selectors, services
    from forums.models import Forum

    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor == "sqlite":
        # Seeding a scratch file only: no fsync per commit. Page requests only read.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")

    staff = Member.objects.create_user(
        email="page-staff@example.org", display_name="Page staff", is_staff=True
    )
    viewer = Member.objects.create_user(email="page-viewer@example.org", display_name="Leserin")
    authors = [
        Member.objects.create_user(email=f"page{i}@example.org", display_name=f"Autorin {i}")
        for i in range(AUTHORS)
    ]
    forum = services.forum_create(
        actor=staff,
        title="Seitenmessung",
        slug="seitenmessung",
        visibility=Forum.Visibility.MEMBERS,
    )
    threads = {}
    for count in args.posts:
        thread = services.thread_create(
            actor=authors[0], forum=forum, title=f"{count} Beiträge", body=post_body(0)
        )
        created = []
        for i in range(1, count):
            reply_to = created[i - 5].pk if i % 5 == 0 and i >= 5 else None
            post, _ = services.post_create(
                actor=authors[i % AUTHORS],
                thread=thread,
                body=post_body(i),
                client_id=f"page-{count}-{i}",
                reply_to_id=reply_to,
            )
            created.append(post)
        for post in created[::7]:
            services.reaction_toggle(actor=viewer, post=post)
        threads[count] = thread

    client = Client()
    client.force_login(viewer)
    per_page = selectors.POSTS_PER_PAGE

    def get_bytes(url: str) -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return response.content

    def get(url: str) -> str:
        return get_bytes(url).decode()

    pages = []
    for count, thread in threads.items():
        last = max(1, math.ceil(count / per_page))
        for label, number in (("first", 1), ("last", last)):
            if label == "last" and last == 1:
                continue
            url = thread.get_absolute_url() + (f"?page={number}" if number > 1 else "")
            shown = min(per_page, count - (number - 1) * per_page)
            pages.append((count, label, url, shown))
    for _count, _label, url, _shown in pages:  # warm up, and let the page mark the thread read
        get(url)
        get(url)

    captured = {}
    for _count, _label, url, _shown in pages:
        with CaptureQueriesContext(connection) as queries:
            html = get(url)
        # Read now: the next request's request_started signal clears the connection's log.
        captured[url] = (
            [q["sql"] for q in queries.captured_queries],
            html.count('id="post-'),
            len(html.encode()),
        )
    if args.profile:
        import cProfile

        url = max((p for p in pages if p[1] == "first"), key=lambda p: p[0])[2]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            get_bytes(url)
        profiler.disable()
        profiler.dump_stats(args.profile)
        return
    if args.serve:
        ready = [
            {
                "thread_posts": count,
                "page_label": label,
                "url": url,
                "posts_shown": shown,
                "post_ids_in_html": captured[url][1],
                "queries": len(captured[url][0]),
                "bytes": captured[url][2],
                "sql": [q[:300] for q in captured[url][0]],
            }
            for count, label, url, shown in pages
        ]
        answer({"ready": True, "per_page": per_page, "pages": ready})
        serve(get_bytes)
        return
    # Round-robin over the pages, so that drift in the machine's load hits every page alike.
    times: dict[str, list[float]] = {url: [] for _c, _l, url, _s in pages}
    for _ in range(args.repeat):
        for _count, _label, url, _shown in pages:
            started = time.perf_counter()
            get(url)
            times[url].append((time.perf_counter() - started) * 1000)
    rows = []
    for count, label, url, shown in pages:
        sql, rendered, _size = captured[url]
        # The minimum is the cost of the page itself; the median adds what else ran on the core
        # (these machines are shared). Ratios use the minimum; both are reported.
        ms = min(times[url])
        median = statistics.median(times[url])
        rows.append(
            {
                "thread_posts": count,
                "page_label": label,
                "url": url,
                "posts_shown": shown,
                "post_ids_in_html": rendered,
                "queries": len(sql),
                "ms_per_request": round(ms, 2),
                "ms_per_post": round(ms / shown, 4),
                "ms_median": round(median, 2),
                "ms_per_post_median": round(median / shown, 4),
                "sql": [q[:300] for q in sql],
            }
        )

    summary = []
    by = {(r["thread_posts"], r["page_label"]): r for r in rows}
    max_queries = max(r["queries"] for r in rows)
    growth = len({r["queries"] for r in rows if r["page_label"] == "first"}) > 1
    summary.append(
        f"queries per page: {min(r['queries'] for r in rows)}..{max_queries} "
        f"(target <= 12 and not growing with posts: "
        f"{'met' if max_queries <= 12 and not growth else 'MISSED'})"
    )
    if 100 in threads and 1000 in threads:
        for label in ("first", "last"):
            small, large = by.get((100, label)), by.get((1000, label))
            if small and large:
                ratio = large["ms_per_post"] / small["ms_per_post"]
                summary.append(
                    f"time per post, {label} page, 1,000 vs 100 posts: "
                    f"{large['ms_per_post']:.3f} / {small['ms_per_post']:.3f} ms = {ratio:.2f}x "
                    f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'MISSED'})"
                )
    json.dump({"rows": rows, "summary": summary, "per_page": per_page}, sys.stdout)


if __name__ == "__main__":
    main()
