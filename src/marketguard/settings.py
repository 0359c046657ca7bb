"""MarketGuard settings, read from the environment (12-factor).

Environment variables:
  MARKETGUARD_ENV      dev (default) | prod | test
  DATABASE_URL         default: SQLite file under var/ (var/marketguard.sqlite3)
  SECRET_KEY           required in prod; in dev generated once and kept in var/secret_key
  ALLOWED_HOSTS        comma separated; dev default: localhost,127.0.0.1,[::1],testserver
  CSRF_TRUSTED_ORIGINS comma separated origins (prod behind a proxy)
  MARKETGUARD_TASKS    db (default) | rq | immediate
  REDIS_URL            for the rq tasks backend and the shared cache (default redis://127.0.0.1:6379/0)
  MARKETGUARD_VAR      folder for the SQLite file, secret key, media (default <repo>/var)
  MEDIA_ROOT           uploaded evidence (default $MARKETGUARD_VAR/media)
  COMPLAINTS_MAILDIR   a maildir the worker reads complaints from (e-mail intake)
  COMPLAINTS_MAIL_VERIFIER  the authserv-id our receiving mail server writes in Authentication-Results:
                       when set, a reply is added to a case only if it passed DMARC (else DKIM) there
  EMAIL_BACKEND        default: files in $MARKETGUARD_VAR/mail-out; SMTP with
                       django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, EMAIL_PORT,
                       EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL
  DEFAULT_FROM_EMAIL   sender of mail to consumers; MAIL_DOMAIN the domain of our Message-IDs
  SITE_URL             the address people open (links in mail), default http://127.0.0.1:8000
  MARKETGUARD_TRUSTED_PROXIES  comma separated addresses or networks (10.0.0.0/8) of the reverse
                       proxies in front of the app: only a request from one of them has its client
                       address taken from X-Forwarded-For (login throttling). Default: none
  WEBHOOK_ALLOW_PRIVATE_HOSTS  true lets webhooks go to loopback and private addresses (local
                       development, tests); default false: the public internet only
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from marketguard.core.envutil import env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("MARKETGUARD_VAR", REPO_DIR / "var")).resolve()

ENV = os.environ.get("MARKETGUARD_ENV", "dev").strip().lower()
if ENV not in {"dev", "prod", "test"}:
    raise RuntimeError(f"MARKETGUARD_ENV must be dev, prod or test, not {ENV!r}")
PROD = ENV == "prod"
DEBUG = env_bool("DEBUG", default=ENV == "dev")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if PROD:
        raise RuntimeError("SECRET_KEY must be set when MARKETGUARD_ENV=prod")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=[] if PROD else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "marketguard.core",
    "marketguard.catalog",
    "marketguard.inspections",
    "marketguard.complaints",
    "marketguard.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marketguard.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "marketguard.core.middleware.RequestContextMiddleware",
    "marketguard.core.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "marketguard.urls"
WSGI_APPLICATION = "marketguard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketguard.web.context_processors.shell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
_default_db = f"sqlite:///{VAR_DIR / 'marketguard.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _default_db, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writer takes the lock at BEGIN, so read-then-write transactions
        # (numbering, the audit chain) never fail with "database is locked" on upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # PostgreSQL: parameters bound by the server, so psycopg prepares a statement after its 5th
    # use on a connection and the server stops parsing and planning it every time (intake
    # benchmark, same machine, alternating: 56.9 vs 53.0 requests/s at 8 connections)
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENV == "test":  # hashing cost is irrelevant in tests and dominates their set-up time
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# --- cache (login throttling, shared between processes) -------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
if ENV == "test":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif os.environ.get("MARKETGUARD_CACHE", "db") == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mg_cache"}}

# --- background tasks ------------------------------------------------------------------------
TASKS_BACKEND = os.environ.get("MARKETGUARD_TASKS", "immediate" if ENV == "test" else "db")
if TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise RuntimeError(f"MARKETGUARD_TASKS must be db, rq or immediate, not {TASKS_BACKEND!r}")

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [Path(os.environ.get("MARKETGUARD_LOCALE_DIR", BASE_DIR / "locale"))]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it in production; whitenoise wants it to exist
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PROD
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = (
    False  # htmx reads the token from the page, not the cookie; kept readable for the API docs
)
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): scripts and styles only from our own static files (no
# inline script, no inline event handler, no eval: app.js wires the behaviour), nothing framed,
# forms post only to us. Images may be data:/blob: URLs (evidence previews, ECharts export).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PROD:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Failed logins allowed per (username, client address) within the window before refusal.
LOGIN_THROTTLE = {"attempts": int(os.environ.get("LOGIN_THROTTLE_ATTEMPTS", "5")), "window_seconds": 900}


def _networks(name: str) -> list[str]:
    networks = []
    for item in env_list(name, default=[]):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise RuntimeError(f"{name}: {item!r} is not an IP address or network") from None
    return networks


# Reverse proxies whose X-Forwarded-For is believed (the client address of login throttling).
MARKETGUARD_TRUSTED_PROXIES = _networks("MARKETGUARD_TRUSTED_PROXIES")

# Webhooks to loopback / private / reserved addresses (a receiver on this machine, in development):
# off unless the environment turns it on.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Complaints: a maildir the worker reads for e-mail intake (empty: off); outgoing mail.
COMPLAINTS_MAILDIR = os.environ.get("COMPLAINTS_MAILDIR", "")
COMPLAINTS_MAIL_VERIFIER = os.environ.get("COMPLAINTS_MAIL_VERIFIER", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail-out"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "service@marketguard.invalid")
# The address people open in mails we send (links to a case), and the domain of our Message-IDs.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
MAIL_DOMAIN = os.environ.get("MAIL_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2] or "marketguard")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
