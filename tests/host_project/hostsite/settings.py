"""Settings of a small project that adds personal access tokens with django-keystand-tokens."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["HOST_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "people",
    "access_tokens",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hostsite.urls"
WSGI_APPLICATION = "hostsite.wsgi.application"

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
            ],
        },
    },
]

if os.environ.get("HOST_PG_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["HOST_PG_NAME"],
            "HOST": os.environ.get("HOST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("HOST_PG_PORT", "5432"),
            "USER": os.environ.get("HOST_PG_USER", "postgres"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("HOST_SQLITE_PATH", BASE_DIR / "db.sqlite3"),
        }
    }

AUTH_USER_MODEL = "people.Person"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/account/tokens/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# What the django-keystand-tokens README asks for: its authentication classes first, and
# its scope permission next to IsAuthenticated.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access_tokens.authentication.AccessTokenAuthentication",
        "access_tokens.authentication.AccessTokenBasicAuthentication",
        "access_tokens.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "access_tokens.permissions.TokenScopePermission",
    ],
}

# The token app's settings this project chooses; everything else keeps its default.
ACCESS_TOKEN_BASE_TEMPLATE = "site.html"
ACCESS_TOKEN_SITE_NAME = "Hostsite"
ACCESS_TOKEN_SCOPES = {"deploy": "Trigger deployments of your services."}
