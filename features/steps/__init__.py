"""Step definitions, one module per domain; shared steps live in this folder's conftest."""
