"""The exact kernel gradient against finite differences of rntk.kernel, and its edge cases.

References are independent of the code under test: central finite differences
of :func:`rntk.kernel` (the forward recursion, last-step read-out) and of the
dual maps, Euler's identity for the positively homogeneous ReLU kernel, and the
structure of a network without recurrence. The other heads are differentiated
against kernels built here from the last-step kernel alone: the mean head as
the average over pairs of prefixes, the bidirectional head as the sum with the
kernel of the reversed sequences. A read rule of the tests' own (exponential
pooling, ``tests/helpers.py``) is differentiated against finite differences of
:func:`rntk.kernel` with that rule, whose values ``test_heads.py`` checks
against the per-pair oracle.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from helpers import ExponentialPool

import rntk
from rntk import sensitivity
from rntk.activations import Erf, ReLU

#: The issue's bound for the exact gradient against finite differences.
GRADIENT_RTOL = 1e-6


def head_kernel(xs, x2, readout="last", bidirectional=False, pool_stride=1, **params):
    """The kernel of each sequence of ``xs`` with ``x2`` for a head, from the last-step kernel.

    The mean head is the average of the last-step kernel over the pairs of
    prefixes ending at the read steps (every ``pool_stride``-th step counted
    back from the last); the bidirectional head adds the kernel of the
    reversed sequences.
    """

    def one_stack(xs, x2):
        if not isinstance(readout, str):
            # A read rule of the tests' own: its kernel is checked against the
            # per-pair oracle in test_heads.py.
            return rntk.kernel(xs, [x2], readout=readout, **params)[:, 0]
        if readout == "last":
            return rntk.kernel(xs, [x2], **params)[:, 0]
        ends = range(len(xs[0]), 0, -pool_stride)
        other_ends = range(len(x2), 0, -pool_stride)
        prefixes = [x[:end] for x in xs for end in ends]
        values = rntk.kernel(prefixes, [x2[:end] for end in other_ends], **params)
        return values.reshape(len(xs), len(ends) * len(other_ends)).mean(axis=1)

    values = one_stack(xs, x2)
    if bidirectional:
        values = values + one_stack([x[::-1] for x in xs], x2[::-1])
    return values


def finite_difference_gradient(x, x2, step=1e-3, **params):
    """Fourth-order central differences of ``head_kernel([x], x2)[0]`` in every entry of x.

    Truncation error ~ step**4 and rounding ~ 1e-16 / step, both far below 1e-6
    relative; all perturbed copies of x go through one kernel call.
    """
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1)
    offsets = (-2, -1, 1, 2)
    perturbed = []
    for i in range(flat.size):
        for k in offsets:
            copy = flat.copy()
            copy[i] += k * step
            perturbed.append(copy.reshape(x.shape))
    values = head_kernel(perturbed, x2, **params).reshape(flat.size, len(offsets))
    weights = np.array([1.0, -8.0, 8.0, -1.0]) / (12.0 * step)
    return (values @ weights).reshape(x.shape)


def assert_gradient_close(actual, expected, rtol=GRADIENT_RTOL):
    """Whole gradient to ``rtol`` in norm, and each step's norm to ``rtol`` of max(itself, 1%)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    assert np.linalg.norm(actual - expected) <= rtol * np.linalg.norm(expected)
    steps = np.linalg.norm(actual.reshape(len(actual), -1), axis=1)
    expected_steps = np.linalg.norm(expected.reshape(len(expected), -1), axis=1)
    scale = np.maximum(expected_steps, 1e-2 * expected_steps.max())
    assert np.all(np.abs(steps - expected_steps) <= rtol * scale), (steps, expected_steps)


def random_parameters(rng, activation, depth, get):
    """Per-layer sigmas, sigma_h > 0, ranges where both activations stay moderate."""
    return {
        "activation": activation,
        "depth": depth,
        "sigma_w": list(rng.uniform(0.5, 1.5, depth)),
        "sigma_u": list(rng.uniform(0.5, 1.5, depth)),
        "sigma_b": list(rng.uniform(0.05, 1.0, depth)),
        "sigma_h": list(rng.uniform(0.1, 1.0, depth)),
        "sigma_v": float(rng.uniform(0.5, 2.0)),
        "get": get,
    }


@pytest.mark.parametrize("get", ["ntk", "nngp"])
@pytest.mark.parametrize("lengths", [(5, 5), (7, 4), (4, 7)], ids=["equal", "longer", "shorter"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_gradient_matches_finite_differences(activation, depth, lengths, get):
    rng = np.random.default_rng(zlib.crc32(f"{activation}{depth}{lengths}{get}".encode()))
    x, x2 = rng.standard_normal((lengths[0], 3)), rng.standard_normal((lengths[1], 3))
    params = random_parameters(rng, activation, depth, get)

    gradient = sensitivity(x, x2, return_gradient=True, **params)
    assert_gradient_close(gradient, finite_difference_gradient(x, x2, **params))
    norms = sensitivity(x, x2, **params)
    np.testing.assert_allclose(norms, np.linalg.norm(gradient, axis=1), rtol=1e-15)


def test_leading_steps_without_partner_act_through_the_variances():
    # x is longer than x2: its first 4 steps meet x2's initial state, yet they
    # set the variance of x's later steps, so their true derivative is not 0.
    rng = np.random.default_rng(3)
    x, x2 = rng.standard_normal((7, 2)), rng.standard_normal((3, 2))
    params = {"activation": "relu", "depth": 2, "sigma_w": 1.3, "sigma_b": 0.2}
    gradient = sensitivity(x, x2, return_gradient=True, **params)
    assert np.all(np.linalg.norm(gradient[:4], axis=1) > 1e-3)
    assert_gradient_close(gradient, finite_difference_gradient(x, x2, **params))


def test_univariate_sequences_accept_one_dimensional_input():
    rng = np.random.default_rng(4)
    x, x2 = rng.standard_normal(6), rng.standard_normal(8)
    params = {"activation": "erf", "sigma_w": 1.2, "sigma_h": 0.3}
    gradient = sensitivity(x, x2, return_gradient=True, **params)
    assert gradient.shape == (6,)
    assert_gradient_close(gradient, finite_difference_gradient(x, x2, **params))
    np.testing.assert_allclose(sensitivity(x, x2, **params), np.abs(gradient), rtol=1e-15)
    np.testing.assert_array_equal(
        sensitivity(x, x2, **params), sensitivity(x[:, None], x2[:, None], **params)
    )


@pytest.mark.parametrize("get", ["ntk", "nngp"])
def test_relu_kernel_without_bias_obeys_euler_identity(get):
    # With sigma_b = sigma_h = 0 the ReLU kernel is positively homogeneous of
    # degree 1 in x (x2 fixed), so sum_t <x_t, dK/dx_t> = K(x, x2).
    rng = np.random.default_rng(5)
    x, x2 = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    params = {"depth": 2, "sigma_w": [1.4, 0.9], "sigma_u": [1.0, 1.3], "sigma_b": 0.0}
    gradient = sensitivity(x, x2, return_gradient=True, get=get, **params)
    value = rntk.kernel([x], [x2], get=get, **params)[0, 0]
    assert np.sum(gradient * x) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_without_recurrence_only_the_last_step_matters(activation):
    # sigma_w = 0: the read-out at the last step sees only the last input.
    rng = np.random.default_rng(6)
    x, x2 = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    params = {"activation": activation, "depth": 2, "sigma_w": 0.0, "sigma_h": 0.7}
    steps = sensitivity(x, x2, **params)
    np.testing.assert_array_equal(steps[:-1], 0.0)
    last_only = sensitivity(x[-1:], x2[-1:], **params)
    assert steps[-1] == pytest.approx(last_only[0], rel=1e-13)


def test_erf_is_differentiable_at_identical_sequences():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 2))
    params = {"activation": "erf", "depth": 2, "sigma_w": 1.1, "sigma_h": 0.2}
    gradient = sensitivity(x, x, return_gradient=True, **params)
    assert_gradient_close(gradient, finite_difference_gradient(x, x, **params))


def test_relu_ntk_at_identical_sequences_raises():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 2))
    with pytest.raises(ValueError, match="parallel"):
        sensitivity(x, x)
    with pytest.raises(ValueError, match="parallel"):
        sensitivity(x, x + 1e-7)  # numerically parallel
    # Univariate inputs with sigma_b = sigma_h = 0: the first step's states are parallel.
    with pytest.raises(ValueError, match="parallel"):
        sensitivity(x[:, 0], x[:, 1], sigma_b=0.0)


def test_relu_nngp_at_identical_sequences_is_finite_and_homogeneous():
    # The ReLU NNGP is C^1 at parallel states; along x itself the kernel is
    # homogeneous (sigma_b = sigma_h = 0), so Euler's identity still holds.
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 2))
    gradient = sensitivity(x, x, get="nngp", sigma_b=0.0, return_gradient=True)
    value = rntk.kernel([x], get="nngp", sigma_b=0.0)[0, 0]
    assert np.sum(gradient * x) == pytest.approx(value, rel=1e-9)


def test_relu_zero_variance_raises():
    x, x2 = np.array([0.0, 1.0, -0.5]), np.array([0.3, -1.2, 0.8])
    with pytest.raises(ValueError, match="variance 0"):
        sensitivity(x, x2, sigma_b=0.0, get="nngp")


@pytest.mark.parametrize(
    ("x", "x2", "error", "match"),
    [
        (np.zeros((2, 3, 1)), np.zeros(3), ValueError, "x must be one sequence"),
        (np.ones(3), np.ones((2, 3, 1)), ValueError, "x2 must be one sequence"),
        (np.array(["a", "b"]), np.ones(2), TypeError, "x must hold real numbers"),
        (np.ones((3, 2)), np.ones((3, 1)), ValueError, "x2 has 1 features per step"),
        (np.array([1.0, np.nan, 2.0]), np.ones(3), ValueError, "x: sequence 0 has NaN"),
        (np.array([1.0, 2.0, np.nan]), np.ones(3), ValueError, "x ends with NaN"),
        (np.ones(0), np.ones(3), ValueError, "x is empty"),
    ],
)
def test_invalid_input_names_the_argument(x, x2, error, match):
    with pytest.raises(error, match=match):
        sensitivity(x, x2)


def test_invalid_parameters():
    x = np.arange(1.0, 4.0)
    with pytest.raises(ValueError, match="get must be"):
        sensitivity(x, -x, get=("nngp", "ntk"))
    with pytest.raises(ValueError, match="sigma_w"):
        sensitivity(x, -x, sigma_w=[1.0, 1.0])
    with pytest.raises(ValueError, match="activation"):
        sensitivity(x, -x, activation="softsign")


# Read-out heads.

HEADS = {
    "last": {"readout": "last"},
    "last-bidirectional": {"readout": "last", "bidirectional": True},
    "mean": {"readout": "mean"},
    "mean-stride3": {"readout": "mean", "pool_stride": 3},
    "mean-bidirectional": {"readout": "mean", "bidirectional": True},
    "mean-stride3-bidirectional": {"readout": "mean", "pool_stride": 3, "bidirectional": True},
    "exponential": {"readout": ExponentialPool(0.7)},
    "exponential-growing-bidirectional": {"readout": ExponentialPool(1.3), "bidirectional": True},
}


@pytest.mark.parametrize("lengths", [(7, 5), (5, 7)], ids=["longer", "shorter"])
@pytest.mark.parametrize("get", ["ntk", "nngp"])
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("head", HEADS.values(), ids=HEADS.keys())
def test_head_gradient_matches_finite_differences(head, activation, depth, get, lengths):
    rng = np.random.default_rng(zlib.crc32(f"{head}{activation}{depth}{get}{lengths}".encode()))
    x, x2 = rng.standard_normal((lengths[0], 2)), rng.standard_normal((lengths[1], 2))
    params = random_parameters(rng, activation, depth, get) | head

    gradient = sensitivity(x, x2, return_gradient=True, **params)
    assert_gradient_close(gradient, finite_difference_gradient(x, x2, **params))


def test_last_step_head_is_unchanged():
    # Values of the last-step head before the other heads existed.
    x = np.array([[0.3, -1.1], [1.4, 0.2], [-0.7, 0.9], [0.5, 0.5], [-1.2, -0.4], [0.8, -0.6]])
    x2 = np.array([[1.0, 0.1], [-0.3, 0.7], [0.6, -1.3], [-0.9, 0.4]])
    relu = {"depth": 2, "sigma_w": 1.3, "sigma_b": 0.2, "sigma_h": 0.5}
    erf = {"activation": "erf", "get": "nngp", "sigma_w": 1.2, "sigma_u": 1.0, "sigma_h": 0.3}
    expected = {
        "relu": [0.40798053330566064, 0.5173185287217014, 0.35930089513816343,
                 0.32681285882272565, 0.41288097860046913, 0.1140477108871564],
        "erf": [0.00038754543580289, 0.00137892767718274, 0.0299756601460786,
                0.0420887986554085, 0.11756695340086493, 0.12991632340953768],
    }  # fmt: skip
    for name, params in (("relu", relu), ("erf", erf)):
        default = sensitivity(x, x2, **params)
        np.testing.assert_allclose(default, expected[name], rtol=1e-13)
        explicit = sensitivity(x, x2, readout="last", bidirectional=False, pool_stride=1, **params)
        np.testing.assert_array_equal(explicit, default)


def test_mean_head_with_a_stride_beyond_both_lengths_reads_the_last_step():
    rng = np.random.default_rng(13)
    x, x2 = rng.standard_normal((6, 2)), rng.standard_normal((4, 2))
    params = {"depth": 2, "sigma_w": 1.2, "sigma_h": 0.4, "bidirectional": True}
    np.testing.assert_allclose(
        sensitivity(x, x2, readout="mean", pool_stride=6, return_gradient=True, **params),
        sensitivity(x, x2, return_gradient=True, **params),
        rtol=1e-14,
    )


@pytest.mark.parametrize("head", HEADS.values(), ids=HEADS.keys())
def test_erf_head_is_differentiable_at_identical_sequences(head):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((5, 2))
    params = {"activation": "erf", "depth": 2, "sigma_w": 1.1, "sigma_h": 0.2} | head
    gradient = sensitivity(x, x, return_gradient=True, **params)
    assert_gradient_close(gradient, finite_difference_gradient(x, x, **params))


def test_relu_ntk_mean_head_at_parallel_prefixes_raises():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((5, 2))
    with pytest.raises(ValueError, match="parallel .* step 1 of x and step 1 of x2"):
        sensitivity(x, x, readout="mean", pool_stride=2)
    # x2 is a prefix of x: the mean head reads the pair (x[:3], x2), whose states are parallel.
    with pytest.raises(ValueError, match="parallel .* step 1 of x and step 1 of x2"):
        sensitivity(x, x[:3], readout="mean")
    # x2 is a suffix of x: only the backward stack reads parallel prefixes, the
    # reversed x2 and the reversed x[2:], which start at the last step of both.
    sensitivity(x, x[2:], readout="mean")
    with pytest.raises(ValueError, match="backward stack, step 5 of x and step 3 of x2"):
        sensitivity(x, x[2:], readout="mean", bidirectional=True)
    # The NNGP is differentiable there.
    assert np.isfinite(sensitivity(x, x, readout="mean", get="nngp")).all()


@pytest.mark.parametrize(
    ("head", "error", "match"),
    [
        ({"readout": "max"}, ValueError, "readout must be 'last' or 'mean', got 'max'"),
        ({"readout": "mean", "pool_stride": 0}, ValueError, "pool_stride must be a positive"),
        ({"readout": "mean", "pool_stride": 1.5}, TypeError, "pool_stride must be a positive"),
        ({"pool_stride": 2}, ValueError, "pool_stride=2 applies only to readout='mean'"),
        ({"bidirectional": "yes"}, TypeError, "bidirectional must be True or False"),
    ],
)
def test_invalid_head_names_the_argument(head, error, match):
    with pytest.raises(error, match=match):
        sensitivity(np.arange(1.0, 4.0), np.ones(3), **head)


# Partial derivatives of the dual maps.


def dual_points(rng, n=20):
    """Random (c, q1, q2) with |rho| <= 0.95, variances between 0.05 and 5."""
    variance1, variance2 = rng.uniform(0.05, 5.0, (2, n))
    correlation = rng.uniform(-0.95, 0.95, n)
    return correlation * np.sqrt(variance1 * variance2), variance1, variance2


@pytest.mark.parametrize("activation", [ReLU(), Erf()], ids=["relu", "erf"])
def test_dual_gradient_matches_finite_differences(activation):
    point = dual_points(np.random.default_rng(10))
    gradient = activation.dual_gradient(*point)
    step = 1e-6
    for argument in range(3):
        forward, backward = list(point), list(point)
        forward[argument] = point[argument] + step
        backward[argument] = point[argument] - step
        plus, minus = activation.dual(*forward), activation.dual(*backward)
        for output in range(2):  # V, then V'
            expected = (plus[output] - minus[output]) / (2 * step)
            np.testing.assert_allclose(
                gradient[3 * output + argument], expected, rtol=1e-7, atol=1e-9
            )


@pytest.mark.parametrize("activation", [ReLU(), Erf()], ids=["relu", "erf"])
def test_diagonal_gradient_matches_finite_differences(activation):
    variance = np.random.default_rng(11).uniform(0.05, 5.0, 20)
    step = 1e-6
    plus, minus = activation.diagonal(variance + step), activation.diagonal(variance - step)
    for output, slope in enumerate(activation.diagonal_gradient(variance)):
        np.testing.assert_allclose(
            slope, (plus[output] - minus[output]) / (2 * step), rtol=1e-7, atol=1e-9
        )


def test_price_theorem():
    point = dual_points(np.random.default_rng(12))
    for activation in (ReLU(), Erf()):
        np.testing.assert_array_equal(
            activation.dual_gradient(*point).kernel_covariance, activation.dual(*point)[1]
        )


def test_relu_dual_gradient_singular_points():
    at_parallel = ReLU().dual_gradient(2.0, 1.0, 4.0)  # rho = 1
    assert at_parallel.derivative_covariance == np.inf
    assert at_parallel.derivative_variance1 == -np.inf
    assert at_parallel.kernel_covariance == 0.5
    # At rho = 1 with c fixed, V = sqrt(q1 q2) / 2 is stationary in q1.
    assert at_parallel.kernel_variance1 == pytest.approx(0.0, abs=1e-15)
    at_zero = ReLU().dual_gradient(0.0, 0.0, 1.0)
    assert all(np.isnan(part) for part in at_zero)
    assert np.isnan(ReLU().diagonal_gradient(0.0)[1])


@pytest.mark.parametrize("name", ["sigma_v", "sigma_w"])
def test_a_scale_whose_square_overflows_raises_overflow_naming_it(name):
    x = np.linspace(-1.0, 1.0, 6)
    with pytest.raises(rntk.KernelOverflowError, match=f"{name}=1e\\+155 is too large"):
        rntk.sensitivity(x, x, **{name: 1e155})
