"""Alert channels of a team: where its alerts are delivered (e-mail, Slack, signed webhook).

Whoever may deploy the team's models (its managers, global managers) and administrators manage
them; contributors hold "change" in their team but do not decide where alerts go."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction

from accounts.access import team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.eventlog import audit_event_append
from core.outbound import outbound_url_check
from monitoring.choices import ChannelKind
from monitoring.models import AlertChannel
from monitoring.permissions import may_manage_channels
from monitoring.services.alerts.cleaning import choice_clean, fields_known_require, name_clean

CHANNEL_FIELDS = frozenset({"name", "kind", "target", "enabled"})


def channel_target_clean(kind: str, target: str) -> str:
    """``target`` as stored for a channel of ``kind``, or InvalidInput: e-mail addresses
    comma-separated and each valid; Slack and webhook URLs accepted by the outbound policy."""
    choice_clean(kind, ChannelKind.values, "kind")
    target = (target or "").strip()
    if not target:
        raise InvalidInput("A channel needs a target.", field_errors={"target": ["Required."]})
    if kind == ChannelKind.EMAIL:
        addresses = [address.strip() for address in target.split(",") if address.strip()]
        bad = [address for address in addresses if not _is_email(address)]
        if bad or not addresses:
            message = f"Not an e-mail address: {', '.join(bad) or target}."
            raise InvalidInput(message, field_errors={"target": [message]})
        target = ", ".join(addresses)
    else:
        outbound_url_check(target)
    if len(target) > AlertChannel._meta.get_field("target").max_length:
        raise InvalidInput("The target is too long.", field_errors={"target": ["Too long."]})
    return target


def _is_email(address: str) -> bool:
    try:
        EmailValidator()(address)
    except ValidationError:
        return False
    return True


def channel_manager_require(actor: User, team: Team, *, existing: bool = False) -> None:
    """Refuse unless ``actor`` may manage ``team``'s channels (see the module docstring). For an
    existing channel, who may not even see the team's models gets a 404."""
    if may_manage_channels(actor, team):
        return
    viewers = team_scope(actor, Verb.VIEW)
    if existing and not (viewers.everywhere or team.pk in viewers.team_ids):
        raise NotFound("Alert channel not found.")
    raise Forbidden(
        f"Only managers of team '{team.slug}' and administrators manage its alert channels."
    )


@transaction.atomic
def alert_channel_create(
    *, actor: User, owner_team: Team, name: str, kind: str, target: str, enabled: bool = True
) -> AlertChannel:
    """Add a channel for ``owner_team``'s alerts. A webhook's signing secret is generated."""
    channel_manager_require(actor, owner_team)
    name = name_clean(name)
    target = channel_target_clean(kind, target)
    if AlertChannel.objects.filter(owner_team=owner_team, name=name).exists():
        raise Conflict(f"Team '{owner_team.slug}' has a channel named '{name}'.")
    channel = AlertChannel.objects.create(
        owner_team=owner_team,
        name=name,
        kind=kind,
        target=target,
        enabled=bool(enabled),
        created_by=actor,
    )
    _channel_audit(actor, "alert_channel.create", channel)
    return channel


@transaction.atomic
def alert_channel_update(*, actor: User, channel: AlertChannel, **fields) -> AlertChannel:
    """Change a channel's ``name``, ``kind``, ``target`` or ``enabled``; the target is checked
    again. The owning team does not change."""
    fields_known_require(fields, CHANNEL_FIELDS)
    channel = AlertChannel.objects.select_for_update().get(pk=channel.pk)
    channel_manager_require(actor, channel.owner_team, existing=True)
    before = _channel_data(channel)
    if "name" in fields:
        channel.name = name_clean(fields["name"])
        others = AlertChannel.objects.filter(owner_team_id=channel.owner_team_id, name=channel.name)
        if others.exclude(pk=channel.pk).exists():
            raise Conflict(f"The team has a channel named '{channel.name}'.")
    if "kind" in fields or "target" in fields:
        kind = fields.get("kind", channel.kind)
        channel.target = channel_target_clean(kind, fields.get("target", channel.target))
        channel.kind = kind
    if "enabled" in fields:
        channel.enabled = bool(fields["enabled"])
    channel.save()
    _channel_audit(actor, "alert_channel.update", channel, before=before)
    return channel


@transaction.atomic
def alert_channel_delete(*, actor: User, channel: AlertChannel) -> None:
    """Delete a channel nothing was ever delivered to; one with deliveries is kept as part of
    the alerts' record (disable it instead)."""
    channel = AlertChannel.objects.select_for_update().get(pk=channel.pk)
    channel_manager_require(actor, channel.owner_team, existing=True)
    if channel.deliveries.exists():
        raise Conflict(f"Alerts were delivered to '{channel.name}': disable it instead.")
    _channel_audit(actor, "alert_channel.delete", channel)
    channel.delete()


def _channel_data(channel: AlertChannel) -> dict:
    # Slack and webhook URLs often carry a token in their path: the audit keeps the host only.
    target = channel.target
    if channel.kind != ChannelKind.EMAIL:
        target = target.split("://", 1)[-1].split("/", 1)[0]
    return {
        "name": channel.name,
        "kind": channel.kind,
        "target": target,
        "enabled": channel.enabled,
    }


def _channel_audit(actor, action: str, channel: AlertChannel, **extra) -> None:
    audit_event_append(
        actor=actor,
        action=action,
        subject=channel,
        data={"team": channel.owner_team.slug, **_channel_data(channel), **extra},
    )
