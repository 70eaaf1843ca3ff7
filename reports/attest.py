"""Sign a run's reports: every file of the reports folder hashed into a signed statement.

The evidence pack is built before the reports (they read the same run files), so it cannot
list them; the reports folder carries its own in-toto statement instead, signed with the
same key and code as the pack (assay.signing), naming the run and the pack it sits beside.
`assay evidence verify RUN/reports --key-id ID` checks it.
"""

from __future__ import annotations

from pathlib import Path

from assay.manifest import sha256_file
from assay.record import Run
from assay.signing import Signer, signer_for
from assay.trust import sign_folder


def sign_reports(run: Run, folder: Path, signer: Signer | None = None) -> Path:
    """Write `folder`/attestation.intoto.dsse.json over every report file in it."""
    packs = sorted((run.path / "evidence").glob("*.evidence.zip"))
    pack = {"name": packs[-1].name, "sha256": sha256_file(packs[-1])} if packs else None
    predicate = {"run_id": run.run_id, "kind": "reports", "evidence_pack": pack}
    return sign_folder(folder, signer or signer_for(run.path.parent), predicate)
