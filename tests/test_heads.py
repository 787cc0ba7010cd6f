"""The read-out heads of the limit kernel against independent references.

The expected values never come from the head sweep under test:

- the per-pair oracle of ``tests/reference.py``, which builds the mean head
  from the last-step kernel by the prefix identity (rntk.heads) and the
  bidirectional head by reversing the sequences;
- the prefix identity again, but fed with the library's own last-step kernel
  (itself checked against the oracle in ``test_kernel.py``);
- the explicit sum of a forward and a reversed kernel;
- a wide random network with a pooled read-out (the model itself, which pins
  the oracle's read steps and boundary rules);
- identities every head must keep: symmetry, positive semi-definiteness, the
  exact self-kernel of identical sequences, blocking and threads.

Every head includes a read rule the library does not have (exponentially
weighted pooling, ``tests/helpers.py``), passed as ``readout``: the recursion,
the scheduler and the sensitivity take the read cells, their weights and the
cost from the rule alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference
from helpers import (
    ORACLE_RTOL,
    REGROUPING_RTOL,
    ExponentialPool,
    assert_relative_close,
    random_hyperparameters,
    random_sequences,
)
from scipy import special

import rntk

ACTIVATIONS = ["relu", "erf"]
NAMES = ("nngp", "ntk")

#: Every head the library offers beyond the plain last step.
HEADS = {
    "last-bidirectional": {"readout": "last", "bidirectional": True},
    "mean": {"readout": "mean"},
    "mean-stride-2": {"readout": "mean", "pool_stride": 2},
    "mean-bidirectional": {"readout": "mean", "bidirectional": True},
    "mean-stride-3-bidirectional": {"readout": "mean", "pool_stride": 3, "bidirectional": True},
    "exponential": {"readout": ExponentialPool(0.6)},
    "exponential-growing-bidirectional": {"readout": ExponentialPool(1.4), "bidirectional": True},
}
EVERY_HEAD = pytest.mark.parametrize("head", list(HEADS.values()), ids=list(HEADS))

DEPTH_TWO = {
    "depth": 2,
    "sigma_w": [1.3, 0.8],
    "sigma_u": [1.2, 0.9],
    "sigma_b": [0.3, 0.2],
    "sigma_h": [0.5, 0.7],
    "sigma_v": 1.5,
}


def small_case(seed: int, n_features: int = 2):
    """A handful of short sequences of unequal (and some equal) lengths, for the oracle."""
    rng = np.random.default_rng(seed)
    X = random_sequences(rng, [4, 2, 5, 4, 1], n_features)
    X2 = random_sequences(rng, [3, 5, 1], n_features)
    return X, X2


def reversed_in_time(sequences):
    return [np.asarray(x)[::-1] for x in sequences]


def prefix_average(last_step_grams, X, X2, pool_stride: int):
    """The mean head by the prefix identity, from any last-step ``(nngp, ntk)`` Gram function.

    A sequence of length ``T`` reads the prefixes ``x[:t]`` with ``T - t`` a
    multiple of ``pool_stride``; every Gram entry of the prefixes is weighed by
    ``1 / (|R_x| |R_y|)``, which is a product of two averaging matrices.
    """

    def prefixes(sequences):
        pieces, averaging_rows = [], []
        for i, x in enumerate(sequences):
            read = [t for t in range(1, len(x) + 1) if (len(x) - t) % pool_stride == 0]
            pieces += [x[:t] for t in read]
            averaging_rows += [(i, len(read))] * len(read)
        averaging = np.zeros((len(sequences), len(pieces)))
        for column, (i, count) in enumerate(averaging_rows):
            averaging[i, column] = 1.0 / count
        return pieces, averaging

    row_pieces, row_averaging = prefixes(X)
    if X2 is None:
        column_pieces, column_averaging = None, row_averaging
    else:
        column_pieces, column_averaging = prefixes(X2)
    return tuple(
        row_averaging @ np.asarray(gram) @ column_averaging.T
        for gram in last_step_grams(row_pieces, column_pieces)
    )


# --- the oracle's heads on their own (these need only tests/reference.py) --------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_oracle_mean_head_with_a_long_stride_is_its_last_head(activation):
    X, X2 = small_case(1)
    params = {"activation": activation, **DEPTH_TWO}
    for columns in (None, X2):
        last = reference.grams(X, columns, **params)
        for stride in (5, 9):  # the longest length, and beyond it
            mean = reference.grams(X, columns, readout="mean", pool_stride=stride, **params)
            for got, expected in zip(mean, last, strict=True):
                np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("pool_stride", [1, 2, 3])
def test_oracle_mean_head_is_the_prefix_average_of_its_last_head(activation, pool_stride):
    """Two codings of the read steps (per pair in the oracle, by averaging matrices
    here) and of the ``same`` rule (prefixes of one sequence)."""
    X, X2 = small_case(2)
    params = {"activation": activation, **DEPTH_TWO}
    for columns in (None, X2):
        expected = prefix_average(
            lambda rows, cols: reference.grams(rows, cols, **params), X, columns, pool_stride
        )
        got = reference.grams(X, columns, readout="mean", pool_stride=pool_stride, **params)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


@pytest.mark.parametrize("readout", ["last", "mean"])
def test_oracle_bidirectional_head_of_palindromes_is_twice_the_forward_head(readout):
    """Palindromic in time but not across features: reversing the wrong axis
    would change the kernel."""
    rng = np.random.default_rng(3)
    halves = random_sequences(rng, [2, 3, 1], 3)
    palindromes = [np.concatenate([h, h[::-1]]) for h in halves]
    palindromes += [np.concatenate([h, rng.standard_normal((1, 3)), h[::-1]]) for h in halves]
    forward = reference.grams(palindromes, readout=readout, sigma_h=0.4, activation="erf")
    both = reference.grams(
        palindromes, readout=readout, bidirectional=True, sigma_h=0.4, activation="erf"
    )
    for got, single in zip(both, forward, strict=True):
        np.testing.assert_array_equal(got, 2 * single)


def _wide_network_kernels(X, read_weights, activation, sw, su, sb, sh, sv, width, seed):
    """Empirical NNGP and NTK of a random depth-one RNN that reads a weighted sum of states.

    ``f(x) = sv / sqrt(N) v . sum_t w_t h_t`` with tied ``W, U, b``, a fixed shared
    ``h0 ~ N(0, sh^2 I)`` and ``w_t = read_weights[i][t]``. Back-propagation
    ``d_t = df/dg_t = (sv / sqrt(N) w_t v + sw / sqrt(N) W^T d_{t+1}) * phi'(g_t)``;
    summing the gradients of all steps, the NTK is
    ``sum_{t,s} (d_t . d'_s) (sw^2 h_{t-1}.h'_{s-1} / N + su^2 x_t.x'_s / m + sb^2)``
    plus the read-out term, which is the NNGP.
    """
    phi, phi_derivative = {
        "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
        "erf": (special.erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z * z)),
    }[activation]
    rng = np.random.default_rng(seed)
    n_features = X[0].shape[1]
    W = rng.standard_normal((width, width))
    U = rng.standard_normal((width, n_features))
    b = rng.standard_normal(width)
    h0 = sh * rng.standard_normal(width)
    v = rng.standard_normal(width)

    runs = []
    for x, weights in zip(X, read_weights, strict=True):
        states, pre_activations = [h0], []
        for step in x:
            g = (
                sw * (W @ states[-1]) / np.sqrt(width)
                + su * (U @ step) / np.sqrt(n_features)
                + sb * b
            )
            pre_activations.append(g)
            states.append(phi(g))
        backward = [None] * len(x)
        from_later = np.zeros(width)
        for t in range(len(x) - 1, -1, -1):
            back = sv / np.sqrt(width) * weights[t] * v + from_later
            backward[t] = back * phi_derivative(pre_activations[t])
            from_later = sw * (W.T @ backward[t]) / np.sqrt(width)
        read_out = np.asarray(weights) @ np.array(states[1:])
        runs.append((x, np.array(states[:-1]), np.array(backward), read_out))

    n = len(X)
    nngp, ntk = np.zeros((n, n)), np.zeros((n, n))
    for i, (x, previous, backward, read_out) in enumerate(runs):
        for j, (x2, previous2, backward2, read_out2) in enumerate(runs):
            nngp[i, j] = sv**2 * (read_out @ read_out2) / width
            inputs = sw**2 * (previous @ previous2.T) / width + su**2 * (x @ x2.T) / n_features
            ntk[i, j] = nngp[i, j] + np.sum((backward @ backward2.T) * (inputs + sb**2))
    return nngp, ntk


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("pool_stride", [1, 2])
def test_a_wide_network_with_a_pooled_read_out_agrees_with_the_oracle(activation, pool_stride):
    """The oracle's mean head is the model: states read every ``pool_stride`` steps
    counted back from the last, prefixes that start apart meet ``h0`` with
    covariance 0. Finite width leaves fluctuations of a few percent."""
    rng = np.random.default_rng(4)
    X = random_sequences(rng, [3, 2, 1, 4], 2)
    hyper = {"sw": 1.2, "su": 1.0, "sb": 0.3, "sh": 1.0, "sv": 1.0}
    read_weights = []
    for x in X:
        read = np.zeros(len(x))
        read[len(x) - 1 :: -pool_stride] = 1.0
        read_weights.append(read / read.sum())
    limit = reference.grams(
        X,
        readout="mean",
        pool_stride=pool_stride,
        activation=activation,
        sigma_w=hyper["sw"],
        sigma_u=hyper["su"],
        sigma_b=hyper["sb"],
        sigma_h=hyper["sh"],
        sigma_v=hyper["sv"],
    )
    networks = [
        _wide_network_kernels(X, read_weights, activation, **hyper, width=2000, seed=seed)
        for seed in range(2)
    ]
    for index, expected in enumerate(limit):
        finite = np.mean([kernels[index] for kernels in networks], axis=0)
        scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
        error = np.max(np.abs(finite - expected) / scale)
        assert error <= 0.1, (NAMES[index], error, finite, expected)


# --- a read rule of the tests' own (tests/helpers.py) -----------------------------


def weighted_prefix_grams(X, X2, weights_of, **params):
    """Any weighted pooling head by the prefix identity, from the oracle's last step.

    ``weights_of(T)[t - 1]`` weighs the state at step ``t`` of a sequence of
    length ``T``, i.e. the last state of the prefix ``x[:t]``; a Gram entry is
    the weighted sum of the last-step kernels of every pair of prefixes.
    """

    def prefixes(sequences):
        pieces, weights = [], []
        for x in sequences:
            pieces += [x[:t] for t in range(1, len(x) + 1)]
            weights.append(weights_of(len(x)))
        mixing = np.zeros((len(sequences), len(pieces)))
        start = 0
        for i, w in enumerate(weights):
            mixing[i, start : start + len(w)] = w
            start += len(w)
        return pieces, mixing

    row_pieces, row_mixing = prefixes(X)
    column_pieces, column_mixing = (None, row_mixing) if X2 is None else prefixes(X2)
    return tuple(
        row_mixing @ gram @ column_mixing.T
        for gram in reference.grams(row_pieces, column_pieces, **params)
    )


def exponential_weights(decay: float):
    def weights_of(length):
        weights = decay ** (length - np.arange(1.0, length + 1))
        return weights / weights.sum()

    return weights_of


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("decay", [0.5, 1.3])
def test_a_read_rule_of_the_tests_own_matches_the_weighted_prefix_oracle(activation, decay):
    """Per-pair last-step kernels of prefixes, weighted here (not by the rule's
    code in the oracle nor in the library)."""
    X, X2 = small_case(150)
    params = {"activation": activation, **DEPTH_TWO}
    for columns in (None, X2):
        got = rntk.kernel(X, columns, readout=ExponentialPool(decay), get=NAMES, **params)
        expected = weighted_prefix_grams(X, columns, exponential_weights(decay), **params)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_read_rule_on_the_last_step_or_on_every_step_is_the_last_or_mean_head(
    activation, bidirectional
):
    """decay 0 puts all the weight on the last step, decay 1 spreads it evenly:
    the same profiles as the built-in heads, so the same numbers bit for bit."""
    X, X2 = small_case(160)
    params = {"activation": activation, "get": NAMES, "bidirectional": bidirectional, **DEPTH_TWO}
    for decay, builtin in ((0.0, "last"), (1.0, "mean")):
        for columns in (None, X2):
            got = rntk.kernel(X, columns, readout=ExponentialPool(decay), **params)
            expected = rntk.kernel(X, columns, readout=builtin, **params)
            for value, expected_value in zip(got, expected, strict=True):
                np.testing.assert_array_equal(value, expected_value)
        got = rntk.RNTK(readout=ExponentialPool(decay), **params).diag(X)
        expected = rntk.RNTK(readout=builtin, **params).diag(X)
        for name in NAMES:
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_wide_network_reading_exponential_weights_agrees_with_the_read_rule(activation):
    rng = np.random.default_rng(170)
    X = random_sequences(rng, [3, 2, 1, 4], 2)
    hyper = {"sw": 1.2, "su": 1.0, "sb": 0.3, "sh": 1.0, "sv": 1.0}
    weights_of = exponential_weights(0.5)
    limit = rntk.kernel(
        X,
        readout=ExponentialPool(0.5),
        get=NAMES,
        activation=activation,
        sigma_w=hyper["sw"],
        sigma_u=hyper["su"],
        sigma_b=hyper["sb"],
        sigma_h=hyper["sh"],
        sigma_v=hyper["sv"],
    )
    read_weights = [weights_of(len(x)) for x in X]
    networks = [
        _wide_network_kernels(X, read_weights, activation, **hyper, width=2000, seed=seed)
        for seed in range(2)
    ]
    for index, name in enumerate(NAMES):
        expected = getattr(limit, name)
        finite = np.mean([kernels[index] for kernels in networks], axis=0)
        scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
        error = np.max(np.abs(finite - expected) / scale)
        assert error <= 0.1, (name, error, finite, expected)


def test_a_read_rule_is_a_parameter_like_the_named_read_outs():
    X, _ = small_case(180)
    rule = ExponentialPool(0.8)
    model = rntk.RNTK(readout=rule, bidirectional=True)
    assert model.readout == rule and model.head.rule is rule
    assert "ExponentialPool(decay=0.8)" in repr(model)
    np.testing.assert_array_equal(model(X), rntk.kernel(X, readout=rule, bidirectional=True))
    with pytest.raises(ValueError, match="pool_stride"):
        rntk.RNTK(readout=rule, pool_stride=2)(X)


# --- the library's heads against the oracle ------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("per_layer", [False, True])
def test_mean_head_matches_the_oracle(activation, depth, per_layer):
    rng = np.random.default_rng(10 * depth + per_layer)
    X, X2 = small_case(5 + depth)
    equal = random_sequences(rng, [4, 4, 4], 2)
    params = {"activation": activation, **random_hyperparameters(rng, depth, per_layer)}
    for rows, columns in ((X, None), (X, X2), (equal, None), (equal, X2[:1])):
        got = rntk.kernel(rows, columns, readout="mean", get=NAMES, **params)
        expected = reference.grams(rows, columns, readout="mean", **params)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("pool_stride", [2, 3])
def test_strided_mean_head_matches_the_oracle(activation, pool_stride):
    """Lengths that are not multiples of the stride, and lengths below it."""
    rng = np.random.default_rng(20 + pool_stride)
    X = random_sequences(rng, [5, 7, 2, 4, 1], 2)
    X2 = random_sequences(rng, [6, 1, 3], 2)
    params = {"activation": activation, **DEPTH_TWO}
    for columns in (None, X2):
        got = rntk.kernel(X, columns, readout="mean", pool_stride=pool_stride, get=NAMES, **params)
        expected = reference.grams(X, columns, readout="mean", pool_stride=pool_stride, **params)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("readout", ["last", "mean"])
def test_bidirectional_head_matches_the_oracle(activation, readout):
    X, X2 = small_case(30)
    params = {"activation": activation, **DEPTH_TWO}
    for columns in (None, X2):
        got = rntk.kernel(X, columns, readout=readout, bidirectional=True, get=NAMES, **params)
        expected = reference.grams(X, columns, readout=readout, bidirectional=True, **params)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


# --- the library's heads against its own last-step kernel ------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("pool_stride", [1, 3])
def test_mean_head_is_the_prefix_average_of_the_last_step_kernel(activation, pool_stride):
    """Longer sequences than the oracle can afford; depth 2, unequal lengths."""
    rng = np.random.default_rng(40 + pool_stride)
    X = random_sequences(rng, [9, 4, 12, 1, 7, 9], 2)
    X2 = random_sequences(rng, [6, 11, 3], 2)
    params = {"activation": activation, **DEPTH_TWO}

    def last_step_grams(rows, columns):
        return rntk.kernel(rows, columns, get=NAMES, **params)

    for columns in (None, X2):
        got = rntk.kernel(X, columns, readout="mean", pool_stride=pool_stride, get=NAMES, **params)
        expected = prefix_average(last_step_grams, X, columns, pool_stride)
        for value, expected_value in zip(got, expected, strict=True):
            assert_relative_close(value, expected_value, ORACLE_RTOL)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    "head", [{"readout": "last"}, {"readout": "mean"}, {"readout": "mean", "pool_stride": 2}]
)
def test_bidirectional_head_is_the_forward_plus_the_reversed_kernel(activation, head):
    rng = np.random.default_rng(50)
    X = random_sequences(rng, [6, 3, 8, 6, 1], 2)
    X2 = random_sequences(rng, [5, 2, 7], 2)
    params = {"activation": activation, "get": NAMES, **DEPTH_TWO, **head}
    for columns in (None, X2):
        got = rntk.kernel(X, columns, bidirectional=True, **params)
        forward = rntk.kernel(X, columns, **params)
        backward = rntk.kernel(
            reversed_in_time(X), None if columns is None else reversed_in_time(columns), **params
        )
        for value, forward_value, backward_value in zip(got, forward, backward, strict=True):
            assert_relative_close(value, forward_value + backward_value, REGROUPING_RTOL)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_mean_head_with_a_stride_past_the_longest_length_is_the_last_head(bidirectional):
    """Only the last state is read (the first one for the reversed stack)."""
    X, X2 = small_case(60)
    params = {"activation": "erf", "get": NAMES, "bidirectional": bidirectional, **DEPTH_TWO}
    for columns in (None, X2):
        last = rntk.kernel(X, columns, readout="last", **params)
        for stride in (5, 6, 100):
            mean = rntk.kernel(X, columns, readout="mean", pool_stride=stride, **params)
            for value, expected in zip(mean, last, strict=True):
                assert_relative_close(value, expected, REGROUPING_RTOL)


@EVERY_HEAD
def test_sequences_of_length_one(head):
    """One state to read: the mean head is the last head, and the reversed
    sequence is the sequence, so the bidirectional head doubles it."""
    rng = np.random.default_rng(70)
    X = random_sequences(rng, [1, 1, 1, 1], 3)
    X2 = random_sequences(rng, [1, 1], 3)
    params = {"activation": "relu", "get": NAMES, **DEPTH_TWO}
    factor = 2.0 if head.get("bidirectional") else 1.0
    for columns in (None, X2):
        got = rntk.kernel(X, columns, **head, **params)
        last = rntk.kernel(X, columns, **params)
        for value, expected in zip(got, last, strict=True):
            assert_relative_close(value, factor * expected, REGROUPING_RTOL)
    mixed = [X[0], *random_sequences(rng, [3, 1], 3)]
    got = rntk.kernel(mixed, X2, **head, **params)
    expected = reference.grams(mixed, X2, **head, **DEPTH_TWO)
    for value, expected_value in zip(got, expected, strict=True):
        assert_relative_close(value, expected_value, ORACLE_RTOL)


# --- blocks, threads, options -------------------------------------------------------


@EVERY_HEAD
@pytest.mark.parametrize("symmetric", [True, False])
def test_many_sequences_in_small_blocks_match_the_oracle(head, symmetric):
    rng = np.random.default_rng(80 + symmetric)
    X = random_sequences(rng, [3, 1, 5, 2, 3, 4, 1, 5, 2, 4, 3], 2)
    X2 = None if symmetric else random_sequences(rng, [2, 5, 1, 3, 4, 2], 2)
    params = {"activation": "erf", **head, **DEPTH_TWO}
    serial = rntk.kernel(X, X2, get=NAMES, block_size=(3, 4), n_jobs=1, **params)
    parallel = rntk.kernel(X, X2, get=NAMES, block_size=(3, 4), n_jobs=2, **params)
    one_block = rntk.kernel(X, X2, get=NAMES, **params)
    expected = reference.grams(X, X2, **params)
    for name, value, expected_value in zip(NAMES, serial, expected, strict=True):
        np.testing.assert_array_equal(getattr(parallel, name), value)
        assert_relative_close(value, getattr(one_block, name), REGROUPING_RTOL)
        assert_relative_close(value, expected_value, ORACLE_RTOL)


@EVERY_HEAD
def test_swapping_the_arguments_transposes(head):
    rng = np.random.default_rng(90)
    X = random_sequences(rng, [6, 2, 7, 4], 2)
    X2 = random_sequences(rng, [5, 7, 1], 2)
    params = {"activation": "relu", "get": NAMES, **head, **DEPTH_TWO}
    both = rntk.kernel(X, X2, **params)
    swapped = rntk.kernel(X2, X, **params)
    for value, swapped_value in zip(both, swapped, strict=True):
        assert_relative_close(swapped_value.T, value, REGROUPING_RTOL)


@EVERY_HEAD
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_diag_is_the_diagonal_of_the_gram_and_of_identical_pairs(head, activation):
    """``diag`` is the exact self-kernel, and every pair of identical sequences
    (the Gram's diagonal, duplicates in X, a sequence shared by X and X2) gets
    that value bit for bit."""
    X, X2 = small_case(100)
    # Past the edge of chaos rounding near correlation 1 grows along time.
    params = {"activation": activation, **DEPTH_TWO, "sigma_w": [1.9, 1.6], **head}
    model = rntk.RNTK(get=NAMES, **params)
    diagonal = model.diag(X)
    gram = model(X)
    duplicated = model([X[0], X[1], X[0].copy()])
    shared = model(X, [X2[0], X[2].copy()])
    expected = reference.grams(X, **params)
    for name, expected_value in zip(NAMES, expected, strict=True):
        values = getattr(diagonal, name)
        assert values.shape == (len(X),)
        np.testing.assert_array_equal(np.diag(getattr(gram, name)), values)
        np.testing.assert_array_equal(getattr(duplicated, name)[np.ix_([0, 2], [0, 2])], values[0])
        assert getattr(shared, name)[2, 1] == values[2]
        assert_relative_close(values, np.diag(expected_value), ORACLE_RTOL, floor=0)
        assert_relative_close(getattr(gram, name), expected_value, ORACLE_RTOL)
    single = rntk.RNTK(get="ntk", **params).diag(X)
    np.testing.assert_array_equal(single, diagonal.ntk)


@EVERY_HEAD
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_symmetric_gram_is_exactly_symmetric_and_positive_semidefinite(head, activation):
    rng = np.random.default_rng(110)
    X = random_sequences(rng, [9, 1, 4, 11, 3, 7, 7, 2, 10, 5, 6, 8, 1, 3], 2)
    both = rntk.kernel(
        X, activation=activation, get=NAMES, block_size=(3, 5), sigma_w=1.4, sigma_h=0.3, **head
    )
    for name in NAMES:
        K = getattr(both, name)
        np.testing.assert_array_equal(K, K.T)
        eigenvalues = np.linalg.eigvalsh(K)
        assert eigenvalues.min() >= -1e-12 * np.abs(eigenvalues).max(), (name, eigenvalues)


@EVERY_HEAD
def test_normalize_divides_by_the_head_diagonals(head):
    rng = np.random.default_rng(120)
    X = random_sequences(rng, [6, 2, 7, 4, 1], 2)
    X2 = random_sequences(rng, [5, 3], 2)
    params = {"activation": "erf", **head, **DEPTH_TWO}
    d, d2 = rntk.RNTK(**params).diag(X), rntk.RNTK(**params).diag(X2)
    normalized = rntk.kernel(X, normalize=True, **params)
    np.testing.assert_array_equal(normalized, normalized.T)
    np.testing.assert_allclose(np.diag(normalized), 1.0, rtol=0, atol=4e-16)
    assert_relative_close(
        normalized, rntk.kernel(X, **params) / np.sqrt(np.outer(d, d)), REGROUPING_RTOL
    )
    cross = rntk.kernel(X, X2, normalize=True, **params)
    expected_cross = rntk.kernel(X, X2, **params) / np.sqrt(np.outer(d, d2))
    assert_relative_close(cross, expected_cross, REGROUPING_RTOL)
    # diag gives the Gram matrix's diagonal as written: 1 up to rounding.
    np.testing.assert_array_equal(rntk.RNTK(normalize=True, **params).diag(X), np.diag(normalized))


@EVERY_HEAD
def test_asking_for_both_kernels_equals_separate_calls(head):
    X, X2 = small_case(130)
    for columns in (None, X2):
        both = rntk.kernel(X, columns, get=NAMES, **head)
        assert isinstance(both, rntk.KernelPair)
        for name in NAMES:
            alone = rntk.kernel(X, columns, get=name, **head)
            np.testing.assert_array_equal(getattr(both, name), alone)


def test_numpy_scalars_are_accepted_for_the_head_arguments():
    X, _ = small_case(140)
    expected = rntk.kernel(X, readout="mean", pool_stride=2, bidirectional=True)
    got = rntk.kernel(X, readout="mean", pool_stride=np.int64(2), bidirectional=np.True_)
    np.testing.assert_array_equal(got, expected)


# --- bad arguments, overflow ------------------------------------------------------

GOOD_X = [np.arange(3.0), np.ones(2)]


@pytest.mark.parametrize("pool_stride", [2, 5])
def test_a_stride_with_the_last_step_head_names_pool_stride(pool_stride):
    with pytest.raises(ValueError, match="pool_stride"):
        rntk.kernel(GOOD_X, readout="last", pool_stride=pool_stride)
    with pytest.raises(ValueError, match="pool_stride"):
        rntk.RNTK(readout="last", pool_stride=pool_stride)(GOOD_X)
    with pytest.raises(ValueError, match="pool_stride"):
        rntk.kernel(GOOD_X, pool_stride=pool_stride)  # readout defaults to "last"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("readout", "max"),
        ("readout", "Mean"),
        ("readout", ""),
        ("readout", None),
        ("bidirectional", "yes"),
        ("bidirectional", None),
        ("pool_stride", 0),
        ("pool_stride", -2),
        ("pool_stride", 1.5),
        ("pool_stride", True),
    ],
)
def test_bad_head_arguments_name_the_argument(name, value):
    arguments = {"readout": "mean", name: value}
    with pytest.raises((TypeError, ValueError), match=name):
        rntk.kernel(GOOD_X, **arguments)
    with pytest.raises((TypeError, ValueError), match=name):
        rntk.RNTK(**arguments)(GOOD_X)


@pytest.mark.parametrize(
    "head", [HEADS["mean"], HEADS["mean-stride-2"], HEADS["mean-bidirectional"]]
)
def test_growing_relu_mean_head_raises_overflow_naming_sigma_w(head):
    """(sigma_w^2 / 2)^T passes the float64 range near T = 470 for sigma_w = 3."""
    rng = np.random.default_rng(150)
    X = [rng.standard_normal(600), rng.standard_normal(520)]
    with pytest.raises(rntk.KernelOverflowError, match="sigma_w"):
        rntk.kernel(X, sigma_w=3.0, **head)
    with pytest.raises(rntk.KernelOverflowError, match="sigma_w"):
        rntk.kernel(X, [rng.standard_normal(550)], sigma_w=3.0, **head)
    with pytest.raises(rntk.KernelOverflowError, match="sigma_w"):
        rntk.RNTK(sigma_w=3.0, **head).diag(X)
    # Short enough sequences with the same sigma_w are fine: the error is about length.
    short = [x[:12] for x in X]
    K = rntk.kernel(short, sigma_w=3.0, **head)
    assert np.isfinite(K).all()
    assert_relative_close(K, reference.gram(short, sigma_w=3.0, **head), ORACLE_RTOL)
