r"""Predictors from precomputed Gram matrices: kernel ridge regression and gradient flow.

Both take the Gram matrices in the orientation of neural-tangents'
``predict`` module: ``k_train_train`` of shape ``(n, n)`` between the training
inputs, and ``k_test_train`` of shape ``(n_test, n)`` between the test and the
training inputs (``None`` predicts at the training inputs). Targets are
``(n,)`` or ``(n, k)`` for ``k`` outputs. Any kernel of this library, the RNTK
or a baseline of :mod:`rntk.baselines`, can be plugged in.

:func:`gradient_flow_mean` is the reason the RNTK matters for training: an
infinitely wide network trained by gradient flow on the squared loss moves in
function space along its (constant) NTK, so its mean prediction at any training
time is a closed-form function of the kernel (Jacot et al. 2018; Lee et al.
2019); at ``time = inf`` it is kernel regression, :func:`kernel_ridge_regression`.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .options import check_non_negative, check_positive, check_real_array

__all__ = ["NotPositiveDefiniteError", "gradient_flow_mean", "kernel_ridge_regression"]


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """The (regularised) training Gram matrix is not positive (semi-)definite."""


def _check_matrix(value, name: str) -> np.ndarray:
    array = check_real_array(value, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf")
    return array


def _validate(k_train_train, y_train, k_test_train):
    """Check shapes and values; return ``(K, Y, K_test, y_was_1d)`` with ``Y`` 2-D."""
    gram = _check_matrix(k_train_train, "k_train_train")
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or gram.shape[0] == 0:
        raise ValueError(
            f"k_train_train must be a square (n, n) Gram matrix with n >= 1, got shape {gram.shape}"
        )
    n = gram.shape[0]
    asymmetry = np.max(np.abs(gram - gram.T))
    if asymmetry > 1e-8 * max(1.0, np.max(np.abs(gram))):
        raise ValueError(
            f"k_train_train must be symmetric; max |K - K.T| = {asymmetry:.3g}. Pass the "
            "Gram matrix of the training inputs with themselves"
        )
    targets = _check_matrix(y_train, "y_train")
    if targets.ndim not in (1, 2) or targets.shape[0] != n:
        raise ValueError(
            f"y_train must have shape ({n},) or ({n}, k) to match k_train_train {gram.shape}, "
            f"got shape {targets.shape}"
        )
    one_output = targets.ndim == 1
    if one_output:
        targets = targets[:, None]
    if k_test_train is None:
        test_gram = gram
    else:
        test_gram = _check_matrix(k_test_train, "k_test_train")
        if test_gram.ndim != 2 or test_gram.shape[1] != n:
            raise ValueError(
                f"k_test_train must have shape (n_test, {n}) (test inputs against the {n} "
                f"training inputs), got shape {test_gram.shape}"
            )
    return gram, targets, test_gram, one_output


def _effective_ridge(gram: np.ndarray, ridge, relative_ridge: bool) -> float:
    ridge = check_non_negative(ridge, "ridge")
    if relative_ridge:
        return float(ridge) * float(np.trace(gram)) / gram.shape[0]
    return float(ridge)


def _not_positive_definite(gram: np.ndarray, ridge: float, semi: bool) -> NotPositiveDefiniteError:
    smallest = float(linalg.eigvalsh(gram, subset_by_index=(0, 0))[0])
    kind = "positive semi-definite" if semi else "positive definite"
    consequence = "gradient flow diverges along" if semi else "it cannot be inverted in"
    return NotPositiveDefiniteError(
        f"k_train_train + ridge * I is not {kind} (smallest eigenvalue of k_train_train "
        f"{smallest:.3g}, ridge {ridge:.3g}), so {consequence} some direction. The Gram "
        "matrix is singular or indefinite (repeated training inputs, rounding, or a kernel "
        "that is not positive definite); pass a larger ridge, e.g. ridge=1e-8 with "
        "relative_ridge=True"
    )


def _finish(predictions: np.ndarray, one_output: bool) -> np.ndarray:
    return predictions[..., 0] if one_output else predictions


def kernel_ridge_regression(
    k_train_train,
    y_train,
    k_test_train=None,
    *,
    ridge: float = 0.0,
    relative_ridge: bool = False,
) -> np.ndarray:
    r"""Kernel ridge regression from precomputed Gram matrices.

    .. math::

        \hat y(X_*) = K(X_*, X)\,\bigl(K(X, X) + \lambda I\bigr)^{-1} y,

    solved by a Cholesky factorisation. With ``ridge = 0`` it interpolates the
    training targets (kernel regression, the ``t = inf`` limit of
    :func:`gradient_flow_mean`); it is also the posterior mean of a Gaussian
    process with covariance ``K`` and noise variance ``lambda``.

    Parameters
    ----------
    k_train_train : array of shape (n, n)
        Symmetric Gram matrix of the training inputs.
    y_train : array of shape (n,) or (n, k)
        Training targets.
    k_test_train : array of shape (n_test, n), optional
        Gram matrix of the test inputs against the training inputs; ``None``
        predicts at the training inputs.
    ridge : float, default 0
        The regulariser ``lambda >= 0`` added to the diagonal.
    relative_ridge : bool, default False
        If True, ``lambda = ridge * trace(K) / n``: the ridge is relative to the
        mean of the diagonal, so the same value suits kernels of any scale.

    Returns
    -------
    ndarray of shape (n_test,) or (n_test, k)

    Raises
    ------
    NotPositiveDefiniteError
        If ``K + lambda I`` is not numerically positive definite; the message
        gives the smallest eigenvalue and suggests a ridge.
    ValueError, TypeError
        For mismatched shapes, non-finite values, a non-symmetric
        ``k_train_train`` or a negative ridge; the message names the argument.

    References
    ----------
    .. [1] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press, 2006, section 2.2.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.predict import kernel_ridge_regression
    >>> X = np.array([[0.0], [1.0]])
    >>> K = X @ X.T + 1.0        # kernel of the affine model a x + b
    >>> y = np.array([1.0, 3.0])  # y = 2 x + 1
    >>> kernel_ridge_regression(K, y, np.array([[3.0]]) @ X.T + 1.0).round(6)
    array([7.])
    """
    gram, targets, test_gram, one_output = _validate(k_train_train, y_train, k_test_train)
    regulariser = _effective_ridge(gram, ridge, relative_ridge)
    regularised = gram + regulariser * np.eye(gram.shape[0])
    try:
        factor = linalg.cho_factor(regularised, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise _not_positive_definite(gram, regulariser, semi=False) from None
    coefficients = linalg.cho_solve(factor, targets, check_finite=False)
    return _finish(test_gram @ coefficients, one_output)


def gradient_flow_mean(
    k_train_train,
    y_train,
    k_test_train=None,
    *,
    time,
    learning_rate: float = 1.0,
    ridge: float = 0.0,
    relative_ridge: bool = False,
) -> np.ndarray:
    r"""Mean prediction of an infinitely wide network trained by gradient flow for a time ``t``.

    The network is trained on the squared loss
    :math:`\mathcal L(\theta) = \frac{1}{2n} \sum_{i=1}^n \lVert f_\theta(x_i) - y_i \rVert^2`
    by gradient flow :math:`\dot\theta = -\eta \nabla_\theta \mathcal L` from a
    random initialisation whose outputs have mean zero. In the infinite-width
    limit the NTK ``K`` stays constant, the network is linear in its
    parameters, and the prediction averaged over initialisations is

    .. math::

        \mu_t(X_*) = K(X_*, X)\, (K + \lambda I)^{-1}
                     \left(I - e^{-\eta t (K + \lambda I) / n}\right) y .

    With ``ridge = lambda > 0`` this is the flow with the weight decay
    :math:`\frac{\lambda}{2n} \lVert \theta - \theta_0 \rVert^2` added to the loss
    (exact for a linear model). ``t = 0`` gives zero; ``t = inf`` gives
    :func:`kernel_ridge_regression`. Evaluated from one eigendecomposition,
    ``(1 - e^{-c\mu}) / \mu`` with ``expm1`` (exact as ``mu -> 0``), so a
    singular positive semi-definite ``K`` is fine at finite ``t``.

    Parameters
    ----------
    k_train_train : array of shape (n, n)
        Symmetric NTK Gram matrix of the training inputs.
    y_train : array of shape (n,) or (n, k)
        Training targets.
    k_test_train : array of shape (n_test, n), optional
        NTK of the test inputs against the training inputs; ``None`` predicts
        at the training inputs.
    time : float or 1-D array of float
        Training time(s) ``t >= 0``; ``numpy.inf`` for the end of training.
        Several times cost one eigendecomposition.
    learning_rate : float, default 1
        The gradient-flow rate ``eta > 0``; only ``eta * t`` matters.
    ridge : float, default 0
        Weight decay ``lambda >= 0`` (added to the diagonal of ``K``).
    relative_ridge : bool, default False
        If True, ``lambda = ridge * trace(K) / n``.

    Returns
    -------
    ndarray of shape (n_test,) or (n_test, k) for a scalar ``time``; with a
    leading axis over times for an array.

    Raises
    ------
    NotPositiveDefiniteError
        If ``K + lambda I`` has a clearly negative eigenvalue (the flow
        diverges), or is singular and ``time`` includes ``inf``.
    ValueError, TypeError
        For mismatched shapes, non-finite values, negative times or ridge, or a
        non-positive learning rate; the message names the argument.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel: Convergence
       and Generalization in Neural Networks", NeurIPS 2018.
    .. [2] J. Lee, L. Xiao, S. S. Schoenholz, Y. Bahri, R. Novak, J. Sohl-Dickstein,
       J. Pennington, "Wide Neural Networks of Any Depth Evolve as Linear Models
       Under Gradient Descent", NeurIPS 2019.
    .. [3] S. Alemohammad, Z. Wang, R. Balestriero, R. Baraniuk, "The Recurrent
       Neural Tangent Kernel", ICLR 2021, section 3.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.predict import gradient_flow_mean
    >>> K, y = np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1.0, 1.0])
    >>> # independent directions relax at rates eta * mu / n = 1 and 1/2
    >>> pred = gradient_flow_mean(K, y, time=[0.0, 1.0, np.inf])
    >>> bool(np.allclose(pred[1], [1 - np.exp(-1), 1 - np.exp(-0.5)]))
    True
    >>> pred[[0, 2]]
    array([[0., 0.],
           [1., 1.]])
    """
    gram, targets, test_gram, one_output = _validate(k_train_train, y_train, k_test_train)
    times = np.asarray(time)
    if times.dtype.kind not in "iuf":  # no strings, booleans or objects
        raise TypeError(f"time must be a non-negative number or a 1-D array of them, got {time!r}")
    times = times.astype(np.float64, copy=False)
    if times.ndim > 1 or np.isnan(times).any() or (times < 0).any():
        raise ValueError(f"time must be a non-negative number or a 1-D array of them, got {time!r}")
    learning_rate = check_positive(learning_rate, "learning_rate")
    regulariser = _effective_ridge(gram, ridge, relative_ridge)
    n = gram.shape[0]

    eigenvalues, eigenvectors = linalg.eigh(gram, check_finite=False)
    eigenvalues += regulariser
    # Rounding leaves eigenvalues of a singular PSD matrix at about n * eps * |K| either side of 0.
    tolerance = n * np.finfo(np.float64).eps * max(np.abs(eigenvalues).max(), 1e-300)
    if eigenvalues[0] < -tolerance:
        raise _not_positive_definite(gram, regulariser, semi=True)
    positive = eigenvalues > tolerance
    if np.isinf(times).any() and not positive.all():
        raise _not_positive_definite(gram, regulariser, semi=False)
    eigenvalues = np.where(positive, eigenvalues, 0.0)

    rates = np.atleast_1d(times)[:, None] * (learning_rate / n)  # (n_times, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # (1 - exp(-c mu)) / mu: 1 / mu at c = inf, and its limit c at mu = 0.
        spectral_weights = np.where(positive, -np.expm1(-rates * eigenvalues) / eigenvalues, rates)
    projected_targets = eigenvectors.T @ targets  # (n, k)
    coefficients = eigenvectors @ (spectral_weights[:, :, None] * projected_targets)
    predictions = test_gram @ coefficients  # (n_times, n_test, k)
    predictions = _finish(predictions, one_output)
    return predictions[0] if times.ndim == 0 else predictions
