"""Which pages may open a websocket here: the site's own origins (settings ``WEBSOCKET_ORIGINS``).

Browsers send a member's cookies with a websocket handshake to any site, so the handshake's
``Origin`` is what stops a foreign page from reading live events as that member. An origin is
scheme, host and port: in production only the site's own count, derived from what the site is
already configured with (:func:`deliberation.env.site_origins`). In development (not
``DJANGO_PRODUCTION``) the allowed hosts are listed without scheme and port, so ``make run``, the
tests and the browser tests may serve 127.0.0.1 on any port: a convenience production lacks.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class SiteOriginValidator(OriginValidator):
    """channels' origin check against ``settings.WEBSOCKET_ORIGINS``, read per handshake.

    A pattern with a scheme must match scheme, host and port; one without (development only)
    matches the host on any scheme and port. A missing or unparsable Origin is refused.
    """

    def __init__(self, application: Any) -> None:
        # No list of its own (so a missing Origin is refused): the setting is the only source.
        super().__init__(application, [])

    def validate_origin(self, parsed_origin: Any) -> bool:
        return any(
            self.match_allowed_origin(parsed_origin, pattern)
            for pattern in settings.WEBSOCKET_ORIGINS
        )
