"""Scaling of Gram matrices: the trace divisor and the cosine form, for fit and predict alike."""

from __future__ import annotations

import numpy as np

from ..options import inverse_root


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
