"""Which answers count as errors: slos.yaml `errors:`, read by the perf gate and the alert rules."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

# A request that got no answer at all (refused, reset, timed out): Locust's status code for it.
NO_ANSWER = 0


class ErrorStatuses(BaseModel):
    """The statuses every error-counting SLO counts, in perf and in Prometheus alike."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str  # a regular expression over the whole status code, as PromQL's `=~` reads it

    @field_validator("status")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value

    def counts(self, status_code: int) -> bool:
        """Whether an answer with this status is an error; so is no answer at all."""
        return status_code == NO_ANSWER or re.fullmatch(self.status, str(status_code)) is not None

    def promql(self) -> str:
        """The label matcher Prometheus rules select error answers with."""
        return f'status=~"{self.status}"'
