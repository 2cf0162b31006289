"""Raw columns turned into clean arrays: missing values, kinds, category keys, JSON numbers.

Every statistic in this package reads its input through these helpers, so "missing" means the
same thing everywhere: ``None``, NaN and, for numeric columns, ±inf (an infinite value cannot be
binned, ranked against a quantile grid or stored in JSON).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)

ColumnValues = Sequence[Any] | np.ndarray


def column_array(values: ColumnValues) -> np.ndarray:
    """A one-dimensional array of ``values``.

    A list becomes an object array rather than letting numpy pick a type: numpy would turn
    ``["a", nan]`` into the strings ``"a"`` and ``"nan"``, losing the missing value.
    """
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"a column must be one-dimensional, got shape {array.shape}")
    return array


def missing_mask(array: np.ndarray) -> np.ndarray:
    """True where a value is missing (None or NaN; infinities are values here)."""
    if array.dtype.kind == "f":
        return np.isnan(array)
    if array.dtype.kind != "O":
        return np.zeros(len(array), dtype=bool)
    # Elementwise on objects: ``v == None`` finds None, ``v != v`` is only true for NaN.
    return np.asarray(array == None, dtype=bool) | np.asarray(array != array, dtype=bool)  # noqa: E711


def numeric_values(array: np.ndarray) -> tuple[np.ndarray, int]:
    """The finite values of ``array`` as float64, and how many values were missing.

    Raises ValueError (or TypeError) when a present value is not a number.
    """
    floats = numeric_with_gaps(array)
    finite = floats[np.isfinite(floats)]
    return finite, len(array) - len(finite)


def numeric_with_gaps(array: np.ndarray) -> np.ndarray:
    """``array`` as float64, NaN where a value is missing, so rows stay aligned.

    Raises ValueError (or TypeError) when a present value is not a number.
    """
    # numpy's cast from objects reads None as NaN (and parses numeric strings), four times
    # faster than masking the None first.
    return array.astype(np.float64, copy=False)


def category_key(value: Any) -> str | None:
    """The string a category is stored under in a profile; None for a missing value.

    Profiles are JSON, whose keys are strings, so categories are compared by this key: whole
    floats lose their ``.0`` so that ``1``, ``1.0`` and ``"1"`` are one category.
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isfinite(value) and float(value).is_integer():
            return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def category_counts(array: np.ndarray) -> tuple[dict[str, int], int]:
    """How often each category key occurs in ``array``, and how many values were missing."""
    if array.dtype.kind in "biufUS":
        present = array[~missing_mask(array)]
        uniques, counts = np.unique(present, return_counts=True)
        raw: Iterable[tuple[Any, int]] = zip(uniques.tolist(), counts.tolist(), strict=True)
    else:
        # Counting hashable Python objects beats sorting them with np.unique by an order of
        # magnitude; only the few distinct values are then turned into keys.
        raw = Counter(array.tolist()).items()
    counts_by_key: dict[str, int] = {}
    missing = 0
    for value, count in raw:
        key = category_key(value)
        if key is None:
            missing += count
        else:
            counts_by_key[key] = counts_by_key.get(key, 0) + count
    return counts_by_key, missing


def kind_infer(array: np.ndarray) -> str:
    """``numeric`` for numbers, ``categorical`` for strings, booleans and anything else.

    An object column is numeric when every present value is a number (booleans excluded); a
    column with no present value at all is called categorical, which never fails to read.
    """
    if array.dtype.kind in "iuf":
        return NUMERIC
    if array.dtype.kind != "O":
        return CATEGORICAL
    present = array[~missing_mask(array)]
    if len(present) == 0:
        return CATEGORICAL
    types = {type(value) for value in present.tolist()}
    numeric = all(issubclass(t, int | float | np.number) and not issubclass(t, bool) for t in types)
    return NUMERIC if numeric else CATEGORICAL


def json_float(value: float | np.floating | None) -> float | None:
    """``value`` as a plain float, or None when it is missing or not finite (JSON has no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_scalar(value: Any) -> Any:
    """A numpy scalar as the Python scalar JSON can store; other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def common_length(arrays: Iterable[np.ndarray]) -> int | None:
    """The one length shared by ``arrays`` (None when there are none); ValueError otherwise."""
    lengths = {len(array) for array in arrays}
    if len(lengths) > 1:
        raise ValueError(f"columns of one window must have the same length, got {sorted(lengths)}")
    return lengths.pop() if lengths else None


def lengths_check(*arrays: np.ndarray | None) -> None:
    """ValueError unless the given arrays (None skipped) have one length."""
    lengths = {len(array) for array in arrays if array is not None}
    if len(lengths) > 1:
        raise ValueError(f"arrays of different lengths: {sorted(lengths)}")
