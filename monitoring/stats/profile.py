"""Baseline profiles: what drift checks need to know of the reference data, built once.

A profile is plain JSON, so it can be stored beside a deployment and every later check works
from it alone, never from the reference rows::

    {"version": 1, "row_count": 50000, "features": {
        "age": {"kind": "numeric", "count": 49800, "missing": 200,
                "mean": 41.2, "std": 12.9, "min": 18.0, "max": 90.0,
                "quantiles": [18.0, ..., 90.0],            # QUANTILE_COUNT values
                "bin_edges": [null, 24.0, ..., 63.0, null],
                "bin_fractions": [0.1, ..., 0.1]},
        "plan": {"kind": "categorical", "count": 50000, "missing": 0,
                 "frequencies": {"basic": 30000, "pro": 15000, "__other__": 5000}}}}

Numeric features:

- ``quantiles`` are taken at the probabilities ``linspace(0, 1, len(quantiles))`` (linear
  interpolation); the drift check interpolates the reference CDF between them, which is within
  about ``1 / (len(quantiles) - 1)`` of the reference's empirical CDF.
- ``bin_edges`` are the PSI bins: the reference deciles made unique, between an open lower and
  an open upper end written as ``null`` (JSON has no infinity). Bin ``i`` holds the values ``x``
  with ``bin_edges[i] <= x < bin_edges[i + 1]``, a ``null`` bound meaning unbounded, so there
  is one more edge than there are ``bin_fractions``. A constant column has the single interior
  edge at its value: an empty bin below it and one holding everything.
- With no present value, the statistics are ``null`` and the lists empty.

Categorical features keep the ``CATEGORY_LIMIT`` most frequent categories (ties by name); the
rest are added up under ``OTHER``. Categories are strings (see ``values.category_key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from monitoring.stats.values import (
    CATEGORICAL,
    KINDS,
    NUMERIC,
    ColumnValues,
    category_counts,
    column_array,
    common_length,
    json_float,
    kind_infer,
    numeric_values,
)

PROFILE_VERSION = 1
QUANTILE_COUNT = 1001
PSI_BIN_COUNT = 10
CATEGORY_LIMIT = 100
OTHER = "__other__"


def baseline_profile_build(
    columns: Mapping[str, ColumnValues], kinds: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Profile each reference column (JSON-serialisable, see the module docstring).

    ``kinds`` maps a column to ``"numeric"`` or ``"categorical"``; a column it does not name
    has its kind inferred from its values (``values.kind_infer``).
    """
    kinds = dict(kinds or {})
    unknown = sorted(set(kinds) - set(columns))
    if unknown:
        raise ValueError(f"kinds given for columns that are not there: {unknown}")
    invalid = sorted(name for name, kind in kinds.items() if kind not in KINDS)
    if invalid:
        raise ValueError(f"kinds must be one of {KINDS}; not for {invalid}")
    arrays = {name: column_array(values) for name, values in columns.items()}
    features = {
        name: feature_profile_build(array, kinds.get(name) or kind_infer(array))
        for name, array in arrays.items()
    }
    return {
        "version": PROFILE_VERSION,
        "row_count": common_length(arrays.values()) or 0,
        "features": features,
    }


def feature_profile_build(array: np.ndarray, kind: str) -> dict[str, Any]:
    """The profile of one column of the given kind."""
    if kind == NUMERIC:
        return numeric_profile_build(array)
    return categorical_profile_build(array)


def numeric_profile_build(array: np.ndarray) -> dict[str, Any]:
    """Moments, quantile grid and PSI bins of a numeric column."""
    values, missing = numeric_values(array)
    values.sort()
    profile: dict[str, Any] = {"kind": NUMERIC, "count": len(values), "missing": missing}
    if len(values) == 0:
        empty = dict.fromkeys(("mean", "std", "min", "max"))
        return {**profile, **empty, "quantiles": [], "bin_edges": [], "bin_fractions": []}
    # Rounding in the interpolation must not make the grid step back: the CDF built on it
    # has to be non-decreasing.
    quantiles = np.maximum.accumulate(np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_COUNT)))
    interior = psi_interior_edges(values)
    fractions = bin_counts(values, interior) / len(values)
    return {
        **profile,
        "mean": json_float(values.mean()),
        "std": json_float(values.std()),
        "min": float(values[0]),
        "max": float(values[-1]),
        "quantiles": quantiles.tolist(),
        "bin_edges": [None, *interior.tolist(), None],
        "bin_fractions": fractions.tolist(),
    }


def psi_interior_edges(values: np.ndarray) -> np.ndarray:
    """The reference deciles, without repeats (ties in the data merge bins)."""
    probabilities = np.linspace(0.0, 1.0, PSI_BIN_COUNT + 1)[1:-1]
    return np.unique(np.quantile(values, probabilities))


def bin_counts(sorted_values: np.ndarray, interior_edges: np.ndarray) -> np.ndarray:
    """Counts per PSI bin (``[edge_i, edge_i+1)``, open at both ends) of sorted values."""
    below = np.searchsorted(sorted_values, interior_edges, side="left")
    return np.diff(np.concatenate(([0], below, [len(sorted_values)])))


def categorical_profile_build(array: np.ndarray) -> dict[str, Any]:
    """Category counts of a column, the long tail folded into ``OTHER``."""
    counts, missing = category_counts(array)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    frequencies = dict(ranked[:CATEGORY_LIMIT])
    tail = sum(count for _, count in ranked[CATEGORY_LIMIT:])
    if tail:
        frequencies[OTHER] = frequencies.get(OTHER, 0) + tail
    return {
        "kind": CATEGORICAL,
        "count": sum(counts.values()),
        "missing": missing,
        "frequencies": frequencies,
    }
