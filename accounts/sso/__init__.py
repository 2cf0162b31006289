"""Single sign-on with OpenID Connect (mozilla-django-oidc): provider discovery, token checks,
the backend that completes a sign-on, and its pages. Settings: ``config/sso.py``."""
