"""Settings of the test identity provider. Everything that differs per run comes from the
environment the fixture sets: its port, its SQLite file, its RSA key file."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
PORT = int(os.environ["SSO_PROVIDER_PORT"])
ISSUER = f"http://127.0.0.1:{PORT}/o"

SECRET_KEY = "test-identity-provider-only-" + "x" * 40  # noqa: S105 - a throwaway test process
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.sso.provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["SSO_PROVIDER_DB"]}
}
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Steward runs on 127.0.0.1 too, and browsers share cookies across ports of one host: the
# provider's session and CSRF cookies must not overwrite Steward's.
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": Path(os.environ["SSO_PROVIDER_KEY_FILE"]).read_text(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name and username",
        "email": "Your e-mail address",
    },
    "OAUTH2_VALIDATOR_CLASS": "tests.sso.provider.validator.StewardTestValidator",
    # Access tokens are JWTs (as Entra ID, Okta and Keycloak issue them), so Steward's API can
    # verify them offline by the JWKS.
    "ACCESS_TOKEN_GENERATOR": "tests.sso.provider.validator.jwt_access_token",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
}
