"""The cross-validated SVMs: on the RNTK, and on any kernel given as a function."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import KERNEL_NAMES, _FittedState, _RNTKEstimator
from ._machines import RNTKClassifier
from ._scaling import _GramScaling, _once
from ._search import KERNEL_SCALINGS, _CrossValidatedSVM, _expand_grid, _single_model, majority_vote
from ._splits import _take
from ._validation import (
    _as_batch,
    _check_targets_length,
    _classification_targets,
    _same_sequences,
)


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
    every score is NaN, a ``UserWarning`` says so, and the first candidate of
    each read-out head is refitted and votes (``selection="vote"``; with
    ``"best"``, the first candidate alone): without validation nothing tells
    the heads apart, which is the case the vote is for.

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
        return majority_vote(list(self.voter_predictions(X)), self.classes_)

    def voter_predictions(self, X) -> np.ndarray:
        """Each voter's predicted classes, shape ``(len(voters_), n)``, the best first.

        With ``selection="vote"`` row ``i`` is what the best candidate of one
        head alone predicts; ``predict`` is their majority.
        """
        check_is_fitted(self)
        batch = self.best_estimator_._new_sequences(X)
        test_grams, prepared, predictions = {}, {}, []
        for row, estimator in zip(self.voters_, self.voting_estimators_, strict=True):
            # Voters at one grid point (other C or scaling) share its test kernel,
            # and its two kernels (ntk, nngp) share the per-sequence work.
            grid_point = self.cv_results_["grid_point"][row]
            key = (grid_point, self.cv_results_["params"][row]["kernel"])
            if key not in test_grams:
                if grid_point not in prepared:
                    prepared[grid_point] = estimator.kernel_.prepare(batch)
                test_grams[key] = estimator._raw_test_gram(prepared[grid_point])
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
        if diagonal is not None:
            return np.asarray(diagonal(X, **kernel_params), dtype=np.float64)
        # The diagonal of kernel(X, None), a block of samples at a time: only the
        # diagonal is wanted, and the whole Gram matrix of a large test set (Crop's
        # 16,800 series) does not fit in memory.
        blocks = (
            _take(X, np.arange(start, min(start + SELF_KERNEL_BLOCK, len(X))))
            for start in range(0, len(X), SELF_KERNEL_BLOCK)
        )
        return np.concatenate(
            [np.diag(_checked_gram(kernel, block, None, kernel_params)) for block in blocks]
        )

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
        return majority_vote(predictions, self.classes_)


#: Samples per kernel call when :class:`KernelClassifierCV` takes self-kernels from
#: the diagonal of Gram matrices (no ``diagonal`` function).
SELF_KERNEL_BLOCK = 256


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
