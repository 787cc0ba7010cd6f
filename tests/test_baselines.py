"""Baseline kernels: RBF and polynomial against scikit-learn, the MLP NTK against
a per-pair backward-form oracle, the single-step RNTK and finite-width networks."""

import math

import numpy as np
import pytest
from helpers import ORACLE_RTOL

import rntk
from rntk.baselines import median_squared_distance, mlp_ntk, polynomial_kernel, rbf_kernel

# Monte-Carlo tolerance for 4 networks of width 2048 (observed errors are 1-4 %).
FINITE_WIDTH_RELATIVE_ERROR = 0.08


def relative_frobenius_error(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


@pytest.fixture
def sequences():
    rng = np.random.default_rng(0)
    return rng.standard_normal((7, 5, 3)), rng.standard_normal((4, 5, 3))


def test_rbf_and_polynomial_match_scikit_learn(sequences):
    pairwise = pytest.importorskip("sklearn.metrics.pairwise")
    X, X2 = sequences
    flat, flat2 = X.reshape(7, -1), X2.reshape(4, -1)
    np.testing.assert_allclose(rbf_kernel(X), pairwise.rbf_kernel(flat), rtol=1e-12)
    np.testing.assert_allclose(
        rbf_kernel(X, X2, gamma=0.3), pairwise.rbf_kernel(flat, flat2, gamma=0.3), rtol=1e-12
    )
    np.testing.assert_allclose(
        polynomial_kernel(X, X2, degree=2), pairwise.polynomial_kernel(flat, flat2, degree=2)
    )
    np.testing.assert_allclose(
        polynomial_kernel(X, degree=4, gamma=0.5, coef0=2.0),
        pairwise.polynomial_kernel(flat, degree=4, gamma=0.5, coef0=2.0),
        rtol=1e-12,
    )


def test_rbf_and_polynomial_closed_forms():
    X = np.array([[1.0, 2.0, 0.0], [0.0, 2.0, -1.0]])
    rbf = rbf_kernel(X, gamma=0.25)
    np.testing.assert_allclose(rbf, [[1.0, np.exp(-0.5)], [np.exp(-0.5), 1.0]], rtol=1e-14)
    # default gamma = 1 / d with d = 3: <x, x'> = 4
    np.testing.assert_allclose(polynomial_kernel(X, degree=3)[0, 1], (4 / 3 + 1) ** 3)


def test_rbf_diagonal_is_exactly_one_for_large_inputs():
    X = 1e8 + np.random.default_rng(1).standard_normal((5, 4))
    assert np.all(np.diag(rbf_kernel(X)) == 1.0)
    assert np.all(rbf_kernel(X) <= 1.0)


@pytest.mark.parametrize("kernel", [rbf_kernel, polynomial_kernel, mlp_ntk])
def test_symmetric_grams_are_exactly_symmetric(kernel):
    K = kernel(1e3 + np.random.default_rng(6).standard_normal((30, 20)))
    np.testing.assert_array_equal(K, K.T)


@pytest.mark.parametrize("kernel", [rbf_kernel, polynomial_kernel, mlp_ntk])
def test_input_formats_agree(kernel):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 6))
    padded = np.concatenate([X, np.full((4, 2), np.nan)], axis=1)
    expected = kernel(X)
    np.testing.assert_array_equal(kernel(X[:, :, None]), expected)
    np.testing.assert_array_equal(kernel(list(X)), expected)
    np.testing.assert_array_equal(kernel(padded), expected)
    # X against itself through X2 takes the cross path, whose diagonal goes through
    # arccos near 1 and keeps only about half the digits.
    np.testing.assert_allclose(kernel(X, X), expected, rtol=1e-7)


def test_time_steps_are_flattened_in_order():
    # Steps in time order, features contiguous: a (1, 2, 2) sequence is the vector (a, b, c, d).
    X = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    Y = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_allclose(polynomial_kernel(X, Y, degree=1, gamma=1.0, coef0=0.0), [[1, 4]])


@pytest.mark.parametrize("kernel", [rbf_kernel, polynomial_kernel, mlp_ntk])
def test_unequal_lengths_are_refused_with_advice(kernel):
    with pytest.raises(ValueError, match="X holds sequences of different lengths.*resample"):
        kernel([np.zeros(4), np.ones(5)])
    with pytest.raises(ValueError, match="X2 holds sequences of length 3 but X has length 4"):
        kernel(np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="X2 has 2 features per step"):
        kernel(np.ones((2, 4, 1)), np.ones((2, 4, 2)))


def test_invalid_parameters_are_named():
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="gamma"):
        rbf_kernel(X, gamma=0.0)
    with pytest.raises(TypeError, match="degree"):
        polynomial_kernel(X, degree=2.5)
    with pytest.raises(ValueError, match="coef0"):
        polynomial_kernel(X, coef0=-1.0)
    with pytest.raises(ValueError, match="depth"):
        mlp_ntk(X, depth=0)
    with pytest.raises(ValueError, match="sigma_b"):
        mlp_ntk(X, sigma_b=-0.1)
    with pytest.raises(ValueError, match="get"):
        mlp_ntk(X, get="cntk")


def _relu_expectations(q1, q2, c):
    """E[relu(u) relu(v)] and E[1(u > 0) 1(v > 0)] for a centred Gaussian pair (Cho & Saul)."""
    if q1 == 0 or q2 == 0:
        return 0.0, 0.0
    angle = math.acos(max(-1.0, min(1.0, c / math.sqrt(q1 * q2))))
    kernel = math.sqrt(q1 * q2) * (math.sin(angle) + (math.pi - angle) * math.cos(angle))
    return kernel / (2 * math.pi), (math.pi - angle) / (2 * math.pi)


def _mlp_ntk_backward_form(x, y, depth, sigma_w, sigma_b, sigma_v):
    """One pair, the NTK summed over parameters: sum_l P_l Sigma_l + sigma_v^2 K_L, with the
    back-propagated weights P_L = sigma_v^2 Kd_L and P_l = sigma_w^2 Kd_l P_{l+1}."""
    w2, b2, v2 = sigma_w**2, sigma_b**2, sigma_v**2
    d = len(x)
    covariances = [[w2 * float(np.dot(a, b)) / d + b2 for b in (x, y)] for a in (x, y)]
    sigmas, derivatives = [], []
    for _ in range(depth):
        sigmas.append(covariances[0][1])
        pair = _relu_expectations(covariances[0][0], covariances[1][1], covariances[0][1])
        derivatives.append(pair[1])
        new = [
            [
                _relu_expectations(covariances[i][i], covariances[j][j], covariances[i][j])[0]
                for j in range(2)
            ]
            for i in range(2)
        ]
        last_kernel = new[0][1]
        covariances = [[w2 * value + b2 for value in row] for row in new]
    weight = v2 * derivatives[-1]
    total = v2 * last_kernel + weight * sigmas[-1]
    for layer in range(depth - 2, -1, -1):
        weight *= w2 * derivatives[layer]
        total += weight * sigmas[layer]
    return total, v2 * last_kernel


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.3, 0.6), (np.sqrt(2), 0.0)])
def test_mlp_ntk_matches_per_pair_backward_form(sequences, depth, sigma_w, sigma_b):
    X, X2 = sequences
    X2 = X2.copy()
    X2[0] = 0.0  # zero input: zero variance when sigma_b = 0
    both = mlp_ntk(
        X, X2, depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, sigma_v=0.7, get=("nngp", "ntk")
    )
    flat, flat2 = X.reshape(len(X), -1), X2.reshape(len(X2), -1)
    reference = np.array(
        [[_mlp_ntk_backward_form(a, b, depth, sigma_w, sigma_b, 0.7) for b in flat2] for a in flat]
    )
    np.testing.assert_allclose(both.ntk, reference[..., 0], rtol=ORACLE_RTOL, atol=1e-14)
    np.testing.assert_allclose(both.nngp, reference[..., 1], rtol=ORACLE_RTOL, atol=1e-14)
    assert isinstance(both, rntk.KernelPair)
    np.testing.assert_array_equal(
        mlp_ntk(X, X2, depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, sigma_v=0.7), both.ntk
    )


@pytest.mark.parametrize("block_pairs", [1, 3 * 11, 5 * 11 + 4])
def test_mlp_ntk_in_blocks_of_rows_is_the_whole_matrix_bit_for_bit(monkeypatch, block_pairs):
    # A cross Gram matrix is computed in blocks of rows to bound memory: blocks of
    # one row, of several rows and a last block shorter than the others.
    rng = np.random.default_rng(8)
    X, X2 = rng.standard_normal((17, 6)), rng.standard_normal((11, 6))
    whole = mlp_ntk(X, X2, depth=3, sigma_b=0.4, get=("nngp", "ntk"))
    monkeypatch.setattr("rntk.baselines.MLP_BLOCK_PAIRS", block_pairs)
    blocks = mlp_ntk(X, X2, depth=3, sigma_b=0.4, get=("nngp", "ntk"))
    np.testing.assert_array_equal(blocks.nngp, whole.nngp)
    np.testing.assert_array_equal(blocks.ntk, whole.ntk)
    reference = np.array(
        [[_mlp_ntk_backward_form(a, b, 3, np.sqrt(2), 0.4, 1.0)[0] for b in X2] for a in X]
    )
    np.testing.assert_allclose(blocks.ntk, reference, rtol=ORACLE_RTOL, atol=1e-14)


@pytest.mark.parametrize("block_pairs", [1, 3 * 17, 5 * 17 + 4])
def test_mlp_ntk_symmetric_in_blocks_of_rows_is_the_whole_matrix(monkeypatch, block_pairs):
    # The symmetric Gram's dual map and its averaging of the two halves, in blocks.
    X = np.random.default_rng(9).standard_normal((17, 6))
    whole = mlp_ntk(X, depth=3, sigma_b=0.4, get=("nngp", "ntk"))
    monkeypatch.setattr("rntk.baselines.MLP_BLOCK_PAIRS", block_pairs)
    blocks = mlp_ntk(X, depth=3, sigma_b=0.4, get=("nngp", "ntk"))
    np.testing.assert_array_equal(blocks.nngp, whole.nngp)
    np.testing.assert_array_equal(blocks.ntk, whole.ntk)
    np.testing.assert_array_equal(blocks.ntk, blocks.ntk.T)
    reference = np.array(
        [[_mlp_ntk_backward_form(a, b, 3, np.sqrt(2), 0.4, 1.0)[0] for b in X] for a in X]
    )
    np.testing.assert_allclose(blocks.ntk, reference, rtol=ORACLE_RTOL, atol=1e-14)


def test_mlp_ntk_symmetric_diagonal_is_exact():
    X = np.random.default_rng(3).standard_normal((5, 9))
    K = mlp_ntk(X, depth=3, sigma_w=1.1, sigma_b=0.3)
    reference = [_mlp_ntk_backward_form(x, x, 3, 1.1, 0.3, 1.0)[0] for x in X]
    np.testing.assert_allclose(np.diag(K), reference, rtol=1e-14)
    np.testing.assert_array_equal(K, K.T)
    assert np.all(np.linalg.eigvalsh(K) > 0)


@pytest.mark.parametrize("depth", [1, 3])
def test_mlp_ntk_is_the_single_step_rntk(depth):
    X = np.random.default_rng(4).standard_normal((6, 1, 4))
    expected = rntk.kernel(
        X,
        depth=depth,
        sigma_w=0.9,
        sigma_u=1.2,
        sigma_b=0.4,
        sigma_h=0.0,
        sigma_v=1.5,
        get=("nngp", "ntk"),
    )
    actual = mlp_ntk(X, depth=depth, sigma_w=1.2, sigma_b=0.4, sigma_v=1.5, get=("nngp", "ntk"))
    np.testing.assert_allclose(actual.ntk, expected.ntk, rtol=1e-12)
    np.testing.assert_allclose(actual.nngp, expected.nngp, rtol=1e-12)


def _finite_mlp_kernels(vectors, depth, width, sigma_w, sigma_b, sigma_v, rng):
    """Empirical NTK (sum over all parameters of gradient products) and output-layer NNGP
    estimate of one random ReLU network, by explicit back-propagation."""
    relu_inputs, layer_inputs = [], [vectors]
    weights = []
    for _ in range(depth):
        fan_in = layer_inputs[-1].shape[1]
        weight = rng.standard_normal((width, fan_in))
        bias = rng.standard_normal(width)
        relu_inputs.append(sigma_w / np.sqrt(fan_in) * layer_inputs[-1] @ weight.T + sigma_b * bias)
        layer_inputs.append(np.maximum(relu_inputs[-1], 0.0))
        weights.append(weight)
    readout = rng.standard_normal(width)
    nngp = sigma_v**2 / width * layer_inputs[-1] @ layer_inputs[-1].T
    ntk = nngp.copy()
    # gradient of f with respect to each layer's pre-activations
    gradient = sigma_v / np.sqrt(width) * readout * (relu_inputs[-1] > 0)
    for layer in range(depth - 1, -1, -1):
        below = layer_inputs[layer]
        input_products = sigma_w**2 / below.shape[1] * below @ below.T + sigma_b**2
        ntk += (gradient @ gradient.T) * input_products
        if layer > 0:
            gradient = sigma_w / np.sqrt(width) * (gradient @ weights[layer])
            gradient *= relu_inputs[layer - 1] > 0
    return ntk, nngp


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_mlp_ntk_matches_wide_finite_networks(depth):
    X = np.random.default_rng(5).standard_normal((6, 4, 2))
    params = dict(depth=depth, sigma_w=1.3, sigma_b=0.6, sigma_v=1.1)
    expected = mlp_ntk(X, **params, get=("nngp", "ntk"))
    draws = [
        _finite_mlp_kernels(X.reshape(6, -1), width=2048, rng=np.random.default_rng(seed), **params)
        for seed in range(4)
    ]
    ntk, nngp = (np.mean(values, axis=0) for values in zip(*draws, strict=True))
    assert relative_frobenius_error(ntk, expected.ntk) < FINITE_WIDTH_RELATIVE_ERROR
    assert relative_frobenius_error(nngp, expected.nngp) < FINITE_WIDTH_RELATIVE_ERROR


def _unit_scale_inputs():
    return np.random.default_rng(7).standard_normal((3, 4))


@pytest.mark.parametrize(
    ("call", "phrases"),
    [
        # squared norms beyond float64: inf on the diagonal, inf - inf elsewhere
        pytest.param(
            lambda X: mlp_ntk(X * 1e200), ["mlp_ntk", "scale the inputs"], id="mlp-inputs"
        ),
        pytest.param(
            lambda X: mlp_ntk(X, X * 1e200, get="nngp"),
            ["mlp_ntk", "scale the inputs"],
            id="mlp-cross-inputs",
        ),
        # unit-scale inputs whose variance grows through the layers
        pytest.param(
            lambda X: mlp_ntk(X, depth=3, sigma_w=1e100), ["mlp_ntk", "sigma_w"], id="mlp-layers"
        ),
        pytest.param(
            lambda X: mlp_ntk(10 * X, sigma_v=1e154), ["mlp_ntk", "sigma_v"], id="mlp-readout"
        ),
        # a scale whose square is beyond float64 (was a bare Python OverflowError)
        pytest.param(
            lambda X: mlp_ntk(X, sigma_w=1e160), ["mlp_ntk", "sigma_w"], id="mlp-parameter"
        ),
        pytest.param(
            lambda X: polynomial_kernel(3.0 + X, degree=400),
            ["polynomial_kernel", "degree"],
            id="polynomial-degree",
        ),
        pytest.param(
            lambda X: polynomial_kernel(X * 1e200),
            ["polynomial_kernel", "scale the inputs"],
            id="polynomial-inputs",
        ),
        # inf - inf inside the inner product
        pytest.param(
            lambda X: polynomial_kernel(np.array([[1e200, -1e200], [1e200, 1e200]]), degree=1),
            ["polynomial_kernel", "scale the inputs"],
            id="polynomial-cancelling-inputs",
        ),
        pytest.param(lambda X: rbf_kernel(X * 1e200), ["rbf_kernel", "gamma"], id="rbf-inputs"),
        pytest.param(
            lambda X: rbf_kernel(X, X * 1e160), ["rbf_kernel", "gamma"], id="rbf-cross-inputs"
        ),
        # masked: the infinite squared norm becomes exp(-inf) = 0, finite but wrong
        # (the squared distance is 1e320 and gamma times it 0.5)
        pytest.param(
            lambda X: rbf_kernel(np.array([[1e160, 0.0], [0.0, 0.0]]), gamma=5e-321),
            ["rbf_kernel", "gamma"],
            id="rbf-masked",
        ),
    ],
)
def test_overflow_raises_naming_the_kernel_and_a_remedy(call, phrases):
    with pytest.raises(rntk.KernelOverflowError) as excinfo:
        call(_unit_scale_inputs())
    assert isinstance(excinfo.value, FloatingPointError)
    message = str(excinfo.value)
    assert "float64" in message
    for phrase in phrases:
        assert phrase in message


@pytest.mark.parametrize("cross", [False, True])
def test_tiny_inputs_give_finite_kernels_of_the_right_scale(cross):
    X = _unit_scale_inputs()
    both = (lambda A: (A, A)) if cross else (lambda A: (A,))
    # Without biases the MLP NTK is homogeneous of degree 2 in the inputs; a power
    # of 2 scales every intermediate value exactly.
    expected = mlp_ntk(*both(X), depth=2, sigma_b=0.0)
    np.testing.assert_allclose(
        mlp_ntk(*both(X * 2.0**-500), depth=2, sigma_b=0.0), 2.0**-1000 * expected, rtol=1e-15
    )
    # Squared norms that underflow to 0 (zero variance, 0/0 correlation): 0, not NaN.
    np.testing.assert_array_equal(mlp_ntk(*both(X * 1e-200), depth=2, sigma_b=0.0), 0.0)
    np.testing.assert_allclose(mlp_ntk(*both(X * 1e-200)), mlp_ntk(*both(0.0 * X)), rtol=1e-15)
    np.testing.assert_array_equal(rbf_kernel(*both(X * 1e-200)), 1.0)
    np.testing.assert_array_equal(polynomial_kernel(*both(X * 1e-200), degree=400), 1.0)


def test_median_squared_distance_is_the_median_over_distinct_pairs(sequences):
    distance = pytest.importorskip("scipy.spatial.distance")
    X, _ = sequences
    expected = float(np.median(distance.pdist(X.reshape(len(X), -1), "sqeuclidean")))
    assert median_squared_distance(X) == pytest.approx(expected, rel=1e-12)
    assert median_squared_distance(list(X)) == median_squared_distance(X)
    # Most pairs equal: the median is 0, replaced by 1 so that it can divide.
    assert median_squared_distance(np.zeros((3, 4))) == 1.0
    with pytest.raises(ValueError, match="at least two sequences"):
        median_squared_distance(X[:1])
