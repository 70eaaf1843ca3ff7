"""Helpers the step definitions share: HTTP calls, builders, forged tokens, isolation."""
