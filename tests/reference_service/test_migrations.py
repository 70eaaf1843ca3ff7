"""Migrations match the models and can go down and up again."""

from __future__ import annotations

from alembic import command

from reference_service.migrate import alembic_config, downgrade, upgrade
from reference_service.settings import Settings


def test_models_and_migrations_agree(settings: Settings) -> None:
    command.check(alembic_config(settings))


def test_downgrade_to_base_and_upgrade_again(settings: Settings) -> None:
    downgrade(settings, "base")
    upgrade(settings)
    command.check(alembic_config(settings))
