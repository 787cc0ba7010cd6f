"""The finite RNN: back-propagation, the factorised empirical NTK, and its limit."""

import numpy as np
import pytest

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
    limit = rntk.kernel(X, activation=activation)
    errors = [
        np.mean(
            [
                relative_error(
                    RNN(
                        width, activation=activation, tied=tied, max_length=max(lengths), seed=seed
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
    # Unequal lengths with sigma_h > 0 exercise the boundary of spec section 2
    # (h0 is independent of a started sequence's state); depth 2 the layer coupling.
    rng = np.random.default_rng(8)
    X = unequal_sequences(rng, (5, 5, 3, 1))
    hyperparameters = dict(depth=2, sigma_w=1.3, sigma_b=0.3, sigma_h=0.8)
    limit = rntk.kernel(X, get=("nngp", "ntk"), **hyperparameters)
    nets = [RNN(2048, seed=seed, **hyperparameters) for seed in (0, 1, 2)]
    assert np.mean([relative_error(net.ntk(X), limit.ntk) for net in nets]) < 0.1
    assert np.mean([relative_error(net.nngp(X), limit.nngp) for net in nets]) < 0.1


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
