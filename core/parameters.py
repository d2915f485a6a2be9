"""Flow parameter types that Prefect's run form shows as what they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema


def _empty_as_none(value: object) -> object:
    return None if (isinstance(value, str) and not value.strip()) or value == {} else value


# `str | None` reaches the run form as a string-or-null union ('Property is type "None"' toggles). This is a
# plain text box; left empty (or blank), the flow gets None.
OptionalText = Annotated[str | None, BeforeValidator(_empty_as_none), WithJsonSchema({"type": "string"})]
# The same for an optional JSON object: an object field; left empty ({}), the flow gets None.
OptionalObject = Annotated[dict[str, Any] | None, BeforeValidator(_empty_as_none), WithJsonSchema({"type": "object"})]


def given(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to send to Prefect: one that is unset (None) is left out, so the flow's default applies.

    Prefect's server checks a run's parameters against the run form's types, where an optional text is a string.
    """
    return {name: value for name, value in parameters.items() if value is not None}
