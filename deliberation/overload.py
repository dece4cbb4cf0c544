"""A busy database is not a broken server: 503 with ``Retry-After``, never 500.

Under a burst every HTTP request of a daphne process waits for one of the pool's connections
(``deliberation.env``: psycopg's pool, ``timeout`` seconds). When the wait runs out, psycopg_pool
raises ``PoolTimeout``, which Django wraps in its ``OperationalError`` (the pool's error is its
cause). Such a request changed nothing (it never had a connection), so the member may simply try
again: this handler, Django's ``handler500``, answers it with 503 and ``Retry-After`` (a page in
the platform's error style, or JSON for the pages' fetch requests) and everything else as the
ordinary 500 page. It runs for exceptions anywhere in the request, middleware included.
"""

from __future__ import annotations

import logging
import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from deliberation.fetch import wants_json

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 3


def pool_timed_out(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) is the connection pool's timeout."""
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite only: no pool
        return False
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, PoolTimeout):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def busy_response(request: HttpRequest) -> HttpResponse:
    """The answer to a request that found no free database connection in time."""
    message = _("Many people are taking part at this moment. Please try again in a few seconds.")
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {
                "ok": False,
                "code": "busy",
                "message": message,
                "retry_after": RETRY_AFTER,
                "html": "",
            },
            status=503,
        )
    else:
        # Rendered without the request and without the database, like the 500 page.
        body = loader.get_template("503.html").render({"retry_after": RETRY_AFTER})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: 503 for a pool timeout, Django's 500 page for everything else."""
    if pool_timed_out(sys.exc_info()[1]):
        logger.warning("no database connection in time for %s: answered 503", request.path)
        return busy_response(request)
    return defaults.server_error(request, template_name)
