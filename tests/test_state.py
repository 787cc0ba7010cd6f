"""The state of an ``rntk.RNTK``: a change applies whole, as a construction would, or not at all.

The reference for every change is an object constructed afresh with the changed
arguments: after ``k.name = value`` (or ``k.set_params(name=value)``, or a
replaced record) ``k`` must give the same Gram matrix, bit for bit, and the same
repr as that object; if the construction refuses the value, the change must
raise the same kind of error, naming the parameter, and leave ``k`` as it was.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rntk
from rntk.heads import Head
from rntk.hyperparameters import Architecture, Hyperparameters
from rntk.options import GramOptions

X = [np.sin(np.linspace(0, 3, 5)), np.cos(np.linspace(0, 2, 2)), np.linspace(-1, 1, 4)]

#: One thread pool for the executors the property test passes (never shut down
#: by the kernel, which only submits to it).
POOL = ThreadPoolExecutor(1)


def assert_same_kernel(model: rntk.RNTK, fresh: rntk.RNTK, *, as_given: bool = True) -> None:
    """Same repr and attributes, same Gram matrix and diagonal bit for bit.

    With ``as_given``, also the same parameters as given (``get_params``).
    """
    assert repr(model) == repr(fresh)
    if as_given:
        assert repr(model.get_params()) == repr(fresh.get_params())
    for name in fresh.get_params():
        mine, theirs = getattr(model, name), getattr(fresh, name)
        assert type(mine) is type(theirs), name
        if isinstance(mine, np.ndarray):
            np.testing.assert_array_equal(mine, theirs)
        elif name != "activation":  # a new instance of the same class for a name
            assert mine == theirs, name
    for mine, theirs in ((model(X), fresh(X)), (model.diag(X), fresh.diag(X))):
        assert type(mine) is type(theirs)
        pairs = zip(mine, theirs, strict=True) if isinstance(mine, tuple) else [(mine, theirs)]
        for array, expected in pairs:
            assert array.dtype == expected.dtype
            np.testing.assert_array_equal(array, expected)


def unchanged(model: rntk.RNTK):
    """What must not move when a change is refused: the records and the arguments."""
    return (model.architecture, model.options, model.get, repr(model.get_params()), repr(model))


# --- the cases, each on its own ----------------------------------------


def test_assigned_architecture_parameters_apply():
    k = rntk.RNTK()
    K0 = k(X)
    k.depth = 3
    k.readout = "mean"
    assert_same_kernel(k, rntk.RNTK(depth=3, readout="mean"))
    assert not np.array_equal(k(X), K0)
    assert "depth=3" in repr(k) and "readout='mean'" in repr(k)


def test_a_refused_assignment_names_the_parameter_and_changes_nothing():
    k = rntk.RNTK(depth=2)
    before = unchanged(k)
    with pytest.raises(ValueError, match="sigma_b must be finite and non-negative"):
        k.sigma_b = -1.0
    assert unchanged(k) == before
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        k.set_params(readout="mean", bidirectional="yes")
    assert unchanged(k) == before  # readout, valid on its own, is not applied either


def test_a_new_activation_takes_its_own_default_scales():
    k = rntk.RNTK()
    k.activation = "erf"
    assert_same_kernel(k, rntk.RNTK(activation="erf"))
    np.testing.assert_array_equal(k.sigma_u, [0.1])
    # A scale that was given stays as given.
    k = rntk.RNTK(sigma_w=1.2)
    k.activation = "erf"
    assert_same_kernel(k, rntk.RNTK(activation="erf", sigma_w=1.2))


def test_a_head_validates_itself():
    with pytest.raises(ValueError, match="readout must be 'last' or 'mean', got 'max'"):
        Head("max")
    with pytest.raises(ValueError, match="pool_stride=2 applies only to readout='mean'"):
        Head(pool_stride=2)
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        replace(Head(), bidirectional=1)
    with pytest.raises(TypeError, match="pool_stride must be a positive integer"):
        Head("mean", 2.0)
    assert Head("mean", np.int64(2), np.True_) == Head("mean", 2, True)
    k = rntk.RNTK()
    k.head = Head("mean", 2, True)
    assert_same_kernel(k, rntk.RNTK(readout="mean", pool_stride=2, bidirectional=True))
    with pytest.raises(TypeError, match="head must be a rntk.heads.Head"):
        k.head = "mean"


def test_hyperparameters_validate_themselves():
    k = rntk.RNTK()
    with pytest.raises(ValueError, match=r"sigma_w must .* one value per layer \(depth=3\)"):
        replace(k.hyperparameters, depth=3)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        replace(k.hyperparameters, depth=0)
    with pytest.raises(ValueError, match="sigma_v must be a single number"):
        replace(k.hyperparameters, sigma_v=[1.0])
    deeper = replace(k.hyperparameters, depth=3, sigma_w=1.2, sigma_u=1, sigma_b=2, sigma_h=0)
    k.hyperparameters = deeper
    fresh = rntk.RNTK(depth=3, sigma_w=[1.2] * 3, sigma_u=[1.0] * 3, sigma_b=[2.0] * 3, sigma_h=0)
    assert_same_kernel(k, fresh, as_given=False)
    with pytest.raises(TypeError, match="hyperparameters must be a"):
        k.hyperparameters = {"depth": 2}


def test_scales_in_a_tuple_give_a_repr():
    """A record replaced with a tuple of scales used to break repr (describe())."""
    k = rntk.RNTK()
    k.hyperparameters = replace(k.hyperparameters, sigma_w=(3.0,))
    assert repr(k) == repr(rntk.RNTK(sigma_w=3.0))
    two_layers = Hyperparameters(
        depth=2, sigma_w=(1.0, 2.0), sigma_u=1, sigma_b=1, sigma_h=0, sigma_v=1
    )
    assert "sigma_w=[1.0, 2.0]" in two_layers.describe()


def test_per_layer_scales_cannot_be_changed_in_place():
    k = rntk.RNTK(sigma_w=[1.2, 1.3], depth=2)
    with pytest.raises(ValueError, match="read-only"):
        k.sigma_w[0] = 5.0
    given = np.array([1.2, 1.3])
    k = rntk.RNTK(sigma_w=given, depth=2)
    given[0] = 5.0  # the caller's array: a copy was taken
    np.testing.assert_array_equal(k.sigma_w, [1.2, 1.3])


def test_several_parameters_change_together():
    k = rntk.RNTK(sigma_w=1.2)
    with pytest.raises(ValueError, match=r"sigma_w .*\(depth=1\)"):
        k.sigma_w = [1.2, 1.3]
    assert k.set_params(depth=2, sigma_w=[1.2, 1.3]) is k
    assert_same_kernel(k, rntk.RNTK(depth=2, sigma_w=[1.2, 1.3]))
    with pytest.raises(TypeError, match="unknown parameter 'sigma' .*did you mean 'sigma_"):
        k.set_params(sigma=1.0)


def test_an_unknown_attribute_is_refused():
    k = rntk.RNTK()
    with pytest.raises(AttributeError, match="no parameter 'sigma_W' .*did you mean 'sigma_w'"):
        k.sigma_W = 1.0
    with pytest.raises(AttributeError, match="no parameter 'readuot'"):
        k.readuot = "mean"
    assert repr(k) == repr(rntk.RNTK())


def test_records_set_the_parameters_they_hold():
    k = rntk.RNTK(activation="erf")
    k.options = GramOptions(normalize=True, block_shape=2, dtype=np.float32)
    assert_same_kernel(
        k, rntk.RNTK(activation="erf", normalize=True, block_size=(2, 2), dtype=np.dtype("float32"))
    )
    k.block_shape = (1, 3)  # an alias of block_size
    assert k.block_size == (1, 3) and k.get_params()["block_size"] == (1, 3)
    k.architecture = Architecture.from_arguments(activation="tanh", depth=2)
    fresh = rntk.RNTK(
        activation="tanh",
        depth=2,
        sigma_w=1.0,
        sigma_u=1.0,
        sigma_b=0.1,
        sigma_h=0.0,
        normalize=True,
        block_size=(1, 3),
        dtype=np.float32,
    )
    assert repr(k) == repr(fresh)
    np.testing.assert_array_equal(k(X), fresh(X))
    with pytest.raises(TypeError, match="options must be a"):
        k.options = {"normalize": False}


def test_records_are_built_by_keyword():
    """Nothing passes the ten architecture arguments by position."""
    with pytest.raises(TypeError):
        Architecture.from_arguments("relu", 2)
    with pytest.raises(TypeError):
        Hyperparameters.from_arguments(2)
    with pytest.raises(TypeError):
        Head.from_arguments("mean")


def test_a_copy_changes_alone():
    k = rntk.RNTK(progress=False)
    duplicate = copy.copy(k)
    duplicate.progress = True
    duplicate.depth = 2
    assert k.progress is False and k.depth == 1
    assert duplicate.progress is True and duplicate.depth == 2


# --- every parameter, valid and invalid values ----------------------------------

#: Values for each parameter: valid ones, ones that are valid only with others
#: (per-layer scales, pool_stride), and refused ones.
VALUES = {
    "activation": ["relu", "erf", "tanh", " ERF", rntk.ReLU(), "softsign", 3, None],
    "depth": [1, 2, np.int64(2), 0, 1.5, True, "2"],
    "sigma_w": [None, 1.3, np.float32(0.7), [1.0, 1.2], -1.0, np.nan, "big", True, [[1.0]]],
    "sigma_u": [None, 0.0, 0.5, [0.9, 1.1], -0.5, np.inf],
    "sigma_b": [None, 0.0, 1.0, [0.3, 0.2], -1.0, "x"],
    "sigma_h": [None, 0.4, [0.5, 0.0], -0.1],
    "sigma_v": [None, 0.5, 2, [1.0], -1, "x"],
    "readout": ["last", "mean", "max", 1],
    "bidirectional": [False, True, np.bool_(True), 1, "yes"],
    "pool_stride": [1, 2, np.int64(3), 0, 2.5],
    "get": ["ntk", "nngp", ("nngp", "ntk"), ["ntk", "nngp"], "n", ("ntk", "ntk")],
    "normalize": [False, True, np.bool_(False), "no", 1],
    "block_size": [2, (1, 3), (256, 1024), 0, (0, 4), (2, 2, 2), "big"],
    "n_jobs": [None, 1, 2, 0, 1.5],
    "executor": [None, POOL, object()],
    "progress": [False, True, "yes"],
    "dtype": [np.float64, np.float32, "float32", np.dtype("float64"), np.int32, "half"],
}

#: The record that holds each parameter, and the name of its field there.
RECORD_FIELDS = {
    **{field.name: ("hyperparameters", field.name) for field in fields(Hyperparameters)},
    **{field.name: ("head", field.name) for field in fields(Head)},
    **{field.name: ("options", field.name) for field in fields(GramOptions)},
}
RECORD_FIELDS["block_size"] = RECORD_FIELDS.pop("block_shape")

INITIAL = st.fixed_dictionaries(
    {},
    optional={
        "activation": st.sampled_from(["relu", "erf", "tanh"]),
        "depth": st.sampled_from([1, 2]),
        "sigma_w": st.sampled_from([1.1, 1.3]),
        "readout": st.sampled_from(["last", "mean"]),
        "get": st.sampled_from(["nngp", ("nngp", "ntk")]),
        "normalize": st.booleans(),
        "block_size": st.sampled_from([2, (1, 3)]),
        "dtype": st.sampled_from([np.float64, np.float32]),
    },
)

CHANGE = st.tuples(
    st.sampled_from(["attribute", "set_params", "record"]),
    st.sampled_from(sorted(VALUES)),
).flatmap(
    lambda how_name: st.tuples(
        st.just(how_name[0]), st.just(how_name[1]), st.sampled_from(VALUES[how_name[1]])
    )
)


def held_parameters(record_name: str, record) -> dict:
    """The parameters of RNTK that a record holds, by name, as it holds them."""
    held = {field.name: getattr(record, field.name) for field in fields(record)}
    if record_name == "options":
        held["block_size"] = held.pop("block_shape")
    return held


def apply_change(model: rntk.RNTK, how: str, name: str, value) -> None:
    if how == "attribute":
        setattr(model, name, value)
    else:
        model.set_params(**{name: value})


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(initial=INITIAL, changes=st.lists(CHANGE, min_size=1, max_size=3))
def test_every_change_is_a_fresh_construction_or_refused(initial, changes):
    model = rntk.RNTK(**initial)
    arguments = dict(initial)
    for how, name, value in changes:
        if how == "record" and name in RECORD_FIELDS:
            # Replacing a field of a record: the record validates itself, and
            # setting it sets every parameter it holds, as it holds them.
            record_name, field = RECORD_FIELDS[name]
            record = getattr(model, record_name)
            try:
                changed = replace(record, **{field: value})
            except (TypeError, ValueError) as error:
                assert name in str(error)
                continue
            setattr(model, record_name, changed)
            arguments = {**arguments, **held_parameters(record_name, changed)}
            assert_same_kernel(model, rntk.RNTK(**arguments))
            continue
        how = "attribute" if how == "record" else how
        candidate = {**arguments, name: value}
        try:
            fresh = rntk.RNTK(**candidate)
        except (TypeError, ValueError) as error:
            before = unchanged(model)
            with pytest.raises(type(error)) as refused:
                apply_change(model, how, name, value)
            # Also for a combination (depth and a per-layer scale, readout and
            # pool_stride) the message names the parameter changed.
            assert name in str(refused.value)
            assert str(refused.value) == str(error)
            assert unchanged(model) == before
        else:
            apply_change(model, how, name, value)
            arguments = candidate
            assert_same_kernel(model, fresh)
