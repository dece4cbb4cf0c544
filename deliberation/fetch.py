"""Whether a request comes from one of the pages' scripts and wants a JSON answer.

The scripts send forms in place with ``Mitmachen.postForm`` (site.js), which says so both ways:
``X-Requested-With: fetch`` and ``Accept: application/json``. Either one is enough, so every
view and the busy answer (:mod:`deliberation.overload`) ask this one function.
"""

from __future__ import annotations

from django.http import HttpRequest


def wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or "application/json" in (
        request.headers.get("Accept", "")
    )
