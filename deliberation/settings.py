"""Settings for Mitmachen: one module, driven by the environment.

Development needs nothing set (SQLite file, in-memory channel layer, console mail). Production is
switched on with ``DJANGO_PRODUCTION=1`` and then refuses to start without ``DJANGO_SECRET_KEY`` and
``DJANGO_ALLOWED_HOSTS``. ``docs/DEPLOY.md`` lists every variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from deliberation.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    origin_of,
    redis_url,
    site_origins,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DJANGO_VAR_DIR", str(BASE_DIR / "var")))

PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must not be on when DJANGO_PRODUCTION is on.")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: production refuses to start without a secret key."
        )
    SECRET_KEY = "dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
elif PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set: production refuses to start without allowed hosts."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Pages that may open a websocket (deliberation.origins): in production the site's own origins,
# scheme, host and port; in development the allowed hosts on any scheme and port (make run, the
# tests and the browser tests use changing ports).
WEBSOCKET_ORIGINS = (
    site_origins(
        site_url=SITE_URL, csrf_trusted_origins=CSRF_TRUSTED_ORIGINS, allowed_hosts=ALLOWED_HOSTS
    )
    if PRODUCTION
    else [origin_of(SITE_URL, name="SITE_URL"), *ALLOWED_HOSTS]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "guardian",
    "markdownx",
    "csp",
    "axes",
    "django_ratelimit",
    "deliberation",
    "forums",
    "consultations",
    "consultations.conferences",
    "consultations.decisions",
    "consultations.advisory",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "deliberation.middleware.MemberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "deliberation.urls"
ASGI_APPLICATION = "deliberation.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- data ---------------------------------------------------------------------------------------
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mitmachen.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so that browser tests can point a daphne process at the test database.
    # Named per process so that parallel test runs on one machine do not share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-mitmachen-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()
#: Live groups on Redis (deliberation.hub): how long a membership lasts, and how often each hub
#: renews its own. A dead process's channel is gone from its groups after the first.
LIVE_GROUP_EXPIRY_SECONDS = env_int("LIVE_GROUP_EXPIRY_SECONDS", 120, minimum=10)
LIVE_GROUP_RENEW_SECONDS = env_int("LIVE_GROUP_RENEW_SECONDS", 40, minimum=2)
if LIVE_GROUP_RENEW_SECONDS * 2 >= LIVE_GROUP_EXPIRY_SECONDS:
    raise ImproperlyConfigured(
        "LIVE_GROUP_RENEW_SECONDS must be less than half of LIVE_GROUP_EXPIRY_SECONDS"
    )
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis with timeouts above its blocking read and a sized, blocking pool.
            "BACKEND": "deliberation.layers.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # One hub channel per process receives every event of that process's threads.
                "capacity": 5000,
                "expiry": 30,
                # Groups hold hubs (one channel per process), never sockets: each hub renews its
                # memberships every LIVE_GROUP_RENEW_SECONDS, so the channel of a process that
                # died drops out of its groups after this many seconds.
                "group_expiry": LIVE_GROUP_EXPIRY_SECONDS,
                "prefix": env_str("CHANNELS_PREFIX", "mitmachen"),
                # Redis connections per process (hub, broadcasts, presence); waits when all busy.
                "max_connections": env_int("REDIS_MAX_CONNECTIONS", 64, minimum=4),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNELS_PREFIX", "mitmachen"),
            # The cache holds only rate-limit counters: an outage must cost a request one short
            # wait, after which the rate limits fail open, never an error.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 5000, "expiry": 30},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-ratelimit's checks know only memcached and django-redis. Django's own RedisCache counts
# with Redis' atomic INCR; without REDIS_URL there is one process, and every request shares its
# local memory cache.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + (
    [] if REDIS_URL else ["django_ratelimit.E003"]
)

# --- members ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "deliberation.Member"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would need an e-mail address and a display name; nobody anonymous
# ever holds an object permission here (public forums are a forum state, not a grant).
ANONYMOUS_USER_NAME = None
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 86400, minimum=600)
# An invited guest's confirmation link (seconds), and how many sign-ups through invitation links
# one IP address may try per hour, and how many mails one address may be sent by them per hour.
# The test suite only (tests/conftest.py sets it; the daphne servers the tests start inherit it):
# a fast hasher, since every test creates accounts and PBKDF2 costs about 0.4 s of CPU each.
# Never in production; hashes of the default hashers below still verify.
if env_bool("MITMACHEN_FAST_TEST_PASSWORDS", False) and not PRODUCTION:
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
GUEST_CONFIRM_TIMEOUT = env_int("GUEST_CONFIRM_TIMEOUT", 3 * 86400, minimum=600)
GUEST_SIGNUP_LIMIT_IP = env_int("GUEST_SIGNUP_LIMIT_IP", 20, minimum=1)
GUEST_SIGNUP_LIMIT_ADDRESS = env_int("GUEST_SIGNUP_LIMIT_ADDRESS", 3, minimum=1)
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one address from one
# IP, that pair is locked for LOGIN_LOCKOUT_MINUTES (each further try restarts the wait). Not the IP
# alone: members at a conference share the hall's address. Not the address alone: a stranger could
# lock a member out. A successful login clears the count; staff see attempts in the admin.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "deliberation.login_guard.lockout_response"
AXES_USERNAME_CALLABLE = "deliberation.login_guard.username_of"
# Both count by the address nginx saw, never by a header the client wrote (deliberation.client_ip).
AXES_CLIENT_IP_CALLABLE = "deliberation.client_ip.client_ip"
RATELIMIT_IP_META_KEY = "deliberation.client_ip.client_ip"
AXES_VERBOSE = False
# Failures only: successful logins are not logged with address and browser (data minimisation).
AXES_DISABLE_ACCESS_LOG = True
# Password reset mails (django-ratelimit, on the shared cache): per address asked for, and per
# IP address. Over the first, the page answers as usual and sends nothing.
PASSWORD_RESET_RATE_ADDRESS = env_str("PASSWORD_RESET_RATE_ADDRESS", "3/h")
PASSWORD_RESET_RATE_IP = env_str("PASSWORD_RESET_RATE_IP", "20/h")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- language -----------------------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- files --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # In development whitenoise serves from the finders; an absent STATIC_ROOT would only make
    # it warn on every request until the first collectstatic.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# Markdown: the editor's preview goes through the same renderer as stored posts.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "deliberation.markup.render_markdown"
MARKDOWNX_MEDIA_PATH = "uploads/%Y/%m/"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
# Uploaded images (forums.images): pixels decoded per upload, summed over an animation's frames;
# frames of an animation; longer side of what is stored (and, for an animation, its pixels
# over all frames); images decoded at once per process and
# how many more may wait (beyond that the upload is refused with "try again").
IMAGE_UPLOAD_MAX_PIXELS = env_int("IMAGE_UPLOAD_MAX_PIXELS", 40_000_000, minimum=1_000_000)
IMAGE_UPLOAD_MAX_FRAMES = env_int("IMAGE_UPLOAD_MAX_FRAMES", 200, minimum=1)
IMAGE_UPLOAD_MAX_EDGE = env_int("IMAGE_UPLOAD_MAX_EDGE", 2000, minimum=100)
IMAGE_UPLOAD_MAX_ANIMATION_PIXELS = env_int(
    "IMAGE_UPLOAD_MAX_ANIMATION_PIXELS", 8_000_000, minimum=100_000
)  # stored pixels of an animation, all frames together (they are held in memory while encoding)
IMAGE_UPLOAD_WORKERS = env_int("IMAGE_UPLOAD_WORKERS", 2, minimum=1)
IMAGE_UPLOAD_QUEUE = env_int("IMAGE_UPLOAD_QUEUE", 8, minimum=0)
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (IMAGE_UPLOAD_MAX_EDGE,) * 2, "quality": 85}

# --- mail ---------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is not set: production needs SMTP for password links.")
elif EMAIL_FILE_PATH := env_str("EMAIL_FILE_PATH"):
    # Development and the browser tests: each mail a file in this folder, to open its links.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mitmachen <mitmachen@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# A refused form (expired session, missing token) gets our own 403 page, in the member's language.
CSRF_FAILURE_VIEW = "deliberation.views.csrf_failure"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # On the handler, not a logger: Django logs refusals on django.request and on children of
    # django.security, and a logger's filter does not see its children's records.
    "filters": {"refusals": {"()": "deliberation.logfilters.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # django-axes logs every login at INFO; lockouts come at WARNING.
        "axes": {"level": "WARNING"},
    },
}

# --- product rules ------------------------------------------------------------------------------
POST_MAX_LENGTH = 10_000
POST_EDIT_WINDOW_SECONDS = 15 * 60
POST_RATE_LIMIT = env_int("POST_RATE_LIMIT", 10, minimum=1)  # posts per member ...
POST_RATE_WINDOW_SECONDS = env_int("POST_RATE_WINDOW_SECONDS", 60, minimum=1)  # ... per window
# Edits and editor previews are limited the same way (deliberation.ratelimit), in the same window.
POST_EDIT_RATE_LIMIT = env_int("POST_EDIT_RATE_LIMIT", 10, minimum=1)
# The markdownx editor asks for a preview at most every 500 ms while someone types.
PREVIEW_RATE_LIMIT = env_int("PREVIEW_RATE_LIMIT", 60, minimum=1)
WS_MAX_FRAME_BYTES = 64 * 1024
#: Threads per process for the live sockets' reads (connects, pings, resyncs, access re-checks);
#: writes keep channels' one database thread (deliberation.livework).
LIVE_READ_THREADS = env_int("LIVE_READ_THREADS", 4, minimum=1)
#: Seconds between a live client's pings; each pong carries the stream's head (docs/PROTOCOL.md).
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 25, minimum=1)
#: A process sheds a connect (close 4503 with a retry hint) when it could not serve it within
#: this many milliseconds (deliberation.livework.ConnectGate); daphne drops handshakes after 5 s.
LIVE_CONNECT_MAX_WAIT = env_int("LIVE_CONNECT_MAX_WAIT_MS", 2000, minimum=0) / 1000
MIN_GROUP_SIZE_FOR_FIGURES = 5
