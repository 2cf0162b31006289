"""The ``numbers`` template filters: numbers as people read them, never "92.700"."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from core.templatetags.numbers import metric, number, percent


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (92.7, "92.7"),
        (92.700, "92.7"),
        (0.93127, "0.931"),
        (100.0, "100"),
        (0.5, "0.5"),
        (12345.678, "12,346"),
        (1.0e-7, "1.00e-07"),
        (0, "0"),
        (-0.0421, "-0.0421"),
        (3, "3"),
        (None, "—"),
        ("n/a", "n/a"),
        (float("nan"), "nan"),
        (True, "True"),
    ],
)
def test_number_keeps_three_significant_digits_and_no_trailing_zeros(value, shown):
    assert number(value) == shown


def test_number_rounds_to_whole_numbers_when_asked():
    assert (number(92.7, 0), number(1234.5, "0"), number(0.4, 0)) == ("93", "1,234", "0")
    assert number(0.123456, 5) == "0.12346"
    assert number(0.5, "junk") == "0.5"


def test_percent_shows_a_rate_as_a_percentage():
    assert (percent(0.0333), percent(0.927), percent(1), percent(None)) == (
        "3.33 %",
        "92.7 %",
        "100 %",
        "—",
    )


def test_metric_shows_rates_as_percentages_and_other_metrics_as_numbers():
    assert metric(0.9271, "accuracy") == "92.7 %"
    assert metric(0.1, "selection_rate") == "10 %"
    assert metric(0.9271, "auc") == "0.927"
    assert metric(1.39121, "psi") == "1.39"


def test_the_filters_load_in_a_template():
    html = Template("{% load numbers %}{{ v|number }} {{ r|percent }} {{ v|metric:'accuracy' }}")
    assert html.render(Context({"v": 0.927, "r": 0.5})) == "0.927 50 % 92.7 %"
