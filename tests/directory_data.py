"""The small directory the LDAP login tests run against, and helpers to change it and to point
Steward at it. The server itself is started by the fixtures in tests/ldap_server.py.

    ou=people    alice   validator (model-validators) and in credit-risk-team
                 bob     in senior-validators, a group nested inside model-validators
                 carol   in credit-risk-team: a contributor of Credit Risk
                 dave    in marketing-team
                 erin    in model-validators and credit-risk-team (the tests take her out)
                 star*(ops)  a uid made of LDAP filter metacharacters, in no group
    ou=groups    model-validators, senior-validators, credit-risk-team, marketing-team,
                 unmapped (a group no setting mentions; alice is in it)
    ou=services  steward-reader, the account Steward binds as to search
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config.directory import auth_ldap_settings, with_ldap_backend

SUFFIX = "dc=steward,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
BIND_DN = f"cn=steward-reader,ou=services,{SUFFIX}"
BIND_PASSWORD = "reader-secret"
METACHAR_UID = "star*(ops)"

PASSWORDS = {
    "alice": "alice-in-the-directory",
    "bob": "bob-in-the-directory",
    "carol": "carol-in-the-directory",
    "dave": "dave-in-the-directory",
    "erin": "erin-in-the-directory",
    METACHAR_UID: "star-in-the-directory",
}
PEOPLE_ATTRS = {
    # uid: (givenName, sn, displayName)
    "alice": ("Alice", "Archer", "Alice Archer (Model Validation)"),
    "bob": ("Bob", "Brown", "Bob Brown"),
    "carol": ("Carol", "Chen", "Carol Chen"),
    "dave": ("Dave", "Dyer", "Dave Dyer"),
    "erin": ("Erin", "Evans", "Erin Evans"),
    METACHAR_UID: ("Star", "Ops", "Star Ops"),
}


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


GROUP_MEMBERS = {
    "model-validators": [person_dn("alice"), person_dn("erin"), group_dn("senior-validators")],
    "senior-validators": [person_dn("bob")],
    "credit-risk-team": [person_dn("alice"), person_dn("carol"), person_dn("erin")],
    "marketing-team": [person_dn("dave")],
    "unmapped": [person_dn("alice")],
}

# What Steward is told about the groups in these tests.
GROUP_ROLES = {
    group_dn("model-validators"): "validator",
    group_dn("credit-risk-team"): "contributor@credit-risk",
    group_dn("marketing-team"): "contributor@marketing",
}
GROUP_TEAMS = {
    group_dn("credit-risk-team"): "credit-risk",
    group_dn("marketing-team"): "marketing",
}


def directory_ldif() -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: steward\no: Steward",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {BIND_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: steward-reader\nuserPassword: {BIND_PASSWORD}",
    ]
    for uid, (given, sn, display) in PEOPLE_ATTRS.items():
        entries.append(
            f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {sn}\n"
            f"givenName: {given}\nsn: {sn}\ndisplayName: {display}\n"
            f"mail: {given.lower()}@steward.test\nuserPassword: {PASSWORDS[uid]}"
        )
    for cn, members in GROUP_MEMBERS.items():
        lines = "\n".join(f"member: {member}" for member in members)
        entries.append(f"dn: {group_dn(cn)}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")
    return "\n\n".join(entries) + "\n"


@dataclass
class Directory:
    """The running directory, and changes to it that are undone when the test ends."""

    uri: str
    root_dn: str
    root_password: str
    ca_file: str
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def connect(self):
        """A connection bound as the directory's root (the administrator)."""
        import ldap

        connection = ldap.initialize(self.uri)
        connection.simple_bind_s(self.root_dn, self.root_password)
        return connection

    def search(self, base: str, filterstr: str) -> list[str]:
        """DNs under ``base`` matching ``filterstr``, as the administrator sees them."""
        import ldap

        connection = self.connect()
        try:
            return [
                dn for dn, _ in connection.search_s(base, ldap.SCOPE_SUBTREE, filterstr, ["1.1"])
            ]
        finally:
            connection.unbind_s()

    def _modify(self, dn: str, changes: list) -> None:
        connection = self.connect()
        try:
            connection.modify_s(dn, changes)
        finally:
            connection.unbind_s()

    def remove_member(self, group: str, member: str) -> None:
        import ldap

        self._modify(group, [(ldap.MOD_DELETE, "member", [member.encode()])])
        self._undo.append(
            lambda: self._modify(group, [(ldap.MOD_ADD, "member", [member.encode()])])
        )

    def add_member(self, group: str, member: str) -> None:
        import ldap

        self._modify(group, [(ldap.MOD_ADD, "member", [member.encode()])])
        self._undo.append(
            lambda: self._modify(group, [(ldap.MOD_DELETE, "member", [member.encode()])])
        )

    def replace(self, dn: str, attribute: str, value: str, *, was: str) -> None:
        import ldap

        self._modify(dn, [(ldap.MOD_REPLACE, attribute, [value.encode()])])
        self._undo.append(lambda: self._modify(dn, [(ldap.MOD_REPLACE, attribute, [was.encode()])]))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


def ldap_test_settings(directory: Directory, **overrides) -> dict:
    """The settings Steward runs with when pointed at the test directory."""
    values = {
        "server_uri": directory.uri,
        "bind_dn": BIND_DN,
        "bind_password": BIND_PASSWORD,
        "user_search_base": PEOPLE,
        "group_search_base": GROUPS,
        "group_type": "nestedGroupOfNames",
        "timeout": 2,
        "group_roles": GROUP_ROLES,
        "group_teams": GROUP_TEAMS,
        **overrides,
    }
    return {
        **auth_ldap_settings(**values),
        "STEWARD_LDAP_SERVER_URI": values["server_uri"],
        "STEWARD_LDAP_GROUP_ROLES": values["group_roles"],
        "STEWARD_LDAP_GROUP_TEAMS": values["group_teams"],
    }


def ldap_settings_apply(settings, directory: Directory, **overrides) -> None:
    """Point Steward (through pytest-django's ``settings`` fixture) at the test directory."""
    for name, value in ldap_test_settings(directory, **overrides).items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = with_ldap_backend(list(settings.AUTHENTICATION_BACKENDS))
