"""Sequences prepared once (``RNTK.prepare``) against the per-call preparation it replaced.

Every kernel call starts with work on each sequence alone (validation, sorting,
the per-sequence recursion and the self kernels), which for the mean head grows
with ``T^2`` per sequence. Two callers used to redo it on the same sequences:

* ``Nystroem(landmarks="rpcholesky").fit``: each round of pivots computed
  ``kernel(X[rows], X)``, preparing all ``n`` columns again (and ``diag(X)``
  and the landmarks' Gram matrix once more). "before" runs the same pivoting
  (the library's own ``_randomly_pivoted`` and random stream) on raw sequences,
  as the old ``fit`` did; "after" is ``Nystroem.fit``;
* ``RNTKRegressor.predict(X_test, return_std=True)``: the test Gram matrix,
  its cosine form (``normalize=True``) and the prior variance each prepared
  the test sequences. "before" is the old ``predict`` on raw sequences.

Random univariate sequences, ``readout="mean"``. The two ways alternate within
each repeat; printed are the median seconds of each and the median of the
per-repeat ratios (the machine may be shared). Both must give the same
numbers, bit for bit, which is checked.

    python benchmarks/bench_prepared.py [--repeat 3] [--n 2000] [--components 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import rntk
from rntk.nystroem import (
    PIVOT_ROUND_BYTES,
    Nystroem,
    _generator,
    _PartialCholesky,
    _quiet,
    _randomly_pivoted,
)
from rntk.sequences import as_sequences


def random_sequences(seed: int, n: int, lengths: tuple[int, int]) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(int(t)) for t in rng.integers(*lengths, size=n)]


def nystroem_fit_raw(kernel: rntk.RNTK, X, n_components: int, seed: int):
    """The landmarks and ``K_mm^{-1/2}`` of ``Nystroem.fit`` with ``"rpcholesky"``,
    computed from raw sequences at every kernel call, as before ``RNTK.prepare``."""
    kernel, rng = _quiet(kernel), _generator(seed)
    batch = as_sequences(X, "X")
    cholesky = _PartialCholesky(kernel.diag(batch), n_components, np.finfo(kernel.dtype).eps)

    def kernel_rows(indices):
        return np.asarray(kernel(batch.subset(indices), batch), dtype=np.float64)

    largest_round = max(1, PIVOT_ROUND_BYTES // (8 * batch.n_sequences))
    _randomly_pivoted(cholesky, kernel_rows, largest_round, rng)
    indices = np.asarray(cholesky.pivots, dtype=np.intp)
    landmark_gram = np.asarray(kernel(batch.subset(indices)), dtype=np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(landmark_gram)
    cut = n_components * np.finfo(kernel.dtype).eps * max(eigenvalues.max(), 0.0)
    kept = eigenvalues > cut
    inverse_root = np.zeros_like(eigenvalues)
    inverse_root[kept] = eigenvalues[kept] ** -0.5
    return indices, (eigenvectors * inverse_root) @ eigenvectors.T


def predict_raw(model, X):
    """``RNTKRegressor.predict(X, return_std=True)`` from raw sequences at every kernel
    call (the Gram matrix, its cosine form and the prior variance), as before."""
    from scipy import linalg

    batch = model._new_sequences(X)
    diagonal = []

    def test_diagonal():
        if not diagonal:
            diagonal.append(model.kernel_.diag(batch))
        return diagonal[0]

    gram = model.scaling_.test(model.kernel_(batch, model.X_fit_), test_diagonal)
    mean = gram @ model.dual_coef_
    regularised = model.train_gram_ + model.fitted_params_["alpha"] * np.eye(len(gram.T))
    factor = linalg.cho_factor(regularised, lower=True)
    explained = np.einsum("ij,ji->i", gram, linalg.cho_solve(factor, gram.T))
    prior = model.scaling_.diagonal(model.kernel_.diag(batch))
    return mean, np.sqrt(np.maximum(prior - explained, 0.0))


def compare(label: str, before, after, repeat: int, same) -> None:
    """Time ``before()`` and ``after()`` alternately; print medians and the ratio."""
    times = {"before": [], "after": []}
    for _ in range(repeat):
        results = {}
        for name, function in (("before", before), ("after", after)):
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
        if not same(results["before"], results["after"]):
            raise AssertionError(f"{label}: prepared sequences changed the result")
    ratios = [b / a for b, a in zip(times["before"], times["after"], strict=True)]
    print(
        f"{label}: before {statistics.median(times['before']):.2f} s, after "
        f"{statistics.median(times['after']):.2f} s, before / after "
        f"{statistics.median(ratios):.2f} (median of {repeat}, identical results)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=1500, help="Nystroem training sequences")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--pool-stride", type=int, default=10, help="of the Nystroem kernel")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    lengths = (100, 201)

    X = random_sequences(0, args.n, lengths)
    kernel = rntk.RNTK(readout="mean", pool_stride=args.pool_stride, n_jobs=args.n_jobs)
    print(
        f"Nystroem(landmarks='rpcholesky', n_components={args.components}).fit: {args.n} "
        f"sequences of length {lengths[0]}-{lengths[1] - 1}, readout='mean', "
        f"pool_stride={args.pool_stride}, n_jobs={args.n_jobs}"
    )
    compare(
        "  fit",
        lambda: nystroem_fit_raw(kernel, X, args.components, seed=0),
        lambda: (lambda fitted: (fitted.landmark_indices_, fitted.normalization_))(
            Nystroem(kernel, args.components, landmarks="rpcholesky", random_state=0).fit(X)
        ),
        args.repeat,
        lambda b, a: all(np.array_equal(x, y) for x, y in zip(b, a, strict=True)),
    )

    from rntk.sklearn import RNTKRegressor

    X_train, X_test = random_sequences(1, 100, lengths), random_sequences(2, 10, lengths)
    y = np.array([np.sin(x[-1]) + 0.5 * x[0] for x in X_train])
    for normalize in (False, True):
        model = RNTKRegressor(
            readout="mean", alpha=1e-2, normalize=normalize, n_jobs=args.n_jobs
        ).fit(X_train, y)
        print(
            f"RNTKRegressor(readout='mean', normalize={normalize}).predict(X_test, "
            f"return_std=True): {len(X_train)} training and {len(X_test)} test sequences "
            f"of length {lengths[0]}-{lengths[1] - 1}"
        )
        compare(
            "  predict",
            lambda model=model: predict_raw(model, X_test),
            lambda model=model: model.predict(X_test, return_std=True),
            args.repeat,
            lambda b, a: all(np.array_equal(x, y) for x, y in zip(b, a, strict=True)),
        )


if __name__ == "__main__":
    main()
