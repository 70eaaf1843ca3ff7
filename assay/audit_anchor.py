"""Anchor the target's audit chain: record its head in the run, later compare the live chain.

The reference service keys its audit chain, so an entry cannot be rewritten without breaking
`GET /admin/audit/verify`; but deleting the newest entries, or rewriting with the key, leaves
a chain that verifies. An anchor (`<suite>/audit_head.json`: sequence and hash of the newest
entry at the end of a run) goes into the run's signed evidence pack; `check_anchor` compares
the live chain with it and names truncation (the chain is now shorter than the anchored
sequence) or rewriting (the entry at the anchored sequence has another hash).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from assay.target import Target

ANCHOR_FILE = "audit_head.json"
HTTP_TIMEOUT_S = 10.0


class AnchorError(Exception):
    """The live chain or the anchor could not be read."""


@dataclass(frozen=True)
class AnchorCheck:
    """How the live chain compares with an anchor: intact, truncated, rewritten or broken."""

    status: str
    anchor_sequence: int
    live_sequence: int
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the live chain still holds the anchored history."""
        return self.status == "intact"


def _json(response: httpx.Response, what: str) -> Any:
    if response.status_code != httpx.codes.OK:
        raise AnchorError(f"{what}: {response.request.url.path} answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise AnchorError(f"{what}: {response.request.url.path} answered no JSON") from exc


def admin_headers(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    """Bearer headers for the target's admin account."""
    try:
        response = client.post("/auth/token", json={"email": email, "password": password})
    except httpx.HTTPError as exc:
        raise AnchorError(f"admin sign-in: {type(exc).__name__}: {exc}") from exc
    body = _json(response, "admin sign-in")
    if not isinstance(body, dict) or "access_token" not in body:
        raise AnchorError("admin sign-in answered no access_token")
    return {"Authorization": f"Bearer {body['access_token']}"}


def _get(client: httpx.Client, path: str, headers: dict[str, str], **params: int) -> Any:
    try:
        response = client.get(path, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise AnchorError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return _json(response, path)


def fetch_head(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    """The live head: {sequence, hash}."""
    body = _get(client, "/admin/audit/head", headers)
    if not isinstance(body, dict) or not isinstance(body.get("sequence"), int):
        raise AnchorError("/admin/audit/head answered no sequence")
    return {"sequence": body["sequence"], "hash": str(body.get("hash", ""))}


def record_head(folder: Path, client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    """Write the live head, with when it was read, into `folder/audit_head.json`."""
    anchor = {**fetch_head(client, headers), "recorded_at": datetime.now(UTC).isoformat()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ANCHOR_FILE).write_text(json.dumps(anchor, indent=2) + "\n", encoding="utf-8")
    return anchor


def read_anchor(run_dir: Path) -> dict[str, Any] | None:
    """The run's newest anchor (highest sequence among its suites' audit_head.json), if any."""
    anchors: list[dict[str, Any]] = []
    for path in sorted(run_dir.glob(f"*/{ANCHOR_FILE}")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AnchorError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("sequence"), int):
            raise AnchorError(f"{path}: no integer sequence")
        anchors.append({"sequence": data["sequence"], "hash": str(data.get("hash", ""))})
    return max(anchors, key=lambda a: a["sequence"]) if anchors else None


def check_anchor(
    client: httpx.Client, headers: dict[str, str], anchor: dict[str, Any]
) -> AnchorCheck:
    """Compare the live chain with `anchor`: truncation, rewriting, or a broken chain is named."""
    sequence = int(anchor["sequence"])
    live = fetch_head(client, headers)["sequence"]
    if live < sequence:
        detail = f"the chain ends at {live}, shorter than the anchored sequence {sequence}"
        return AnchorCheck("truncated", sequence, live, detail)
    if sequence > 0:
        page = _get(client, "/admin/audit", headers, after=sequence - 1, limit=1)
        items = page.get("items") if isinstance(page, dict) else None
        entry = items[0] if isinstance(items, list) and items else None
        if not isinstance(entry, dict) or entry.get("seq") != sequence:
            detail = f"the chain has no entry {sequence}, though its head is {live}"
            return AnchorCheck("truncated", sequence, live, detail)
        if entry.get("hash") != anchor["hash"]:
            detail = f"entry {sequence} has hash {entry.get('hash')}, anchored {anchor['hash']}"
            return AnchorCheck("rewritten", sequence, live, detail)
    verified = _get(client, "/admin/audit/verify", headers)
    if not isinstance(verified, dict) or verified.get("valid") is not True:
        broken = verified.get("first_broken_seq") if isinstance(verified, dict) else None
        return AnchorCheck("broken", sequence, live, f"the chain first breaks at entry {broken}")
    return AnchorCheck("intact", sequence, live, f"entries 1..{sequence} as anchored")


def anchor_target(folder: Path, target: Target) -> str:
    """Record the target's audit head into `folder`; a note says what was anchored, or why not."""
    if target.admin is None:
        return "audit head not anchored: the target has no admin account"
    try:
        with httpx.Client(base_url=target.base_url, timeout=HTTP_TIMEOUT_S) as client:
            headers = admin_headers(client, target.admin.email, target.admin.password)
            anchor = record_head(folder, client, headers)
    except AnchorError as exc:
        return f"audit head not anchored: {exc}"
    return f"audit head anchored at entry {anchor['sequence']}"


def check_run(run_dir: Path, client: httpx.Client, email: str, password: str) -> AnchorCheck:
    """Compare the live chain behind `client` with the newest anchor of `run_dir`."""
    anchor = read_anchor(run_dir)
    if anchor is None:
        raise AnchorError(f"{run_dir}: no {ANCHOR_FILE} in any suite folder")
    return check_anchor(client, admin_headers(client, email, password), anchor)
