"""The finite RNN: back-propagation, the factorised empirical NTK, and its limit."""

import numpy as np
import pytest
from helpers import ExponentialPool

import rntk
from rntk.network import RNN

JACOBIAN_TOLERANCE = 1e-10
FINITE_DIFFERENCE_TOLERANCE = 1e-6


def relative_error(estimate, reference):
    return np.linalg.norm(estimate - reference) / np.linalg.norm(reference)


def jacobian(net, X):
    """The explicit ``n x P`` Jacobian, assembled from :meth:`RNN.grad`."""
    gradients = net.grad(X)
    n = next(iter(gradients.values())).shape[0]
    return np.concatenate([g.reshape(n, -1) for g in gradients.values()], axis=1)


def unequal_sequences(rng, lengths=(4, 2, 3, 1), n_features=2):
    return [rng.standard_normal((length, n_features)) for length in lengths]


def reversed_sequences(X):
    return [x[::-1] for x in X]


def read_prefixes(X, pool_stride=1):
    """The prefixes the mean head reads, and the ``(n, n_prefixes)`` matrix averaging them.

    Sequence ``i`` contributes its prefixes ``x[:T], x[:T - k], ...`` (``k = pool_stride``),
    each with weight ``1 / count``: by the prefix identity the mean head's output,
    gradients and kernels are these averages of the last-step head's on the prefixes.
    """
    prefixes, blocks = [], []
    for x in X:
        ends = range(len(x), 0, -pool_stride)
        blocks.append((len(prefixes), len(ends)))
        prefixes += [x[:end] for end in ends]
    average = np.zeros((len(X), len(prefixes)))
    for i, (start, count) in enumerate(blocks):
        average[i, start : start + count] = 1.0 / count
    return prefixes, average


def central_differences(net, X, eps=1e-6):
    """``d f(x_i) / d theta`` for every parameter, by central differences."""
    gradients = {}
    for name, param in net.params.items():
        gradient = np.empty((len(X), *param.shape))
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + eps
            forward = net(X)
            param[index] = original - eps
            backward = net(X)
            param[index] = original
            gradient[(slice(None), *index)] = (forward - backward) / (2 * eps)
        gradients[name] = gradient
    return gradients


# ---------------------------------------------------------------- back-propagation


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
def test_grad_matches_central_differences(activation, tied):
    rng = np.random.default_rng(0)
    X = unequal_sequences(rng)
    net = RNN(
        4, depth=2, activation=activation, sigma_h=0.7, sigma_b=0.3, tied=tied, max_length=5, seed=1
    )
    analytic = net.grad(X)
    numeric = central_differences(net, X)
    assert list(analytic) == list(net.params) == ["W1", "U1", "b1", "W2", "U2", "b2", "v"]
    for name, param in net.params.items():
        assert analytic[name].shape == (len(X), *param.shape)
    flat_analytic = np.concatenate([g.ravel() for g in analytic.values()])
    flat_numeric = np.concatenate([g.ravel() for g in numeric.values()])
    assert relative_error(flat_numeric, flat_analytic) <= FINITE_DIFFERENCE_TOLERANCE


def test_untied_gradient_is_zero_for_steps_a_sequence_does_not_reach():
    net = RNN(3, tied=False, max_length=4, seed=0)
    gradient = net.grad([np.ones(2), np.ones(4)])
    # Weights are indexed from the end: a 2-step sequence uses indices 0 and 1 only.
    assert np.all(gradient["W1"][0, 2:] == 0) and np.all(gradient["b1"][0, 2:] == 0)
    assert np.any(gradient["U1"][1, 3] != 0)


# ---------------------------------------------------------------- factorised NTK


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("lengths", [(3, 3, 3), (4, 1, 2)], ids=["equal", "unequal"])
@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
def test_ntk_equals_explicit_jacobian_product(depth, lengths, tied):
    rng = np.random.default_rng(depth)
    X = unequal_sequences(rng, lengths)
    X2 = unequal_sequences(rng, (2, 4))
    net = RNN(5, depth=depth, activation="erf", sigma_h=0.5, tied=tied, max_length=4, seed=2)
    J, J2 = jacobian(net, X), jacobian(net, X2)
    assert relative_error(net.ntk(X), J @ J.T) <= JACOBIAN_TOLERANCE
    assert relative_error(net.ntk(X, X2), J @ J2.T) <= JACOBIAN_TOLERANCE
    assert relative_error(net.ntk(X2, X), J2 @ J.T) <= JACOBIAN_TOLERANCE


def test_symmetric_ntk_is_exactly_symmetric_and_matches_cross_call():
    X = unequal_sequences(np.random.default_rng(3), (5, 2, 4, 3))
    net = RNN(16, depth=2, seed=4)
    gram = net.ntk(X)
    assert np.array_equal(gram, gram.T)
    np.testing.assert_allclose(gram, net.ntk(X, X), rtol=1e-12)


def test_nngp_is_the_readout_gradient_gram():
    rng = np.random.default_rng(5)
    X, X2 = unequal_sequences(rng), unequal_sequences(rng, (3, 5))
    net = RNN(7, depth=2, seed=6)
    readout, readout2 = net.grad(X)["v"], net.grad(X2)["v"]
    np.testing.assert_allclose(net.nngp(X, X2), readout @ readout2.T, rtol=1e-12)
    np.testing.assert_allclose(net(X), net.grad(X)["v"] @ net.params["v"], rtol=1e-12)


# ---------------------------------------------------------------- convergence to the limit


CONVERGENCE_WIDTHS = (64, 128, 256, 512, 1024, 2048)
CONVERGENCE_SEEDS = range(8)
# Gaussian univariate sequences, aligned at the end. The finite-width fluctuation
# grows with the number of steps (an effective depth): over five draws of the data
# the mean error at width 2048 was 1.4-5.5% with 1-2 steps and 3.0-6.2% with the
# 5 steps of Figure 2 (ReLU tied the worst), so the bound depends on the design.
# Eight networks per width keep the fitted slope within -0.45..-0.72 over those draws.
CONVERGENCE_DESIGNS = {
    "short": ((2, 2, 2, 2, 2, 1, 1, 1), 0.05),
    "figure2": ((5, 5, 5, 5, 5, 5, 4, 3), 0.10),
}


@pytest.mark.parametrize("design", sorted(CONVERGENCE_DESIGNS))
@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
def test_empirical_ntk_converges_to_the_limit(design, activation, tied):
    lengths, bound_at_widest = CONVERGENCE_DESIGNS[design]
    rng = np.random.default_rng(0)
    X = [rng.standard_normal(length) for length in lengths]
    # The bounds were calibrated with sigma_b = 0.1. A larger bias makes the
    # fluctuations of a finite network larger at every width (ReLU's default
    # sigma_b = 2: 11% at width 2048 on the figure-2 design, slope -0.54).
    limit = rntk.kernel(X, activation=activation, sigma_b=0.1)
    errors = [
        np.mean(
            [
                relative_error(
                    RNN(
                        width,
                        activation=activation,
                        tied=tied,
                        max_length=max(lengths),
                        seed=seed,
                        sigma_b=0.1,
                    ).ntk(X),
                    limit,
                )
                for seed in CONVERGENCE_SEEDS
            ]
        )
        for width in CONVERGENCE_WIDTHS
    ]
    # Fluctuations of a finite network are O(1 / sqrt(width)): slope -1/2.
    slope = np.polyfit(np.log(CONVERGENCE_WIDTHS), np.log(errors), 1)[0]
    assert -0.8 <= slope <= -0.3, (slope, errors)
    assert errors[-1] < bound_at_widest, errors


def test_deep_network_with_initial_state_converges_to_the_limit():
    # Unequal lengths with sigma_h > 0 exercise the boundary rule of docs/math.md#boundary-cases
    # (h0 is independent of a started sequence's state); depth 2 the layer coupling.
    rng = np.random.default_rng(8)
    X = unequal_sequences(rng, (5, 5, 3, 1))
    hyperparameters = dict(depth=2, sigma_w=1.3, sigma_b=0.3, sigma_h=0.8)
    limit = rntk.kernel(X, get=("nngp", "ntk"), **hyperparameters)
    nets = [RNN(2048, seed=seed, **hyperparameters) for seed in (0, 1, 2)]
    assert np.mean([relative_error(net.ntk(X), limit.ntk) for net in nets]) < 0.1
    assert np.mean([relative_error(net.nngp(X), limit.nngp) for net in nets]) < 0.1


# ---------------------------------------------------------------- read-out heads

# Every head other than the default, and the untied bidirectional network (the
# mean head refuses untied weights).
HEADS = {
    "mean": dict(readout="mean"),
    "mean-stride2": dict(readout="mean", pool_stride=2),
    "bi-last": dict(bidirectional=True),
    "bi-mean": dict(readout="mean", bidirectional=True),
    "bi-last-untied": dict(bidirectional=True, tied=False),
    "exponential": dict(readout=ExponentialPool(0.7)),
}
LAYER_NAMES = ["W1", "U1", "b1", "W2", "U2", "b2", "v"]


def limit_of_head(X, readout="last", bidirectional=False, pool_stride=1, **hyperparameters):
    """A head's infinite-width kernel from ``rntk.kernel``'s default last-step head alone.

    The mean head through the prefix identity (:func:`read_prefixes`), the
    bidirectional one as the kernel of ``X`` plus the kernel of ``X`` reversed.
    """

    def one_direction(sequences):
        if not isinstance(readout, str):
            # A read rule of the tests' own, checked against the oracle in test_heads.py.
            return rntk.kernel(sequences, readout=readout, **hyperparameters)
        if readout == "last":
            return rntk.kernel(sequences, **hyperparameters)
        prefixes, average = read_prefixes(sequences, pool_stride)
        return average @ rntk.kernel(prefixes, **hyperparameters) @ average.T

    limit = one_direction(X)
    if bidirectional:
        limit = limit + one_direction(reversed_sequences(X))
    return limit


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("head", sorted(HEADS))
def test_grad_of_every_head_matches_central_differences(head, activation):
    X = unequal_sequences(np.random.default_rng(13))
    net = RNN(
        3,
        depth=2,
        activation=activation,
        sigma_h=0.7,
        sigma_b=0.3,
        max_length=4,
        seed=1,
        **HEADS[head],
    )
    analytic = net.grad(X)
    numeric = central_differences(net, X)
    backward_names = [f"backward.{name}" for name in LAYER_NAMES]
    expected_names = LAYER_NAMES + (backward_names if net.head.bidirectional else [])
    assert list(analytic) == list(net.params) == expected_names
    scale = max(np.abs(g).max() for g in analytic.values())
    for name, param in net.params.items():
        assert analytic[name].shape == (len(X), *param.shape)
        np.testing.assert_allclose(
            analytic[name], numeric[name], rtol=0, atol=FINITE_DIFFERENCE_TOLERANCE * scale
        )


@pytest.mark.parametrize("head", sorted(HEADS))
def test_ntk_and_nngp_of_every_head_are_the_jacobian_and_read_out_products(head):
    rng = np.random.default_rng(14)
    X, X2 = unequal_sequences(rng, (4, 1, 2)), unequal_sequences(rng, (2, 4))
    net = RNN(
        5,
        depth=2,
        activation="erf",
        sigma_h=0.5,
        sigma_v=1.7,
        max_length=4,
        seed=2,
        **HEADS[head],
    )
    J, J2 = jacobian(net, X), jacobian(net, X2)
    assert relative_error(net.ntk(X), J @ J.T) <= JACOBIAN_TOLERANCE
    assert relative_error(net.ntk(X, X2), J @ J2.T) <= JACOBIAN_TOLERANCE
    # The gradient of each stack's v is sigma_v / sqrt(N) times the states it reads.
    gradients, gradients2 = net.grad(X), net.grad(X2)
    readouts = [name for name in ("v", "backward.v") if name in net.params]
    features = sum(gradients[name] @ gradients2[name].T for name in readouts)
    outputs = sum(gradients[name] @ net.params[name] for name in readouts)
    assert relative_error(net.nngp(X, X2), features) <= JACOBIAN_TOLERANCE
    assert relative_error(net(X), outputs) <= JACOBIAN_TOLERANCE


@pytest.mark.parametrize("pool_stride", [1, 2, 3])
def test_mean_head_averages_the_last_step_head_over_the_read_prefixes(pool_stride):
    # The finite-width prefix identity: with tied weights the state at step t is
    # the last state of the prefix x[:t], so a mean-head network and a last-step
    # network with the same parameters agree through the averaging matrix.
    rng = np.random.default_rng(15)
    X, X2 = unequal_sequences(rng, (5, 1, 3, 4)), unequal_sequences(rng, (2, 6))
    hyperparameters = dict(depth=2, activation="erf", sigma_h=0.6, sigma_b=0.3)
    mean = RNN(6, readout="mean", pool_stride=pool_stride, seed=3, **hyperparameters)
    last = RNN(6, seed=3, **hyperparameters)
    prefixes, average = read_prefixes(X, pool_stride)
    prefixes2, average2 = read_prefixes(X2, pool_stride)
    tolerance = 1e-12
    assert relative_error(mean(X), average @ last(prefixes)) <= tolerance
    for name, gradient in last.grad(prefixes).items():
        pooled = (average @ gradient.reshape(len(prefixes), -1)).reshape(len(X), -1)
        assert relative_error(mean.grad(X)[name].reshape(len(X), -1), pooled) <= tolerance
    for kernel in ("ntk", "nngp"):
        pooled = average @ getattr(last, kernel)(prefixes, prefixes2) @ average2.T
        assert relative_error(getattr(mean, kernel)(X, X2), pooled) <= tolerance


@pytest.mark.parametrize("readout", ["last", "mean"])
def test_bidirectional_network_is_a_forward_plus_a_backward_network(readout):
    rng = np.random.default_rng(16)
    X, X2 = unequal_sequences(rng, (4, 1, 3)), unequal_sequences(rng, (2, 5))
    hyperparameters = dict(depth=2, sigma_h=0.6, readout=readout)
    bi = RNN(6, bidirectional=True, seed=4, **hyperparameters)
    forward = RNN(6, seed=4, **hyperparameters)
    backward = RNN(6, seed=5, **hyperparameters)
    for net in (bi, forward, backward):
        net(X)
    # The forward stack draws what a unidirectional network of the same seed
    # draws; the backward stack draws independent parameters and h0 after it.
    for name, value in forward.params.items():
        np.testing.assert_array_equal(bi.params[name], value)
        assert not np.array_equal(bi.params[f"backward.{name}"], value)
        backward.params[name][...] = bi.params[f"backward.{name}"]
    for layer in range(2):
        np.testing.assert_array_equal(bi.initial_state[layer], forward.initial_state[layer])
        assert not np.array_equal(bi.backward_initial_state[layer], bi.initial_state[layer])
        backward.initial_state[layer][...] = bi.backward_initial_state[layer]

    reversed_X, reversed_X2 = reversed_sequences(X), reversed_sequences(X2)
    tolerance = 1e-12
    assert relative_error(bi(X), forward(X) + backward(reversed_X)) <= tolerance
    for kernel in ("ntk", "nngp"):
        pair = getattr(forward, kernel)(X, X2) + getattr(backward, kernel)(reversed_X, reversed_X2)
        assert relative_error(getattr(bi, kernel)(X, X2), pair) <= tolerance


def test_bidirectional_network_with_equal_stacks_reads_each_sequence_both_ways():
    bi = RNN(5, depth=2, bidirectional=True, sigma_h=0.5, n_features=2, seed=6)
    uni = RNN(5, depth=2, sigma_h=0.5, n_features=2, seed=6)
    for name in LAYER_NAMES:
        bi.params[f"backward.{name}"][...] = bi.params[name]
    for backward_state, forward_state in zip(
        bi.backward_initial_state, bi.initial_state, strict=True
    ):
        backward_state[...] = forward_state
    rng = np.random.default_rng(17)
    single_steps = unequal_sequences(rng, (1, 1, 1))
    np.testing.assert_allclose(bi(single_steps), 2 * uni(single_steps), rtol=1e-13)
    # Separate parameters: the two stacks' kernels add even when their values agree.
    np.testing.assert_allclose(bi.ntk(single_steps), 2 * uni.ntk(single_steps), rtol=1e-13)
    X = unequal_sequences(rng, (3, 1, 4))
    np.testing.assert_allclose(bi(X), uni(X) + uni(reversed_sequences(X)), rtol=1e-13)


HEAD_CONVERGENCE_WIDTHS = (64, 128, 256, 512, 1024)
HEAD_CONVERGENCE_SEEDS = range(6)
# Short sequences of unequal length keep the prefix kernels cheap. Over five draws
# of the data every case below had a fitted slope in -0.42..-0.68, and the kernel
# averaged over the six networks of width 1024 was within 3.1% (NTK) and 4.1%
# (NNGP) of the limit; single networks were within 4-9%.
HEAD_CONVERGENCE_LENGTHS = (4, 4, 3, 3, 2, 1)


@pytest.mark.parametrize(
    ("head", "activation"),
    [
        ("mean", "relu"),
        ("mean", "erf"),
        ("mean-stride2", "erf"),
        ("bi-last", "relu"),
        ("bi-last-untied", "erf"),
        ("bi-mean", "relu"),
        ("exponential", "erf"),
    ],
)
def test_empirical_kernels_of_every_head_converge_to_the_limit(head, activation):
    rng = np.random.default_rng(0)
    X = [rng.standard_normal(length) for length in HEAD_CONVERGENCE_LENGTHS]
    arguments = dict(HEADS[head])
    tied = arguments.pop("tied", True)
    limit = limit_of_head(X, activation=activation, **arguments)
    nngp_limit = limit_of_head(X, activation=activation, get="nngp", **arguments)

    ntks, nngps = {}, {}
    for width in HEAD_CONVERGENCE_WIDTHS:
        nets = [
            RNN(width, activation=activation, tied=tied, max_length=4, seed=seed, **arguments)
            for seed in HEAD_CONVERGENCE_SEEDS
        ]
        ntks[width], nngps[width] = [net.ntk(X) for net in nets], [net.nngp(X) for net in nets]
    errors = [
        np.mean([relative_error(ntk, limit) for ntk in ntks[width]])
        for width in HEAD_CONVERGENCE_WIDTHS
    ]
    # Fluctuations of a finite network are O(1 / sqrt(width)): slope -1/2.
    slope = np.polyfit(np.log(HEAD_CONVERGENCE_WIDTHS), np.log(errors), 1)[0]
    assert -0.85 <= slope <= -0.3, (slope, errors)
    widest = HEAD_CONVERGENCE_WIDTHS[-1]
    assert relative_error(np.mean(ntks[widest], axis=0), limit) < 0.05
    assert relative_error(np.mean(nngps[widest], axis=0), nngp_limit) < 0.06


def test_mean_head_refuses_untied_weights_and_says_why():
    with pytest.raises(
        ValueError, match=r"readout='mean' needs tied weights \(tied=True\)"
    ) as error:
        RNN(4, readout="mean", tied=False, max_length=3)
    assert "indexed from the end" in str(error.value)
    # The backward stack's untied weights are indexed from the end of the reversed sequence.
    RNN(4, bidirectional=True, tied=False, max_length=3)


def test_repr_shows_a_head_other_than_the_default():
    assert "readout" not in repr(RNN(4)) and "bidirectional" not in repr(RNN(4))
    net = RNN(4, readout="mean", pool_stride=2, bidirectional=True)
    assert "readout='mean', pool_stride=2, bidirectional=True" in repr(net)


# ---------------------------------------------------------------- the model itself


def test_same_seed_same_network_and_lazy_input_weights():
    X = unequal_sequences(np.random.default_rng(9))
    lazy, eager = RNN(8, seed=3), RNN(8, seed=3, n_features=2)
    np.testing.assert_array_equal(lazy(X), eager(X))
    for name, value in eager.params.items():
        np.testing.assert_array_equal(lazy.params[name], value)
    assert not np.array_equal(RNN(8, seed=4)(X), lazy(X))


def test_editing_params_in_place_changes_the_network():
    X = unequal_sequences(np.random.default_rng(10))
    net = RNN(6, depth=2, seed=0)
    before = net(X)
    net.params["W2"] *= 2.0
    assert not np.allclose(net(X), before)
    net.params["v"][:] = 0.0
    np.testing.assert_array_equal(net(X), 0.0)


def test_untied_weights_are_indexed_from_the_end():
    X = [np.ones(2), np.ones(4)]
    net = RNN(5, tied=False, max_length=4, sigma_h=0.5, seed=0)
    before = net(X)
    net.params["W1"][3] += 1.0  # acts only on the first step of a 4-step sequence
    after = net(X)
    assert after[0] == before[0] and after[1] != before[1]


def test_untied_network_with_equal_weights_is_the_tied_network():
    X = unequal_sequences(np.random.default_rng(11), (3, 1, 2))
    tied = RNN(6, depth=2, sigma_h=0.4, seed=0)
    tied(X)
    untied = RNN(6, depth=2, sigma_h=0.4, tied=False, max_length=3, seed=0)
    untied(X)
    for name, value in tied.params.items():
        untied.params[name][...] = value
    np.testing.assert_allclose(untied(X), tied(X), rtol=1e-13)


def test_input_formats_agree():
    rng = np.random.default_rng(12)
    sequences = [rng.standard_normal(4), rng.standard_normal(2)]
    padded = np.full((2, 4), np.nan)
    padded[0], padded[1, :2] = sequences
    net = RNN(8, seed=0)
    np.testing.assert_array_equal(net(sequences), net(padded))
    np.testing.assert_array_equal(net(padded[:1]), net(padded[:1, :, None]))
    assert net(padded).shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(width=0), ValueError, "width"),
        (dict(width=2.5), TypeError, "width"),
        (dict(width=True), TypeError, "width"),
        (dict(width=4, tied=False), ValueError, "max_length"),
        (dict(width=4, tied=False, max_length=0), ValueError, "max_length"),
        (dict(width=4, max_length=2.0), TypeError, "max_length"),
        (dict(width=4, seed=-1), ValueError, "seed"),
        (dict(width=4, seed=1.5), TypeError, "seed"),
        (dict(width=4, seed="a"), TypeError, "seed"),
        (dict(width=4, tied="yes"), TypeError, "tied"),
        (dict(width=4, n_features=0), ValueError, "n_features"),
        (dict(width=4, sigma_w=-1.0), ValueError, "sigma_w"),
        (dict(width=4, depth=0), ValueError, "depth"),
        (dict(width=4, activation="softsign"), ValueError, "activation"),
        (dict(width=4, readout="max"), ValueError, "readout"),
        (dict(width=4, readout=None), ValueError, "readout"),
        (dict(width=4, bidirectional="yes"), TypeError, "bidirectional"),
        (dict(width=4, readout="mean", pool_stride=0), ValueError, "pool_stride"),
        (dict(width=4, readout="mean", pool_stride=1.5), TypeError, "pool_stride"),
        (dict(width=4, pool_stride=2), ValueError, "pool_stride"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    width = kwargs.pop("width")
    with pytest.raises(error, match=match):
        RNN(width, **kwargs)


def test_bad_inputs_are_named():
    net = RNN(4, tied=False, max_length=3, seed=0)
    with pytest.raises(ValueError, match="max_length=3"):
        net(np.ones((2, 4)))
    net(np.ones((2, 3)))
    with pytest.raises(ValueError, match="X2 has 2 features"):
        net.ntk(np.ones((2, 3)), np.ones((2, 3, 2)))
    with pytest.raises(RuntimeError, match="n_features"):
        _ = RNN(4).params
    tied = RNN(4, max_length=2, seed=0)
    with pytest.raises(ValueError, match="max_length"):
        tied.nngp(np.ones((1, 3)))
    tied(np.ones((1, 2)))
    tied.params["W1"] = np.ones((3, 3))
    with pytest.raises(ValueError, match=r"params\['W1'\]"):
        tied(np.ones((1, 2)))
    bi = RNN(4, bidirectional=True, n_features=1, seed=0)
    bi.params["backward.W1"] = np.ones((3, 3))
    with pytest.raises(ValueError, match=r"params\['backward.W1'\]"):
        bi.ntk(np.ones((1, 2)))


@pytest.mark.parametrize(
    ("name", "value"),
    [("depth", 3), ("sigma_w", 2.0), ("width", 8), ("head", None), ("activation", "erf")],
)
def test_the_architecture_of_a_network_cannot_change_after_it_is_built(name, value):
    """An assignment would be ignored by the drawn weights (as it used to be): refused."""
    net = rntk.RNN(16, seed=0)
    x = np.linspace(-1.0, 1.0, 10).reshape(2, 5)
    before = net(x)
    with pytest.raises(AttributeError, match=f"cannot set {name!r} on an RNN: .* construct a new"):
        setattr(net, name, value)
    np.testing.assert_array_equal(net(x), before)
    assert repr(net) == repr(rntk.RNN(16, seed=0))
