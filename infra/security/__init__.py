"""Security gate: bandit, pip-audit, secrets scan, SBOM and IaC checks into runs/<id>/security/."""
