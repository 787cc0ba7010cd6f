"""The cross-validation engine shared by the searches: grids, fold scores, results, the vote."""

from __future__ import annotations

import itertools
import numbers
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from scipy import stats
from sklearn.svm import SVC

from ..errors import KernelOverflowError, KernelUnderflowError
from ..progress import ProgressBar
from ._scaling import _cosine, _trace_divisor
from ._splits import _checked_split, _stratified_splits, _stratified_subsample

KERNEL_SCALINGS = ("trace", "cosine")
SELECTION_RULES = ("best", "vote")


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
        order). With no split every candidate is unscored (NaN) and ties with
        the others: each group's first candidate votes, the groups in order.
        ``"best"``: the best candidate alone.
        """
        best = self.best_index_
        if self.selection == "best":
            return [best]
        # Unscored (NaN) counts as the lowest score, so that it ties with the others.
        means = np.nan_to_num(self.cv_results_["mean_test_score"], nan=-np.inf)
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
                "cv_results_) is refitted; with selection='vote', the first candidate of "
                "each voting group",
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


def majority_vote(predictions: Sequence[np.ndarray], classes: np.ndarray) -> np.ndarray:
    """The majority of ``predictions``, one array of predicted classes per voter.

    The rule of ``predict`` with ``selection="vote"`` (:class:`RNTKClassifierCV`,
    :class:`KernelClassifierCV`): a tie goes to the class of the first voter,
    in order, whose vote is among the most frequent.

    Parameters
    ----------
    predictions : sequence of ndarray of shape (n,)
        Each voter's predicted classes, the voters in order (e.g. the rows of
        ``RNTKClassifierCV.voter_predictions(X)``).
    classes : ndarray
        The sorted classes that the predictions hold (``classes_``).

    Returns
    -------
    ndarray of shape (n,)
        The class with the most votes for each sample.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import majority_vote
    >>> votes = [np.array(["a", "b"]), np.array(["b", "c"]), np.array(["c", "c"])]
    >>> majority_vote(votes, np.array(["a", "b", "c"])).tolist()
    ['a', 'c']
    """
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
