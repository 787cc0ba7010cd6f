"""Nystroem features of the RNTK: time and memory at scale, approximation error, UCR accuracy.

Every figure is measured in this one run, on this machine; the machine may be
shared and noisy, so timings are medians of ``--repeat`` runs and the load
average is printed beside them.

    python benchmarks/bench_nystroem.py                      # (a) and (b)
    python benchmarks/bench_nystroem.py --n 10000            # (a) smaller
    python benchmarks/bench_nystroem.py --ucr --skip-scale   # (b) and (c)

Reported:

(a) ``Nystroem(RNTK(), components).fit(X)`` and ``.transform(X)`` for ``--n``
    standard normal sequences of length ``--length`` (default 100,000 x 100,
    1,000 components, uniform landmarks): seconds, and peak memory both as
    traced NumPy allocations during the call (tracemalloc) and as the process's
    peak resident set (``ru_maxrss``, which includes the interpreter, the
    libraries and the data). The features alone are ``8 n components`` bytes.
(b) The relative Frobenius error ``||K - F F^T|| / ||K||`` of the approximated
    Gram matrix against the exact one (``rntk.kernel``) for a range of
    ``n_components`` up to ``n`` (where it is exact to rounding), with each
    landmark rule (uniform, rpcholesky, greedy; seed 0), on ``--error-n``
    standard normal sequences of lengths uniform in 50..150, with the time to
    fit and transform and, for the two Cholesky rules, the kernel pairs that
    ``fit`` evaluates to choose the landmarks, in units of ``n m`` (1 is one
    kernel row per landmark).
(c) With ``--ucr``: on each UCR/UEA classification set available offline,
    z-normalised as ``examples/ucr_defaults.py`` does, the exact-Gram SVM
    (``SVC(kernel="precomputed")``) against the same SVM on Nystroem features
    with ``n_components`` = half the training set (landmarks from the
    training split by each rule; the random rules averaged over ``--seeds``
    seeds), all with the default RNTK and ``C`` chosen by the same stratified
    5-fold cross-validation on the training split. Kernel and features are
    scaled so that the mean training self-kernel is 1. The classifier on the
    features is ``SVC`` on ``F F^T`` (i.e. ``SVC(kernel="linear")`` on
    ``F``), not ``LinearSVC``: at 20 to 537 training series the two differ by
    up to 14 points on the same features (LinearSVC penalises the intercept,
    trains one-vs-rest, and its solver shuffles without a fixed seed), which
    would blur the approximation's own effect; the column "LinearSVC, exact
    features" (hinge loss on features with ``F F^T = K`` exactly) shows that
    classifier's difference alone. For a large ``n`` an SVC's ``n x n``
    problem is what the features avoid, and a linear model on ``F``
    (``examples/large_scale.py`` uses logistic regression) is the use case;
    this table measures only how well ``F F^T`` stands in for ``K``. Features are
    ``k(x, Z) @ normalization_`` from the kernel values already computed
    (what ``transform`` returns, to rounding). A markdown table of test
    accuracies, with the relative Frobenius error of each approximated
    training Gram matrix and the smallest error any rank-m matrix can reach
    (from the Gram matrix's eigenvalues), which tells an approximation that
    is poor because of its landmarks from one that no m features can fix.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
import warnings

import numpy as np
from _timing import median_time

import rntk
from rntk.datasets import standardise_channels, z_normalise
from rntk.nystroem import Nystroem

C_VALUES = (0.01, 0.1, 1.0, 10.0, 100.0)


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def peak_resident_mib() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_run(n: int, length: int, n_components: int, repeat: int) -> None:
    """(a): time and memory of fit + transform at scale."""
    X = np.random.default_rng(0).standard_normal((n, length))
    nystroem = Nystroem(rntk.RNTK(), n_components, random_state=0)
    print(f"(a) features of n={n} sequences, length {length}, {n_components} components")
    print(f"    before: peak resident {peak_resident_mib():.0f} MiB ({load()})", flush=True)
    fit_seconds = median_time(lambda: nystroem.fit(X), repeat)
    transform_seconds = median_time(lambda: nystroem.transform(X, progress=True), repeat)
    tracemalloc.start()
    start = time.perf_counter()
    features = nystroem.fit(X).transform(X, progress=True)
    traced_seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"    fit {fit_seconds:.2f} s, transform {transform_seconds:.1f} s "
        f"(medians of {repeat}); traced run {traced_seconds:.1f} s"
    )
    print(
        f"    peak traced allocations {peak / 2**20:.0f} MiB (features "
        f"{features.nbytes / 2**20:.0f} MiB); peak resident {peak_resident_mib():.0f} MiB "
        f"({load()})",
        flush=True,
    )


METHODS = ("uniform", "rpcholesky", "greedy")


class CountingRNTK(rntk.RNTK):
    """An RNTK that counts the pairs of sequences it evaluates (``pairs``)."""

    pairs = 0

    def __call__(self, X, X2=None, **keywords):
        n_rows = len(X) if isinstance(X, list) else X.n_sequences
        n_columns = n_rows if X2 is None else (len(X2) if isinstance(X2, list) else X2.n_sequences)
        type(self).pairs += n_rows * n_columns
        return super().__call__(X, X2, **keywords)


def relative_error(features: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(features @ features.T - exact) / np.linalg.norm(exact))


def error_run(n: int, components: list[int]) -> None:
    """(b): approximation error against n_components, for each landmark rule."""
    rng = np.random.default_rng(1)
    X = [rng.standard_normal(length) for length in rng.integers(50, 151, size=n)]
    kernel = CountingRNTK()
    exact = kernel(X)
    print(f"\n(b) relative Frobenius error of F F^T, n={n}, lengths 50..150 ({load()})")
    print(
        "| n_components | "
        + " | ".join(METHODS)
        + " | "
        + " | ".join(f"{method} s" for method in METHODS)
        + " | "
        + " | ".join(f"{method} fit pairs / (n m)" for method in METHODS[1:])
        + " |"
    )
    print("|---:|" + "---:|" * (3 * len(METHODS) - 1))
    for n_components in components:
        errors, seconds, pairs = {}, {}, {}
        for method in METHODS:
            start = time.perf_counter()
            CountingRNTK.pairs = 0
            nystroem = Nystroem(kernel, n_components, landmarks=method, random_state=0)
            nystroem.fit(X)
            # Kernel rows for the pivots, without the landmarks' own Gram matrix.
            pairs[method] = (CountingRNTK.pairs - n_components**2) / (n * n_components)
            features = nystroem.transform(X)
            seconds[method] = time.perf_counter() - start
            errors[method] = relative_error(features, exact)
        print(
            f"| {n_components} | "
            + " | ".join(f"{errors[method]:.2e}" for method in METHODS)
            + " | "
            + " | ".join(f"{seconds[method]:.1f}" for method in METHODS)
            + " | "
            + " | ".join(f"{pairs[method]:.2f}" for method in METHODS[1:])
            + " |",
            flush=True,
        )


def z_normalised(train: list[np.ndarray], test: list[np.ndarray]):
    """Univariate series z-normalised one by one; multivariate channels standardised."""
    if train[0].shape[1] == 1:
        return z_normalise(train), z_normalise(test)
    return standardise_channels(train, test)


def cross_validated_accuracy(model, train, y_train, test, y_test) -> tuple[float, float]:
    """Test accuracy of ``model`` with C from stratified 5-fold CV, and that C."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    folds = int(min(5, np.unique(y_train, return_counts=True)[1].min()))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    search = GridSearchCV(model, {"C": C_VALUES}, cv=splitter).fit(train, y_train)
    return float(search.score(test, y_test)), search.best_params_["C"]


def ucr_run(seeds: int) -> None:
    """(c): exact-Gram SVM against the same SVM on Nystroem features, UCR/UEA data."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC, LinearSVC

    kernel_svm = SVC(kernel="precomputed")
    linear_svm = LinearSVC(loss="hinge", max_iter=100_000)

    kernel = rntk.RNTK()
    print(
        f"\n(c) UCR/UEA: default RNTK, exact-Gram SVM against the SVM on Nystroem features "
        f"(uniform and rpcholesky: mean of seeds 0..{seeds - 1}; {load()})"
    )
    print(
        "| Data set | Train | m | Exact SVM | "
        + " | ".join(f"Nystroem, {method}" for method in METHODS)
        + " | exact SVM, best rank-m Gram | LinearSVC, exact features | "
        + " | ".join(f"Gram error, {method}" for method in METHODS)
        + " | best rank-m error |"
    )
    print("|---|" + "---:|" * (2 * len(METHODS) + 6))
    differences = {method: [] for method in METHODS}
    for name in rntk.available_ucr():
        X_train, y_train, X_test, y_test = rntk.load_ucr(name)
        train, test = z_normalised(
            [np.asarray(x, dtype=float).reshape(len(x), -1) for x in X_train],
            [np.asarray(x, dtype=float).reshape(len(x), -1) for x in X_test],
        )
        gram = kernel(train)
        scale = float(np.mean(np.diag(gram)))
        gram /= scale
        cross = kernel(test, train) / scale
        exact, _ = cross_validated_accuracy(kernel_svm, gram, y_train, cross, y_test)
        n_components = len(train) // 2
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        best_error = np.sqrt(np.sum(eigenvalues[:-n_components] ** 2)) / np.linalg.norm(gram)
        # The ceiling of any rank-m approximation: the exact SVM on the best
        # rank-m Gram matrix (the top m eigenvectors of the training Gram; test
        # rows projected on them), so only the rank differs from the exact SVM.
        top_vectors = eigenvectors[:, -n_components:]
        projection = top_vectors @ top_vectors.T
        best_rank, _ = cross_validated_accuracy(
            kernel_svm, projection @ gram @ projection, y_train, cross @ projection, y_test
        )
        # What the classifier alone costs: LinearSVC on exact features (every
        # training sequence a landmark, F F^T = K), no approximation at all.
        kept = eigenvalues > len(train) * np.finfo(float).eps * eigenvalues.max()
        exact_features = eigenvectors[:, kept] * np.sqrt(eigenvalues[kept])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            linear_exact, _ = cross_validated_accuracy(
                linear_svm,
                exact_features,
                y_train,
                cross @ eigenvectors[:, kept] / np.sqrt(eigenvalues[kept]),
                y_test,
            )
        accuracies, errors = {}, {}
        for method in METHODS:
            runs = []
            for seed in range(seeds if method != "greedy" else 1):
                nystroem = Nystroem(kernel, n_components, landmarks=method, random_state=seed)
                landmarks = nystroem.fit(train).landmark_indices_
                # k(x, Z) K_mm^{-1/2}, what transform computes (to rounding), from
                # the kernel values at hand instead of evaluating them again.
                features = gram[:, landmarks] @ nystroem.normalization_ * np.sqrt(scale)
                test_features = cross[:, landmarks] @ nystroem.normalization_ * np.sqrt(scale)
                # The exact SVM on F F^T (SVC(kernel="linear") on F): only the
                # Gram matrix differs from the exact-Gram SVM.
                accuracy, _ = cross_validated_accuracy(
                    kernel_svm, features @ features.T, y_train, test_features @ features.T, y_test
                )
                runs.append((accuracy, relative_error(features, gram)))
            accuracies[method], errors[method] = np.mean(runs, axis=0)
            differences[method].append(100 * (accuracies[method] - exact))
        print(
            f"| {name} | {len(train)} | {n_components} | {100 * exact:.1f} | "
            + " | ".join(f"{100 * accuracies[method]:.1f}" for method in METHODS)
            + f" | {100 * best_rank:.1f} | {100 * linear_exact:.1f} | "
            + " | ".join(f"{errors[method]:.2f}" for method in METHODS)
            + f" | {best_error:.2f} |",
            flush=True,
        )
    for method, values in differences.items():
        print(
            f"{method}: mean difference {np.mean(values):+.1f} points, largest shortfall "
            f"{-min(values):.1f}, within 2 points on {sum(d >= -2 for d in values)} of "
            f"{len(values)} sets"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="(a) number of sequences")
    parser.add_argument("--length", type=int, default=100, help="(a) sequence length")
    parser.add_argument("--components", type=int, default=1000, help="(a) n_components")
    parser.add_argument("--repeat", type=int, default=1, help="(a) runs per timing")
    parser.add_argument("--error-n", type=int, default=1000, help="(b) number of sequences")
    parser.add_argument("--skip-scale", action="store_true", help="skip (a)")
    parser.add_argument("--skip-error", action="store_true", help="skip (b)")
    parser.add_argument("--ucr", action="store_true", help="run (c)")
    parser.add_argument("--seeds", type=int, default=3, help="(c) seeds of the random rules")
    args = parser.parse_args()

    print(f"rntk {rntk.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    if not args.skip_scale:
        scale_run(args.n, args.length, args.components, args.repeat)
    if not args.skip_error:
        components = [m for m in (10, 30, 100, 300) if m < args.error_n] + [args.error_n]
        error_run(args.error_n, components)
    if args.ucr:
        ucr_run(args.seeds)


if __name__ == "__main__":
    main()
