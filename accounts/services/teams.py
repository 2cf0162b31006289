"""Writes on teams, memberships and role assignments. Granting and revoking is for
administrators only, and every change is audited (auditlog records the row, with the actor)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from accounts.access import access_forget
from accounts.choices import GrantSource, RoleName
from accounts.constants import ROLE_DEFAULTS
from accounts.models import Role, RoleAssignment, Team, TeamMembership, User
from core.errors import Conflict, Forbidden, InvalidInput
from core.eventlog import audit_event_append

SLUG_MAX_LENGTH = Team._meta.get_field("slug").max_length


def _audit(actor: User | None, action: str, subject, **data) -> None:
    """Grants and revocations go into the hash-chained audit log as well as auditlog."""
    audit_event_append(actor=actor, action=action, subject=subject, data=data)


def is_administrator(user: User) -> bool:
    """Superusers and holders of the global administrator role."""
    if not (user.is_authenticated and user.is_active):
        return False
    return (
        user.is_superuser
        or RoleAssignment.objects.filter(
            user=user, role__name=RoleName.ADMINISTRATOR, team__isnull=True
        ).exists()
    )


def require_administrator(actor: User | None) -> None:
    """``actor`` None means the system itself (migrations, the directory sync)."""
    if actor is not None and not is_administrator(actor):
        raise Forbidden("Only administrators may manage teams and roles.")


@transaction.atomic
def team_create(
    *, name: str, description: str = "", slug: str = "", actor: User | None = None
) -> Team:
    """Create a team; its slug is derived from the name unless given."""
    require_administrator(actor)
    # A derived slug is cut to the column's length (a long name would not fit in PostgreSQL).
    slug = slug or slugify(name)[:SLUG_MAX_LENGTH].strip("-")
    if not slug:
        raise InvalidInput("A team needs a name.", field_errors={"name": ["Required."]})
    if Team.objects.filter(slug=slug).exists():
        raise Conflict(f"A team with slug '{slug}' already exists.")
    if Team.objects.filter(name=name).exists():
        raise Conflict(f"A team named '{name}' already exists.")
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug, description=description)
            # A team decides who sees and changes what: its creation is in the chain.
            _audit(actor, "team.create", team, team=slug, name=name)
            return team
    except IntegrityError as exc:  # created by someone else in the meantime
        raise Conflict(f"A team with slug '{slug}' or name '{name}' already exists.") from exc


@transaction.atomic
def team_add_member(
    *,
    team: Team,
    user: User,
    actor: User | None = None,
    source: str = GrantSource.MANUAL,
    audit_extra: dict | None = None,
) -> TeamMembership:
    """Make ``user`` a member of ``team`` (idempotent). ``audit_extra`` goes into the audit
    entry too (the directory sync names the provider and group there)."""
    require_administrator(actor)
    membership, created = TeamMembership.objects.get_or_create(
        team=team, user=user, defaults={"source": source}
    )
    if created:
        _audit(
            actor,
            "team.join",
            membership,
            team=team.slug,
            user=user.username,
            source=source,
            **(audit_extra or {}),
        )
    if not created and source == GrantSource.MANUAL and membership.source != source:
        # Granted by hand as well: it must outlive the directory group that also implied it.
        membership.source = source
        membership.save(update_fields=["source", "updated_at"])
    access_forget(user)
    return membership


@transaction.atomic
def team_remove_member(
    *, team: Team, user: User, actor: User | None = None, audit_extra: dict | None = None
) -> None:
    """End ``user``'s membership of ``team`` (each deletion is audited, with
    ``audit_extra``)."""
    require_administrator(actor)
    for membership in TeamMembership.objects.filter(team=team, user=user):
        _audit(
            actor,
            "team.leave",
            membership,
            team=team.slug,
            user=user.username,
            **(audit_extra or {}),
        )
        membership.delete()
    access_forget(user)


@transaction.atomic
def team_delete(*, team: Team, actor: User | None) -> None:
    """Delete ``team`` (administrators only), with its memberships and the roles granted for
    it: each removed grant and membership is recorded in the audit chain, then the deletion.
    A team that still owns models, datasets, runs or alert channels cannot be deleted (409),
    and then nothing is recorded."""
    require_administrator(actor)
    team = Team.objects.select_for_update().get(pk=team.pk)
    grants = list(RoleAssignment.objects.filter(team=team).select_related("user", "role"))
    memberships = list(TeamMembership.objects.filter(team=team).select_related("user"))
    for grant in grants:
        _audit(
            actor,
            "role.revoke",
            grant,
            user=grant.user.username,
            role=grant.role.name,
            team=team.slug,
            reason="team deleted",
        )
    for membership in memberships:
        _audit(actor, "team.leave", membership, team=team.slug, user=membership.user.username)
    _audit(
        actor,
        "team.delete",
        team,
        team=team.slug,
        name=team.name,
        grants_removed=len(grants),
        members_removed=len(memberships),
    )
    try:
        with transaction.atomic():
            team.delete()
    except ProtectedError as exc:
        raise Conflict(
            f"The team '{team.slug}' still owns models, datasets, runs or alert channels; "
            "move them to another team first."
        ) from exc
    for user in {row.user for row in [*grants, *memberships]}:
        access_forget(user)


def role_get(name: str) -> Role:
    """The role row for one of the five governance roles (created on first use with its default
    description, should the migration's rows be gone, e.g. after a test flush)."""
    if name not in RoleName.values:
        raise InvalidInput(f"Unknown role '{name}'.", field_errors={"role": ["Unknown role."]})
    role, _ = Role.objects.get_or_create(name=name, defaults=ROLE_DEFAULTS[name])
    return role


@transaction.atomic
def role_assign(
    *,
    user: User,
    role: str,
    team: Team | None = None,
    actor: User | None = None,
    source: str = GrantSource.MANUAL,
    note: str = "",
    audit_extra: dict | None = None,
) -> RoleAssignment:
    """Grant ``role`` to ``user`` everywhere (no team) or for ``team`` (idempotent);
    ``audit_extra`` goes into the audit entry too."""
    require_administrator(actor)
    if actor is not None and actor.pk == user.pk and not actor.is_superuser:
        raise Forbidden("Nobody may grant roles to themselves.")
    role_row = role_get(role)
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role_row,
        team=team,
        defaults={"granted_by": actor, "source": source, "note": note},
    )
    if created:
        _audit(
            actor,
            "role.grant",
            assignment,
            user=user.username,
            role=role,
            team=team.slug if team else None,
            source=source,
            note=note,
            **(audit_extra or {}),
        )
    if not created and source == GrantSource.MANUAL and assignment.source != source:
        assignment.source = source
        assignment.granted_by = actor
        assignment.save(update_fields=["source", "granted_by", "updated_at"])
    access_forget(user)
    return assignment


@transaction.atomic
def role_revoke(
    *, assignment: RoleAssignment, actor: User | None = None, audit_extra: dict | None = None
) -> None:
    """Take a role assignment away (the deletion is audited, with ``audit_extra``)."""
    require_administrator(actor)
    user = assignment.user
    _audit(
        actor,
        "role.revoke",
        assignment,
        user=user.username,
        role=assignment.role.name,
        team=assignment.team.slug if assignment.team_id else None,
        **(audit_extra or {}),
    )
    assignment.delete()
    access_forget(user)


@transaction.atomic
def role_describe(
    *,
    actor: User | None,
    role: Role,
    description: str | None = None,
    qualifications: str | None = None,
) -> Role:
    """Edit what a role means and what holding it requires (administrators only). What the role
    may do is fixed in code, so separation of duties cannot be edited away."""
    require_administrator(actor)
    if description is not None:
        role.description = description
    if qualifications is not None:
        role.qualifications = qualifications
    role.save()
    _audit(
        actor,
        "role.describe",
        role,
        role=role.name,
        description=role.description,
        qualifications=role.qualifications,
    )
    return role


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    email: str = "",
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a local account (administrators only; superusers only by a superuser or the
    system). Without a password the account can sign in only through the directory or SSO."""
    require_administrator(actor)
    if is_superuser and actor is not None and not actor.is_superuser:
        raise Forbidden("Only a superuser may create another superuser.")
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user named '{username}' already exists.")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        display_name=display_name,
        is_staff=is_staff or is_superuser,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user
