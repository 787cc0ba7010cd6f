"""The base of the estimators on the RNTK: kernel parameters, fitted state, sequences."""

from __future__ import annotations

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._kernel import RNTK
from ..options import KERNEL_NAMES
from ..sequences import SequenceBatch
from ._validation import _as_batch

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
