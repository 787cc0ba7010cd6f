"""The kernel machines on the RNTK: a support vector classifier and a regressor."""

from __future__ import annotations

import numbers

import numpy as np
from scipy import linalg
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.svm import SVC
from sklearn.utils.validation import check_array

from .._kernel import RNTK
from ..predict import gradient_flow_mean, kernel_ridge_regression
from ..prepared import PreparedSequences
from ..sequences import SequenceBatch
from ._base import _RNTKEstimator
from ._scaling import _GramScaling, _once
from ._validation import (
    _as_batch,
    _check_kernel_scaling,
    _check_targets_length,
    _classification_targets,
)


class _KernelMachine(_RNTKEstimator):
    """An estimator on the Gram matrix of its training sequences.

    ``fit`` keeps the kernel it computed (``kernel_``), the training sequences
    and the scaling of their Gram matrix; prediction reads only these.
    """

    def _fit(self, X, y: np.ndarray) -> _KernelMachine:
        """Validate ``X`` (and the length of the validated ``y``), compute its kernel, fit."""
        self._check_kernel_name()
        _check_kernel_scaling(self.kernel_scaling)
        batch = _as_batch(X, "X")
        _check_targets_length(y, batch)
        kernel = self._kernel()
        return self._fit_precomputed(kernel, batch, kernel(batch), y)

    def _fit_precomputed(
        self, kernel: RNTK, batch: SequenceBatch, raw_gram: np.ndarray, y: np.ndarray
    ) -> _KernelMachine:
        """Fit on the sequences ``batch``, whose Gram matrix under ``kernel`` is ``raw_gram``."""
        self.kernel_ = kernel
        self.X_fit_ = batch
        self.n_features_per_step_ = batch.n_features
        self.scaling_ = _GramScaling(np.diag(raw_gram).copy(), self.normalize, self.kernel_scaling)
        self._fit_scaled(self.scaling_.train(raw_gram), y)
        return self._record_fit()

    def _test_gram(self, X) -> tuple[np.ndarray, PreparedSequences]:
        """The scaled Gram matrix of new sequences against the training ones, and the
        sequences prepared for ``kernel_`` (for their self-kernels)."""
        batch = self._new_sequences(X)  # checks first that the model is fitted
        prepared = self.kernel_.prepare(batch)
        raw, diagonal = self._raw_test_gram(prepared)
        return self.scaling_.test(raw, diagonal), prepared

    def _raw_test_gram(self, sequences: SequenceBatch | PreparedSequences):
        """The raw kernel of ``sequences`` against the training ones, and a function that
        gives their self-kernels (read once, when first asked for). Both come from one
        preparation of ``sequences``."""
        prepared = self.kernel_.prepare(sequences)
        return self.kernel_(prepared, self.X_fit_), _once(lambda: self.kernel_.diag(prepared))


class RNTKClassifier(ClassifierMixin, _KernelMachine):
    """A support vector machine on the RNTK (or its NNGP).

    ``fit`` computes the Gram matrix of the training sequences and fits
    ``sklearn.svm.SVC(kernel="precomputed")`` on it; ``predict`` computes the
    kernel of the new sequences against the stored training sequences.

    Parameters
    ----------
    C : float, default 1
        The SVM's penalty (as in ``sklearn.svm.SVC``).
    kernel : {"ntk", "nngp"}, default "ntk"
        The neural tangent kernel of the RNN, or its NNGP (output covariance).
    kernel_scaling : {None, "trace"}, default None
        ``"trace"`` divides the kernel by the mean of its diagonal over the
        training sequences (after the cosine form if ``normalize``), which
        makes ``C`` independent of the kernel's scale.
    max_iter : int, default -1
        Passed to ``SVC``: a cap on libsvm's iterations (-1: none).
    **kernel_parameters
        Keyword-only: the parameters of :class:`rntk.RNTK` (see
        :mod:`rntk.sklearn`), e.g. ``activation``, ``depth``, ``sigma_w``,
        ``readout``, ``normalize``, ``n_jobs``.

    Attributes
    ----------
    classes_ : ndarray
        The class labels.
    svm_ : sklearn.svm.SVC
        The fitted SVM on the precomputed (scaled) Gram matrix.
    n_iter_ : ndarray of int
        libsvm's iterations per one-against-one problem (``svm_.n_iter_``).
    X_fit_ : rntk.sequences.SequenceBatch
        The training sequences, validated.
    n_features_per_step_ : int
        Features per step of the training sequences.
    kernel_ : rntk.RNTK
        The kernel of the fit (raw: ``normalize`` and ``kernel_scaling`` are
        applied to its values), which ``predict`` computes against ``X_fit_``.
    fitted_params_ : dict
        The parameters of the last ``fit`` (``get_params()`` then), which
        prediction reads; ``set_params`` takes effect at the next ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import RNTKClassifier
    >>> rng = np.random.default_rng(0)
    >>> lengths = rng.integers(20, 40, size=20)
    >>> X = [np.sin(np.linspace(0, 3 * (1 + i % 2), t)) for i, t in enumerate(lengths)]
    >>> y = np.arange(20) % 2
    >>> RNTKClassifier(C=10.0, kernel_scaling="trace").fit(X, y).score(X, y)
    1.0
    """

    def __init__(self, C=1.0, kernel="ntk", kernel_scaling=None, max_iter=-1, **kernel_parameters):
        self.C = C
        self.kernel = kernel
        self.kernel_scaling = kernel_scaling
        self.max_iter = max_iter
        self._set_kernel_parameters(kernel_parameters)

    def fit(self, X, y):
        """Fit the SVM on the Gram matrix of the training sequences ``X`` with labels ``y``."""
        self._discard_fit()
        return self._fit(X, _classification_targets(y))

    def _fit_scaled(self, gram: np.ndarray, y: np.ndarray) -> None:
        self.svm_ = SVC(C=self.C, kernel="precomputed", max_iter=self.max_iter).fit(gram, y)
        self.classes_ = self.svm_.classes_
        self.n_iter_ = self.svm_.n_iter_

    def decision_function(self, X) -> np.ndarray:
        """The SVM's decision function for the sequences ``X`` (as ``SVC.decision_function``)."""
        gram = self._test_gram(X)[0]  # checks first that the model is fitted
        return self.svm_.decision_function(gram)

    def predict(self, X) -> np.ndarray:
        """The predicted class of each sequence of ``X``."""
        gram = self._test_gram(X)[0]
        return self.svm_.predict(gram)


class RNTKRegressor(RegressorMixin, _KernelMachine):
    r"""Kernel ridge regression with the RNTK, its Gaussian-process posterior, or gradient flow.

    With ``t=None`` the prediction is kernel ridge regression
    (:func:`rntk.predict.kernel_ridge_regression`),

    .. math::

        \mu(x) = k(x, X) (K + \alpha I)^{-1} y,

    which is also the posterior mean of a Gaussian process with prior
    covariance ``k`` (the chosen kernel, scaled as asked) and Gaussian noise of
    variance ``alpha`` on the targets. ``predict(X, return_std=True)`` returns
    that posterior's standard deviation of the noise-free function,

    .. math::

        \sigma(x) = \sqrt{k(x, x) - k(x, X) (K + \alpha I)^{-1} k(X, x)},

    (the noise is not added, as in ``sklearn.gaussian_process`` with
    ``alpha``). With ``kernel="nngp"`` the prior is that of the infinitely
    wide RNN at initialisation; the Bayesian posterior of such a network.

    With a time ``t`` the prediction is the mean, over random initialisations,
    of an infinitely wide network trained by gradient flow on the squared loss
    for a time ``t`` (:func:`rntk.predict.gradient_flow_mean`, learning rate 1,
    weight decay ``alpha``): with ``kernel="ntk"`` all weights are trained,
    with ``kernel="nngp"`` only the read-out. ``t = inf`` is ``t=None``. The
    standard deviation is then not the one of this ensemble (which needs both
    kernels) and ``return_std=True`` raises.

    Parameters
    ----------
    alpha : float, default 1
        Ridge, noise variance of the Gaussian process, or weight decay; in the
        units of the (scaled) kernel. 0 interpolates (needs a positive
        definite Gram matrix).
    t : float, optional
        Training time of the gradient flow; None for kernel ridge regression.
    kernel : {"ntk", "nngp"}, default "ntk"
    kernel_scaling : {None, "trace"}, default None
        ``"trace"`` divides the kernel by the mean of its training diagonal:
        ``alpha`` is then relative to the kernel's scale.
    **kernel_parameters
        Keyword-only: the parameters of :class:`rntk.RNTK` (see :mod:`rntk.sklearn`).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n,) or (n, k)
        ``c`` such that the prediction is ``k(x, X) c``.
    X_fit_ : rntk.sequences.SequenceBatch
        The training sequences, validated.
    train_gram_ : ndarray of shape (n, n)
        ``K``, the scaled Gram matrix of the training sequences.
    kernel_ : rntk.RNTK
        The kernel of the fit (raw: ``normalize`` and ``kernel_scaling`` are
        applied to its values).
    fitted_params_ : dict
        The parameters of the last ``fit`` (``get_params()`` then), which
        prediction reads; ``set_params`` takes effect at the next ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import RNTKRegressor
    >>> X = np.sin(np.linspace(0, 6, 40)).reshape(8, 5)
    >>> y = X[:, -1]
    >>> model = RNTKRegressor(alpha=1e-3).fit(X, y)
    >>> mean, std = model.predict(X, return_std=True)
    >>> bool(np.abs(mean - y).max() < 1e-2), bool(std.max() < 0.1)
    (True, True)
    """

    def __init__(self, alpha=1.0, t=None, kernel="ntk", kernel_scaling=None, **kernel_parameters):
        self.alpha = alpha
        self.t = t
        self.kernel = kernel
        self.kernel_scaling = kernel_scaling
        self._set_kernel_parameters(kernel_parameters)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Fit to the training sequences ``X`` and targets ``y`` of shape (n,) or (n, k)."""
        self._discard_fit()
        if y is None:
            raise ValueError("RNTKRegressor requires y to be passed, but the target y is None")
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(f"y must have shape (n,) or (n, k), got shape {y.shape}")
        # Checked here so that the messages name alpha and t, not rntk.predict's ridge and time.
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real):
            raise TypeError(f"alpha must be a non-negative number, got {self.alpha!r}")
        if not 0 <= self.alpha < np.inf:
            raise ValueError(f"alpha must be a non-negative number, got {self.alpha!r}")
        if self.t is not None:
            if isinstance(self.t, bool) or not isinstance(self.t, numbers.Real):
                raise TypeError(f"t must be None or a non-negative number, got {self.t!r}")
            if not self.t >= 0:
                raise ValueError(f"t must be None or a non-negative number, got {self.t!r}")
        return self._fit(X, y)

    def _fit_scaled(self, gram: np.ndarray, y: np.ndarray) -> None:
        self.train_gram_ = gram
        # Both predictors are linear in the test kernel: with the identity as
        # k_test_train they return the dual coefficients themselves.
        identity = np.eye(gram.shape[0])
        if self.t is None:
            self.dual_coef_ = kernel_ridge_regression(gram, y, identity, ridge=self.alpha)
        else:
            self.dual_coef_ = gradient_flow_mean(gram, y, identity, time=self.t, ridge=self.alpha)

    def predict(self, X, return_std: bool = False):
        """The prediction at the sequences ``X``; with ``return_std``, also the GP posterior std.

        Returns
        -------
        mean : ndarray of shape (n_X,) or (n_X, k)
        std : ndarray of shape (n_X,), if ``return_std``
            The same for every output: it does not depend on the targets.
        """
        gram, prepared = self._test_gram(X)
        mean = gram @ self.dual_coef_
        if not return_std:
            return mean
        if self.fitted_params_["t"] is not None:
            raise ValueError(
                "return_std=True needs t=None: the standard deviation is that of the "
                "Gaussian-process posterior of kernel ridge regression"
            )
        alpha = self.fitted_params_["alpha"]
        regularised = self.train_gram_ + alpha * np.eye(self.train_gram_.shape[0])
        factor = linalg.cho_factor(regularised, lower=True)
        explained = np.einsum("ij,ji->i", gram, linalg.cho_solve(factor, gram.T))
        prior = self.scaling_.diagonal(self.kernel_.diag(prepared))
        # Rounding can leave a tiny negative variance where the posterior is exact.
        return mean, np.sqrt(np.maximum(prior - explained, 0.0))
