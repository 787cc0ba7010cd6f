"""The public kernel against the per-pair oracle, closed forms and its own invariances.

Every expected value comes from somewhere other than the code under test: the
backward-form oracle of ``tests/reference.py`` (docs/math.md#the-backward-form), networks
worked out by hand (``T = 1``, and a pair of lengths 2 and 1), a wide random
network (the model of docs/math.md#the-model, which is what pins the boundary rules the
oracle shares with the code), or an identity the kernel must satisfy
(symmetry, positive semi-definiteness, invariance to blocking, order, input
format and threads).
"""

from __future__ import annotations

import math
import re
import tracemalloc

import numpy as np
import pytest
import reference
from helpers import (
    ORACLE_RTOL,
    REGROUPING_RTOL,
    assert_relative_close,
    pad_with_nan,
    random_hyperparameters,
    random_sequences,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

import rntk
from rntk.scheduling import evaluate_block
from rntk.sequences import as_sequences

ACTIVATIONS = ["relu", "erf"]
FAST = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def mixed_case(seed: int, n_features: int = 2):
    """Unequal lengths (incl. 1 and a repeated length), per-layer sigmas, sh > 0."""
    rng = np.random.default_rng(seed)
    X = random_sequences(rng, [5, 3, 7, 5, 1, 4], n_features)
    X2 = random_sequences(rng, [4, 6, 1, 5, 7], n_features)
    params = {
        "depth": 2,
        "sigma_w": [1.3, 0.8],
        "sigma_u": [1.2, 0.9],
        "sigma_b": [0.3, 0.2],
        "sigma_h": [0.5, 0.7],
        "sigma_v": 1.5,
    }
    return X, X2, params


# --- agreement with the oracle ------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("get", ["nngp", "ntk"])
def test_matches_oracle_on_a_fixed_grid(activation, depth, get):
    rng = np.random.default_rng(100 * depth + len(get))
    X = random_sequences(rng, [6, 2, 6, 1, 4, 9], 3)
    X2 = random_sequences(rng, [5, 6, 1, 8], 3)
    params = {
        "activation": activation,
        "depth": depth,
        "sigma_w": [1.3, 0.8, 1.1][:depth],
        "sigma_u": [1.2, 0.7, 1.5][:depth],
        "sigma_b": [0.3, 0.0, 0.6][:depth],
        "sigma_h": [0.5, 0.2, 0.9][:depth],
        "sigma_v": 1.7,
    }
    assert_relative_close(
        rntk.kernel(X, get=get, **params), reference.gram(X, get=get, **params), ORACLE_RTOL
    )
    assert_relative_close(
        rntk.kernel(X, X2, get=get, **params),
        reference.gram(X, X2, get=get, **params),
        ORACLE_RTOL,
    )


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    activation=st.sampled_from(ACTIVATIONS),
    depth=st.integers(1, 3),
    per_layer=st.booleans(),
    n_features=st.integers(1, 3),
    equal_lengths=st.booleans(),
    n_rows=st.integers(1, 4),
    n_columns=st.one_of(st.none(), st.integers(1, 4)),
    get=st.sampled_from(["nngp", "ntk"]),
)
def test_matches_oracle_on_random_cases(
    seed, activation, depth, per_layer, n_features, equal_lengths, n_rows, n_columns, get
):
    rng = np.random.default_rng(seed)

    def lengths(n):
        return [6] * n if equal_lengths else list(rng.integers(1, 9, n))

    X = random_sequences(rng, lengths(n_rows), n_features)
    X2 = None if n_columns is None else random_sequences(rng, lengths(n_columns), n_features)
    params = {"activation": activation, **random_hyperparameters(rng, depth, per_layer)}
    expected = reference.gram(X, X2, get=get, **params)
    assert_relative_close(rntk.kernel(X, X2, get=get, **params), expected, ORACLE_RTOL)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    activation=st.sampled_from(ACTIVATIONS),
    symmetric=st.booleans(),
    block_rows=st.integers(1, 5),
    block_columns=st.integers(1, 5),
    n_jobs=st.sampled_from([1, 2]),
)
def test_many_sequences_in_small_blocks_match_the_oracle(
    seed, activation, symmetric, block_rows, block_columns, n_jobs
):
    """Many distinct and repeated lengths across several blocks: the length-sorted
    scheduling and the growing set of active pairs in each block."""
    rng = np.random.default_rng(seed)
    X = random_sequences(rng, rng.integers(1, 7, rng.integers(5, 11)), 2)
    X2 = None if symmetric else random_sequences(rng, rng.integers(1, 7, rng.integers(1, 9)), 2)
    params = {"activation": activation, **random_hyperparameters(rng, 2, True)}
    result = rntk.kernel(
        X,
        X2,
        get=("nngp", "ntk"),
        block_size=(block_rows, block_columns),
        n_jobs=n_jobs,
        **params,
    )
    for got, expected in zip(result, reference.grams(X, X2, **params), strict=True):
        assert_relative_close(got, expected, ORACLE_RTOL)


@pytest.mark.parametrize(
    "activation, stated",
    [
        ("relu", {"sigma_w": 2**0.5, "sigma_u": 1, "sigma_b": 2, "sigma_h": 0, "sigma_v": 1}),
        ("erf", {"sigma_w": 1, "sigma_u": 0.1, "sigma_b": 0.1, "sigma_h": 0, "sigma_v": 1}),
    ],
)
def test_defaults_match_the_oracle_with_stated_defaults(activation, stated):
    """The defaults of the docs: per activation, depth 1, NTK."""
    rng = np.random.default_rng(7)
    X = random_sequences(rng, [4, 7, 2], 1, as_univariate=True)
    expected = reference.gram(X, activation=activation, depth=1, **stated)
    assert_relative_close(rntk.kernel(X, activation=activation), expected, ORACLE_RTOL)
    assert_relative_close(rntk.RNTK(activation=activation)(X), expected, ORACLE_RTOL)
    model = rntk.RNTK(activation=activation)
    for name, value in stated.items():
        assert np.all(getattr(model.hyperparameters, name) == value), name
    # A scale given explicitly overrides the activation's default.
    assert rntk.RNTK(activation=activation, sigma_w=0.5).hyperparameters.sigma_w[0] == 0.5


def test_callable_object_equals_function():
    X, X2, params = mixed_case(3)
    model = rntk.RNTK(activation="erf", **params)
    np.testing.assert_array_equal(model(X, X2), rntk.kernel(X, X2, activation="erf", **params))
    np.testing.assert_array_equal(model(X), rntk.kernel(X, activation="erf", **params))


# --- T = 1: a feed-forward network worked out by hand ------------------------


def _relu_expectations(q1, q2, c):
    """E[relu(u) relu(v)] and E[1(u>0) 1(v>0)] (Cho and Saul's arc-cosine kernel)."""
    theta = math.acos(max(-1.0, min(1.0, c / math.sqrt(q1 * q2))))
    shape = math.sin(theta) + (math.pi - theta) * math.cos(theta)
    return math.sqrt(q1 * q2) * shape / (2 * math.pi), (math.pi - theta) / (2 * math.pi)


def _erf_expectations(q1, q2, c):
    """E[erf(u) erf(v)] and E[erf'(u) erf'(v)] (Williams 1996; erf' = 2/sqrt(pi) e^{-z^2})."""
    a, b = 1 + 2 * q1, 1 + 2 * q2
    return (
        (2 / math.pi) * math.asin(2 * c / math.sqrt(a * b)),
        (4 / math.pi) / math.sqrt(a * b - 4 * c * c),
    )


def _relu_self(q):
    """u = v: E[relu(u)^2] = q/2, E[1(u>0)] = 1/2."""
    return q / 2, 0.5


def _erf_self(q):
    """u = v: the erf expectations at c = q1 = q2 = q, simplified."""
    return (2 / math.pi) * math.asin(2 * q / (1 + 2 * q)), (4 / math.pi) / math.sqrt(1 + 4 * q)


EXPECTATIONS = {"relu": _relu_expectations, "erf": _erf_expectations}
SELF_EXPECTATIONS = {"relu": _relu_self, "erf": _erf_self}


def _one_step_depth_one(x, y, activation, sw, su, sb, sh, sv):
    r"""f = sv/sqrt(N) v.phi(g), g = sw W h0/sqrt(N) + su U x/sqrt(m) + sb b.

    The pre-activations of x and y are jointly Gaussian with
    var = sw^2 sh^2 + su^2 |x|^2/m + sb^2 (h0.h0/N -> sh^2, h0 shared) and
    cov = sw^2 sh^2 + su^2 x.y/m + sb^2. Gradients:
    v -> sv phi(g)/sqrt(N), giving sv^2 E[phi phi];
    W -> sv/sqrt(N) v_i phi'(g_i) sw h0_j/sqrt(N), giving sv^2 E[phi' phi'] sw^2 sh^2;
    U -> likewise with su x_j/sqrt(m), giving sv^2 E[phi' phi'] su^2 x.y/m;
    b -> sv^2 E[phi' phi'] sb^2.
    ``y=None`` pairs x with itself.
    """
    m = len(x)
    qx = sw**2 * sh**2 + su**2 * float(x @ x) / m + sb**2
    if y is None:
        c = qx
        e_phi, e_dphi = SELF_EXPECTATIONS[activation](qx)
    else:
        qy = sw**2 * sh**2 + su**2 * float(y @ y) / m + sb**2
        c = sw**2 * sh**2 + su**2 * float(x @ y) / m + sb**2
        e_phi, e_dphi = EXPECTATIONS[activation](qx, qy, c)
    from_v = sv**2 * e_phi
    from_w = sv**2 * e_dphi * sw**2 * sh**2
    from_u = sv**2 * e_dphi * su**2 * float(x @ (x if y is None else y)) / m
    from_b = sv**2 * e_dphi * sb**2
    return from_v, from_v + from_w + from_u + from_b


def _one_step_depth_two(x, y, activation, sw, su, sb, sh, sv):
    """Two layers, one step: the deep NTK of a two-hidden-layer network.

    Layer 2 sees h1 = phi(g1) with covariance K1 = E[phi(g1) phi(g1')] and its
    own initial state; back-propagating through U2 multiplies the layer-1
    contribution by su2^2 E[phi'(g2) phi'(g2')] E[phi'(g1) phi'(g1')].
    """
    m = len(x)

    def layer_one(a, b):
        return sw[0] ** 2 * sh[0] ** 2 + su[0] ** 2 * float(a @ b) / m + sb[0] ** 2

    def layer_two(k):
        return sw[1] ** 2 * sh[1] ** 2 + su[1] ** 2 * k + sb[1] ** 2

    c1 = layer_one(x, y)
    k1, kd1 = EXPECTATIONS[activation](layer_one(x, x), layer_one(y, y), c1)
    k1x = SELF_EXPECTATIONS[activation](layer_one(x, x))[0]
    k1y = SELF_EXPECTATIONS[activation](layer_one(y, y))[0]
    c2 = layer_two(k1)
    k2, kd2 = EXPECTATIONS[activation](layer_two(k1x), layer_two(k1y), c2)
    nngp = sv**2 * k2
    ntk = nngp + sv**2 * kd2 * (c2 + su[1] ** 2 * kd1 * c1)
    return nngp, ntk


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_features", [1, 3])
def test_single_step_is_the_one_hidden_layer_network(activation, n_features):
    rng = np.random.default_rng(11 + n_features)
    X = rng.standard_normal((4, 1, n_features))
    X2 = rng.standard_normal((3, 1, n_features))
    hyper = {"sw": 1.3, "su": 0.9, "sb": 0.4, "sh": 0.6, "sv": 1.4}
    params = {
        "sigma_w": hyper["sw"],
        "sigma_u": hyper["su"],
        "sigma_b": hyper["sb"],
        "sigma_h": hyper["sh"],
        "sigma_v": hyper["sv"],
    }
    result = rntk.kernel(X, X2, activation=activation, get=("nngp", "ntk"), **params)
    gram = rntk.kernel(X, activation=activation, get=("nngp", "ntk"), **params)
    for i, x in enumerate(X[:, 0]):
        for j, y in enumerate(X2[:, 0]):
            nngp, ntk = _one_step_depth_one(x, y, activation, **hyper)
            assert result.nngp[i, j] == pytest.approx(nngp, rel=1e-12)
            assert result.ntk[i, j] == pytest.approx(ntk, rel=1e-12)
        for j, y in enumerate(X[:, 0]):
            nngp, ntk = _one_step_depth_one(x, None if i == j else y, activation, **hyper)
            assert gram.nngp[i, j] == pytest.approx(nngp, rel=1e-12)
            assert gram.ntk[i, j] == pytest.approx(ntk, rel=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_single_step_depth_two_is_the_two_hidden_layer_network(activation):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 1, 2))
    X2 = rng.standard_normal((2, 1, 2))
    hyper = {"sw": [1.1, 0.7], "su": [0.9, 1.3], "sb": [0.2, 0.5], "sh": [0.4, 0.8], "sv": 0.8}
    result = rntk.kernel(
        X,
        X2,
        activation=activation,
        depth=2,
        get=("nngp", "ntk"),
        sigma_w=hyper["sw"],
        sigma_u=hyper["su"],
        sigma_b=hyper["sb"],
        sigma_h=hyper["sh"],
        sigma_v=hyper["sv"],
    )
    for i, x in enumerate(X[:, 0]):
        for j, y in enumerate(X2[:, 0]):
            nngp, ntk = _one_step_depth_two(x, y, activation, **hyper)
            assert result.nngp[i, j] == pytest.approx(nngp, rel=1e-12)
            assert result.ntk[i, j] == pytest.approx(ntk, rel=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lengths_two_and_one_by_hand(activation):
    """x = (x1, x2) against y = (y1), aligned at the end, with sh > 0.

    y's only step meets x's second step. x's state after step 1 is a function
    of (W, U, b, h0) whose empirical covariance with the fixed h0 vanishes as
    N grows (h0 has mean 0 and enters h1 only through W h0 / sqrt(N)), so the
    recurrent term contributes nothing to the covariance, and the W-gradients
    of f(x) at step 1 and of f(y) pair h(x)_1 with h0 (covariance 0) or steps
    at different distances from the end (0 in the limit). What remains is a
    one-step network with cov = su^2 x2.y1/m + sb^2, while the variances are
    the sequences' own.
    """
    sw, su, sb, sh, sv = 1.2, 0.8, 0.3, 0.9, 1.1
    x = np.array([[0.7, -1.1], [0.4, 0.9]])
    y = np.array([[-0.5, 0.8]])
    expectations = EXPECTATIONS[activation]
    m = 2
    qx1 = sw**2 * sh**2 + su**2 * float(x[0] @ x[0]) / m + sb**2
    qx2 = sw**2 * SELF_EXPECTATIONS[activation](qx1)[0] + su**2 * float(x[1] @ x[1]) / m + sb**2
    qy1 = sw**2 * sh**2 + su**2 * float(y[0] @ y[0]) / m + sb**2
    c = su**2 * float(x[1] @ y[0]) / m + sb**2
    e_phi, e_dphi = expectations(qx2, qy1, c)
    params = {"sigma_w": sw, "sigma_u": su, "sigma_b": sb, "sigma_h": sh, "sigma_v": sv}
    result = rntk.kernel([x], [y], activation=activation, get=("nngp", "ntk"), **params)
    assert result.nngp[0, 0] == pytest.approx(sv**2 * e_phi, rel=1e-12)
    assert result.ntk[0, 0] == pytest.approx(sv**2 * (e_phi + e_dphi * c), rel=1e-12)
    swapped = rntk.kernel([y, x], activation=activation, get=("nngp", "ntk"), **params)
    assert swapped.nngp[0, 1] == pytest.approx(sv**2 * e_phi, rel=1e-12)
    assert swapped.ntk[1, 0] == pytest.approx(sv**2 * (e_phi + e_dphi * c), rel=1e-12)


# --- a wide random network -----------------------------------------------------


def _wide_network_kernels(X, activation, depth, sw, su, sb, sh, sv, width, seed):
    """Empirical NNGP and NTK of one random network of docs/math.md#the-model (tied weights).

    Back-propagation by hand, d[l, t] = df/dg[l, t]:
    d[L, T] = sv/sqrt(N) v * phi'(g[L, T]) and
    d[l, t] = (sw_l/sqrt(N) W_l^T d[l, t+1] + su_{l+1}/sqrt(N) U_{l+1}^T d[l+1, t]) * phi'(g[l, t]).
    Summing the gradients of all steps (tied weights), the NTK is
    sum_l sum_{t,t'} (d[l,t].d'[l,t']) (sw_l^2 h[l,t-1].h'[l,t'-1]/N
    + su_l^2 h[l-1,t].h'[l-1,t']/n_{l-1} + sb_l^2) + sv^2 h[L,T].h'[L,T']/N,
    with h[l, 0] = h0_l one fixed draw shared by all inputs and h[0, t] = x_t.
    """
    phi, phi_derivative = {
        "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
        "erf": (special.erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z * z)),
    }[activation]
    rng = np.random.default_rng(seed)
    fan_in = [X[0].shape[1]] + [width] * depth  # n_{l-1} for layer l = 1..L
    W = [rng.standard_normal((width, width)) for _ in range(depth)]
    U = [rng.standard_normal((width, fan_in[layer])) for layer in range(depth)]
    b = rng.standard_normal((depth, width))
    h0 = sh[:, None] * rng.standard_normal((depth, width))
    v = rng.standard_normal(width)

    runs = []
    for x in X:
        length = len(x)
        # h[l][t] for l = 0..L, t = 0..T (h[0][0] unused); g[l][t] for l = 1..L.
        h = [[None, *x]] + [[h0[layer]] + [None] * length for layer in range(depth)]
        g = [None] + [[None] * (length + 1) for _ in range(depth)]
        for t in range(1, length + 1):
            for layer in range(1, depth + 1):
                g[layer][t] = (
                    sw[layer - 1] * (W[layer - 1] @ h[layer][t - 1]) / np.sqrt(width)
                    + su[layer - 1] * (U[layer - 1] @ h[layer - 1][t]) / np.sqrt(fan_in[layer - 1])
                    + sb[layer - 1] * b[layer - 1]
                )
                h[layer][t] = phi(g[layer][t])
        d = [None] + [[None] * (length + 2) for _ in range(depth)]
        for t in range(length, 0, -1):
            for layer in range(depth, 0, -1):
                back = np.zeros(width)
                if layer == depth and t == length:
                    back += sv / np.sqrt(width) * v
                if t < length:
                    back += sw[layer - 1] * (W[layer - 1].T @ d[layer][t + 1]) / np.sqrt(width)
                if layer < depth:
                    back += su[layer] * (U[layer].T @ d[layer + 1][t]) / np.sqrt(width)
                d[layer][t] = back * phi_derivative(g[layer][t])
        runs.append((length, h, d))

    n = len(X)
    nngp, ntk = np.zeros((n, n)), np.zeros((n, n))
    for i, (length, h, d) in enumerate(runs):
        for j, (length2, h2, d2) in enumerate(runs):
            nngp[i, j] = sv**2 * (h[depth][length] @ h2[depth][length2]) / width
            ntk[i, j] = nngp[i, j]
            for layer in range(1, depth + 1):
                for t in range(1, length + 1):
                    for s in range(1, length2 + 1):
                        inputs = sw[layer - 1] ** 2 * (h[layer][t - 1] @ h2[layer][s - 1]) / width
                        below = h[layer - 1][t] @ h2[layer - 1][s]
                        inputs += su[layer - 1] ** 2 * below / fan_in[layer - 1]
                        inputs += sb[layer - 1] ** 2
                        ntk[i, j] += (d[layer][t] @ d2[layer][s]) * inputs
    return nngp, ntk


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2])
def test_a_wide_network_agrees_with_the_kernel(activation, depth):
    """Checks the model itself, in particular the boundary rules for unequal lengths
    (K = sh^2 only when both start together), which the oracle shares with the code.
    Finite width leaves O(1/sqrt(N)) fluctuations of a few percent; using sh^2 for
    sequences that start apart would move off-diagonal entries by 20-60%."""
    rng = np.random.default_rng(1)
    X = [rng.standard_normal((t, 2)) for t in (3, 2, 1, 3)]
    hyper = {
        "sw": np.array([1.2, 0.9])[:depth],
        "su": np.array([1.0, 1.3])[:depth],
        "sb": np.array([0.3, 0.2])[:depth],
        "sh": np.array([1.0, 0.8])[:depth],
        "sv": 1.0,
    }
    result = rntk.kernel(
        X,
        activation=activation,
        depth=depth,
        get=("nngp", "ntk"),
        sigma_w=hyper["sw"],
        sigma_u=hyper["su"],
        sigma_b=hyper["sb"],
        sigma_h=hyper["sh"],
        sigma_v=hyper["sv"],
    )
    # Deeper networks fluctuate more: average a few independent networks.
    width, n_networks, tolerance = {1: (2000, 2, 0.1), 2: (1500, 4, 0.15)}[depth]
    networks = [
        _wide_network_kernels(X, activation, depth, **hyper, width=width, seed=seed)
        for seed in range(n_networks)
    ]
    for name, limit in zip(("nngp", "ntk"), result, strict=True):
        finite = np.mean([dict(zip(("nngp", "ntk"), k, strict=True))[name] for k in networks], 0)
        scale = np.sqrt(np.outer(np.diag(limit), np.diag(limit)))
        error = np.max(np.abs(finite - limit) / scale)
        assert error <= tolerance, (name, error, finite, limit)


# --- structure of the Gram matrix ---------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("get", ["nngp", "ntk"])
@pytest.mark.parametrize("block_size", [1, (3, 5), (5, 3), 64])
@pytest.mark.parametrize("normalize", [False, True])
def test_symmetric_gram_is_exactly_symmetric(activation, get, block_size, normalize):
    X, _, params = mixed_case(4)
    K = rntk.kernel(
        X, activation=activation, get=get, block_size=block_size, normalize=normalize, **params
    )
    np.testing.assert_array_equal(K, K.T)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("get", ["nngp", "ntk"])
def test_gram_is_positive_semidefinite(activation, get):
    rng = np.random.default_rng(21)
    X = random_sequences(rng, [9, 1, 4, 11, 3, 7, 7, 2, 10, 5, 6, 8, 1, 3, 9, 12], 2)
    X.append(X[0][1:] * 0.5)  # a shorter, rescaled copy: nearly dependent rows
    K = rntk.kernel(X, activation=activation, get=get, depth=2, sigma_w=1.4, sigma_h=0.3)
    eigenvalues = np.linalg.eigvalsh(K)
    assert eigenvalues.min() >= -1e-10 * np.abs(eigenvalues).max()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_swapping_the_arguments_transposes(activation):
    X, X2, params = mixed_case(5)
    both = rntk.kernel(X, X2, activation=activation, get=("nngp", "ntk"), **params)
    swapped = rntk.kernel(X2, X, activation=activation, get=("nngp", "ntk"), **params)
    for name in ("nngp", "ntk"):
        assert_relative_close(getattr(swapped, name).T, getattr(both, name), REGROUPING_RTOL)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("symmetric", [True, False])
def test_block_size_does_not_change_the_result(activation, symmetric):
    X, X2, params = mixed_case(6)
    X2 = None if symmetric else X2
    params = {"activation": activation, "get": ("nngp", "ntk"), **params}
    reference_result = rntk.kernel(X, X2, block_size=512, **params)
    for block_size in [1, 2, (3, 5), (5, 3), (1, 7), (7, 1), (2, 512)]:
        result = rntk.kernel(X, X2, block_size=block_size, **params)
        for name in ("nngp", "ntk"):
            assert_relative_close(
                getattr(result, name), getattr(reference_result, name), REGROUPING_RTOL
            )


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("block_size", [2, 64])
def test_permuting_the_sequences_permutes_the_gram(activation, block_size):
    X, X2, params = mixed_case(7)
    rng = np.random.default_rng(8)
    p, p2 = rng.permutation(len(X)), rng.permutation(len(X2))
    params = {"activation": activation, "block_size": block_size, **params}

    K = rntk.kernel(X, **params)
    K_permuted = rntk.kernel([X[i] for i in p], **params)
    assert_relative_close(K_permuted, K[np.ix_(p, p)], REGROUPING_RTOL)
    np.testing.assert_array_equal(np.diag(K_permuted), np.diag(K)[p])

    C = rntk.kernel(X, X2, **params)
    C_permuted = rntk.kernel([X[i] for i in p], [X2[j] for j in p2], **params)
    assert_relative_close(C_permuted, C[np.ix_(p, p2)], REGROUPING_RTOL)


def test_input_formats_give_the_same_kernel_equal_lengths():
    rng = np.random.default_rng(9)
    array = rng.standard_normal((5, 6))
    expected = rntk.kernel(array, sigma_h=0.3, depth=2)
    formats = [
        list(array),  # list of (T,)
        [row[:, None] for row in array],  # list of (T, 1)
        array[:, :, None],  # 3-D (n, T, 1)
        tuple(array),
        array.tolist(),
        np.concatenate([array, np.full((5, 2), np.nan)], axis=1),  # NaN padded, 2-D
    ]
    for X in formats:
        np.testing.assert_array_equal(rntk.kernel(X, sigma_h=0.3, depth=2), expected)
    cross = rntk.kernel(array[:2], array[2:], sigma_h=0.3, depth=2)
    np.testing.assert_array_equal(
        rntk.kernel(list(array[:2]), array[2:, :, None], sigma_h=0.3, depth=2), cross
    )


@pytest.mark.parametrize("n_features", [1, 3])
def test_input_formats_give_the_same_kernel_unequal_lengths(n_features):
    rng = np.random.default_rng(10)
    X = random_sequences(rng, [4, 7, 2, 7], n_features)
    X2 = random_sequences(rng, [3, 5], n_features)
    expected = rntk.kernel(X, activation="erf")
    expected_cross = rntk.kernel(X, X2, activation="erf")
    padded = pad_with_nan(X)
    np.testing.assert_array_equal(rntk.kernel(padded, activation="erf"), expected)
    np.testing.assert_array_equal(
        rntk.kernel(padded, pad_with_nan(X2), activation="erf"), expected_cross
    )
    if n_features == 1:
        np.testing.assert_array_equal(rntk.kernel(padded[:, :, 0], activation="erf"), expected)
        flat = [x[:, 0] for x in X]
        np.testing.assert_array_equal(rntk.kernel(flat, activation="erf"), expected)
    ragged = np.empty(len(X), dtype=object)
    ragged[:] = X
    np.testing.assert_array_equal(rntk.kernel(ragged, activation="erf"), expected)
    assert_relative_close(expected, reference.gram(X, activation="erf"), ORACLE_RTOL)


@pytest.mark.parametrize("symmetric", [True, False])
def test_threads_give_identical_results(symmetric):
    X, X2, params = mixed_case(12)
    X = X + X  # 12 sequences, blocks of 2: many blocks to share out
    X2 = None if symmetric else X2
    params = {"get": ("nngp", "ntk"), "block_size": 2, **params}
    serial = rntk.kernel(X, X2, n_jobs=1, **params)
    parallel = rntk.kernel(X, X2, n_jobs=2, **params)
    default = rntk.kernel(X, X2, **params)
    for name in ("nngp", "ntk"):
        np.testing.assert_array_equal(getattr(parallel, name), getattr(serial, name))
        np.testing.assert_array_equal(getattr(default, name), getattr(serial, name))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_diag_is_the_diagonal_of_the_gram(activation):
    X, _, params = mixed_case(13)
    model = rntk.RNTK(activation=activation, get=("nngp", "ntk"), **params)
    diagonal, gram = model.diag(X), model(X)
    for name in ("nngp", "ntk"):
        values = getattr(diagonal, name)
        assert values.shape == (len(X),)
        np.testing.assert_allclose(values, np.diag(getattr(gram, name)), rtol=1e-15, atol=0)
        expected = [reference.gram([x], get=name, activation=activation, **params)[0, 0] for x in X]
        assert_relative_close(values, expected, ORACLE_RTOL, floor=0)
    single = rntk.RNTK(activation=activation, get="nngp", **params).diag(X)
    np.testing.assert_array_equal(single, diagonal.nngp)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("head", [{}, {"readout": "mean", "bidirectional": True}])
def test_diag_is_the_diagonal_of_the_gram_bit_for_bit(head, normalize, dtype):
    """Also normalised (1 up to rounding, as written into the Gram matrix) and in float32."""
    X, _, params = mixed_case(14)
    model = rntk.RNTK(normalize=normalize, dtype=dtype, get=("nngp", "ntk"), **head, **params)
    diagonal, gram = model.diag(X), model(X)
    for name in ("nngp", "ntk"):
        values = getattr(diagonal, name)
        assert values.dtype == dtype
        np.testing.assert_array_equal(values, np.diag(getattr(gram, name)))
    if normalize and dtype == np.float64:
        # Not all exactly 1: this case would not tell the diagonal from np.ones.
        assert np.any(np.diag(gram.ntk) != 1.0)


def test_block_memory_of_the_default_block_matches_the_docstring():
    megabytes = [rntk.RNTK(depth=depth).block_memory() / 1e6 for depth in (1, 3)]
    assert [round(value) for value in megabytes] == [25, 42]
    assert rntk.RNTK(dtype=np.float32).block_memory() * 2 == rntk.RNTK().block_memory()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"depth": 3},
        {"activation": "erf", "depth": 2},
        {"readout": "mean", "pool_stride": 2},
        {"bidirectional": True, "depth": 2},
        {"dtype": np.float32},
        {"activation": "tanh"},
    ],
)
def test_block_memory_is_the_peak_that_tracemalloc_measures(params):
    """One worker's peak on a full default block (256 x 1024 pairs), within 10%.

    tracemalloc sees NumPy's allocations. Only the block's own work is measured:
    the per-sequence paths are computed before.
    """
    model = rntk.RNTK(**params)
    rows, columns = model.block_size
    rng = np.random.default_rng(21)
    row_paths, column_paths = (
        model._paths(as_sequences(rng.standard_normal((n, 3)), "X")) for n in (rows, columns)
    )
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        evaluate_block(row_paths, column_paths, model.architecture)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert 0.9 <= peak / model.block_memory() <= 1.1, (peak, model.block_memory())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_normalize_divides_by_the_diagonals(activation):
    X, X2, params = mixed_case(14)
    params = {"activation": activation, **params}
    K = rntk.kernel(X, **params)
    d = rntk.RNTK(**params).diag(X)
    d2 = rntk.RNTK(**params).diag(X2)
    normalized = rntk.kernel(X, normalize=True, **params)
    np.testing.assert_allclose(np.diag(normalized), 1.0, rtol=0, atol=4e-16)
    assert_relative_close(normalized, K / np.sqrt(np.outer(d, d)), REGROUPING_RTOL)
    assert np.all(np.abs(normalized) <= 1 + 1e-12)  # Cauchy-Schwarz
    for rows in (X, X[: len(X2)]):  # also as many rows as columns: no mix-up of the two
        cross = rntk.kernel(rows, X2, normalize=True, **params)
        expected_cross = rntk.kernel(rows, X2, **params) / np.sqrt(np.outer(d[: len(rows)], d2))
        assert_relative_close(cross, expected_cross, REGROUPING_RTOL)
    # diag gives the Gram matrix's diagonal as written: 1 up to rounding.
    np.testing.assert_array_equal(rntk.RNTK(normalize=True, **params).diag(X), np.diag(normalized))


@pytest.mark.parametrize("normalize", [False, True])
def test_asking_for_both_kernels_equals_separate_calls(normalize):
    X, X2, params = mixed_case(15)
    for X2_or_none in (None, X2):
        both = rntk.kernel(X, X2_or_none, get=("nngp", "ntk"), normalize=normalize, **params)
        assert isinstance(both, rntk.KernelPair)
        assert both._fields == ("nngp", "ntk")
        for name in ("nngp", "ntk"):
            alone = rntk.kernel(X, X2_or_none, get=name, normalize=normalize, **params)
            np.testing.assert_array_equal(getattr(both, name), alone)
        reversed_order = rntk.kernel(X, X2_or_none, get=["ntk", "nngp"], **params)
        assert isinstance(reversed_order, rntk.KernelPair)


def test_output_shape_and_dtype():
    X, X2, params = mixed_case(16)
    K = rntk.kernel(np.asarray(X[0][:3], dtype=np.float32)[None], X2, **params)
    assert K.shape == (1, len(X2))
    assert K.dtype == np.float64
    assert rntk.kernel(X, X2, **params).shape == (len(X), len(X2))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_identical_sequences_get_the_exact_self_kernel(activation):
    """A pair of identical sequences has correlation 1 up to rounding, where arccos
    keeps half the digits (docs/math.md#correlation-near-1); every such pair, not only the diagonal
    of K(X), must get the exact per-sequence value."""
    X, X2, params = mixed_case(17)
    # Past the edge of chaos (sigma_w^2 V' > 1) rounding near rho = 1 grows along time.
    params = {**params, "activation": activation, "sigma_w": [1.9, 1.6]}
    both = rntk.kernel(X, get=("nngp", "ntk"), **params)
    copies = [x.copy() for x in X]
    explicit = rntk.kernel(X, copies, get=("nngp", "ntk"), **params)
    duplicated = rntk.kernel([X[0], X[1], X[0].copy()], get=("nngp", "ntk"), **params)
    shared = rntk.kernel(X, [X2[0], X[2].copy()], get=("nngp", "ntk"), **params)
    expected = dict(zip(("nngp", "ntk"), reference.grams(X, **params), strict=True))
    for name in ("nngp", "ntk"):
        diagonal = np.diag(getattr(both, name))
        assert_relative_close(getattr(both, name), expected[name], ORACLE_RTOL)
        assert_relative_close(getattr(explicit, name), expected[name], ORACLE_RTOL)
        np.testing.assert_array_equal(np.diag(getattr(explicit, name)), diagonal)
        copies_block = getattr(duplicated, name)[np.ix_([0, 2], [0, 2])]
        np.testing.assert_array_equal(copies_block, diagonal[0])
        assert getattr(shared, name)[2, 1] == diagonal[2]


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
@pytest.mark.parametrize("readout", ["last", "mean"])
def test_a_copy_with_negative_zeros_is_the_same_sequence(activation, readout):
    """0.0 and -0.0 are the same number: a copy that differs only there is identical."""
    x = np.random.default_rng(18).standard_normal(8)
    x[[0, 3]] = 0.0
    copy = x.copy()
    copy[[0, 3]] = -0.0
    model = rntk.RNTK(activation=activation, depth=2, sigma_h=0.3, readout=readout)
    np.testing.assert_array_equal(model([x], [copy]), model.diag([x])[None])
    np.testing.assert_array_equal(np.diag(model([x, copy])), model.diag([x, x]))


# --- numerical edge cases -----------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2])
def test_zero_variance_is_finite_and_matches_the_oracle(activation, depth):
    """sigma_b = sigma_h = 0 and all-zero steps: the pre-activation variance is 0."""
    rng = np.random.default_rng(18)
    X = [
        np.concatenate([np.zeros((2, 2)), rng.standard_normal((3, 2))]),  # zero first steps
        np.zeros((4, 2)),  # all zero
        np.concatenate([rng.standard_normal((2, 2)), np.zeros((1, 2))]),  # zero last step
        rng.standard_normal((5, 2)),
        np.zeros((1, 2)),
    ]
    params = {"activation": activation, "depth": depth, "sigma_b": 0.0, "sigma_h": 0.0}
    for get in ("nngp", "ntk"):
        K = rntk.kernel(X, get=get, **params)
        assert np.isfinite(K).all()
        expected = reference.gram(X, get=get, **params)
        assert_relative_close(K, expected, ORACLE_RTOL)
        cross = rntk.kernel(X[:3], X[2:], get=get, **params)
        assert_relative_close(cross, reference.gram(X[:3], X[2:], get=get, **params), ORACLE_RTOL)
    if activation == "relu":
        # The all-zero sequence has identically zero hidden states: a zero row.
        np.testing.assert_array_equal(rntk.kernel(X, **params)[1], 0.0)
        normalized = rntk.kernel(X, normalize=True, **params)
        assert np.isfinite(normalized).all()
        np.testing.assert_array_equal(normalized[1], 0.0)
        np.testing.assert_array_equal(rntk.RNTK(normalize=True, **params).diag(X)[1], 0.0)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_ten_thousand_steps_with_defaults_are_finite(activation):
    rng = np.random.default_rng(19)
    length = 10_000
    zero_after_first = np.zeros(length)
    zero_after_first[0] = 1.5
    X = [rng.standard_normal(length), zero_after_first, rng.standard_normal(length - 500)]
    both = rntk.kernel(X, activation=activation, get=("nngp", "ntk"))
    # The recursion contracts with the defaults, so the oracle agrees even here.
    expected = dict(zip(("nngp", "ntk"), reference.grams(X, activation=activation), strict=True))
    for name in ("nngp", "ntk"):
        K = getattr(both, name)
        assert np.isfinite(K).all()
        assert np.all(np.diag(K) > 0)
        assert_relative_close(K, expected[name], ORACLE_RTOL)


@pytest.mark.parametrize("symmetric", [True, False])
def test_growing_relu_kernel_raises_overflow_naming_sigma_w(symmetric):
    rng = np.random.default_rng(20)
    X = [rng.standard_normal(1000), rng.standard_normal(800)]
    X2 = None if symmetric else [rng.standard_normal(900)]
    with pytest.raises(rntk.KernelOverflowError, match="sigma_w"):
        rntk.kernel(X, X2, sigma_w=3.0)
    with pytest.raises(rntk.KernelOverflowError, match="sigma_w"):
        rntk.RNTK(sigma_w=3.0).diag(X)
    # Short enough sequences with the same sigma_w are fine: the error is about length.
    K = rntk.kernel([x[:20] for x in X], sigma_w=3.0)
    assert np.isfinite(K).all()
    assert_relative_close(K, reference.gram([x[:20] for x in X], sigma_w=3.0), ORACLE_RTOL)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("name", ["sigma_w", "sigma_u", "sigma_b", "sigma_h", "sigma_v"])
def test_a_scale_whose_square_overflows_raises_overflow_naming_it(activation, name):
    # sigma**2 is inf beyond 1.34e154; sigma_w used to meet sigma_h = 0 as inf * 0 = NaN
    # (reported as a NaN of a custom activation) and sigma_v to raise a bare OverflowError.
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    model = rntk.RNTK(activation=activation, **{name: 1e155})
    for call in (lambda: model(X), lambda: model.diag(X)):
        with pytest.raises(
            rntk.KernelOverflowError, match=rf"{name}=1e\+155 is too large"
        ) as error:
            call()
        assert f"use {name} below 1.34e+154" in str(error.value)


@pytest.mark.parametrize("name", ["sigma_w", "sigma_b", "sigma_h"])
def test_an_overflow_inside_the_erf_dual_map_is_an_overflow_not_a_nan(name):
    # sigma**2 = 1e308 fits, but 1 + 2q in the erf dual map does not: inf / inf = NaN,
    # with no infinity left, used to be reported as a NaN of a custom activation.
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    with pytest.raises(rntk.KernelOverflowError, match="overflowed float64") as error:
        rntk.kernel(X, activation="erf", **{name: 1e154})
    assert "returned NaN" not in str(error.value)


@pytest.mark.parametrize("sigma_v, dtype", [(1e154, np.float64), (1e20, np.float32)])
def test_a_sigma_v_that_takes_the_kernel_beyond_the_range_raises_overflow_naming_it(sigma_v, dtype):
    # The recursion fits; only the factor sigma_v**2 does not. The message used to
    # advise a smaller sigma_w.
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    with pytest.raises(
        rntk.KernelOverflowError, match=re.escape(f"sigma_v={sigma_v:g} multiplies")
    ) as error:
        rntk.kernel(X, sigma_v=sigma_v, dtype=dtype)
    assert "Use a smaller sigma_v" in str(error.value)


def test_a_sigma_v_that_takes_the_kernel_below_the_normal_range_raises_underflow():
    X = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])]
    # sigma_v**2 = 0: the Gram matrix used to be all zeros, with a RuntimeWarning only.
    for sigma_v in (1e-200, 1e-150):
        with pytest.raises(
            rntk.KernelUnderflowError, match=re.escape(f"sigma_v={sigma_v:g} multiplies")
        ):
            rntk.kernel(X, sigma_v=sigma_v)
        with pytest.raises(rntk.KernelUnderflowError, match="Use a larger sigma_v"):
            rntk.RNTK(sigma_v=sigma_v, get="nngp").diag(X)
    # Far from the edge nothing changes: the same numbers, times sigma_v**2.
    sigma_v = 1e-100
    np.testing.assert_array_equal(rntk.kernel(X, sigma_v=sigma_v), sigma_v**2 * rntk.kernel(X))
    # sigma_v = 0 is the zero kernel, exactly, and all-zero sequences have kernel 0 at any sigma_v.
    np.testing.assert_array_equal(rntk.kernel(X, sigma_v=0.0), 0.0)
    zeros = [np.zeros(3), np.zeros(2)]
    np.testing.assert_array_equal(rntk.kernel(zeros, sigma_b=0.0, sigma_v=1e-200), 0.0)


# --- bad hyperparameters ------------------------------------------------------

GOOD_X = [np.arange(3.0), np.ones(2)]


@pytest.mark.parametrize("name", ["sigma_w", "sigma_u", "sigma_b", "sigma_h", "sigma_v"])
@pytest.mark.parametrize("value", [-0.5, np.nan, np.inf])
def test_bad_sigma_value_names_the_argument(name, value):
    with pytest.raises(ValueError, match=name):
        rntk.kernel(GOOD_X, **{name: value})
    with pytest.raises(ValueError, match=name):
        rntk.RNTK(**{name: value})


@pytest.mark.parametrize("name", ["sigma_w", "sigma_u", "sigma_b", "sigma_h", "sigma_v"])
def test_non_numeric_sigma_names_the_argument(name):
    with pytest.raises((TypeError, ValueError), match=name):
        rntk.kernel(GOOD_X, **{name: "big"})
    with pytest.raises((TypeError, ValueError), match=name):
        rntk.kernel(GOOD_X, **{name: 1 + 1j})


@pytest.mark.parametrize("name", ["sigma_w", "sigma_u", "sigma_b", "sigma_h"])
def test_wrong_number_of_per_layer_sigmas_names_the_argument(name):
    with pytest.raises(ValueError, match=name):
        rntk.kernel(GOOD_X, depth=2, **{name: [1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match=name):
        rntk.kernel(GOOD_X, depth=3, **{name: [1.0, 1.0]})
    with pytest.raises(ValueError, match=name):
        rntk.kernel(GOOD_X, depth=1, **{name: [[1.0]]})
    with pytest.raises(ValueError, match=name):
        rntk.kernel(GOOD_X, depth=2, **{name: [1.0, -1.0]})


def test_per_layer_sigma_v_is_refused():
    with pytest.raises(ValueError, match="sigma_v"):
        rntk.kernel(GOOD_X, depth=2, sigma_v=[1.0, 1.0])


@pytest.mark.parametrize("depth", [0, -1, 1.5, 2.0, "2", None, True])
def test_bad_depth_names_the_argument(depth):
    with pytest.raises((TypeError, ValueError), match="depth"):
        rntk.kernel(GOOD_X, depth=depth)


def test_numpy_integer_depth_is_accepted():
    assert_relative_close(
        rntk.kernel(GOOD_X, depth=np.int64(2)), reference.gram(GOOD_X, depth=2), ORACLE_RTOL
    )


@pytest.mark.parametrize("activation", ["softsign", "", None, 3, "re lu"])
def test_unknown_activation_names_the_argument(activation):
    with pytest.raises(ValueError, match="activation"):
        rntk.kernel(GOOD_X, activation=activation)


def test_activation_names_are_case_insensitive_and_instances_work():
    expected = rntk.kernel(GOOD_X, activation="erf")
    np.testing.assert_array_equal(rntk.kernel(GOOD_X, activation="ERF"), expected)
    np.testing.assert_array_equal(rntk.kernel(GOOD_X, activation=rntk.Erf()), expected)


@pytest.mark.parametrize("get", ["NTK", "gp", "", None, ("ntk",), ("ntk", "ntk"), ("nngp", "x")])
def test_unknown_get_names_the_argument(get):
    with pytest.raises(ValueError, match="get"):
        rntk.kernel(GOOD_X, get=get)


@pytest.mark.parametrize(
    "block_size", [0, -3, 1.5, "4", None, (3,), (1, 2, 3), (0, 4), (4, -1), (2.0, 2)]
)
def test_bad_block_size_names_the_argument(block_size):
    with pytest.raises((TypeError, ValueError), match="block_size"):
        rntk.kernel(GOOD_X, block_size=block_size)


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "2"])
def test_bad_n_jobs_names_the_argument(n_jobs):
    with pytest.raises((TypeError, ValueError), match="n_jobs"):
        rntk.kernel(GOOD_X, n_jobs=n_jobs)
