"""Conventions shared by the example scripts.

Every example runs as ``python examples/NAME.py``, accepts ``--out DIR``
(default ``results/NAME/``) and ``--quick`` (a small run under a minute, for CI
smoke tests), writes its figures as PNG and its numbers as ``results.json``,
prints a short summary and shows progress on stderr for anything slow.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["Progress", "example_arguments", "pyplot", "write_results"]


def example_arguments(name: str, description: str) -> argparse.Namespace:
    """Parse ``--out`` and ``--quick``; ``args.out`` is a created :class:`~pathlib.Path`."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results") / name,
        help=f"directory for the figures and results.json (default: results/{name}/)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small run (under a minute) for smoke tests"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to results.json")


def write_results(out: Path, results: dict) -> Path:
    """Write ``results`` (NumPy arrays and scalars allowed) to ``out/results.json``."""
    path = Path(out) / "results.json"
    with path.open("w") as file:
        json.dump(results, file, indent=2, default=_to_json)
        file.write("\n")
    return path


class Progress:
    """A minimal progress indicator on stderr.

    On a terminal it rewrites one line; otherwise (logs, CI) it prints a line
    at most every ``interval`` seconds and once at the end.

    Examples
    --------
    >>> progress = Progress(3, "networks")  # doctest: +SKIP
    >>> for _ in range(3):
    ...     progress.advance(note="width 64")
    >>> progress.close()
    """

    def __init__(self, total: int, label: str, interval: float = 5.0):
        self.total, self.label, self.interval = total, label, interval
        self.done = 0
        self.start = self._last_print = time.perf_counter()
        self._interactive = sys.stderr.isatty()

    def advance(self, steps: int = 1, note: str = "") -> None:
        self.done += steps
        now = time.perf_counter()
        if self._interactive or now - self._last_print >= self.interval:
            self._print(note, end="\r" if self._interactive else "\n")
            self._last_print = now

    def close(self) -> None:
        self._print("done", end="\n")

    def _print(self, note: str, end: str) -> None:
        elapsed = time.perf_counter() - self.start
        line = f"{self.label}: {self.done}/{self.total} [{elapsed:6.1f} s] {note}"
        print(f"{line:<79}", end=end, file=sys.stderr, flush=True)
