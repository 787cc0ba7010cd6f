"""Nystroem features of the RNTK as a scikit-learn transformer."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._kernel import RNTK
from ..nystroem import DEFAULT_BATCH_SIZE, Nystroem
from ._base import _RNTKEstimator


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
