"""`python -m evidence …`: the evidence commands without the assay CLI."""

from evidence.cli import main

main()
