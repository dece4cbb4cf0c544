"""Log filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A refused request (4xx) is logged as one line; a server error (5xx) keeps its traceback.

    Django logs a 403 or 404 raised as ``PermissionDenied``/``Http404`` (and a 400 from
    ``SuspiciousOperation``) with the exception's traceback. Refusals are the normal answer to
    probing and stale links: one probe run left 1,308 tracebacks that buried the real errors.
    Records without a ``status_code`` (everything but Django's request logging) pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
