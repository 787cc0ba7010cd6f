"""Predictors: kernel ridge regression against primal ridge regression and scikit-learn,
gradient-flow means against explicit gradient descent and an ODE solve on linear models."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rntk.predict import NotPositiveDefiniteError, gradient_flow_mean, kernel_ridge_regression


@pytest.fixture
def linear_problem():
    """Features of a linear model f(x) = <w, phi(x)>: the kernel is K = Phi Phi^T."""
    rng = np.random.default_rng(0)
    train, test = rng.standard_normal((12, 5)), rng.standard_normal((4, 5))
    targets = train @ rng.standard_normal(5) + 0.3 * rng.standard_normal(12)
    return train, test, targets


def test_kernel_ridge_matches_primal_ridge_regression(linear_problem):
    train, test, targets = linear_problem
    ridge = 0.7
    weights = np.linalg.solve(train.T @ train + ridge * np.eye(5), train.T @ targets)
    predictions = kernel_ridge_regression(train @ train.T, targets, test @ train.T, ridge=ridge)
    np.testing.assert_allclose(predictions, test @ weights, rtol=1e-10)


def test_kernel_ridge_matches_scikit_learn():
    kernel_ridge = pytest.importorskip("sklearn.kernel_ridge")
    rng = np.random.default_rng(1)
    points = rng.standard_normal((15, 3))
    gram = np.exp(-np.sum((points[:, None] - points[None]) ** 2, axis=-1))
    targets = rng.standard_normal((10, 2))
    model = kernel_ridge.KernelRidge(alpha=0.1, kernel="precomputed")
    model.fit(gram[:10, :10], targets)
    np.testing.assert_allclose(
        kernel_ridge_regression(gram[:10, :10], targets, gram[10:, :10], ridge=0.1),
        model.predict(gram[10:, :10]),
        rtol=1e-10,
    )


def test_kernel_regression_interpolates_and_relative_ridge_scales_with_trace():
    rng = np.random.default_rng(2)
    features = rng.standard_normal((6, 10))
    gram, targets = features @ features.T, rng.standard_normal(6)
    np.testing.assert_allclose(kernel_ridge_regression(gram, targets), targets, rtol=1e-9)
    mean_diagonal = np.trace(gram) / 6
    np.testing.assert_allclose(
        kernel_ridge_regression(gram, targets, ridge=0.5, relative_ridge=True),
        kernel_ridge_regression(gram, targets, ridge=0.5 * mean_diagonal),
        rtol=1e-12,
    )
    # A relative ridge is scale-free: scaling the kernel leaves the predictions unchanged.
    np.testing.assert_allclose(
        kernel_ridge_regression(1e6 * gram, targets, ridge=0.5, relative_ridge=True),
        kernel_ridge_regression(gram, targets, ridge=0.5, relative_ridge=True),
        rtol=1e-10,
    )


def test_singular_gram_raises_a_clear_error_and_a_ridge_fixes_it(linear_problem):
    train, _, targets = linear_problem
    gram = train @ train.T  # rank 5 < 12
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite.*ridge"):
        kernel_ridge_regression(gram, targets)
    indefinite = np.diag([1.0, -1.0])
    with pytest.raises(np.linalg.LinAlgError, match="smallest eigenvalue of k_train_train -1"):
        kernel_ridge_regression(indefinite, np.ones(2), ridge=0.5)
    assert np.all(
        np.isfinite(kernel_ridge_regression(gram, targets, ridge=1e-8, relative_ridge=True))
    )


def test_invalid_arguments_are_named():
    gram = np.eye(3)
    with pytest.raises(ValueError, match="k_train_train must be a square"):
        kernel_ridge_regression(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="k_train_train must be symmetric"):
        kernel_ridge_regression(np.triu(np.ones((3, 3))), np.ones(3))
    with pytest.raises(ValueError, match=r"y_train must have shape \(3,\)"):
        kernel_ridge_regression(gram, np.ones(4))
    with pytest.raises(ValueError, match=r"k_test_train must have shape \(n_test, 3\)"):
        kernel_ridge_regression(gram, np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="y_train contains NaN"):
        kernel_ridge_regression(gram, np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="ridge"):
        kernel_ridge_regression(gram, np.ones(3), ridge=-1.0)
    with pytest.raises(ValueError, match="time"):
        gradient_flow_mean(gram, np.ones(3), time=-1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_flow_mean(gram, np.ones(3), time=1.0, learning_rate=0.0)


def _gradient_descent(train, test, targets, initial_weights, step, n_steps, weight_decay=0.0):
    """Explicit gradient descent on (1/2n) |Phi w - y|^2 + (decay/2n) |w - w0|^2."""
    n = len(targets)
    weights = initial_weights.copy()
    for _ in range(n_steps):
        residuals = train @ weights - targets
        gradient = train.T @ residuals + weight_decay * (weights - initial_weights)
        weights -= step / n * gradient
    return test @ weights


@pytest.mark.parametrize("n_features", [5, 30])  # singular and non-singular Gram matrices
def test_gradient_flow_mean_matches_gradient_descent_on_a_linear_model(n_features):
    rng = np.random.default_rng(3)
    train, test = rng.standard_normal((12, n_features)), rng.standard_normal((4, n_features))
    targets = rng.standard_normal(12)
    # Gradient descent with a small step approximates the flow; the mean over
    # initialisations of a linear model is exactly the mean over an antithetic pair.
    initial = rng.standard_normal(n_features)
    step, n_steps = 1e-3, 2000
    learning_rate = 0.5
    runs = [
        _gradient_descent(train, test, targets, sign * initial, step * learning_rate, n_steps)
        for sign in (1, -1)
    ]
    predicted = gradient_flow_mean(
        train @ train.T, targets, test @ train.T, time=step * n_steps, learning_rate=learning_rate
    )
    np.testing.assert_allclose(predicted, np.mean(runs, axis=0), rtol=2e-3, atol=2e-3)


def test_gradient_flow_with_ridge_matches_an_ode_solve_with_weight_decay(linear_problem):
    train, test, targets = linear_problem
    decay, n = 2.0, len(targets)

    def velocity(_, weights):
        return -(train.T @ (train @ weights - targets) + decay * weights) / n

    times = np.array([0.3, 2.0, 15.0])
    solution = solve_ivp(
        velocity, (0, times[-1]), np.zeros(5), t_eval=times, rtol=1e-11, atol=1e-13
    )
    expected = (test @ solution.y).T  # (n_times, n_test)
    predicted = gradient_flow_mean(
        train @ train.T, targets, test @ train.T, time=times, ridge=decay
    )
    np.testing.assert_allclose(predicted, expected, rtol=1e-8, atol=1e-10)


def test_gradient_flow_limits():
    rng = np.random.default_rng(4)
    features = rng.standard_normal((8, 20))
    gram, cross = features[:6] @ features[:6].T, features[6:] @ features[:6].T
    targets = rng.standard_normal((6, 3))
    predictions = gradient_flow_mean(
        gram, targets, cross, time=[0.0, 1e-7, np.inf], learning_rate=2.0
    )
    assert predictions.shape == (3, 2, 3)
    np.testing.assert_array_equal(predictions[0], 0.0)
    # first order in t: eta t / n * K_test y
    np.testing.assert_allclose(predictions[1], 2.0 * 1e-7 / 6 * cross @ targets, rtol=1e-6)
    np.testing.assert_allclose(
        predictions[2], kernel_ridge_regression(gram, targets, cross), rtol=1e-8
    )
    np.testing.assert_allclose(
        gradient_flow_mean(gram, targets, cross, time=np.inf, ridge=0.1, relative_ridge=True),
        kernel_ridge_regression(gram, targets, cross, ridge=0.1, relative_ridge=True),
        rtol=1e-9,
    )


def test_gradient_flow_refuses_diverging_or_infinite_time_on_singular_kernels(linear_problem):
    train, _, targets = linear_problem
    singular = train @ train.T
    assert np.all(np.isfinite(gradient_flow_mean(singular, targets, time=1e3)))
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
        gradient_flow_mean(singular, targets, time=np.inf)
    with pytest.raises(NotPositiveDefiniteError, match="not positive semi-definite.*diverges"):
        gradient_flow_mean(np.diag([1.0, -0.5]), np.ones(2), time=1.0)
