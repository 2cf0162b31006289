"""The governance part of the demo: versions in several states, reached the way real ones are.

Every state comes from ``version_transition`` taken by the demo person who would take it, with
a motivation that cites the version's recorded metrics; notes, questions and findings come from
``annotation_create`` / ``annotation_resolve``. Nothing is written directly. After seeding:

- ``cancer-screening`` v1 is in production (high risk: two independent validators signed off,
  ``validator`` and ``validator2``; a finding was raised, answered and resolved on the way),
  and the manager pointed ``cancer-screening@champion`` at it;
- ``cancer-screening`` v2 is submitted and waits for validation, with an open question;
- ``diabetes-progression`` v1 is approved (medium risk: one sign-off) and waits for the manager
  to put it in production;
- ``diabetes-progression`` v2 is the contributor's draft.

So each demo person finds something in their inbox: the contributor a draft to submit, both
validators a version to claim, the manager a version to promote, the administrator (a superuser)
all of these. Registered by ``GovernanceConfig.ready()`` as a hook of ``manage.py seed_demo``;
a version that already has decisions or notes is left alone, so seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditlog.context import set_actor
from django.db import transaction

from accounts.models import User
from governance.choices import Action, AnnotationKind
from governance.models import Annotation
from governance.selectors import annotations_on
from governance.services import (
    annotation_create,
    annotation_resolve,
    model_alias_set,
    version_transition,
)
from governance.services.documents import documents_required_generate, free_text_write
from registry.models import ModelVersion


@dataclass(frozen=True)
class Decide:
    actor: str
    action: str
    motivation: str


@dataclass(frozen=True)
class Note:
    actor: str
    kind: str
    body: str
    key: str = ""
    reply_to: str = ""


@dataclass(frozen=True)
class Resolve:
    actor: str
    key: str
    motivation: str


@dataclass(frozen=True)
class Write:
    """Write a free-text section of a document (the role the section names writes it)."""

    actor: str
    template: str
    section: str
    text: str


@dataclass(frozen=True)
class Alias:
    """Point an alias of the version's model at the version."""

    actor: str
    alias: str
    motivation: str


Step = Decide | Note | Resolve | Alias | Write

# Decisions whose guards want the policy's documents current: the demo renders them just before
# (it plays a review in one transaction, so the generation after each commit would be too late).
DOCUMENTED_ACTIONS = (Action.SUBMIT, Action.APPROVE, Action.CLEAR_FLAG)

# Texts are formatted with the version's recorded metrics, so the motivations quote real numbers.
SCRIPTS: dict[tuple[str, int], tuple[Step, ...]] = {
    ("cancer-screening", 1): (
        Write(
            "contributor",
            "model-card",
            "intended_use",
            "Pre-screening of fine-needle aspirate measurements in the pilot clinic: the model "
            "orders the pathologists' queue, malignant-looking samples first. Out of scope: "
            "any diagnosis without a pathologist's reading.",
        ),
        Write(
            "contributor",
            "model-card",
            "factors",
            "Measurements come from one clinic's imaging pipeline; the patients' age and the "
            "lab that prepared the slide are the factors most likely to shift the inputs.",
        ),
        Write(
            "contributor",
            "model-card",
            "ethical_considerations",
            "A missed malignant sample delays a diagnosis: the model only orders the queue, "
            "every sample is still read, and recall is watched on confirmed diagnoses.",
        ),
        Write(
            "contributor",
            "model-card",
            "caveats",
            "Trained on 569 samples from one institution; retrain and revalidate before any "
            "other clinic uses it.",
        ),
        Decide(
            "contributor",
            Action.SUBMIT,
            "Baseline for the screening service: standardised logistic regression trained on the "
            "cleaned Wisconsin data and evaluated on the stratified, seeded 25% hold-out "
            "(AUC {auc:.3f}, recall {recall:.3f}). Lineage from the raw CSV to the artifact is "
            "recorded.",
        ),
        Decide(
            "validator",
            Action.CLAIM,
            "Taking the first validation: I will re-run the evaluation and check the split, the "
            "class balance and recall on malignant samples.",
        ),
        Note(
            "validator",
            AnnotationKind.FINDING,
            "**Operating threshold not documented.** The metrics are reported at the default "
            "0.5 cut-off, but a screening model must state the threshold it runs at and its "
            "recall on malignant samples there. Please document it.",
            key="threshold",
        ),
        Note(
            "contributor",
            AnnotationKind.NOTE,
            "The service flags a sample when the predicted probability of *malignant* is at "
            "least 0.5; at that cut-off recall on the hold-out is {recall:.3f}. Added to the "
            "model description and the runbook.",
            reply_to="threshold",
        ),
        Resolve(
            "validator",
            "threshold",
            "The operating threshold and the recall there are now documented; finding closed.",
        ),
        Write(
            "validator",
            "sr-11-7-validation",
            "validator_assessment",
            "Logistic regression on standardised measurements is a sound, interpretable choice "
            "for ranking samples. The evaluation was re-run on the seeded, stratified hold-out "
            "and reproduces AUC {auc:.3f} and recall {recall:.3f}; the operating threshold is "
            "documented.",
        ),
        Write(
            "validator",
            "sr-11-7-validation",
            "limitations",
            "Trained on one public dataset (569 samples from one institution): performance in "
            "the pilot clinic must be confirmed on its own diagnoses, reviewed monthly.",
        ),
        Decide(
            "validator",
            Action.SIGN_OFF,
            "Re-running the evaluation reproduces the recorded metrics (AUC {auc:.3f}, accuracy "
            "{accuracy:.3f}). The split is stratified and seeded; train and test files are "
            "distinct and derive from the same cleaned version. Threshold finding resolved.",
        ),
        Decide(
            "validator2",
            Action.SIGN_OFF,
            "Second, independent review: scaling is fitted inside the pipeline on the training "
            "split only, and recall {recall:.3f} at the documented threshold meets the clinical "
            "team's requirement. Signing off.",
        ),
        Decide(
            "manager",
            Action.APPROVE,
            "Two independent sign-offs, metric checks pass and no finding is open. Approved for "
            "the screening pilot.",
        ),
        Decide(
            "manager",
            Action.PROMOTE,
            "Put in production for the pilot clinic's screening queue; recall on confirmed "
            "diagnoses is reviewed monthly.",
        ),
        Alias(
            "manager",
            "champion",
            "The version in production for the pilot clinic: clients load "
            "models:/cancer-screening@champion.",
        ),
    ),
    ("cancer-screening", 2): (
        Decide(
            "contributor",
            Action.SUBMIT,
            "Retrained with gradient-boosted trees (150 trees of depth 2) on the same training "
            "split to capture feature interactions: hold-out AUC {auc:.3f}, recall "
            "{recall:.3f}. Requesting validation before it replaces v1.",
        ),
        Note(
            "validator2",
            AnnotationKind.QUESTION,
            "Was `subsample=0.8` chosen in advance or tuned against the test split? If tuned, "
            "please point to the validation folds used, so the hold-out score is not optimistic.",
        ),
    ),
    ("diabetes-progression", 1): (
        Write(
            "contributor",
            "model-card",
            "intended_use",
            "Ranks patients for follow-up appointments by predicted disease progression a year "
            "after baseline. Out of scope: treatment decisions for an individual patient.",
        ),
        Write(
            "contributor",
            "model-card",
            "factors",
            "Age, sex and body-mass index are inputs; the scheduling team reviews the ranking "
            "by age group each quarter.",
        ),
        Write(
            "contributor",
            "model-card",
            "ethical_considerations",
            "Under-predicting a high progression could postpone a visit: patients can always "
            "book a visit themselves, and the ranking only orders the call list.",
        ),
        Write(
            "contributor",
            "model-card",
            "caveats",
            "442 patients from one study; the model under-predicts the highest scores, which "
            "is acceptable for ordering a call list only.",
        ),
        Decide(
            "contributor",
            Action.SUBMIT,
            "Ridge regression on the ten standardised baseline measurements: hold-out R² "
            "{r2:.3f}, MAE {mae:.1f}. Used to rank patients for follow-up appointments, not to "
            "decide treatment.",
        ),
        Decide(
            "validator",
            Action.CLAIM,
            "Claiming the validation (medium risk: one independent sign-off).",
        ),
        Note(
            "validator",
            AnnotationKind.NOTE,
            "The model under-predicts the highest progression scores. For ranking follow-ups "
            "that is acceptable; it would not be for predicting individual outcomes.",
        ),
        Decide(
            "validator",
            Action.SIGN_OFF,
            "Evaluation reproduced (R² {r2:.3f}, RMSE {rmse:.1f}). The limitation noted in the "
            "discussion is acceptable for the stated use. Signed off.",
        ),
        Decide(
            "manager",
            Action.APPROVE,
            "Validated with no open findings. Approved; going live waits for the scheduling "
            "system integration.",
        ),
    ),
    ("diabetes-progression", 2): (
        Note(
            "contributor",
            AnnotationKind.NOTE,
            "Work in progress: gradient-boosted trees reach R² {r2:.3f} against the ridge "
            "baseline. I will compare the residuals before submitting.",
        ),
    ),
}


def _texts(version: ModelVersion) -> dict:
    return {
        name: value for name, value in version.metrics.items() if isinstance(value, int | float)
    }


def _play(version: ModelVersion, steps: tuple[Step, ...], people: dict[str, User]) -> None:
    metrics = _texts(version)
    notes: dict[str, Annotation] = {}
    for step in steps:
        actor = people[step.actor]
        with set_actor(actor):
            if isinstance(step, Decide):
                if step.action in DOCUMENTED_ACTIONS:
                    documents_required_generate(actor=actor, version=version)
                version_transition(
                    actor=actor,
                    version=version,
                    action=step.action,
                    motivation=step.motivation.format_map(metrics),
                )
            elif isinstance(step, Note):
                note = annotation_create(
                    actor=actor,
                    target=version,
                    kind=step.kind,
                    body=step.body.format_map(metrics),
                    parent=notes.get(step.reply_to),
                )
                if step.key:
                    notes[step.key] = note
            elif isinstance(step, Write):
                free_text_write(
                    actor=actor,
                    version=version,
                    template_name=step.template,
                    section_key=step.section,
                    text=step.text.format_map(metrics),
                )
            elif isinstance(step, Alias):
                model_alias_set(
                    actor=actor,
                    model=version.registered_model,
                    alias=step.alias,
                    version=version,
                    motivation=step.motivation,
                )
            else:
                annotation_resolve(
                    actor=actor, annotation=notes[step.key], motivation=step.motivation
                )


def governance_demo_seed() -> list[str]:
    """Play each script on its version unless the version was already reviewed or discussed
    (or does not exist); returns what was done."""
    people = {user.username: user for user in User.objects.filter(is_active=True)}
    done = []
    for (model, number), steps in SCRIPTS.items():
        version = ModelVersion.objects.filter(registered_model__name=model, version=number).first()
        if version is None or version.decisions.exists() or annotations_on(version).exists():
            continue
        if any(step.actor not in people for step in steps):
            continue  # a demo person was removed: leave this version as it is
        with transaction.atomic():
            _play(version, steps, people)
        version.refresh_from_db()
        done.append(f"review of {model}/{number} ({version.get_status_display().lower()})")
    return done
