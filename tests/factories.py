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
