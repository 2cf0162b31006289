"""Settings for the test suite: the real settings, with a throwaway secret key."""

import os
import tempfile

os.environ.setdefault(
    "STEWARD_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789"
)
os.environ.setdefault(
    "STEWARD_AUDIT_KEY", "test-only-audit-key-not-for-any-deployment-9876543210abcdef"
)
# No test reads or writes the real var/ anchor file: this process and the commands it starts
# share a fresh folder (tests that anchor point the setting at their own tmp_path).
os.environ.setdefault(
    "STEWARD_AUDIT_ANCHOR_FILE",
    os.path.join(tempfile.mkdtemp(prefix="steward-anchors-"), "audit-anchors.jsonl"),
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
