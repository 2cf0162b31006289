"""Who the test identity provider knows, shared by its seed and the tests."""

CLIENT_ID = "steward"
CLIENT_SECRET = "steward-test-client-secret"  # noqa: S105 - the throwaway provider's
PIPELINE_ID = "ci-pipeline"
PIPELINE_SECRET = "ci-pipeline-test-secret"  # noqa: S105

PEOPLE = {
    # A validator of everything and a contributor of Credit Risk, by her provider groups.
    "alice": {
        "password": "alice-idp-pass",
        "email": "alice@idp.example",
        "first_name": "Alice",
        "last_name": "Adler",
        "groups": ["steward-validators", "credit-risk"],
    },
    # In Credit Risk only.
    "bob": {
        "password": "bob-idp-pass",
        "email": "bob@idp.example",
        "first_name": "Bob",
        "last_name": "Brandt",
        "groups": ["credit-risk"],
    },
    # Shares a name with a local Steward account the tests create: never taken over.
    "root": {
        "password": "root-idp-pass",
        "email": "root@idp.example",
        "first_name": "Not",
        "last_name": "Root",
        "groups": ["steward-validators"],
    },
}

# The mappings Steward is configured with in the tests (the STEWARD_OIDC_GROUP_* format).
GROUP_ROLES = {"steward-validators": "validator", "credit-risk": "contributor@credit-risk"}
GROUP_TEAMS = {"credit-risk": "credit-risk"}
