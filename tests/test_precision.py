"""Digits: the kernel against a 50-digit reference, near-duplicates and the range of float64.

The reference below is an independent implementation of the forward recursion
of rntk.recursion in ``mpmath`` at 50 significant digits, with the textbook
dual maps (``arccos`` of the correlation for ReLU, ``arcsin`` for erf). At 50
digits the angle between two states that differ by ``1e-12`` still has about
25 correct digits, far more than float64 can hold, so the reference is exact
for these tests. It shares no code with ``rntk``; it converts the float64
inputs exactly.

Near-duplicate sequences (``x' = x + delta * noise``) are where the
covariance form of the recursion loses half the digits: the
tests here ask for a relative error of ``1e-12`` for ``delta`` from ``1e-12``
to ``1e-1``, and for Gram matrices of near-duplicates that are positive
semi-definite to ``1e-14`` of their largest entry.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import rntk
from rntk import KernelUnderflowError

DIGITS = 50
#: Target relative error of the kernel against the 50-digit reference.
PRECISION_RTOL = 1e-12
#: Target for the smallest eigenvalue of a Gram matrix, relative to its largest entry.
PSD_TOLERANCE = 1e-14
PERTURBATIONS = [1e-12, 1e-9, 1e-6, 1e-3, 1e-1]


# --- the 50-digit reference (forward recursion) -------------------------------


def _relu_dual(q1, q2, c):
    if q1 <= 0 or q2 <= 0:
        return mpmath.mpf(0), mpmath.mpf(0)
    root = mpmath.sqrt(q1 * q2)
    angle = mpmath.acos(max(-1, min(1, c / root)))
    kernel = root * (mpmath.sin(angle) + (mpmath.pi - angle) * mpmath.cos(angle)) / (2 * mpmath.pi)
    return kernel, (mpmath.pi - angle) / (2 * mpmath.pi)


def _erf_dual(q1, q2, c):
    product = (1 + 2 * q1) * (1 + 2 * q2)
    kernel = 2 / mpmath.pi * mpmath.asin(2 * c / mpmath.sqrt(product))
    return kernel, 4 / mpmath.pi / mpmath.sqrt(product - 4 * c * c)


_DUALS = {"relu": _relu_dual, "erf": _erf_dual}


def _steps(sequence):
    array = np.asarray(sequence, dtype=float)
    array = array[:, None] if array.ndim == 1 else array
    return [[mpmath.mpf(float(v)) for v in step] for step in array]


def _inner(a, b):
    return mpmath.fsum(u * v for u, v in zip(a, b, strict=True)) / len(a)


def _per_layer(value, depth):
    return [mpmath.mpf(float(v)) for v in np.broadcast_to(np.asarray(value, float), (depth,))]


def reference_kernels(x, y, activation, depth, sigma_w, sigma_u, sigma_b, sigma_h, sigma_v=1.0):
    """``(NNGP, NTK)`` of the last-step head at 50 digits, by the forward form."""
    with mpmath.workdps(DIGITS):
        dual = _DUALS[activation]
        sw, su, sb, sh = (_per_layer(v, depth) for v in (sigma_w, sigma_u, sigma_b, sigma_h))
        xs, ys = _steps(x), _steps(y)

        def variances(steps):
            below = [_inner(step, step) for step in steps]
            q = []
            for layer in range(depth):
                previous, layer_q, kernels = sh[layer] ** 2, [], []
                for t in range(len(steps)):
                    layer_q.append(
                        sw[layer] ** 2 * previous + su[layer] ** 2 * below[t] + sb[layer] ** 2
                    )
                    previous = dual(layer_q[t], layer_q[t], layer_q[t])[0]
                    kernels.append(previous)
                q.append(layer_q)
                below = kernels
            return q

        qx, qy = variances(xs), variances(ys)
        common = min(len(xs), len(ys))
        offset_x, offset_y = len(xs) - common, len(ys) - common
        # Before the first common step: sh^2 if both start there, else 0.
        kernel = [sh[layer] ** 2 if len(xs) == len(ys) else mpmath.mpf(0) for layer in range(depth)]
        tangent = [mpmath.mpf(0)] * depth  # Kd * Theta
        for j in range(common):
            below, below_tangent = _inner(xs[offset_x + j], ys[offset_y + j]), mpmath.mpf(0)
            for layer in range(depth):
                sigma = sw[layer] ** 2 * kernel[layer] + su[layer] ** 2 * below + sb[layer] ** 2
                theta = sigma + sw[layer] ** 2 * tangent[layer] + su[layer] ** 2 * below_tangent
                kernel[layer], derivative = dual(
                    qx[layer][offset_x + j], qy[layer][offset_y + j], sigma
                )
                tangent[layer] = derivative * theta
                below, below_tangent = kernel[layer], tangent[layer]
        scale = mpmath.mpf(float(sigma_v)) ** 2
        return scale * kernel[-1], scale * (kernel[-1] + tangent[-1])


def relative_error(value, exact) -> float:
    with mpmath.workdps(DIGITS):
        return float(abs((mpmath.mpf(float(value)) - exact) / exact))


HYPER = {
    "relu": {"sigma_w": [1.3, 0.9, 1.2], "sigma_u": [1.0, 1.4, 0.8], "sigma_b": [0.1, 0.3, 0.0]},
    "erf": {"sigma_w": [0.9, 1.1, 0.7], "sigma_u": [1.0, 1.4, 0.8], "sigma_b": [0.1, 0.3, 0.0]},
}


def hyperparameters(activation, depth, sigma_h=(0.5, 0.2, 0.9)):
    params = {name: values[:depth] for name, values in HYPER[activation].items()}
    return {**params, "sigma_h": list(sigma_h[:depth]), "depth": depth}


def near_duplicate(rng, x, delta):
    """``x`` plus noise of relative size ``delta`` (of the sequence's scale)."""
    return x + delta * np.sqrt(np.mean(x * x)) * rng.standard_normal(x.shape)


def assert_matches_reference(x, y, activation, params, rtol=PRECISION_RTOL):
    exact_nngp, exact_ntk = reference_kernels(x, y, activation, **params)
    result = rntk.kernel([x], [y], activation=activation, get=("nngp", "ntk"), **params)
    errors = (
        relative_error(result.nngp[0, 0], exact_nngp),
        relative_error(result.ntk[0, 0], exact_ntk),
    )
    assert max(errors) <= rtol, errors


# --- near-duplicates against the reference --------------------------------------


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("delta", PERTURBATIONS)
def test_near_duplicates_of_equal_length_keep_every_digit(activation, depth, delta):
    """Through the correlation the ReLU NTK kept ~8 digits here (error 2e-8 at 1e-10)."""
    rng = np.random.default_rng(depth)
    x = rng.standard_normal((10, 2))
    assert_matches_reference(
        x, near_duplicate(rng, x, delta), activation, hyperparameters(activation, depth)
    )


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("delta", PERTURBATIONS)
def test_near_duplicates_after_a_silent_start_keep_every_digit(activation, depth, delta):
    """Unequal lengths with states that stay near-duplicates: with sigma_b = sigma_h = 0,
    leading zero steps keep the longer sequence at the zero state, so it meets the other
    one's ``h0`` through the boundary of a sequence that has started (and, for ReLU, at
    zero variance)."""
    rng = np.random.default_rng(10 + depth)
    x = rng.standard_normal((8, 2))
    y = np.concatenate([np.zeros((3, 2)), near_duplicate(rng, x, delta)])
    params = {**hyperparameters(activation, depth, sigma_h=(0.0,) * 3), "sigma_b": 0.0}
    assert_matches_reference(x, y, activation, params)
    assert_matches_reference(y, x, activation, params)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("delta", [1e-12, 1e-6, 1e-1])
def test_unequal_lengths_with_near_duplicate_common_steps(activation, depth, delta):
    rng = np.random.default_rng(20 + depth)
    x = rng.standard_normal((10, 3))
    y = near_duplicate(rng, x[4:], delta)
    assert_matches_reference(x, y, activation, hyperparameters(activation, depth))


@pytest.mark.parametrize("scale", [10.0, 100.0, 1000.0])
@pytest.mark.parametrize("delta", [1e-12, 1e-6])
def test_erf_near_duplicates_at_large_variance(scale, delta):
    """Through the covariance erf's V' loses a factor ~q: 4e-10 at inputs of scale 1000."""
    rng = np.random.default_rng(30)
    x = scale * rng.standard_normal((10, 2))
    assert_matches_reference(x, near_duplicate(rng, x, delta), "erf", hyperparameters("erf", 2))


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_mean_head_of_near_duplicates_keeps_every_digit(activation):
    """The mean head averages the last-step kernel over pairs of prefixes (rntk.heads)."""
    rng = np.random.default_rng(40)
    x = rng.standard_normal((5, 2))
    y = near_duplicate(rng, x, 1e-9)
    params = hyperparameters(activation, 2)
    exact = [
        reference_kernels(x[:t], y[:s], activation, **params)
        for t in range(1, 6)
        for s in range(1, 6)
    ]
    with mpmath.workdps(DIGITS):
        exact_nngp = mpmath.fsum(k for k, _ in exact) / len(exact)
        exact_ntk = mpmath.fsum(k for _, k in exact) / len(exact)
    result = rntk.kernel(
        [x], [y], activation=activation, readout="mean", get=("nngp", "ntk"), **params
    )
    assert relative_error(result.nngp[0, 0], exact_nngp) <= PRECISION_RTOL
    assert relative_error(result.ntk[0, 0], exact_ntk) <= PRECISION_RTOL


def test_a_scaled_copy_is_no_worse_than_through_the_correlation():
    """Parallel states of different norms (x and 2x with sigma_b = sigma_h = 0) have no
    exact difference form either; their ReLU NTK keeps the covariance form's ~8 digits."""
    rng = np.random.default_rng(50)
    x = rng.standard_normal((6, 2))
    params = {**hyperparameters("relu", 2, sigma_h=(0.0,) * 2), "sigma_b": 0.0}
    assert_matches_reference(x, 2.0 * x, "relu", params, rtol=1e-7)


# --- Gram matrices of near-duplicates -------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("get", ["nngp", "ntk"])
def test_gram_of_near_duplicates_is_positive_semidefinite(activation, depth, get):
    """Six near-duplicates: the smallest eigenvalue was -5e-9 of the largest entry."""
    rng = np.random.default_rng(60 + depth)
    params = hyperparameters(activation, depth)
    for delta in (1e-12, 1e-10, 1e-8):
        x = rng.standard_normal((20, 2))
        X = np.stack([x] + [near_duplicate(rng, x, delta) for _ in range(5)])
        gram = rntk.kernel(X, activation=activation, get=get, **params)
        smallest = np.linalg.eigvalsh(gram)[0]
        assert smallest >= -PSD_TOLERANCE * np.abs(gram).max(), (delta, smallest)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_float32_near_duplicates_agree_with_float64(activation):
    rng = np.random.default_rng(70)
    x = rng.standard_normal((15, 2))
    X = [x] + [near_duplicate(rng, x, delta) for delta in (1e-6, 1e-3, 1e-1)]
    params = hyperparameters(activation, 2)
    single = rntk.kernel(X, activation=activation, dtype=np.float32, **params)
    double = rntk.kernel(X, activation=activation, **params)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, double, rtol=1e-5)


# --- the small end of the float64 range -----------------------------------------


def test_tiny_inputs_raise_instead_of_returning_inf_or_zeros():
    """At scale 1e-156 with sigma_b = 0 the normalized diagonal was inf; below 1e-162 the
    Gram matrix was silently 0."""
    X = np.random.default_rng(80).standard_normal((3, 5))
    for scale in (1e-150, 1e-156, 1e-200):
        with pytest.raises(KernelUnderflowError, match="homogeneous"):
            rntk.kernel(X * scale, sigma_b=0.0, normalize=True)
    with pytest.raises(KernelUnderflowError, match="sigma_b > 0"):
        rntk.kernel(X * 1e-200, activation="erf", sigma_b=0.0)
    with pytest.raises(KernelUnderflowError, match="float32"):
        rntk.kernel(X * 1e-18, sigma_b=0.0, dtype=np.float32)
    with pytest.raises(KernelUnderflowError):
        rntk.RNTK(sigma_b=0.0, readout="mean").diag(X * 1e-170)


def test_small_inputs_in_range_are_exact_and_homogeneous():
    """Down to a kernel of 1e-292 nothing underflows: K(c x, c x') = c**2 K(x, x') to
    rounding for ReLU with sigma_b = sigma_h = 0, near-duplicates included."""
    rng = np.random.default_rng(81)
    X = rng.standard_normal((4, 6, 2))
    X[1] = near_duplicate(rng, X[0], 1e-9)
    unit = rntk.kernel(X, sigma_b=0.0, depth=2)
    scale = 2.0**-480  # 3e-145
    small = rntk.kernel(X * scale, sigma_b=0.0, depth=2)
    np.testing.assert_allclose(small / scale**2, unit, rtol=1e-14)


def test_zero_and_negligible_inputs_are_not_underflow():
    X = np.random.default_rng(82).standard_normal((3, 5))
    # An all-zero sequence has kernel 0 exactly with sigma_b = sigma_h = 0.
    K = rntk.kernel(np.vstack([X, np.zeros((1, 5))]), sigma_b=0.0)
    assert np.all(K[-1] == 0.0) and np.all(K[:, -1] == 0.0)
    # Tiny inputs are negligible next to a bias or a later step of normal size.
    np.testing.assert_allclose(rntk.kernel(X * 1e-200), rntk.kernel(0 * X), rtol=1e-15)
    K = rntk.kernel([np.r_[1e-200, X[0]]], [np.r_[0.0, X[0]]], sigma_b=0.0)
    np.testing.assert_allclose(K, rntk.kernel([np.r_[0.0, X[0]]], sigma_b=0.0), rtol=1e-15)


@pytest.mark.parametrize("n_features", [1, 2, 5])
def test_input_differences_keep_their_digits(n_features):
    """|x - x'|^2 / m for a block, including near-duplicates and norms far apart."""
    from rntk.recursion import input_difference

    rng = np.random.default_rng(90)
    left = rng.standard_normal((6, n_features))
    left[1] *= 1e3  # one large row: the recomputation threshold is per block
    right = np.concatenate(
        [left + 1e-9 * rng.standard_normal(left.shape), rng.standard_normal((5, n_features))]
    )
    out = np.empty((6, 11))
    input_difference(left, right, out)
    with mpmath.workdps(DIGITS):
        for i in range(6):
            for j in range(11):
                exact = (
                    mpmath.fsum(
                        (mpmath.mpf(a) - mpmath.mpf(b)) ** 2
                        for a, b in zip(left[i], right[j], strict=True)
                    )
                    / n_features
                )
                assert relative_error(out[i, j], exact) <= 2e-12, (i, j)
                if j == i:  # a near-duplicate: recomputed from the differences
                    assert relative_error(out[i, j], exact) <= 1e-15, (i, j)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_float32_on_real_data_stays_within_1e_5_of_float64(activation):
    """The bundled GunPoint series (150 steps), defaults: the documented float32 accuracy.

    (In erf's chaotic regime, sigma_w**2 V' > 1, rounding grows at every step and
    float32 keeps only about 1e-4; that is documented, not tested.)
    """
    name = "GunPoint"
    if name not in rntk.available_ucr():
        pytest.skip("GunPoint is not installed (the examples extra brings it)")
    X = rntk.load_ucr(name)[0][:30]
    double = rntk.kernel(X, activation=activation)
    single = rntk.kernel(X, activation=activation, dtype=np.float32)
    largest = np.abs(double).max()
    assert np.abs(single - double).max() <= 1e-5 * largest
    assert np.linalg.eigvalsh(single.astype(np.float64)).min() >= -1e-6 * largest


def test_erf_in_the_chaotic_regime_stays_finite_in_float32():
    """Rounding past the largest possible angle used to give NaN (reported as overflow)."""
    name = "GunPoint"
    if name not in rntk.available_ucr():
        pytest.skip("GunPoint is not installed (the examples extra brings it)")
    X = rntk.load_ucr(name)[0][:30]
    double = rntk.kernel(X, activation="erf", sigma_w=1.4)
    single = rntk.kernel(X, activation="erf", sigma_w=1.4, dtype=np.float32)
    assert np.abs(single - double).max() <= 1e-5 * np.abs(double).max()
