"""Django settings of the daphne floor (``bench/baselines/daphne_floor.py``): only what channels
and one database connection need.

No installed apps, no middleware, no templates, no sessions, no auth. ``DATABASE_URL`` is read
with the platform's own parser (``deliberation.env.database_from_url``), so the floor's
PostgreSQL connections come from the same psycopg 3 pool, of the same size, as ours. A channel
layer is configured only for the ``floor-group`` variant (``FLOOR_GROUP=1`` and ``REDIS_URL``):
channels_redis with the platform's timeouts (``deliberation.layers``), where each socket joins a
group of its thread.
"""

import os

from deliberation.env import database_from_url

SECRET_KEY = "daphne-floor"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
USE_TZ = True
DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///:memory:"))}
if os.environ.get("FLOOR_GROUP") and os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "deliberation.layers.RedisChannelLayer",
            "CONFIG": {
                "hosts": [os.environ["REDIS_URL"]],
                "prefix": os.environ.get("CHANNELS_PREFIX", "floor-") + "floor",
            },
        }
    }
