"""MLflow's search syntax and page tokens, and the reading of a model's own files, without a
server: what is accepted, what it means, and that everything else is a clear FilterError."""

from __future__ import annotations

import pytest

from integrations.mlflow.registry.model_files import (
    conda_read,
    flavors_read,
    framework_of,
    model_facts_read,
    requirements_read,
)
from integrations.mlflow.registry.search_filter import (
    Condition,
    FilterError,
    filter_parse,
    like_regex,
    order_parse,
    page_token_make,
    page_token_read,
)


def test_it_reads_names_likes_and_backticked_tag_keys():
    conditions = filter_parse(
        "name LIKE 'ch%' AND tags.team = \"credit\" AND tag.`mlflow.prompt.is_prompt` != 'true'"
    )
    assert conditions == [
        Condition("name", "LIKE", "ch%"),
        Condition("team", "=", "credit", tag=True),
        Condition("mlflow.prompt.is_prompt", "!=", "true", tag=True),
    ]


def test_it_reads_in_lists_numbers_and_escaped_quotes():
    assert filter_parse("run_id IN ('a1', 'b2') and version_number >= 3") == [
        Condition("run_id", "IN", ("a1", "b2")),
        Condition("version_number", ">=", 3),
    ]
    assert filter_parse(r"name = 'it\'s'") == [Condition("name", "=", "it's")]
    assert filter_parse("tags.\"with space\" ILIKE '%x%'") == [
        Condition("with space", "ILIKE", "%x%", tag=True)
    ]


def test_an_empty_filter_is_no_condition():
    assert filter_parse(None) == []
    assert filter_parse("   ") == []


@pytest.mark.parametrize(
    "text",
    [
        "name = ",
        "name 'x'",
        "name = 'x' OR name = 'y'",
        "name = 'unterminated",
        "= 'x'",
        "tags. = 'x'",
        "tag.`` = 'x'",
        "name IN 'x'",
        "name = 'x' AND",
        "name ~ 'x'",
        "name = x",
        "name = 'x'; DROP TABLE",
    ],
)
def test_a_malformed_filter_is_refused_with_a_reason(text):
    with pytest.raises(FilterError) as refused:
        filter_parse(text)
    assert str(refused.value)


def test_like_is_an_anchored_pattern_with_everything_else_literal():
    assert like_regex("ch%") == "^ch.*$"
    assert like_regex("a_b.c") == r"^a.b\.c$"


def test_order_names_known_keys_once_and_ends_with_the_tiebreak():
    fields = {"name": "name", "last_updated_timestamp": "updated_at"}
    assert order_parse(["last_updated_timestamp DESC"], fields, ("name",)) == [
        "-updated_at",
        "name",
    ]
    assert order_parse(["name desc"], fields, ("name",)) == ["-name"]
    for bad in (["size"], ["name UP"], ["name", "name DESC"], ["a b c"]):
        with pytest.raises(FilterError):
            order_parse(bad, fields, ("name",))


def test_a_page_token_is_signed_and_bound_to_its_query():
    query = ("name LIKE 'a%'", ())
    token = page_token_make(6, query)
    assert page_token_read(token, query) == 6
    assert page_token_read("", query) == 0
    with pytest.raises(FilterError):
        page_token_read(token, ("name LIKE 'b%'", ()))
    with pytest.raises(FilterError):
        page_token_read(token[:-2] + "xx", query)
    with pytest.raises(FilterError):
        page_token_read("eyJvIjogOTk5OTl9", query)  # base64 of {"o": 99999}, unsigned


MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    python_version: 3.11.2
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.2
mlflow_version: 3.1.0
"""
CONDA = """\
channels:
- conda-forge
dependencies:
- python=3.11.2
- pip<=24.0
- pip:
  - mlflow==3.1.0
  - scikit-learn==1.5.2
name: mlflow-env
"""


def test_it_reads_the_flavors_and_the_framework_of_an_mlmodel_file():
    assert flavors_read(MLMODEL) == ["python_function", "sklearn"]
    assert framework_of(["python_function", "sklearn"]) == "sklearn"
    assert framework_of(["python_function"]) == "python_function"
    assert flavors_read("not: yaml: at all\n  - [") == []


def test_it_reads_requirements_and_conda_environments():
    assert requirements_read(
        "# pins\nnumpy==2.1.0\nscikit-learn == 1.5.2\n-r other.txt\npandas\n"
    ) == {
        "numpy": "2.1.0",
        "scikit-learn": "1.5.2",
        "pandas": "",
    }
    assert conda_read(CONDA) == ("3.11.2", {"mlflow": "3.1.0", "scikit-learn": "1.5.2"})


def test_model_facts_prefer_python_env_and_requirements_then_conda():
    files = {
        "MLmodel": MLMODEL,
        "python_env.yaml": "python: 3.11.9\ndependencies:\n- -r requirements.txt\n",
        "requirements.txt": "numpy==2.1.0\n",
        "conda.yaml": CONDA,
    }
    facts = model_facts_read(files.get)
    assert (facts.framework, facts.python_version, facts.packages) == (
        "sklearn",
        "3.11.9",
        {"numpy": "2.1.0"},
    )
    only_conda = model_facts_read({"conda.yaml": CONDA}.get)
    assert only_conda.python_version == "3.11.2"
    assert only_conda.framework == ""
