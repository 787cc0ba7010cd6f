"""Time the read-out heads against the last-step kernel, in one run.

    python benchmarks/bench_heads.py                        # the standard set
    python benchmarks/bench_heads.py --baseline-src OLD/src # also: last step, old vs this code
    python benchmarks/bench_heads.py --baseline-src OLD/src --baseline-only --activation erf

Reported (float64, ReLU, depth 1, NNGP and NTK together, ``K(X, X)``; each
timing the median of ``--repeat`` runs):

* the mean head at n = 500, T = 100: seconds and the cost per cell of the
  ``(t, t')`` step grid, against the last-step head's cost per step in the
  same run (ratio; the target is at most 1.3);
* the mean head with ``pool_stride`` 4 and 16 (seconds, cost per swept cell);
* each read-out bidirectional against unidirectional (ratio; target at most 2.1);
* with ``--baseline-src``: the last-step head of this checkout against another
  version of rntk (for example ``git worktree add /tmp/rntk-old <commit>`` and
  ``--baseline-src /tmp/rntk-old/src``), both timed in fresh subprocesses,
  alternating, on n = 1000, T = 100 (ratio new / old; the targets are at most
  1 against the version before the read-out heads and at most 1.25 against
  the version before the difference form of the recursion),
  for ``--activation`` (ReLU by default) with the current default scales of
  that activation given explicitly, so that both versions compute one kernel;
  ``--baseline-only`` skips the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from _timing import median_time

import rntk

_SUBPROCESS_TIMER = """
import sys, time
import numpy as np
sys.path.insert(0, {src!r})
import rntk
assert rntk.__file__.startswith({src!r}), rntk.__file__
X = np.random.default_rng(0).standard_normal(({n}, {length}))
parameters = dict(get=("nngp", "ntk"), **{parameters!r})
rntk.kernel(X[:50], **parameters)  # warm-up
start = time.perf_counter()
rntk.kernel(X, **parameters)
print(time.perf_counter() - start)
"""

#: The current default scales, given explicitly to both versions compared.
BASELINE_PARAMETERS = {
    "relu": {"activation": "relu", "sigma_w": 2**0.5, "sigma_u": 1.0, "sigma_b": 2.0},
    "erf": {"activation": "erf", "sigma_w": 1.0, "sigma_u": 0.1, "sigma_b": 0.1},
}


def subprocess_seconds(src: Path, n: int, length: int, activation: str = "relu") -> float:
    code = _SUBPROCESS_TIMER.format(
        src=str(src.resolve()), n=n, length=length, parameters=BASELINE_PARAMETERS[activation]
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=os.environ
    )
    return float(output.stdout.strip())


def compare_with_baseline(
    baseline_src: Path, n: int, length: int, repeat: int, activation: str = "relu"
) -> None:
    this_src = Path(rntk.__file__).resolve().parents[1]
    new, old = [], []
    for _ in range(repeat):  # alternate, so drifts of a shared machine hit both alike
        new.append(subprocess_seconds(this_src, n, length, activation))
        old.append(subprocess_seconds(baseline_src, n, length, activation))
    ratios = sorted(a / b for a, b in zip(new, old, strict=True))
    print(
        f"last step, {activation}, this code vs {baseline_src} (n={n}, T={length}): "
        f"{statistics.median(new):.3f} s vs {statistics.median(old):.3f} s, "
        f"median paired ratio {statistics.median(ratios):.3f} "
        f"(range {ratios[0]:.3f}..{ratios[-1]:.3f}; targets: <= 1 against the version "
        "before the heads, <= 1.25 against the version before the difference form)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--T", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="src/ folder of another rntk version")
    parser.add_argument("--baseline-only", action="store_true", help="only the version comparison")
    parser.add_argument("--activation", choices=sorted(BASELINE_PARAMETERS), default="relu")
    args = parser.parse_args()
    if args.baseline_only:
        if args.baseline_src is None:
            parser.error("--baseline-only needs --baseline-src")
        compare_with_baseline(args.baseline_src, 1000, args.T, max(args.repeat, 5), args.activation)
        return
    n, length = args.n, args.T
    X = np.random.default_rng(0).standard_normal((n, length))

    def seconds(**head) -> float:
        return median_time(lambda: rntk.kernel(X, get=("nngp", "ntk"), **head), args.repeat)

    last = seconds()
    mean = seconds(readout="mean")
    per_step, per_cell = last / length, mean / length**2
    print(f"n={n}, T={length}, ReLU, depth 1, NNGP and NTK, K(X, X), median of {args.repeat}")
    print(f"last step                {last:8.3f} s   {per_step * 1e3:7.3f} ms per step")
    print(
        f"mean                     {mean:8.3f} s   {per_cell * 1e3:7.3f} ms per cell   "
        f"cell / step {per_cell / per_step:.2f} (target <= 1.3)"
    )
    for stride in (4, 16):
        strided = seconds(readout="mean", pool_stride=stride)
        cells = length**2 / stride  # every stride-th diagonal, each swept in full
        print(
            f"mean, pool_stride={stride:<3d}     {strided:8.3f} s   "
            f"{strided / cells * 1e3:7.3f} ms per swept cell   {mean / strided:5.1f}x faster"
        )
    for readout, unidirectional in (("last", last), ("mean", mean)):
        both = seconds(readout=readout, bidirectional=True)
        print(
            f"bidirectional {readout:<4}       {both:8.3f} s   "
            f"{both / unidirectional:.2f}x unidirectional (target <= 2.1)"
        )
    if args.baseline_src is not None:
        compare_with_baseline(args.baseline_src, 1000, length, max(args.repeat, 5), args.activation)


if __name__ == "__main__":
    main()
