"""Input types that refuse what databases choke on: NUL bytes, lone surrogates, control chars."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rule in the contract (JSON Schema, ECMA-262 regex), so clients and generated tests
# know it. Lone surrogates cannot be written as a JSON Schema pattern; they stay a 422.
CLEAN_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control characters, NUL bytes or lone surrogates")
    return value


@dataclass(frozen=True)
class _Clean:
    """Refuse control characters, NUL bytes and lone surrogates, and say so in the schema."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_clean, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = CLEAN_PATTERN
        return json_schema


Clean = _Clean()


def _whole_number(value: Any) -> Any:
    # JSON Schema counts 2.0 as an integer, so the contract's `integer` accepts it; 2.5, "2"
    # and true stay invalid (Strict).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Last in an `Annotated[int, Strict(), Field(...), WholeNumber]`: JSON numbers only (no "2" or
# true), and whole floats such as 2.0 count as integers, as JSON Schema says.
WholeNumber = BeforeValidator(_whole_number)

SafeStr = Annotated[str, Clean]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Clean,
]
ShortText = Annotated[str, StringConstraints(max_length=2000), Clean]
# Units of one product in one cart or order line (the cart table's CHECK says the same).
MAX_LINE_QUANTITY = 99
Quantity = Annotated[int, Strict(), Field(ge=1, le=MAX_LINE_QUANTITY), WholeNumber]
# Ids are 32-bit in the schema; anything larger cannot exist, so it is invalid input, not a 500.
ProductId = Annotated[int, Strict(), Field(ge=1, le=2_147_483_647), WholeNumber]
ProductIdPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="Product id")]
