"""Evidence as an `assay run` generator: sign the run's pack with the configured key.

Without ASSAY_SIGNING_KEY, a local development key is made once under the runs folder
(`.keys/evidence-signing.pem`, mode 0600) and the pack says which key signed it; compliance
runs set ASSAY_SIGNING_KEY to the organisation's key.
"""

from __future__ import annotations

import os
from pathlib import Path

from assay.generators import Generator, GeneratorError
from assay.record import RunError, load_run
from evidence.oscal import OscalError
from evidence.pack import build_pack
from evidence.signing import KEY_ENV, SigningError, generate_key, load_private_key

LOCAL_KEY = Path(".keys") / "evidence-signing.pem"


def signing_key_path(run_dir: Path) -> Path:
    """The key to sign with: ASSAY_SIGNING_KEY, else the runs folder's local key (made once)."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    local = run_dir.parent / LOCAL_KEY
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        generate_key(local)
    return local


def build(run_dir: Path) -> list[Path]:
    """Build and sign the run's evidence pack; returns the files written."""
    try:
        key = load_private_key(signing_key_path(run_dir))
        pack = build_pack(load_run(run_dir), key)
    except (RunError, SigningError, OscalError) as exc:
        raise GeneratorError(str(exc)) from exc
    return [pack.archive, pack.manifest, pack.envelope, pack.oscal]


GENERATOR = Generator(
    name="evidence",
    build=build,
    description="signed evidence pack, manifest and OSCAL assessment results",
    order=10,
)
