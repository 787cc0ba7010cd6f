"""A deliberately simple per-pair oracle for the RNTK and its NNGP.

It follows the BACKWARD form of the recursion (docs/math.md#the-backward-form),
one pair of sequences at a time, with plain Python loops and its own scalar
dual activations written with the ``math`` module. It shares no code with
``rntk`` (not even the input handling), so an error in the vectorised forward
recursion of :mod:`rntk.recursion` cannot hide in both.

For a pair ``(x, y)`` of lengths ``T_x`` and ``T_y``, aligned at their last
step, the ``C = min(T_x, T_y)`` common steps are indexed ``j = 0 .. C-1``
(``j = C-1`` is the last step of both). Layer ``l`` runs ``1 .. L``; layer 0
is the input.

Forward quantities at a common step ``j`` (docs/math.md#the-pairwise-recursion)::

    K[0, j]   = <x_j, y_j> / m
    Sig[l, j] = sw_l^2 K[l, j-1] + su_l^2 K[l-1, j] + sb_l^2
    K[l, j], Kd[l, j] = V(qx[l, j], qy[l, j], Sig[l, j]), V'(same)

with ``K[l, -1] = sh_l^2`` if the two sequences start together (equal
lengths) and ``0`` otherwise (the initial state ``h0`` is independent of a
hidden state that has already started).

Backward weights (docs/math.md#the-backward-form)::

    P[L, C-1] = sv^2 Kd[L, C-1]
    P[l, j]   = Kd[l, j] (sw_l^2 P[l, j+1] + su_{l+1}^2 P[l+1, j])

where a term outside ``0 <= j < C`` or above layer ``L`` is 0 (``h0`` is not
trained, so nothing flows back through the boundary). Then::

    NNGP = sv^2 K[L, C-1]
    NTK  = sum_{l, j} P[l, j] Sig[l, j] + sv^2 K[L, C-1]

Read-out heads (rntk.heads), built on the last-step pair kernel above and
not on any sweep of the step grid:

- the mean head reads the prefixes ``x[:t]`` for ``t = T, T-k, T-2k, ... >= 1``
  (``k = pool_stride``) and averages the last-step kernel over every pair of
  read prefixes, since the state at step ``t`` depends only on ``x[:t]``::

      Theta_mean(x, y) = 1 / (|R_x| |R_y|) sum_{t in R_x, s in R_y} Theta_last(x[:t], y[:s])

  Each pair of prefixes is a pair of sequences in its own right: two prefixes
  of one sequence with different lengths go through the cross formulas, only
  equal prefixes get the exact diagonal ones;
- a read rule given as an object with a ``profile(n)`` method (a test's own,
  see ``tests/helpers.py``) weighs the prefix ``x[:T-r]`` by
  ``p(r) / sum_{r' < T} p(r')`` and sums the last-step kernel over pairs of
  prefixes with the products of their weights, by the same argument;
- the bidirectional head adds the same head on the time-reversed sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TWO_PI = 2.0 * math.pi


# --- scalar dual activations (docs/math.md#dual-activations) ------------------


def relu_dual(q1: float, q2: float, c: float) -> tuple[float, float]:
    """``(E[relu(u) relu(v)], E[step(u) step(v)])`` for ``cov = [[q1, c], [c, q2]]``."""
    if q1 <= 0.0 or q2 <= 0.0:
        # u or v is 0 almost surely; phi(0) = phi'(0) = 0 (docs/math.md#zero-variance).
        return 0.0, 0.0
    root = math.sqrt(q1 * q2)
    rho = min(1.0, max(-1.0, c / root))
    theta = math.acos(rho)
    kernel = root * (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / TWO_PI
    derivative = (math.pi - theta) / TWO_PI
    return kernel, derivative


def relu_diagonal(q: float) -> tuple[float, float]:
    """The ReLU dual of a variable with itself: ``(q / 2, 1 / 2)`` (0 for ``q = 0``)."""
    return 0.5 * q, (0.5 if q > 0.0 else 0.0)


def erf_dual(q1: float, q2: float, c: float) -> tuple[float, float]:
    """``(E[erf(u) erf(v)], E[erf'(u) erf'(v)])`` for ``cov = [[q1, c], [c, q2]]``."""
    product = (1.0 + 2.0 * q1) * (1.0 + 2.0 * q2)
    kernel = (2.0 / math.pi) * math.asin(2.0 * c / math.sqrt(product))
    derivative = (4.0 / math.pi) / math.sqrt(product - 4.0 * c * c)
    return kernel, derivative


def erf_diagonal(q: float) -> tuple[float, float]:
    """The erf dual of a variable with itself, in closed form in ``q``."""
    kernel = (2.0 / math.pi) * math.asin(2.0 * q / (1.0 + 2.0 * q))
    derivative = (4.0 / math.pi) / math.sqrt(1.0 + 4.0 * q)
    return kernel, derivative


DUALS = {"relu": (relu_dual, relu_diagonal), "erf": (erf_dual, erf_diagonal)}


# --- hyperparameters and inputs -----------------------------------------------


@dataclass
class Params:
    """Hyperparameters; per-layer lists are indexed ``1 .. L`` (index 0 unused)."""

    activation: str
    depth: int
    sw: list
    su: list
    sb: list
    sh: list
    sv: float


#: The library's documented default scales (rntk.hyperparameters), restated here.
DOCUMENTED_DEFAULTS = {
    "relu": {"sigma_w": math.sqrt(2.0), "sigma_u": 1.0, "sigma_b": 2.0},
    "erf": {"sigma_w": 1.0, "sigma_u": 0.1, "sigma_b": 0.1},
}


def make_params(
    activation="relu",
    depth=1,
    sigma_w=None,
    sigma_u=None,
    sigma_b=None,
    sigma_h=0.0,
    sigma_v=1.0,
) -> Params:
    """Broadcast scalars to one value per layer; ``None`` is the documented default."""
    if sigma_w is None:
        sigma_w = DOCUMENTED_DEFAULTS[activation]["sigma_w"]
    if sigma_u is None:
        sigma_u = DOCUMENTED_DEFAULTS[activation]["sigma_u"]
    if sigma_b is None:
        sigma_b = DOCUMENTED_DEFAULTS[activation]["sigma_b"]

    def per_layer(value):
        values = [float(value)] * depth if np.ndim(value) == 0 else [float(v) for v in value]
        assert len(values) == depth
        return [None, *values]

    return Params(
        activation,
        depth,
        per_layer(sigma_w),
        per_layer(sigma_u),
        per_layer(sigma_b),
        per_layer(sigma_h),
        float(sigma_v),
    )


def as_steps(sequence) -> list[list[float]]:
    """One sequence as a list of steps, each a list of ``m`` floats."""
    array = np.asarray(sequence, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    return array.tolist()


def dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / len(a)


# --- the recursion ------------------------------------------------------------


def self_variances(steps: list[list[float]], p: Params) -> list[list[float]]:
    """``q[l][t]``, the pre-activation variance of layer ``l`` at step ``t`` (0-based)."""
    _, diagonal = DUALS[p.activation]
    length = len(steps)
    q = [[0.0] * length for _ in range(p.depth + 1)]
    k = [[dot(step, step) for step in steps]] + [[0.0] * length for _ in range(p.depth)]
    for t in range(length):
        for layer in range(1, p.depth + 1):
            previous = k[layer][t - 1] if t > 0 else p.sh[layer] ** 2
            q[layer][t] = (
                p.sw[layer] ** 2 * previous + p.su[layer] ** 2 * k[layer - 1][t] + p.sb[layer] ** 2
            )
            k[layer][t] = diagonal(q[layer][t])[0]
    return q


def pair_kernels(x, y, p: Params) -> tuple[float, float]:
    """``(NNGP(x, y), NTK(x, y))`` by the backward form (docs/math.md#the-backward-form)."""
    dual, diagonal = DUALS[p.activation]
    xs, ys = as_steps(x), as_steps(y)
    same = xs == ys  # a sequence with itself: exact diagonal formulas, no arccos near 1
    qx, qy = self_variances(xs, p), self_variances(ys, p)
    common = min(len(xs), len(ys))
    offset_x, offset_y = len(xs) - common, len(ys) - common
    equal_start = len(xs) == len(ys)
    depth = p.depth

    K = [[0.0] * common for _ in range(depth + 1)]
    Kd = [[0.0] * common for _ in range(depth + 1)]
    Sig = [[0.0] * common for _ in range(depth + 1)]
    for j in range(common):
        tx, ty = offset_x + j, offset_y + j
        K[0][j] = dot(xs[tx], ys[ty])
        for layer in range(1, depth + 1):
            if j > 0:
                previous = K[layer][j - 1]
            else:
                previous = p.sh[layer] ** 2 if equal_start else 0.0
            Sig[layer][j] = (
                p.sw[layer] ** 2 * previous + p.su[layer] ** 2 * K[layer - 1][j] + p.sb[layer] ** 2
            )
            if same:
                K[layer][j], Kd[layer][j] = diagonal(Sig[layer][j])
            else:
                K[layer][j], Kd[layer][j] = dual(qx[layer][tx], qy[layer][ty], Sig[layer][j])

    P = [[0.0] * common for _ in range(depth + 2)]
    sv2 = p.sv**2
    last = common - 1
    for j in range(last, -1, -1):
        for layer in range(depth, 0, -1):
            if layer == depth and j == last:
                P[layer][j] = sv2 * Kd[layer][j]
                continue
            along_time = p.sw[layer] ** 2 * P[layer][j + 1] if j < last else 0.0
            upward = p.su[layer + 1] ** 2 * P[layer + 1][j] if layer < depth else 0.0
            P[layer][j] = Kd[layer][j] * (along_time + upward)

    nngp = sv2 * K[depth][last]
    weighted = (P[layer][j] * Sig[layer][j] for layer in range(1, depth + 1) for j in range(common))
    ntk = math.fsum(weighted) + nngp
    return nngp, ntk


def read_prefixes(length: int, readout, pool_stride: int) -> list[tuple[int, float]]:
    """``(t, weight)`` of each prefix ``x[:t]`` whose last state a head reads.

    ``"last"``: the whole sequence; ``"mean"``: ``t = T, T-k, ... >= 1``, equal
    weights; a read rule: every ``t`` with ``p(T - t) != 0``, weighed by
    ``p(T - t)`` over the profile's sum over the sequence.
    """
    if readout == "last":
        return [(length, 1.0)]
    if readout == "mean":
        ends = list(range(length, 0, -pool_stride))
        return [(t, 1.0 / len(ends)) for t in ends]
    profile = [float(value) for value in readout.profile(length)]
    total = math.fsum(profile)
    return [(length - r, value / total) for r, value in enumerate(profile) if value != 0.0]


def head_kernels(x, y, p: Params, readout="last", pool_stride=1) -> tuple[float, float]:
    """``(NNGP, NTK)`` of one head for ``(x, y)``: the weighted sum of the last-step
    kernels over the pairs of read prefixes (one pair, the whole sequences, for
    ``"last"``).

    ``pair_kernels`` decides ``same`` from the prefixes themselves, so two
    prefixes of one sequence are ``same`` only when their lengths are equal.
    """
    xs, ys = as_steps(x), as_steps(y)
    pairs = [
        (weight * other_weight, pair_kernels(xs[:t], ys[:s], p))
        for t, weight in read_prefixes(len(xs), readout, pool_stride)
        for s, other_weight in read_prefixes(len(ys), readout, pool_stride)
    ]
    nngp = math.fsum(weight * value for weight, (value, _) in pairs)
    ntk = math.fsum(weight * value for weight, (_, value) in pairs)
    return nngp, ntk


def _check_head(readout, bidirectional, pool_stride) -> None:
    if not (readout in ("last", "mean") or hasattr(readout, "profile")):
        raise ValueError(f"readout must be 'last', 'mean' or a read rule, got {readout!r}")
    if bidirectional not in (True, False):
        raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
    if int(pool_stride) != pool_stride or pool_stride < 1:
        raise ValueError(f"pool_stride must be a positive integer, got {pool_stride!r}")
    if readout == "last" and pool_stride != 1:
        raise ValueError("pool_stride applies only to readout='mean'")


def _one_direction(rows, columns, p, readout, pool_stride) -> tuple[np.ndarray, np.ndarray]:
    nngp, ntk = np.empty((len(rows), len(columns))), np.empty((len(rows), len(columns)))
    for i, x in enumerate(rows):
        for j, y in enumerate(columns):
            nngp[i, j], ntk[i, j] = head_kernels(x, y, p, readout, pool_stride)
    return nngp, ntk


def grams(
    X, X2=None, readout="last", bidirectional=False, pool_stride=1, **params
) -> tuple[np.ndarray, np.ndarray]:
    """The oracle ``(NNGP, NTK)`` Gram matrices of two lists of sequences (``X2=None``: X, X).

    ``readout``, ``bidirectional`` and ``pool_stride`` select the head; the
    defaults give the last-step kernel. The bidirectional head is the head on
    the sequences plus the head on the sequences reversed in time.
    """
    _check_head(readout, bidirectional, pool_stride)
    p = make_params(**params)
    rows = [as_steps(x) for x in X]
    columns = rows if X2 is None else [as_steps(y) for y in X2]
    nngp, ntk = _one_direction(rows, columns, p, readout, pool_stride)
    if bidirectional:
        backward_nngp, backward_ntk = _one_direction(
            [x[::-1] for x in rows], [y[::-1] for y in columns], p, readout, pool_stride
        )
        nngp, ntk = nngp + backward_nngp, ntk + backward_ntk
    return nngp, ntk


def gram(X, X2=None, get="ntk", **params) -> np.ndarray:
    """One oracle Gram matrix, ``get`` = ``"nngp"`` or ``"ntk"`` (head keywords as in ``grams``)."""
    nngp, ntk = grams(X, X2, **params)
    return {"nngp": nngp, "ntk": ntk}[get]
