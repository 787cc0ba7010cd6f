"""UCR/UEA time-series classification: the RNTK against RBF, polynomial and MLP-NTK kernels.

The classification experiment of the RNTK paper (Alemohammad et al., ICLR 2021,
section 5), on the data sets available offline: every kernel feeds a support
vector machine (``sklearn.svm.SVC(kernel="precomputed")``), with its
hyperparameters and the SVM penalty ``C`` chosen by stratified cross-validation
on the training split alone; the test split is used once, to score the chosen
model. The paper ran 56 UCR data sets; this runs the ones found by
:func:`rntk.datasets.available_ucr` (the few that ship inside ``sktime``, plus
any archive pointed to by ``RNTK_UCR_ROOT``).

Protocol
--------
Splits
    The archive's own train/test splits. Cross-validation: stratified 5-fold
    (fewer folds when a class has fewer than 5 training series), shuffled with
    seed 0 and, when the training split has fewer than 300 series, repeated 3
    times with new shuffles (a small split gives a noisy score and many ties);
    the same folds for every kernel and candidate. The score of a candidate is
    its mean validation accuracy over the folds; the best candidate of a method
    (the first in grid order on ties) is refitted on the whole training split
    and scored on the test split.
Reuse of kernel computations
    Each Gram matrix is computed once per point of a kernel's grid, on the
    whole training split, and cut into folds (``K[np.ix_(fit, fit)]``,
    ``K[np.ix_(validate, fit)]``): cross-validation costs no further kernel
    evaluation. One RNTK pass gives both the NTK and the NNGP. The
    cosine-normalised kernel ``K(x, x') / sqrt(K(x, x) K(x', x'))`` (the
    library's ``normalize=True``) is formed from the same matrix. The test
    Gram ``K(X_test, X_train)`` is computed only for the chosen candidates.
Scale of a kernel, sigma_v and C
    ``sigma_v`` multiplies both kernels by ``sigma_v**2``, and an SVM with
    kernel ``c K`` and penalty ``C`` is the SVM with kernel ``K`` and penalty
    ``c C``; so ``sigma_v`` is not in any grid. Instead each kernel (every
    method alike) is either divided by the mean of its training diagonal (in
    cross-validation, that of the fitting folds), which fixes ``sigma_v`` and
    makes one grid of ``C`` fit every kernel, or cosine-normalised; both are
    candidates. ``C`` in {0.01, 0.1, 1, 10, 100}, the paper's grid.
Input scaling
    Two candidates, for every method: each series z-normalised per channel
    (the UCR convention), or each channel standardised with the mean and
    standard deviation of all training steps (keeps the amplitude of a series,
    which z-normalisation removes). When every training series is already
    z-normalised (most univariate UCR sets) the two coincide and only the first
    is used.
Sequences of different lengths
    The RNTK reads the raw sequences (aligned at their last step, the model's
    read-out). The vector kernels need one length: every sequence (train and
    test) is resampled, by linear interpolation in time, to the length of the
    longest training sequence (JapaneseVowels: 26 steps, PLAID: 1344).
Kernels and grids
    RNTK (192 points): activation ReLU or erf, depth 1 or 2, ``sigma_w`` in
    {1.34, 1.38, sqrt(2), 1.44, 1.47, 2}, ``sigma_u = 1``, ``sigma_b`` in
    {0, 0.5, 1, 2}, ``sigma_h`` in {0, 1}: the paper's reported ranges, finer
    around ``sqrt(2)``, where the ReLU kernel turns from weighting the last
    steps to weighting the first (step ``t`` counts about
    ``(sigma_w**2 / 2)**(T - t)``), and coarser in ``sigma_h``, which only
    the first steps see. A point whose ReLU kernel leaves the float64 range
    (``sigma_w = 2`` grows like ``2**T``; ACSF1 has ``T = 1460``) is skipped
    and recorded. RBF (9): ``gamma = g / median`` squared distance
    between training vectors, ``g`` in {1/16, 1/8, ..., 16}. Polynomial (10):
    degree 1 to 5, ``gamma = 1 / d`` (``d = T m``), ``coef0`` in {0, 1}.
    MLP-NTK (16): NTK of a fully connected ReLU network, 1 to 4 hidden layers,
    ``sigma_w = sqrt(2)``, ``sigma_b`` in {0, 0.1, 0.5, 1}. Every grid point is
    crossed with the input scalings, the two kernel scalings and ``C``.
Methods
    Ranked (the summary statistics): RNTK (the NTK, chosen by CV over the whole
    grid, both activations), RBF, Polynomial, MLP-NTK. Reported alongside, not
    ranked: RNTK-ReLU and RNTK-erf (the grid restricted to one activation) and,
    with ``--nngp``, RNN-NNGP (the NNGP of the same passes; doubles the SVM
    fits of the RNTK).
Cost
    The SVM fits dominate, then the RNTK passes (``O(n^2 T)``). ``--all`` takes
    about 10 minutes on 2 cores (PLAID, 537 series of up to 1344 steps: 4 of
    them), well inside a 45-minute budget, so every data set gets the full
    grid. A libsvm fit is capped at 10**6 iterations (it can cycle on a nearly
    singular Gram matrix); the number of capped fits is recorded.
Summary statistics (spec section 9)
    Mean accuracy; Friedman rank (mean over data sets of the rank of a method,
    1 = best, ties averaged); P90 and P95 (share of data sets on which a method
    reaches 90 % / 95 % of the best accuracy on that set); PMA (mean over data
    sets of accuracy / best accuracy).

Usage::

    python examples/ucr_classification.py             # GunPoint, full grid, under a minute
    python examples/ucr_classification.py --all       # every data set available offline
    python examples/ucr_classification.py --datasets ArrowHead,BasicMotions
    python examples/ucr_classification.py --quick     # UnitTest, tiny grid, a few seconds

Writes ``results.json``, ``accuracy.csv``, ``summary.csv``, ``results.md`` and
``rntk_vs_best_baseline.png`` to ``--out`` (default ``results/ucr_classification/``);
the Markdown tables also go to stdout, progress to stderr.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from _common import Progress, example_arguments, example_parser, pyplot, write_results
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.svm import SVC

import rntk
from rntk.baselines import mlp_ntk, polynomial_kernel, rbf_kernel
from rntk.datasets import available_ucr, load_ucr

SQRT2 = float(np.sqrt(2.0))
RANKED_METHODS = ("RNTK", "RBF", "Polynomial", "MLP-NTK")
RNTK_VARIANTS = ("RNTK-ReLU", "RNTK-erf", "RNN-NNGP")
DEFAULT_DATASETS = ("GunPoint",)
QUICK_DATASETS = ("UnitTest",)
# libsvm can cycle on a nearly singular Gram matrix; a cap bounds the time of
# such a fit (hit fits are counted in results.json).
SVM_MAX_ITERATIONS = 1_000_000


@dataclass(frozen=True)
class Grid:
    """The hyperparameter grids; each dict maps a keyword argument to its values."""

    c_values: tuple[float, ...]
    rntk: dict[str, tuple]
    rbf_factors: tuple[float, ...]
    polynomial: dict[str, tuple]
    mlp: dict[str, tuple]
    max_folds: int = 5
    # Repeats of the k-fold split (new shuffles) when the training split is small.
    repeats: int = 3
    repeat_below: int = 300


FULL_GRID = Grid(
    c_values=(0.01, 0.1, 1.0, 10.0, 100.0),
    rntk={
        "activation": ("relu", "erf"),
        "depth": (1, 2),
        "sigma_w": (1.34, 1.38, SQRT2, 1.44, 1.47, 2.0),
        "sigma_u": (1.0,),
        "sigma_b": (0.0, 0.5, 1.0, 2.0),
        "sigma_h": (0.0, 1.0),
    },
    rbf_factors=tuple(2.0**k for k in range(-4, 5)),
    polynomial={"degree": (1, 2, 3, 4, 5), "coef0": (0.0, 1.0)},
    mlp={"depth": (1, 2, 3, 4), "sigma_w": (SQRT2,), "sigma_b": (0.0, 0.1, 0.5, 1.0)},
)

QUICK_GRID = Grid(
    c_values=(0.1, 1.0, 10.0),
    rntk={
        "activation": ("relu", "erf"),
        "depth": (1,),
        "sigma_w": (SQRT2,),
        "sigma_u": (1.0,),
        "sigma_b": (0.0, 1.0),
        "sigma_h": (0.0,),
    },
    rbf_factors=(0.25, 1.0, 4.0),
    polynomial={"degree": (2, 3), "coef0": (1.0,)},
    mlp={"depth": (1, 2), "sigma_w": (SQRT2,), "sigma_b": (0.1,)},
)


def product_grid(axes: dict[str, tuple]) -> list[dict]:
    """Every combination of the values in ``axes``, the last axis varying fastest."""
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


# ---------------------------------------------------------------------------
# Data


@dataclass
class Inputs:
    """One input scaling of a data set: raw-length sequences and fixed-length vectors."""

    scaling: str
    train: list[np.ndarray]  # (T_i, m) each, for the RNTK
    test: list[np.ndarray]
    train_vectors: np.ndarray  # (n, length, m), for the vector kernels
    test_vectors: np.ndarray


def z_normalise(sequences: list[np.ndarray]) -> list[np.ndarray]:
    """Each series centred and scaled per channel; a constant channel is only centred."""
    normalised = []
    for sequence in sequences:
        spread = sequence.std(axis=0)
        normalised.append((sequence - sequence.mean(axis=0)) / np.where(spread > 0, spread, 1.0))
    return normalised


def standardise_channels(train: list[np.ndarray], test: list[np.ndarray]):
    """Both splits centred and scaled per channel by the statistics of all training steps."""
    steps = np.concatenate(train)
    mean, spread = steps.mean(axis=0), steps.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return [(s - mean) / spread for s in train], [(s - mean) / spread for s in test]


def is_z_normalised(sequences: list[np.ndarray]) -> bool:
    """Whether every series already has mean 0 and standard deviation 1 per channel.

    The tolerance on the deviation admits the archive's ``ddof=1`` convention
    (ItalyPowerDemand, 24 steps: 0.979).
    """
    return all(
        np.all(np.abs(s.mean(axis=0)) < 1e-3) and np.all(np.abs(s.std(axis=0) - 1) < 0.05)
        for s in sequences
    )


def resample(sequences: list[np.ndarray], length: int) -> np.ndarray:
    """Every sequence linearly interpolated in time to ``length`` steps, ``(n, length, m)``."""
    target = np.linspace(0.0, 1.0, length)
    vectors = np.empty((len(sequences), length, sequences[0].shape[1]))
    for row, sequence in enumerate(sequences):
        if len(sequence) == length:
            vectors[row] = sequence
            continue
        source = np.linspace(0.0, 1.0, len(sequence))
        for channel in range(sequence.shape[1]):
            vectors[row, :, channel] = np.interp(target, source, sequence[:, channel])
    return vectors


@dataclass
class DataSet:
    name: str
    y_train: np.ndarray
    y_test: np.ndarray
    inputs: list[Inputs]
    description: dict


def load_classification_set(name: str) -> DataSet | None:
    """The data set's input scalings, or None if it is not a classification set."""
    X_train, y_train, X_test, y_test = load_ucr(name)
    if y_train is None or y_train.dtype.kind not in "US":
        return None  # a regression (float targets) or unlabelled set
    train, test = [np.asarray(s, float) for s in X_train], [np.asarray(s, float) for s in X_test]
    lengths = np.array([len(s) for s in train + test])
    common_length = max(len(s) for s in train)

    scalings = [("z-normalised series", z_normalise(train), z_normalise(test))]
    if not is_z_normalised(train):
        scalings.append(("standardised channels", *standardise_channels(train, test)))
    inputs = [
        Inputs(label, tr, te, resample(tr, common_length), resample(te, common_length))
        for label, tr, te in scalings
    ]
    description = {
        "n_train": len(train),
        "n_test": len(test),
        "n_classes": int(np.unique(y_train).size),
        "channels": int(train[0].shape[1]),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "vector_kernel_length": int(common_length),
        "resampled_for_vector_kernels": bool(np.any(lengths != common_length)),
        "input_scalings": [item.scaling for item in inputs],
    }
    return DataSet(name, y_train, y_test, inputs, description)


def length_label(description: dict) -> str:
    low, high = description["min_length"], description["max_length"]
    return str(low) if low == high else f"{low}-{high}"


# ---------------------------------------------------------------------------
# Kernels


@dataclass(frozen=True)
class KernelFamily:
    """A kernel, its grid, and which reported methods each of its Gram matrices enters.

    ``evaluate(params, X, X2)`` returns the Gram matrices of one evaluation by
    name (the RNTK: ``nngp`` and ``ntk``); ``self_similarity(params, X)`` their
    diagonals ``K(x, x)``, for cosine normalisation of test rows.
    """

    name: str
    reads_sequences: bool
    grid: Callable[[Inputs], list[dict]]
    evaluate: Callable[..., dict[str, np.ndarray]]
    self_similarity: Callable[[dict, object], dict[str, np.ndarray]]
    methods: Callable[[dict, str], tuple[str, ...]]
    kernel_scalings: tuple[str, ...] = ("trace", "cosine")


def rntk_family(grid: Grid, with_nngp: bool) -> KernelFamily:
    both = ("nngp", "ntk")

    def evaluate(params, X, X2=None):
        return rntk.kernel(X, X2, get=both, **params)._asdict()

    def self_similarity(params, X):
        return rntk.RNTK(get=both, **params).diag(X)._asdict()

    def methods(params, kernel_name):
        if kernel_name == "nngp":
            return ("RNN-NNGP",) if with_nngp else ()
        return ("RNTK", "RNTK-ReLU" if params["activation"] == "relu" else "RNTK-erf")

    points = product_grid(grid.rntk)
    return KernelFamily("RNTK", True, lambda inputs: points, evaluate, self_similarity, methods)


def median_squared_distance(vectors: np.ndarray) -> float:
    """The median squared Euclidean distance between distinct flattened training vectors."""
    flat = vectors.reshape(len(vectors), -1)
    norms = np.einsum("id,id->i", flat, flat)
    squared = norms[:, None] + norms[None, :] - 2.0 * flat @ flat.T
    median = float(np.median(squared[np.triu_indices(len(flat), 1)]))
    return median if median > 0 else 1.0


def vector_family(name: str, function, points_for: Callable[[Inputs], list[dict]], scalings):
    """A fixed-length baseline of :mod:`rntk.baselines`; its Gram matrix is named ``name``."""

    def evaluate(params, X, X2=None):
        return {name: function(X, X2, **params)}

    def self_similarity(params, X):
        # Vector kernels are cheap: the diagonal of the symmetric Gram is exact.
        return {name: np.diag(function(X, None, **params)).copy()}

    return KernelFamily(
        name, False, points_for, evaluate, self_similarity, lambda params, _: (name,), scalings
    )


def kernel_families(grid: Grid, with_nngp: bool) -> list[KernelFamily]:
    def rbf_points(inputs: Inputs) -> list[dict]:
        median = median_squared_distance(inputs.train_vectors)
        return [{"gamma": factor / median} for factor in grid.rbf_factors]

    polynomial_points = product_grid(grid.polynomial)
    mlp_points = [{**point, "get": "ntk"} for point in product_grid(grid.mlp)]
    return [
        rntk_family(grid, with_nngp),
        # The RBF diagonal is 1: its trace and cosine scalings are the kernel itself.
        vector_family("RBF", rbf_kernel, rbf_points, ("trace",)),
        vector_family(
            "Polynomial", polynomial_kernel, lambda inputs: polynomial_points, ("trace", "cosine")
        ),
        vector_family("MLP-NTK", mlp_ntk, lambda inputs: mlp_points, ("trace", "cosine")),
    ]


def cosine(gram: np.ndarray, row_diagonal: np.ndarray, column_diagonal: np.ndarray):
    """``K(x, x') / sqrt(K(x, x) K(x', x'))``, 0 where a self-similarity is 0."""

    def inverse_root(diagonal):
        with np.errstate(divide="ignore"):
            return np.where(diagonal > 0, 1.0 / np.sqrt(diagonal), 0.0)

    return gram * np.multiply.outer(inverse_root(row_diagonal), inverse_root(column_diagonal))


# ---------------------------------------------------------------------------
# Model selection


@dataclass
class Choice:
    """The best candidate of one method so far."""

    method: str
    cv_accuracy: float = -1.0
    family: KernelFamily | None = None
    inputs: Inputs | None = None
    params: dict = field(default_factory=dict)
    kernel_name: str = ""
    kernel_scaling: str = ""
    c: float = 0.0
    train_gram: np.ndarray | None = None  # unscaled, of the whole training split

    def describe(self) -> dict:
        return {
            "cv_accuracy": self.cv_accuracy,
            "input_scaling": self.inputs.scaling,
            "kernel": self.kernel_name,
            "params": {key: value for key, value in self.params.items() if key != "get"},
            "kernel_scaling": self.kernel_scaling,
            "C": self.c,
        }


class SVMCounter:
    """Fits SVMs on precomputed kernels and counts them (and those that hit the cap)."""

    def __init__(self):
        self.fits = 0
        self.capped = 0

    def fit(self, gram: np.ndarray, labels: np.ndarray, c: float) -> SVC:
        machine = SVC(C=c, kernel="precomputed", max_iter=SVM_MAX_ITERATIONS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            machine.fit(gram, labels)
        self.fits += 1
        self.capped += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return machine


def cross_validated_accuracy(gram, kernel_scaling, labels, folds, c_values, svm: SVMCounter):
    """Mean validation accuracy over ``folds`` for each ``C``; the Gram matrix is sliced."""
    if kernel_scaling == "cosine":
        diagonal = np.diag(gram)
        gram = cosine(gram, diagonal, diagonal)
    accuracy = np.zeros(len(c_values))
    for fit, validate in folds:
        fit_gram = gram[np.ix_(fit, fit)]
        validate_gram = gram[np.ix_(validate, fit)]
        if kernel_scaling == "trace":
            scale = np.mean(np.diag(fit_gram))
            fit_gram, validate_gram = fit_gram / scale, validate_gram / scale
        for index, c in enumerate(c_values):
            machine = svm.fit(fit_gram, labels[fit], c)
            accuracy[index] += np.mean(machine.predict(validate_gram) == labels[validate])
    return accuracy / len(folds)


def stratified_folds(labels: np.ndarray, grid: Grid) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold splits of the training split, repeated when it is small."""
    smallest_class = int(np.unique(labels, return_counts=True)[1].min())
    splitter = RepeatedStratifiedKFold(
        n_splits=max(2, min(grid.max_folds, smallest_class)),
        n_repeats=grid.repeats if len(labels) < grid.repeat_below else 1,
        random_state=0,
    )
    return list(splitter.split(np.zeros(len(labels)), labels))


def select(family, data, folds, grid, svm, choices, progress, log) -> dict:
    """Cross-validate every candidate of ``family``; update ``choices`` in place."""
    start = time.perf_counter()
    kernel_seconds, skipped, n_points = 0.0, [], 0
    for inputs in data.inputs:
        X = inputs.train if family.reads_sequences else inputs.train_vectors
        for params in family.grid(inputs):
            n_points += 1
            progress.advance()
            tic = time.perf_counter()
            try:
                grams = family.evaluate(params, X)
            except rntk.KernelOverflowError:
                skipped.append({"input_scaling": inputs.scaling, **params})
                continue
            kernel_seconds += time.perf_counter() - tic
            for kernel_name, gram in grams.items():
                methods = family.methods(params, kernel_name)
                for kernel_scaling in family.kernel_scalings if methods else ():
                    scores = cross_validated_accuracy(
                        gram, kernel_scaling, data.y_train, folds, grid.c_values, svm
                    )
                    index = int(np.argmax(scores))  # the smallest C on ties
                    for method in methods:
                        best = choices.setdefault(method, Choice(method))
                        if scores[index] > best.cv_accuracy:
                            best.cv_accuracy = float(scores[index])
                            best.family, best.inputs, best.params = family, inputs, params
                            best.kernel_name, best.kernel_scaling = kernel_name, kernel_scaling
                            best.c = grid.c_values[index]
                            best.train_gram = gram
    seconds = time.perf_counter() - start
    log(
        f"  {family.name:<10} {n_points:4d} grid points  kernels {kernel_seconds:6.1f} s  "
        f"total {seconds:6.1f} s" + (f"  ({len(skipped)} overflowed, skipped)" if skipped else "")
    )
    return {
        "grid_points": n_points,
        "kernel_seconds": kernel_seconds,
        "seconds": seconds,
        "skipped_overflow": skipped,
    }


def score_on_test(choice: Choice, data: DataSet, svm: SVMCounter, cache: dict) -> float:
    """Refit the chosen candidate on the whole training split; its test accuracy."""
    family, inputs = choice.family, choice.inputs
    key = (family.name, inputs.scaling, json.dumps(choice.params, sort_keys=True))
    if key not in cache:
        if family.reads_sequences:
            X_test, X_train = inputs.test, inputs.train
        else:
            X_test, X_train = inputs.test_vectors, inputs.train_vectors
        cache[key] = (
            family.evaluate(choice.params, X_test, X_train),
            family.self_similarity(choice.params, X_test),
        )
    test_grams, test_diagonals = cache[key]
    train_gram = choice.train_gram
    test_gram = test_grams[choice.kernel_name]
    if choice.kernel_scaling == "cosine":
        train_diagonal = np.diag(train_gram)
        test_gram = cosine(test_gram, test_diagonals[choice.kernel_name], train_diagonal)
        train_gram = cosine(train_gram, train_diagonal, train_diagonal)
    else:
        scale = np.mean(np.diag(train_gram))
        train_gram, test_gram = train_gram / scale, test_gram / scale
    machine = svm.fit(train_gram, data.y_train, choice.c)
    return float(np.mean(machine.predict(test_gram) == data.y_test))


def run_dataset(data: DataSet, grid: Grid, with_nngp: bool, log) -> dict:
    start = time.perf_counter()
    folds = stratified_folds(data.y_train, grid)
    svm = SVMCounter()
    choices: dict[str, Choice] = {}
    timing = {}
    families = kernel_families(grid, with_nngp)
    n_points = sum(len(family.grid(inputs)) for family in families for inputs in data.inputs)
    progress = Progress(n_points, f"{data.name} grid points")
    for family in families:
        timing[family.name] = select(family, data, folds, grid, svm, choices, progress, log)
    progress.close()
    cache: dict = {}
    methods = {}
    for method in RANKED_METHODS + RNTK_VARIANTS:
        choice = choices.get(method)
        if choice is None or choice.family is None:
            continue
        methods[method] = {"test_accuracy": score_on_test(choice, data, svm, cache)}
        methods[method].update(choice.describe())
    seconds = time.perf_counter() - start
    return {
        **data.description,
        "folds": len(folds),
        "methods": methods,
        "timing": timing,
        "svm_fits": svm.fits,
        "svm_fits_at_iteration_cap": svm.capped,
        "seconds": seconds,
    }


# ---------------------------------------------------------------------------
# Summary and output


def summary_statistics(accuracy: np.ndarray) -> dict[str, np.ndarray]:
    """The paper's summary of an ``(n_datasets, n_methods)`` accuracy table."""
    best = accuracy.max(axis=1, keepdims=True)
    ranks = np.vstack([rankdata(-row, method="average") for row in accuracy])
    return {
        "Mean accuracy": accuracy.mean(axis=0),
        "Friedman rank": ranks.mean(axis=0),
        "P90": np.mean(accuracy >= 0.9 * best, axis=0),
        "P95": np.mean(accuracy >= 0.95 * best, axis=0),
        "PMA": np.mean(accuracy / best, axis=0),
    }


def accuracy_table(results: dict, methods: tuple[str, ...]) -> np.ndarray:
    return np.array(
        [[entry["methods"][m]["test_accuracy"] for m in methods] for entry in results.values()]
    )


def markdown_tables(results: dict, summary: dict) -> str:
    header = ["Data set", "Train", "Test", "Classes", "Length", "Dims", *RANKED_METHODS]
    lines = [
        "Test accuracy (%); kernel SVM, hyperparameters and C chosen by stratified CV on the "
        "training split; best of the four in bold.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for name, entry in results.items():
        values = [entry["methods"][m]["test_accuracy"] for m in RANKED_METHODS]
        cells = [f"**{100 * v:.1f}**" if v == max(values) else f"{100 * v:.1f}" for v in values]
        info = [entry["n_train"], entry["n_test"], entry["n_classes"], length_label(entry)]
        lines.append(
            f"| {name} | " + " | ".join(map(str, info + [entry["channels"]] + cells)) + " |"
        )
    for statistic, values in summary.items():
        if statistic == "Friedman rank":
            cells = [f"{v:.2f}" for v in values]
            label = "Friedman rank (lower is better)"
        else:
            cells = [f"{100 * v:.1f}" for v in values]
            label = f"{statistic} (%)"
        lines.append(f"| **{label}** | | | | | | " + " | ".join(cells) + " |")

    variants = ("RNTK", *reported_variants(results))
    lines += [
        "",
        "RNTK variants (not ranked): the grid restricted to one activation (and, with --nngp, "
        "the NNGP of the same passes); the chosen RNTK.",
        "",
        "| Data set | " + " | ".join(variants) + " | Chosen RNTK |",
        "|---|" + "---:|" * len(variants) + "---|",
    ]
    for name, entry in results.items():
        cells = [f"{100 * entry['methods'][m]['test_accuracy']:.1f}" for m in variants]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {describe_rntk(entry)} |")
    return "\n".join(lines)


def reported_variants(results: dict) -> tuple[str, ...]:
    """The unranked RNTK variants present for every data set."""
    return tuple(
        m for m in RNTK_VARIANTS if all(m in entry["methods"] for entry in results.values())
    )


def describe_rntk(entry: dict) -> str:
    chosen = entry["methods"]["RNTK"]
    p = chosen["params"]
    return (
        f"{p['activation']}, L={p['depth']}, sw={p['sigma_w']:.3g}, sb={p['sigma_b']:g}, "
        f"sh={p['sigma_h']:g}, {chosen['kernel_scaling']}, C={chosen['C']:g}, "
        f"{chosen['input_scaling']}"
    )


def write_csv(path: Path, results: dict, summary: dict) -> None:
    methods = RANKED_METHODS + reported_variants(results)
    with open(path / "accuracy.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["dataset", "n_train", "n_test", "n_classes", "length", "channels", *methods]
        )
        for name, entry in results.items():
            accuracies = [f"{entry['methods'][m]['test_accuracy']:.6f}" for m in methods]
            writer.writerow(
                [
                    name,
                    entry["n_train"],
                    entry["n_test"],
                    entry["n_classes"],
                    length_label(entry),
                    entry["channels"],
                    *accuracies,
                ]
            )
    with open(path / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["statistic", *RANKED_METHODS])
        for statistic, values in summary.items():
            writer.writerow([statistic, *(f"{v:.6f}" for v in values)])


def plot(path: Path, results: dict) -> None:
    plt = pyplot()
    baselines = [m for m in RANKED_METHODS if m != "RNTK"]
    rntk_accuracy = accuracy_table(results, ("RNTK",))[:, 0]
    baseline_accuracy = accuracy_table(results, tuple(baselines)).max(axis=1)
    wins = int(np.sum(rntk_accuracy > baseline_accuracy))
    ties = int(np.sum(rntk_accuracy == baseline_accuracy))
    losses = len(results) - wins - ties
    low = min(rntk_accuracy.min(), baseline_accuracy.min())
    low = max(0.0, np.floor(10 * low - 0.5) / 10)

    figure, axis = plt.subplots(figsize=(7.5, 5))
    axis.plot([low, 1], [low, 1], color="black", linewidth=1)
    # One marker per data set, named in a legend: labels beside the points collide.
    markers = "osD^vP*Xh<>p"
    for index, name in enumerate(results):
        axis.scatter(
            baseline_accuracy[index],
            rntk_accuracy[index],
            s=40,
            marker=markers[index % len(markers)],
            color=plt.cm.tab10(index % 10),
            label=name,
            zorder=3,
        )
    axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    axis.set(
        xlim=(low, 1.0),
        ylim=(low, 1.0),
        aspect="equal",
        xlabel="best baseline test accuracy (RBF, polynomial, MLP-NTK)",
        ylabel="RNTK test accuracy",
        title=f"RNTK against the best baseline per data set\n(wins {wins}, ties {ties}, "
        f"losses {losses})",
    )
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path / "rntk_vs_best_baseline.png", dpi=120, bbox_inches="tight")
    plt.close(figure)


def main() -> None:
    name, description = "ucr_classification", __doc__.splitlines()[0]
    parser = example_parser(name, description)
    parser.add_argument(
        "--all", action="store_true", help="every classification data set available offline"
    )
    parser.add_argument("--datasets", help="comma-separated data set names, e.g. GunPoint,OSULeaf")
    parser.add_argument(
        "--nngp", action="store_true", help="also select and report the RNN-NNGP (more SVM fits)"
    )
    args = example_arguments(name, description, parser)
    if args.all and args.datasets:
        parser.error("--all and --datasets exclude each other")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    grid = QUICK_GRID if args.quick else FULL_GRID
    if args.datasets:
        names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    elif args.all:
        names = available_ucr()
    else:
        names = list(QUICK_DATASETS if args.quick else DEFAULT_DATASETS)

    start = time.perf_counter()
    results, not_classification = {}, []
    for name in names:
        data = load_classification_set(name)
        if data is None:
            log(f"{name}: not a classification data set (regression targets), skipped")
            not_classification.append(name)
            continue
        d = data.description
        log(
            f"{name}: {d['n_train']} train / {d['n_test']} test, {d['n_classes']} classes, "
            f"length {length_label(d)}, {d['channels']} channel(s), "
            f"input scalings: {', '.join(d['input_scalings'])}"
        )
        results[name] = run_dataset(data, grid, args.nngp, log)
        accuracies = ", ".join(
            f"{m} {100 * results[name]['methods'][m]['test_accuracy']:.1f}" for m in RANKED_METHODS
        )
        log(f"  test accuracy (%): {accuracies}  [{results[name]['seconds']:.1f} s]")
    if not results:
        parser.error("no classification data set to run")
    seconds = time.perf_counter() - start

    summary = summary_statistics(accuracy_table(results, RANKED_METHODS))
    tables = markdown_tables(results, summary)
    if not_classification:
        tables += f"\n\nNot classification data sets, skipped: {', '.join(not_classification)}."
    print(tables)
    (args.out / "results.md").write_text(tables + "\n")
    write_csv(args.out, results, summary)
    plot(args.out, results)
    record = {
        "experiment": "UCR/UEA classification, kernel SVM, CV on the training split",
        "grid": "quick" if args.quick else "full",
        "grids": {
            "C": grid.c_values,
            "RNTK": grid.rntk,
            "RBF gamma / (1 / median squared distance)": grid.rbf_factors,
            "Polynomial (gamma = 1 / d)": grid.polynomial,
            "MLP-NTK": grid.mlp,
            "kernel scalings": ["trace (divide by mean training diagonal)", "cosine"],
            "max folds": grid.max_folds,
            "repeats (training splits under repeat_below series)": grid.repeats,
            "repeat_below": grid.repeat_below,
        },
        "ranked_methods": RANKED_METHODS,
        "summary": {
            statistic: dict(zip(RANKED_METHODS, map(float, values), strict=True))
            for statistic, values in summary.items()
        },
        "datasets": results,
        "not_classification": not_classification,
        "seconds": seconds,
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    write_results(args.out, record)
    log(f"done in {seconds:.1f} s")
    print(
        f"\nWrote results.json, accuracy.csv, summary.csv, results.md and "
        f"rntk_vs_best_baseline.png to {args.out}"
    )


if __name__ == "__main__":
    main()
