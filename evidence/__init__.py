"""Evidence packs: collect a run's results, manifest them, sign, verify, audit and publish."""
