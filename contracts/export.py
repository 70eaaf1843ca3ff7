"""Export the service's OpenAPI document deterministically; `--check` fails on drift.

python -m contracts.export           # write contracts/openapi.json
python -m contracts.export --check   # exit 1 when the app's schema differs from the file
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parent
CONTRACT = CONTRACTS_DIR / "openapi.json"
BASELINE = CONTRACTS_DIR / "baseline" / "openapi.json"
REGENERATE = "python -m contracts.export"
OPERATION_ID = r"^[a-z]+(-[a-z]+)+$"


class ContractError(Exception):
    """The document cannot be exported or read as a contract."""


def render(document: dict[str, Any]) -> str:
    """The one textual form of a contract: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_operation_ids(document: dict[str, Any]) -> None:
    """Every operation has a stable `{tag}-{name}` operationId (reports and the gate key on it)."""
    import re

    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            ident = operation.get("operationId", "")
            tags = operation.get("tags") or [""]
            if not re.match(OPERATION_ID, ident) or not ident.startswith(f"{tags[0]}-"):
                raise ContractError(
                    f"{method.upper()} {path}: operationId {ident!r} is not '{tags[0]}-<name>'"
                )


def app_document() -> dict[str, Any]:
    """The reference service's live OpenAPI document (no database is touched)."""
    from reference_service.app import create_app
    from reference_service.settings import Settings

    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    check_operation_ids(document)
    return document


def read(path: Path) -> dict[str, Any]:
    """A contract file as a document."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read {path}: {exc}") from exc
    return document


def drift(committed: str, live: str, limit: int = 40) -> list[str]:
    """A short unified diff from the committed text to the live one (empty when equal)."""
    lines = list(
        difflib.unified_diff(
            committed.splitlines(), live.splitlines(), "committed", "live", lineterm="", n=1
        )
    )
    return lines[:limit] + ([f"... {len(lines) - limit} more lines"] if len(lines) > limit else [])


def main(argv: list[str] | None = None) -> int:
    """Write the contract, or with --check compare it with the app's schema."""
    parser = argparse.ArgumentParser(prog="python -m contracts.export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=CONTRACT, help="contract file")
    args = parser.parse_args(argv)
    live = render(app_document())
    if not args.check:
        args.output.write_text(live, encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    committed = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if committed == live:
        print(f"{args.output} matches the app's schema")
        return 0
    print("\n".join(drift(committed, live)))
    print(f"{args.output} differs from the app's schema; regenerate it with `{REGENERATE}`")
    return 1


if __name__ == "__main__":
    sys.exit(main())
