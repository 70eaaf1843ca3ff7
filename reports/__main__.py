"""`python -m reports RUN`: the reports without the assay CLI."""

from reports.cli import main

main()
