"""Input handling: turn the user's time series into validated, end-aligned arrays.

Every public function of the library accepts the same input formats and passes
them through :func:`as_sequences`, so the rules live here once:

* a 2-D array ``(n, T)``: ``n`` univariate sequences of length ``T``;
* a 3-D array ``(n, T, m)``: ``n`` sequences of ``m``-dimensional steps;
* a 2-D or 3-D array padded with trailing NaN (the tslearn convention for
  sequences of unequal length): the trailing all-NaN steps are not part of the
  sequence. Only NaN marks padding: zeros are data (a zero-padded series is a
  longer series whose last steps are 0, and the kernel sees them), and a
  masked array is refused rather than have its mask dropped (pass
  ``X.filled(np.nan)`` when the masked steps are trailing padding);
* a list of 1-D ``(T_i,)`` or 2-D ``(T_i, m)`` arrays of different lengths;
* pandas objects, read as the NumPy arrays they hold: a DataFrame ``(n, T)``, or
  Series as the items of a list. Columns of ``object`` dtype or of a nullable
  dtype (``Float64``, ``Int64``, ``boolean``) are converted to float64, their
  missing values (``pd.NA``, ``None``) becoming NaN, which then follows the NaN
  rules above: trailing missing values are padding, one inside a series is an
  error. Text in an ``object`` column is refused, not parsed.

Steps come before features. Data stored channels first, a 3-D array ``(n,
channels, T)`` or a list of ``(channels, T_i)`` arrays (aeon, sktime), goes
through :func:`from_channels_first`, which returns this layout; read as it is,
such an array would be sequences of ``channels`` steps with ``T`` features
each. A 3-D array with at least :data:`FEATURES_PER_STEP_WARNING` times more
features than steps (``(n, 1, 150)``, say) is therefore read with a
:class:`LayoutWarning`.

Sequences are aligned at their LAST step: the model reads out
after the last step, so two sequences of different length share their final
steps, not their first ones. The validated batch therefore stores the steps
counted from the end.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FEATURES_PER_STEP_WARNING",
    "LayoutWarning",
    "SequenceBatch",
    "as_sequences",
    "check_same_features",
    "from_channels_first",
]

#: A 3-D array ``(n, T, m)`` with ``m >= FEATURES_PER_STEP_WARNING * T`` is
#: read with a :class:`LayoutWarning`: it looks channels first. Univariate
#: channels-first data, ``(n, 1, T)``, is the common case; short sequences of
#: wide vectors (embeddings) are legitimate and can silence the warning.
FEATURES_PER_STEP_WARNING = 4


class LayoutWarning(UserWarning):
    """A 3-D array has many more features per step than steps: it may be channels first."""


_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _stacklevel_outside_package() -> int:
    """The ``stacklevel`` that makes a warning of the calling function name the user's line.

    Public functions reach the input checks through different numbers of
    calls (``rntk.kernel``, ``RNTK.__call__``, the estimators), so a fixed
    level would point into the library for some of them.
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRECTORY):
        frame, level = frame.f_back, level + 1
    return level


@dataclass(frozen=True, eq=False)
class SequenceBatch:
    """A validated set of sequences, stored aligned at their last step.

    Attributes
    ----------
    steps_from_end : ndarray of shape (max_length, n, m), float64
        ``steps_from_end[r, i]`` is step ``T_i - 1 - r`` of sequence ``i`` (so
        ``r = 0`` is every sequence's last step); zero where ``r >= T_i``.
        Time-major so that one step of all sequences is a contiguous slice.
    lengths : ndarray of shape (n,), int64
        The length ``T_i`` of each sequence (at least 1).
    """

    steps_from_end: np.ndarray
    lengths: np.ndarray

    @property
    def n_sequences(self) -> int:
        return self.lengths.shape[0]

    @property
    def n_features(self) -> int:
        return self.steps_from_end.shape[2]

    @property
    def max_length(self) -> int:
        return self.steps_from_end.shape[0]

    def sequence(self, i: int) -> np.ndarray:
        """Sequence ``i`` in its original time order, shape ``(T_i, m)``."""
        return self.steps_from_end[: self.lengths[i], i][::-1].copy()

    def reversed(self) -> SequenceBatch:
        """Every sequence with its time order reversed (the input of a backward stack).

        Reversed sequences are again aligned at their last step, which is the
        original sequences' first step.
        """
        steps = np.arange(self.max_length)[:, None]
        # Step r from the end of the reversed sequence i is step r from the start
        # of the original, which is stored at T_i - 1 - r from its end.
        source = self.lengths[None, :] - 1 - steps
        started = source >= 0
        columns = np.broadcast_to(np.arange(self.n_sequences), source.shape)
        reversed_steps = self.steps_from_end[np.where(started, source, 0), columns]
        reversed_steps[~started] = 0.0
        return SequenceBatch(reversed_steps, self.lengths)

    def subset(self, indices: np.ndarray) -> SequenceBatch:
        """The sequences at ``indices``, in that order (storage trimmed to their lengths)."""
        indices = np.asarray(indices, dtype=np.intp)
        lengths = self.lengths[indices]
        horizon = int(lengths.max()) if lengths.size else 0
        return SequenceBatch(np.ascontiguousarray(self.steps_from_end[:horizon, indices]), lengths)


def _as_real_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array, refusing strings, objects and complex numbers.

    pandas objects of ``object`` or nullable dtype are the exception: they are
    converted by ``_pandas_as_float``.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; its mask would be ignored. Mark padding with NaN "
            f"instead, e.g. {name}.filled(np.nan) for trailing padding"
        )
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting, e.g. steps of different sizes
        raise ValueError(f"{name} is not a regular array: {error}") from None
    if array.dtype == object and _is_pandas_like(value):
        return _pandas_as_float(value, array, name)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _is_pandas_like(value) -> bool:
    """Whether ``value`` is a pandas DataFrame or Series, told by duck typing.

    pandas is not a dependency and is never imported: anything with pandas'
    ``isna`` and ``to_numpy`` methods is treated as a pandas object.
    """
    return callable(getattr(value, "isna", None)) and callable(getattr(value, "to_numpy", None))


def _pandas_as_float(value, cells: np.ndarray, name: str) -> np.ndarray:
    """The ``object`` array ``cells`` of pandas object ``value`` as float64, missing as NaN.

    Object and nullable extension dtypes (``Float64``, ``Int64``) reach NumPy as
    ``object`` arrays holding ``pd.NA`` or ``None`` where a value is missing;
    pandas' own ``isna`` says where, so pandas need not be imported.
    """
    missing = np.asarray(value.isna(), dtype=bool)
    cells = np.where(missing, np.nan, cells)
    kind = f"pandas {type(value).__name__}"
    text = next((cell for cell in cells.flat if isinstance(cell, (str, bytes))), None)
    if text is not None:
        raise TypeError(
            f"{name} must hold real numbers, got the text {text!r} in a {kind}; convert "
            "it first, e.g. with pandas.to_numeric"
        )
    try:
        return cells.astype(np.float64)
    except (TypeError, ValueError) as error:
        hint = f"; a Series of sequences is read as list({name})" if cells.ndim == 1 else ""
        raise TypeError(
            f"{name} must hold real numbers; a value of the {kind} is not one ({error}){hint}"
        ) from None


def _trailing_padding_length(sequence: np.ndarray) -> int:
    """Length of ``sequence`` (T, m) once trailing all-NaN steps are dropped."""
    step_is_nan = np.isnan(sequence).all(axis=1)
    not_nan = np.flatnonzero(~step_is_nan)
    return int(not_nan[-1]) + 1 if not_nan.size else 0


def _check_finite(sequence: np.ndarray, name: str, index: int) -> None:
    if not np.isfinite(sequence).all():
        bad_step = int(np.flatnonzero(~np.isfinite(sequence).all(axis=1))[0])
        kind = "NaN" if np.isnan(sequence[bad_step]).any() else "inf"
        raise ValueError(
            f"{name}: sequence {index} has {kind} at step {bad_step}; only trailing "
            "all-NaN steps (padding of unequal lengths) are allowed"
        )


def _from_array(array: np.ndarray, name: str) -> list[np.ndarray]:
    if array.ndim == 2:
        array = array[:, :, None]
    elif array.ndim != 3:
        raise ValueError(
            f"{name} must be a 2-D array (n, T), a 3-D array (n, T, m) or a list of "
            f"sequences; got an array of shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: it holds no sequence (shape {array.shape})")
    if array.shape[2] == 0:
        raise ValueError(f"{name} has 0 features per step (shape {array.shape})")
    if 0 < array.shape[1] and array.shape[2] >= FEATURES_PER_STEP_WARNING * array.shape[1]:
        n, steps, features = array.shape
        warnings.warn(
            f"{name} has shape {array.shape}, read as {n} sequences of {steps} step(s) with "
            f"{features} features each. If it is channels first, (n, channels, T) as in "
            f"aeon and sktime, pass rntk.sequences.from_channels_first({name})",
            LayoutWarning,
            stacklevel=_stacklevel_outside_package(),
        )
    return [padded[: _trailing_padding_length(padded)] for padded in array]


def _from_list(items: Sequence, name: str) -> list[np.ndarray]:
    if len(items) == 0:
        raise ValueError(f"{name} is empty: it holds no sequence")
    sequences = []
    for i, item in enumerate(items):
        sequence = _as_real_array(item, f"{name}[{i}]")
        if sequence.ndim == 1:
            sequence = sequence[:, None]
        elif sequence.ndim != 2:
            raise ValueError(
                f"{name}[{i}] must be a 1-D (T,) or 2-D (T, m) array, got shape {sequence.shape}"
            )
        sequences.append(sequence[: _trailing_padding_length(sequence)])
    return sequences


def as_sequences(X, name: str = "X") -> SequenceBatch:
    """Validate ``X`` and store it aligned at the last step.

    Parameters
    ----------
    X : array_like or list of array_like
        See the module docstring for the accepted formats.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    SequenceBatch

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is empty, has the wrong number of dimensions, contains a
        zero-length sequence, holds NaN or inf other than trailing NaN
        padding, or mixes feature dimensions.
    """
    if isinstance(X, SequenceBatch):
        return X
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
        sequences = _from_list(list(X), name)  # a ragged array of sequences
    elif isinstance(X, (list, tuple)):
        sequences = _from_list(X, name)
    elif isinstance(X, (str, bytes)) or np.isscalar(X) or X is None:
        raise TypeError(
            f"{name} must be an array (n, T) or (n, T, m) or a list of sequences, "
            f"got {type(X).__name__}"
        )
    else:
        sequences = _from_array(_as_real_array(X, name), name)

    n_features = sequences[0].shape[1]
    for i, sequence in enumerate(sequences):
        if sequence.shape[0] == 0:
            raise ValueError(f"{name}: sequence {i} has length 0 (no non-NaN step)")
        if sequence.shape[1] != n_features:
            raise ValueError(
                f"{name}: sequence {i} has {sequence.shape[1]} features per step, "
                f"sequence 0 has {n_features}; all sequences must have the same"
            )
        if n_features == 0:
            raise ValueError(f"{name}: sequences have 0 features per step")
        _check_finite(sequence, name, i)

    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps_from_end = np.zeros((int(lengths.max()), len(sequences), n_features))
    for i, sequence in enumerate(sequences):
        steps_from_end[: lengths[i], i] = sequence[::-1]
    return SequenceBatch(steps_from_end, lengths)


def check_same_features(first: SequenceBatch, second: SequenceBatch, names=("X", "X2")) -> None:
    """Raise if two batches have different numbers of features per step."""
    if first.n_features != second.n_features:
        raise ValueError(
            f"{names[1]} has {second.n_features} features per step but {names[0]} has "
            f"{first.n_features}; they must match"
        )


def from_channels_first(X):
    """Sequences stored channels first, in this library's layout (steps first).

    aeon and sktime store a set of multivariate series as ``(n, channels, T)``;
    the library reads ``(n, T, m)``. This function states which one the data
    is, instead of a transposition by hand.

    Parameters
    ----------
    X : array of shape (n, channels, T), or list of arrays of shape (channels, T_i)
        Real numbers; trailing NaN along ``T`` marks padding, as usual.

    Returns
    -------
    ndarray of shape (n, T, channels), or list of arrays of shape (T_i, channels)
        A view (array) or views (list) of ``X`` with the last two axes swapped.

    Raises
    ------
    ValueError
        If ``X`` is not a 3-D array or a list of 2-D arrays.
    TypeError
        If ``X`` does not hold real numbers.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> from rntk.sequences import from_channels_first
    >>> X = np.arange(12.0).reshape(2, 3, 2)  # 2 series, 3 channels, 2 steps
    >>> from_channels_first(X).shape
    (2, 2, 3)
    >>> [x.shape for x in from_channels_first([np.ones((3, 5)), np.ones((3, 4))])]
    [(5, 3), (4, 3)]
    >>> rntk.kernel(from_channels_first(X)).shape
    (2, 2)
    """
    if isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    ):
        if len(X) == 0:
            raise ValueError("X is empty: it holds no sequence")
        items = []
        for i, item in enumerate(X):
            sequence = _as_real_array(item, f"X[{i}]")
            if sequence.ndim != 2:
                raise ValueError(
                    f"X[{i}] must be a 2-D array (channels, T_i) for from_channels_first, "
                    f"got shape {sequence.shape}"
                )
            items.append(sequence.T)
        return items
    array = _as_real_array(X, "X")
    if array.ndim != 3:
        raise ValueError(
            "X must be a 3-D array (n, channels, T) or a list of (channels, T_i) arrays for "
            f"from_channels_first, got an array of shape {array.shape}"
        )
    return np.swapaxes(array, 1, 2)
