"""Smoke test of the example scripts: each runs with ``--quick`` and writes its outputs.

Every ``examples/*.py`` that does not start with ``_`` (shared helpers) is run
as a subprocess, ``python examples/<script> --quick --out <tmp_path>``, from the
repository root with a non-interactive matplotlib backend. The test asserts a
zero exit code, a ``results.json`` and at least one PNG in ``--out``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(
    path for path in (REPOSITORY / "examples").glob("*.py") if not path.name.startswith("_")
)
# Generous: a --quick run takes seconds to a minute, but the machine may be loaded.
TIMEOUT_SECONDS = 600


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs_quick(script: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, (
        f"{script.name} --quick exited with code {completed.returncode}\n"
        f"stdout:\n{completed.stdout[-3000:]}\nstderr:\n{completed.stderr[-3000:]}"
    )
    assert (tmp_path / "results.json").is_file(), f"{script.name} wrote no results.json"
    assert list(tmp_path.rglob("*.png")), f"{script.name} wrote no PNG"
