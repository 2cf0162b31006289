"""Who the demo's people are and which models it builds, from which data, with which estimators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from accounts.choices import RoleName
from registry.choices import RiskTier
from registry.demo.tables import (
    Table,
    clean_breast_cancer,
    clean_diabetes,
    load_breast_cancer,
    load_diabetes,
    load_wine,
)

DEMO_PASSWORD = "steward-demo"
EMAIL_DOMAIN = "steward-demo.example.org"
RANDOM_STATE = 42  # every split and estimator is seeded: the demo is reproducible
TEST_SIZE = 0.25


@dataclass(frozen=True)
class DemoUser:
    """A demo persona: the teams they belong to and the roles they hold, each for one team
    (by slug) or, with None, for every team."""

    username: str
    first_name: str
    last_name: str
    teams: tuple[str, ...] = ()
    roles: tuple[tuple[str, str | None], ...] = ()
    superuser: bool = False


CREDIT, MARKETING = "credit-risk", "marketing"
DEMO_TEAMS = (
    (CREDIT, "Credit Risk", "Scoring and screening models with a high risk tier."),
    (MARKETING, "Marketing Analytics", "Segmentation and campaign models."),
)

# The first is the administrator who grants everything else.
DEMO_USERS = (
    DemoUser("admin", "Ada", "Admin", roles=((RoleName.ADMINISTRATOR, None),), superuser=True),
    DemoUser("contributor", "Carla", "Contributor", (CREDIT,), ((RoleName.CONTRIBUTOR, CREDIT),)),
    DemoUser("validator", "Victor", "Validator", (CREDIT,), ((RoleName.VALIDATOR, CREDIT),)),
    # High-risk models need two independent sign-offs, and nobody may give two: a second
    # validator lets the demo take one all the way to production honestly.
    DemoUser("validator2", "Valerie", "Validator", (CREDIT,), ((RoleName.VALIDATOR, CREDIT),)),
    DemoUser("manager", "Maria", "Manager", (CREDIT,), ((RoleName.MANAGER, CREDIT),)),
    DemoUser("auditor", "Aude", "Auditor", (CREDIT,), ((RoleName.AUDITOR, None),)),
    DemoUser("outsider", "Oscar", "Outsider", (MARKETING,), ((RoleName.CONTRIBUTOR, MARKETING),)),
    # The screening clinic's serving gateway: logs predictions, diagnoses and KPI values of
    # Credit Risk's deployments, and may do nothing else (production evidence is not written by
    # a model's developers).
    DemoUser("gateway", "Gus", "Gateway", roles=((RoleName.GATEWAY, CREDIT),)),
)


@dataclass(frozen=True)
class Candidate:
    """One estimator trained in a scenario; each becomes the next version of the model."""

    estimator: str
    build: Callable[[dict], Any]
    params: dict
    code_path: str
    description: str


@dataclass(frozen=True)
class Scenario:
    """One model the demo builds: from which bundled data set, cleaned how (if at all), trained
    with which estimators, by whom and for which team."""

    model: str
    description: str
    risk_tier: str
    team: str
    owner: str
    dataset: str
    dataset_description: str
    load: Callable[[], Table]
    candidates: tuple[Candidate, ...]
    clean: Callable[[Table], Table] | None = None
    tags: tuple[str, ...] = ()


SCENARIOS = (
    Scenario(
        model="cancer-screening",
        description="Flags breast tissue samples whose cell nuclei look malignant.",
        risk_tier=RiskTier.HIGH,
        team=CREDIT,
        owner="contributor",
        dataset="breast-cancer",
        dataset_description="Wisconsin diagnostic breast cancer data (569 fine-needle aspirates).",
        load=load_breast_cancer,
        clean=clean_breast_cancer,
        tags=("demo", "classification"),
        candidates=(
            Candidate(
                "LogisticRegression",
                lambda p: make_pipeline(StandardScaler(), LogisticRegression(**p)),
                {"C": 1.0, "max_iter": 1000},
                "models/cancer_screening/train_logreg.py",
                "Baseline: standardised features, L2-regularised logistic regression.",
            ),
            Candidate(
                "GradientBoostingClassifier",
                lambda p: GradientBoostingClassifier(**p),
                {
                    "n_estimators": 150,
                    "learning_rate": 0.1,
                    "max_depth": 2,
                    "subsample": 0.8,
                    "random_state": RANDOM_STATE,
                },
                "models/cancer_screening/train_gbm.py",
                "Retrained with gradient-boosted trees to capture feature interactions.",
            ),
        ),
    ),
    Scenario(
        model="diabetes-progression",
        description="Predicts disease progression one year after baseline.",
        risk_tier=RiskTier.MEDIUM,
        team=CREDIT,
        owner="contributor",
        dataset="diabetes",
        dataset_description="Efron et al. (2004) diabetes study: 442 patients, 10 baseline values.",
        load=load_diabetes,
        clean=clean_diabetes,
        tags=("demo", "regression"),
        candidates=(
            Candidate(
                "Ridge",
                lambda p: make_pipeline(StandardScaler(), Ridge(**p)),
                {"alpha": 1.0},
                "models/diabetes_progression/train.py",
                "Standardised ridge regression.",
            ),
            Candidate(
                "GradientBoostingRegressor",
                lambda p: GradientBoostingRegressor(**p),
                {
                    "n_estimators": 200,
                    "learning_rate": 0.05,
                    "max_depth": 2,
                    "subsample": 0.8,
                    "random_state": RANDOM_STATE,
                },
                "models/diabetes_progression/train_gbm.py",
                "Gradient-boosted trees: do non-linear effects beat the ridge baseline?",
            ),
        ),
    ),
    Scenario(
        model="wine-segmentation",
        description="Assigns wines to one of three cultivars for campaign targeting.",
        risk_tier=RiskTier.LOW,
        team=MARKETING,
        owner="outsider",
        dataset="wine",
        dataset_description="UCI wine recognition data: 178 wines, 13 chemical measurements.",
        load=load_wine,
        tags=("demo", "classification"),
        candidates=(
            Candidate(
                "RandomForestClassifier",
                lambda p: RandomForestClassifier(**p),
                {"n_estimators": 100, "max_depth": 6, "random_state": RANDOM_STATE},
                "models/wine_segmentation/train.py",
                "Random forest on the raw measurements.",
            ),
        ),
    ),
)
