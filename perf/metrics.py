"""The target's own Prometheus counters, read over HTTP (the catalog cache's hits and misses)."""

from __future__ import annotations

import re

import httpx

CACHE_SAMPLE = re.compile(
    r'^cache_requests_total\{(?=[^\n]*cache="catalog")(?=[^\n]*result="(?P<result>hit|miss)")'
    r"[^\n]*\} (?P<value>[0-9.e+]+)$",
    re.M,
)


def catalog_cache_counts(base_url: str) -> tuple[float, float] | None:
    """(hits, misses) of the target's catalog cache from its /metrics; None if it has none."""
    try:
        text = httpx.get(f"{base_url}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return None
    counts = {"hit": 0.0, "miss": 0.0}
    found = False
    for sample in CACHE_SAMPLE.finditer(text):
        counts[sample["result"]] += float(sample["value"])
        found = True
    return (counts["hit"], counts["miss"]) if found else None


def hit_ratio(
    before: tuple[float, float] | None, after: tuple[float, float] | None
) -> float | None:
    """Percent of catalog cache lookups between two readings that hit; None without lookups."""
    if before is None or after is None:
        return None
    hits, misses = after[0] - before[0], after[1] - before[1]
    return round(100.0 * hits / (hits + misses), 2) if hits + misses > 0 else None
