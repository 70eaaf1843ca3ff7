"""Evidence as an `assay run` generator: sign the run's pack, then verify what was written.

With ASSAY_SIGNING_KEY set, the pack is signed with the organisation's key. Without it, a local
development key is made once under the runs folder (`.keys/evidence-signing.pem`, mode 0600),
and the pack says, inside what is signed, that a development key signed it: `assay evidence
verify` refuses such a pack unless given `--dev`.
"""

from __future__ import annotations

from pathlib import Path

from assay.generators import Generator, GeneratorError
from assay.record import RunError, load_run
from assay.signing import SigningError, signer_for
from assay.trust import Trust
from evidence.oscal import OscalError
from evidence.pack import build_pack
from evidence.verify import verify_pack


def build(run_dir: Path) -> list[Path]:
    """Build and sign the run's evidence pack, and check it verifies with the key that signed."""
    try:
        signer = signer_for(run_dir.parent)
        pack = build_pack(load_run(run_dir), signer)
    except (RunError, SigningError, OscalError) as exc:
        raise GeneratorError(str(exc)) from exc
    # The run's own check, like `assay evidence verify PACK --key-id ID --dev`.
    checked = verify_pack(pack.archive, Trust.pinned(signer.key_id, allow_dev=True))
    if not checked.ok:
        problems = "; ".join(str(f) for f in checked.findings)
        raise GeneratorError(f"{pack.archive.name} does not verify: {problems}")
    return [pack.archive, pack.manifest, pack.envelope, pack.oscal]


GENERATOR = Generator(
    name="evidence",
    build=build,
    description="signed evidence pack, manifest and OSCAL assessment results",
    order=10,
)
