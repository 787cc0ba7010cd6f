"""Dual activations against independent numerical integration and exact special cases.

Two implementations are checked against the same integrals: the library's
vectorised ``ReLU().dual`` / ``Erf().dual`` and the scalar formulas of the test
oracle (``tests/reference.py``), so the oracle that the kernel tests trust is
itself verified here.

How the Gaussian expectations are integrated, for
``(u, v) ~ N(0, [[q1, c], [c, q2]])``, written ``u = sqrt(q1) z1``,
``v = sqrt(q2) (rho z1 + sqrt(1 - rho^2) z2)``:

* erf is smooth (entire), so a tensor 2-D Gauss-Hermite rule converges
  geometrically. With 150 nodes per axis it reaches ~1e-14 for ``q <= 2``
  (checked against 300 nodes); for larger ``q`` the integrand
  ``exp(-u^2 - v^2)`` of ``E[erf' erf']`` becomes narrow compared with the
  node spacing, so the test stays at ``q <= 2``.
* ReLU has a kink, where Gauss-Hermite converges only algebraically and Monte
  Carlo gives ~3 digits. Conditioning on ``z1`` instead leaves a smooth 1-D
  integral over ``z1 > 0`` whose inner expectation is elementary
  (``v | z1 ~ N(mu, s^2)``: ``E[relu(v)] = mu Phi(mu/s) + s phi(mu/s)``,
  ``P(v > 0) = Phi(mu/s)``), and adaptive quadrature (``scipy.integrate.quad``)
  evaluates it to ~1e-13. No arccos is involved.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy.special import erf

import rntk
from rntk.activations import Erf, Hermite, ReLU

FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None)
INTEGRATION_RTOL = 1e-10


def _library(name):
    activation = {"relu": ReLU(), "erf": Erf()}[name]

    def dual(q1, q2, c):
        kernel, derivative = activation.dual(c, q1, q2)
        return float(kernel), float(derivative)

    return dual


def _oracle(name):
    return {"relu": reference.relu_dual, "erf": reference.erf_dual}[name]


IMPLEMENTATIONS = {"library": _library, "oracle": _oracle}


# --- independent integrals ----------------------------------------------------


def relu_by_conditioning(q1, q2, rho):
    """``(E[relu(u) relu(v)], E[1(u>0) 1(v>0)])`` by a 1-D integral over ``z1 > 0``."""
    s = math.sqrt(q2 * (1.0 - rho * rho))
    assert s > 0

    def pdf(t):
        return math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)

    def conditional(z):
        mu = math.sqrt(q2) * rho * z
        ratio = mu / s
        return mu * special.ndtr(ratio) + s * pdf(ratio), special.ndtr(ratio)

    options = {"epsabs": 0.0, "epsrel": 1e-13, "limit": 200}
    kernel = integrate.quad(
        lambda z: math.sqrt(q1) * z * pdf(z) * conditional(z)[0], 0, np.inf, **options
    )[0]
    derivative = integrate.quad(lambda z: pdf(z) * conditional(z)[1], 0, np.inf, **options)[0]
    return kernel, derivative


_NODES, _WEIGHTS = special.roots_hermite(150)


def erf_by_gauss_hermite(q1, q2, rho):
    """``(E[erf(u) erf(v)], E[erf'(u) erf'(v)])`` by 2-D Gauss-Hermite quadrature."""
    x1, x2 = np.meshgrid(_NODES, _NODES, indexing="ij")
    weights = np.outer(_WEIGHTS, _WEIGHTS) / np.pi  # for the weight exp(-x1^2 - x2^2)
    u = math.sqrt(2 * q1) * x1
    v = math.sqrt(2 * q2) * (rho * x1 + math.sqrt(max(0.0, 1 - rho * rho)) * x2)

    def erf_derivative(z):
        return 2 / math.sqrt(math.pi) * np.exp(-z * z)

    kernel = float(np.sum(weights * special.erf(u) * special.erf(v)))
    derivative = float(np.sum(weights * erf_derivative(u) * erf_derivative(v)))
    return kernel, derivative


def _close(actual, expected, rtol, scale):
    """``|actual - expected| <= rtol * max(|expected|, scale)``."""
    return abs(actual - expected) <= rtol * max(abs(expected), scale)


# --- duals against integration ------------------------------------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@FAST
@given(
    q1=st.floats(0.01, 5.0),
    q2=st.floats(0.01, 5.0),
    rho=st.floats(-0.999, 0.999),
)
def test_relu_dual_matches_conditional_integral(implementation, q1, q2, rho):
    kernel, derivative = IMPLEMENTATIONS[implementation]("relu")(q1, q2, rho * math.sqrt(q1 * q2))
    expected_kernel, expected_derivative = relu_by_conditioning(q1, q2, rho)
    # The kernel is >= 0 and tiny only near rho = -1; the scale floor is the size
    # of the terms it is made of.
    assert _close(kernel, expected_kernel, INTEGRATION_RTOL, 1e-3 * math.sqrt(q1 * q2))
    assert _close(derivative, expected_derivative, INTEGRATION_RTOL, 1e-3)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@FAST
@given(
    q1=st.floats(0.0, 2.0),
    q2=st.floats(0.0, 2.0),
    rho=st.floats(-1.0, 1.0),
)
def test_erf_dual_matches_gauss_hermite(implementation, q1, q2, rho):
    kernel, derivative = IMPLEMENTATIONS[implementation]("erf")(q1, q2, rho * math.sqrt(q1 * q2))
    expected_kernel, expected_derivative = erf_by_gauss_hermite(q1, q2, rho)
    # Near c = 0 the quadrature returns rounding noise (1e-289) where the truth is 0.
    floor = 1e-3 * math.sqrt(q1 * q2) + 1e-15
    assert _close(kernel, expected_kernel, INTEGRATION_RTOL, floor)
    assert _close(derivative, expected_derivative, INTEGRATION_RTOL, 0.0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("q1", "q2", "rho"), [(1.0, 1.0, 0.0), (0.3, 2.5, 0.6), (4.0, 0.2, -0.8), (1e-3, 7.0, 0.95)]
)
def test_relu_dual_at_fixed_points(implementation, q1, q2, rho):
    kernel, derivative = IMPLEMENTATIONS[implementation]("relu")(q1, q2, rho * math.sqrt(q1 * q2))
    expected_kernel, expected_derivative = relu_by_conditioning(q1, q2, rho)
    assert kernel == pytest.approx(expected_kernel, rel=INTEGRATION_RTOL)
    assert derivative == pytest.approx(expected_derivative, rel=INTEGRATION_RTOL)


def test_relu_independent_inputs_by_hand():
    """rho = 0: E[relu(u)] E[relu(v)] = sqrt(q1 q2) / (2 pi); P(u>0) P(v>0) = 1/4."""
    kernel, derivative = ReLU().dual(0.0, 2.0, 8.0)
    assert kernel == pytest.approx(4.0 / (2 * math.pi), rel=1e-15)
    assert derivative == pytest.approx(0.25, rel=1e-15)


# --- the diagonal ---------------------------------------------------------------

VARIANCES = np.array([1e-8, 1e-3, 0.1, 0.5, 1.0, 3.0, 17.0, 1e3, 1e6])


def test_relu_diagonal_is_exact():
    kernel, derivative = ReLU().diagonal(VARIANCES)
    np.testing.assert_array_equal(kernel, VARIANCES / 2)
    np.testing.assert_array_equal(derivative, 0.5)


def test_erf_diagonal_is_exact():
    kernel, derivative = Erf().diagonal(VARIANCES)
    for q, k, kd in zip(VARIANCES, kernel, derivative, strict=True):
        assert k == pytest.approx((2 / math.pi) * math.asin(2 * q / (1 + 2 * q)), rel=1e-15)
        assert kd == pytest.approx((4 / math.pi) / math.sqrt(1 + 4 * q), rel=1e-15)


@pytest.mark.parametrize("activation", [ReLU(), Erf()])
def test_diagonal_equals_dual_of_a_variable_with_itself(activation):
    """Through rho the diagonal loses about half the digits (arccos near 1), no more."""
    kernel, derivative = activation.diagonal(VARIANCES)
    dual_kernel, dual_derivative = activation.dual(VARIANCES, VARIANCES, VARIANCES)
    np.testing.assert_allclose(kernel, dual_kernel, rtol=1e-7, atol=0)
    np.testing.assert_allclose(derivative, dual_derivative, rtol=1e-7, atol=0)


@pytest.mark.parametrize("activation", [ReLU(), Erf()])
def test_diagonal_matches_integration(activation):
    for q in (0.05, 0.7, 1.9):
        if isinstance(activation, ReLU):
            # rho = 1: v = (sqrt(q2)/sqrt(q1)) u, so E[relu(u)^2] = q E[z^2; z > 0] = q / 2.
            expected = (q / 2, 0.5)
        else:
            expected = erf_by_gauss_hermite(q, q, 1.0)
        kernel, derivative = activation.diagonal(q)
        assert kernel == pytest.approx(expected[0], rel=INTEGRATION_RTOL)
        assert derivative == pytest.approx(expected[1], rel=INTEGRATION_RTOL)


# --- boundaries: rho = +-1, rounding past it, zero variance -------------------


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("q1, q2", [(1.0, 1.0), (0.3, 5.0), (1e4, 2e-3)])
def test_relu_at_rho_plus_and_minus_one(implementation, q1, q2):
    """v = +-a u with a > 0: E[relu(u) relu(a u)] = a q1 / 2, E[relu(u) relu(-a u)] = 0."""
    dual = IMPLEMENTATIONS[implementation]("relu")
    root = math.sqrt(q1 * q2)
    kernel, derivative = dual(q1, q2, root)
    assert kernel == pytest.approx(root / 2, rel=1e-14)
    assert derivative == pytest.approx(0.5, rel=1e-14)
    kernel, derivative = dual(q1, q2, -root)
    assert kernel == pytest.approx(0.0, abs=1e-14 * root)
    assert derivative == pytest.approx(0.0, abs=1e-14)
    # Rounding can push |c| a hair past sqrt(q1 q2): still finite, still the limit.
    for sign in (1.0, -1.0):
        kernel, derivative = dual(q1, q2, sign * root * (1 + 4e-16))
        assert math.isfinite(kernel) and math.isfinite(derivative)
        assert kernel == pytest.approx(root / 2 if sign > 0 else 0.0, rel=1e-7, abs=1e-7 * root)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("q1, q2", [(1.0, 1.0), (0.3, 1.7)])
def test_erf_at_rho_plus_and_minus_one(implementation, q1, q2):
    dual = IMPLEMENTATIONS[implementation]("erf")
    root = math.sqrt(q1 * q2)
    for sign in (1.0, -1.0):
        kernel, derivative = dual(q1, q2, sign * root)
        expected = erf_by_gauss_hermite(q1, q2, sign)
        assert kernel == pytest.approx(expected[0], rel=INTEGRATION_RTOL)
        assert derivative == pytest.approx(expected[1], rel=INTEGRATION_RTOL)
        # det(I + 2 Sigma) = 1 + 2 q1 + 2 q2 when c^2 = q1 q2.
        assert derivative == pytest.approx((4 / math.pi) / math.sqrt(1 + 2 * q1 + 2 * q2), 1e-14)
        # Rounding a hair past |rho| = 1 gives the value at |rho| = 1.
        past = dual(q1, q2, sign * root * (1 + 4e-16))
        assert past == (pytest.approx(kernel, rel=1e-12), pytest.approx(derivative, rel=1e-12))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(("q1", "q2", "c"), [(0.0, 0.0, 0.0), (0.0, 2.0, 0.0), (3.0, 0.0, 0.0)])
def test_relu_zero_variance_is_zero(implementation, q1, q2, c):
    """u = 0 almost surely and relu(0) = relu'(0) = 0 (the finite network's convention)."""
    assert IMPLEMENTATIONS[implementation]("relu")(q1, q2, c) == (0.0, 0.0)


def test_relu_zero_variance_diagonal():
    kernel, derivative = ReLU().diagonal(np.array([0.0, 2.0]))
    np.testing.assert_array_equal(kernel, [0.0, 1.0])
    np.testing.assert_array_equal(derivative, [0.0, 0.5])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_erf_zero_variance(implementation):
    """u = 0: erf(0) = 0, erf'(0) = 2/sqrt(pi); so V = 0 and V' = (2/sqrt(pi)) E[erf'(v)]."""
    dual = IMPLEMENTATIONS[implementation]("erf")
    assert dual(0.0, 0.0, 0.0) == (0.0, pytest.approx(4 / math.pi, rel=1e-15))
    kernel, derivative = dual(0.0, 3.0, 0.0)
    assert kernel == 0.0
    # E[erf'(v)] = 2/sqrt(pi) / sqrt(1 + 2 q2) for v ~ N(0, q2).
    assert derivative == pytest.approx((4 / math.pi) / math.sqrt(7.0), rel=1e-15)
    np.testing.assert_allclose(Erf().diagonal(0.0), (0.0, 4 / math.pi), rtol=1e-15)


# --- the difference form (D = E[(u - v)^2] = q1 + q2 - 2c) ----------------------


def _exact_difference_duals(name, q1, q2, angle):
    """``(D, E[(phi(u) - phi(v))^2], V', c)`` at 60 digits for correlation ``cos(angle)``.

    ``D`` is rounded to float64 and the rest is computed from that rounded ``D``.
    """
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        q1, q2 = mpmath.mpf(q1), mpmath.mpf(q2)
        root = mpmath.sqrt(q1 * q2)
        difference = float(q1 + q2 - 2 * root * mpmath.cos(angle))
        c = (q1 + q2 - mpmath.mpf(difference)) / 2
        if name == "relu":
            theta = mpmath.acos(min(1, max(-1, c / root)))
            kernel = root * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta))
            kernel /= 2 * mpmath.pi
            derivative = (mpmath.pi - theta) / (2 * mpmath.pi)
            self1, self2 = q1 / 2, q2 / 2
        else:
            product = (1 + 2 * q1) * (1 + 2 * q2)
            kernel = 2 / mpmath.pi * mpmath.asin(2 * c / mpmath.sqrt(product))
            derivative = 4 / mpmath.pi / mpmath.sqrt(product - 4 * c * c)
            self1, self2 = (2 / mpmath.pi * mpmath.asin(2 * q / (1 + 2 * q)) for q in (q1, q2))
        return difference, float(self1 + self2 - 2 * kernel), float(derivative), float(c)


ANGLES = [0.0, 1e-12, 1e-8, 1e-4, 0.1, 1.0, 2.0, 3.0, math.pi - 1e-3]


@pytest.mark.parametrize("name", ["relu", "erf"])
@pytest.mark.parametrize("q1, q2", [(1.0, 1.0), (0.37, 0.37 * (1 + 1e-9)), (1e4, 1e4)])
def test_difference_form_against_60_digits(name, q1, q2):
    """Equal or nearly equal variances (the states of near-duplicate sequences): V' to a
    relative 1e-14 at every angle short of antiparallel, however small; the difference
    variance and the covariance to 1e-14 of the variances."""
    activation = {"relu": ReLU(), "erf": Erf()}[name]
    for angle in ANGLES:
        difference, exact_e, exact_derivative, exact_c = _exact_difference_duals(
            name, q1, q2, angle
        )
        e, derivative, c = _difference_duals(activation, difference, q1, q2)
        scale = q1 + q2 if name == "relu" else 1.0  # |erf| <= 1
        # Near antiparallel (not a near-duplicate) the mirror image of the cancellation
        # remains: R + 2c for erf, a large tan(theta/2) for ReLU.
        antiparallel = angle >= 3.0
        assert abs(e - exact_e) <= (1e-12 if antiparallel else 1e-14) * scale, (angle, e)
        assert abs(c - exact_c) <= 1e-15 * (q1 + q2), (angle, c, exact_c)
        tolerance = 1e-9 if antiparallel else 1e-14
        assert derivative == pytest.approx(exact_derivative, rel=tolerance)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_difference_form_of_states_of_different_norms(name):
    """Away from parallel, as precise as for equal norms. Nearly parallel states of
    different norms (x and 1.2 x with no bias) need 1 - rho, which neither form has: V'
    then keeps about half its digits, as through the correlation."""
    activation = {"relu": ReLU(), "erf": Erf()}[name]
    for angle in ANGLES:
        difference, exact_e, exact_derivative, exact_c = _exact_difference_duals(
            name, 2.0, 3.0, angle
        )
        e, derivative, c = _difference_duals(activation, difference, 2.0, 3.0)
        assert abs(e - exact_e) <= 1e-14 * 5.0, (angle, e, exact_e)
        assert abs(c - exact_c) <= 1e-15 * 5.0, (angle, c, exact_c)
        tolerance = 1e-14 if 0.1 <= angle < 3.0 else 1e-8
        assert derivative == pytest.approx(exact_derivative, rel=tolerance, abs=tolerance)


def _difference_duals(activation, difference, q1, q2):
    """``(E[(phi(u) - phi(v))^2], V', c)`` from :meth:`cross_difference`, as floats."""
    outputs = [np.empty(()) for _ in range(3)]
    with np.errstate(divide="ignore", invalid="ignore"):
        activation.cross_difference(
            np.asarray(difference),
            activation.difference_factors(q1),
            activation.difference_factors(q2),
            *outputs,
            [np.empty(()) for _ in range(activation.difference_work)],
        )
    return tuple(float(a) for a in outputs)


@pytest.mark.parametrize("activation", [ReLU(), Erf()])
def test_difference_form_agrees_with_the_covariance_form(activation):
    rng = np.random.default_rng(3)
    q1 = rng.uniform(0.1, 3.0, (5, 1))
    q2 = rng.uniform(0.1, 3.0, 7)
    c = rng.uniform(-0.95, 0.95, (5, 7)) * np.sqrt(q1 * q2)
    kernel, derivative = activation.dual(c, q1, q2)
    e, difference_derivative = activation.dual_difference(q1 + q2 - 2 * c, q1, q2)
    k1, k2 = activation.diagonal(q1)[0], activation.diagonal(q2)[0]
    np.testing.assert_allclose(e, k1 + k2 - 2 * kernel, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(difference_derivative, derivative, rtol=1e-12)


def test_relu_difference_form_of_a_variable_with_itself_is_exact():
    e, derivative = ReLU().dual_difference(0.0, 2.5, 2.5)
    assert (float(e), float(derivative)) == (0.0, 0.5)


def test_relu_difference_form_at_zero_variance():
    """u = 0: phi(u) = phi'(u) = 0, so E[(phi(u) - phi(v))^2] = q2 / 2 = D / 2 and V' = 0."""
    e, derivative = ReLU().dual_difference([0.0, 3.0, 3.0], [0.0, 0.0, 3.0], [0.0, 3.0, 0.0])
    np.testing.assert_array_equal(e, [0.0, 1.5, 1.5])
    np.testing.assert_array_equal(derivative, [0.0, 0.0, 0.0])


def test_relu_difference_form_at_antiparallel_states_and_past_them():
    """v = -a u: E[(relu u - relu v)^2] = (q1 + q2) / 2, V' = 0; rounding past it is harmless."""
    for factor in (1.0, 1.0 + 4e-16):
        difference = (1.0 + 2.0) ** 2 * factor  # (sqrt q1 + sqrt q2)^2 with q1 = 1, q2 = 4
        e, derivative = ReLU().dual_difference(difference, 1.0, 4.0)
        assert float(e) == pytest.approx(2.5, rel=1e-14)
        assert float(derivative) == pytest.approx(0.0, abs=1e-8)


def test_erf_difference_form_at_zero_variance():
    """u = 0: V = 0, V' = (4/pi) / sqrt(1 + 2 q2), E[(erf u - erf v)^2] = k(q2)."""
    e, derivative = Erf().dual_difference(3.0, 0.0, 3.0)
    assert float(derivative) == pytest.approx((4 / math.pi) / math.sqrt(7.0), rel=1e-15)
    assert float(e) == pytest.approx(float(Erf().diagonal(3.0)[0]), rel=1e-15)


def test_erf_diagonal_keeps_its_precision_at_large_variance():
    """arcsin(2q / (1 + 2q)) near 1 would lose a factor sqrt(q): 1e-13 at q = 1e6."""
    mpmath = pytest.importorskip("mpmath")
    variances = np.array([1e-8, 1.0, 1e3, 1e6, 1e12])
    kernel = Erf().diagonal(variances)[0]
    with mpmath.workdps(40):
        for q, value in zip(variances, kernel, strict=True):
            exact = 2 / mpmath.pi * mpmath.asin(2 * mpmath.mpf(q) / (1 + 2 * mpmath.mpf(q)))
            assert abs(float((value - exact) / exact)) <= 2.5e-16


# --- array behaviour ------------------------------------------------------------


@pytest.mark.parametrize("activation", [ReLU(), Erf()])
def test_dual_broadcasts_like_numpy(activation):
    rng = np.random.default_rng(0)
    q1 = rng.uniform(0.1, 2.0, (3, 1))
    q2 = rng.uniform(0.1, 2.0, 4)
    rho = rng.uniform(-1, 1, (3, 4))
    c = rho * np.sqrt(q1 * q2)
    kernel, derivative = activation.dual(c, q1, q2)
    assert kernel.shape == derivative.shape == (3, 4)
    assert kernel.dtype == derivative.dtype == np.float64
    for i in range(3):
        for j in range(4):
            single = activation.dual(c[i, j], q1[i, 0], q2[j])
            assert kernel[i, j] == pytest.approx(float(single[0]), rel=1e-15)
            assert derivative[i, j] == pytest.approx(float(single[1]), rel=1e-15)
    # A scalar variance shared by all, and plain lists.
    kernel, derivative = activation.dual([0.1, 0.2], 1.0, [[1.0], [2.0]])
    assert kernel.shape == (2, 2)
    assert float(kernel[1, 0]) == pytest.approx(float(activation.dual(0.1, 1.0, 2.0)[0]), 1e-15)


def test_diagonal_keeps_the_shape():
    for activation in (ReLU(), Erf()):
        kernel, derivative = activation.diagonal(np.ones((2, 3)))
        assert kernel.shape == derivative.shape == (2, 3)


@pytest.mark.parametrize("activation", [ReLU(), Erf()])
def test_phi_and_derivative_for_finite_networks(activation):
    z = np.linspace(-3, 3, 13) + 0.01  # avoid the ReLU kink at 0
    if isinstance(activation, ReLU):
        np.testing.assert_array_equal(activation(z), np.where(z > 0, z, 0.0))
        np.testing.assert_array_equal(activation.derivative(z), (z > 0).astype(float))
        assert activation.derivative(np.array([0.0]))[0] == 0.0
    else:
        np.testing.assert_allclose(activation(z), [math.erf(t) for t in z], rtol=1e-15)
        step = 1e-6
        numerical = (activation(z + step) - activation(z - step)) / (2 * step)
        np.testing.assert_allclose(activation.derivative(z), numerical, rtol=1e-8, atol=1e-9)


# --- Hermite (Mehler) expansion: any activation, checked against closed forms
# --- and against a finite network.


def _erf_derivative(z):
    return 2.0 / np.sqrt(np.pi) * np.exp(-z * z)


def test_hermite_erf_matches_the_closed_form_away_from_and_near_rho_one():
    hermite = Hermite(erf, _erf_derivative, degree=64)
    q1, q2 = np.meshgrid(np.linspace(0.05, 5.0, 9), np.linspace(0.05, 5.0, 9))
    for rho, tolerance in ((0.0, 3e-14), (-0.3, 1e-13), (0.6, 1e-9), (0.9, 1e-7), (1.0, 1e-12)):
        covariance = rho * np.sqrt(q1 * q2)
        expected = Erf().dual(covariance, q1, q2)
        got = hermite.dual(covariance, q1, q2)
        for e, g in zip(expected, got, strict=True):
            assert np.abs(g - e).max() < tolerance, (rho, np.abs(g - e).max())


def test_hermite_diagonal_is_quadrature_without_truncation():
    variance = np.linspace(0.0, 8.0, 17)
    got = Hermite(erf, _erf_derivative, degree=4).diagonal(variance)
    expected = Erf().diagonal(variance)
    np.testing.assert_allclose(got[0], expected[0], atol=1e-8)
    np.testing.assert_allclose(got[1], expected[1], atol=1e-6)


def test_hermite_kernel_matches_erf_kernel():
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((t, 2)) for t in rng.integers(3, 12, size=10)]
    params = dict(depth=2, sigma_u=1.0, sigma_h=0.3, get=("nngp", "ntk"))
    exact = rntk.kernel(X, activation="erf", **params)
    series = rntk.kernel(X, activation=Hermite(erf, _erf_derivative, degree=64), **params)
    for name in ("nngp", "ntk"):
        e, s = getattr(exact, name), getattr(series, name)
        assert np.abs(s - e).max() < 1e-7 * np.abs(e).max()


def test_tanh_limit_matches_wide_finite_networks():
    X = np.random.default_rng(1).standard_normal((16, 4))
    limit = rntk.kernel(X, activation="tanh")
    empirical = np.mean(
        [rntk.RNN(2048, activation="tanh", seed=seed).ntk(X) for seed in range(4)], axis=0
    )
    # Fluctuations of one width-2048 network are ~4%; the mean of four ~2%.
    assert np.linalg.norm(empirical - limit) / np.linalg.norm(limit) < 0.05


def test_hermite_zero_variance_is_finite_and_exact():
    tanh = Hermite(np.tanh, lambda z: 1 / np.cosh(z) ** 2)
    kernel, derivative = tanh.dual(0.0, 0.0, 2.0)
    # u = 0 almost surely: V = tanh(0) E[tanh(v)] = 0, V' = tanh'(0) E[tanh'(v)].
    expected_derivative = np.mean(
        1 / np.cosh(np.sqrt(2.0) * np.random.default_rng(2).standard_normal(400_000)) ** 2
    )
    assert kernel == 0.0
    assert abs(derivative - expected_derivative) < 5e-3


def test_hermite_rejects_bad_arguments():
    with pytest.raises(TypeError, match="callables"):
        Hermite("tanh", np.tanh)
    with pytest.raises(ValueError, match="degree"):
        Hermite(np.tanh, np.tanh, degree=0)


# --- Hermite near |rho| = 1: the rest of the series at rho^2 = 1 is known exactly.

_TRAPEZOID_STEP = 0.04
_TRAPEZOID_NODES = np.arange(-9.0, 9.0 + _TRAPEZOID_STEP / 2, _TRAPEZOID_STEP)
_TRAPEZOID_WEIGHTS = np.exp(-0.5 * _TRAPEZOID_NODES**2) * _TRAPEZOID_STEP / math.sqrt(2 * math.pi)


def _tanh_derivative(z):
    return 1.0 / np.cosh(z) ** 2


def by_trapezoid(function, q1, q2, rho):
    """``E[phi(u) phi(v)]`` by the 2-D trapezoid rule in ``(z1, z2)``.

    For ``phi`` analytic in a strip ``|Im| < d`` (tanh: ``d = pi / 2``) the rule
    with step ``h`` converges like ``exp(-2 pi d / (h sqrt(q)))``: 1e-30 at
    ``q = 10``, and it does not care how close ``|rho|`` is to 1 (halving the
    step changes nothing at 1e-16).
    """
    s = math.sqrt(max(0.0, 1.0 - rho * rho))
    z1, z2 = _TRAPEZOID_NODES[:, None], _TRAPEZOID_NODES[None, :]
    inner = function(math.sqrt(q2) * (rho * z1 + s * z2)) @ _TRAPEZOID_WEIGHTS
    return float((function(math.sqrt(q1) * _TRAPEZOID_NODES) * _TRAPEZOID_WEIGHTS) @ inner)


NEAR_ONE = [1 - 1e-9, 1 - 1e-6, 1 - 1e-4, 0.99, 0.97, 0.9]
CORRELATIONS = np.array(sorted({*np.linspace(-1, 1, 21), *NEAR_ONE, *(-r for r in NEAR_ONE)}))


def test_hermite_erf_matches_the_closed_form_at_every_correlation():
    """Variances up to 10, rho over [-1, 1] and within 1e-9 of +-1 (2e-3 with the plain
    degree-64 series)."""
    q = np.linspace(0.0, 10.0, 7)
    q1, q2, rho = np.meshgrid(q, q, CORRELATIONS, indexing="ij")
    covariance = rho * np.sqrt(q1 * q2)
    got = Hermite(erf, _erf_derivative).dual(covariance, q1, q2)
    expected = Erf().dual(covariance, q1, q2)
    assert np.abs(got[0] - expected[0]).max() < 1e-10
    assert np.abs(got[1] - expected[1]).max() < 2e-10


@pytest.mark.parametrize(
    ("q1", "q2"), [(0.3, 0.3), (2.0, 1.1), (5.0, 5.0), (10.0, 10.0), (10.0, 0.05)]
)
def test_hermite_tanh_matches_two_dimensional_quadrature(q1, q2):
    tanh = rntk.activations.get_activation("tanh")
    root = math.sqrt(q1 * q2)
    kernel, derivative = tanh.dual(CORRELATIONS * root, q1, q2)
    for rho, k, kd in zip(CORRELATIONS, kernel, derivative, strict=True):
        assert abs(k - by_trapezoid(np.tanh, q1, q2, rho)) < 2e-9, rho
        assert abs(kd - by_trapezoid(_tanh_derivative, q1, q2, rho)) < 3e-8, rho


def test_hermite_of_a_sequence_with_itself_is_its_diagonal():
    """At rho = 1 the series and its rest add up to the quadrature of the diagonal."""
    tanh = rntk.activations.get_activation("tanh")
    variance = np.array([0.0, 1e-3, 0.5, 3.0, 10.0, 30.0])
    np.testing.assert_allclose(
        tanh.dual(variance, variance, variance), tanh.diagonal(variance), rtol=0, atol=1e-13
    )


def test_hermite_activation_with_both_parities():
    """erf + 0.3 has an even and an odd part: V = V_erf + 0.09 (E[erf] = 0), V' = V'_erf."""
    shifted = Hermite(lambda z: erf(z) + 0.3, _erf_derivative)
    q = np.linspace(0.0, 5.0, 5)
    q1, q2, rho = np.meshgrid(q, q, CORRELATIONS, indexing="ij")
    covariance = rho * np.sqrt(q1 * q2)
    got = shifted.dual(covariance, q1, q2)
    expected = Erf().dual(covariance, q1, q2)
    assert np.abs(got[0] - (expected[0] + 0.09)).max() < 1e-12
    assert np.abs(got[1] - expected[1]).max() < 1e-12


def test_hermite_kernel_of_near_duplicates_matches_erf_kernel():
    """Sequences and copies perturbed by 1e-7 to 1e-2: the series kernel within 1e-10
    of the closed form (the plain degree-64 series: 1e-5)."""
    rng = np.random.default_rng(4)
    base = rng.standard_normal((4, 12, 2))
    X = np.concatenate(
        [base + scale * rng.standard_normal(base.shape) for scale in (0, 1e-7, 1e-2)]
    )
    params = dict(depth=2, sigma_w=1.0, sigma_u=1.5, get=("nngp", "ntk"))
    exact = rntk.kernel(X, activation="erf", **params)
    series = rntk.kernel(X, activation=Hermite(erf, _erf_derivative), **params)
    for name in ("nngp", "ntk"):
        e, s = getattr(exact, name), getattr(series, name)
        assert np.abs(s - e).max() < 1e-10 * np.abs(e).max()


# --- Adding an activation: the leaky ReLU of CONTRIBUTING.md, start to finish ---
#
# A new activation defines only its broadcasting dual map. The recipe's three
# checks: the dual against an independent integral, the kernel against the
# per-pair oracle, and the kernel against wide finite networks.

LEAKY_SLOPE = 0.5


class LeakyReLU(rntk.DualActivation):
    """``phi(z) = max(z, a z)``: ``(1 - a) relu(z) + a z``, so ``V = (1 - a)^2 V_relu + a c``."""

    name = "leaky_relu"

    def __init__(self, slope: float = LEAKY_SLOPE):
        self.slope = slope

    def dual(self, covariance, variance1, variance2):
        covariance, variance1, variance2 = np.broadcast_arrays(
            *(np.asarray(v, dtype=np.float64) for v in (covariance, variance1, variance2))
        )
        kernel, derivative = ReLU().dual(covariance, variance1, variance2)
        a = self.slope
        # E[relu(u) v] = c / 2 gives the cross term of V. In V', P(u > 0) = 1/2,
        # but 0 for a variable of zero variance (u = 0, where phi'(0) = a).
        half1, half2 = np.where(variance1 > 0, 0.5, 0.0), np.where(variance2 > 0, 0.5, 0.0)
        return (
            (1 - a) ** 2 * kernel + a * covariance,
            a * a + a * (1 - a) * (half1 + half2) + (1 - a) ** 2 * derivative,
        )

    def diagonal(self, variance):
        # Optional but worth it: dual(q, q, q) goes through an arccos at a
        # correlation that is 1 only up to rounding, which costs half the digits.
        a, q = self.slope, np.asarray(variance, dtype=np.float64)
        return 0.5 * (1 + a * a) * q, np.where(q > 0, 0.5 * (1 + a * a), a * a)

    def __call__(self, preactivation):
        return np.where(preactivation > 0, preactivation, self.slope * preactivation)

    def derivative(self, preactivation):
        return np.where(preactivation > 0, 1.0, self.slope)


def leaky_by_conditioning(q1, q2, rho, slope=LEAKY_SLOPE):
    """``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])`` for leaky ReLU, by 1-D integrals over ``z1``.

    Given ``z1``, ``v ~ N(mu, s^2)`` and ``E[phi(v)] = E[relu(v)] - a E[relu(-v)]``,
    ``E[phi'(v)] = Phi(mu/s) + a Phi(-mu/s)``; the two half-lines of ``z1`` are
    integrated separately so that the kink of ``phi(u)`` is an end point.
    """
    s = math.sqrt(q2 * (1.0 - rho * rho))

    def pdf(t):
        return math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)

    def phi(z):
        return z if z > 0 else slope * z

    def phi_prime(z):
        return 1.0 if z > 0 else slope

    def conditional_mean(mu):
        r = mu / s
        positive_part = mu * special.ndtr(r) + s * pdf(r)
        negative_part = -mu * special.ndtr(-r) + s * pdf(r)
        return positive_part - slope * negative_part

    def conditional_slope(mu):
        return special.ndtr(mu / s) + slope * special.ndtr(-mu / s)

    options = {"epsabs": 0.0, "epsrel": 1e-13, "limit": 200}
    kernel = derivative = 0.0
    for low, high in ((-np.inf, 0.0), (0.0, np.inf)):
        kernel += integrate.quad(
            lambda z: pdf(z) * phi(math.sqrt(q1) * z) * conditional_mean(math.sqrt(q2) * rho * z),
            low,
            high,
            **options,
        )[0]
        derivative += integrate.quad(
            lambda z: (
                pdf(z) * phi_prime(math.sqrt(q1) * z) * conditional_slope(math.sqrt(q2) * rho * z)
            ),
            low,
            high,
            **options,
        )[0]
    return kernel, derivative


def _oracle_leaky(q1, q2, c):
    """The oracle's leaky dual in another form, from ``phi(z) = relu(z) - a relu(-z)``.

    ``V = (1 + a^2) V_relu(c) - 2 a V_relu(-c)``, ``V' = (1 + a^2) V'_relu(c) + 2 a V'_relu(-c)``.
    """
    a = LEAKY_SLOPE
    plus, minus = reference.relu_dual(q1, q2, c), reference.relu_dual(q1, q2, -c)
    return (1 + a * a) * plus[0] - 2 * a * minus[0], (1 + a * a) * plus[1] + 2 * a * minus[1]


@pytest.fixture
def leaky_registered(monkeypatch):
    """``"leaky_relu"`` registered for one test, the registry restored afterwards."""
    monkeypatch.setattr(rntk.activations, "_REGISTRY", dict(rntk.activations._REGISTRY))
    rntk.register_activation("leaky_relu", LeakyReLU)

    def oracle_diagonal(q):
        return _oracle_leaky(q, q, q)

    monkeypatch.setitem(reference.DUALS, "leaky_relu", (_oracle_leaky, oracle_diagonal))


@FAST
@given(q1=st.floats(0.01, 5.0), q2=st.floats(0.01, 5.0), rho=st.floats(-0.999, 0.999))
def test_leaky_relu_dual_matches_conditional_integral(q1, q2, rho):
    kernel, derivative = LeakyReLU().dual(rho * math.sqrt(q1 * q2), q1, q2)
    expected_kernel, expected_derivative = leaky_by_conditioning(q1, q2, rho)
    assert _close(float(kernel), expected_kernel, INTEGRATION_RTOL, 1e-3 * math.sqrt(q1 * q2))
    assert _close(float(derivative), expected_derivative, INTEGRATION_RTOL, 1e-3)


def test_leaky_relu_dual_at_zero_variance_is_the_finite_network_value():
    # u = 0 almost surely: V = phi(0) E[phi(v)] = 0, V' = phi'(0) E[phi'(v)] with
    # phi'(0) = a (the finite network's convention) and E[phi'(v)] = (1 + a) / 2.
    a = LEAKY_SLOPE
    kernel, derivative = LeakyReLU().dual(0.0, 0.0, np.array([2.0, 0.0]))
    np.testing.assert_array_equal(kernel, [0.0, 0.0])
    np.testing.assert_allclose(derivative, [a * (1 + a) / 2, a * a], rtol=1e-15)
    rng = np.random.default_rng(0)
    v = np.sqrt(2.0) * rng.standard_normal(400_000)
    monte_carlo = a * np.mean(LeakyReLU().derivative(v))
    assert abs(monte_carlo - derivative[0]) < 5e-3


def test_leaky_relu_diagonal_is_exact_where_the_default_loses_half_the_digits():
    variance = np.array([0.3, 2.0, 7.0])
    # E[phi(u)^2] = (1 + a^2) q / 2 and E[phi'(u)^2] = (1 + a^2) / 2 for q > 0.
    a = LEAKY_SLOPE
    exact = (1 + a * a) * variance / 2, np.full(3, (1 + a * a) / 2)
    closed_form = LeakyReLU().diagonal(variance)
    default = rntk.DualActivation.diagonal(LeakyReLU(), variance)  # dual(q, q, q)
    for got, expected in zip(closed_form, exact, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    for got, expected in zip(default, exact, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=0)


@pytest.mark.usefixtures("leaky_registered")
@pytest.mark.parametrize("depth", [1, 2])
def test_leaky_relu_kernel_matches_the_oracle(depth):
    rng = np.random.default_rng(3)
    X = [rng.standard_normal((length, 2)) for length in (5, 3, 5, 1)]
    X2 = [rng.standard_normal((length, 2)) for length in (4, 5)]
    params = dict(depth=depth, sigma_w=1.2, sigma_u=0.9, sigma_b=0.3, sigma_h=0.5)
    for get in ("nngp", "ntk"):
        by_name = rntk.kernel(X, X2, activation="leaky_relu", get=get, **params)
        by_instance = rntk.kernel(X, X2, activation=LeakyReLU(), get=get, **params)
        expected = reference.gram(X, X2, get=get, activation="leaky_relu", **params)
        np.testing.assert_array_equal(by_name, by_instance)
        np.testing.assert_allclose(by_name, expected, rtol=1e-10, atol=0)
        symmetric = rntk.kernel(X, activation="leaky_relu", get=get, **params)
        np.testing.assert_allclose(
            symmetric, reference.gram(X, get=get, activation="leaky_relu", **params), rtol=1e-10
        )


@pytest.mark.usefixtures("leaky_registered")
def test_leaky_relu_limit_matches_wide_finite_networks():
    rng = np.random.default_rng(5)
    X = [rng.standard_normal(length) for length in (6, 6, 4)]
    limit = rntk.kernel(X, activation="leaky_relu", sigma_w=1.3)
    empirical = np.mean(
        [
            rntk.RNN(2048, activation="leaky_relu", sigma_w=1.3, seed=seed).ntk(X)
            for seed in range(4)
        ],
        axis=0,
    )
    error = np.linalg.norm(empirical - limit) / np.linalg.norm(limit)
    assert error < 0.05, error
    # The leaky kernel is not the ReLU kernel: the check can tell them apart.
    relu = rntk.kernel(X, activation="relu", sigma_w=1.3)
    assert np.linalg.norm(relu - limit) / np.linalg.norm(limit) > 4 * error


def test_an_activation_must_define_its_dual():
    with pytest.raises(TypeError, match=r"must define dual\(covariance, variance1, variance2\)"):

        class Nothing(rntk.DualActivation):
            pass

    with pytest.raises(TypeError, match="only one of factors and cross"):

        class HalfFused(rntk.DualActivation):
            def dual(self, covariance, variance1, variance2):
                return covariance, covariance

            def factors(self, variance):
                return (variance,)


def test_register_activation_refuses_bad_names_factories_and_clashes(monkeypatch):
    monkeypatch.setattr(rntk.activations, "_REGISTRY", dict(rntk.activations._REGISTRY))
    with pytest.raises(ValueError, match="'relu' is already registered; pass replace=True"):
        rntk.register_activation("ReLU", LeakyReLU)
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        rntk.register_activation("", LeakyReLU)
    with pytest.raises(TypeError, match="must make a DualActivation instance, but .* made float"):
        rntk.register_activation("number", lambda: 1.0)
    rntk.register_activation("relu", LeakyReLU, replace=True)
    assert isinstance(rntk.activations.get_activation("relu"), LeakyReLU)
    with pytest.raises(ValueError, match=r"one of \['erf', 'relu', 'tanh'\]"):
        rntk.kernel([[1.0]], activation="leaky")


def test_registering_an_instance_says_to_pass_its_class(monkeypatch):
    monkeypatch.setattr(rntk.activations, "_REGISTRY", dict(rntk.activations._REGISTRY))
    # An instance is callable (phi), so it used to be called as a factory: a missing argument.
    with pytest.raises(
        TypeError, match=r"factory .* got the instance LeakyReLU\(\); pass its class"
    ):
        rntk.register_activation("leaky", LeakyReLU())
    assert "leaky" not in rntk.activations.available_activations()
    rntk.register_activation("leaky", lambda: LeakyReLU(0.2))  # what the message suggests
    assert rntk.activations.get_activation("leaky").slope == 0.2


class TwoValuesOfThree(rntk.DualActivation):
    """A dual map that returns (V, V', something else)."""

    def dual(self, covariance, variance1, variance2):
        covariance = np.asarray(covariance, dtype=np.float64)
        return covariance, np.ones_like(covariance), covariance


class KernelOnly(rntk.DualActivation):
    """A dual map that returns V alone, an array of the inputs' shape."""

    def dual(self, covariance, variance1, variance2):
        return np.asarray(covariance, dtype=np.float64)


class RightDiagonal(TwoValuesOfThree):
    """A correct diagonal over a wrong dual: only the pairs reach the dual map."""

    def diagonal(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        return variance, np.ones_like(variance)


@pytest.mark.parametrize(
    "activation, got",
    [
        (TwoValuesOfThree(), "3 values"),
        (KernelOnly(), r"ndarray of shape \(2,\)"),
        (RightDiagonal(), "3 values"),
    ],
)
def test_a_dual_map_that_does_not_return_two_values_is_named(activation, got):
    # Two sequences: V alone, of shape (2,), used to be unpacked as the pair (V, V').
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    name = type(activation).__name__
    with pytest.raises(TypeError, match=rf"{name}\.dual must return a pair \(V, V'\).*got {got}"):
        rntk.kernel(X, activation=activation)


def test_a_dual_map_may_stack_its_two_values_in_one_array():
    class Paired(rntk.DualActivation):
        def dual(self, covariance, variance1, variance2):
            return ReLU().dual(covariance, variance1, variance2)

    class Stacked(Paired):
        def dual(self, covariance, variance1, variance2):
            return np.stack(super().dual(covariance, variance1, variance2))

    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    expected = rntk.kernel(X, activation=Paired(), sigma_w=1.3)
    np.testing.assert_array_equal(rntk.kernel(X, activation=Stacked(), sigma_w=1.3), expected)


class NegativeMoment(rntk.DualActivation):
    """V(c, q1, q2) = -c, so V(q, q, q) = -q: no second moment is negative."""

    def dual(self, covariance, variance1, variance2):
        covariance = np.asarray(covariance, dtype=np.float64)
        return -covariance, np.ones_like(covariance)


class NegativeSlope(rntk.DualActivation):
    """The linear activation's dual, with a diagonal whose V'(q, q, q) is -1."""

    def dual(self, covariance, variance1, variance2):
        covariance = np.asarray(covariance, dtype=np.float64)
        return covariance, np.ones_like(covariance)

    def diagonal(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        return variance, -np.ones_like(variance)


@pytest.mark.parametrize(
    "activation, named",
    [
        (NegativeMoment(), r"V\(q, q, q\) = -[0-9.]+ at q = .*NegativeMoment\.dual"),
        (NegativeSlope(), r"V'\(q, q, q\) = -1 at q = .*NegativeSlope\.diagonal"),
    ],
)
def test_a_dual_map_with_a_negative_second_moment_is_refused(activation, named):
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    # The Gram matrix used to come back with a negative diagonal, and no error.
    with pytest.raises(ValueError, match="second moments, never negative") as error:
        rntk.kernel(X, activation=activation, get="nngp")
    assert re.search(named, str(error.value)), str(error.value)
    with pytest.raises(ValueError, match="never negative"):
        rntk.RNTK(activation=activation).diag(X)


def test_sensitivity_of_a_hermite_activation_names_what_is_missing():
    with pytest.raises(NotImplementedError, match="'tanh'.*does not define dual_gradient"):
        rntk.sensitivity(np.ones(3), np.ones(3), activation="tanh")
