"""The demo's data: scikit-learn's bundled data sets as tables of numbers, the cleaning steps
that turn them into training data, and how a table is written, described and profiled."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn import datasets as sk_datasets


@dataclass(frozen=True)
class Table:
    """Numeric feature columns plus one target column: what a CSV file of the demo holds.
    ``classes`` names the target's values when it is categorical."""

    features: list[str]
    X: np.ndarray  # the usual name for a feature matrix
    target: str
    y: np.ndarray
    classes: tuple[str, ...] = ()

    def rows(self, index: np.ndarray) -> Table:
        return replace(self, X=self.X[index], y=self.y[index])

    def schema(self) -> dict[str, str]:
        return {**dict.fromkeys(self.features, "float64"), self.target: str(self.y.dtype)}

    def profile(self) -> dict[str, dict]:
        profile = {name: _numeric_profile(self.X[:, i]) for i, name in enumerate(self.features)}
        if self.classes:
            counts = np.bincount(self.y, minlength=len(self.classes))
            profile[self.target] = {
                "type": "categorical",
                "counts": {label: int(n) for label, n in zip(self.classes, counts, strict=True)},
            }
        else:
            profile[self.target] = _numeric_profile(self.y)
        return profile

    def input_schema(self) -> dict:
        columns = [{"name": name, "type": "float64"} for name in self.features]
        return {"type": "tabular", "columns": columns}

    def output_schema(self) -> dict:
        if not self.classes:
            return {"columns": [{"name": self.target, "type": "float64"}]}
        return {
            "columns": [
                {"name": self.target, "type": "int64", "labels": list(self.classes)},
                {"name": "probabilities", "type": "float64", "shape": [len(self.classes)]},
            ]
        }

    def write_csv(self, path: Path) -> None:
        # repr() of a Python float round-trips exactly: the file holds what the model saw.
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*self.features, self.target])
            for row, label in zip(self.X.tolist(), self.y.tolist(), strict=True):
                writer.writerow([*map(repr, row), repr(label)])


def _numeric_profile(values: np.ndarray) -> dict:
    def number(x: float) -> float:
        return round(float(x), 6)

    return {
        "type": "numeric",
        "min": number(values.min()),
        "max": number(values.max()),
        "mean": number(values.mean()),
        "std": number(values.std()),
        "missing": int(np.isnan(values).sum()),
    }


def load_breast_cancer() -> Table:
    bunch = sk_datasets.load_breast_cancer()
    names = list(bunch.feature_names)
    return Table(names, bunch.data, "diagnosis", bunch.target, tuple(bunch.target_names))


def clean_breast_cancer(raw: Table) -> Table:
    """Snake-case names, drop the standard-error columns, make malignant the positive class and
    add how much the worst cells outgrow the mean."""
    keep = [i for i, name in enumerate(raw.features) if not name.endswith(" error")]
    names = [raw.features[i].replace(" ", "_") for i in keep]
    X = raw.X[:, keep]
    growth = X[:, names.index("worst_area")] / X[:, names.index("mean_area")]
    malignant = (raw.y == 0).astype(np.int64)  # scikit-learn codes malignant as 0
    return Table(
        [*names, "worst_to_mean_area"],
        np.column_stack([X, growth]),
        "malignant",
        malignant,
        ("benign", "malignant"),
    )


_SERUM_NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu"}


def load_diabetes() -> Table:
    bunch = sk_datasets.load_diabetes(scaled=False)
    return Table(list(bunch.feature_names), bunch.data, "progression", bunch.target)


def clean_diabetes(raw: Table) -> Table:
    """Name the serum measurements, code sex as 0/1 and add the LDL/HDL ratio."""
    names = [_SERUM_NAMES.get(name, name) for name in raw.features]
    X = raw.X.copy()
    X[:, names.index("sex")] -= 1
    ratio = X[:, names.index("ldl")] / X[:, names.index("hdl")]
    return Table([*names, "ldl_hdl_ratio"], np.column_stack([X, ratio]), raw.target, raw.y)


def load_wine() -> Table:
    bunch = sk_datasets.load_wine()
    names = [name.replace("/", "_") for name in bunch.feature_names]
    return Table(names, bunch.data, "cultivar", bunch.target, tuple(bunch.target_names))
