"""scikit-learn estimators on the RNTK: an SVM, GP / kernel ridge regression, model selection.

Only this package imports scikit-learn (``pip install rntk[sklearn]``); the rest
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
* :func:`rntk_head_grid`: a ``param_grid`` for :class:`RNTKClassifierCV` over
  the read-out heads, the mean heads strided by :func:`mean_pool_stride`;
  :func:`head_name` names a candidate's head, and :func:`majority_vote` is
  the vote of ``selection="vote"``.

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

from ._classifier_cv import KernelClassifierCV, RNTKClassifierCV
from ._features import RNTKFeatures
from ._grids import READOUT_HEADS, head_name, mean_pool_stride, rntk_head_grid
from ._machines import RNTKClassifier, RNTKRegressor
from ._search import majority_vote

# Private helpers that tests and benchmarks import from here, as before the package.
from ._splits import _stratified_splits as _stratified_splits
from ._splits import _stratified_subsample as _stratified_subsample

__all__ = [
    "KernelClassifierCV",
    "RNTKClassifier",
    "RNTKClassifierCV",
    "RNTKFeatures",
    "RNTKRegressor",
    "READOUT_HEADS",
    "head_name",
    "majority_vote",
    "mean_pool_stride",
    "rntk_head_grid",
]

_vote = majority_vote  # its name before it was public
