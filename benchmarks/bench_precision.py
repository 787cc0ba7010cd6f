"""Precision of the kernel for near-duplicate sequences, against 50-digit arithmetic.

    python benchmarks/bench_precision.py          # needs mpmath (the test extra)

For a random sequence ``x`` (T = 30, 2 features) and copies ``x + delta * z``
with ``delta`` from 1e-12 to 1e-1 of the sequence's scale, the NTK and NNGP of
the pair from ``rntk.kernel`` (the defaults of each activation, depth 1 to 3)
are compared with the same recursion run in 50-digit arithmetic (mpmath, its
own code below, sharing nothing with rntk). Printed: the largest relative
error per activation and depth (target 1e-12), and the smallest eigenvalue of
the Gram matrix of six near-duplicates relative to its largest entry (target
no lower than -1e-14). The speed side of the precision work is in
``bench_heads.py --baseline-src``.
"""

from __future__ import annotations

import mpmath
import numpy as np

import rntk

mpmath.mp.dps = 50
DELTAS = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1)
SCALES = {
    "relu": {"sigma_w": mpmath.sqrt(2), "sigma_u": 1, "sigma_b": 2},
    "erf": {"sigma_w": 1, "sigma_u": mpmath.mpf("0.1"), "sigma_b": mpmath.mpf("0.1")},
}


def dual(activation, q1, q2, c):
    """``(V, V')`` in 50 digits."""
    if activation == "relu":
        root = mpmath.sqrt(q1 * q2)
        theta = mpmath.acos(max(-1, min(1, c / root)))
        return (
            root * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta)) / (2 * mpmath.pi),
            (mpmath.pi - theta) / (2 * mpmath.pi),
        )
    product = (1 + 2 * q1) * (1 + 2 * q2)
    return (
        2 / mpmath.pi * mpmath.asin(2 * c / mpmath.sqrt(product)),
        4 / mpmath.pi / mpmath.sqrt(product - 4 * c * c),
    )


def reference(activation, depth, x, y):
    """``(NNGP, NTK)`` of two equal-length sequences by the forward recursion, 50 digits."""
    scales = SCALES[activation]
    w2, u2, b2 = (scales[name] ** 2 for name in ("sigma_w", "sigma_u", "sigma_b"))
    m = len(x[0])

    def dot(a, b):
        return (
            mpmath.fsum(
                mpmath.mpf(float(p)) * mpmath.mpf(float(q)) for p, q in zip(a, b, strict=True)
            )
            / m
        )

    own_x, own_y = [0] * depth, [0] * depth  # k[l, t-1] of each sequence with itself
    kernel, tangent_product = [0] * depth, [0] * depth
    for step in range(len(x)):
        below_x, below_y, below = (
            dot(x[step], x[step]),
            dot(y[step], y[step]),
            dot(x[step], y[step]),
        )
        below_tangent = None
        for layer in range(depth):
            qx = w2 * own_x[layer] + u2 * below_x + b2
            qy = w2 * own_y[layer] + u2 * below_y + b2
            sigma = w2 * kernel[layer] + u2 * below + b2
            theta = sigma + w2 * tangent_product[layer]
            if below_tangent is not None:
                theta += u2 * below_tangent
            own_x[layer], own_y[layer] = (
                dual(activation, qx, qx, qx)[0],
                dual(activation, qy, qy, qy)[0],
            )
            kernel[layer], derivative = dual(activation, qx, qy, sigma)
            tangent_product[layer] = derivative * theta
            below_x, below_y, below = own_x[layer], own_y[layer], kernel[layer]
            below_tangent = tangent_product[layer]
    return kernel[-1], kernel[-1] + tangent_product[-1]


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 2))
    direction = rng.standard_normal((30, 2))
    print("largest relative error against 50 digits, over delta = 1e-12 .. 1e-1 (target 1e-12)")
    for activation in ("relu", "erf"):
        for depth in (1, 2, 3):
            worst = 0.0
            for delta in DELTAS:
                y = x + delta * direction
                both = rntk.kernel(
                    [x], [y], activation=activation, depth=depth, get=("nngp", "ntk")
                )
                exact = reference(activation, depth, x, y)
                for value, truth in zip((both.nngp[0, 0], both.ntk[0, 0]), exact, strict=True):
                    worst = max(worst, float(abs((value - truth) / truth)))
            print(f"  {activation:<4} depth {depth}: {worst:.1e}")
    print("Gram of six near-duplicates (delta 1e-10 .. 1e-6): smallest eigenvalue / largest entry")
    copies = [
        x + delta * rng.standard_normal(x.shape) for delta in (0, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6)
    ]
    for activation in ("relu", "erf"):
        gram = rntk.kernel(copies, activation=activation, depth=2)
        smallest = np.linalg.eigvalsh(gram).min() / np.abs(gram).max()
        print(f"  {activation:<4}: {smallest:.1e} (target >= -1e-14)")


if __name__ == "__main__":
    main()
