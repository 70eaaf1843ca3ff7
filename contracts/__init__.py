"""The API contract suite: the committed OpenAPI document, its breaking-change gate, Schemathesis.

- `python -m contracts.export [--check]` writes (or checks) `contracts/openapi.json`.
- `python -m contracts.gate [--base REF] [--bump]` classifies changes against the baseline.
- `assay run contract` (or `tox -e contract`) does both against the Target and runs Schemathesis.
"""
