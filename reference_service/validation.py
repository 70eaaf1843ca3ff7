"""Input types that refuse what databases choke on: NUL bytes, lone surrogates, control chars."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, Strict, StringConstraints

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control characters, NUL bytes or lone surrogates")
    return value


SafeStr = Annotated[str, AfterValidator(_clean)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_clean),
]
ShortText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean)]
# Strict: JSON numbers only (no "2" or 2.0), so clients see exactly what the schema says.
Quantity = Annotated[int, Strict(), Field(ge=1, le=99)]
# Ids are 32-bit in the schema; anything larger cannot exist, so it is invalid input, not a 500.
ProductId = Annotated[int, Strict(), Field(ge=1, le=2_147_483_647)]
ProductIdPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="Product id")]
