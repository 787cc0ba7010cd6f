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
    ``n_components`` up to ``n`` (where it is exact to rounding), with uniform
    and greedy landmarks, on ``--error-n`` standard normal sequences of lengths
    uniform in 50..150, with the time to fit and transform.
(c) With ``--ucr``: on each UCR/UEA classification set available offline,
    z-normalised as ``examples/ucr_defaults.py`` does, the exact-Gram SVM
    (``SVC(kernel="precomputed")``) against a linear SVM (``LinearSVC``, hinge
    loss) on Nystroem features with ``n_components`` = half the training set
    (uniform and greedy landmarks from the training split), all with the
    default RNTK and ``C`` chosen by the same stratified 5-fold
    cross-validation on the training split. Kernel and features are scaled so
    that the mean training self-kernel is 1. A markdown table of test
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


def relative_error(features: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(features @ features.T - exact) / np.linalg.norm(exact))


def error_run(n: int, components: list[int]) -> None:
    """(b): approximation error against n_components, uniform and greedy."""
    rng = np.random.default_rng(1)
    X = [rng.standard_normal(length) for length in rng.integers(50, 151, size=n)]
    kernel = rntk.RNTK()
    exact = kernel(X)
    print(f"\n(b) relative Frobenius error of F F^T, n={n}, lengths 50..150 ({load()})")
    print("| n_components | uniform | greedy | uniform s | greedy s |")
    print("|---:|---:|---:|---:|---:|")
    for n_components in components:
        errors, seconds = {}, {}
        for method in ("uniform", "greedy"):
            start = time.perf_counter()
            nystroem = Nystroem(kernel, n_components, landmarks=method, random_state=0)
            features = nystroem.fit(X).transform(X)
            seconds[method] = time.perf_counter() - start
            errors[method] = relative_error(features, exact)
        print(
            f"| {n_components} | {errors['uniform']:.2e} | {errors['greedy']:.2e} | "
            f"{seconds['uniform']:.1f} | {seconds['greedy']:.1f} |",
            flush=True,
        )


def z_normalised(train: list[np.ndarray], test: list[np.ndarray]):
    """Univariate series z-normalised one by one; multivariate channels standardised."""
    if train[0].shape[1] == 1:

        def z(sequence):
            spread = sequence.std()
            return (sequence - sequence.mean()) / (spread if spread > 0 else 1.0)

        return [z(s) for s in train], [z(s) for s in test]
    steps = np.concatenate(train)
    mean, spread = steps.mean(axis=0), steps.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return [(s - mean) / spread for s in train], [(s - mean) / spread for s in test]


def cross_validated_accuracy(make_model, train, y_train, test, y_test) -> tuple[float, float]:
    """Test accuracy of ``make_model(C)`` with C from stratified 5-fold CV, and that C."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = int(min(5, np.unique(y_train, return_counts=True)[1].min()))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    scores = [cross_val_score(make_model(c), train, y_train, cv=splitter).mean() for c in C_VALUES]
    best_c = C_VALUES[int(np.argmax(scores))]
    model = make_model(best_c).fit(train, y_train)
    return float(model.score(test, y_test)), best_c


def ucr_run() -> None:
    """(c): exact-Gram SVM against a linear SVM on Nystroem features, UCR/UEA data."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC, LinearSVC

    def linear_svm(c):
        return LinearSVC(C=c, loss="hinge", max_iter=100_000)

    def kernel_svm(c):
        return SVC(C=c, kernel="precomputed")

    kernel = rntk.RNTK()
    print(f"\n(c) UCR/UEA: default RNTK, exact-Gram SVM against Nystroem + LinearSVC ({load()})")
    print(
        "| Data set | Train | m | Exact SVM | Nystroem, uniform | Nystroem, greedy | "
        "best rank-m features | C (exact/uniform/greedy) | Gram error, uniform | "
        "Gram error, greedy | best rank-m error |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    differences = {"uniform": [], "greedy": []}
    for name in rntk.available_ucr():
        X_train, y_train, X_test, y_test = rntk.load_ucr(name)
        train, test = z_normalised(
            [np.asarray(x, dtype=float).reshape(len(x), -1) for x in X_train],
            [np.asarray(x, dtype=float).reshape(len(x), -1) for x in X_test],
        )
        gram = kernel(train)
        scale = float(np.mean(np.diag(gram)))
        exact, exact_c = cross_validated_accuracy(
            kernel_svm, gram / scale, y_train, kernel(test, train) / scale, y_test
        )
        n_components = len(train) // 2
        eigenvalues, eigenvectors = np.linalg.eigh(gram / scale)
        best_error = np.sqrt(np.sum(eigenvalues[:-n_components] ** 2)) / np.linalg.norm(
            gram / scale
        )
        # The best any rank-m feature map of the training set can do: the top m
        # eigenvectors of the exact Gram (the Nystroem map with every training
        # sequence a landmark, truncated to rank m), with the same linear SVM.
        top_values, top_vectors = eigenvalues[-n_components:], eigenvectors[:, -n_components:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            best_rank, _ = cross_validated_accuracy(
                linear_svm,
                top_vectors * np.sqrt(top_values),
                y_train,
                (kernel(test, train) / scale) @ top_vectors / np.sqrt(top_values),
                y_test,
            )
        accuracies, chosen_c, errors = {}, {}, {}
        for method in differences:
            nystroem = Nystroem(kernel, n_components, landmarks=method, random_state=0)
            features = nystroem.fit(train).transform(train)
            errors[method] = relative_error(features, gram)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                accuracies[method], chosen_c[method] = cross_validated_accuracy(
                    linear_svm,
                    features / np.sqrt(scale),
                    y_train,
                    nystroem.transform(test) / np.sqrt(scale),
                    y_test,
                )
            differences[method].append(100 * (accuracies[method] - exact))
        print(
            f"| {name} | {len(train)} | {n_components} | {100 * exact:.1f} | "
            f"{100 * accuracies['uniform']:.1f} | {100 * accuracies['greedy']:.1f} | "
            f"{100 * best_rank:.1f} | "
            f"{exact_c:g} / {chosen_c['uniform']:g} / {chosen_c['greedy']:g} | "
            f"{errors['uniform']:.2f} | {errors['greedy']:.2f} | {best_error:.2f} |",
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
    args = parser.parse_args()

    print(f"rntk {rntk.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    if not args.skip_scale:
        scale_run(args.n, args.length, args.components, args.repeat)
    if not args.skip_error:
        components = [m for m in (10, 30, 100, 300) if m < args.error_n] + [args.error_n]
        error_run(args.error_n, components)
    if args.ucr:
        ucr_run()


if __name__ == "__main__":
    main()
