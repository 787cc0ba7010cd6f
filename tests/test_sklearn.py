"""The scikit-learn estimators against independent computations from ``rntk.kernel``."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy import stats  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.kernel_ridge import KernelRidge  # noqa: E402
from sklearn.linear_model import RidgeClassifier  # noqa: E402
from sklearn.metrics import pairwise  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    RepeatedStratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import rntk  # noqa: E402
from rntk.baselines import polynomial_kernel, rbf_kernel  # noqa: E402
from rntk.nystroem import Nystroem  # noqa: E402
from rntk.sequences import from_channels_first  # noqa: E402
from rntk.sklearn import (  # noqa: E402
    KernelClassifierCV,
    RNTKClassifier,
    RNTKClassifierCV,
    RNTKFeatures,
    RNTKRegressor,
    head_name,
    majority_vote,
    mean_pool_stride,
    rntk_head_grid,
)


def two_classes(seed: int = 0, n: int = 24):
    """Sequences of unequal lengths: sines of two frequencies, with noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = []
    for label, length in zip(y, rng.integers(8, 16, size=n), strict=True):
        steps = np.linspace(0, (2 + 2 * label) * np.pi, length)
        X.append(np.sin(steps + rng.uniform(0, 1)) + 0.3 * rng.standard_normal(length))
    return X, y


def nan_padded(sequences) -> np.ndarray:
    padded = np.full((len(sequences), max(map(len, sequences))), np.nan)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded


# --- RNTKClassifier --------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_classifier_is_svc_on_the_precomputed_gram(kernel):
    X, y = two_classes()
    train, test = slice(0, 16), slice(16, None)
    params = {"activation": "erf", "sigma_w": 1.1, "readout": "mean", "bidirectional": True}
    model = RNTKClassifier(C=2.0, kernel=kernel, **params).fit(X[train], y[train])

    gram = rntk.kernel(X[train], get=kernel, **params)
    test_gram = rntk.kernel(X[test], X[train], get=kernel, **params)
    reference = SVC(C=2.0, kernel="precomputed").fit(gram, y[train])
    np.testing.assert_allclose(
        model.decision_function(X[test]), reference.decision_function(test_gram), rtol=1e-9
    )
    np.testing.assert_array_equal(model.predict(X[test]), reference.predict(test_gram))
    np.testing.assert_array_equal(model.classes_, [0, 1])


@pytest.mark.parametrize(
    "options, scaled",
    [
        ({"kernel_scaling": "trace"}, "trace"),
        ({"normalize": True}, "cosine"),
    ],
)
def test_classifier_kernel_scalings(options, scaled):
    X, y = two_classes(1)
    X_train, y_train, X_test = X[:16], y[:16], X[16:]
    gram, test_gram = rntk.kernel(X_train), rntk.kernel(X_test, X_train)
    if scaled == "trace":
        divisor = np.trace(gram) / len(gram)
        gram, test_gram = gram / divisor, test_gram / divisor
    else:
        gram = rntk.kernel(X_train, normalize=True)
        test_gram = rntk.kernel(X_test, X_train, normalize=True)
    reference = SVC(C=5.0, kernel="precomputed").fit(gram, y_train)
    model = RNTKClassifier(C=5.0, **options).fit(X_train, y_train)
    np.testing.assert_allclose(
        model.decision_function(X_test), reference.decision_function(test_gram), rtol=1e-9
    )


def test_every_input_format_gives_the_same_predictions():
    X, y = two_classes(2)
    model = RNTKClassifier(kernel_scaling="trace")
    expected = model.fit(X, y).decision_function(X)
    padded = nan_padded(X)
    for form in (padded, padded[:, :, None], [x[:, None] for x in X], np.array(X, dtype=object)):
        np.testing.assert_allclose(model.fit(form, y).decision_function(form), expected, rtol=1e-12)
    equal_length = np.stack([x[:8] for x in X])
    np.testing.assert_array_equal(
        model.fit(equal_length, y).predict(equal_length[:, :, None]),
        model.fit(list(equal_length), y).predict(equal_length),
    )


def test_multivariate_and_channels_first_in_a_pipeline():
    rng = np.random.default_rng(3)
    y = np.arange(20) % 2
    steps_first = rng.standard_normal((20, 9, 3)) + y[:, None, None]
    channels_first = np.swapaxes(steps_first, 1, 2).copy()
    expected = RNTKClassifier().fit(steps_first, y).decision_function(steps_first)
    pipeline = make_pipeline(FunctionTransformer(from_channels_first), RNTKClassifier())
    np.testing.assert_allclose(
        pipeline.fit(channels_first, y).decision_function(channels_first), expected, rtol=1e-12
    )


def test_predict_takes_other_lengths_but_not_other_features():
    X, y = two_classes(4)
    model = RNTKClassifier().fit(X, y)
    assert model.predict([np.ones(40), np.ones(1)]).shape == (2,)
    with pytest.raises(ValueError, match="X has 2 features per step.*fitted on sequences with 1"):
        model.predict(np.ones((3, 5, 2)))


@pytest.mark.parametrize(
    "estimator, fit_args, error, message",
    [
        (RNTKClassifier(kernel="rbf"), None, ValueError, "kernel must be 'ntk' or 'nngp'"),
        (RNTKClassifier(kernel_scaling="cosine"), None, ValueError, "kernel_scaling"),
        (RNTKClassifier(sigma_w=-1.0), None, ValueError, "sigma_w"),
        (RNTKClassifier(readout="first"), None, ValueError, "readout"),
        (RNTKClassifier(depth="two"), None, TypeError, "depth"),
        (RNTKClassifier(), ([np.ones(3), np.ones(3)], [0]), ValueError, "y has 1 entries"),
        (RNTKClassifier(), (np.array([[1.0, np.nan, 2.0]] * 2), [0, 1]), ValueError, "NaN at"),
        (RNTKClassifier(), (np.ones((2, 2)) * 1j, [0, 1]), ValueError, "Complex"),
        (RNTKRegressor(), (np.ones((2, 2)), ["a", "b"]), ValueError, "could not convert"),
        (RNTKRegressor(), (np.ones((2, 2)), [0.0, np.inf]), ValueError, "y contains infinity"),
        (RNTKRegressor(t="long"), None, TypeError, "t must be None or"),
        (RNTKRegressor(t=-1.0), None, ValueError, "t must be None or"),
        (RNTKRegressor(alpha=-0.1), None, ValueError, "alpha must be"),
        (RNTKClassifier(C=0.0), None, ValueError, "'C' parameter"),
        (RNTKClassifierCV(Cs=[0.0]), None, ValueError, "Cs must be"),
        (RNTKClassifierCV(kernel_scalings="trace"), None, ValueError, "kernel_scalings"),
        (RNTKClassifierCV({"normalize": [True]}), None, ValueError, "set by kernel_scalings"),
        (RNTKClassifierCV({"sigma_q": [1.0]}), None, ValueError, "'sigma_q' is not a kernel"),
        (RNTKClassifierCV({"depth": 2}), None, ValueError, r"param_grid\['depth'\]"),
        (RNTKClassifierCV(n_repeats=0), None, ValueError, "n_repeats"),
        (RNTKClassifierCV(cv=1), None, ValueError, "cv must be at least 2"),
        (RNTKFeatures(n_components=4, landmarks="best"), None, ValueError, "landmarks"),
        # All-zero sequences with sigma_b=0: the kernel is 0, and so is the trace divisor.
        (
            RNTKClassifier(kernel_scaling="trace", sigma_b=0.0),
            (np.zeros((12, 5)), np.arange(12) % 2),
            ValueError,
            "kernel_scaling='trace' divides the kernel by the mean of its diagonal over the "
            "training samples, which is 0 here.*pass kernel_scaling=None",
        ),
        (
            RNTKRegressor(kernel_scaling="trace", normalize=True, sigma_b=0.0),
            (np.zeros((12, 5)), np.arange(12.0)),
            ValueError,
            "which is 0 here.*pass kernel_scaling=None",
        ),
        (
            RNTKClassifierCV(sigma_b=0.0),
            (np.zeros((12, 5)), np.arange(12) % 2),
            ValueError,
            "fitting samples of split 0, which is 0 here.*leave 'trace' out of kernel_scalings",
        ),
        (RNTKClassifierCV([]), None, ValueError, "param_grid is an empty list: give at least one"),
        (RNTKClassifierCV(cv="a"), None, ValueError, "cv must be an int, a splitter"),
        (
            RNTKClassifierCV(cv=[(np.arange(6), np.arange(6, 19))]),
            None,
            ValueError,
            r"cv: the validation part of split 0 holds index 12, outside 0\.\.11",
        ),
        (
            RNTKClassifierCV(cv=[(np.arange(6), [])]),
            None,
            ValueError,
            "cv: the validation part of split 0 must be a non-empty 1-D array of sample indices",
        ),
        (
            RNTKClassifierCV({"sigma_w": (s for s in [1.2, 1.4])}),
            None,
            ValueError,
            r"param_grid\['sigma_w'\] must be a non-empty list of values \(a generator is used up",
        ),
        (
            RNTKClassifierCV({"sigma_w": [1.2]} for _ in range(2)),
            None,
            TypeError,
            "param_grid must be a dict or a list of dicts",
        ),
    ],
)
def test_bad_parameters_and_inputs_name_the_argument(estimator, fit_args, error, message):
    X, y = fit_args if fit_args is not None else two_classes(5, n=12)
    with pytest.raises(error, match=message):
        estimator.fit(X, y)


def test_unknown_keyword_is_a_type_error_at_construction():
    with pytest.raises(TypeError, match="unexpected keyword argument 'sigma'"):
        RNTKClassifier(sigma=1.0)


def test_kernel_parameters_are_those_of_rntk():
    kernel_signature = inspect.signature(rntk.RNTK).parameters
    for estimator in (RNTKClassifier, RNTKRegressor, RNTKClassifierCV, RNTKFeatures):
        parameters = inspect.signature(estimator).parameters
        for name, parameter in kernel_signature.items():
            if name in ("get", "executor") or (
                estimator is RNTKClassifierCV and name == "normalize"
            ):
                assert name not in parameters
                continue
            assert parameters[name].default is parameter.default or (
                parameters[name].default == parameter.default
            ), (estimator, name)
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert set(estimator().get_params()) == set(parameters)


# --- RNTKRegressor ---------------------------------------------------------------


def regression_data(seed: int = 6):
    rng = np.random.default_rng(seed)
    X = [rng.standard_normal(length) for length in rng.integers(5, 12, size=20)]
    y = np.array([np.sin(x[-1]) + 0.5 * x[-2] for x in X])
    return X, y


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_regressor_is_kernel_ridge(kernel):
    X, y = regression_data()
    gram = rntk.kernel(X[:14], get=kernel, depth=2)
    test_gram = rntk.kernel(X[14:], X[:14], get=kernel, depth=2)
    reference = KernelRidge(alpha=0.3, kernel="precomputed").fit(gram, y[:14])
    model = RNTKRegressor(alpha=0.3, kernel=kernel, depth=2).fit(X[:14], y[:14])
    np.testing.assert_allclose(model.predict(X[14:]), reference.predict(test_gram), rtol=1e-9)
    targets = np.stack([y, 2 * y], axis=1)
    np.testing.assert_allclose(
        RNTKRegressor(alpha=0.3, kernel=kernel, depth=2).fit(X[:14], targets[:14]).predict(X[14:]),
        reference.fit(gram, targets[:14]).predict(test_gram),
        rtol=1e-9,
    )


@pytest.mark.parametrize("options", [{}, {"kernel_scaling": "trace"}, {"normalize": True}])
def test_regressor_std_is_the_gaussian_process_posterior(options):
    X, y = regression_data(7)
    X_train, y_train, X_test = X[:14], y[:14], X[14:] + X[:2]
    alpha = 0.05
    normalize = options.get("normalize", False)
    prior_train = rntk.kernel(X_train, normalize=normalize)
    prior_cross = rntk.kernel(X_test, X_train, normalize=normalize)
    prior_test = rntk.kernel(X_test, normalize=normalize)
    if "kernel_scaling" in options:
        divisor = np.mean(np.diag(prior_train))
        prior_train, prior_cross, prior_test = (
            prior_train / divisor,
            prior_cross / divisor,
            prior_test / divisor,
        )
    # Posterior of a GP with prior covariance k and noise variance alpha.
    noisy = prior_train + alpha * np.eye(len(X_train))
    mean = prior_cross @ np.linalg.solve(noisy, y_train)
    covariance = prior_test - prior_cross @ np.linalg.solve(noisy, prior_cross.T)
    model = RNTKRegressor(alpha=alpha, **options).fit(X_train, y_train)
    predicted_mean, predicted_std = model.predict(X_test, return_std=True)
    np.testing.assert_allclose(predicted_mean, mean, rtol=1e-9)
    np.testing.assert_allclose(predicted_std, np.sqrt(np.diag(covariance)), rtol=1e-7, atol=1e-9)
    # At a training input the posterior variance is at most the noise variance
    # (conditioning on that one noisy observation alone gives k alpha / (k + alpha)).
    assert np.all(predicted_std[-2:] <= np.sqrt(alpha) * (1 + 1e-12)), predicted_std
    assert predicted_std[:-2].max() > np.sqrt(alpha)  # and the bound is not vacuous here


@pytest.mark.parametrize("estimator_class", [RNTKRegressor, RNTKClassifier])
def test_trace_scaling_of_the_cosine_form_divides_by_its_mean_diagonal(estimator_class):
    """normalize=True then kernel_scaling="trace": the divisor is the mean of the cosine
    form's diagonal, 1 on a sequence and 0 on one whose kernel is 0 (all-zero, sigma_b=0)."""
    X, y = regression_data(9)
    X = [np.zeros_like(x) if i < 5 else x for i, x in enumerate(X)]  # 5 zero sequences
    y = y if estimator_class is RNTKRegressor else (y > np.median(y)).astype(int)
    X_train, y_train, X_test = X[:16], y[:16], X[16:] + X[3:6]
    cosine = rntk.kernel(X_train, sigma_b=0.0, normalize=True)
    cross = rntk.kernel(X_test, X_train, sigma_b=0.0, normalize=True)
    divisor = np.mean(np.diag(cosine))
    assert divisor == 11 / 16  # neither 1 nor the raw kernel's mean diagonal
    assert not np.isclose(np.mean(np.diag(rntk.kernel(X_train, sigma_b=0.0))), divisor)
    model = estimator_class(kernel_scaling="trace", normalize=True, sigma_b=0.0)
    model.fit(X_train, y_train)
    if estimator_class is RNTKRegressor:
        reference = KernelRidge(alpha=1.0, kernel="precomputed").fit(cosine / divisor, y_train)
        np.testing.assert_allclose(
            model.predict(X_test), reference.predict(cross / divisor), rtol=1e-9, atol=1e-12
        )
        unscaled = KernelRidge(alpha=1.0, kernel="precomputed").fit(cosine, y_train)
        assert not np.allclose(model.predict(X_test), unscaled.predict(cross), rtol=1e-3)
    else:
        reference = SVC(kernel="precomputed").fit(cosine / divisor, y_train)
        np.testing.assert_allclose(
            model.decision_function(X_test),
            reference.decision_function(cross / divisor),
            rtol=1e-9,
            atol=1e-12,
        )
        unscaled = SVC(kernel="precomputed").fit(cosine, y_train)
        assert not np.allclose(
            model.decision_function(X_test), unscaled.decision_function(cross), rtol=1e-3
        )


def test_regressor_with_time_is_gradient_flow():
    X, y = regression_data(8)
    gram = rntk.kernel(X[:14])
    test_gram = rntk.kernel(X[14:], X[:14])
    for time in (0.5, 20.0):
        expected = rntk.predict.gradient_flow_mean(gram, y[:14], test_gram, time=time, ridge=0.01)
        model = RNTKRegressor(alpha=0.01, t=time).fit(X[:14], y[:14])
        np.testing.assert_allclose(model.predict(X[14:]), expected, rtol=1e-9)
    # A linear ODE checked by its own solution: df/dt = -K (f - y) / n on the training set.
    n, rate = 14, 3.0
    exact = np.linalg.solve(gram, (np.eye(n) - _expm(-gram * rate / n)) @ y[:14])
    np.testing.assert_allclose(
        RNTKRegressor(alpha=0.0, t=rate).fit(X[:14], y[:14]).predict(X[14:]),
        test_gram @ exact,
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="return_std=True needs t=None"):
        model.predict(X[14:], return_std=True)


def _expm(matrix: np.ndarray) -> np.ndarray:
    eigenvalues, vectors = np.linalg.eigh(matrix)
    return (vectors * np.exp(eigenvalues)) @ vectors.T


# --- RNTKClassifierCV --------------------------------------------------------------


def protocol_scores(X, y, grid, Cs, scalings):
    """The cross-validation protocol written out: mean fold accuracy of each candidate."""
    smallest = np.unique(y, return_counts=True)[1].min()
    splitter = RepeatedStratifiedKFold(n_splits=min(5, smallest), n_repeats=3, random_state=0)
    folds = list(splitter.split(np.zeros(len(y)), y))
    candidates = []
    for point in grid:
        pair = rntk.kernel(X, get=("nngp", "ntk"), **point)
        for kernel in ("ntk", "nngp"):
            gram = getattr(pair, kernel)
            for scaling in scalings:
                if scaling == "cosine":
                    inverse_root = 1.0 / np.sqrt(np.diag(gram))
                    scaled = gram * np.outer(inverse_root, inverse_root)
                for c in Cs:
                    accuracy = []
                    for fit, validate in folds:
                        if scaling == "trace":
                            divisor = np.mean(np.diag(gram)[fit])
                            scaled = gram / divisor
                        svm = SVC(C=c, kernel="precomputed").fit(scaled[np.ix_(fit, fit)], y[fit])
                        accuracy.append(
                            np.mean(svm.predict(scaled[np.ix_(validate, fit)]) == y[validate])
                        )
                    candidates.append(((point, kernel, scaling, c), np.mean(accuracy)))
    return candidates


def test_cv_follows_the_protocol_and_refits_the_best():
    X, y = two_classes(9, n=30)
    grid = [{"sigma_w": 1.2, "readout": "last"}, {"sigma_w": 1.4, "readout": "mean"}]
    Cs = (0.1, 1.0, 10.0)
    param_grid = [{"sigma_w": [1.2], "readout": ["last"]}, {"sigma_w": [1.4], "readout": ["mean"]}]
    for entry in param_grid:
        entry["kernel"] = ["ntk", "nngp"]
    search = RNTKClassifierCV(param_grid, Cs=Cs, selection="best").fit(X, y)
    expected = protocol_scores(X, y, grid, Cs, ("trace", "cosine"))
    results = search.cv_results_
    assert search.n_splits_ == 15 and len(results["params"]) == len(expected) == 24
    for row, ((point, kernel, scaling, c), score) in enumerate(expected):
        params = results["params"][row]
        assert {key: params[key] for key in point} == point
        assert params["kernel"] == kernel and params["C"] == c
        assert params["normalize"] == (scaling == "cosine")
        assert results["grid_point"][row] == grid.index(point)
        np.testing.assert_allclose(results["mean_test_score"][row], score, rtol=1e-12)
    best = int(np.argmax([score for _, score in expected]))  # the first of the best
    assert search.best_index_ == best
    assert search.best_score_ == pytest.approx(expected[best][1])
    assert results["rank_test_score"][best] == 1

    refitted = RNTKClassifier(**search.best_params_).fit(X, y)
    np.testing.assert_allclose(
        search.decision_function(X[:7]), refitted.decision_function(X[:7]), rtol=1e-9
    )
    assert search.score(X, y) == refitted.score(X, y)


def test_cv_ties_go_to_the_first_candidate_and_refit_candidates():
    X, y = two_classes(10, n=20)
    # Equal C candidates on separable data all score 1: the first C must win.
    search = RNTKClassifierCV(
        {"sigma_b": [0.5, 2.0]}, Cs=(10.0, 100.0), keep_train_grams=True, n_repeats=1
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_index_ == int(np.flatnonzero(scores == scores.max())[0])
    for index in (0, len(scores) - 1):
        stored = search.refit_candidate(index, X, y)
        recomputed = RNTKClassifier(**search.cv_results_["params"][index]).fit(X, y)
        np.testing.assert_allclose(
            stored.decision_function(X), recomputed.decision_function(X), rtol=1e-9
        )
    fresh = RNTKClassifierCV({"sigma_b": [0.5, 2.0]}, Cs=(10.0, 100.0), n_repeats=1).fit(X, y)
    np.testing.assert_allclose(
        fresh.refit_candidate(1, X, y).decision_function(X),
        search.refit_candidate(1, X, y).decision_function(X),
        rtol=1e-9,
    )


def test_cv_skips_and_records_grid_points_that_overflow():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((12, 3000))
    y = np.arange(12) % 2
    search = RNTKClassifierCV({"sigma_w": [1.0, 40.0]}, Cs=(1.0,), n_repeats=1).fit(X, y)
    assert search.overflowed_params_ == [{"sigma_w": 40.0}]
    assert {params["sigma_w"] for params in search.cv_results_["params"]} == {1.0}
    with pytest.raises(rntk.KernelOverflowError, match="every grid point"):
        RNTKClassifierCV({"sigma_w": [40.0]}, Cs=(1.0,)).fit(X, y)


def test_cv_skips_a_sigma_w_whose_square_overflows_float64():
    # 1e155**2 is inf: the kernel used to raise a plain FloatingPointError (a "NaN of a
    # custom activation"), which aborted the search instead of skipping the grid point.
    X, y = two_classes(12, n=12)
    expected = RNTKClassifierCV({"sigma_w": [1.3]}, Cs=(1.0,), n_repeats=1).fit(X, y)
    search = RNTKClassifierCV({"sigma_w": [1.3, 1e155]}, Cs=(1.0,), n_repeats=1).fit(X, y)
    assert search.overflowed_params_ == [{"sigma_w": 1e155}]
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(search.predict(X), expected.predict(X))


def test_cv_records_every_grid_point_whose_kernel_overflows_or_underflows(monkeypatch):
    """Either error at a grid point skips it; the search goes on with the others."""

    class FailingRNTK(rntk.RNTK):
        # sigma_w=0.5 stands for a kernel that overflows, 0.25 for one that underflows.
        def __call__(self, X, X2=None, **options):
            sigma_w = float(self.hyperparameters.sigma_w[0])
            if sigma_w == 0.5:
                raise rntk.KernelOverflowError("overflow at sigma_w=0.5")
            if sigma_w == 0.25:
                raise rntk.KernelUnderflowError("underflow at sigma_w=0.25")
            return super().__call__(X, X2, **options)

    X, y = two_classes(11, n=12)
    expected = RNTKClassifierCV({"sigma_w": [1.3]}, Cs=(1.0,), n_repeats=1).fit(X, y)
    monkeypatch.setattr("rntk.sklearn._base.RNTK", FailingRNTK)
    search = RNTKClassifierCV({"sigma_w": [0.5, 1.3, 0.25]}, Cs=(1.0,), n_repeats=1).fit(X, y)
    assert search.overflowed_params_ == [{"sigma_w": 0.5}, {"sigma_w": 0.25}]
    assert search.cv_results_["grid_point"].tolist() == [1, 1]
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(search.predict(X), expected.predict(X))
    with pytest.raises(rntk.KernelUnderflowError, match="every grid point.*underflow at sigma_w"):
        RNTKClassifierCV({"sigma_w": [0.5, 0.25]}, Cs=(1.0,), n_repeats=1).fit(X, y)


@pytest.mark.parametrize("index", [99, 2, -1, 1.0, True])
def test_refit_candidate_index_must_be_a_row_of_cv_results(index):
    X, y = two_classes(12, n=12)
    search = RNTKClassifierCV(Cs=(1.0,), n_repeats=1).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    with pytest.raises(
        ValueError,
        match=rf"index must be a row of cv_results_, an integer from 0 to 1, got {index!r}",
    ):
        search.refit_candidate(index, X, y)


@pytest.mark.parametrize("search_class", ["rntk", "kernel"])
@pytest.mark.parametrize(("n", "n_splits"), [(299, 15), (300, 5)])
def test_n_repeats_auto_repeats_three_times_below_300_samples(search_class, n, n_splits):
    rng = np.random.default_rng(22)
    X, y = rng.standard_normal((n, 3)), np.arange(n) % 2
    options = {"Cs": (1.0,), "kernel_scalings": ("trace",)}
    if search_class == "rntk":
        search = RNTKClassifierCV(**options)
    else:
        search = KernelClassifierCV(lambda X, X2=None: X @ (X if X2 is None else X2).T, **options)
    assert search.fit(X, y).n_splits_ == n_splits


def small_kernel_search():
    """A search whose candidates tie in part: 3 gammas x 2 scalings x 3 C, 5 splits."""
    X, y = vector_classes(23, n=25)
    search = KernelClassifierCV(
        rbf_kernel, {"gamma": [0.001, 0.1, 10.0]}, Cs=(0.01, 1.0, 100.0), n_repeats=1
    )
    return search.fit(X, y)


def test_rank_test_score_ties_share_the_best_rank_as_in_grid_search():
    results = small_kernel_search().cv_results_
    means, ranks = results["mean_test_score"], results["rank_test_score"]
    assert 1 < len(set(means.tolist())) < len(means)  # ties, and more than one score
    # GridSearchCV's rule: rankdata(-means, method="min"), as int32.
    np.testing.assert_array_equal(ranks, stats.rankdata(-means, method="min"))
    assert ranks.dtype == np.int32
    # No split: every candidate is unscored, and all tie first, as in GridSearchCV.
    rng = np.random.default_rng(14)
    single = KernelClassifierCV(rbf_kernel, {"gamma": [0.1, 1.0]}, Cs=(0.1, 1.0))
    with pytest.warns(UserWarning, match="no class of y has two training samples"):
        single.fit(rng.standard_normal((4, 3)), np.arange(4))
    assert single.cv_results_["rank_test_score"].tolist() == [1] * 8


def test_std_test_score_has_one_entry_per_candidate():
    search = small_kernel_search()
    results = search.cv_results_
    n_candidates = len(results["params"])
    splits = np.stack([results[f"split{i}_test_score"] for i in range(search.n_splits_)], axis=1)
    assert splits.shape == (n_candidates, 5) and n_candidates == 18
    assert results["std_test_score"].shape == (n_candidates,)
    np.testing.assert_allclose(results["std_test_score"], splits.std(axis=1), rtol=1e-12)
    assert np.any(results["std_test_score"] > 0)


def test_cv_small_class_gets_fewer_folds_and_large_sets_no_repeats():
    X, y = two_classes(12, n=14)
    y[:3] = 2  # a class of 3 sequences
    assert RNTKClassifierCV(Cs=(1.0,), kernel_scalings=("trace",)).fit(X, y).n_splits_ == 9
    splits = [(np.arange(7), np.arange(7, 14)), (np.arange(7, 14), np.arange(7))]
    assert RNTKClassifierCV(Cs=(1.0,), cv=splits).fit(X, y).n_splits_ == 2


def test_cv_splits_equal_repeated_stratified_k_fold_without_single_member_classes():
    """The rule for single-member classes leaves every other case as it was."""
    X, y = two_classes(12, n=14)
    y[:3] = 2
    search = RNTKClassifierCV(Cs=(1.0,), kernel_scalings=("trace",))
    expected = RepeatedStratifiedKFold(n_splits=3, n_repeats=3, random_state=0)
    ours = search._splits(y)
    theirs = list(expected.split(np.zeros((14, 1)), y))
    assert len(ours) == len(theirs) == 9
    for (fit, validate), (fit_ref, validate_ref) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(fit, fit_ref)
        np.testing.assert_array_equal(validate, validate_ref)


def test_cv_single_member_classes_are_always_fitted_never_validated():
    X, y = two_classes(13, n=16)
    y[0], y[1] = 5, 6  # two classes of one sequence each (DiatomSizeReduction, FiftyWords)
    search = RNTKClassifierCV(Cs=(1.0,), kernel_scalings=("trace",), n_repeats=2).fit(X, y)
    splits = search._splits(y)
    # The other classes have 7 members each: 5 folds, repeated twice.
    assert search.n_splits_ == len(splits) == 10
    for fit, validate in splits:
        assert {0, 1} <= set(fit.tolist()) and not {0, 1} & set(validate.tolist())
        assert sorted(np.concatenate([fit, validate]).tolist()) == list(range(16))
    # Every validated sequence is validated once per repeat.
    validated = np.concatenate([validate for _, validate in splits])
    assert np.bincount(validated, minlength=16)[2:].tolist() == [2] * 14
    assert set(search.predict(X)) <= set(y.tolist())


def test_cv_with_only_single_member_classes_refits_the_first_candidate():
    """Fungi: 18 training series in 18 classes; scikit-learn's splitter refuses it."""
    rng = np.random.default_rng(14)
    X = rng.standard_normal((6, 9))
    y = np.array(["a", "b", "c", "d", "e", "f"])
    search = RNTKClassifierCV({"sigma_w": [1.2, 1.4]}, Cs=(0.1, 1.0))
    with pytest.warns(UserWarning, match="no class of y has two training samples"):
        search.fit(X, y)
    assert search.n_splits_ == 0
    assert np.isnan(search.cv_results_["mean_test_score"]).all()
    assert np.isnan(search.cv_results_["std_test_score"]).all()
    assert search.best_index_ == 0 and np.isnan(search.best_score_)
    assert search.best_params_ == search.cv_results_["params"][0]
    reference = RNTKClassifier(**search.best_params_).fit(X, y)
    np.testing.assert_array_equal(search.decision_function(X), reference.decision_function(X))
    assert search.predict(X).tolist() == y.tolist()  # each sequence is its class's only one
    kernel_search = KernelClassifierCV(rbf_kernel, {"gamma": [0.1, 1.0]}, Cs=(1.0,))
    with pytest.warns(UserWarning, match="first candidate"):
        assert kernel_search.fit(X, y).best_params_ == {
            "gamma": 0.1,
            "kernel_scaling": "trace",
            "C": 1.0,
        }


def test_cv_with_only_single_member_classes_votes_the_first_candidate_of_each_head():
    # Unscored, every candidate ties: each head's first candidate votes, heads in grid order.
    rng = np.random.default_rng(15)
    X = rng.standard_normal((6, 9))
    y = np.array(["a", "b", "c", "d", "e", "f"])
    X_new = rng.standard_normal((10, 9))
    grid = {"readout": ["last", "mean"], "bidirectional": [False, True], "sigma_w": [1.2, 1.4]}
    search = RNTKClassifierCV(grid, Cs=(0.1, 1.0))
    with pytest.warns(UserWarning, match="the first candidate of each voting group"):
        search.fit(X, y)
    params = search.cv_results_["params"]
    heads = [(p["readout"], p["bidirectional"]) for p in params]
    # By hand: the first row of each head, in the order the heads first appear.
    firsts = [heads.index(head) for head in dict.fromkeys(heads)]
    assert len(firsts) == 4 and firsts[0] == 0
    assert search.voters_ == firsts
    for row in firsts:  # the first grid point of its head, the first scaling and C
        assert params[row]["sigma_w"] == 1.2 and params[row]["C"] == 0.1
        assert params[row]["kernel_scaling"] == "trace"
    refitted = [search.refit_candidate(row, X, y).predict(X_new) for row in firsts]
    assert search.predict(X_new).tolist() == majority([list(v) for v in refitted])
    assert search.predict(X).tolist() == y.tolist()


def test_stratified_subsample_keeps_proportions_and_two_of_every_class():
    from rntk.sklearn import _stratified_subsample

    y = np.repeat([0, 1, 2], [100, 50, 3])
    # By hand: two of each class first (6), then 14 places shared by the remaining
    # 98, 48 and 1 sequences: 9.33, 4.57 and 0.10 places; 9, 4, 0, and the one place
    # left goes to the largest remainder (class 1): 2 + 9, 2 + 5, 2 + 0.
    chosen = _stratified_subsample(y, 20, random_state=0)
    assert np.bincount(y[chosen]).tolist() == [11, 7, 2]
    assert np.all(np.diff(chosen) > 0)
    again = _stratified_subsample(y, 20, random_state=0)
    np.testing.assert_array_equal(chosen, again)
    assert not np.array_equal(chosen, _stratified_subsample(y, 20, random_state=1))
    # More classes than size / 2: every class keeps two (or its one).
    many = np.repeat(np.arange(12), [1] * 2 + [4] * 10)
    assert np.bincount(many[_stratified_subsample(many, 10, 0)]).tolist() == [1, 1] + [2] * 10


@pytest.mark.parametrize("search_class", ["rntk", "kernel"])
def test_cv_on_a_subsample_is_the_search_on_those_samples_refitted_on_all(search_class):
    X, y = two_classes(15, n=40)
    X = nan_padded(X)
    if search_class == "rntk":

        def make(**options):
            return RNTKClassifierCV({"sigma_w": [1.2, 1.4]}, Cs=(0.1, 1.0), **options)

    else:
        X = np.nan_to_num(X)

        def make(**options):
            return KernelClassifierCV(rbf_kernel, {"gamma": [0.05, 0.5]}, Cs=(0.1, 1.0), **options)

    search = make(max_cv_samples=16).fit(X, y)
    samples = search.cv_samples_
    assert len(samples) == 16 and np.bincount(y[samples]).tolist() == [8, 8]
    on_subsample = make().fit(X[samples], y[samples])
    assert on_subsample.cv_samples_ is None
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], on_subsample.cv_results_["mean_test_score"]
    )
    assert search.best_params_ == on_subsample.best_params_
    # The refit uses every training sequence.
    if search_class == "rntk":
        reference = RNTKClassifier(**search.best_params_).fit(X, y)
        np.testing.assert_allclose(
            search.decision_function(X), reference.decision_function(X), rtol=1e-12, atol=1e-12
        )
        assert search.best_estimator_.X_fit_.n_sequences == 40
        assert search.refit_candidate(1, X, y).X_fit_.n_sequences == 40
    else:
        params = search.best_params_
        expected = refitted_by_hand(
            rbf_kernel, X, y, X, {"gamma": params["gamma"]}, "trace", params["C"]
        )
        np.testing.assert_allclose(search.decision_function(X), expected, rtol=1e-12, atol=1e-12)
    # At or below the cap nothing changes.
    assert make(max_cv_samples=40).fit(X, y).cv_samples_ is None


@pytest.mark.parametrize("value", [0, 1, 2.5, True, "all"])
def test_max_cv_samples_is_checked(value):
    X, y = two_classes(16, n=12)
    with pytest.raises(
        ValueError, match=f"max_cv_samples must be None or an integer of at least 2, got {value!r}"
    ):
        RNTKClassifierCV(max_cv_samples=value).fit(X, y)


def test_vote_is_the_majority_and_a_tie_goes_to_the_first_voter():
    from rntk.sklearn import _vote

    predictions = [np.array(["a", "b", "c"]), np.array(["b", "b", "a"]), np.array(["c", "a", "a"])]
    # Column 0: one vote each, the first voter's "a"; column 1: "b" twice; column 2: "a" twice.
    assert _vote(predictions, np.array(["a", "b", "c"])).tolist() == ["a", "b", "a"]
    two = [np.array([1, 2]), np.array([2, 1])]
    assert _vote(two, np.array([1, 2])).tolist() == [1, 2]


def expected_voters(results: dict, names: tuple[str, ...], fixed: dict) -> list[int]:
    """The vote rule written out: each group's first best candidate, groups by score."""
    means = results["mean_test_score"]
    groups: dict = {}
    for row, params in enumerate(results["params"]):
        key = tuple(params.get(name, fixed.get(name)) for name in names)
        groups.setdefault(key, []).append(row)
    leaders = [max(rows, key=lambda r: (means[r], -r)) for rows in groups.values()]
    return sorted(leaders, key=lambda r: (-means[r], r))


def majority(votes: list[list]) -> list:
    """Per sample: the most frequent vote; on a tie, the earliest voter's among them."""
    chosen = []
    for column in zip(*votes, strict=True):
        counts = {label: column.count(label) for label in column}
        chosen.append(next(label for label in column if counts[label] == max(counts.values())))
    return chosen


def test_cv_vote_of_the_heads_predicts_their_majority():
    X, y = two_classes(20, n=20)
    X_new, _ = two_classes(18, n=12)
    grid = {"sigma_w": [1.0, 1.4], "readout": ["last", "mean"], "bidirectional": [False, True]}
    search = RNTKClassifierCV(grid, Cs=(0.1, 1.0, 10.0)).fit(X, y)  # the default: a vote
    fixed = {"readout": "last", "bidirectional": False}
    assert search.voters_ == expected_voters(search.cv_results_, search.vote_by, fixed)
    heads = {
        (
            search.cv_results_["params"][r]["readout"],
            search.cv_results_["params"][r]["bidirectional"],
        )
        for r in search.voters_
    }
    assert len(search.voters_) == len(heads) == 4  # one voter per head
    assert search.voters_[0] == search.best_index_
    assert search.best_estimator_ is search.voting_estimators_[0]
    refitted = [search.refit_candidate(row, X, y).predict(X_new) for row in search.voters_]
    np.testing.assert_array_equal(search.voter_predictions(X_new), refitted)
    assert search.predict(X_new).tolist() == majority([list(v) for v in refitted])
    assert not hasattr(search, "decision_function")
    # The best candidate alone: selection="best", or one head in the grid.
    best = RNTKClassifierCV(grid, Cs=(0.1, 1.0, 10.0), selection="best").fit(X, y)
    assert best.voters_ == [best.best_index_] and hasattr(best, "decision_function")
    np.testing.assert_array_equal(
        best.predict(X_new), search.refit_candidate(search.best_index_, X, y).predict(X_new)
    )
    one_head = RNTKClassifierCV({"sigma_w": [1.0, 1.4]}, Cs=(0.1, 1.0)).fit(X, y)
    assert one_head.voters_ == [one_head.best_index_] and hasattr(one_head, "decision_function")


def test_kernel_cv_vote_predicts_the_majority_of_hand_refitted_candidates():
    X, y = vector_classes(19, n=24)
    X_new, _ = vector_classes(20, n=15)
    grid = {"gamma": [0.02, 0.05, 0.1, 0.2]}
    search = KernelClassifierCV(
        rbf_kernel, grid, Cs=(0.1, 1.0, 10.0), selection="vote", vote_by=["gamma"]
    )
    search.fit(X, y)
    assert search.voters_ == expected_voters(search.cv_results_, ("gamma",), {})
    assert len(search.voters_) == 4
    votes = []
    for row in search.voters_:
        params = dict(search.cv_results_["params"][row])
        scaling, c = params.pop("kernel_scaling"), params.pop("C")
        votes.append(list(np.sign(refitted_by_hand(rbf_kernel, X, y, X_new, params, scaling, c))))
    labels = majority(votes)
    assert search.predict(X_new).tolist() == [int(v > 0) for v in labels]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"selection": "mean"}, "selection must be one of 'best', 'vote', got 'mean'"),
        ({"vote_by": "readout"}, "vote_by must be None or a list of parameter names"),
        ({"selection": "vote", "vote_by": None}, "selection='vote' needs vote_by"),
    ],
)
def test_selection_options_are_checked(options, message):
    X, y = two_classes(16, n=12)
    with pytest.raises(ValueError, match=message):
        RNTKClassifierCV(**options).fit(X, y)
    with pytest.raises(ValueError, match=message):
        KernelClassifierCV(rbf_kernel, **options).fit(np.zeros((12, 3)), y)


# --- KernelClassifierCV ------------------------------------------------------------


def vector_classes(seed: int = 16, n: int = 30, length: int = 10):
    """Fixed-length sequences of two classes, with norms that differ from row to row."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3 % 2
    X = rng.standard_normal((n, length)) + 0.7 * y[:, None]
    return X * rng.uniform(0.5, 2.0, size=(n, 1)), y


def written_out_search(kernel, X, y, grid, Cs, scalings, folds):
    """The protocol by hand: every candidate, its mean fold accuracy, the first best."""
    candidates = []
    for point in grid:
        gram = kernel(X, None, **point)
        for scaling in scalings:
            for c in Cs:
                accuracy = 0.0
                for fit, validate in folds:
                    if scaling == "cosine":
                        norms = np.sqrt(np.diag(gram))
                        scaled = gram / np.outer(norms, norms)
                    else:
                        scaled = gram / np.mean(np.diag(gram)[fit])
                    svm = SVC(C=c, kernel="precomputed").fit(scaled[np.ix_(fit, fit)], y[fit])
                    accuracy += np.mean(svm.predict(scaled[np.ix_(validate, fit)]) == y[validate])
                candidates.append(((point, scaling, c), accuracy / len(folds)))
    scores = [score for _, score in candidates]
    return candidates, scores.index(max(scores))


def refitted_by_hand(kernel, X, y, X_new, point, scaling, c):
    """The decision function at ``X_new`` of the SVM refitted on the whole of ``(X, y)``."""
    gram, cross = kernel(X, None, **point), kernel(X_new, X, **point)
    if scaling == "cosine":
        # Products with inverse norms, not quotients: the same numbers to the last
        # bit, which a nearly singular Gram matrix (libsvm's tolerance) needs.
        train_inverse = 1.0 / np.sqrt(np.diag(gram))
        new_inverse = 1.0 / np.sqrt([kernel(x[None], None, **point)[0, 0] for x in X_new])
        gram = gram * np.outer(train_inverse, train_inverse)
        cross = cross * np.outer(new_inverse, train_inverse)
    else:
        divisor = np.mean(np.diag(gram))
        gram, cross = gram / divisor, cross / divisor
    return SVC(C=c, kernel="precomputed").fit(gram, y).decision_function(cross)


@pytest.mark.parametrize(
    "kernel, param_grid",
    [
        (rbf_kernel, {"gamma": [0.02, 0.1, 0.5]}),
        (polynomial_kernel, [{"degree": [2, 3], "coef0": [0.0, 1.0]}, {"degree": [1]}]),
    ],
    ids=["rbf", "polynomial"],
)
@pytest.mark.parametrize("scalings", [("trace", "cosine"), ("cosine",)])
def test_kernel_cv_follows_the_protocol_and_refits_the_best(kernel, param_grid, scalings):
    X, y = vector_classes()
    X_train, y_train, X_test = X[:24], y[:24], X[24:]
    Cs = (0.1, 1.0, 10.0)
    folds = list(
        RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0).split(X_train, y_train)
    )
    grid = KernelClassifierCV(kernel, param_grid)._grid_points()
    grid = [point for point, _ in grid]
    expected, best = written_out_search(kernel, X_train, y_train, grid, Cs, scalings, folds)

    search = KernelClassifierCV(kernel, param_grid, Cs=Cs, kernel_scalings=scalings)
    search.fit(X_train, y_train)
    results = search.cv_results_
    assert search.n_splits_ == 15 and len(results["params"]) == len(expected)
    for row, ((point, scaling, c), score) in enumerate(expected):
        assert results["params"][row] == {**point, "kernel_scaling": scaling, "C": c}
        assert results["grid_point"][row] == grid.index(point)
        np.testing.assert_allclose(results["mean_test_score"][row], score, rtol=1e-12)
    assert search.best_index_ == best
    (point, scaling, c), score = expected[best]
    assert search.kernel_params_ == point and search.best_score_ == pytest.approx(score)
    np.testing.assert_allclose(
        search.decision_function(X_test),
        refitted_by_hand(kernel, X_train, y_train, X_test, point, scaling, c),
        rtol=1e-9,
    )
    np.testing.assert_array_equal(search.classes_, [0, 1])


def test_kernel_cv_on_rntk_kernel_is_rntk_classifier_cv():
    X, y = two_classes(17, n=24)
    param_grid = {"sigma_w": [1.2, 1.4], "readout": ["last", "mean"]}
    Cs = (0.1, 10.0)

    def kernel_search(**options):
        return KernelClassifierCV(
            rntk.kernel,
            param_grid,
            Cs=Cs,
            n_repeats=2,
            diagonal=lambda X, **params: rntk.RNTK(**params).diag(X),
            **options,
        ).fit(X[:18], y[:18])

    rntk_search = RNTKClassifierCV(param_grid, Cs=Cs, n_repeats=2, selection="best")
    rntk_search.fit(X[:18], y[:18])
    search = kernel_search()
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], rntk_search.cv_results_["mean_test_score"]
    )
    assert search.best_index_ == rntk_search.best_index_
    np.testing.assert_allclose(
        search.decision_function(X[18:]), rntk_search.decision_function(X[18:]), rtol=1e-9
    )
    # The vote of the heads: the same voters and predictions from both searches.
    rntk_vote = RNTKClassifierCV(param_grid, Cs=Cs, n_repeats=2).fit(X[:18], y[:18])
    vote = kernel_search(selection="vote", vote_by=["readout"])
    assert vote.voters_ == rntk_vote.voters_ and len(vote.voters_) == 2
    np.testing.assert_array_equal(vote.predict(X[18:]), rntk_vote.predict(X[18:]))


def test_kernel_cv_ties_go_to_the_first_candidate():
    # Far-apart classes: every candidate scores 1, so the first grid point,
    # scaling and C must be refitted, from the first grid point's Gram matrix.
    X, y = vector_classes(21, n=20)
    X = X + 20.0 * y[:, None]
    search = KernelClassifierCV(rbf_kernel, {"gamma": [0.01, 0.02]}, Cs=(1.0, 10.0), n_repeats=1)
    search.fit(X[:16], y[:16])
    assert np.all(search.cv_results_["mean_test_score"] == 1.0) and search.best_index_ == 0
    np.testing.assert_allclose(
        search.decision_function(X[16:]),
        refitted_by_hand(rbf_kernel, X[:16], y[:16], X[16:], {"gamma": 0.01}, "trace", 1.0),
        rtol=1e-9,
    )


def test_kernel_cv_skips_grid_points_that_overflow_or_underflow():
    X, y = vector_classes(18, n=20)

    def kernel(X, X2=None, *, scale):
        if scale > 1e100:
            raise rntk.KernelOverflowError(f"scale {scale} is too large")
        if scale < 1e-100:
            raise rntk.KernelUnderflowError(f"scale {scale} is too small")
        return scale * rbf_kernel(X, X2, gamma=0.1)

    grid = {"scale": [1.0, 1e200, 1e-200, 3.0]}
    search = KernelClassifierCV(kernel, grid, Cs=(1.0,), n_repeats=1).fit(X, y)
    assert search.overflowed_params_ == [{"scale": 1e200}, {"scale": 1e-200}]
    np.testing.assert_array_equal(search.cv_results_["grid_point"], [0, 0, 3, 3])
    with pytest.raises(rntk.KernelOverflowError, match="every grid point.*scale 1e.200 is too"):
        KernelClassifierCV(kernel, {"scale": [1e200]}).fit(X, y)
    with pytest.raises(rntk.KernelUnderflowError, match="every grid point.*scale 1e-200 is too"):
        KernelClassifierCV(kernel, {"scale": [1e200, 1e-200]}).fit(X, y)


@pytest.mark.parametrize(
    "search, message",
    [
        (KernelClassifierCV("rbf"), "kernel must be a function"),
        (KernelClassifierCV(rbf_kernel, {"C": [1.0]}), "'C' is the search's own"),
        (KernelClassifierCV(rbf_kernel, {"gamma": 0.1}), r"param_grid\['gamma'\]"),
        (KernelClassifierCV(rbf_kernel, diagonal=1.0), "diagonal must be None or a function"),
        (KernelClassifierCV(lambda X, X2=None: np.ones((len(X), 3))), "must return a 2-D Gram"),
        (KernelClassifierCV(lambda X, X2=None: np.ones((3, 3))), "y has 20 entries"),
        (KernelClassifierCV(lambda X, X2=None: np.full((20, 20), np.nan)), "NaN or infinite"),
        (KernelClassifierCV(rbf_kernel, Cs=[-1.0]), "Cs must be"),
        (KernelClassifierCV(rbf_kernel, kernel_scalings=["l2"]), "kernel_scalings"),
        (
            KernelClassifierCV(lambda X, X2=None: np.zeros((len(X), len(X)))),
            "which is 0 here.*leave 'trace' out of kernel_scalings",
        ),
        (KernelClassifierCV(rbf_kernel, cv="a"), "cv must be an int"),
        (KernelClassifierCV(rbf_kernel, []), "param_grid is an empty list"),
    ],
)
def test_kernel_cv_bad_parameters_name_the_argument(search, message):
    X, y = vector_classes(19, n=20)
    error = TypeError if "a function" in message else ValueError
    with pytest.raises(error, match=message):
        search.fit(X, y)


def test_kernel_cv_reads_the_given_diagonal_for_cosine_test_rows():
    X, y = vector_classes(20)
    calls = []

    def diagonal(X, **params):
        calls.append(len(X))
        return np.diag(polynomial_kernel(X, **params))

    options = {"param_grid": {"degree": [2]}, "kernel_scalings": ("cosine",), "Cs": (1.0,)}
    given = KernelClassifierCV(polynomial_kernel, diagonal=diagonal, **options).fit(X[:24], y[:24])
    default = KernelClassifierCV(polynomial_kernel, **options).fit(X[:24], y[:24])
    np.testing.assert_allclose(
        given.decision_function(X[24:]), default.decision_function(X[24:]), rtol=1e-12
    )
    assert calls == [6]
    restored = pickle.loads(pickle.dumps(default))
    np.testing.assert_array_equal(restored.predict(X[24:]), default.predict(X[24:]))
    assert clone(default).get_params()["kernel"] is polynomial_kernel


def test_kernel_cv_takes_test_self_kernels_from_gram_blocks_not_the_whole_gram(monkeypatch):
    # Without a diagonal function the test rows' self-kernels come from the
    # diagonals of Gram blocks of the test samples (the whole Gram of a large test
    # set does not fit in memory): blocks of 4 here, a last one of 2, in order.
    monkeypatch.setattr("rntk.sklearn._classifier_cv.SELF_KERNEL_BLOCK", 4)
    X, y = vector_classes(21, n=40)
    shapes = []

    def kernel(X, X2=None, **params):
        if X2 is None:
            shapes.append(len(X))
        return polynomial_kernel(X, X2, **params)

    def diagonal(X, **params):
        return (np.einsum("ij,ij->i", X, X) + 1.0) ** 2

    options = {"param_grid": {"degree": [2], "gamma": [1.0]}, "kernel_scalings": ("cosine",)}
    default = KernelClassifierCV(kernel, Cs=(1.0,), **options).fit(X[:24], y[:24])
    given = KernelClassifierCV(kernel, Cs=(1.0,), diagonal=diagonal, **options)
    given.fit(X[:24], y[:24])
    shapes.clear()
    decision = default.decision_function(X[24:34])
    assert shapes == [4, 4, 2]
    np.testing.assert_allclose(decision, given.decision_function(X[24:34]), rtol=1e-12)


# --- RNTKFeatures ----------------------------------------------------------------


def test_features_reproduce_the_kernel_with_every_landmark():
    X, y = two_classes(13, n=16)
    features = RNTKFeatures(n_components=16, kernel="nngp", sigma_w=1.3).fit(X)
    F = features.transform(X)
    gram = rntk.kernel(X, get="nngp", sigma_w=1.3)
    np.testing.assert_allclose(F @ F.T, gram, rtol=0, atol=1e-10 * np.abs(gram).max())
    np.testing.assert_array_equal(np.sort(features.landmark_indices_), np.arange(16))
    with pytest.warns(UserWarning, match="n_components was set to 16"):
        assert RNTKFeatures(n_components=40).fit(X).n_components_ == 16
    pipeline = make_pipeline(RNTKFeatures(n_components=12, random_state=0), RidgeClassifier())
    assert pipeline.fit(X, y).score(X, y) > 0.8


def test_features_pass_the_landmark_rule_and_seed_to_nystroem():
    X, _ = two_classes(15, n=20)
    for landmarks in ("uniform", "rpcholesky", "greedy"):
        features = RNTKFeatures(n_components=6, landmarks=landmarks, random_state=3, depth=2)
        expected = Nystroem(rntk.RNTK(depth=2), 6, landmarks=landmarks, random_state=3).fit(X)
        np.testing.assert_array_equal(features.fit(X).landmark_indices_, expected.landmark_indices_)


# --- scikit-learn integration ------------------------------------------------------


def test_clone_pickle_grid_search_and_cross_val_score():
    X, y = two_classes(14, n=24)
    X = nan_padded(X)
    model = RNTKClassifier(C=3.0, sigma_w=1.3, readout="mean")
    copy = clone(model)
    assert copy.get_params() == model.get_params() and copy is not model
    fitted = model.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.decision_function(X), fitted.decision_function(X))
    scores = cross_val_score(RNTKClassifier(kernel_scaling="trace"), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6
    search = GridSearchCV(RNTKRegressor(), {"alpha": [0.01, 1.0], "depth": [1, 2]}, cv=3)
    search.fit(X, y.astype(float))
    assert set(search.best_params_) == {"alpha", "depth"}


CHECK_ESTIMATOR_EXPECTED_FAILURES = {
    "check_n_features_in": "a 2-D X holds univariate sequences: its columns are time steps, "
    "and sequences of another length are valid input; only the features per step must match",
    "check_n_features_in_after_fitting": "as check_n_features_in: another number of columns is "
    "another sequence length, which the kernel reads",
    "check_classifiers_train": "it asserts that predict refuses another number of columns, "
    "which is another sequence length here; fit, predict and accuracy are tested above",
    "check_transformer_general": "as check_classifiers_train, for transform",
    "check_transformer_data_not_an_array": "as check_classifiers_train, for transform",
}


@pytest.mark.parametrize(
    "estimator",
    [
        RNTKClassifier(kernel_scaling="trace"),
        RNTKRegressor(alpha=0.1),
        RNTKClassifierCV({"sigma_w": [1.3, 1.4]}, Cs=(1.0, 10.0), n_repeats=1),
        RNTKFeatures(n_components=8, random_state=0),
        RNTKFeatures(n_components=8, landmarks="rpcholesky", random_state=0),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_check_estimator(estimator):
    check_estimator(estimator, expected_failed_checks=CHECK_ESTIMATOR_EXPECTED_FAILURES)


def test_check_estimator_kernel_cv():
    reason = "X goes to the kernel unchanged: the kernel, not the search, reads its features"
    expected_failures = {
        "check_n_features_in": reason,
        "check_n_features_in_after_fitting": reason,
        "check_estimator_sparse_tag": "the kernel decides which inputs it accepts; "
        "sklearn.metrics.pairwise.rbf_kernel accepts sparse matrices",
    }
    search = KernelClassifierCV(
        pairwise.rbf_kernel, {"gamma": [0.1, 1.0]}, Cs=(1.0, 10.0), n_repeats=1
    )
    check_estimator(search, expected_failed_checks=expected_failures)


def test_cv_trace_scale_comes_from_the_fitting_folds_only():
    # Quiet fitting folds, loud validation sequences: the mean diagonal of the
    # fitting folds and that of the whole set differ by orders of magnitude,
    # and so does the effective C.
    X, y = two_classes(15, n=24)
    loud = np.arange(24) >= 16
    X = [x * (30.0 if is_loud else 0.3) for x, is_loud in zip(X, loud, strict=True)]
    fit, validate = np.flatnonzero(~loud), np.flatnonzero(loud)
    Cs = (0.001, 0.01, 0.1, 1.0, 10.0)
    search = RNTKClassifierCV(Cs=Cs, kernel_scalings=("trace",), cv=[(fit, validate)]).fit(X, y)
    gram = rntk.kernel(X)
    expected = {}
    for name, divisor in (("folds", np.mean(np.diag(gram)[fit])), ("all", np.mean(np.diag(gram)))):
        expected[name] = []
        for c in Cs:
            svm = SVC(C=c, kernel="precomputed").fit(gram[np.ix_(fit, fit)] / divisor, y[fit])
            validation = svm.predict(gram[np.ix_(validate, fit)] / divisor)
            expected[name].append(np.mean(validation == y[validate]))
    assert expected["folds"] != expected["all"]  # the test can tell them apart
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], expected["folds"])


def states_read(length: int, stride: int) -> int:
    """The states a mean head reads: every stride-th counted back from the last."""
    return len(range(length - 1, -1, -stride))


@pytest.mark.parametrize(
    ("length", "max_states"), [(150, 32), (32, 32), (33, 32), (1344, 32), (7, 2)]
)
def test_mean_pool_stride_is_the_smallest_that_reads_at_most_the_states(length, max_states):
    X = [np.zeros(length // 2 + 1), np.zeros(length)]
    stride = mean_pool_stride(X, max_states)
    assert states_read(length, stride) <= max_states
    assert stride == 1 or states_read(length, stride - 1) > max_states
    with pytest.raises(ValueError, match="max_pooled_states must be a positive integer"):
        mean_pool_stride(X, 0)


def test_rntk_head_grid_crosses_the_heads_with_the_kernel_grid_in_order():
    X = [np.zeros((150, 1)), np.zeros((90, 1))]
    kernel_grid = {"activation": ("relu", "erf"), "sigma_w": (1.34, 1.4)}
    grid = rntk_head_grid(X, kernel_grid)
    assert grid == [
        {"readout": ("last",), "bidirectional": (False,), **kernel_grid},
        {"readout": ("last",), "bidirectional": (True,), **kernel_grid},
        {"readout": ("mean",), "bidirectional": (False,), **kernel_grid, "pool_stride": (5,)},
        {"readout": ("mean",), "bidirectional": (True,), **kernel_grid, "pool_stride": (5,)},
    ]
    assert [list(point) for point in grid][2] == [
        "readout",
        "bidirectional",
        "activation",
        "sigma_w",
        "pool_stride",
    ]
    assert rntk_head_grid(X, {}, heads=("bi-mean",), max_pooled_states=16)[0]["pool_stride"] == (
        10,
    )
    with pytest.raises(ValueError, match="heads must be"):
        rntk_head_grid(X, {}, heads=("first",))
    with pytest.raises(ValueError, match="may not hold 'readout'"):
        rntk_head_grid(X, {"readout": ("last",)})


def test_a_search_on_the_head_grid_scores_the_heads_in_their_order():
    X, y = two_classes(5, n=16)
    search = RNTKClassifierCV(
        rntk_head_grid(X, {"sigma_w": [1.3]}, max_pooled_states=4),
        Cs=(1.0,),
        kernel_scalings=("trace",),
        n_repeats=1,
    ).fit(X, y)
    heads = [head_name(params) for params in search.cv_results_["params"]]
    assert heads == ["last", "bi-last", "mean", "bi-mean"]
    strides = [params.get("pool_stride") for params in search.cv_results_["params"]]
    longest = max(len(x) for x in X)
    assert strides[:2] == [None, None] and strides[2] == strides[3] == -(-longest // 4)
    np.testing.assert_array_equal(
        search.predict(X), majority_vote(list(search.voter_predictions(X)), search.classes_)
    )
