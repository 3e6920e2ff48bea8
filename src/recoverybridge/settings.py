"""One settings file, read from the environment (see docs/operations.md)."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    # Only for local development: a key that is useless anywhere else.
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
# Seals the audit trail's tamper-evident chain (audit.chain). Keep it apart from the database
# (and its backups): whoever holds both could reseal a rewritten trail. Changing it breaks the
# chain from then on, so set it once. Defaults to SECRET_KEY.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "") or SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # Django's admin, refusing a signed-in user without staff status with our 403 page.
    "recoverybridge.accounts.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Listed so the API docs page serves its bundled Swagger UI files, not a CDN's.
    "ninja",
    "recoverybridge.organisations",
    "recoverybridge.messaging",
    "recoverybridge.directory",
    "recoverybridge.care",
    "recoverybridge.outcomes",
    "recoverybridge.volunteers",
    "recoverybridge.rights",
    "recoverybridge.evaluation",
    "recoverybridge.workspace",
    "recoverybridge.demo",
    "recoverybridge.operations",
    "recoverybridge.accounts",
    "recoverybridge.limits",
    "recoverybridge.audit",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "recoverybridge.audit.middleware.AuditContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "recoverybridge.accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "recoverybridge.workspace.middleware.RefusedLookupMiddleware",
    # ETag, Last-Modified and 304s for the finder's public answers (directory/caching.py).
    "recoverybridge.directory.caching.PublicCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "recoverybridge.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "recoverybridge.wsgi.application"

# SQLite is the embedded default; PostgreSQL is production (DATABASE_URL=postgres://...).
DEFAULT_SQLITE = PROJECT_DIR / "var" / "recoverybridge.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run during an import; the busy timeout makes writers wait
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id first; older hashes still verify and are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes checks every sign-in first, so a locked-out user cannot even try the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_RESET_ON_SUCCESS = True
# Lock the username from that address: a stranger cannot lock staff out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_VERBOSE = False
# Our page (titled, translated, with a way back), answered with axes' status (429).
AXES_LOCKOUT_CALLABLE = "recoverybridge.accounts.views.locked_out"
# Staff sessions end after a working day, and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = "RecoveryBridge"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
# Our own CSS/JS and the vendored libraries (htmx, Leaflet): no CDN at run time.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Security headers; cookies are HTTPS-only outside development. Redirecting to HTTPS and HSTS
# stay off unless set (docs/operations.md gives the production values, with which
# `manage.py check --deploy` is clean): HSTS cannot be taken back from browsers that saw it.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: the request header that says the client used HTTPS (e.g.
# HTTP_X_FORWARDED_PROTO, sent as "https"), so the redirect does not loop. Set it only when the
# proxy always sets that header itself (clients could send it otherwise).
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None

# Directory settings.
# How long browsers and shared caches may keep a public answer of the finder (pages, search
# API, feeds) before asking again; answers that count from "now" change with each such period.
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "60"))
# Imports refuse a feed when more than this share of its records cannot be used.
FEED_MAX_REJECTED_SHARE = float(os.environ.get("FEED_MAX_REJECTED_SHARE", "0.5"))
# Two sources' records within this distance (same fellowship, day, start) are one meeting.
DEDUPLICATE_WITHIN_METRES = float(os.environ.get("DEDUPLICATE_WITHIN_METRES", "100"))
# Fetching a feed by URL: how long to wait and how much to read at most.
FEED_FETCH_TIMEOUT_SECONDS = float(os.environ.get("FEED_FETCH_TIMEOUT_SECONDS", "30"))
FEED_MAX_BYTES = int(os.environ.get("FEED_MAX_BYTES", str(64 * 1024 * 1024)))
# A fetched feed is held for an editor, not imported, when it would drop more than this share of
# its source's meetings or change more than that share at once (and at least FEED_HOLD_MIN_MEETINGS).
FEED_HOLD_DROPPED_SHARE = float(os.environ.get("FEED_HOLD_DROPPED_SHARE", "0.3"))
FEED_HOLD_CHANGED_SHARE = float(os.environ.get("FEED_HOLD_CHANGED_SHARE", "0.5"))
FEED_HOLD_MIN_MEETINGS = int(os.environ.get("FEED_HOLD_MIN_MEETINGS", "3"))
# A source's contact is e-mailed once it has failed, or an import of it has waited for an editor,
# for this long; and a source is shown as stale when nothing confirmed it for this many intervals.
FEED_ALERT_AFTER_HOURS = float(os.environ.get("FEED_ALERT_AFTER_HOURS", "48"))
FEED_STALE_AFTER_INTERVALS = float(os.environ.get("FEED_STALE_AFTER_INTERVALS", "3"))

# Web pages.
# Map tiles for the results map, e.g. "https://{s}.tile.example.org/{z}/{x}/{y}.png"; empty = no
# tiles: the map draws the Natural Earth outlines shipped in static/vendor/world-atlas, so the page
# never depends on another host unless one is named here (the policy below then lets its images in).
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
# "Report a change" submissions allowed per client per hour.
CHANGE_REQUESTS_PER_HOUR = int(os.environ.get("CHANGE_REQUESTS_PER_HOUR", "5"))
# Sign-in arrives on each role's own start page (workspace.landing decides).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:home"
CSRF_FAILURE_VIEW = "recoverybridge.workspace.errors.csrf_failure"

# Content security policy: our own origin only, no inline script or style. The one exception is
# the tile server's images: "https://{s}.tile.example.org/..." allows https://*.tile.example.org.
_tile_scheme, _, _tile_rest = MAP_TILE_URL.partition("://")
_tile_host = _tile_rest.split("/", 1)[0].split("?", 1)[0]
_tile_host = _tile_host.replace("{s}.", "*.").replace("{s}", "*")
_tile_origin = f"{_tile_scheme}://{_tile_host}" if _tile_scheme in ("https", "http") and _tile_host else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Care coordination.
# Follow-ups are scheduled this many days after a referral is sent.
FOLLOW_UP_DAYS = [int(d) for d in env_list("FOLLOW_UP_DAYS", "7,28")]
# An unfinished referral (the wizard's draft) is discarded this many days after it was last saved.
REFERRAL_DRAFT_DAYS = int(os.environ.get("REFERRAL_DRAFT_DAYS", "7"))
# Links in e-mails (reminders) point here, e.g. https://recoverybridge.example.org
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "RecoveryBridge <noreply@localhost>")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
# Messages to people (docs/messaging.md). Text messages go through a django-sms backend:
# "console" (printed), "file" (one file per batch in SMS_FILE_PATH), "locmem" (tests) or
# "twilio" (Twilio's REST API), or a dotted path to another. The demo writes them to var/sms/.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "file" if DEBUG else "twilio")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(PROJECT_DIR / "var" / "sms"))
# The number (+447700900123) or Messaging Service SID (MG...) texts are sent from.
DEFAULT_FROM_SMS = os.environ.get("SMS_FROM", "")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
# A page waits at most this long for the provider; a slower answer is retried by the worker.
SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS", "5"))
# A text is kept to this many segments (153 GSM-7 characters, or 67 others, each).
SMS_MAX_SEGMENTS = int(os.environ.get("SMS_MAX_SEGMENTS", "2"))
# Where a phone number written without its country code is read (ISO 3166 code).
PHONE_REGION = os.environ.get("PHONE_REGION", "GB")
# The first retry of a failed message waits this long; each next one twice as long.
MESSAGE_RETRY_SECONDS = int(os.environ.get("MESSAGE_RETRY_SECONDS", "60"))
# The key of the hashes STOP replies are kept under. Set it apart from SECRET_KEY in production,
# so that changing SECRET_KEY does not forget who asked for no more texts.
SMS_NUMBER_KEY = os.environ.get("SMS_NUMBER_KEY", "") or SECRET_KEY
# Background tasks (reminder e-mails) queue in the database: no extra server; `manage.py db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# "default" is each process's own memory (Django's default): places looked up, nothing that must
# hold across processes. "limits" holds the rate limits and other counts every web process and
# server must share (recoverybridge.limits): a database table (made by migrate) by default, Redis
# when REDIS_URL is set (redis://host:6379/0). "evaluation" keeps built evaluation reports for a
# few minutes in a database table (made by migrate), so the report page, its PDF and its CSV share
# one build whichever web process answers; 0 seconds turns it off.
REDIS_URL = os.environ.get("REDIS_URL", "")
LIMITS_CACHE: dict[str, object] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "rb"}
    if REDIS_URL
    else {
        # Django's DatabaseCache, with an increment that takes the row's lock.
        "BACKEND": "recoverybridge.limits.backends.DatabaseCounterCache",
        "LOCATION": "limit_counters",
        # Past this many live counters the oldest are dropped (a limit forgets them).
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("LIMIT_COUNTERS_MAX", "100000"))},
    }
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "limits": LIMITS_CACHE,
    "evaluation": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "evaluation_report_cache",
        "TIMEOUT": int(os.environ.get("EVALUATION_REPORT_CACHE_SECONDS", "600")),
        "OPTIONS": {"MAX_ENTRIES": 200},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No token, and no query string that can carry personal data, in any log line.
    "filters": {"redact": {"()": "recoverybridge.operations.logs.Redact"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}},
}

# Outcome pages.
# Self-completion links (/q/<token>/): requests allowed per hour from one client address, and
# on one link, before the page answers 429 (one question per screen takes ~2 requests each).
OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR = int(os.environ.get("OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR", "300"))
OUTCOME_LINK_REQUESTS_PER_TOKEN_HOUR = int(os.environ.get("OUTCOME_LINK_REQUESTS_PER_TOKEN_HOUR", "200"))

# FHIR API: failed API tokens allowed from one client address within the window, before the
# address is answered 429 until the window ends (counted in the shared "limits" cache).
API_TOKEN_FAILURES_ALLOWED = int(os.environ.get("API_TOKEN_FAILURES_ALLOWED", "10"))
API_TOKEN_FAILURES_WINDOW_SECONDS = int(os.environ.get("API_TOKEN_FAILURES_WINDOW_SECONDS", "900"))

# People's rights over their record (docs/privacy.md says where each figure comes from).
# A request is due one calendar month after it is received (UK GDPR Art. 12(3)), and never later
# than `max_days` (HIPAA 45 CFR 164.524(b)(2): 30 days); an extension, with a reason, adds up to
# `extension_months` (UK) and no more than `extension_max_days` (HIPAA: one extension of 30 days).
# A service under only one of the two sets the other's cap to 0 (no cap).
RIGHTS_DEADLINES = {
    "months": 1,
    "max_days": int(os.environ.get("RIGHTS_MAX_DAYS", "30")),
    "extension_months": 2,
    "extension_max_days": int(os.environ.get("RIGHTS_EXTENSION_MAX_DAYS", "30")),
}
# How long each kind of record is kept once it has ceased to be used (rights.retention runs daily).
RETENTION = {
    # A person's care record: years after it ceased to be operational (no open episode, nothing
    # recorded or viewed since). Then it is anonymised if the person's consent to evaluation is
    # active (evaluation keeps what it reads, without identifiers) and erased otherwise.
    "care_record_years": int(os.environ.get("RETENTION_CARE_RECORD_YEARS", "8")),
    # Requests about rights and lifted legal holds: years after they were answered or lifted.
    "rights_documentation_years": int(os.environ.get("RETENTION_RIGHTS_YEARS", "6")),
    # Sent e-mails in the outbox (addresses and bodies): days after they were sent.
    "sent_messages_days": int(os.environ.get("RETENTION_SENT_MESSAGES_DAYS", "365")),
}
