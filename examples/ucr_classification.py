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
    and scored on the test split. The RNTK grid lists its read-out heads from
    the cheapest (last, bi-last, mean, bi-mean), so within an input scaling a
    tie goes to the cheaper head.
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
    The RNTK reads the raw sequences, aligned at their last step (the backward
    stack of a bidirectional head reads them reversed, so aligned at their
    first step). The vector kernels need one length: every sequence (train and
    test) is resampled, by linear interpolation in time, to the length of the
    longest training sequence (JapaneseVowels: 26 steps, PLAID: 1344).
Kernels and grids
    RNTK (48 points): the four read-out heads of :mod:`rntk.heads`
    (``readout`` "last" or "mean", ``bidirectional`` or not) crossed with 12
    points: activation ReLU or erf, depth 1, ``sigma_w`` in {1.34, 1.38,
    sqrt(2)}, ``sigma_u = 1``, ``sigma_b`` in {0.5, 2}, ``sigma_h = 0``. For
    ReLU, step ``t`` counts about ``(sigma_w**2 / 2)**(T - t)``: 1.34 weighs
    about the last 10 steps, 1.38 the last 20, sqrt(2) all alike. The mean
    head reads every ``k``-th state counted back from the last, ``k`` the
    smallest stride that reads at most 32 states of the longest training
    series (GunPoint 5, ArrowHead 8, OSULeaf 14, PLAID 42, ACSF1 46; 1 up to
    32 steps; see the stride below). A point whose kernel leaves the float64
    range is skipped and recorded. RBF (9): ``gamma = g / median`` squared
    distance between training vectors, ``g`` in {1/16, 1/8, ..., 16}.
    Polynomial (10): degree 1 to 5, ``gamma = 1 / d`` (``d = T m``),
    ``coef0`` in {0, 1}.
    MLP-NTK (16): NTK of a fully connected ReLU network, 1 to 4 hidden layers,
    ``sigma_w = sqrt(2)``, ``sigma_b`` in {0, 0.1, 0.5, 1}. Every grid point is
    crossed with the input scalings, the two kernel scalings and ``C``.
Thinning of the RNTK grid
    Crossing the heads with the former 192-point grid (depth 1 or 2,
    ``sigma_w`` in {1.34, 1.38, sqrt(2), 1.44, 1.47, 2}, ``sigma_b`` in {0,
    0.5, 1, 2}, ``sigma_h`` in {0, 1}) would cost hours: four times the SVM
    fits, and a mean head costs about as much as 30 last-step kernels. With
    the last-step head alone, on the nine classification sets, the 12-point
    subset reaches the best CV score of the 192 points on seven and is 2.0
    (ACSF1) and 0.2 (OSULeaf) points below it on the other two; mean test
    accuracy 81.4 % against 81.3 %. The full grid never chose ``sigma_w``
    above sqrt(2), and chose ``sigma_b`` 0.5 or 2 on seven of nine sets.
The mean head's pool stride
    A pair costs ``O(T T' / k)`` pair-steps against ``O(min(T, T'))`` for the
    last step: with at most 32 states read, a mean head costs about 30
    last-step kernels whatever the length, where reading every state would
    cost ``T`` of them. Measured with the mean and bi-mean heads alone (four
    points: ReLU or erf, ``sigma_w`` in {1.38, sqrt(2)}, ``sigma_b = 2``;
    test accuracy of the CV choice, %; seconds of kernel time for the four
    points, both heads, on the shared 2-core machine, within about 30 %)::

        states read  GunPoint, T=150  OSULeaf, 427     ACSF1, 1460      PLAID, <=1344
        4            -                57.9 56.2   11s  79.0 79.0    8s  63.3 72.1   38s
        8            93.3 94.7    2s  63.6 63.2   19s  83.0 85.0   16s  72.1 74.5   43s
        16           92.7 98.0    2s  71.9 71.9   32s  87.0 86.0   50s  77.7 79.0   81s
        32           98.7 98.7    5s  79.8 80.6   59s  86.0 86.0  106s  79.0 80.6  158s
        64           -                81.8 82.2  106s  86.0 86.0  126s  82.7 82.9  302s
        all (k = 1)  99.3 99.3   26s  -                -                -
        last head    96.0 97.3        47.5 50.8        79.0 82.0        63.3 73.2

    (last row: the last-step head, uni- and bidirectional, for reference).
    Accuracy rises with the number of states read up to 16 (ACSF1) or beyond
    64 (OSULeaf, PLAID: +2 to +4 points from 32 to 64 at twice the time); all
    150 states of GunPoint gain one test series over 30 at five times the
    time. So the stride pays for itself on the long sets: 32 states keep most
    of the gain over the last step (+32 points on OSULeaf, +16 on PLAID) at a
    small fraction of the cost of every state (OSULeaf ``k = 1`` would cost 14
    times as much, ACSF1 46 times); 32 rather than 64 is what the budget of
    ``--all`` allows with 12 points. With sequences of different lengths
    (PLAID) the stride follows the longest, so a short series contributes few
    states.
Methods
    Ranked (the summary statistics): RNTK (the NTK, chosen by CV over the whole
    grid, both activations and all four heads), RBF, Polynomial, MLP-NTK.
    Reported alongside, not ranked: RNTK-ReLU and RNTK-erf (the grid
    restricted to one activation), RNTK-last, RNTK-mean, RNTK-bi-last and
    RNTK-bi-mean (restricted to one head) and, with ``--nngp``, RNN-NNGP (the
    NNGP of the same passes; doubles the SVM fits of the RNTK). The head the
    RNTK chose is reported per data set (results.json, tables, stderr).
Cost
    Measured on 2 cores: the default run (GunPoint) about 30 s, ``--all``
    about 26 minutes (budget: 45), of which the RNTK kernels take 20, nearly
    all of it the mean heads (PLAID 10 minutes, ACSF1 4.5, OSULeaf 3.5; a
    bi-mean kernel costs twice a mean one), and the SVM fits most of the
    rest. The last-step heads cost ``O(n^2 T)``, about a minute for all sets.
    A libsvm fit is capped at 10**6 iterations (it can cycle on a nearly
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

Writes ``results.json``, ``accuracy.csv``, ``summary.csv``, ``results.md``,
``rntk_vs_best_baseline.png`` and ``rntk_heads.png`` (test accuracy of each head)
to ``--out`` (default ``results/ucr_classification/``); the Markdown tables also
go to stdout, progress to stderr.
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
HEADS = ("last", "mean", "bi-last", "bi-mean")
ACTIVATION_VARIANTS = ("RNTK-ReLU", "RNTK-erf")
HEAD_VARIANTS = tuple(f"RNTK-{head}" for head in HEADS)
RNTK_VARIANTS = (*ACTIVATION_VARIANTS, *HEAD_VARIANTS, "RNN-NNGP")
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
    # The mean head reads every k-th state, k the smallest stride that reads at
    # most this many states of the longest training series.
    max_pooled_states: int
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
        "readout": ("last", "mean"),
        "bidirectional": (False, True),
        "activation": ("relu", "erf"),
        "depth": (1,),
        "sigma_w": (1.34, 1.38, SQRT2),
        "sigma_u": (1.0,),
        "sigma_b": (0.5, 2.0),
        "sigma_h": (0.0,),
    },
    max_pooled_states=32,
    rbf_factors=tuple(2.0**k for k in range(-4, 5)),
    polynomial={"degree": (1, 2, 3, 4, 5), "coef0": (0.0, 1.0)},
    mlp={"depth": (1, 2, 3, 4), "sigma_w": (SQRT2,), "sigma_b": (0.0, 0.1, 0.5, 1.0)},
)

QUICK_GRID = Grid(
    c_values=(0.1, 1.0, 10.0),
    rntk={
        "readout": ("last", "mean"),
        "bidirectional": (False, True),
        "activation": ("relu", "erf"),
        "depth": (1,),
        "sigma_w": (SQRT2,),
        "sigma_u": (1.0,),
        "sigma_b": (1.0,),
        "sigma_h": (0.0,),
    },
    max_pooled_states=8,
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
    diagonals ``K(x, x)``, for cosine normalisation of test rows;
    ``describe(params)`` what to report of a chosen point besides its parameters.
    """

    name: str
    reads_sequences: bool
    grid: Callable[[Inputs], list[dict]]
    evaluate: Callable[..., dict[str, np.ndarray]]
    self_similarity: Callable[[dict, object], dict[str, np.ndarray]]
    methods: Callable[[dict, str], tuple[str, ...]]
    kernel_scalings: tuple[str, ...] = ("trace", "cosine")
    describe: Callable[[dict], dict] = lambda params: {}


def rntk_family(grid: Grid, with_nngp: bool) -> KernelFamily:
    both = ("nngp", "ntk")

    def by_name(pair: rntk.KernelPair) -> dict[str, np.ndarray]:
        return {"nngp": pair.nngp, "ntk": pair.ntk}

    def evaluate(params, X, X2=None):
        return by_name(rntk.kernel(X, X2, get=both, **params))

    def self_similarity(params, X):
        return by_name(rntk.RNTK(get=both, **params).diag(X))

    def methods(params, kernel_name):
        if kernel_name == "nngp":
            return ("RNN-NNGP",) if with_nngp else ()
        activation = "RNTK-ReLU" if params["activation"] == "relu" else "RNTK-erf"
        return ("RNTK", activation, f"RNTK-{head_name(params)}")

    def points(inputs: Inputs) -> list[dict]:
        stride = mean_pool_stride(inputs.train, grid.max_pooled_states)
        return [
            {**point, "pool_stride": stride} if point["readout"] == "mean" else point
            for point in product_grid(grid.rntk)
        ]

    def describe(params):
        return {"head": head_name(params), "pool_stride": params.get("pool_stride", 1)}

    return KernelFamily("RNTK", True, points, evaluate, self_similarity, methods, describe=describe)


def head_name(params: dict) -> str:
    """``last``, ``mean``, ``bi-last`` or ``bi-mean``: the read-out of an RNTK grid point."""
    return ("bi-" if params["bidirectional"] else "") + params["readout"]


def mean_pool_stride(sequences: list[np.ndarray], max_pooled_states: int) -> int:
    """The smallest stride at which the mean head reads at most ``max_pooled_states``
    states of the longest sequence (it then costs about that many last-step kernels)."""
    return -(-max(len(sequence) for sequence in sequences) // max_pooled_states)


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
            **self.family.describe(self.params),
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
    kernel_seconds_by_method: dict[str, float] = {}
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
            elapsed = time.perf_counter() - tic
            kernel_seconds += elapsed
            for method in dict.fromkeys(m for name in grams for m in family.methods(params, name)):
                kernel_seconds_by_method[method] = kernel_seconds_by_method.get(method, 0) + elapsed
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
        "kernel_seconds_by_method": kernel_seconds_by_method,
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
        "training split; best of the four in bold; the RNTK's read-out head, chosen by CV.",
        "",
        "| " + " | ".join(header) + " | RNTK head |",
        "|---|" + "---:|" * (len(header) - 1) + "---|",
    ]
    for name, entry in results.items():
        values = [entry["methods"][m]["test_accuracy"] for m in RANKED_METHODS]
        cells = [f"**{100 * v:.1f}**" if v == max(values) else f"{100 * v:.1f}" for v in values]
        info = [entry["n_train"], entry["n_test"], entry["n_classes"], length_label(entry)]
        head = describe_head(entry["methods"]["RNTK"])
        lines.append(
            f"| {name} | "
            + " | ".join(map(str, info + [entry["channels"]] + cells))
            + f" | {head} |"
        )
    for statistic, values in summary.items():
        if statistic == "Friedman rank":
            cells = [f"{v:.2f}" for v in values]
            label = "Friedman rank (lower is better)"
        else:
            cells = [f"{100 * v:.1f}" for v in values]
            label = f"{statistic} (%)"
        lines.append(f"| **{label}** | | | | | | " + " | ".join(cells) + " | |")

    variants = ("RNTK", *reported_variants(results))
    lines += [
        "",
        "RNTK variants (not ranked): the grid restricted to one activation, or to one read-out "
        "head (and, with --nngp, the NNGP of the same passes); the chosen RNTK.",
        "",
        "| Data set | " + " | ".join(variants) + " | Chosen RNTK |",
        "|---|" + "---:|" * len(variants) + "---|",
    ]
    for name, entry in results.items():
        cells = [f"{100 * entry['methods'][m]['test_accuracy']:.1f}" for m in variants]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {describe_rntk(entry)} |")
    means = 100 * accuracy_table(results, variants).mean(axis=0)
    lines.append("| **Mean accuracy (%)** | " + " | ".join(f"{v:.1f}" for v in means) + " | |")
    return "\n".join(lines)


def reported_variants(results: dict) -> tuple[str, ...]:
    """The unranked RNTK variants present for every data set."""
    return tuple(
        m for m in RNTK_VARIANTS if all(m in entry["methods"] for entry in results.values())
    )


def describe_head(chosen: dict) -> str:
    """The read-out head of a chosen RNTK, e.g. ``bi-mean, stride 5``."""
    stride = chosen["pool_stride"]
    return chosen["head"] + (f", stride {stride}" if stride > 1 else "")


def describe_rntk(entry: dict) -> str:
    chosen = entry["methods"]["RNTK"]
    p = chosen["params"]
    return (
        f"{describe_head(chosen)}, {p['activation']}, L={p['depth']}, sw={p['sigma_w']:.3g}, "
        f"sb={p['sigma_b']:g}, sh={p['sigma_h']:g}, {chosen['kernel_scaling']}, C={chosen['C']:g}, "
        f"{chosen['input_scaling']}"
    )


def write_csv(path: Path, results: dict, summary: dict) -> None:
    methods = RANKED_METHODS + reported_variants(results)
    with open(path / "accuracy.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        description = ["dataset", "n_train", "n_test", "n_classes", "length", "channels"]
        writer.writerow([*description, *methods, "rntk_head"])
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
                    describe_head(entry["methods"]["RNTK"]),
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


def plot_heads(path: Path, results: dict) -> None:
    """Test accuracy of each head's restricted grid per data set, the chosen head ringed."""
    plt = pyplot()
    names = list(results)
    head_accuracy = accuracy_table(results, HEAD_VARIANTS)
    baselines = tuple(m for m in RANKED_METHODS if m != "RNTK")
    baseline_accuracy = accuracy_table(results, baselines).max(axis=1)
    positions = np.arange(len(names))
    offsets = np.linspace(-0.24, 0.24, len(HEADS))

    figure, axis = plt.subplots(figsize=(max(6.0, 0.8 * len(names) + 2.5), 4.5))
    axis.hlines(
        baseline_accuracy,
        positions - 0.35,
        positions + 0.35,
        color="grey",
        linewidth=2,
        label="best baseline",
    )
    for column, (head, offset, marker) in enumerate(zip(HEADS, offsets, "os^D", strict=True)):
        axis.scatter(
            positions + offset,
            head_accuracy[:, column],
            marker=marker,
            s=36,
            color=plt.cm.tab10(column),
            label=head,
            zorder=3,
        )
        chosen = [results[name]["methods"]["RNTK"]["head"] == head for name in names]
        axis.scatter(
            (positions + offset)[chosen],
            head_accuracy[chosen, column],
            s=150,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            zorder=4,
        )
    axis.scatter([], [], s=150, facecolors="none", edgecolors="black", label="chosen by CV")
    axis.set_xticks(positions, names, rotation=30, ha="right")
    axis.set(
        ylabel="test accuracy",
        title="RNTK read-out heads (the grid restricted to each head)",
    )
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path / "rntk_heads.png", dpi=120, bbox_inches="tight")
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
        chosen = results[name]["methods"]["RNTK"]
        heads = ", ".join(
            f"{m.removeprefix('RNTK-')} {100 * results[name]['methods'][m]['test_accuracy']:.1f}"
            for m in HEAD_VARIANTS
        )
        log(f"  RNTK head chosen by CV: {describe_head(chosen)}  (each head alone: {heads})")
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
    plot_heads(args.out, results)
    record = {
        "experiment": "UCR/UEA classification, kernel SVM, CV on the training split",
        "grid": "quick" if args.quick else "full",
        "grids": {
            "C": grid.c_values,
            "RNTK": grid.rntk,
            "RNTK mean head: most states pooled (sets pool_stride)": grid.max_pooled_states,
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
        "rntk_heads_chosen": {
            name: describe_head(entry["methods"]["RNTK"]) for name, entry in results.items()
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
        f"\nWrote results.json, accuracy.csv, summary.csv, results.md, "
        f"rntk_vs_best_baseline.png and rntk_heads.png to {args.out}"
    )


if __name__ == "__main__":
    main()
