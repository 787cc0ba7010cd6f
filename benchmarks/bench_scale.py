"""How rntk.kernel scales: with n, with T, with threads, on a Dask cluster, in float32.

All figures come from this one run (medians of ``--repeat`` timings; the machine
may be shared and noisy):

* time of ``K(X, X)`` against n at fixed T (expected slope 2 on log-log axes)
  and against T at fixed n (expected slope 1);
* speed-up of 2 threads over 1;
* overhead of a local Dask cluster (2 worker processes, 1 thread each) against
  the default thread pool, at n = 4000, T = 100 (cluster start-up excluded);
* float32 against float64: time and largest relative error.

    python benchmarks/bench_scale.py [--quick] [--out results/bench_scale]

Writes ``scaling.png`` and ``results.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _timing import median_time

import rntk

PARAMS = dict(activation="relu", depth=1, sigma_w=1.2, sigma_b=0.1, get=("nngp", "ntk"))


def slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench_scale"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no Dask")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    results: dict = {"params": {k: v for k, v in PARAMS.items() if k != "get"}}

    sizes = [250, 500, 1000] if args.quick else [500, 1000, 2000, 4000]
    n_times = []
    for n in sizes:
        X = rng.standard_normal((n, 100))
        n_times.append(median_time(lambda X=X: rntk.kernel(X, **PARAMS), args.repeat))
        print(f"n = {n:5d}, T = 100: {n_times[-1]:7.3f} s", flush=True)
    results["time_vs_n"] = {
        "n": sizes,
        "T": 100,
        "seconds": n_times,
        "slope": slope(sizes, n_times),
    }
    print(f"  log-log slope in n: {results['time_vs_n']['slope']:.2f} (quadratic: 2)")

    lengths = [25, 50, 100] if args.quick else [50, 100, 200, 400]
    n_fixed = 500 if args.quick else 1000
    t_times = []
    for length in lengths:
        X = rng.standard_normal((n_fixed, length))
        t_times.append(median_time(lambda X=X: rntk.kernel(X, **PARAMS), args.repeat))
        print(f"n = {n_fixed}, T = {length:4d}: {t_times[-1]:7.3f} s", flush=True)
    results["time_vs_T"] = {
        "T": lengths,
        "n": n_fixed,
        "seconds": t_times,
        "slope": slope(lengths, t_times),
    }
    print(f"  log-log slope in T: {results['time_vs_T']['slope']:.2f} (linear: 1)")

    X = rng.standard_normal((1000 if args.quick else 2000, 100))
    one = median_time(lambda: rntk.kernel(X, n_jobs=1, **PARAMS), args.repeat)
    two = median_time(lambda: rntk.kernel(X, n_jobs=2, **PARAMS), args.repeat)
    results["threads"] = {"n": len(X), "T": 100, "one": one, "two": two, "speedup": one / two}
    print(
        f"n = {len(X)}, T = 100: 1 thread {one:.3f} s, 2 threads {two:.3f} s, "
        f"speed-up {one / two:.2f}x"
    )

    double = rntk.kernel(X, **PARAMS)
    single = rntk.kernel(X, dtype=np.float32, **PARAMS)
    error = float(np.abs(single.ntk - double.ntk).max() / np.abs(double.ntk).max())
    single_time = median_time(lambda: rntk.kernel(X, dtype=np.float32, **PARAMS), args.repeat)
    results["float32"] = {
        "float64_seconds": two,
        "float32_seconds": single_time,
        "max_relative_error": error,
    }
    print(
        f"float32: {single_time:.3f} s against float64 {two:.3f} s, "
        f"largest error relative to the largest entry {error:.1e}"
    )

    if not args.quick:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            print("dask.distributed not installed: skipping the cluster comparison")
        else:
            X = rng.standard_normal((4000, 100))
            threads = median_time(lambda: rntk.kernel(X, **PARAMS), args.repeat)
            start = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                startup = time.perf_counter() - start
                executor = client.get_executor()
                dask_time = median_time(
                    lambda: rntk.kernel(X, executor=executor, n_jobs=2, **PARAMS), args.repeat
                )
            overhead = dask_time / threads - 1
            results["dask"] = {
                "n": 4000,
                "T": 100,
                "threads": threads,
                "dask": dask_time,
                "overhead": overhead,
                "cluster_startup": startup,
            }
            print(
                f"n = 4000, T = 100: threads {threads:.2f} s, local Dask cluster "
                f"{dask_time:.2f} s (overhead {100 * overhead:+.0f}%, start-up {startup:.1f} s)"
            )

    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.loglog(sizes, n_times, "o-", label="measured")
    left.loglog(sizes, n_times[-1] * (np.array(sizes) / sizes[-1]) ** 2, "k--", label="n$^2$")
    left.set(xlabel="n (sequences)", ylabel="seconds", title="K(X, X), T = 100")
    right.loglog(lengths, t_times, "o-", label="measured")
    right.loglog(lengths, t_times[-1] * np.array(lengths) / lengths[-1], "k--", label="T")
    right.set(xlabel="T (steps)", title=f"K(X, X), n = {n_fixed}")
    for axis in (left, right):
        axis.legend()
    figure.tight_layout()
    figure.savefig(args.out / "scaling.png", dpi=120)
    print(f"wrote {args.out / 'scaling.png'} and {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
