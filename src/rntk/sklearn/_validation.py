"""Input checks at the boundary of the estimators: sequences, targets, the scaling option."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ..sequences import SequenceBatch, as_sequences


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


def _classification_targets(y) -> np.ndarray:
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


def _check_kernel_scaling(kernel_scaling) -> None:
    if kernel_scaling not in (None, "trace"):
        raise ValueError(
            f"kernel_scaling must be None or 'trace' (for the cosine form pass "
            f"normalize=True), got {kernel_scaling!r}"
        )
