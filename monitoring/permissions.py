"""Monitoring's refusals and its alert channels' rules.

Everything monitoring holds (a deployment, its predictions, checks, alerts, KPIs, rules) is
governed by the registered model behind it: ``monitoring.apps`` registers the path to it, and
``accounts.access.may`` answers. A service's verbs are alternatives ("who deploys or
validates"), so the refusals here take a tuple."""

from __future__ import annotations

from accounts.access import may, team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from accounts.services.teams import is_administrator
from core.errors import Forbidden, NotFound
from monitoring.choices import ChannelKind


def require_any(user: User, verbs, obj) -> None:
    """Refuse unless ``user`` may do one of ``verbs`` to ``obj``: 404 when they may not even
    see it (its existence is not theirs to know), else 403."""
    if any(may(user, verb, obj) for verb in verbs):
        return
    name = type(obj)._meta.verbose_name
    if not may(user, Verb.VIEW, obj):
        raise NotFound(f"{name.capitalize()} not found.")
    raise Forbidden(f"You may not {' or '.join(verbs)} {name} '{obj}'.")


def require_on(user: User, verb: str, obj) -> None:
    require_any(user, (verb,), obj)


def require_logger(user: User, deployment) -> None:
    """Refuse unless ``user`` may log production evidence (predictions, ground truth, KPI
    values) for ``deployment``: the ``log`` verb, which only a serving gateway's role holds. A
    model's builders and deployers do not, so the evidence that judges their model is not
    theirs to write."""
    if may(user, Verb.LOG, deployment):
        return
    if not may(user, Verb.VIEW, deployment):
        raise NotFound("Deployment not found.")
    raise Forbidden(
        f"Only a serving gateway logs predictions, ground truth and KPI values of deployment "
        f"'{deployment}' (the log verb, held by the gateway role)."
    )


def may_manage_channels(user: User, team: Team) -> bool:
    """Whether ``user`` manages ``team``'s alert channels: its managers (deploy verb for the
    team) and administrators."""
    scope = team_scope(user, Verb.DEPLOY)
    if scope.everywhere or team.pk in scope.team_ids:
        return True
    # Asked once per row of a channel list: the answer is kept on the user (per request).
    if "_steward_is_administrator" not in user.__dict__:
        user._steward_is_administrator = is_administrator(user)
    return user._steward_is_administrator


MASK = "\u2026"


def channel_target_masked(kind: str, target: str) -> str:
    """A channel's target as shown to those who may not manage the channel: a Slack or webhook
    URL carries its credential in the path, so only its scheme and host are kept
    (``https://hooks.slack.com/…``); e-mail addresses keep their domain (``…@example.org``)."""
    if kind == ChannelKind.EMAIL:
        domains = [a.strip().rpartition("@")[2] for a in target.split(",") if a.strip()]
        return ", ".join(f"{MASK}@{domain}" for domain in domains)
    scheme, _, rest = target.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return f"{scheme}://{host}/{MASK}" if host else MASK


def channel_target_for(user: User, channel) -> str:
    """The target of ``channel`` as ``user`` may see it: whole for who manages it, else
    masked (a Slack webhook URL, a webhook with its query, a distribution list are
    credentials or personal data)."""
    if may_manage_channels(user, channel.owner_team):
        return channel.target
    return channel_target_masked(channel.kind, channel.target)
