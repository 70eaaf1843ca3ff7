#!/usr/bin/env python3
"""One-file bootstrap: make .venv, install Assay into it, then run a command.

    python3 dev.py run     # the main job
    python3 dev.py test    # the whole test suite
    python3 dev.py <cmd>   # any command from .venv/bin (assay, pytest, tox, ...)

Only the standard library is used here, so it works on a machine with nothing
but Python 3.11+. Installs are skipped while pyproject.toml is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ASSAY_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
STAMP = VENV / ".assay-install-stamp"
# How long the install before the main job took: `assay run` records it beside its own times.
SETUP_ENV = "ASSAY_SETUP_S"

# What each short command expands to; anything else runs from .venv/bin as is.
COMMANDS: dict[str, list[str]] = {
    "run": ["assay", "run"],
    # The scanners' tests (tests/infra, tests/security) run in tox's iac environment, so
    # checkov's and bandit's pins never fight the main environment's (see BEFORE); everything
    # else runs in .venv. The suites QA, SREs and security staff run through tox (acceptance,
    # security, ...) are what the main job runs, so they are not run a second time here.
    "test": [
        "pytest",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/infra",
        "--ignore=tests/security",
    ],
}
# Run before a command (each must pass too); the command itself runs last, so its summary
# closes the output.
BEFORE: dict[str, list[list[str]]] = {
    "test": [["tox", "run", "-e", "iac"]],
}


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "dev.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_installed() -> bool:
    """Create the virtual environment and install the project once per pyproject change.

    True when it created or installed anything.
    """
    if sys.version_info < (3, 11):
        sys.exit(f"Assay needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    created = not (BIN / "python").exists()
    if created:
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return created
    print("dev.py: installing Assay and its dependencies into .venv", flush=True)
    python = str(BIN / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "uv"], check=True)
    uv_env = {**os.environ, "VIRTUAL_ENV": str(VENV)}
    subprocess.run(
        [str(BIN / "uv"), "pip", "install", "--python", python, "-e", f"{ROOT}[dev]"],
        check=True,
        env=uv_env,
    )
    STAMP.write_text(_fingerprint())
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    began = time.monotonic()
    installed = ensure_installed()
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if installed and argv[0] == "run":
        env[SETUP_ENV] = f"{time.monotonic() - began:.1f}"
    os.chdir(ROOT)
    failed = [
        " ".join(step)
        for step in BEFORE.get(argv[0], [])
        if subprocess.run([str(BIN / step[0]), *step[1:]], env=env, check=False).returncode
    ]
    command = COMMANDS.get(argv[0], [argv[0]]) + argv[1:]
    executable = BIN / command[0]
    if not executable.exists():
        sys.exit(f"dev.py: no command {command[0]!r} in {BIN}")
    if not failed:
        os.execve(executable, [str(executable), *command[1:]], env)
    code = subprocess.run([str(executable), *command[1:]], env=env, check=False).returncode
    print(f"dev.py: failed before {command[0]}: {'; '.join(failed)}", file=sys.stderr)
    return code or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
