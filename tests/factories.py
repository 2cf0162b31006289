"""factory_boy factories. Domain objects are built through their services, so every row a test
sees has the lineage nodes and invariants the application itself would give it."""

from __future__ import annotations

import hashlib

import factory

from accounts.models import Team, User
from registry import services
from registry.choices import RiskTier, RunKind
from registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel, Run

PASSWORD = "correct-horse-battery"


def fake_sha256(seed: object) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    """By default the team under test, Credit Risk, which the personas belong to; other teams
    are named explicitly."""

    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = "Credit Risk"
    slug = factory.LazyAttribute(lambda t: t.name.lower().replace(" ", "-"))


class ServiceFactory(factory.Factory):
    """Base for factories whose ``_create`` calls a service. The default actor is a superuser,
    so building test data never trips a permission check; permission tests pass their
    persona as ``actor``."""

    class Meta:
        abstract = True

    actor = factory.SubFactory(
        UserFactory, username=factory.Sequence(lambda n: f"builder{n}"), is_superuser=True
    )


class RegisteredModelFactory(ServiceFactory):
    class Meta:
        model = RegisteredModel

    name = factory.Sequence(lambda n: f"model-{n}")
    owner_team = factory.SubFactory(TeamFactory)
    risk_tier = RiskTier.MEDIUM
    description = "A model for tests."

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.registered_model_create(**kwargs)


class DatasetFactory(ServiceFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")
    owner_team = factory.SubFactory(TeamFactory)

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.dataset_create(**kwargs)


class DatasetVersionFactory(ServiceFactory):
    class Meta:
        model = DatasetVersion

    dataset = factory.SubFactory(DatasetFactory)
    uri = factory.Sequence(lambda n: f"s3://data/{n}.parquet")
    content_hash = factory.Sequence(fake_sha256)
    row_count = 1000

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.dataset_version_create(**kwargs)


class RunFactory(ServiceFactory):
    class Meta:
        model = Run

    kind = RunKind.TRAINING
    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"run-{n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.run_create(**kwargs)


class ModelVersionFactory(ServiceFactory):
    class Meta:
        model = ModelVersion

    registered_model = factory.SubFactory(RegisteredModelFactory)
    artifact_uri = factory.Sequence(lambda n: f"s3://models/{n}.pkl")
    artifact_sha256 = factory.Sequence(lambda n: fake_sha256(f"model-{n}"))
    framework = "sklearn"
    metrics = factory.LazyFunction(lambda: {"auc": 0.91})

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.model_version_register(**kwargs)


def approval_sections_write(
    version: ModelVersion, *, validator: User | None = None, manager: User | None = None
) -> None:
    """Write every section the version's policy wants written before approval, each by the role
    its template names: the developers' by the version's registrant, the validators' by
    ``validator`` (by default one who signed the version off), the approvers' by ``manager``.
    Through the service, so the writers' rules (an independent validator, say) hold here as in
    the product. Sections already written are left as they are."""
    from governance.choices import Action
    from governance.documents.writers import SectionWriter, section_writer
    from governance.guards import policy_for
    from governance.models import FreeTextSection
    from governance.services.documents import (
        document_templates_install,
        free_text_write,
        template_current,
    )

    # A test database emptied between tests (live-server tests) lost the templates the
    # migrations installed; put the shipped ones back, as the migration did.
    document_templates_install()
    if validator is None:
        sign_off = version.decisions.filter(action=Action.SIGN_OFF).order_by("-id").first()
        validator = sign_off.actor if sign_off else None
    writers = {
        SectionWriter.DEVELOPER: version.registered_by,
        SectionWriter.VALIDATOR: validator,
        SectionWriter.MANAGER: manager,
    }
    written = set(
        FreeTextSection.objects.filter(version=version).values_list("template_name", "section_key")
    )
    for name in policy_for(version).approval_documents:
        for section in template_current(name).free_text_sections:
            if (name, section["key"]) in written:
                continue
            writer = section_writer(section)
            if writers[writer] is None:
                continue  # nobody in that role yet: the approval guard says what is owed
            free_text_write(
                actor=writers[writer],
                version=version,
                template_name=name,
                section_key=section["key"],
                text=f"{section['title']}: written for {version} by its {writer}.",
            )


def version_decide(*, actor: User, version: ModelVersion, action: str, motivation: str, **kwargs):
    """``version_transition`` as the people of a review take it: before an approval the
    sections the policy wants written are written (``approval_sections_write``)."""
    from governance.choices import Action
    from governance.services.transitions import version_transition

    if action == Action.APPROVE:
        approval_sections_write(version, manager=actor)
    return version_transition(
        actor=actor, version=version, action=action, motivation=motivation, **kwargs
    )
