"""Options shared by the kernel functions: the order of ``get``, flags, silent coercions."""

import dataclasses
import inspect
import pickle

import numpy as np
import pytest

import rntk
from rntk.baselines import mlp_ntk
from rntk.hyperparameters import Architecture
from rntk.options import (
    GramOptions,
    check_choice,
    check_non_negative,
    check_positive,
    check_positive_integer,
    check_real_array,
)
from rntk.predict import gradient_flow_mean, kernel_ridge_regression


@pytest.fixture
def sequences():
    rng = np.random.default_rng(3)
    return [rng.standard_normal(length) for length in (4, 6, 5)]


@pytest.mark.parametrize("order", [("ntk", "nngp"), ["ntk", "nngp"], ("nngp", "ntk")])
def test_get_returns_the_kernels_in_the_order_asked_for(sequences, order):
    first, second = rntk.kernel(sequences, get=order, sigma_w=1.3)
    expected = {name: rntk.kernel(sequences, get=name, sigma_w=1.3) for name in order}
    np.testing.assert_array_equal(first, expected[order[0]])
    np.testing.assert_array_equal(second, expected[order[1]])
    both = rntk.kernel(sequences, get=order, sigma_w=1.3)
    assert isinstance(both, rntk.KernelPair) and both._fields == tuple(order)
    np.testing.assert_array_equal(both.ntk, expected["ntk"])
    np.testing.assert_array_equal(both.nngp, expected["nngp"])
    assert repr(both).startswith(f"KernelPair({order[0]}=")


def test_out_arrays_follow_the_order_of_get(sequences):
    out = (np.empty((3, 3)), np.empty((3, 3)))
    result = rntk.kernel(sequences, get=("ntk", "nngp"), out=out)
    assert result[0] is out[0] and result[1] is out[1]
    np.testing.assert_array_equal(out[0], rntk.kernel(sequences, get="ntk"))
    np.testing.assert_array_equal(out[1], rntk.kernel(sequences, get="nngp"))


def test_diag_and_baselines_follow_the_order_of_get(sequences):
    ntk, nngp = rntk.RNTK(get=("ntk", "nngp")).diag(sequences)
    np.testing.assert_array_equal(ntk, rntk.RNTK().diag(sequences))
    np.testing.assert_array_equal(nngp, rntk.RNTK(get="nngp").diag(sequences))
    X = np.random.default_rng(0).standard_normal((4, 5))
    ntk, nngp = mlp_ntk(X, get=("ntk", "nngp"))
    np.testing.assert_array_equal(ntk, mlp_ntk(X))
    np.testing.assert_array_equal(nngp, mlp_ntk(X, get="nngp"))


@pytest.mark.parametrize("order", [("ntk", "nngp"), ("nngp", "ntk")])
def test_kernel_pair_pickles_with_its_order(sequences, order):
    both = rntk.kernel(sequences, get=order)
    again = pickle.loads(pickle.dumps(both))
    assert again._fields == tuple(order)
    np.testing.assert_array_equal(again.ntk, both.ntk)
    np.testing.assert_array_equal(again[0], both[0])


@pytest.mark.parametrize(
    "get, fragment",
    [([1, "ntk"], "1 is not a kernel name"), (("ntk", "ntk"), "once"), ("both", "'both'")],
)
def test_bad_get_names_the_cause(sequences, get, fragment):
    with pytest.raises(ValueError, match="get must be") as error:
        rntk.kernel(sequences, get=get)
    assert fragment in str(error.value)


@pytest.mark.parametrize("name", ["normalize", "progress"])
@pytest.mark.parametrize("value", ["no", 1, None])
def test_flags_must_be_booleans(sequences, name, value):
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        rntk.kernel(sequences, **{name: value})


@pytest.mark.parametrize("name", ["sigma_w", "sigma_u", "sigma_b", "sigma_h", "sigma_v"])
def test_boolean_sigmas_are_refused_like_a_boolean_depth(sequences, name):
    with pytest.raises(TypeError, match=name):
        rntk.kernel(sequences, **{name: True})
    with pytest.raises(TypeError, match="depth"):
        rntk.kernel(sequences, depth=True)


def test_attributes_set_after_construction_are_validated(sequences):
    k = rntk.RNTK()
    k.get = "nngp"
    np.testing.assert_array_equal(k(sequences), rntk.kernel(sequences, get="nngp"))
    k.get = ["ntk", "nngp"]
    assert k(sequences)._fields == ("ntk", "nngp")
    for name, value, error in [
        ("get", "n", ValueError),
        ("normalize", "no", TypeError),
        ("n_jobs", 0, ValueError),
        ("n_jobs", 1.5, TypeError),
        ("dtype", np.int32, ValueError),
        ("block_shape", (0, 4), ValueError),
        ("activation", "softsign", ValueError),
        ("head", "mean", TypeError),
        ("hyperparameters", {"depth": 2}, TypeError),
    ]:
        with pytest.raises(error, match=name.split("_")[0]):
            setattr(k, name, value)
    # A refused assignment leaves the object as it was.
    assert k.get == ("ntk", "nngp") and k.normalize is False


def test_masked_arrays_are_refused_rather_than_unmasked():
    X = np.ma.masked_invalid(np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]]))
    with pytest.raises(TypeError, match=r"X is a masked array.*filled\(np.nan\)"):
        rntk.kernel(X)
    with pytest.raises(TypeError, match=r"X\[0\] is a masked array"):
        rntk.kernel([X[0], np.ones(3)])
    np.testing.assert_array_equal(
        rntk.kernel(X.filled(np.nan)), rntk.kernel([[1.0, 2.0], [1, 2, 3]])
    )


@pytest.mark.parametrize("time", ["1", ["1", "2"], True, [True]])
def test_gradient_flow_time_must_be_numeric(time):
    K, y = np.eye(3) + 0.1, np.arange(3.0)
    with pytest.raises(TypeError, match="time must be"):
        gradient_flow_mean(K, y, time=time)


@pytest.mark.parametrize("value", ["1", None, [1.0]])
def test_learning_rate_and_ridge_must_be_real_numbers(value):
    K, y = np.eye(3) + 0.1, np.arange(3.0)
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        gradient_flow_mean(K, y, time=1.0, learning_rate=value)
    with pytest.raises(TypeError, match="ridge must be a real number"):
        kernel_ridge_regression(K, y, ridge=value)


def test_hermite_quadrature_points_must_be_an_integer():
    from rntk.activations import Hermite

    with pytest.raises(TypeError, match="quadrature_points must be an integer"):
        Hermite(np.tanh, lambda z: 1 / np.cosh(z) ** 2, quadrature_points=2.5)


def test_an_activation_that_returns_nan_is_not_reported_as_an_overflow(sequences):
    from rntk.activations import Hermite

    def broken(z):  # NaN for large inputs, as a careless custom activation might be
        return np.where(np.abs(z) > 3, np.nan, np.tanh(z))

    activation = Hermite(broken, lambda z: 1 / np.cosh(z) ** 2, degree=8)
    with pytest.raises(FloatingPointError, match="returned NaN") as error:
        rntk.kernel(sequences, activation=activation)
    assert not isinstance(error.value, rntk.KernelOverflowError)
    assert "sigma_w" not in str(error.value).split(":")[-1]


def test_a_float32_overflow_names_float32(sequences):
    with pytest.raises(rntk.KernelOverflowError, match="overflowed float32") as error:
        rntk.kernel([np.ones(200)], sigma_w=1.8, dtype=np.float32)
    assert "float64 has a wider range" in str(error.value)
    with pytest.raises(rntk.KernelOverflowError, match="overflowed float64") as error:
        rntk.kernel([np.ones(2000)], sigma_w=1.8)
    assert "wider range" not in str(error.value)


# --- one list of the architecture's parameters ----------------------------------


def keyword_parameters(function) -> dict:
    """``{name: default}`` of the parameters ``function`` takes by keyword."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }


def test_every_model_shows_the_architecture_parameters_with_the_same_defaults():
    architecture = keyword_parameters(Architecture.from_arguments)
    assert list(architecture)[:3] == ["activation", "depth", "sigma_w"]
    for function in (rntk.RNTK, rntk.kernel, rntk.RNN, rntk.sensitivity):
        shown = keyword_parameters(function)
        assert {name: shown[name] for name in architecture} == architecture, function
    # kernel takes what RNTK takes, and out.
    assert list(keyword_parameters(rntk.kernel)) == [
        "X",
        "X2",
        *keyword_parameters(rntk.RNTK),
        "out",
    ]


@pytest.mark.parametrize(
    "call, owner",
    [
        (lambda: rntk.kernel([np.ones(3)], sigma_x=1.0), "kernel"),
        (lambda: rntk.RNN(4, sigma_x=1.0), "RNN"),
        (lambda: rntk.sensitivity(np.ones(3), np.ones(3), sigma_x=1.0), "sensitivity"),
    ],
)
def test_an_unknown_parameter_is_named_with_what_is_accepted(call, owner):
    with pytest.raises(
        TypeError, match=f"unknown parameter 'sigma_x' .*'sigma_w'.*{owner} accepts"
    ):
        call()


def test_keyword_calls_reach_the_model():
    X = [np.sin(np.linspace(0, 3, 7)), np.cos(np.linspace(0, 2, 4))]
    k = rntk.RNTK("erf", 2, sigma_w=1.1, readout="mean", normalize=True, n_jobs=1)
    np.testing.assert_array_equal(
        rntk.kernel(X, activation="erf", depth=2, sigma_w=1.1, readout="mean", normalize=True),
        k(X),
    )
    net = rntk.RNN(8, activation="erf", depth=2, readout="mean", seed=0)
    assert net.hyperparameters.depth == 2 and net.head.readout == "mean"


# --- shared checks ------------------------------------------------------------------


@pytest.mark.parametrize("check", [check_positive, check_non_negative])
@pytest.mark.parametrize(
    "value, error", [("1", TypeError), (True, TypeError), (np.nan, ValueError), (-1.0, ValueError)]
)
def test_number_checks_name_the_argument(check, value, error):
    with pytest.raises(error, match="scale must be"):
        check(value, "scale")


def test_number_checks_return_floats():
    assert check_non_negative(np.float32(0.5), "scale") == 0.5
    assert check_non_negative(0, "scale") == 0.0
    with pytest.raises(ValueError, match="positive and finite, got 0.0"):
        check_positive(0, "scale")


def test_positive_integer_may_allow_none():
    assert check_positive_integer(None, "n_jobs", allow_none=True) is None
    assert check_positive_integer(np.int64(3), "n_jobs", allow_none=True) == 3
    with pytest.raises(TypeError, match="n_jobs must be a positive integer, got None"):
        check_positive_integer(None, "n_jobs")


def test_real_arrays_and_choices():
    assert check_real_array([True, 2], "y").dtype == np.float64
    with pytest.raises(TypeError, match="y must hold real numbers, got an array of dtype"):
        check_real_array(["a"], "y")
    assert check_choice("ntk", "get", ("ntk", "nngp")) == "ntk"
    with pytest.raises(ValueError, match="get must be 'ntk' or 'nngp', got \\['ntk'\\]"):
        check_choice(["ntk"], "get", ("ntk", "nngp"))
    with pytest.raises(ValueError, match="^x must be 'a', 'b' or 'c', got 'd'$"):
        check_choice("d", "x", ("a", "b", "c"))


def test_gram_options_are_validated_also_when_replaced():
    options = GramOptions(block_shape=8)
    assert options.block_shape == (8, 8) and options.dtype == np.float64
    with pytest.raises(ValueError, match="block_size"):
        dataclasses.replace(options, block_shape=(0, 4))
    with pytest.raises(TypeError, match="executor"):
        GramOptions(executor=object())
