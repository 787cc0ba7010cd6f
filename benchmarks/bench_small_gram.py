"""Small Gram matrices on two cores: one block, or one strip per worker process.

Most UCR training sets (under 256 sequences) fit in one block of the default
shape, which runs on one core whatever ``n_jobs``. On an executor other than a
thread pool the scheduler cuts such a Gram matrix into cost-balanced strips,
one per worker (``rntk.scheduling.plan_gram``); threads keep the one block,
because they cannot share small blocks (the GIL). Measured here, on random
univariate data with a fixed seed, for ``K(X, X)`` with both kernels, for
PigCVP's shape (104 sequences of length 2000) with ``readout="mean"`` and
``pool_stride=63``, and for the same sequences with the last-step head:

* ``n_jobs=1``; ``n_jobs=2`` on the private thread pool; ``n_jobs=2`` on a
  ``ProcessPoolExecutor(2)`` made once beforehand (its start-up is printed
  apart): the median of ``--repeat`` timings of each, and the medians of the
  ratios of the runs paired in each repeat (the machine may be shared and
  noisy). All results must equal the ``n_jobs=1`` one bit for bit;
* with ``--threads-split``, the strips on two threads (a thread pool the
  scheduler does not recognise as one), which is why threads keep one block;
* with ``--one-core 2,8``, the strips planned for that many workers run one
  after the other in the calling thread, against the one block, in CPU time
  (steadier than wall time on a shared machine): what a finer split costs on
  one core, which is why the split follows the number of workers.

    python benchmarks/bench_small_gram.py [--repeat 3] [--threads-split] [--one-core 2,8]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

import rntk
from rntk.scheduling import plan_gram
from rntk.sequences import as_sequences


class InlineExecutor(Executor):
    """Runs each submitted block at once, in the calling thread."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class UnrecognisedThreads(Executor):
    """A thread pool behind a wrapper, so that the scheduler plans strips for it."""

    def __init__(self, max_workers: int):
        self.pool = ThreadPoolExecutor(max_workers)

    def submit(self, fn, /, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


def n_blocks(X, params: dict, workers: int) -> int:
    """How many blocks the scheduler plans for ``K(X, X)`` shared by ``workers`` workers."""
    model = rntk.RNTK(**params)
    batch = as_sequences(X, "X")
    paths = model._paths(batch.subset(np.argsort(-batch.lengths, kind="stable")))
    return len(plan_gram(paths, paths, True, model.block_shape, model.architecture, workers))


def timed(function, clock=time.perf_counter):
    start = clock()
    result = function()
    return clock() - start, result


def check_identical(label: str, expected, result) -> None:
    identical = all(np.array_equal(e, r) for e, r in zip(expected, result, strict=True))
    assert identical, f"{label} differs from n_jobs=1"


def compare(label: str, X, params: dict, repeat: int, processes: Executor, args) -> None:
    ways = {
        "threads": lambda: rntk.kernel(X, n_jobs=2, **params),
        "processes": lambda: rntk.kernel(X, n_jobs=2, executor=processes, **params),
    }
    times: dict[str, list[float]] = {"one": [], **{way: [] for way in ways}}
    for _ in range(repeat):
        one_time, expected = timed(lambda: rntk.kernel(X, n_jobs=1, **params))
        times["one"].append(one_time)
        for way, run in ways.items():
            seconds, result = timed(run)
            check_identical(f"{label}, n_jobs=2 on {way}", expected, result)
            times[way].append(seconds)

    def speed_up(way: str) -> str:
        ratios = [one / other for one, other in zip(times["one"], times[way], strict=True)]
        return f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"

    print(f"{label} (results bit-identical)")
    print(f"  n_jobs=1, 1 block:              {statistics.median(times['one']):7.3f} s")
    print(
        f"  n_jobs=2, threads, 1 block:     {statistics.median(times['threads']):7.3f} s  "
        f"speed-up {speed_up('threads')}"
    )
    print(
        f"  n_jobs=2, processes, {n_blocks(X, params, 2)} blocks:  "
        f"{statistics.median(times['processes']):7.3f} s  speed-up {speed_up('processes')}",
        flush=True,
    )
    if args.threads_split:
        with UnrecognisedThreads(2) as threads:
            seconds, result = timed(lambda: rntk.kernel(X, n_jobs=2, executor=threads, **params))
        check_identical(f"{label}, strips on threads", expected, result)
        print(f"  n_jobs=2, threads, {n_blocks(X, params, 2)} blocks:    {seconds:7.3f} s (once)")
    for workers in args.one_core:
        ratios = []
        for _ in range(repeat):
            one_time, _ = timed(lambda: rntk.kernel(X, n_jobs=1, **params), time.process_time)
            inline_time, _ = timed(
                lambda workers=workers: rntk.kernel(
                    X, n_jobs=workers, executor=InlineExecutor(), **params
                ),
                time.process_time,
            )
            ratios.append(inline_time / one_time)
        print(
            f"  one core, the {n_blocks(X, params, workers)} blocks planned for {workers} "
            f"workers: {statistics.median(ratios):.2f}x the CPU time of the one block",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=104)
    parser.add_argument("--T", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads-split", action="store_true")
    parser.add_argument("--one-core", default="", help="worker counts, e.g. 2,8 (default none)")
    args = parser.parse_args()
    args.one_core = [int(w) for w in args.one_core.split(",") if w]

    X = np.random.default_rng(0).standard_normal((args.n, args.T))
    print(f"rntk {rntk.__version__}, numpy {np.__version__}; K(X, X), n={args.n}, T={args.T}")
    both = dict(get=("nngp", "ntk"))
    start = time.perf_counter()
    with ProcessPoolExecutor(2) as processes:
        rntk.kernel(X[:4, :10], executor=processes, n_jobs=2)  # start the workers
        print(f"ProcessPoolExecutor(2) start-up: {time.perf_counter() - start:.3f} s")
        mean = dict(both, readout="mean", pool_stride=63)
        compare("mean head, pool_stride=63", X, mean, args.repeat, processes, args)
        compare("last step", X, both, max(args.repeat, 5), processes, args)


if __name__ == "__main__":
    main()
