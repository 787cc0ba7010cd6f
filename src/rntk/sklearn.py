r"""scikit-learn estimators on the RNTK: an SVM, GP / kernel ridge regression, model selection.

Only this module imports scikit-learn (``pip install rntk[sklearn]``); the rest
of the library needs NumPy and SciPy alone.

* :class:`RNTKClassifier`: a support vector machine on the RNTK (or its NNGP).
* :class:`RNTKRegressor`: kernel ridge regression, the Gaussian-process
  posterior (``predict(X, return_std=True)``), or the mean of an infinitely
  wide network trained by gradient flow for a time ``t``.
* :class:`RNTKClassifierCV`: an SVM whose kernel hyperparameters, kernel
  scaling and ``C`` are chosen by cross-validation, each kernel computed once
  on the training data and cut into folds.
* :class:`KernelClassifierCV`: the same cross-validated SVM (the same code)
  for any kernel family given as a function ``kernel(X, X2=None, **params)``,
  e.g. the fixed-length baselines of :mod:`rntk.baselines`.
* :class:`RNTKFeatures`: Nystroem features (a transformer), for linear models
  on many sequences (:mod:`rntk.nystroem`).

Inputs
    Every estimator on the RNTK takes the sequences of :func:`rntk.kernel`
    (:class:`KernelClassifierCV` passes ``X`` to its kernel, which reads it): a 2-D array
    ``(n, T)`` is ``n`` univariate sequences (its columns are time steps, not
    features), a 3-D array ``(n, T, m)`` sequences of ``m`` features per step,
    either padded with trailing NaN for unequal lengths, or a list of ``(T_i,)``
    / ``(T_i, m)`` arrays. Sequences given to ``predict`` may have other lengths
    than the training ones, but the same number of features per step. Data
    stored channels first, ``(n, channels, T)`` as in aeon and sktime, goes
    through :func:`rntk.sequences.from_channels_first`, e.g. in a pipeline:
    ``make_pipeline(FunctionTransformer(from_channels_first), RNTKClassifier())``.
Kernel parameters
    Besides their own parameters, the estimators on the RNTK take every parameter of
    :class:`rntk.RNTK` as a keyword: ``activation``, ``depth``, ``sigma_w``,
    ``sigma_u``, ``sigma_b``, ``sigma_h``, ``sigma_v``, ``readout``,
    ``bidirectional``, ``pool_stride``, ``normalize`` (the cosine form
    ``K(x, x') / sqrt(K(x, x) K(x', x'))``), and the execution options
    ``block_size``, ``n_jobs``, ``progress`` and ``dtype``, with the same
    defaults and meaning. Two are left out: ``get`` (each estimator's
    ``kernel``, ``"ntk"`` or ``"nngp"``, picks one) and ``executor`` (scikit-learn
    deep-copies parameters in ``clone``, which an executor does not survive).
    They are validated by ``fit``, with messages naming the parameter.
Scale of the kernel
    ``sigma_v`` multiplies the kernel by ``sigma_v**2``, which for an SVM is the
    same as multiplying ``C`` by it. ``kernel_scaling="trace"`` divides the
    kernel by the mean of its diagonal over the training sequences, so that one
    grid of ``C`` (or ``alpha``) suits kernels of any scale; ``normalize=True``
    is the cosine form, and with both the divisor is the mean of the cosine
    form's diagonal. :class:`RNTKClassifierCV` chooses between the two.
Fitted state
    A fitted estimator predicts from what it fitted: ``fit`` records its
    parameters in ``fitted_params_`` and builds from them everything that
    ``predict`` and ``transform`` read (the kernel ``kernel_``, the scaling, the
    SVM...), so ``set_params`` takes effect at the next ``fit``. ``fit`` first
    discards the previous fit: a ``fit`` that raises leaves the estimator
    unfitted, never half of one fit and half of another.
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse, stats
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._kernel import RNTK
from .errors import KernelOverflowError, KernelUnderflowError
from .nystroem import DEFAULT_BATCH_SIZE, Nystroem
from .options import KERNEL_NAMES, inverse_root
from .predict import gradient_flow_mean, kernel_ridge_regression
from .progress import ProgressBar
from .sequences import SequenceBatch, as_sequences

__all__ = [
    "KernelClassifierCV",
    "RNTKClassifier",
    "RNTKClassifierCV",
    "RNTKFeatures",
    "RNTKRegressor",
]

KERNEL_SCALINGS = ("trace", "cosine")
SELECTION_RULES = ("best", "vote")

# The kernel parameters are read from the signature of rntk.RNTK instead of
# being written out a fifth time: a parameter added to RNTK reaches every
# estimator with its default. Each estimator writes its own parameters in
# __init__ and takes the kernel's as **kernel_parameters; __init_subclass__
# below then gives __init__ its full signature (own parameters, then the
# kernel's, keyword-only), which is what help(), get_params, clone and repr
# read, so they stay explicit. Left out: ``get`` (replaced by ``kernel``) and
# ``executor`` (clone deep-copies parameters, and an executor cannot be copied).
KERNEL_PARAMETERS = tuple(
    parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
    for parameter in inspect.signature(RNTK).parameters.values()
    if parameter.name not in ("get", "executor")
)


class _FittedState:
    """The fitted state of every estimator here: prediction reads only what ``fit`` stored.

    ``fit`` starts with :meth:`_discard_fit` and ends with :meth:`_record_fit`,
    which stores the parameters it used in ``fitted_params_``; the estimator
    is fitted once that exists. Everything else ``predict`` reads (the kernel,
    the scaling, the SVM...) is built by ``fit`` from those parameters, so
    ``set_params`` takes effect at the next ``fit``.
    """

    def _discard_fit(self) -> None:
        """Delete the attributes of a previous fit (names ending in ``_``).

        A ``fit`` that raises then leaves the estimator unfitted, instead of
        half of the previous fit and half of this one.
        """
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)

    def _record_fit(self):
        """Store the parameters of the ``fit`` that succeeded; returns the estimator."""
        self.fitted_params_ = self.get_params(deep=False)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "fitted_params_")


class _RNTKEstimator(_FittedState, BaseEstimator):
    """Kernel parameters, input validation and the scaled Gram matrices shared by the estimators."""

    #: Kernel parameters that a subclass replaces by its own.
    _replaced_kernel_parameters: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        own = [
            parameter
            for parameter in inspect.signature(init).parameters.values()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        init.__signature__ = inspect.Signature(own + list(cls._kernel_parameters()))

    @classmethod
    def _kernel_parameters(cls) -> tuple[inspect.Parameter, ...]:
        return tuple(p for p in KERNEL_PARAMETERS if p.name not in cls._replaced_kernel_parameters)

    def _set_kernel_parameters(self, given: dict) -> None:
        parameters = self._kernel_parameters()
        unknown = sorted(set(given) - {p.name for p in parameters})
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument {unknown[0]!r}"
            )
        for parameter in parameters:
            setattr(self, parameter.name, given.get(parameter.name, parameter.default))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A 3-D array (n, T, m) holds sequences of vectors (lists of unequal
        # lengths are accepted too, though no tag says so).
        tags.input_tags.three_d_array = True
        # allow_nan stays False: scikit-learn means missing values anywhere,
        # while here NaN is only trailing padding of unequal lengths (the
        # tslearn convention) and NaN inside a sequence raises a ValueError.
        return tags

    def _kernel(self, get: str | tuple[str, str] | None = None, **grid_point) -> RNTK:
        """The raw kernel, ``get`` (default: ``kernel``) at the current parameters and
        ``grid_point`` (never normalised: the estimators scale it themselves)."""
        get = self.kernel if get is None else get
        arguments = {p.name: getattr(self, p.name) for p in self._kernel_parameters()}
        arguments.update(grid_point)
        arguments["normalize"] = False
        return RNTK(**arguments, get=get)

    def _check_kernel_name(self) -> None:
        if self.kernel not in KERNEL_NAMES:
            raise ValueError(f"kernel must be 'ntk' or 'nngp', got {self.kernel!r}")

    def _training_sequences(self, X) -> SequenceBatch:
        batch = _as_batch(X, "X")
        self.n_features_per_step_ = batch.n_features
        return batch

    def _new_sequences(self, X) -> SequenceBatch:
        """``X`` for predict or transform: validated, with the training number of features."""
        check_is_fitted(self)
        batch = _as_batch(X, "X")
        if batch.n_features != self.n_features_per_step_:
            raise ValueError(
                f"X has {batch.n_features} features per step, but {type(self).__name__} was "
                f"fitted on sequences with {self.n_features_per_step_}"
            )
        return batch


def _as_batch(X, name: str) -> SequenceBatch:
    """``X`` validated by :func:`rntk.sequences.as_sequences`, with scikit-learn's array rules.

    Numbers stored as objects (from pandas, say) are converted, as scikit-learn
    does; sparse matrices, 1-D arrays, complex numbers and 2-D arrays without
    columns get its messages.
    """
    if sparse.issparse(X):
        raise TypeError(
            f"Sparse data is not supported: {name} must be a dense array or a list of "
            f"sequences, e.g. {name}.toarray()"
        )
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype != object:
        raise ValueError(
            f"{name} is a 1-D array of shape {X.shape}. Reshape your data: "
            f"{name}.reshape(1, -1) is one univariate sequence, {name}.reshape(-1, 1) "
            "sequences of one step each"
        )
    if isinstance(X, np.ndarray) and X.ndim >= 2:
        if X.dtype == object:
            X = X.astype(np.float64)  # a TypeError naming the offending value otherwise
        elif X.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: {name} must hold real numbers")
        if X.ndim == 2 and X.shape[1] == 0:
            raise ValueError(
                f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
                "each row of a 2-D array is a sequence and needs at least one step"
            )
    return as_sequences(X, name)


def _same_sequences(batch: SequenceBatch, other: SequenceBatch) -> bool:
    """Whether two validated batches hold the same sequences in the same order."""
    return np.array_equal(batch.lengths, other.lengths) and np.array_equal(
        batch.steps_from_end, other.steps_from_end
    )


def _check_targets_length(y: np.ndarray, batch: SequenceBatch) -> None:
    if y.shape[0] != batch.n_sequences:
        raise ValueError(
            f"y has {y.shape[0]} entries but X holds {batch.n_sequences} sequences; they must match"
        )


def _trace_divisor(diagonal: np.ndarray, samples: str, remedy: str) -> float:
    """The divisor of the trace scaling, the mean of ``diagonal``, refused unless positive."""
    divisor = float(np.mean(diagonal))
    if not divisor > 0:
        raise ValueError(
            f"kernel_scaling='trace' divides the kernel by the mean of its diagonal over the "
            f"{samples}, which is {divisor:g} here, not positive (the kernel of those samples "
            f"with themselves is 0, as for all-zero sequences with sigma_b=0); {remedy}"
        )
    return divisor


def _cosine(gram: np.ndarray, row_diagonal: np.ndarray, column_diagonal: np.ndarray):
    """``K(x, x') / sqrt(K(x, x) K(x', x'))``, 0 where a self-kernel is 0."""
    return gram * np.multiply.outer(inverse_root(row_diagonal), inverse_root(column_diagonal))


class _GramScaling:
    """How a fitted estimator scales raw kernel values: cosine, then the trace scale.

    Fitting and prediction go through the same arithmetic here, and
    :class:`RNTKClassifierCV` scores its candidates with it too, so that a
    refitted candidate sees exactly the numbers cross-validation saw.
    """

    def __init__(self, train_diagonal: np.ndarray, normalize: bool, kernel_scaling):
        self.train_diagonal = train_diagonal
        self.normalize = normalize
        if normalize:
            train_diagonal = train_diagonal * inverse_root(train_diagonal) ** 2
        self.divisor = (
            _trace_divisor(train_diagonal, "training samples", "pass kernel_scaling=None")
            if kernel_scaling == "trace"
            else None
        )

    def train(self, gram: np.ndarray) -> np.ndarray:
        if self.normalize:
            gram = _cosine(gram, self.train_diagonal, self.train_diagonal)
        return gram if self.divisor is None else gram / self.divisor

    def test(self, gram: np.ndarray, test_diagonal) -> np.ndarray:
        """Rows of new sequences; ``test_diagonal`` (their self-kernels) is read if normalising."""
        if self.normalize:
            gram = _cosine(gram, test_diagonal(), self.train_diagonal)
        return gram if self.divisor is None else gram / self.divisor

    def diagonal(self, test_diagonal: np.ndarray) -> np.ndarray:
        """The scaled self-kernels of new sequences."""
        if self.normalize:
            test_diagonal = np.where(test_diagonal > 0, 1.0, 0.0)
        return test_diagonal if self.divisor is None else test_diagonal / self.divisor


def _once(function):
    """``function`` with no argument, evaluated at the first call only."""
    value = []

    def evaluated():
        if not value:
            value.append(function())
        return value[0]

    return evaluated


def _vote(predictions: list[np.ndarray], classes: np.ndarray) -> np.ndarray:
    """The majority of ``predictions`` (one array per voter, in order); a tie goes to the
    class of the first voter, in order, whose vote is among the most frequent."""
    rows = np.arange(len(predictions[0]))
    counts = np.zeros((rows.size, classes.size), dtype=np.intp)
    for prediction in predictions:
        counts[rows, np.searchsorted(classes, prediction)] += 1
    most = counts.max(axis=1)
    chosen = predictions[0].copy()
    decided = np.zeros(rows.size, dtype=bool)
    for prediction in predictions:
        take = ~decided & (counts[rows, np.searchsorted(classes, prediction)] == most)
        chosen[take] = prediction[take]
        decided |= take
    return chosen


def _single_model(search) -> bool:
    """Whether a search predicts with one model (before ``fit``: whether it may)."""
    voters = getattr(search, "voters_", None)
    return search.selection == "best" if voters is None else len(voters) == 1


def _check_kernel_scaling(kernel_scaling) -> None:
    if kernel_scaling not in (None, "trace"):
        raise ValueError(
            f"kernel_scaling must be None or 'trace' (for the cosine form pass "
            f"normalize=True), got {kernel_scaling!r}"
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

    def _test_gram(self, X) -> tuple[np.ndarray, SequenceBatch]:
        """The scaled Gram matrix of new sequences against the training ones."""
        batch = self._new_sequences(X)
        raw, diagonal = self._raw_test_gram(batch)
        return self.scaling_.test(raw, diagonal), batch

    def _raw_test_gram(self, batch: SequenceBatch):
        """The raw kernel of ``batch`` against the training sequences, and a function that
        gives the self-kernels of ``batch`` (computed once, when first asked for)."""
        return self.kernel_(batch, self.X_fit_), _once(lambda: self.kernel_.diag(batch))


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


def _classification_targets(y) -> np.ndarray:
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


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
        gram, batch = self._test_gram(X)
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
        prior = self.scaling_.diagonal(self.kernel_.diag(batch))
        # Rounding can leave a tiny negative variance where the posterior is exact.
        return mean, np.sqrt(np.maximum(prior - explained, 0.0))


def _expand_grid(param_grid) -> list[dict]:
    """Every point of a grid (a dict of lists, or a list of them), the last key varying fastest.

    Unlike ``sklearn.model_selection.ParameterGrid``, keys keep the order given
    (ParameterGrid sorts them), so the order of the candidates, which decides
    ties, is the one written.
    """
    if param_grid is None:
        return [{}]
    # Lists, not iterators: a generator would be used up by the first fit.
    if isinstance(param_grid, Mapping):
        grids = [param_grid]
    elif isinstance(param_grid, (list, tuple)):
        grids = param_grid
    else:
        raise TypeError(f"param_grid must be a dict or a list of dicts, got {param_grid!r}")
    if not grids:
        raise ValueError(
            "param_grid is an empty list: give at least one dict of parameter values "
            "(or None, for the estimator's own parameters alone)"
        )
    points = []
    for grid in grids:
        if not isinstance(grid, Mapping):
            raise TypeError(f"param_grid must be a dict or a list of dicts, got {param_grid!r}")
        for key, values in grid.items():
            listed = isinstance(values, Sequence) and not isinstance(values, (str, bytes))
            if not (listed or (isinstance(values, np.ndarray) and values.ndim == 1)) or (
                len(values) == 0
            ):
                hint = (
                    " (a generator is used up by the first fit: pass a list)"
                    if isinstance(values, Iterator)
                    else ""
                )
                raise ValueError(
                    f"param_grid[{key!r}] must be a non-empty list of values{hint}, got {values!r}"
                )
        points += [
            dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
        ]
    return points


def _stratified_splits(
    y: np.ndarray, max_folds: int, repeats: int, random_state
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, shuffled, repeated k-fold splits, defined for classes of any size.

    A class with a single sample cannot be validated (a model that never saw
    the class cannot predict it): its sample is in the fitting part of every
    split and in no validation part. The folds are stratified over the other
    classes, ``k = max(2, min(max_folds, smallest of their counts))``. Without
    such a class every sample is validated, as by
    ``RepeatedStratifiedKFold``. Returns no split when no class has two samples.
    """
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    validated = np.flatnonzero(counts[inverse] >= 2)
    always_fitted = np.flatnonzero(counts[inverse] < 2)
    if validated.size == 0:
        return []
    splitter = RepeatedStratifiedKFold(
        n_splits=max(2, min(max_folds, int(counts[counts >= 2].min()))),
        n_repeats=repeats,
        random_state=random_state,
    )
    placeholder = np.zeros((validated.size, 1))
    return [
        (np.sort(np.concatenate([validated[fit], always_fitted])), validated[validate])
        for fit, validate in splitter.split(placeholder, y[validated])
    ]


def _checked_split(fit, validate, n_samples: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``index`` of ``cv`` as two arrays of indices of the ``n_samples`` samples."""
    parts = []
    for part, name in ((fit, "fitting"), (validate, "validation")):
        part = np.asarray(part)
        if part.ndim != 1 or part.size == 0 or part.dtype.kind not in "iu":
            raise ValueError(
                f"cv: the {name} part of split {index} must be a non-empty 1-D array of "
                f"sample indices (integers), got {part!r}"
            )
        outside = part[(part < 0) | (part >= n_samples)]
        if outside.size:
            raise ValueError(
                f"cv: the {name} part of split {index} holds index {outside[0]}, outside "
                f"0..{n_samples - 1}: cross-validation sees {n_samples} samples; give indices "
                "of those"
            )
        parts.append(part)
    return parts[0], parts[1]


def _stratified_subsample(y: np.ndarray, size: int, random_state) -> np.ndarray:
    """Sorted indices of about ``size`` samples drawn with the class proportions of ``y``.

    Every class keeps at least ``min(its count, 2)`` samples, so that it can
    still be validated (a subsample exceeds ``size`` only when that takes
    more); the other places go to the classes in proportion to their
    remaining counts, the largest remainders first.
    """
    random = check_random_state(random_state)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = np.minimum(counts, 2)
    spare = min(size, len(y)) - int(quota.sum())
    if spare > 0:
        share = spare * (counts - quota) / (counts - quota).sum()
        remainders = share - np.floor(share)
        quota += np.floor(share).astype(int)
        for c in np.argsort(-remainders, kind="stable")[: spare - int(np.floor(share).sum())]:
            quota[c] += 1
    members = [np.flatnonzero(inverse == c) for c in range(classes.size)]
    chosen = [random.permutation(m)[:q] for m, q in zip(members, quota, strict=True)]
    return np.sort(np.concatenate(chosen))


def _take(X, indices: np.ndarray):
    """The samples of ``X`` at ``indices``: array rows, or a list of the items."""
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


class _CrossValidatedSVM:
    """The cross-validation protocol of :class:`RNTKClassifierCV` and :class:`KernelClassifierCV`.

    Written once for both: the options (``Cs``, ``kernel_scalings``, ``cv``,
    ``n_repeats``, ``random_state``, ``max_iter``, ``progress``), the splits,
    the scores of a Gram matrix cut into folds, and the search over grid
    points with its ``cv_results_`` and choice of the best candidate. A
    subclass says how a grid point's Gram matrices are computed and what a
    candidate's parameters are.
    """

    def _check_options(self) -> None:
        Cs = list(self.Cs) if hasattr(self.Cs, "__iter__") else None
        if not Cs or not all(
            isinstance(c, numbers.Real) and not isinstance(c, bool) and c > 0 for c in Cs
        ):
            raise ValueError(f"Cs must be a non-empty list of positive numbers, got {self.Cs!r}")
        scalings = self.kernel_scalings
        if (
            isinstance(scalings, str)
            or not hasattr(scalings, "__iter__")
            or not scalings
            or any(scaling not in KERNEL_SCALINGS for scaling in scalings)
            or len(set(scalings)) != len(scalings)
        ):
            raise ValueError(
                "kernel_scalings must be a non-empty list of distinct 'trace' and 'cosine', "
                f"got {self.kernel_scalings!r}"
            )
        if self.selection not in SELECTION_RULES:
            raise ValueError(
                f"selection must be one of {', '.join(map(repr, SELECTION_RULES))}, "
                f"got {self.selection!r}"
            )
        vote_by = self.vote_by
        if isinstance(vote_by, str) or not (
            vote_by is None
            or (hasattr(vote_by, "__iter__") and all(isinstance(n, str) for n in vote_by))
        ):
            raise ValueError(
                f"vote_by must be None or a list of parameter names, got {self.vote_by!r}"
            )
        if self.selection == "vote" and not vote_by:
            raise ValueError(
                "selection='vote' needs vote_by, the parameters whose values each send their "
                "best candidate to the vote (e.g. ['readout', 'bidirectional'])"
            )
        if self.max_cv_samples is not None and not (
            isinstance(self.max_cv_samples, numbers.Integral)
            and not isinstance(self.max_cv_samples, bool)
            and self.max_cv_samples >= 2
        ):
            raise ValueError(
                "max_cv_samples must be None or an integer of at least 2, "
                f"got {self.max_cv_samples!r}"
            )
        if self.n_repeats != "auto" and not (
            isinstance(self.n_repeats, numbers.Integral) and self.n_repeats >= 1
        ):
            raise ValueError(
                f"n_repeats must be 'auto' or a positive integer, got {self.n_repeats!r}"
            )

    def _splits(self, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        placeholder = np.zeros((len(y), 1))
        if isinstance(self.cv, numbers.Integral) and not isinstance(self.cv, bool):
            if self.cv < 2:
                raise ValueError(f"cv must be at least 2 folds, got {self.cv!r}")
            if self.n_repeats == "auto":
                repeats = 3 if len(y) < 300 else 1
            else:
                repeats = int(self.n_repeats)
            return _stratified_splits(y, int(self.cv), repeats, self.random_state)
        expected = (
            "cv must be an int, a splitter with split(X, y) or a list of (fit, validate) "
            f"index arrays, got {self.cv!r}"
        )
        if isinstance(self.cv, (str, bytes)):  # a str has a split method, of another kind
            raise ValueError(expected)
        if hasattr(self.cv, "split"):
            splits = list(self.cv.split(placeholder, y))
        else:
            try:
                splits = [(fit, validate) for fit, validate in self.cv]
            except (TypeError, ValueError):
                raise ValueError(expected) from None
        if not splits:
            raise ValueError("cv gave no split")
        return [
            _checked_split(fit, validate, len(y), index)
            for index, (fit, validate) in enumerate(splits)
        ]

    def _voters(self) -> list[int]:
        """Rows of ``cv_results_`` whose models predict, the best candidate first.

        ``selection="vote"``: the best candidate (first on ties) of each group
        of candidates that share their values of the ``vote_by`` parameters,
        the groups ordered by their best mean validation accuracy (then by
        order). ``"best"``, or no split: the best candidate alone.
        """
        best = self.best_index_
        if self.selection == "best" or self.n_splits_ == 0:
            return [best]
        means = self.cv_results_["mean_test_score"]
        leaders: dict[tuple, int] = {}
        for row, params in enumerate(self.cv_results_["params"]):
            group = tuple(repr(self._grid_value(params, name)) for name in self.vote_by)
            if group not in leaders or means[row] > means[leaders[group]]:
                leaders[group] = row
        return sorted(leaders.values(), key=lambda row: (-means[row], row))

    def _grid_value(self, params: dict, name: str):
        """A candidate's value of parameter ``name`` (None if neither it nor the search has it)."""
        return params.get(name, getattr(self, name, None))

    def _cv_samples(self, y: np.ndarray) -> np.ndarray | None:
        """The training samples that cross-validation sees: None for all of them.

        Above ``max_cv_samples`` samples, a stratified subsample of that size
        (drawn with ``random_state``); recorded in ``cv_samples_``.
        """
        if self.max_cv_samples is None or len(y) <= self.max_cv_samples:
            self.cv_samples_ = None
        else:
            self.cv_samples_ = _stratified_subsample(y, self.max_cv_samples, self.random_state)
        return self.cv_samples_

    def _fold_scores(self, gram, scaling, y, splits) -> np.ndarray:
        """Validation accuracy, shape ``(len(Cs), len(splits))``; the Gram matrix is sliced."""
        if scaling == "cosine":
            diagonal = np.diag(gram)
            gram = _cosine(gram, diagonal, diagonal)
        scores = np.empty((len(self.Cs), len(splits)))
        for split, (fit, validate) in enumerate(splits):
            fit_gram = gram[np.ix_(fit, fit)]
            validate_gram = gram[np.ix_(validate, fit)]
            if scaling == "trace":
                divisor = _trace_divisor(
                    np.diag(fit_gram),
                    f"fitting samples of split {split}",
                    "leave 'trace' out of kernel_scalings",
                )
                fit_gram, validate_gram = fit_gram / divisor, validate_gram / divisor
            for index, c in enumerate(self.Cs):
                machine = SVC(C=c, kernel="precomputed", max_iter=self.max_iter)
                machine.fit(fit_gram, y[fit])
                scores[index, split] = np.mean(machine.predict(validate_gram) == y[validate])
        return scores

    def _search(self, points, compute, candidate, y, keep_train_grams=False):
        """Score every candidate of every grid point; set the search's attributes.

        ``points`` lists the grid points as ``(parameters, names)``;
        ``compute(parameters, names)`` is their one kernel computation on the
        whole training set, ``{name: raw Gram matrix}``, and may raise
        :class:`rntk.KernelOverflowError` or :class:`rntk.KernelUnderflowError`
        (the point is then skipped and listed in ``overflowed_params_``).
        ``candidate(parameters, name, scaling, C)`` is a candidate's entry of
        ``cv_results_["params"]``.
        Candidates are ordered by grid point, name, scaling, then ``C``; the
        first of the best wins.

        Returns the best candidate's raw Gram matrix and, with
        ``keep_train_grams``, every grid point's ``{name: raw Gram}`` (None
        where it overflowed or underflowed).
        """
        n_classes = np.unique(y).size
        if n_classes < 2:
            raise ValueError(f"y has {n_classes} class; a classifier needs at least 2 classes")
        splits = self._splits(y)
        if not splits:
            warnings.warn(
                "no class of y has two training samples, so cross-validation cannot score "
                "any candidate: every score is NaN and the first candidate (in the order of "
                "cv_results_) is refitted",
                UserWarning,
                stacklevel=3,
            )
        columns = {"grid_point": [], "kernel_time": [], "params": [], "scores": []}
        self.overflowed_params_ = []
        train_grams = [] if keep_train_grams else None
        best_score, best_gram, last_failure = -np.inf, None, None
        bar = ProgressBar(len(points), f"{type(self).__name__}: grid points", self.progress)
        for index, (parameters, names) in enumerate(points):
            start = time.perf_counter()
            try:
                grams = compute(parameters, names)
            except (KernelOverflowError, KernelUnderflowError) as error:
                self.overflowed_params_.append(parameters)
                last_failure = error
                if keep_train_grams:
                    train_grams.append(None)
                bar.advance()
                continue
            seconds = time.perf_counter() - start
            if keep_train_grams:
                train_grams.append(grams)
            for name, gram in grams.items():
                for scaling in self.kernel_scalings:
                    scores = self._fold_scores(gram, scaling, y, splits)
                    for c, split_scores in zip(self.Cs, scores, strict=True):
                        columns["grid_point"].append(index)
                        columns["kernel_time"].append(seconds)
                        columns["params"].append(candidate(parameters, name, scaling, c))
                        columns["scores"].append(split_scores)
                        mean = _mean_in_order(split_scores)
                        # Strict: the first candidate wins ties (and, unscored, is the best).
                        if mean > best_score or best_gram is None:
                            best_score, best_gram = mean, gram
            bar.advance()
        bar.close()
        if not columns["params"]:
            underflow = isinstance(last_failure, KernelUnderflowError)
            raise (KernelUnderflowError if underflow else KernelOverflowError)(
                f"the kernel overflowed or underflowed at every grid point of param_grid "
                f"({len(points)}); the last error: {last_failure}"
            ) from last_failure
        self.n_splits_ = len(splits)
        self.cv_results_ = _cv_results(columns)
        # np.argmax takes the first maximum, or the first NaN: candidate 0 when unscored.
        self.best_index_ = int(np.argmax(self.cv_results_["mean_test_score"]))
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        return best_gram, train_grams


class RNTKClassifierCV(ClassifierMixin, _CrossValidatedSVM, _RNTKEstimator):
    """An SVM on the RNTK with its hyperparameters chosen by cross-validation.

    The protocol of ``examples/ucr_classification.py``, as an estimator (the
    same protocol for any other kernel is :class:`KernelClassifierCV`):

    * Each point of ``param_grid`` (kernel parameters) costs one kernel
      computation, on the whole training set; one pass gives both the NTK and
      the NNGP (``"kernel": ["ntk", "nngp"]`` in the grid costs nothing more).
      Its Gram matrix is cut into the folds (``K[np.ix_(fit, fit)]``), so
      cross-validation computes no further kernel.
    * Each Gram matrix is scaled in every way of ``kernel_scalings``:
      ``"trace"``, divided by the mean of the fitting folds' diagonal (in the
      refit, the whole training set's), or ``"cosine"``, ``K(x, x') / sqrt(K(x,
      x) K(x', x'))`` (``normalize=True``).
    * Every candidate (grid point, kernel, scaling, ``C`` in ``Cs``) is scored
      by its mean validation accuracy over the splits: stratified
      ``cv``-fold (fewer folds when a class has fewer than ``cv`` sequences, at
      least 2), shuffled with ``random_state``, repeated ``n_repeats`` times
      (``"auto"``: 3 below 300 training sequences, whose scores are noisy and
      often tied, else 1).
    * The best candidate, the first in the order of ``cv_results_`` on ties
      (grid points in the order of ``param_grid`` with the last key varying
      fastest, then kernel, scaling and ``C`` in the order given), is refitted
      on the whole training set from its already computed Gram matrix. With
      ``selection="vote"`` (the default), so is the best candidate of every
      other read-out head in the grid, and they predict by majority vote.

    Classes with a single training sequence cannot be validated (a model that
    never saw its class cannot predict it): such a sequence is in the fitting
    part of every split and in no validation part, and the folds are
    stratified over the other classes. If no class has two sequences (Fungi of
    the UCR archive: 18 sequences, 18 classes), no candidate can be scored:
    every score is NaN, a ``UserWarning`` says so, and the first candidate is
    refitted.

    With ``max_cv_samples`` the search scales to many training sequences:
    every candidate is cross-validated on a stratified subsample, and only the
    chosen grid point's kernel is computed on the whole training set.

    A grid point whose kernel overflows or underflows
    (:class:`rntk.KernelOverflowError`, :class:`rntk.KernelUnderflowError`)
    is skipped and listed in ``overflowed_params_``.

    Parameters
    ----------
    param_grid : dict or list of dict, optional
        Kernel parameters of :class:`rntk.RNTK` (and ``"kernel"``) to lists of
        values, as for ``sklearn.model_selection.GridSearchCV`` (but keys are
        iterated in the order given). Parameters not in the grid take the
        values given to this estimator. ``normalize`` is not allowed: it is
        ``kernel_scalings``. None: the single kernel of the fixed parameters.
    Cs : sequence of float, default (0.01, 0.1, 1, 10, 100)
        Candidate SVM penalties.
    kernel_scalings : sequence of {"trace", "cosine"}, default ("trace", "cosine")
    cv : int, cross-validation splitter or iterable of (fit, validate) index arrays, default 5
        An int: the stratified protocol above with at most that many folds.
        Otherwise any scikit-learn splitter (its ``split(X, y)`` is given
        placeholder ``X``) or a list of splits.
    n_repeats : "auto" or int, default "auto"
        Repeats of the stratified split, with new shuffles (int ``cv`` only).
    random_state : int, default 0
        Seed of the shuffles (int ``cv`` only).
    kernel : {"ntk", "nngp"}, default "ntk"
        The kernel when ``param_grid`` has no ``"kernel"``.
    max_iter : int, default -1
        Cap on libsvm's iterations per fit (-1: none); a capped fit emits
        ``sklearn.exceptions.ConvergenceWarning``.
    keep_train_grams : bool, default False
        Keep every grid point's training Gram matrices (``len(grid) *
        n_kernels * n**2 * 8`` bytes) so that :meth:`refit_candidate` on the
        training sequences needs no kernel computation (unless
        cross-validation ran on a subsample).
    max_cv_samples : int, optional
        The protocol for many training sequences: above this many, every
        candidate is cross-validated on a stratified subsample of this size
        (drawn with ``random_state``; every class keeps at least two
        sequences, or all it has), and only the chosen grid point's kernel is
        computed on the whole training set, for the refit. A grid then costs
        ``len(grid) * max_cv_samples**2`` kernel pairs instead of ``len(grid)
        * n**2``. None: cross-validate on every training sequence.
    selection : {"vote", "best"}, default "vote"
        ``"vote"``: the best candidate of each read-out head (each distinct
        value of the ``vote_by`` parameters) is refitted, and ``predict`` takes
        their majority vote; a tie goes to the head whose candidate scored
        best. ``"best"``: the best candidate alone. On small training sets
        cross-validation cannot tell the heads apart (their scores differ by
        less than their noise) and the best candidate is often a worse head;
        the vote of the heads does not bet on one. Measured by nested
        validation inside the training splits of 20 archive sets of 16-60
        series (``benchmarks/selection_study.py``, test splits never read):
        held-out accuracy 82.0% against 79.5% for the best candidate. With one
        head in the grid the two are the same.
    vote_by : sequence of str, default ("readout", "bidirectional")
        The parameters whose values define the groups that vote (a parameter
        not in ``param_grid`` takes this estimator's value).
    **kernel_parameters
        Keyword-only: the parameters of :class:`rntk.RNTK` but ``normalize``
        (see :mod:`rntk.sklearn`). ``n_jobs`` sets the kernel's threads;
        ``progress=True`` shows one bar over the grid points (not the
        kernel's own).

    Attributes
    ----------
    cv_results_ : dict of arrays
        One entry per candidate, in order: ``params`` (the candidate's
        parameters of :class:`RNTKClassifier`: the grid point's, ``kernel``,
        ``normalize``, ``kernel_scaling`` and ``C``), ``param_<name>`` (masked
        arrays), ``split<i>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, ``grid_point`` (index of the
        grid point in the expanded ``param_grid``) and ``kernel_time``
        (seconds of that grid point's kernel computation, shared by its
        candidates).
    best_index_ : int
    best_params_ : dict
        ``RNTKClassifier(**fixed_parameters, **best_params_)`` is ``best_estimator_``.
    best_score_ : float
        Mean validation accuracy of the best candidate.
    best_estimator_ : RNTKClassifier
        The best candidate refitted on the whole training set.
    classes_ : ndarray
    n_iter_ : ndarray of int
        libsvm's iterations in the refit of the best candidate.
    n_splits_ : int
    overflowed_params_ : list of dict
        Grid points skipped because their kernel overflowed or underflowed.
    cv_samples_ : ndarray of int or None
        The training sequences that cross-validation saw (with
        ``max_cv_samples``), None for all of them.
    voters_ : list of int
        The rows of ``cv_results_`` whose models predict: the best candidate
        of each head, the best first (``selection="vote"``), or
        ``[best_index_]``.
    voting_estimators_ : list of RNTKClassifier
        Their models refitted on the whole training set (the first is
        ``best_estimator_``).
    train_grams_ : list of dict or None
        With ``keep_train_grams``: per grid point, ``{kernel: raw Gram}`` (None
        where it overflowed), of the sequences of ``cv_samples_``.
    fitted_params_ : dict
        The parameters of the last ``fit`` (``get_params()`` then), which
        prediction and ``refit_candidate`` read; ``set_params`` takes effect
        at the next ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import RNTKClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 12)) + np.repeat([[0.0], [0.8]], 15, axis=0)
    >>> y = np.repeat([0, 1], 15)
    >>> search = RNTKClassifierCV({"sigma_w": [1.2, 1.4], "kernel": ["ntk", "nngp"]}, Cs=[0.1, 1])
    >>> search.fit(X, y).best_params_["kernel"] in ("ntk", "nngp")
    True
    >>> len(search.cv_results_["params"])  # 2 points x 2 kernels x 2 scalings x 2 C
    16
    """

    _replaced_kernel_parameters = ("normalize",)

    def __init__(
        self,
        param_grid=None,
        Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
        kernel_scalings=KERNEL_SCALINGS,
        cv=5,
        n_repeats="auto",
        random_state=0,
        kernel="ntk",
        max_iter=-1,
        keep_train_grams=False,
        max_cv_samples=None,
        selection="vote",
        vote_by=("readout", "bidirectional"),
        **kernel_parameters,
    ):
        self.param_grid = param_grid
        self.Cs = Cs
        self.kernel_scalings = kernel_scalings
        self.cv = cv
        self.n_repeats = n_repeats
        self.random_state = random_state
        self.kernel = kernel
        self.max_iter = max_iter
        self.keep_train_grams = keep_train_grams
        self.max_cv_samples = max_cv_samples
        self.selection = selection
        self.vote_by = vote_by
        self._set_kernel_parameters(kernel_parameters)

    def _grid_points(self) -> list[tuple[dict, tuple[str, ...]]]:
        """The expanded grid as (kernel parameters, kernels): one kernel pass each."""
        allowed = {p.name for p in self._kernel_parameters()} | {"kernel"}
        passes: dict[tuple, tuple[dict, list]] = {}
        for point in _expand_grid(self.param_grid):
            unknown = sorted(set(point) - allowed)
            if unknown:
                hint = " (it is set by kernel_scalings)" if unknown[0] == "normalize" else ""
                raise ValueError(
                    f"param_grid: {unknown[0]!r} is not a kernel parameter of rntk.RNTK{hint}"
                )
            kernel = point.get("kernel", self.kernel)
            if kernel not in KERNEL_NAMES:
                raise ValueError(f"kernel must be 'ntk' or 'nngp', got {kernel!r}")
            parameters = {key: value for key, value in point.items() if key != "kernel"}
            key = tuple((name, repr(value)) for name, value in parameters.items())
            kernels = passes.setdefault(key, (parameters, []))[1]
            if kernel not in kernels:
                kernels.append(kernel)
        return [(parameters, tuple(kernels)) for parameters, kernels in passes.values()]

    def fit(self, X, y):
        """Cross-validate every candidate on ``(X, y)`` and refit the best one."""
        self._discard_fit()
        y = _classification_targets(y)
        self._check_options()
        points = self._grid_points()
        batch = self._training_sequences(X)
        _check_targets_length(y, batch)

        def compute(parameters: dict, kernels: tuple[str, ...]) -> dict[str, np.ndarray]:
            # Both kernels come from one pass; ask for both when both are candidates.
            get = kernels[0] if len(kernels) == 1 else kernels
            grams = self._kernel(get, **{**parameters, "progress": False})(batch)
            return dict(zip(kernels, [grams] if len(kernels) == 1 else grams, strict=True))

        def candidate(parameters: dict, kernel: str, scaling: str, c: float) -> dict:
            return {**parameters, **_candidate_options(kernel, scaling), "C": c}

        samples = self._cv_samples(y)
        if samples is None:
            best_gram, self.train_grams_ = self._search(
                points, compute, candidate, y, keep_train_grams=self.keep_train_grams
            )
        else:
            full_batch, batch = batch, batch.subset(samples)
            _, self.train_grams_ = self._search(
                points, compute, candidate, y[samples], keep_train_grams=self.keep_train_grams
            )
            # The chosen candidate's kernel on every training sequence, for the refit.
            batch = full_batch
            best_point = points[self.cv_results_["grid_point"][self.best_index_]][0]
            best_gram = compute(best_point, (self.best_params_["kernel"],))[
                self.best_params_["kernel"]
            ]
        self.voters_ = self._voters()
        best_key = (self.cv_results_["grid_point"][self.best_index_], self.best_params_["kernel"])
        grams = {best_key: best_gram}
        self.voting_estimators_ = []
        settings = self.get_params(deep=False)
        for row in self.voters_:
            params = self.cv_results_["params"][row]
            key = (self.cv_results_["grid_point"][row], params["kernel"])
            if key not in grams:
                kept = self.train_grams_ is not None and samples is None
                grams[key] = (
                    self.train_grams_[key[0]][key[1]]
                    if kept
                    else compute(points[key[0]][0], (key[1],))[key[1]]
                )
            estimator = self._candidate(params, settings)
            estimator._fit_precomputed(estimator._kernel(), batch, grams[key], y)
            self.voting_estimators_.append(estimator)
        self.best_estimator_ = self.voting_estimators_[0]
        self.classes_ = self.best_estimator_.classes_
        self.n_iter_ = self.best_estimator_.n_iter_
        return self._record_fit()

    def _candidate(self, params: dict, settings: Mapping) -> RNTKClassifier:
        """The unfitted classifier of candidate ``params``, with the other kernel
        parameters and ``max_iter`` of ``settings`` (this search's parameters)."""
        fixed = {p.name: settings[p.name] for p in self._kernel_parameters()}
        return RNTKClassifier(**{**fixed, "max_iter": settings["max_iter"], **params})

    def refit_candidate(self, index: int, X, y) -> RNTKClassifier:
        """Candidate ``index`` of ``cv_results_`` refitted on ``(X, y)``.

        The candidate is the one that cross-validation scored: its parameters
        in ``cv_results_["params"]``, the others those of the last ``fit``
        (``fitted_params_``). With ``keep_train_grams``, when ``X`` holds the
        training sequences of ``fit`` (the same values in the same order), the
        stored Gram matrix is used; otherwise the kernel is computed.
        """
        check_is_fitted(self)
        n_candidates = len(self.cv_results_["params"])
        if (
            isinstance(index, bool)
            or not isinstance(index, numbers.Integral)
            or not 0 <= index < n_candidates
        ):
            raise ValueError(
                f"index must be a row of cv_results_, an integer from 0 to {n_candidates - 1}, "
                f"got {index!r}"
            )
        estimator = self._candidate(self.cv_results_["params"][index], self.fitted_params_)
        batch = _as_batch(X, "X")
        stored = self.train_grams_ is not None and self.cv_samples_ is None
        if not (stored and _same_sequences(batch, self.best_estimator_.X_fit_)):
            return estimator.fit(X, y)
        y = _classification_targets(y)
        _check_targets_length(y, batch)
        gram = self.train_grams_[self.cv_results_["grid_point"][index]][estimator.kernel]
        return estimator._fit_precomputed(estimator._kernel(), batch, gram, y)

    @available_if(_single_model)
    def decision_function(self, X) -> np.ndarray:
        """The best candidate's decision function for the sequences ``X`` (only when it
        alone predicts: a vote has none)."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        """The predicted class of each sequence of ``X``: the best candidate's, or the
        vote of ``voting_estimators_``."""
        return _vote(list(self.voter_predictions(X)), self.classes_)

    def voter_predictions(self, X) -> np.ndarray:
        """Each voter's predicted classes, shape ``(len(voters_), n)``, the best first.

        With ``selection="vote"`` row ``i`` is what the best candidate of one
        head alone predicts; ``predict`` is their majority.
        """
        check_is_fitted(self)
        batch = self.best_estimator_._new_sequences(X)
        test_grams, predictions = {}, []
        for row, estimator in zip(self.voters_, self.voting_estimators_, strict=True):
            # Voters at one grid point (other C or scaling) share its test kernel.
            key = (self.cv_results_["grid_point"][row], self.cv_results_["params"][row]["kernel"])
            if key not in test_grams:
                test_grams[key] = estimator._raw_test_gram(batch)
            gram = estimator.scaling_.test(*test_grams[key])
            predictions.append(estimator.svm_.predict(gram))
        return np.array(predictions)


class KernelClassifierCV(ClassifierMixin, _CrossValidatedSVM, _FittedState, BaseEstimator):
    """An SVM on any kernel family, its parameters and ``C`` chosen by cross-validation.

    The protocol of :class:`RNTKClassifierCV` (the same code) for a kernel
    given as a function ``kernel(X, X2=None, **params)`` that returns the
    ``(len(X), len(X2))`` Gram matrix (``X2=None``: ``X`` against itself), as
    :func:`rntk.kernel` and the kernels of :mod:`rntk.baselines` do:

    * each point of ``param_grid`` costs one call ``kernel(X, None, **point)``
      on the whole training set, whose Gram matrix is cut into the folds;
    * each Gram matrix is scaled in every way of ``kernel_scalings``
      (``"trace"``: divided by the mean of the fitting folds' diagonal, in the
      refit the whole training set's; ``"cosine"``: ``K(x, x') / sqrt(K(x, x)
      K(x', x'))``);
    * every candidate (grid point, scaling, ``C``) is scored by its mean
      validation accuracy over the same stratified, shuffled and repeated
      splits; the first of the best candidates (grid points in the order of
      ``param_grid``, the last key varying fastest, then scaling, then ``C``)
      is refitted on the whole training set from its Gram matrix.

    Like ``sklearn.linear_model.LogisticRegressionCV``, the search is itself
    the refitted model: ``predict(X)`` computes ``kernel(X, X_fit_,
    **kernel_params_)`` with the ``kernel`` of the last ``fit``. The kernel
    validates its own inputs: ``X`` is passed to it unchanged, so it may be
    anything the kernel reads (arrays of vectors, lists of sequences,
    strings...). A grid point whose kernel raises
    :class:`rntk.KernelOverflowError` or :class:`rntk.KernelUnderflowError`
    is skipped and listed in ``overflowed_params_``.

    Parameters
    ----------
    kernel : callable
        ``kernel(X, X2=None, **params) -> ndarray (len(X), len(X2))``.
    param_grid : dict or list of dict, optional
        Keyword arguments of ``kernel`` to lists of values (keys iterated in
        the order given). None: the kernel with its defaults. ``C`` and
        ``kernel_scaling`` are the search's own and not allowed.
    Cs : sequence of float, default (0.01, 0.1, 1, 10, 100)
        Candidate SVM penalties.
    kernel_scalings : sequence of {"trace", "cosine"}, default ("trace", "cosine")
    cv : int, cross-validation splitter or iterable of (fit, validate) index arrays, default 5
        As for :class:`RNTKClassifierCV`.
    n_repeats : "auto" or int, default "auto"
        Repeats of the stratified split (int ``cv`` only; ``"auto"``: 3 below
        300 training samples, else 1).
    random_state : int, default 0
        Seed of the shuffles (int ``cv`` only).
    max_iter : int, default -1
        Cap on libsvm's iterations per fit (-1: none).
    diagonal : callable, optional
        ``diagonal(X, **params) -> ndarray (len(X),)``, the self-kernels
        ``K(x, x)``, read by ``predict`` under the cosine scaling. None: the
        diagonal of ``kernel(X, None, **params)``.
    progress : bool, default False
        One progress bar over the grid points, on stderr.
    max_cv_samples : int, optional
        As for :class:`RNTKClassifierCV`: above this many training samples,
        cross-validation runs on a stratified subsample of this size, and only
        the chosen grid point's kernel is computed on every training sample.
    selection : {"best", "vote"}, default "best"
        As for :class:`RNTKClassifierCV`: the best candidate, or the majority
        vote of the best candidate of each group of ``vote_by``.
    vote_by : sequence of str, optional
        With ``selection="vote"``, the kernel parameters whose values define
        the groups that vote (required then; a kernel family has no read-out
        heads by default).

    Attributes
    ----------
    cv_results_ : dict of arrays
        As for :class:`RNTKClassifierCV`, but ``params`` holds the grid
        point's parameters, ``kernel_scaling`` (``"trace"`` or ``"cosine"``)
        and ``C``.
    best_index_ : int
    best_params_ : dict
        The best candidate's entry of ``cv_results_["params"]``.
    best_score_ : float
        Mean validation accuracy of the best candidate.
    kernel_params_ : dict
        The best candidate's keyword arguments of ``kernel``.
    svm_ : sklearn.svm.SVC
        The SVM refitted on the whole training set's scaled Gram matrix.
    X_fit_ :
        The training samples, as given.
    classes_ : ndarray
    n_iter_ : ndarray of int
        libsvm's iterations in the refit.
    n_splits_ : int
    overflowed_params_ : list of dict
        Grid points skipped because their kernel overflowed or underflowed.
    cv_samples_ : ndarray of int or None
        The training samples that cross-validation saw, None for all of them.
    voters_ : list of int
        The rows of ``cv_results_`` whose models predict, the best first.
    voting_models_ : list
        Their refitted models, each with ``grid_point``, ``kernel_params``,
        ``scaling`` and ``svm`` (the first is the best candidate's, also in
        ``kernel_params_``, ``svm_``).
    fitted_params_ : dict
        The parameters of the last ``fit`` (``get_params()`` then): ``predict``
        calls the ``kernel`` and ``diagonal`` found there; ``set_params``
        takes effect at the next ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.baselines import rbf_kernel
    >>> from rntk.sklearn import KernelClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 12)) + np.repeat([[0.0], [0.8]], 15, axis=0)
    >>> y = np.repeat([0, 1], 15)
    >>> search = KernelClassifierCV(rbf_kernel, {"gamma": [0.01, 0.1]}, Cs=[0.1, 1])
    >>> sorted(search.fit(X, y).best_params_)
    ['C', 'gamma', 'kernel_scaling']
    >>> len(search.cv_results_["params"])  # 2 points x 2 scalings x 2 C
    8
    """

    def __init__(
        self,
        kernel,
        param_grid=None,
        Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
        kernel_scalings=KERNEL_SCALINGS,
        cv=5,
        n_repeats="auto",
        random_state=0,
        max_iter=-1,
        diagonal=None,
        progress=False,
        max_cv_samples=None,
        selection="best",
        vote_by=None,
    ):
        self.kernel = kernel
        self.param_grid = param_grid
        self.Cs = Cs
        self.kernel_scalings = kernel_scalings
        self.cv = cv
        self.n_repeats = n_repeats
        self.random_state = random_state
        self.max_iter = max_iter
        self.diagonal = diagonal
        self.progress = progress
        self.max_cv_samples = max_cv_samples
        self.selection = selection
        self.vote_by = vote_by

    def _check_functions(self) -> None:
        if not callable(self.kernel):
            raise TypeError(
                "kernel must be a function kernel(X, X2=None, **params) returning a Gram "
                f"matrix, got {self.kernel!r}"
            )
        if self.diagonal is not None and not callable(self.diagonal):
            raise TypeError(
                f"diagonal must be None or a function diagonal(X, **params), got {self.diagonal!r}"
            )

    def _grid_points(self) -> list[tuple[dict, tuple[None]]]:
        """The expanded grid, one kernel computation per point (its one Gram matrix unnamed)."""
        points = _expand_grid(self.param_grid)
        for point in points:
            reserved = sorted(set(point) & {"C", "kernel_scaling"})
            if reserved:
                raise ValueError(
                    f"param_grid: {reserved[0]!r} is the search's own (set by "
                    f"{'Cs' if reserved[0] == 'C' else 'kernel_scalings'}), not a kernel parameter"
                )
        return [(point, (None,)) for point in points]

    def fit(self, X, y):
        """Cross-validate every candidate on ``(X, y)`` and refit the best one."""
        self._discard_fit()
        y = _classification_targets(y)
        self._check_functions()
        self._check_options()
        points = self._grid_points()

        def compute(parameters: dict, names: tuple[None]) -> dict[None, np.ndarray]:
            gram = _checked_gram(self.kernel, X, None, parameters)
            if len(gram) != len(y):
                raise ValueError(
                    f"y has {len(y)} entries but kernel(X) is {len(gram)} x {len(gram)}; "
                    "they must match"
                )
            return {None: gram}

        def candidate(parameters: dict, name: None, scaling: str, c: float) -> dict:
            return {**parameters, "kernel_scaling": scaling, "C": c}

        samples = self._cv_samples(y)
        if samples is None:
            best_gram, _ = self._search(points, compute, candidate, y)
        else:
            full_X, full_y = X, y
            X, y = _take(X, samples), y[samples]
            self._search(points, compute, candidate, y)
            X, y = full_X, full_y  # the chosen candidate's kernel on every sample, for the refit
        self.X_fit_ = X
        self.voters_ = self._voters()
        grams = (
            {}
            if samples is not None
            else {self.cv_results_["grid_point"][self.best_index_]: best_gram}
        )
        self.voting_models_ = []
        for row in self.voters_:
            params = self.cv_results_["params"][row]
            kernel_params = {
                key: value for key, value in params.items() if key not in ("kernel_scaling", "C")
            }
            point = self.cv_results_["grid_point"][row]
            if point not in grams:
                grams[point] = compute(kernel_params, (None,))[None]
            scaling = _GramScaling(
                np.diag(grams[point]).copy(),
                normalize=params["kernel_scaling"] == "cosine",
                kernel_scaling="trace" if params["kernel_scaling"] == "trace" else None,
            )
            svm = SVC(C=params["C"], kernel="precomputed", max_iter=self.max_iter)
            svm.fit(scaling.train(grams[point]), y)
            self.voting_models_.append(_FittedCandidate(point, kernel_params, scaling, svm))
        self.kernel_params_ = self.voting_models_[0].kernel_params
        self.scaling_ = self.voting_models_[0].scaling
        self.svm_ = self.voting_models_[0].svm
        self.classes_ = self.svm_.classes_
        self.n_iter_ = self.svm_.n_iter_
        return self._record_fit()

    def _self_kernels(self, X, kernel_params: dict) -> np.ndarray:
        """The fitted kernel of each sample of ``X`` with itself."""
        kernel, diagonal = self.fitted_params_["kernel"], self.fitted_params_["diagonal"]
        if diagonal is None:
            return np.diag(_checked_gram(kernel, X, None, kernel_params)).copy()
        return np.asarray(diagonal(X, **kernel_params), dtype=np.float64)

    def _raw_test_gram(self, X, kernel_params: dict):
        """``kernel(X, X_fit_)`` (the fitted kernel) and a function giving the self-kernels of
        ``X`` (once)."""
        n_train = len(self.scaling_.train_diagonal)
        kernel = self.fitted_params_["kernel"]
        gram = _checked_gram(kernel, X, self.X_fit_, kernel_params, n_columns=n_train)
        return gram, _once(lambda: self._self_kernels(X, kernel_params))

    @available_if(_single_model)
    def decision_function(self, X) -> np.ndarray:
        """The SVM's decision function for the samples ``X`` (as ``SVC.decision_function``;
        only when the best candidate alone predicts: a vote has none)."""
        check_is_fitted(self)
        return self.svm_.decision_function(
            self.scaling_.test(*self._raw_test_gram(X, self.kernel_params_))
        )

    def predict(self, X) -> np.ndarray:
        """The predicted class of each sample of ``X``: the best candidate's, or the vote
        of ``voting_models_``."""
        check_is_fitted(self)
        test_grams, predictions = {}, []
        for model in self.voting_models_:
            # Voters at one grid point (other C or scaling) share its test kernel.
            if model.grid_point not in test_grams:
                test_grams[model.grid_point] = self._raw_test_gram(X, model.kernel_params)
            gram = model.scaling.test(*test_grams[model.grid_point])
            predictions.append(model.svm.predict(gram))
        if len(predictions) == 1:
            return predictions[0]
        return _vote(predictions, self.classes_)


@dataclass(frozen=True)
class _FittedCandidate:
    """One refitted candidate of :class:`KernelClassifierCV`: its grid point, kernel
    parameters, Gram scaling and SVM."""

    grid_point: int
    kernel_params: dict
    scaling: _GramScaling
    svm: SVC


def _checked_gram(kernel, X, X2, params: dict, n_columns: int | None = None) -> np.ndarray:
    """``kernel(X, X2, **params)`` as a finite float array with ``n_columns`` columns."""
    gram = np.asarray(kernel(X, X2, **params), dtype=np.float64)
    square = X2 is None and gram.ndim == 2 and gram.shape[0] == gram.shape[1]
    if gram.ndim != 2 or not (square if n_columns is None else gram.shape[1] == n_columns):
        expected = "square" if n_columns is None else f"with {n_columns} columns"
        raise ValueError(
            f"kernel({'X' if X2 is None else 'X, X_fit_'}, **{params!r}) must return a 2-D "
            f"Gram matrix {expected}, got shape {gram.shape}"
        )
    if not np.all(np.isfinite(gram)):
        raise ValueError(f"kernel(X, X2, **{params!r}) returned NaN or infinite values")
    return gram


def _candidate_options(kernel: str, scaling: str) -> dict:
    """The :class:`RNTKClassifier` parameters of a kernel and a scaling of the CV grid."""
    if scaling == "cosine":
        return {"kernel": kernel, "normalize": True, "kernel_scaling": None}
    return {"kernel": kernel, "normalize": False, "kernel_scaling": "trace"}


def _mean_in_order(scores: np.ndarray) -> float:
    # Summed split by split, in order (np.mean may sum pairwise), so that the
    # means of candidates with the same scores in another order are equal
    # floats, and a tie goes to the first candidate. No split: NaN (unscored).
    if len(scores) == 0:
        return float("nan")
    total = 0.0
    for score in scores:
        total += score
    return total / len(scores)


def _cv_results(columns: dict) -> dict:
    scores = np.array(columns["scores"])
    params = columns["params"]
    results = {"params": params}
    for name in dict.fromkeys(name for candidate in params for name in candidate):
        values = np.ma.masked_all(len(params), dtype=object)
        for row, candidate in enumerate(params):
            if name in candidate:
                values[row] = candidate[name]
        results[f"param_{name}"] = values
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    results["mean_test_score"] = np.array([_mean_in_order(row) for row in scores])
    results["std_test_score"] = (
        scores.std(axis=1) if scores.shape[1] else np.full(len(params), np.nan)
    )
    # Equal means share the best rank among them, as in GridSearchCV; with no
    # split every mean is NaN, and every candidate ranks first, as there too.
    means = results["mean_test_score"]
    ranks = stats.rankdata(-means, method="min") if scores.shape[1] else np.ones(len(params))
    results["rank_test_score"] = ranks.astype(np.int32)
    results["grid_point"] = np.array(columns["grid_point"])
    results["kernel_time"] = np.array(columns["kernel_time"])
    return results


class RNTKFeatures(TransformerMixin, _RNTKEstimator):
    """Nystroem features of the RNTK: a transformer for linear models on many sequences.

    A thin scikit-learn wrapper over :class:`rntk.nystroem.Nystroem` (see
    :mod:`rntk.nystroem` for the construction): ``transform(X) @
    transform(X2).T`` approximates the kernel ``K(X, X2)``, exactly (to
    rounding) when the landmarks are all the training sequences.

    Parameters
    ----------
    n_components : int, default 100
        Number of landmarks and of features; capped at the number of training
        sequences (with a warning, as ``sklearn.kernel_approximation.Nystroem``).
    landmarks : {"uniform", "rpcholesky", "greedy"}, default "uniform"
        Landmarks drawn uniformly at random; by randomly pivoted Cholesky
        (each drawn in proportion to how badly the landmarks so far represent
        it: a smaller kernel approximation error, for about ``n_components``
        kernel rows over the training set more); or by greedy pivoted
        Cholesky (deterministic, drawn to outliers). See
        :class:`rntk.nystroem.Nystroem`.
    random_state : None, int or numpy.random.Generator
        Seed of the uniform draw and of ``"rpcholesky"``.
    batch_size : int, default 4096
        Sequences transformed together (bounds the memory of ``transform``).
    kernel : {"ntk", "nngp"}, default "ntk"
    **kernel_parameters
        Keyword-only: the parameters of :class:`rntk.RNTK` (see
        :mod:`rntk.sklearn`); ``progress`` shows a bar in ``transform``.

    Attributes
    ----------
    nystroem_ : rntk.nystroem.Nystroem
        The fitted feature map.
    landmark_indices_ : ndarray of int
        Positions of the landmarks in the training data.
    n_components_ : int
        Number of features.
    fitted_params_ : dict
        The parameters of the last ``fit`` (``get_params()`` then), which
        prediction reads; ``set_params`` takes effect at the next ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import RNTKFeatures
    >>> X = np.random.default_rng(0).standard_normal((40, 10))
    >>> RNTKFeatures(n_components=16, random_state=0).fit_transform(X).shape
    (40, 16)
    """

    def __init__(
        self,
        n_components=100,
        landmarks="uniform",
        random_state=None,
        batch_size=DEFAULT_BATCH_SIZE,
        kernel="ntk",
        **kernel_parameters,
    ):
        self.n_components = n_components
        self.landmarks = landmarks
        self.random_state = random_state
        self.batch_size = batch_size
        self.kernel = kernel
        self._set_kernel_parameters(kernel_parameters)

    def fit(self, X, y=None):
        """Choose the landmarks among the sequences of ``X``."""
        self._discard_fit()
        self._check_kernel_name()
        batch = self._training_sequences(X)
        n_components = self.n_components
        if isinstance(n_components, numbers.Integral) and n_components > batch.n_sequences:
            warnings.warn(
                f"n_components={n_components} is larger than the {batch.n_sequences} training "
                f"sequences; n_components was set to {batch.n_sequences}",
                stacklevel=2,
            )
            n_components = batch.n_sequences
        arguments = {p.name: getattr(self, p.name) for p in self._kernel_parameters()}
        self.nystroem_ = Nystroem(
            RNTK(**arguments, get=self.kernel),
            n_components,
            landmarks=self.landmarks,
            random_state=self.random_state,
            batch_size=self.batch_size,
        ).fit(batch)
        self.landmark_indices_ = self.nystroem_.landmark_indices_
        self.n_components_ = self.nystroem_.n_components_
        return self._record_fit()

    def transform(self, X) -> np.ndarray:
        """The features of the sequences of ``X``, shape ``(n, n_components_)``."""
        batch = self._new_sequences(X)
        return self.nystroem_.transform(batch, progress=self.fitted_params_["progress"])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names ``rntkfeatures0``, ``rntkfeatures1``, ... of the features."""
        check_is_fitted(self)
        return np.array([f"rntkfeatures{i}" for i in range(self.n_components_)], dtype=object)
