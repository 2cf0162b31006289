"""Who writes each free-text section of a document.

A free-text section names the role that writes it (``"writer"`` in the template's section):
the developers write what the model is for and its limits, an independent validator writes the
validation's assessment, a production model manager writes the sign-off statements. Each
writer is a verb on the version and, for the reviewers' sections, independence from it: the
version's registrant and submitters never write what is meant to judge their work. The service
asks :func:`writer_refusal`; the page asks it too, to offer only the forms one may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from accounts.access import may
from accounts.choices import TokenScope, Verb
from accounts.models import User
from governance.choices import Action
from governance.models import Decision
from registry.models import ModelVersion


class SectionWriter(models.TextChoices):
    DEVELOPER = "developer", "Developer"
    VALIDATOR = "validator", "Validator"
    MANAGER = "manager", "Manager"


# A section that names no writer (templates from before writers were named) is the developers'.
DEFAULT_WRITER = SectionWriter.DEVELOPER


@dataclass(frozen=True)
class WriterRule:
    """The verb a writer needs on the version, the API token scope that carries it, and
    whether the version's registrant and submitters are excluded."""

    verb: str
    scope: str
    independent: bool
    who: str  # for messages: "a validator of the model"


WRITER_RULES: dict[str, WriterRule] = {
    SectionWriter.DEVELOPER: WriterRule(
        Verb.CHANGE, TokenScope.WRITE, False, "a developer of the model (change permission)"
    ),
    SectionWriter.VALIDATOR: WriterRule(
        Verb.VALIDATE, TokenScope.VALIDATE, True, "an independent validator of the model"
    ),
    SectionWriter.MANAGER: WriterRule(
        Verb.APPROVE, TokenScope.APPROVE, True, "an approver (production model manager)"
    ),
}


def section_writer(section: dict) -> str:
    """The writer a template section names (the developers when it names none)."""
    return section.get("writer") or DEFAULT_WRITER


def writer_label(writer: str) -> str:
    return SectionWriter(writer).label.lower() if writer in SectionWriter.values else writer


def version_authors(version: ModelVersion) -> set[int]:
    """Whoever registered the version or submitted it (in any round)."""
    submitters = Decision.objects.filter(version=version, action=Action.SUBMIT).values_list(
        "actor_id", flat=True
    )
    return {version.registered_by_id, *submitters}


def writer_refusal(
    user: User,
    version: ModelVersion,
    writer: str,
    *,
    token_scopes: list[str] | None = None,
    authors: set[int] | None = None,
) -> str:
    """Why ``user`` may not write a section of ``writer`` for ``version``; empty if they may.
    The caller has checked that the user may view the version."""
    rule = WRITER_RULES.get(writer)
    if rule is None:
        return f"The section names an unknown writer '{writer}'."
    if not may(user, rule.verb, version):
        return f"This section is written by {rule.who}."
    if rule.independent:
        authors = version_authors(version) if authors is None else authors
        if user.pk in authors:
            return (
                f"This section is written by {rule.who}; whoever registered or submitted the "
                "version may not write it."
            )
    if token_scopes is not None and rule.scope not in token_scopes:
        return f"This API token lacks the '{rule.scope}' scope this section needs."
    return ""
