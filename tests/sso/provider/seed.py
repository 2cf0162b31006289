"""Create the test provider's database: its tables, people, groups, and Steward's client
registration. Run once per test session, before the server starts:
``python -m tests.sso.provider.seed <steward base URL>``."""

from __future__ import annotations

import os
import sys


def main(steward_base: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sso.provider.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    from tests.sso.people import CLIENT_ID, CLIENT_SECRET, PEOPLE, PIPELINE_ID, PIPELINE_SECRET

    call_command("migrate", verbosity=0, interactive=False)
    for username, person in PEOPLE.items():
        user = User.objects.create_user(
            username,
            email=person["email"],
            password=person["password"],
            first_name=person["first_name"],
            last_name=person["last_name"],
        )
        user.groups.set([Group.objects.get_or_create(name=g)[0] for g in person["groups"]])
    Application.objects.create(
        name="Steward",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{steward_base}/oidc/callback/",
        post_logout_redirect_uris=f"{steward_base}/login/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    # A CI pipeline's workload identity: client credentials, tokens for Steward's audience.
    Application.objects.create(
        name="Pipeline",
        client_id=PIPELINE_ID,
        client_secret=PIPELINE_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        algorithm=Application.RS256_ALGORITHM,
    )


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
