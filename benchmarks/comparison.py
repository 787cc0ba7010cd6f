"""Statistics for comparing classifiers over many data sets (NumPy and SciPy only).

Every function takes a table of test accuracies of shape ``(n_sets, n_methods)``:
one row per data set, one column per method, fractions in ``[0, 1]``, and NaN
where a method has no result on a set.

* Group statistics (``mean_accuracy``, ``ranks``, ``mean_ranks``,
  ``share_within_best``, ``p90``, ``p95``, ``pma``) need a complete table, so
  that every method is measured on the same sets; ``common_sets`` cuts a table
  down to the sets where all (or the chosen) columns have a value and says how
  many there are.
* Comparisons of one method with each other one (``wins_ties_losses``,
  ``wilcoxon_against``, ``compare_against``) accept missing values and use,
  for each pair, the sets where both have a value.

Two accuracies closer than ``TIE_TOLERANCE`` are equal (a tie) everywhere in
this module: in ranks, in wins/ties/losses, in the signed-rank test and in the
share of the best accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import wilcoxon

#: Accuracies closer than this are equal. The test accuracies of two methods on
#: one set are multiples of ``1 / n_test``, and no UCR 2018 or UEA test split
#: has more than 16800 series (Crop), so two different accuracies differ by at
#: least 6e-5; published files round to 9 or more significant digits (errors
#: below 1e-9). Any tolerance between the two separates rounding from a real
#: difference; 1e-6 leaves a wide margin on both sides.
TIE_TOLERANCE = 1e-6


# --------------------------------------------------------------------------- validation


def _accuracy_table(table: ArrayLike, *, complete: bool) -> np.ndarray:
    """``table`` as a float array of shape (n_sets, n_methods), values in [0, 1] or NaN."""
    array = np.asarray(table, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"table must be 2-D, (n_sets, n_methods), got an array of shape {array.shape}"
        )
    present = array[~np.isnan(array)]
    if np.any((present < 0) | (present > 1)) or not np.all(np.isfinite(present)):
        raise ValueError("table must hold accuracies in [0, 1] (fractions), or NaN if missing")
    if complete and np.isnan(array).any():
        raise ValueError(
            "table has missing values (NaN); restrict it to the sets every method has "
            "with common_sets(table) first"
        )
    return array


def _column_index(reference: int, n_methods: int) -> int:
    """``reference`` as a non-negative column index."""
    if not -n_methods <= reference < n_methods:
        raise ValueError(f"reference must be a column index of table (0 to {n_methods - 1})")
    return reference % n_methods


# --------------------------------------------------------------------------- restriction


class CommonSets(NamedTuple):
    """The sets on which all compared columns have a value."""

    #: Row indices of those sets in the original table.
    rows: np.ndarray
    #: The table restricted to those rows and to the compared columns.
    table: np.ndarray

    @property
    def count(self) -> int:
        """How many sets are used."""
        return len(self.rows)


def common_sets(table: ArrayLike, columns: ArrayLike | None = None) -> CommonSets:
    """Restrict a table to the data sets where all the compared columns have a value.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies, NaN where a method has no result.
    columns : array-like of int, optional
        The compared columns, in the order wanted; all of them by default.

    Returns
    -------
    CommonSets
        ``rows`` (indices of the kept sets), ``table`` (those rows of the
        compared columns, without NaN) and ``count`` (the number of sets).

    Examples
    --------
    >>> table = [[0.9, 0.8, np.nan], [0.7, np.nan, 0.6], [0.5, 0.4, 0.3]]
    >>> kept = common_sets(table, columns=[0, 1])
    >>> kept.rows.tolist(), kept.count
    ([0, 2], 2)
    >>> kept.table.tolist()
    [[0.9, 0.8], [0.5, 0.4]]
    """
    array = _accuracy_table(table, complete=False)
    if columns is None:
        chosen = np.arange(array.shape[1])
    else:
        chosen = np.asarray(columns, dtype=np.intp).reshape(-1)
        if np.any((chosen < -array.shape[1]) | (chosen >= array.shape[1])):
            raise ValueError(f"columns must be column indices of table (0 to {array.shape[1] - 1})")
    selected = array[:, chosen]
    rows = np.flatnonzero(~np.isnan(selected).any(axis=1))
    return CommonSets(rows, selected[rows])


# --------------------------------------------------------------------------- group statistics


def mean_accuracy(table: ArrayLike) -> np.ndarray:
    """Mean accuracy of each method over the sets of a complete table.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies without missing values (see ``common_sets``).

    Returns
    -------
    numpy.ndarray of shape (n_methods,)
        Column means; NaN if the table has no rows.

    Raises
    ------
    ValueError
        If the table has a missing value: a mean over different sets is not
        a comparison.

    Examples
    --------
    >>> mean_accuracy([[0.9, 0.8], [0.7, 0.8]]).tolist()
    [0.8, 0.8]
    """
    array = _accuracy_table(table, complete=True)
    if array.shape[0] == 0:
        return np.full(array.shape[1], np.nan)
    return array.mean(axis=0)


def ranks(table: ArrayLike, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """Rank of each method on each set: 1 for the most accurate, ties averaged.

    Accuracies within ``tolerance`` of the next one down are tied (a chain of
    such neighbours forms one tie) and share the mean of their positions.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies without missing values.
    tolerance : float, default TIE_TOLERANCE
        Accuracies closer than this are equal.

    Returns
    -------
    numpy.ndarray of shape (n_sets, n_methods)
        Ranks from 1 to n_methods; each row sums to n_methods (n_methods + 1) / 2.

    Examples
    --------
    >>> ranks([[0.9, 0.8, 0.9], [0.5, 0.6, 0.7]]).tolist()
    [[1.5, 3.0, 1.5], [3.0, 2.0, 1.0]]
    """
    array = _accuracy_table(table, complete=True)
    n_sets, n_methods = array.shape
    result = np.empty_like(array)
    positions = np.arange(1, n_methods + 1, dtype=np.float64)
    for row in range(n_sets):
        order = np.argsort(-array[row], kind="stable")
        descending = array[row, order]
        # A new group of ties starts where the gap to the value above exceeds the tolerance.
        starts = np.concatenate(([True], -np.diff(descending) > tolerance))
        group = np.cumsum(starts) - 1
        group_rank = np.bincount(group, weights=positions) / np.bincount(group)
        result[row, order] = group_rank[group]
    return result


def mean_ranks(table: ArrayLike, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """Mean over the sets of each method's rank (1 = best); see ``ranks``.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies without missing values.
    tolerance : float, default TIE_TOLERANCE
        Accuracies closer than this are equal.

    Returns
    -------
    numpy.ndarray of shape (n_methods,)
        Mean ranks; NaN if the table has no rows.

    Examples
    --------
    >>> mean_ranks([[0.9, 0.8, 0.9], [0.5, 0.6, 0.7]]).tolist()
    [2.25, 2.5, 1.25]
    """
    per_set = ranks(table, tolerance)
    if per_set.shape[0] == 0:
        return np.full(per_set.shape[1], np.nan)
    return per_set.mean(axis=0)


def _best(array: np.ndarray) -> np.ndarray:
    """The best accuracy of each set, as a column."""
    return array.max(axis=1, keepdims=True)


def share_within_best(
    table: ArrayLike, fraction: float, tolerance: float = TIE_TOLERANCE
) -> np.ndarray:
    """Share of the sets on which a method reaches ``fraction`` of the best accuracy.

    On each set the best accuracy is the highest among the methods of the
    table; a method counts on that set if its accuracy is at least
    ``fraction * best`` (within ``tolerance``, so that ``0.81`` reaches 90% of
    ``0.9`` despite rounding). ``fraction = 0.9`` and ``0.95`` give the P90 and
    P95 of the RNTK paper (and of Arora et al., 2020, where they come from).

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies without missing values.
    fraction : float
        In ``(0, 1]``.
    tolerance : float, default TIE_TOLERANCE
        Accuracies closer than this are equal.

    Returns
    -------
    numpy.ndarray of shape (n_methods,)
        Shares in [0, 1]; NaN if the table has no rows.

    Examples
    --------
    >>> share_within_best([[0.9, 0.81, 0.8], [0.5, 0.6, 0.4]], 0.9).tolist()
    [0.5, 1.0, 0.0]
    """
    array = _accuracy_table(table, complete=True)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if array.shape[0] == 0:
        return np.full(array.shape[1], np.nan)
    reached = array >= fraction * _best(array) - tolerance
    return reached.mean(axis=0)


def p90(table: ArrayLike, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """P90: share of the sets where a method reaches 90% of the best accuracy.

    ``share_within_best(table, 0.9, tolerance)``; see there.

    Examples
    --------
    >>> p90([[1.0, 0.9, 0.89]]).tolist()
    [1.0, 1.0, 0.0]
    """
    return share_within_best(table, 0.90, tolerance)


def p95(table: ArrayLike, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """P95: share of the sets where a method reaches 95% of the best accuracy.

    ``share_within_best(table, 0.95, tolerance)``; see there.

    Examples
    --------
    >>> p95([[1.0, 0.95, 0.94]]).tolist()
    [1.0, 1.0, 0.0]
    """
    return share_within_best(table, 0.95, tolerance)


def pma(table: ArrayLike) -> np.ndarray:
    """PMA: mean over the sets of a method's accuracy divided by the best on that set.

    The percentage of the maximum accuracy of the RNTK paper, here as a
    fraction. A set on which every method has accuracy 0 counts as 1 for all
    (each method equals the best there).

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies without missing values.

    Returns
    -------
    numpy.ndarray of shape (n_methods,)
        Values in [0, 1]; NaN if the table has no rows.

    Examples
    --------
    >>> pma([[0.8, 0.4], [0.5, 0.5]]).tolist()
    [1.0, 0.75]
    """
    array = _accuracy_table(table, complete=True)
    if array.shape[0] == 0:
        return np.full(array.shape[1], np.nan)
    best = _best(array)
    ratio = np.divide(array, best, out=np.ones_like(array), where=best > 0)
    return ratio.mean(axis=0)


# ------------------------------------------------------------- one method against each other


def wins_ties_losses(
    table: ArrayLike, reference: int, tolerance: float = TIE_TOLERANCE
) -> np.ndarray:
    """Wins, ties and losses of the ``reference`` column against each column.

    For each column, over the sets where it and the reference both have a
    value: a win is a set where the reference is more accurate by more than
    ``tolerance``, a loss one where it is less accurate by more than
    ``tolerance``, a tie any other set. Accuracies that are fractions of one
    test split, as computed here, are equal exactly when they are equal
    fractions; the tolerance only absorbs the rounding of published values
    (see ``TIE_TOLERANCE``).

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies, NaN where missing.
    reference : int
        The column compared with every column.
    tolerance : float, default TIE_TOLERANCE
        Differences at most this large are ties.

    Returns
    -------
    numpy.ndarray of int, shape (n_methods, 3)
        Row ``j``: the reference's wins, ties and losses against column ``j``
        (against itself: all ties).

    Examples
    --------
    >>> wins_ties_losses([[0.9, 0.8], [0.7, 0.7], [0.6, np.nan]], reference=0).tolist()
    [[0, 3, 0], [1, 1, 0]]
    """
    array = _accuracy_table(table, complete=False)
    column = _column_index(reference, array.shape[1])
    difference = array[:, [column]] - array  # NaN where either is missing
    counted = ~np.isnan(difference)
    wins = np.sum(counted & (difference > tolerance), axis=0)
    losses = np.sum(counted & (difference < -tolerance), axis=0)
    ties = counted.sum(axis=0) - wins - losses
    return np.stack([wins, ties, losses], axis=1)


def signed_rank_p_value(
    reference: ArrayLike, other: ArrayLike, tolerance: float = TIE_TOLERANCE
) -> float:
    """Two-sided Wilcoxon signed-rank p-value of two paired accuracy vectors.

    ``scipy.stats.wilcoxon`` on the differences ``reference - other``, with
    differences within ``tolerance`` set to exactly zero first and
    ``zero_method="wilcox"``: sets with equal accuracy are dropped before the
    ranking. A tie (both methods at 100% on an easy set, say) says nothing on
    which method is better; dropping it is Wilcoxon's own rule, the one of the
    2017 bake-off, and the one aeon's critical-difference diagram uses, so this
    test and the diagram see the same differences. (Demšar's split of the zero
    ranks, ``"zsplit"``, would instead count ties as half evidence for each
    side.) Two-sided: the question is whether two methods differ, not whether
    the reference is better. SciPy picks the exact null distribution for up to
    50 differences without ties, an exact permutation distribution for up to
    13 with ties, and the normal approximation with continuity correction
    otherwise.

    Parameters
    ----------
    reference, other : array-like of shape (n_sets,)
        Paired accuracies, no missing values.
    tolerance : float, default TIE_TOLERANCE
        Differences at most this large are zero.

    Returns
    -------
    float
        The p-value; 1.0 if every difference is zero (nothing to test), NaN
        if there are no sets.

    Examples
    --------
    Differences +1, +2, -3, +4, +5, +6 points: the negative rank sum is 3, and
    5 of the 64 sign patterns give at most 3 (the empty set, {1}, {2}, {3},
    {1, 2}), so p = 2 * 5 / 64:

    >>> signed_rank_p_value([0.51, 0.52, 0.47, 0.54, 0.55, 0.56], [0.5] * 6)
    0.15625
    """
    first = np.asarray(reference, dtype=np.float64).reshape(-1)
    second = np.asarray(other, dtype=np.float64).reshape(-1)
    if first.shape != second.shape:
        raise ValueError(
            f"reference and other must have the same length, got {first.size} and {second.size}"
        )
    if np.isnan(first).any() or np.isnan(second).any():
        raise ValueError("reference and other must not hold NaN; compare common sets only")
    if first.size == 0:
        return float("nan")
    difference = first - second
    difference[np.abs(difference) <= tolerance] = 0.0
    if not np.any(difference):
        return 1.0
    result = wilcoxon(difference, zero_method="wilcox", alternative="two-sided")
    return float(result.pvalue)


def wilcoxon_against(
    table: ArrayLike, reference: int, tolerance: float = TIE_TOLERANCE
) -> np.ndarray:
    """Two-sided Wilcoxon signed-rank p-values of the ``reference`` column against each column.

    Each pair uses the sets where both columns have a value; see
    ``signed_rank_p_value`` for the treatment of ties.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies, NaN where missing.
    reference : int
        The column compared with every other column.
    tolerance : float, default TIE_TOLERANCE
        Differences at most this large are zero.

    Returns
    -------
    numpy.ndarray of shape (n_methods,)
        Unadjusted p-values (see ``holm``); NaN for the reference itself and
        for a column that shares no set with it.

    Examples
    --------
    >>> table = [[0.51, 0.5], [0.52, 0.5], [0.47, 0.5], [0.54, 0.5], [0.55, 0.5], [0.56, 0.5]]
    >>> wilcoxon_against(table, reference=0).tolist()
    [nan, 0.15625]
    """
    array = _accuracy_table(table, complete=False)
    column = _column_index(reference, array.shape[1])
    p_values = np.full(array.shape[1], np.nan)
    for other in range(array.shape[1]):
        if other == column:
            continue
        pair = common_sets(array, [column, other])
        if pair.count:
            p_values[other] = signed_rank_p_value(pair.table[:, 0], pair.table[:, 1], tolerance)
    return p_values


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values.

    With the ``m`` p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted
    value of the ``i``-th is ``max over j <= i of min(1, (m - j + 1) p_(j))``:
    the smallest is multiplied by ``m``, the next by ``m - 1`` and so on, and
    the running maximum keeps the adjusted values in the order of the raw
    ones. Rejecting where the adjusted value is at most ``alpha`` controls the
    family-wise error rate at ``alpha`` (Holm, 1979).

    Parameters
    ----------
    p_values : array-like of shape (m,)
        Unadjusted p-values in [0, 1].

    Returns
    -------
    numpy.ndarray of shape (m,)
        Adjusted p-values, in the input order, each at least its raw value
        and at most 1.

    Examples
    --------
    Sorted: 0.005, 0.01, 0.03, 0.04, times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04;
    the running maximum turns the last into 0.06:

    >>> holm([0.01, 0.04, 0.03, 0.005]).round(12).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got an array of shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p_values must be in [0, 1] (no NaN)")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


@dataclass(frozen=True)
class PairComparison:
    """The reference method against one other column, over the sets both have."""

    #: Index of the other column in the table.
    column: int
    #: Number of sets where both have a value.
    n_sets: int
    #: Mean accuracy of the reference over those sets (NaN if none).
    reference_mean: float
    #: Mean accuracy of the other column over those sets (NaN if none).
    other_mean: float
    wins: int
    ties: int
    losses: int
    #: Two-sided Wilcoxon signed-rank p-value (NaN if no set).
    p_value: float
    #: Holm-adjusted over all the comparisons of one ``compare_against`` call.
    p_holm: float


def compare_against(
    table: ArrayLike, reference: int, tolerance: float = TIE_TOLERANCE
) -> list[PairComparison]:
    """The ``reference`` column against each other column, each over the sets both have.

    Means, wins/ties/losses and the Wilcoxon p-value of each pair use the same
    sets, those where both columns have a value. Holm's adjustment runs over
    the family of all pairs that have at least one common set.

    Parameters
    ----------
    table : array-like of shape (n_sets, n_methods)
        Accuracies, NaN where missing.
    reference : int
        The column compared with every other column.
    tolerance : float, default TIE_TOLERANCE
        Accuracies closer than this are equal.

    Returns
    -------
    list of PairComparison
        One per other column, in column order.

    Examples
    --------
    >>> table = [[0.9, 0.8, np.nan], [0.7, 0.7, 0.6], [0.6, 0.5, 0.5]]
    >>> [(c.column, c.n_sets, c.wins, c.ties, c.losses) for c in compare_against(table, 0)]
    [(1, 3, 2, 1, 0), (2, 2, 2, 0, 0)]
    """
    array = _accuracy_table(table, complete=False)
    column = _column_index(reference, array.shape[1])
    counts = wins_ties_losses(array, column, tolerance)
    p_values = wilcoxon_against(array, column, tolerance)
    tested = np.flatnonzero(~np.isnan(p_values))
    adjusted = np.full_like(p_values, np.nan)
    adjusted[tested] = holm(p_values[tested])
    comparisons = []
    for other in range(array.shape[1]):
        if other == column:
            continue
        pair = common_sets(array, [column, other])
        means = mean_accuracy(pair.table)
        wins, ties, losses = (int(count) for count in counts[other])
        comparisons.append(
            PairComparison(
                column=other,
                n_sets=pair.count,
                reference_mean=float(means[0]),
                other_mean=float(means[1]),
                wins=wins,
                ties=ties,
                losses=losses,
                p_value=float(p_values[other]),
                p_holm=float(adjusted[other]),
            )
        )
    return comparisons
