"""A fitted model predicts from what it fitted; a changed parameter takes effect at the next fit.

Each estimator of ``rntk.sklearn`` is fitted once; its parameters are then
changed with ``set_params`` in every way (to valid values and to values that
``fit`` would refuse), and what it predicts must stay, bit for bit, what a
fresh fit with the old parameters predicts. ``rntk.nystroem.Nystroem`` keeps
the kernel it fitted in the same way.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

pytest.importorskip("sklearn")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

import rntk  # noqa: E402
from rntk.baselines import polynomial_kernel, rbf_kernel  # noqa: E402
from rntk.nystroem import Nystroem  # noqa: E402
from rntk.sklearn import (  # noqa: E402
    KernelClassifierCV,
    RNTKClassifier,
    RNTKClassifierCV,
    RNTKFeatures,
    RNTKRegressor,
)


def two_classes(seed: int, n: int):
    """Sequences of unequal lengths: sines of two frequencies, with noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = [
        np.sin(np.linspace(0, (2 + 2 * label) * np.pi, length) + rng.uniform(0, 1))
        + 0.3 * rng.standard_normal(length)
        for label, length in zip(y, rng.integers(6, 11, size=n), strict=True)
    ]
    return X, y


X_TRAIN, Y_TRAIN = two_classes(0, 16)
X_TEST, _ = two_classes(1, 6)
TARGETS = np.array([np.sin(x[-1]) + 0.5 * x[0] for x in X_TRAIN])
VECTORS = np.random.default_rng(2).standard_normal((22, 5)) + 0.8 * (np.arange(22) % 2)[:, None]
LABELS = np.arange(16) % 2

#: Changes of the kernel parameters; "rbf" and a negative sigma_w are refused by fit.
KERNEL_CHANGES = {
    "kernel": ["ntk", "nngp", "rbf"],
    "activation": ["relu", "erf"],
    "depth": [1, 2],
    "sigma_w": [1.1, 1.7, -1.0],
    "sigma_b": [0.3],
    "sigma_v": [3.0],
    "readout": ["last", "mean"],
    "bidirectional": [True, False],
    "dtype": [np.float32],
}
SCALING_CHANGES = {"kernel_scaling": [None, "trace", "sum"], "normalize": [True, False]}


def cv_outputs(search: RNTKClassifierCV):
    refitted = search.refit_candidate(1, X_TRAIN, Y_TRAIN)
    return (
        search.voter_predictions(X_TEST),
        search.predict(X_TEST),
        refitted.decision_function(X_TEST),
    )


CASES = {
    "RNTKClassifier": (
        lambda: RNTKClassifier(C=3.0, kernel_scaling="trace", sigma_w=1.3).fit(X_TRAIN, Y_TRAIN),
        {**KERNEL_CHANGES, **SCALING_CHANGES, "C": [0.01, 100.0], "max_iter": [1]},
        lambda model: (model.decision_function(X_TEST), model.predict(X_TEST)),
    ),
    "RNTKRegressor": (
        lambda: RNTKRegressor(alpha=0.5, normalize=True, readout="mean").fit(X_TRAIN, TARGETS),
        {**KERNEL_CHANGES, **SCALING_CHANGES, "alpha": [1e-6, 10.0], "t": [None, 0.5, -1.0]},
        lambda model: model.predict(X_TEST, return_std=True),
    ),
    "RNTKClassifierCV": (
        lambda: RNTKClassifierCV(
            {"readout": ["last", "mean"]}, Cs=(0.1, 10.0), n_repeats=1, keep_train_grams=True
        ).fit(X_TRAIN, Y_TRAIN),
        {
            **KERNEL_CHANGES,
            "param_grid": [{"sigma_w": [2.0]}, []],
            "Cs": [(100.0,)],
            "kernel_scalings": [("cosine",)],
            "selection": ["best"],
            "vote_by": [("sigma_w",)],
            "keep_train_grams": [False],
            "max_iter": [1],
            "cv": [2, "a"],
        },
        cv_outputs,
    ),
    "KernelClassifierCV": (
        lambda: KernelClassifierCV(
            rbf_kernel,
            {"gamma": [0.05, 0.5]},
            Cs=(0.1, 10.0),
            kernel_scalings=("cosine",),
            n_repeats=1,
        ).fit(VECTORS[:16], LABELS),
        {
            "kernel": [
                polynomial_kernel,
                lambda X, X2=None, **params: rbf_kernel(X, X2, gamma=3.0),
            ],
            "diagonal": [lambda X, **params: np.full(len(X), 5.0)],
            "param_grid": [{"gamma": [3.0]}],
            "Cs": [(100.0,)],
            "kernel_scalings": [("trace",)],
            "max_iter": [1],
            "selection": ["vote"],
            "vote_by": [("gamma",)],
        },
        lambda model: (model.decision_function(VECTORS[16:]), model.predict(VECTORS[16:])),
    ),
    "RNTKFeatures": (
        lambda: RNTKFeatures(n_components=6, landmarks="greedy", sigma_w=1.2).fit(X_TRAIN),
        {
            **KERNEL_CHANGES,
            "normalize": [True],
            "n_components": [3],
            "landmarks": ["uniform"],
            "random_state": [1],
            "batch_size": [1],
        },
        lambda model: model.transform(X_TEST),
    ),
}


@functools.cache
def fitted(case: str):
    """The estimator of ``case`` fitted, and what it predicts right after the fit."""
    make, _, outputs = CASES[case]
    model = make()
    return model, outputs(model)


def assert_same_outputs(actual, expected) -> None:
    actual = actual if isinstance(actual, tuple) else (actual,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(actual) == len(expected)
    for got, wanted in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(got, wanted)


@pytest.mark.parametrize("case", list(CASES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_set_params_after_fit_leaves_every_prediction_as_fitted(case, data):
    model, expected = fitted(case)
    _, pool, outputs = CASES[case]
    changes = data.draw(
        st.fixed_dictionaries(
            {}, optional={name: st.sampled_from(values) for name, values in pool.items()}
        ).filter(bool),
        label="changes",
    )
    changed = copy.deepcopy(model)
    changed.set_params(**changes)
    assert_same_outputs(outputs(changed), expected)


def test_regressor_changes_kernel_and_alpha_at_the_next_fit_only():
    """The examples of the issue: the NNGP and alpha=1e-6 set on a fitted NTK regressor."""
    model = RNTKRegressor().fit(X_TRAIN, TARGETS)
    mean, std = model.predict(X_TEST, return_std=True)
    model.set_params(kernel="nngp")
    np.testing.assert_array_equal(model.predict(X_TEST), mean)
    model.set_params(kernel="ntk", alpha=1e-6)
    for got, expected in zip(model.predict(X_TEST, return_std=True), (mean, std), strict=True):
        np.testing.assert_array_equal(got, expected)
    # The next fit applies both.
    model.set_params(kernel="nngp").fit(X_TRAIN, TARGETS)
    fresh = RNTKRegressor(kernel="nngp", alpha=1e-6).fit(X_TRAIN, TARGETS)
    for got, expected in zip(
        model.predict(X_TEST, return_std=True), fresh.predict(X_TEST, return_std=True), strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    assert model.fitted_params_["kernel"] == "nngp" and model.kernel_.get == ("nngp",)


def test_refit_candidate_computes_the_kernel_of_other_sequences(monkeypatch):
    """keep_train_grams serves the training sequences only: others of the same number
    get their own kernel, as a fresh fit does."""
    search = RNTKClassifierCV(
        {"sigma_w": [1.2, 1.5]}, Cs=(1.0,), n_repeats=1, keep_train_grams=True
    ).fit(X_TRAIN, Y_TRAIN)
    X_other, y_other = two_classes(3, len(X_TRAIN))
    for index in range(len(search.cv_results_["params"])):
        params = search.cv_results_["params"][index]
        expected = RNTKClassifier(**params).fit(X_other, y_other).decision_function(X_TEST)
        refitted = search.refit_candidate(index, X_other, y_other)
        np.testing.assert_array_equal(refitted.decision_function(X_TEST), expected)
    # The training sequences themselves take the stored Gram matrix: no kernel call.
    calls = []
    original = rntk.RNTK.__call__

    def counted(kernel, *args, **options):
        calls.append(args)
        return original(kernel, *args, **options)

    monkeypatch.setattr(rntk.RNTK, "__call__", counted)
    refitted = search.refit_candidate(1, X_TRAIN, Y_TRAIN)
    assert calls == []
    monkeypatch.undo()
    expected = RNTKClassifier(**search.cv_results_["params"][1]).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(
        refitted.decision_function(X_TEST), expected.decision_function(X_TEST)
    )


@pytest.mark.parametrize(
    "estimator, bad_fit",
    [
        (RNTKClassifier(), (X_TEST, Y_TRAIN)),
        (RNTKRegressor(), (X_TEST, TARGETS)),
        (RNTKClassifierCV(Cs=(1.0,), n_repeats=1), (X_TEST, Y_TRAIN)),
        (RNTKFeatures(n_components=4), (np.full((3, 4), np.nan), None)),
    ],
    ids=["RNTKClassifier", "RNTKRegressor", "RNTKClassifierCV", "RNTKFeatures"],
)
def test_a_fit_that_raises_leaves_the_estimator_unfitted(estimator, bad_fit):
    """Never half of one fit and half of another: the next predict refuses."""
    y = TARGETS if isinstance(estimator, RNTKRegressor) else Y_TRAIN
    estimator.fit(X_TRAIN, y)
    with pytest.raises(ValueError):
        estimator.fit(*bad_fit)
    with pytest.raises(NotFittedError):
        if isinstance(estimator, RNTKFeatures):
            estimator.transform(X_TEST)
        else:
            estimator.predict(X_TEST)
    assert not hasattr(estimator, "fitted_params_")


def test_kernel_cv_fit_that_raises_leaves_it_unfitted():
    search = KernelClassifierCV(rbf_kernel, Cs=(1.0,), n_repeats=1).fit(VECTORS[:16], LABELS)
    with pytest.raises(ValueError, match="y has 16 entries"):
        search.fit(VECTORS[:10], LABELS)
    with pytest.raises(NotFittedError):
        search.predict(VECTORS[16:])


def test_nystroem_features_are_those_of_the_kernel_it_fitted():
    kernel = rntk.RNTK(sigma_w=1.2, n_jobs=1)
    nystroem = Nystroem(kernel, 6, landmarks="greedy").fit(X_TRAIN)
    features = nystroem.transform(X_TEST)
    kernel.get, kernel.normalize, kernel.activation = ("nngp", "ntk"), True, "erf"
    kernel.dtype = np.float32
    np.testing.assert_array_equal(nystroem.transform(X_TEST), features)
    kernel.get = "nngp"
    # Execution options of the kernel apply at each call, and change no value here.
    kernel.n_jobs, kernel.block_shape = 2, (3, 5)
    np.testing.assert_array_equal(nystroem.transform(X_TEST), features)
    assert nystroem.kernel_.get == ("ntk",) and not nystroem.kernel_.normalize
    # The next fit takes the changed kernel.
    refitted = nystroem.fit(X_TRAIN).transform(X_TEST)
    expected = Nystroem(kernel, 6, landmarks="greedy").fit(X_TRAIN).transform(X_TEST)
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(refitted, expected)
