"""Steward settings. Every value that differs between the demo and production comes from the
environment (see README "Configuration"); the defaults are the embedded ones: SQLite, in-process
tasks, a local artifact folder."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import directory
from config.broker import broker_transport_options, broker_url_from_env, redis_url_from_env
from config.env import (
    DEMO_SECRET_KEY,
    audit_key_derive,
    env_bool,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_secret,
    env_str,
    secret_key_refuse_weak,
)
from integrations.openlineage.namespace_teams import namespace_teams_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STEWARD_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("STEWARD_DEBUG", False)
# Demo mode seeds demo users with a known password; nothing else may create them.
DEMO_MODE = env_bool("STEWARD_DEMO", False)

# Production is neither debug nor demo: HTTPS only, secure cookies, HSTS, a real secret key (see
# "Security" below).
PRODUCTION = not (DEBUG or DEMO_MODE)

SECRET_KEY = env_str("STEWARD_SECRET_KEY")
if PRODUCTION:
    # Missing, the public demo key, or too short or plain: refuse to start, saying how to make one.
    secret_key_refuse_weak(SECRET_KEY)
elif not SECRET_KEY:
    SECRET_KEY = DEMO_SECRET_KEY

# The audit chain's signing key (core.audit_seal): from the environment or a mounted file, never
# the database, and not the secret key. Production refuses to start without a strong one; debug
# and demo derive one from the secret key. Changing it makes every signed event fail to verify.
STEWARD_AUDIT_KEY = env_secret("STEWARD_AUDIT_KEY")
if PRODUCTION:
    secret_key_refuse_weak(STEWARD_AUDIT_KEY, name="STEWARD_AUDIT_KEY")
    if STEWARD_AUDIT_KEY == SECRET_KEY:
        raise ImproperlyConfigured("STEWARD_AUDIT_KEY must differ from STEWARD_SECRET_KEY")
elif not STEWARD_AUDIT_KEY:
    STEWARD_AUDIT_KEY = audit_key_derive(SECRET_KEY)

# Reverse proxies whose forwarding header is believed (comma-separated IPs or CIDRs); the
# client address is the right-most address in PROXY_IP_HEADER that is not one of them.
TRUSTED_PROXIES = env_list("STEWARD_TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"STEWARD_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from _exc
PROXY_IP_HEADER = env_str("STEWARD_PROXY_IP_HEADER", "HTTP_X_FORWARDED_FOR")

ALLOWED_HOSTS = env_list("STEWARD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("STEWARD_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served by the app, not from a CDN
    "csp",
    "guardian",
    "auditlog",
    "core",
    "accounts",
    "registry",
    "governance",
    "monitoring",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (policy: "Security" below).
    "csp.middleware.CSPMiddleware",
    "core.middleware.RejectNulBytesMiddleware",
    # /api/ bodies: 415 without a Content-Type, 413 over DATA_UPLOAD_MAX_MEMORY_SIZE.
    "core.body_limits.ApiBodyGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A database that cannot be reached answers 503 with Retry-After, not 500.
    "core.database_errors.DatabaseUnavailableMiddleware",
    # auditlog's own middleware believes X-Forwarded-For from anyone; ours only from
    # TRUSTED_PROXIES.
    "core.middleware.StewardAuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "core.context_processors.queued_work",
            ],
        },
    },
]

# Connections persist across requests (opening one per request cost about half the CPU of a
# request under load); Django checks a reused connection before each request, so a restarted
# database costs one failed check, not a 500 (and a lost one is still a 503, see
# core.database_errors). STEWARD_DB_CONN_MAX_AGE=0 restores one connection per request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'steward.sqlite3'}",
        conn_max_age=env_int("STEWARD_DB_CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "STEWARD_DB_PREPARED_STATEMENTS", True
):
    # Server-side parameters, and statements run five times on a connection are prepared:
    # PostgreSQL then skips planning them (the registry's joined reads plan for longer than
    # they run): 2.4x the gets per second here. Set STEWARD_DB_PREPARED_STATEMENTS=false behind a
    # transaction-mode connection pooler that cannot carry prepared statements (PgBouncer < 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Wait for the write lock instead of failing at once when two requests write together.
    # BEGIN IMMEDIATE serialises writers instead of failing one of two with "database is
    # locked" when both upgrade a read lock; WAL lets readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a throttled account is refused before any backend checks its password.
    "accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Roles (global or per team) and team membership -> object permissions. Asked before
    # guardian, which costs queries per object and answers only model-scoped grants.
    "accounts.access.RoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Failed sign-ins (accounts.services.login_throttle): within a sliding window, LIMIT failures
# for one account from one address refuse that account from that address; ADDRESS_LIMIT from
# one address (IPv4, or IPv6 /64) refuse it for every account; ACCOUNT_LIMIT for one account
# from anywhere refuse it from addresses it has not signed in from within KNOWN_ADDRESS_DAYS.
STEWARD_LOGIN_WINDOW_MINUTES = env_int("STEWARD_LOGIN_WINDOW_MINUTES", 15, minimum=1)
STEWARD_LOGIN_FAILURE_LIMIT = env_int("STEWARD_LOGIN_FAILURE_LIMIT", 5, minimum=1)
STEWARD_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("STEWARD_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
STEWARD_LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("STEWARD_LOGIN_ACCOUNT_FAILURE_LIMIT", 100, minimum=1)
STEWARD_LOGIN_KNOWN_ADDRESS_DAYS = env_int("STEWARD_LOGIN_KNOWN_ADDRESS_DAYS", 30, minimum=1)
# Unsuccessful attempts in the audit chain: per address and window the 1st, 10th, 100th...,
# and at most this many a window from all addresses (every attempt keeps its LoginEvent row).
STEWARD_LOGIN_CHAIN_FAILURES_PER_WINDOW = env_int(
    "STEWARD_LOGIN_CHAIN_FAILURES_PER_WINDOW", 100, minimum=1
)
# Unsuccessful attempts are deleted from the login audit after this many days (daily, by beat).
STEWARD_LOGIN_FAILURE_KEEP_DAYS = env_int("STEWARD_LOGIN_FAILURE_KEEP_DAYS", 90, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:model-list"
LOGOUT_REDIRECT_URL = "login"

# Directory login (LDAP / Active Directory), off unless STEWARD_LDAP_SERVER_URI is set. Users log
# in with directory credentials; their names and e-mail and the teams and roles their directory
# groups map to are refreshed at every login (accounts.services.directory). config/directory.py
# turns these values into django-auth-ldap's AUTH_LDAP_* settings and refuses bad ones here, at
# start-up. README "Directory login (LDAP / Active Directory)" documents every variable.
# {"<group DN>": "validator" | "contributor@<team slug>" | [several]}
STEWARD_LDAP_GROUP_ROLES = directory.env_json_object("STEWARD_LDAP_GROUP_ROLES")
# {"<group DN>": "<team slug>"}; teams named here are created at the first login that needs them.
STEWARD_LDAP_GROUP_TEAMS = directory.env_json_object("STEWARD_LDAP_GROUP_TEAMS")
STEWARD_LDAP_SERVER_URI = env_str("STEWARD_LDAP_SERVER_URI").strip()
if STEWARD_LDAP_SERVER_URI:
    AUTHENTICATION_BACKENDS = directory.with_ldap_backend(AUTHENTICATION_BACKENDS)
    globals().update(
        directory.auth_ldap_settings(
            server_uri=STEWARD_LDAP_SERVER_URI,
            bind_dn=env_str("STEWARD_LDAP_BIND_DN"),
            bind_password=env_str("STEWARD_LDAP_BIND_PASSWORD"),
            user_search_base=env_str("STEWARD_LDAP_USER_SEARCH_BASE"),
            user_filter=env_str("STEWARD_LDAP_USER_FILTER", directory.DEFAULT_USER_FILTER),
            group_search_base=env_str("STEWARD_LDAP_GROUP_SEARCH_BASE"),
            group_type=env_str("STEWARD_LDAP_GROUP_TYPE", directory.DEFAULT_GROUP_TYPE),
            start_tls=env_bool("STEWARD_LDAP_START_TLS", False),
            ca_file=env_str("STEWARD_LDAP_CA_FILE"),
            timeout=env_int("STEWARD_LDAP_TIMEOUT", 5, minimum=1),
            group_roles=STEWARD_LDAP_GROUP_ROLES,
            group_teams=STEWARD_LDAP_GROUP_TEAMS,
        )
    )

# Single sign-on with OpenID Connect, off unless STEWARD_OIDC_ISSUER is set: config/sso.py checks
# the STEWARD_OIDC_* values and sets STEWARD_OIDC, the backend and mozilla-django-oidc's OIDC_*.
# README "Single sign-on (OpenID Connect)" documents every variable.
from config import sso  # noqa: E402

globals().update(sso.oidc_settings(sso.oidc_provider_from_env(), AUTHENTICATION_BACKENDS))

# Single sign-on with SAML 2.0, off unless STEWARD_SAML_ENTITY_ID is set: config/saml.py checks
# the STEWARD_SAML_* values and sets STEWARD_SAML and djangosaml2's session middleware and cookie.
# README "Single sign-on (SAML 2.0)" documents every variable.
from config import saml  # noqa: E402

globals().update(
    saml.saml_settings(
        saml.saml_provider_from_env(),
        MIDDLEWARE,
        oidc_key=STEWARD_OIDC.key if STEWARD_OIDC else None,  # noqa: F821 - set just above
        secure_cookies=env_bool("STEWARD_SECURE_COOKIES", PRODUCTION),
    )
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from npm at set-up time (make assets) and are served from here.
NODE_MODULES_DIR = BASE_DIR / "node_modules"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.static_storage.IncrementalCompressedStaticFilesStorage"},
}

# Artifacts: content-addressed files under this folder; uploads above the limit get a 413.
ARTIFACT_ROOT = Path(env_str("STEWARD_ARTIFACT_ROOT", str(VAR_DIR / "artifacts")))
ARTIFACT_MAX_BYTES = env_int("STEWARD_ARTIFACT_MAX_BYTES", 1024 * 1024 * 1024, minimum=1)
# Generated documentation: PDFs stored by sha256 under this folder; documents regenerated
# automatically on submit and after every decision unless turned off.
DOCUMENTS_ROOT = Path(env_str("STEWARD_DOCUMENTS_ROOT", str(VAR_DIR / "documents")))
DOCUMENTS_AUTO_GENERATE = env_bool("STEWARD_DOCUMENTS_AUTO_GENERATE", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("STEWARD_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)

# Lineage queries never walk further than this, whatever a client asks for.
LINEAGE_MAX_DEPTH = env_int("STEWARD_LINEAGE_MAX_DEPTH", 50, minimum=1)

# Aliases that may point only at an approved or production version, and that only holders of
# the deploy verb may move (governance.services.aliases); compared without regard to case.
STEWARD_PROTECTED_ALIASES = env_list(
    "STEWARD_PROTECTED_ALIASES", ["champion", "production", "prod"]
)
for _alias in STEWARD_PROTECTED_ALIASES:
    if not (
        len(_alias) <= 255
        and _alias.isascii()
        and _alias.replace("-", "").replace("_", "").isalnum()
    ):
        raise ImproperlyConfigured(
            f"STEWARD_PROTECTED_ALIASES: {_alias!r} is not an alias name "
            "(letters, digits, '_' and '-')"
        )

# OpenLineage events: which team owns the runs and datasets of a namespace, as a JSON object
# {"<namespace>" or "<prefix>*": "<team slug>"}; unmapped namespaces belong to the token user's
# team. A malformed value stops start-up (integrations/openlineage/namespace_teams.py).
STEWARD_OPENLINEAGE_NAMESPACE_TEAMS = namespace_teams_from_env(
    "STEWARD_OPENLINEAGE_NAMESPACE_TEAMS"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal API tokens (Authorization: Bearer stw_...), limited to their scopes.
        "accounts.authentication.BearerTokenAuthentication",
        "core.audit.AuditedSessionAuthentication",
        # For scripts; use it over HTTPS only. Honours the failed-login throttle.
        "accounts.authentication.ThrottledBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # A token may do only what its scopes allow; session and Basic auth are unaffected.
        "accounts.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StewardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.StewardJSONParser",
        "core.api.parsers.StewardFormParser",
        "core.api.parsers.StewardMultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.StewardAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.steward_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # DRF's browsable API, with the looser style policy its templates need (API_DOCS_CSP).
        "core.api.renderers.StewardBrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": "Model governance, provenance and lineage.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.error_responses_document",
    ],
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "registry.choices.VersionStatus",
        "RunStatusEnum": "registry.choices.RunStatus",
        "RoleNameEnum": "accounts.choices.RoleName",
        # Choice sets whose fields share a name ("kind", "status", "source") across components.
        "LineageKindEnum": "registry.choices.LineageKind",
        "RunKindEnum": "registry.choices.RunKind",
        "AnnotationKindEnum": "governance.choices.AnnotationKind",
        "DocumentStatusEnum": "governance.choices.DocumentStatus",
        "CheckKindEnum": "monitoring.choices.CheckKind",
        "CheckStatusEnum": "monitoring.choices.CheckStatus",
        "ChannelKindEnum": "monitoring.choices.ChannelKind",
        "DeploymentStatusEnum": "monitoring.choices.DeploymentStatus",
        "DeliveryStatusEnum": "monitoring.choices.DeliveryStatus",
        "AlertStateEnum": "monitoring.choices.AlertState",
        "BaselineSourceEnum": "monitoring.choices.BaselineSource",
        "KpiSourceEnum": "monitoring.choices.KpiSource",
        "GrantSourceEnum": "accounts.choices.GrantSource",
        "TrailSourceEnum": "governance.trail.TrailSource",
        "AlertMinStatusEnum": "monitoring.choices.ALERT_MIN_STATUSES",
    },
}

# Celery: with a broker (STEWARD_BROKER_URL: RabbitMQ or Redis; by default REDIS_URL) real
# workers run the tasks; with neither set they run in-process (the demo). Results, where a task
# keeps one, go to REDIS_URL; nothing in Steward waits for one, so RabbitMQ alone also works.
REDIS_URL = redis_url_from_env()
_BROKER_URL = broker_url_from_env(REDIS_URL)
CELERY_BROKER_URL = _BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or (None if _BROKER_URL else "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker that loses its broker connection stops its unacknowledged tasks: the broker hands
# them to another worker, and two copies of the same task must not run at once.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Every scheduled task, in one place. Monitoring checks every active deployment once an hour
# over its own window (STEWARD_CHECK_EVERY_MINUTES changes the tick; windows end on whole hours,
# so extra ticks find their results and add nothing).
CELERY_BEAT_SCHEDULE: dict = {
    "monitoring-checks": {
        "task": "monitoring.schedule_checks",
        "schedule": 60.0 * env_int("STEWARD_CHECK_EVERY_MINUTES", 60, minimum=1),
    },
}

# Background work goes through the transactional outbox (core.outbox): a task request is a row
# committed with the change that asked for it, published after the commit, and published again
# by this relay tick when the broker was unreachable. Requests "sent" this long ago without a
# result are assumed lost by the broker (Redis keeps nothing on disk) and sent again.
# Partial uploads abandoned in the artifact store's tmp/ (older than six hours) are removed.
CELERY_BEAT_SCHEDULE["sweep-upload-tmp"] = {
    "task": "registry.sweep_upload_tmp",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["relay-outbox"] = {
    "task": "core.relay_outbox",
    "schedule": float(env_int("STEWARD_OUTBOX_RELAY_SECONDS", 30, minimum=1)),
}
# The audit chain's head is exported to an append-only anchor file (and syslog, when a socket
# path or host:port is given) this often; verify_audit_chain checks the chain against it.
STEWARD_AUDIT_ANCHOR_FILE = Path(
    env_str("STEWARD_AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit-anchors.jsonl"))
)
STEWARD_AUDIT_ANCHOR_SYSLOG = env_str("STEWARD_AUDIT_ANCHOR_SYSLOG")
CELERY_BEAT_SCHEDULE["anchor-audit-chain"] = {
    "task": "core.anchor_audit_chain",
    "schedule": 60.0 * env_int("STEWARD_AUDIT_ANCHOR_EVERY_MINUTES", 15, minimum=1),
}
CELERY_BEAT_SCHEDULE["prune-login-events"] = {
    "task": "accounts.prune_login_events",
    "schedule": 24 * 3600.0,
}
# Create requests sent with an Idempotency-Key keep their first answer this long (core.idempotency);
# older ones are pruned hourly and their keys may be used again.
STEWARD_IDEMPOTENCY_KEEP_HOURS = env_int("STEWARD_IDEMPOTENCY_KEEP_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["prune-idempotency-records"] = {
    "task": "core.prune_idempotency_records",
    "schedule": 3600.0,
}
STEWARD_OUTBOX_RESEND_AFTER_MINUTES = env_int("STEWARD_OUTBOX_RESEND_AFTER_MINUTES", 360, minimum=1)
# Requests done longer ago than this are deleted by the relay (failed ones are kept).
STEWARD_OUTBOX_KEEP_DAYS = env_int("STEWARD_OUTBOX_KEEP_DAYS", 30, minimum=1)
# Publishing must fail fast when the broker is down (the request then waits in the outbox),
# not hold a web request while kombu retries the connection (config.broker).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(_BROKER_URL)

# Links in e-mails point here.
STEWARD_BASE_URL = env_str("STEWARD_BASE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("STEWARD_FROM_EMAIL", "steward@localhost")
EMAIL_BACKEND = env_str("STEWARD_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: nothing is public

AUDITLOG_INCLUDE_ALL_MODELS = False
# The request id (auditlog's correlation id, the audit chain's request_id) is generated by the
# server for each request (core.middleware); no client header is ever read for it.
AUDITLOG_CID_HEADER = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("STEWARD_LOG_LEVEL", "INFO")},
    # Libraries that narrate every step at INFO.
    "loggers": {
        name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "celery.app.trace")
    },
}

# --- Security: HTTPS, cookies, sessions, content security policy ---------------------------
# In production (neither STEWARD_DEBUG nor STEWARD_DEMO) the site is served over HTTPS only; the
# demo and debug runs keep plain http on localhost. Each knob can be changed from the
# environment (README "Configuration"); `manage.py check --deploy` passes with the defaults.
#
# Behind a proxy that terminates TLS, the proxy says so in a header, e.g.
# STEWARD_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https"; the proxy must overwrite that
# header on every request, or a client could claim HTTPS over http.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("STEWARD_SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("STEWARD_SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("STEWARD_SECURE_COOKIES", PRODUCTION)
# HSTS: browsers refuse plain http for this host (and its subdomains) for a year. Preload asks to
# be put in the browsers' built-in list: only ever submit a domain whose every subdomain is HTTPS.
_ONE_YEAR = 365 * 24 * 3600
SECURE_HSTS_SECONDS = env_int("STEWARD_HSTS_SECONDS", _ONE_YEAR if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("STEWARD_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("STEWARD_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions: not readable by scripts, not sent on cross-site sub-requests, over after a working day.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 3600 * env_int("STEWARD_SESSION_HOURS", 8, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("STEWARD_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# Content-Security-Policy (django-csp 4): only the site's own scripts, styles and images, no
# plugins, never framed, forms post only here. No 'unsafe-inline': the few inline blocks that
# must stay (the lineage picture's size) carry the request's nonce, which django-csp adds to the
# header only on responses that used it. Swagger UI and Redoc get a looser policy of their own
# (API_DOCS_CSP, applied in config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF, csp.constants.NONCE],
        "style-src": [csp.constants.SELF, csp.constants.NONCE],
        "img-src": [csp.constants.SELF, "data:"],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
        "form-action": [csp.constants.SELF],
    },
}
# The API documentation pages: drf-spectacular's templates (overridden in templates/
# drf_spectacular/) keep their inline script with a nonce, but Swagger UI and Redoc style their
# own elements inline at run time, and Redoc parses the schema in a blob: web worker.
API_DOCS_CSP = {
    "style-src": [csp.constants.SELF, csp.constants.UNSAFE_INLINE],
    "worker-src": [csp.constants.SELF, "blob:"],
}

# --- Outbound requests (core.outbound) ------------------------------------------------------
# What the server itself sends (alert webhooks) goes only to public addresses: loopback,
# private, link-local (cloud metadata), CGNAT and other internal addresses are refused. Internal
# targets an operator trusts are listed here, comma-separated: exact host names, IP addresses or
# CIDR networks (e.g. "hooks.corp.example,10.20.0.0/16"). Plain http only to a host listed here.
STEWARD_OUTBOUND_ALLOWED_HOSTS = env_list("STEWARD_OUTBOUND_ALLOWED_HOSTS", [])
_HOST_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-.")
for _entry in STEWARD_OUTBOUND_ALLOWED_HOSTS:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError:
        if not (set(_entry.lower()) <= _HOST_NAME_CHARS and _entry.strip(".")):
            raise ImproperlyConfigured(
                f"STEWARD_OUTBOUND_ALLOWED_HOSTS: {_entry!r} is neither a host name nor an IP "
                "address or network"
            ) from None
# Seconds each step of an outbound request may take (connect, send, the answer).
STEWARD_OUTBOUND_TIMEOUT_SECONDS = env_int("STEWARD_OUTBOUND_TIMEOUT_SECONDS", 10, minimum=1)
# First wait before an alert delivery is retried; it doubles per retry (at most 30 minutes).
STEWARD_DELIVERY_RETRY_BACKOFF_SECONDS = env_int(
    "STEWARD_DELIVERY_RETRY_BACKOFF_SECONDS", 30, minimum=1
)

# The prediction log (monitoring.partitions, monitoring.services.retention): on PostgreSQL one
# partition per month (or week, day), created this many periods ahead by a daily beat tick that
# also drops what retention lets go. Retention in days (empty: forever) unless a deployment sets
# its own; a legal hold keeps everything.
STEWARD_PREDICTION_PARTITION = env_str("STEWARD_PREDICTION_PARTITION", "month")
STEWARD_PREDICTION_PARTITIONS_AHEAD = env_int("STEWARD_PREDICTION_PARTITIONS_AHEAD", 3, minimum=1)
STEWARD_PREDICTION_RETENTION_DAYS = (
    env_int("STEWARD_PREDICTION_RETENTION_DAYS", 0, minimum=0) or None
)
CELERY_BEAT_SCHEDULE["maintain-prediction-log"] = {
    "task": "monitoring.maintain_prediction_log",
    "schedule": 24 * 3600.0,
}
