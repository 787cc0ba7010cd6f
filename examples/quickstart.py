"""Quickstart: RNTK Gram matrices of sequences of different lengths, and a kernel-ridge fit.

The task: each input is a noisy sinusoid ``sin(omega t + phase)`` observed for a
random number of steps (20 to 80, so the sequences have different lengths);
the target is its frequency ``omega``. The RNTK compares sequences of any
lengths directly (aligned at their last step); kernel ridge regression, solved
with a Cholesky factorisation from scipy, predicts ``omega`` of unseen sequences.

    python examples/quickstart.py            # about 10 s
    python examples/quickstart.py --quick    # smaller, a few seconds

Writes ``results.json`` and ``prediction.png`` to ``--out`` (default
``results/quickstart/``).
"""

from __future__ import annotations

import time

import numpy as np
from _common import example_arguments, pyplot, write_results
from scipy import linalg

import rntk


def make_sinusoids(n: int, rng: np.random.Generator):
    """``n`` sinusoids with random frequency, phase and length, plus noise."""
    frequencies = rng.uniform(0.5, 2.5, size=n)
    lengths = rng.integers(20, 81, size=n)
    sequences = []
    for omega, length in zip(frequencies, lengths, strict=True):
        t = 0.25 * np.arange(length)
        clean = np.sin(omega * t + rng.uniform(0, 2 * np.pi))
        sequences.append(clean + 0.1 * rng.standard_normal(length))
    return sequences, frequencies


def main() -> None:
    args = example_arguments("quickstart", __doc__.splitlines()[0])

    rng = np.random.default_rng(0)
    n_train, n_test = (200, 100) if args.quick else (800, 400)
    X_train, y_train = make_sinusoids(n_train, rng)
    X_test, y_test = make_sinusoids(n_test, rng)

    # sigma_w = sqrt(2) weights all steps about evenly for ReLU (the paper's Fig. 3).
    kernel = rntk.RNTK(activation="relu", depth=1, sigma_w=np.sqrt(2), sigma_b=0.1)
    start = time.perf_counter()
    K_train = kernel(X_train)  # (n_train, n_train), symmetric, exact diagonal
    K_test = kernel(X_test, X_train)  # (n_test, n_train)
    seconds = time.perf_counter() - start
    print(
        f"RNTK Gram matrices {K_train.shape} and {K_test.shape} of sequences of "
        f"lengths 20..80 in {seconds:.2f} s"
    )

    # Kernel ridge regression: alpha = (K + ridge I)^-1 (y - mean), by Cholesky.
    ridge = 1e-3 * np.trace(K_train) / n_train
    factor = linalg.cho_factor(K_train + ridge * np.eye(n_train))
    alpha = linalg.cho_solve(factor, y_train - y_train.mean())
    prediction = y_train.mean() + K_test @ alpha
    rmse = float(np.sqrt(np.mean((prediction - y_test) ** 2)))
    r2 = float(1 - np.mean((prediction - y_test) ** 2) / np.var(y_test))
    print(f"kernel ridge regression of the frequency: test RMSE {rmse:.3f}, R^2 {r2:.3f}")

    results = {
        "n_train": n_train,
        "n_test": n_test,
        "kernel": repr(kernel),
        "gram_seconds": seconds,
        "ridge": ridge,
        "test_rmse": rmse,
        "test_r2": r2,
    }
    write_results(args.out, results)

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(y_test, prediction, s=8)
    axis.plot([0.5, 2.5], [0.5, 2.5], color="black", linewidth=1)
    axis.set(
        xlabel="true frequency",
        ylabel="predicted frequency",
        title=f"RNTK kernel ridge, R$^2$ = {r2:.3f}",
    )
    figure.tight_layout()
    figure.savefig(args.out / "prediction.png", dpi=120)
    print(f"wrote {args.out / 'results.json'} and {args.out / 'prediction.png'}")


if __name__ == "__main__":
    main()
