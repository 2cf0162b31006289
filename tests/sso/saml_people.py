"""Who the test SAML IdP knows, shared by the IdP process and the tests."""

PEOPLE = {
    # A validator of everything and a contributor of Credit Risk, by her IdP groups.
    "alice": {
        "password": "alice-saml-pass",
        "email": "alice@saml.example",
        "display_name": "Alice Adler",
        "groups": ["steward-validators", "credit-risk"],
    },
    "bob": {
        "password": "bob-saml-pass",
        "email": "bob@saml.example",
        "display_name": "Bob Brandt",
        "groups": ["credit-risk"],
    },
    # Shares a name with a local Steward account the tests create: never taken over.
    "root": {
        "password": "root-saml-pass",
        "email": "root@saml.example",
        "display_name": "Not Root",
        "groups": ["steward-validators"],
    },
}


def name_id(username: str) -> str:
    """The persistent NameID the IdP gives a person (stable, not the username)."""
    return f"saml-{username}-7f3a"


GROUP_ROLES = {"steward-validators": "validator", "credit-risk": "contributor@credit-risk"}
GROUP_TEAMS = {"credit-risk": "credit-risk"}
