"""Time rntk.kernel and compare it with a plain full-matrix NumPy baseline.

Every figure is measured in this one run, on this machine; the machine may be
shared and noisy, so each timing is the median of ``--repeat`` runs.

    python benchmarks/bench_kernel.py                  # the issue's standard set
    python benchmarks/bench_kernel.py --n 500 --T 50   # one custom case
    python benchmarks/bench_kernel.py --skip-memory    # faster

Reported:

* ``K(X, X)`` and ``K(X, X2)`` (NTK and NNGP together) for n sequences of length
  T: seconds, pair-steps per second (pairs x common steps x layers / seconds),
  and the ratio to the baseline, which computes the whole ``n x n`` matrix at
  every time step with fresh temporaries (no blocks, no symmetry, one thread);
* a variable-length set (lengths uniform in ``--lengths``): its time against the
  ideal ``sum over pairs of min(T_i, T_j)`` at the per-pair-step rate of an
  equal-length run in the same process;
* peak memory (tracemalloc, which sees NumPy's allocations) of ``K(X, X)`` for a
  large n, against the size of the two output matrices.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _timing import median_time

import rntk


def full_matrix_baseline(X, sigma_w, sigma_u, sigma_b, sigma_h, sigma_v):
    """Depth-1 ReLU NNGP and NTK of equal-length univariate sequences, the plain way."""
    n, length = X.shape
    w2, u2, b2 = sigma_w**2, sigma_u**2, sigma_b**2
    variance = np.empty((length, n))
    self_kernel = np.full(n, sigma_h**2)
    for t in range(length):
        variance[t] = w2 * self_kernel + u2 * X[:, t] ** 2 + b2
        self_kernel = variance[t] / 2
    kernel = np.full((n, n), sigma_h**2)
    derivative_tangent = np.zeros((n, n))
    for t in range(length):
        covariance = w2 * kernel + u2 * np.outer(X[:, t], X[:, t]) + b2
        norm = np.sqrt(np.outer(variance[t], variance[t]))
        angle = np.arccos(np.clip(covariance / norm, -1, 1))
        kernel = norm * (np.sin(angle) + (np.pi - angle) * np.cos(angle)) / (2 * np.pi)
        tangent = covariance + w2 * derivative_tangent
        derivative_tangent = (np.pi - angle) / (2 * np.pi) * tangent
    return sigma_v**2 * kernel, sigma_v**2 * (kernel + derivative_tangent)


def report(label, seconds, pair_steps, baseline=None):
    line = f"{label:<44} {seconds:8.3f} s  {pair_steps / seconds / 1e6:8.1f} M pair-steps/s"
    if baseline is not None:
        line += f"  baseline {baseline:7.3f} s  speed-up {baseline / seconds:5.2f}x"
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--T", type=int, default=100)
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--activation", default="relu", choices=["relu", "erf"])
    parser.add_argument("--lengths", default="50:500", help="variable-length range lo:hi")
    parser.add_argument("--n-variable", type=int, default=1000)
    parser.add_argument("--memory-n", type=int, default=4000)
    parser.add_argument("--memory-T", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None, help="default: all cores")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    params = dict(
        activation=args.activation,
        depth=args.depth,
        get=("nngp", "ntk"),
        n_jobs=args.n_jobs,
        sigma_w=1.2,
        sigma_u=1.0,
        sigma_b=0.1,
        sigma_h=0.5,
    )
    print(f"rntk {rntk.__version__}, numpy {np.__version__}; {params}")
    n, length = args.n, args.T
    X = rng.standard_normal((n, length))
    X2 = rng.standard_normal((n, length))
    layer_steps = length * args.depth

    symmetric = median_time(lambda: rntk.kernel(X, **params), args.repeat)
    baseline = None
    if args.activation == "relu" and args.depth == 1:
        hyper = {k: params[k] for k in ("sigma_w", "sigma_u", "sigma_b", "sigma_h")}
        reference = full_matrix_baseline(X, **hyper, sigma_v=1.0)
        fast = rntk.kernel(X, **params)
        error = max(
            np.abs(r - f).max() / np.abs(r).max() for r, f in zip(reference, fast, strict=True)
        )
        # The baseline takes the angle from arccos of a correlation near 1, so it
        # is the less accurate of the two: this bounds the baseline's error.
        print(f"baseline and rntk.kernel differ by a relative {error:.1e}")
        baseline = median_time(
            lambda: full_matrix_baseline(X, **hyper, sigma_v=1.0), max(1, args.repeat // 2)
        )
    report(f"K(X, X)   n={n} T={length}", symmetric, n * (n + 1) / 2 * layer_steps, baseline)
    cross = median_time(lambda: rntk.kernel(X, X2, **params), args.repeat)
    report(f"K(X, X2)  n1=n2={n} T={length}", cross, n * n * layer_steps)

    low, high = (int(v) for v in args.lengths.split(":"))
    lengths = rng.integers(low, high + 1, size=args.n_variable)
    ragged = [rng.standard_normal(t) for t in lengths]
    pairs_min = np.minimum.outer(lengths, lengths)
    ideal_pair_steps = (pairs_min.sum() + np.trace(pairs_min)) / 2 * args.depth
    equal_length = int(np.mean(pairs_min))
    equal = rng.standard_normal((args.n_variable, equal_length))
    equal_time = median_time(lambda: rntk.kernel(equal, **params), args.repeat)
    rate = args.n_variable * (args.n_variable + 1) / 2 * equal_length * args.depth / equal_time
    ragged_time = median_time(lambda: rntk.kernel(ragged, **params), args.repeat)
    report(f"K(X, X)   n={args.n_variable} T={low}..{high}", ragged_time, ideal_pair_steps)
    print(
        f"  equal-length reference (T={equal_length}): {rate / 1e6:.1f} M pair-steps/s; "
        f"variable-length cost / ideal sum of min(T_i, T_j) = "
        f"{ragged_time / (ideal_pair_steps / rate):.2f}"
    )

    if not args.skip_memory:
        big = rng.standard_normal((args.memory_n, args.memory_T))
        tracemalloc.start()
        start = time.perf_counter()
        rntk.kernel(big, **params)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        output_bytes = 2 * args.memory_n**2 * 8
        print(
            f"peak memory K(X, X) n={args.memory_n} T={args.memory_T}: {peak / 2**20:.0f} MiB "
            f"= outputs {output_bytes / 2**20:.0f} MiB + {(peak - output_bytes) / 2**20:.0f} MiB"
            f" ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
