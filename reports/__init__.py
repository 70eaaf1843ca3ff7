"""Reports for executives and operators: traceability CSV, QBR deck, HTML status page."""
