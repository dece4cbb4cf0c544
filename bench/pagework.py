"""What the two thread-page workers share: the post body and the line protocol.

Imported by ``bench/thread_page.py`` (our platform, in the project's virtual environment) and by
``bench/baselines/machina_worker.py`` (django-machina, in a virtual environment of its own), so it
must not import Django or anything else beyond the standard library.

A worker seeds its threads, prints one JSON line ``{"ready": ...}`` and then answers one JSON line
per command read from stdin:

- ``{"cmd": "measure", "url": "...", "repeat": n}``: requests ``url`` ``n`` times and answers
  ``{"times_ms": [...], "bytes": <size of the last response>}``;
- ``{"cmd": "quit"}`` (or the end of stdin): ends the worker.

The orchestrator (``bench/page_machina.py``) alternates its commands between the workers, so only
one of them runs at a time and both see the same machine.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

#: Each post's Markdown: bold, a link, a list; the same in both forums.
PARAGRAPH = (
    "Die **Mietpreisbremse** wirkt nur, wenn sie kontrolliert wird. Wir schlagen vor, "
    "[die Bezirksämter](https://example.org/mieten) personell zu stärken:\n\n"
    "- mehr Prüfstellen\n- eine Meldestelle für Mieterinnen und Mieter\n"
)
AUTHORS = 20


def post_body(i: int) -> str:
    """The body of the thread's ``i``-th post (0 opens the thread)."""
    return PARAGRAPH if i == 0 else f"Beitrag {i}. {PARAGRAPH}"


def answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve(get: Callable[[str], bytes]) -> None:
    """Answer commands from stdin until ``quit``; ``get(url)`` returns the response body."""
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        if command.get("cmd") == "quit":
            return
        if command.get("cmd") != "measure":
            answer({"error": f"unknown command {command.get('cmd')!r}"})
            continue
        times = []
        body = b""
        for _ in range(int(command["repeat"])):
            started = time.perf_counter()
            body = get(command["url"])
            times.append((time.perf_counter() - started) * 1000)
        answer({"times_ms": times, "bytes": len(body)})
