"""Cross-validation splits: stratified, repeated, defined for classes of any size; subsamples."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.utils import check_random_state


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
