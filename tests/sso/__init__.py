"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit with OIDC
enabled, in its own small Django project (``provider/``), started as a subprocess on a free
port by :mod:`tests.sso.server`."""
