"""The README and the documents under docs/ link only to files in the repository (which
exist) and to services on this machine: nothing outside the repository."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|<(https?://[^>\s]+)>")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _links(document: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.S)
    return [inline or bare for inline, bare in LINK.findall(text)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_stays_in_the_repository(document: Path) -> None:
    outside = []
    for link in _links(document):
        url = urlparse(link)
        if url.scheme in {"http", "https"}:
            if url.hostname not in LOCAL_HOSTS:
                outside.append(link)
            continue
        if not url.path:  # an anchor in the same document
            continue
        target = (document.parent / url.path).resolve()
        if not target.is_relative_to(ROOT) or not target.exists():
            outside.append(link)
    assert not outside, f"{document.relative_to(ROOT)} links outside the repository: {outside}"


def test_the_readme_points_at_the_design_in_the_repository() -> None:
    assert "[DESIGN](docs/DESIGN.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / "docs" / "DESIGN.md").is_file()
