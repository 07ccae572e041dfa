"""
Keystand's one settings module.

Every value comes from the environment or a `.env` file through django-environ. Defaults are
safe for production; development conveniences switch on only with DEBUG=true.
"""

import os
import re
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# KEYSTAND_ENV_FILE names another file, or "" for none (the test suite uses that).
_env_file = os.environ.get("KEYSTAND_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file and Path(_env_file).is_file():
    env.read_env(_env_file)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
_GENERATE_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
_DEVELOPMENT_KEY = "django-insecure-development-only-key-do-not-use-in-production"
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            f"(or set DEBUG=true for local development). Generate one with: {_GENERATE_KEY}"
        )
    SECRET_KEY = _DEVELOPMENT_KEY
elif not DEBUG:
    # The key signs sessions and derives the key that seals a new token in the session
    # (access_tokens/flash.py): a copied placeholder or a short key makes both guessable.
    _placeholder = next(
        (
            word
            for word in ("insecure", "change-me", "change_me", "changeme")
            if word in SECRET_KEY.lower()
        ),
        None,
    )
    if _placeholder:
        raise ImproperlyConfigured(
            f"SECRET_KEY looks like a placeholder (it contains {_placeholder!r}). "
            f"Set a random key of your own; generate one with: {_GENERATE_KEY}"
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            f"SECRET_KEY is too short or too simple ({len(SECRET_KEY)} characters; it needs at "
            f"least 50, of at least 5 different ones). Generate one with: {_GENERATE_KEY}"
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "access_tokens",
    "config.apps.KeystandConfig",
]

MIDDLEWARE = [
    # First of all: on PostgreSQL it sends a token's lookup as the request arrives, so that the
    # database answers while everything below runs (access_tokens/ahead.py).
    "access_tokens.ahead.LookupAheadMiddleware",
    # First, so that a preflight is answered before anything can refuse it (it carries no
    # credentials) and every answer under /api/v1/, errors and redirects too, gets its headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: a chunked one is read whole here, or refused.
    "config.middleware.ChunkedBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.NeverCacheAccountPages",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "config.context_processors.site",
            ],
        },
    },
]

# Database: a SQLite file in the project unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two concurrent creates
    # serialise instead of both counting and then failing with "database is locked".
    # WAL: readers never wait for the writer nor block it, and a read checks the shared-memory
    # index instead of locking the file and re-reading its header: an API request (one read,
    # the token lookup) took 10-20 µs less of ~360 (bench/hotpath.py). The mode persists in
    # the file; the -wal and -shm files beside it belong to it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL",
        }
    )
    # The test database is a file, one per test process, not Django's shared-cache memory
    # database: there, concurrent threads fail at once with "database table is locked"
    # instead of waiting for the lock as they do on a real file (tests/reliability).
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"keystand-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that needs no round trip (config/db/postgresql).
    # KEYSTAND_DB_ENGINE names another (the tests compare it with Django's stock backend).
    DATABASES["default"]["ENGINE"] = env.str("KEYSTAND_DB_ENGINE", default="config.db.postgresql")
    # The token lookup runs as a prepared statement (access_tokens/lookup.py). Django leaves
    # psycopg's prepare_threshold at None, which forbids preparing anything; its own cursors
    # bind on the client and are never prepared whatever this says, so only the lookup is.
    # False for a pooler that cannot keep prepared statements (PgBouncer < 1.21, transaction mode).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in limits and API throttles live here, so it must be shared by every process: Redis
# (CACHE_URL=redis://host:6379/0). The in-memory default serves `make run` only; with DEBUG
# off it is a startup error (config/checks.py).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Several deployments (or test runs) may share one Redis database, each under its own prefix.
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default=""))
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's backend, minus a new redis-py client for every cache call (config/cache.py).
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"
    # An unreachable Redis must fail fast: throttles then let token requests through and
    # sign-in answers 503 (access_tokens/throttling.py, config/middleware.py).
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 1, "socket_timeout": 1}
    )

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds the SMTP connection may wait for the server; the task worker sends, so this bounds
# how long one attempt holds it, never a request.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
if EMAIL_TIMEOUT < 1:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be at least 1 (seconds).")

# Background tasks (Django's tasks API, the django-tasks backport): every email is sent by a
# task (access_tokens/mail.py). "database" queues them in the database for `manage.py
# db_worker` (django-tasks-db; compose's worker service, the Kubernetes worker Deployment);
# "immediate" runs them at once, in the request: development's default, so `make run` needs
# no worker.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASK_BACKEND = env.str("TASK_BACKEND", default="immediate" if DEBUG else "database")
if TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASK_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND]}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Keystand <keystand@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The public address (e.g. https://keystand.example.com) for links in emails that commands
# send, where there is no request to take the host from.
SITE_URL = env.str("SITE_URL", default="")

# Passwords are low-entropy, so they get a slow hash. Tokens never do: see access_tokens.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: django-allauth (accounts/adapter.py holds Keystand's choices). The site and the
# admin sign in through the same view, so every limit below holds for both.
# allauth's backend is Django's ModelBackend (permissions included) that also takes an email
# address; alone, so a wrong password is hashed once per attempt, not once per backend.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "change_password": "accounts.forms.ChangePasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# "optional": people sign in before verifying, but no mail other than the verification link
# and a password reset goes to an address until it is verified (access_tokens.hooks.can_email_user).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Keystand] "
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_SIGNUP_REDIRECT_URL = "access_tokens:list"
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=300)
# A reset link works once (it signs the password hash) and for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)

# Sign-in protection, counted in the cache (Redis in production, shared by every replica):
# after LOGIN_FAILURES_PER_ACCOUNT failed sign-ins for one account (or wrong current
# passwords, or wrong second-factor codes), or LOGIN_FAILURES_PER_ADDRESS from one address,
# within LOGIN_LOCKOUT_SECONDS, sign-in is refused until the oldest failure is that old.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
for _name in ("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS", "LOGIN_LOCKOUT_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
# allauth's syntax: "<count>/<period>/<ip|key|user>", comma-separated; period like 30s, 15m, 1h.
_RATE = re.compile(r"^\d+/\d*[smhd]/(ip|key|user)$")


def _rates(name: str, default: str) -> str:
    value = env.str(name, default=default).replace(" ", "")
    if value and not all(_RATE.match(part) for part in value.split(",")):
        raise ImproperlyConfigured(
            f'{name} must look like "10/h/ip,3/h/key" (count/period/ip|key|user), not {value!r}.'
        )
    return value


# Actions not named here keep allauth's defaults (e.g. change_password 5/m/user).
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{LOGIN_FAILURES_PER_ADDRESS}/{LOGIN_LOCKOUT_SECONDS}s/ip,"
        f"{LOGIN_FAILURES_PER_ACCOUNT}/{LOGIN_LOCKOUT_SECONDS}s/key"
    ),
    "login": _rates("RATE_LIMIT_LOGIN", "30/m/ip"),
    "signup": _rates("RATE_LIMIT_SIGNUP", "10/h/ip"),
    # key = the email address asked for, so one inbox cannot be flooded from many addresses.
    "reset_password": _rates("RATE_LIMIT_PASSWORD_RESET", "10/h/ip,3/h/key"),
}

# Two-factor (allauth.mfa): an authenticator app (TOTP) with recovery codes.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Keystand")
# Staff must set up two-factor before they may use the admin (accounts.middleware).
REQUIRE_2FA_FOR_STAFF = env.bool("REQUIRE_2FA_FOR_STAFF", default=not DEBUG)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes; another directory lets a test or an image build use its own.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and `runserver` without collectstatic still find files in STATICFILES_DIRS.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# Sessions live in the database: the one-time token display must never ride in a cookie.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# Security. Production defaults; each may be relaxed through the environment.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is an opt-in promise (every subdomain on HTTPS for good, hard to undo), so it is
# off by default and the deploy check's reminder about it (W021) is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp 4): only our own files, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The client address (access_tokens/client_ip.py) for every limit, audit row and email: the
# proxies (addresses or CIDR networks) whose X-Forwarded-For is believed, read right to left.
# Empty: no proxy is trusted and REMOTE_ADDR is the client. Behind one TLS proxy on the same
# host: TRUSTED_PROXIES=127.0.0.1; behind a Kubernetes ingress: the pod network, e.g. 10.0.0.0/8.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
try:
    from access_tokens.client_ip import parse_networks

    parse_networks(tuple(TRUSTED_PROXIES))
except ValueError as _error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_error}") from None
if "NUM_PROXIES" in os.environ:
    raise ImproperlyConfigured(
        "NUM_PROXIES is no longer read: list the proxies to trust in TRUSTED_PROXIES "
        "(addresses or networks, e.g. TRUSTED_PROXIES=127.0.0.1 behind one local proxy)."
    )

# Personal access tokens (DESIGN.md §4).
ACCESS_TOKEN_MAX_PER_USER = env.int("ACCESS_TOKEN_MAX_PER_USER", default=100)
ACCESS_TOKEN_MAX_LIFETIME_DAYS = env.int("ACCESS_TOKEN_MAX_LIFETIME_DAYS", default=None)
ACCESS_TOKEN_LAST_USED_INTERVAL = env.int("ACCESS_TOKEN_LAST_USED_INTERVAL", default=60)
ACCESS_TOKEN_CREATION_EMAIL = env.bool("ACCESS_TOKEN_CREATION_EMAIL", default=True)
ACCESS_TOKEN_LOOKUP_AHEAD = env.bool("ACCESS_TOKEN_LOOKUP_AHEAD", default=True)
ACCESS_TOKEN_DEFAULT_LIFETIME_DAYS = env.int("ACCESS_TOKEN_DEFAULT_LIFETIME_DAYS", default=30)
ACCESS_TOKEN_INACTIVE_RETENTION_DAYS = env.int("ACCESS_TOKEN_INACTIVE_RETENTION_DAYS", default=30)
ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS = env.int(
    "ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS", default=600
)
for _name in ("ACCESS_TOKEN_MAX_PER_USER", "ACCESS_TOKEN_LAST_USED_INTERVAL"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must not be negative.")
for _name in (
    "ACCESS_TOKEN_DEFAULT_LIFETIME_DAYS",
    "ACCESS_TOKEN_INACTIVE_RETENTION_DAYS",
    "ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
if ACCESS_TOKEN_MAX_LIFETIME_DAYS is not None and ACCESS_TOKEN_MAX_LIFETIME_DAYS < 1:
    raise ImproperlyConfigured("ACCESS_TOKEN_MAX_LIFETIME_DAYS must be at least 1 when set.")
# Sudo mode (access_tokens/reauth.py): seconds a password or code is good for; 0 = off.
ACCESS_TOKEN_REAUTH_SECONDS = env.int("ACCESS_TOKEN_REAUTH_SECONDS", default=900)
if ACCESS_TOKEN_REAUTH_SECONDS < 0:
    raise ImproperlyConfigured("ACCESS_TOKEN_REAUTH_SECONDS must not be negative.")

# Cross-origin use of the API from browsers (django-cors-headers): off unless origins are
# listed, e.g. CORS_ALLOWED_ORIGINS=https://app.example.com,http://localhost:3000. Only
# /api/v1/ answers cross-origin, and only to token-authenticated requests: cookies are never
# allowed across origins (no Access-Control-Allow-Credentials), so a session cannot be used.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
for _origin in CORS_ALLOWED_ORIGINS:
    if _origin == "*" or not re.fullmatch(r"https?://[^/?#\s*]+", _origin):
        raise ImproperlyConfigured(
            f"CORS_ALLOWED_ORIGINS: {_origin!r} is not an origin: list each one as "
            "scheme://host[:port], with no path and no wildcard."
        )
CORS_URLS_REGEX = r"^/api/v1/"
CORS_ALLOW_CREDENTIALS = False
# What a script on another origin may read besides the CORS-safelisted headers.
CORS_EXPOSE_HEADERS = [
    "Keystand-Token-Expiration",
    "Keystand-Token-Scopes",
    "Keystand-Accepted-Scopes",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
    "Link",
    "Location",
    "WWW-Authenticate",
    "Allow",
]

REST_FRAMEWORK = {
    # The token classes come first: DRF asks only the first class for WWW-Authenticate,
    # and without it a 401 would turn into a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access_tokens.authentication.AccessTokenAuthentication",
        "access_tokens.authentication.AccessTokenBasicAuthentication",
        "access_tokens.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "access_tokens.permissions.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["config.parsers.SafeJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "access_tokens.throttling.UserThrottle",
        "access_tokens.throttling.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "revoke": env.str("API_THROTTLE_REVOKE", default="30/min"),
        "failed_auth": env.str("API_THROTTLE_FAILED_AUTH", default="30/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "access_tokens.schema.AutoSchema",
    "EXCEPTION_HANDLER": "access_tokens.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Keystand API",
    "DESCRIPTION": "Manage personal access tokens and call the API with them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "access_tokens.schema.postprocess",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "access_tokens.logging.RedactAccessTokens"},
    },
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
    },
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_tokens"],
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A wrong Host header already gets a 400; its traceback at ERROR only floods the log
        # when someone sends garbage on purpose.
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
    },
}
