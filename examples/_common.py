"""Conventions shared by the example scripts.

Every example runs as ``python examples/NAME.py``, accepts ``--out DIR``
(default ``results/NAME/``) and ``--quick`` (a small run under a minute, for CI
smoke tests), writes its figures as PNG and its numbers as ``results.json``,
prints a short summary and shows progress on stderr for anything slow
(:class:`rntk.progress.ProgressBar`, re-exported here as ``Progress``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rntk.progress import ProgressBar as Progress

__all__ = ["Progress", "example_arguments", "example_parser", "pyplot", "write_results"]


def example_parser(name: str, description: str) -> argparse.ArgumentParser:
    """A parser with ``--out`` and ``--quick``, for scripts that add options of their own.

    Parse with :func:`example_arguments` so that the output folder is created.
    """
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
    return parser


def example_arguments(name: str, description: str, parser=None) -> argparse.Namespace:
    """Parse the command line; ``args.out`` is a created :class:`~pathlib.Path`.

    ``parser`` defaults to :func:`example_parser` ``(name, description)``.
    """
    args = (parser or example_parser(name, description)).parse_args()
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
