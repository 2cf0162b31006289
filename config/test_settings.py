"""Settings for the test suite: the real settings, with a throwaway secret key."""

import os

os.environ.setdefault(
    "STEWARD_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789"
)

from config.settings import *  # noqa: E402,F403

# Hashing cost is not what tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S105

# Serve static files straight from the apps' folders, as runserver would, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# The test client and the live server speak plain http: no redirect to https, cookies sent over
# http, no HSTS. Tests of the production values read config.settings in a subprocess
# (tests/test_production_settings.py) or turn these on themselves.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
