"""The run form of every deployment in prefect.yaml: each parameter has a type the UI can show and says what it is."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml
from prefect.utilities.callables import parameter_schema

from core.parameters import OptionalObject, OptionalText
from tests.conftest import REPO

DEPLOYMENTS = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


def _flow_of(entrypoint: str) -> Any:
    path, name = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def _null_types(schema: dict[str, Any]) -> list[str]:
    variants = schema.get("anyOf", []) + schema.get("oneOf", [])
    return [str(variant) for variant in variants if variant.get("type") == "null"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_every_parameter_shows_as_a_typed_described_field(deployment: dict[str, Any]) -> None:
    properties = parameter_schema(_flow_of(deployment["entrypoint"]).fn).model_dump()["properties"]
    assert properties, deployment["name"]
    for name, schema in properties.items():
        assert not _null_types(schema), f"{deployment['name']}.{name} shows a 'None' toggle in the run form"
        assert schema.get("type") or schema.get("enum") or schema.get("$ref") or schema.get("allOf"), name
        assert schema.get("description"), f"{deployment['name']}.{name} has no description"


def test_optional_text_is_a_text_box_and_blank_means_none() -> None:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(OptionalText)
    assert adapter.json_schema() == {"type": "string"}
    assert adapter.validate_python("  ") is None
    assert adapter.validate_python("123") == "123"
    assert adapter.validate_python(None) is None


def test_optional_object_is_an_object_field_and_empty_means_none() -> None:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(OptionalObject)
    assert adapter.json_schema() == {"type": "object"}
    assert adapter.validate_python({}) is None
    assert adapter.validate_python({"action": "post-message"}) == {"action": "post-message"}
