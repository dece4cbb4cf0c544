"""ASGI entry point: HTTP through Django, websockets through Channels (in the documented shape)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")
# Set up Django (apps, models) before anything imports a consumer.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from deliberation.fastsend import RawWebsocketMiddleware  # noqa: E402
from deliberation.origins import SiteOriginValidator  # noqa: E402
from deliberation.routing import websocket_urlpatterns  # noqa: E402
from deliberation.socket_auth import AuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # RawWebsocketMiddleware only notes daphne's connection for the hub's fan-out fast path;
        # SiteOriginValidator admits pages of the site's own origins (settings.WEBSOCKET_ORIGINS).
        "websocket": RawWebsocketMiddleware(
            SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# What the start created (modules, settings, URL patterns, templates) lives as long as the
# process: freeze it out of the cyclic collector, and collect young objects less often. With
# 1,000 live sockets a full collection stalled fan-out for tens of milliseconds (measured in
# bench/, docs/PERFORMANCE.md); reference counting still frees almost everything at once.
gc.collect()
gc.freeze()
gc.set_threshold(20_000, 20, 20)
