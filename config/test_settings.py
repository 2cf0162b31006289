"""Settings for the test suite: the real settings, with a throwaway secret key."""

import os

os.environ.setdefault("STEWARD_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789")

from config.settings import *  # noqa: E402,F403

# Hashing cost is not what tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S105
