"""Flow parameter types that Prefect's run form shows as what they are."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema


def _empty_as_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# `str | None` reaches the run form as a string-or-null union ('Property is type "None"' toggles). This is a
# plain text box; left empty (or blank), the flow gets None.
OptionalText = Annotated[str | None, BeforeValidator(_empty_as_none), WithJsonSchema({"type": "string"})]
