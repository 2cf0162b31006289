"""Accounts of people who sign in through a single sign-on provider: found through their linked
identity (provider, subject), created at their first sign-on when allowed, their name and
e-mail refreshed from the claims, and their teams and roles brought in line with the groups the
provider names (:func:`accounts.services.directory.identity_groups_apply`, the same sync as
LDAP's). Linking an existing account to a provider identity is an administrator's act."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import GrantSource, SignOnRefusal
from accounts.models import ExternalIdentity, User
from accounts.services.directory import GroupSource, identity_groups_apply
from accounts.services.teams import require_administrator
from config.saml import SamlProvider
from config.sso import OidcProvider
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append

logger = logging.getLogger(__name__)

USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length
SUBJECT_MAX_LENGTH = ExternalIdentity._meta.get_field("subject").max_length


class SignOnRefused(Exception):
    """A sign-on that must not go ahead; ``reason`` is a :class:`SignOnRefusal`."""

    def __init__(self, reason: str, message: str, *, subject: str = "", username: str = ""):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.subject = subject
        self.username = username

    @property
    def detail(self) -> str:
        """What the login audit records: the reason's code first, then the explanation."""
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class ProviderProfile:
    """What the claims say about a person, read with the provider's claim names."""

    subject: str
    username: str
    email: str
    display_name: str
    first_name: str
    last_name: str
    groups: tuple[str, ...]


def provider_profile_read(provider: OidcProvider | SamlProvider, claims: dict) -> ProviderProfile:
    """The person the claims describe; SignOnRefused(CLAIMS) when the subject or username is
    missing or unusable."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_MAX_LENGTH:
        raise SignOnRefused(SignOnRefusal.CLAIMS, "the token has no usable 'sub' claim")
    username = claims.get(provider.username_claim)
    if not isinstance(username, str) or not username.strip():
        raise SignOnRefused(
            SignOnRefusal.CLAIMS,
            f"no '{provider.username_claim}' claim or attribute",
            subject=subject,
        )
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
        if len(username) > USERNAME_MAX_LENGTH:
            raise ValidationError("too long")
    except ValidationError as exc:
        raise SignOnRefused(
            SignOnRefusal.CLAIMS,
            f"the '{provider.username_claim}' claim {username[:60]!r} is not a valid username",
            subject=subject,
        ) from exc
    groups = claims.get(provider.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        groups = []
    return ProviderProfile(
        subject=subject,
        username=username,
        email=_text(claims.get(provider.email_claim), User, "email"),
        display_name=_text(claims.get(provider.name_claim), User, "display_name"),
        first_name=_text(claims.get("given_name"), User, "first_name"),
        last_name=_text(claims.get("family_name"), User, "last_name"),
        groups=tuple(sorted({g.strip() for g in groups if isinstance(g, str) and g.strip()})),
    )


def _text(value, model, field: str) -> str:
    if not isinstance(value, str):
        return ""
    return value.strip()[: model._meta.get_field(field).max_length]


def sso_user_sync(*, provider: OidcProvider | SamlProvider, claims: dict) -> User:
    """The account of the person ``claims`` (already verified) describe, brought up to date:
    found through their linked identity, or created (with the link) when the provider may
    create accounts and no account has that username. Never takes over an account by name.
    Raises SignOnRefused with the reason."""
    profile = provider_profile_read(provider, claims)
    with transaction.atomic():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .select_related("user")
            .filter(provider=provider.key, subject=profile.subject)
            .first()
        )
        if identity is None:
            user = _account_create(provider, profile)
        else:
            user = identity.user
            if not user.is_active:
                raise SignOnRefused(
                    SignOnRefusal.INACTIVE,
                    f"the account {user.username} is deactivated",
                    subject=profile.subject,
                    username=user.username,
                )
        _profile_refresh(user, profile)
        identity_groups_apply(
            user=user, group_source=provider_group_source(provider), groups=profile.groups
        )
    return user


def provider_group_source(provider: OidcProvider | SamlProvider) -> GroupSource:
    return GroupSource(
        provider=provider.login_method,
        source=getattr(provider, "grant_source", GrantSource.OIDC),
        note_prefix=f"{provider.name} group",
        role_map=provider.group_roles,
        team_map=provider.group_teams,
    )


def _account_create(provider: OidcProvider | SamlProvider, profile: ProviderProfile) -> User:
    refused = {"subject": profile.subject, "username": profile.username}
    if not provider.create_users:
        raise SignOnRefused(
            SignOnRefusal.UNKNOWN_USER,
            f"no account is linked to {provider.key} subject {profile.subject} and "
            f"{getattr(provider, 'create_users_setting', 'STEWARD_OIDC_CREATE_USERS')} is off",
            **refused,
        )
    if User.objects.filter(username__iexact=profile.username).exists():
        # A local (or directory) account of the same name is someone Steward already knows:
        # only an administrator may say the provider's person is them.
        raise SignOnRefused(
            SignOnRefusal.EXISTING_ACCOUNT,
            f"an account named {profile.username} exists and is not linked to this "
            f"{provider.key} identity; an administrator links it by setting its subject",
            **refused,
        )
    try:
        with transaction.atomic():
            user = User(username=profile.username)
            user.set_unusable_password()  # signs in only through the provider
            user.save()
            ExternalIdentity.objects.create(
                user=user, provider=provider.key, subject=profile.subject
            )
    except IntegrityError as exc:  # a concurrent first sign-on of the same person or name
        raise SignOnRefused(
            SignOnRefusal.EXISTING_ACCOUNT,
            f"the account {profile.username} was created meanwhile; sign in again",
            **refused,
        ) from exc
    audit_event_append(
        actor=None,
        action="account.create",
        subject=user,
        data={"username": user.username, "provider": provider.login_method, **refused},
    )
    logger.info("single sign-on created account %s for %s", user.username, profile.subject)
    return user


def _profile_refresh(user: User, profile: ProviderProfile) -> None:
    changed = []
    for field in ("email", "display_name", "first_name", "last_name"):
        value = getattr(profile, field)
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


@transaction.atomic
def external_identity_link(
    *, actor: User | None, user: User, provider: str, subject: str
) -> ExternalIdentity:
    """Say that the person ``provider`` knows as ``subject`` is ``user`` (administrators
    only, audited). Afterwards that person signs in as ``user``."""
    require_administrator(actor)
    subject = (subject or "").strip()
    if not subject or len(subject) > SUBJECT_MAX_LENGTH:
        raise InvalidInput("A subject is required.", field_errors={"subject": ["Required."]})
    if ExternalIdentity.objects.filter(provider=provider, subject=subject).exists():
        raise Conflict(f"{provider} subject {subject} is already linked to an account.")
    if ExternalIdentity.objects.filter(provider=provider, user=user).exists():
        raise Conflict(f"{user.username} is already linked to a {provider} identity.")
    identity = ExternalIdentity.objects.create(user=user, provider=provider, subject=subject)
    audit_event_append(
        actor=actor,
        action="identity.link",
        subject=identity,
        data={"user": user.username, "provider": provider, "subject": subject},
    )
    return identity


@transaction.atomic
def external_identity_unlink(*, actor: User | None, identity: ExternalIdentity) -> None:
    """Remove a link (administrators only, audited): that person can no longer sign in as the
    account through the provider."""
    require_administrator(actor)
    audit_event_append(
        actor=actor,
        action="identity.unlink",
        subject=identity,
        data={
            "user": identity.user.username,
            "provider": identity.provider,
            "subject": identity.subject,
        },
    )
    identity.delete()
