"""`python -m perf.bench`: how fast the reference service really is on this machine (printed)."""
