r"""Nystroem features: an explicit, finite feature map whose inner products approximate the kernel.

An exact Gram matrix costs ``O(n^2)`` pairs and memory; for a large ``n`` the
Nystroem method [1]_ replaces it by features of a fixed width ``m``. Choose
``m`` landmark sequences :math:`z_1, \dots, z_m` among the training sequences
and map every sequence to

.. math::

    F(x) = k(x, Z)\, K_{mm}^{-1/2}, \qquad k(x, Z) = (k(x, z_1), \dots, k(x, z_m)),
    \qquad K_{mm} = k(Z, Z),

so that :math:`F(x) F(x')^\top = k(x, Z) K_{mm}^{-1} k(Z, x')`: the kernel of the
projections of :math:`x` and :math:`x'` onto the span of the landmarks in the
kernel's feature space. It is exact when :math:`x` or :math:`x'` is a landmark
(so ``m = n`` recovers the Gram matrix to rounding), and a linear model on
:math:`F` is a kernel machine restricted to that span. Features for ``n``
sequences cost ``n m`` kernel evaluations and ``O(n m^2)`` arithmetic.

The inverse square root comes from the symmetric eigendecomposition
:math:`K_{mm} = U \operatorname{diag}(s) U^\top`:
:math:`K_{mm}^{-1/2} = U \operatorname{diag}(s^{-1/2}) U^\top` over the eigenvalues
above ``m * eps * max(s)`` (``eps`` of the kernel's floating-point type), zero
on the others. Those cut directions are the ones rounding cannot tell from a
zero eigenvalue (the landmarks' Gram matrix is positive semi-definite, so a
negative eigenvalue is rounding too); keeping them would multiply rounding
errors by :math:`s^{-1/2}`. The map is then the pseudo-inverse form, and
duplicated landmarks are harmless.

Three ways of choosing landmarks:

``"uniform"`` (the default)
    ``m`` distinct sequences drawn uniformly at random (the first ``m`` of a
    random permutation, so with one seed a larger ``m`` keeps the smaller
    one's landmarks). Costs nothing beyond the draw.
``"rpcholesky"``
    Randomly pivoted Cholesky [3]_: each pick is drawn at random with
    probability proportional to the residual variance
    :math:`k(x, x) - F(x) F(x)^\top` of each sequence, the part of it the
    landmarks chosen so far do not represent (0 for those landmarks). A pick
    thus lands where the approximation is poor, as with ``"greedy"``, but
    in proportion to how much is left there: a lone outlier is one
    candidate among many, while a group of sequences no landmark represents
    weighs as much as its members together. In trace norm, its expected
    error is at most :math:`1 + \varepsilon` times the best rank-``r``
    approximation's once :math:`m \ge r / \varepsilon + r \log(1 /
    (\varepsilon \eta))`, with :math:`\eta` that best error relative to
    the trace [3]_. The draws are made in rounds by rejection sampling [4]_,
    so that the kernel computes rows in blocks: a round draws proposals in
    proportion to the residuals at its start, computes their kernel rows in
    one call, and keeps each proposal in turn with probability (its residual
    now) / (its residual at the start of the round). Residuals only
    decrease, so a kept proposal has exactly the distribution of the next
    pick drawn on its own. Reproducible with ``random_state``.
``"greedy"``
    Pivoted Cholesky [2]_: each pick is the sequence with the largest
    residual variance, i.e. the one the landmarks chosen so far represent
    worst (ties: the lowest index); deterministic. It tends to pick
    outlying sequences first.

Both Cholesky rules need the kernel's diagonal and one kernel row ``k(z, X)``
per pick, never the Gram matrix: ``n m`` kernel evaluations (as many as the
features of the training set), computed a round at a time; ``"greedy"``
computes at most ``2 n m + 8 n`` (rows for the largest residuals that are
not picked in the end), ``"rpcholesky"`` also pays for rejected proposals
(rare unless picks in a round make each other redundant: 1.0 to 1.2 ``n m``
measured on random sequences and on the bundled UCR sets at ``m = n / 2``,
up to 1.6 on the smallest, of 20 series).
Both take ``O(n m^2)`` arithmetic and ``8 n m`` bytes for the partial
Cholesky factor (plus at most 64 MiB of rows). Once every residual is at
rounding level (the landmarks already span the whole set), the remaining
landmarks are taken without further kernel rows, at random for
``"rpcholesky"``, in decreasing order of residual for ``"greedy"``: they
cannot improve the approximation.

References
----------
.. [1] C. K. I. Williams, M. Seeger, "Using the Nystroem method to speed up
   kernel machines", NIPS 2001.
.. [2] S. Fine, K. Scheinberg, "Efficient SVM training using low-rank kernel
   representations", JMLR 2, 2001.
.. [3] Y. Chen, E. N. Epperly, J. A. Tropp, R. J. Webber, "Randomly pivoted
   Cholesky: practical approximation of a kernel matrix with few entry
   evaluations", Communications on Pure and Applied Mathematics
   (arXiv:2207.06503, 2022).
.. [4] E. N. Epperly, J. A. Tropp, R. J. Webber, "Embrace rejection: kernel
   matrix approximation by accelerated randomly pivoted Cholesky",
   arXiv:2410.03969, 2024.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import replace

import numpy as np

from ._kernel import RNTK
from .options import check_choice, check_flag, check_positive_integer
from .prepared import PreparedSequences
from .progress import ProgressBar
from .sequences import SequenceBatch, as_sequences

__all__ = ["Nystroem"]

LANDMARK_METHODS = ("uniform", "rpcholesky", "greedy")

#: Sequences per batch of ``transform``: 4096 x 1000 landmarks is a 33 MB
#: batch of kernel values, and 16 row blocks of the kernel's default block
#: shape keep 8 workers busy.
DEFAULT_BATCH_SIZE = 4096

#: At most this many bytes of kernel rows are computed in one round of pivots.
PIVOT_ROUND_BYTES = 64 * 2**20


def _check_rntk(kernel) -> RNTK:
    if not isinstance(kernel, RNTK):
        raise TypeError(f"kernel must be an rntk.RNTK, got {type(kernel).__name__}")
    return kernel


def _check_kernel(kernel) -> RNTK:
    if len(_check_rntk(kernel).get) != 1:
        raise ValueError(
            f"kernel must give a single kernel (get='ntk' or get='nngp') for Nystroem "
            f"features, got get={kernel.get!r}; use one Nystroem per kernel"
        )
    return kernel


def _generator(random_state) -> np.random.Generator:
    """A NumPy Generator from ``None``, an int, a Generator or a legacy RandomState."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state!r}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, an int, a numpy.random.Generator or a "
        f"numpy.random.RandomState, got {random_state!r}"
    )


def _quiet(kernel: RNTK) -> RNTK:
    """A copy of ``kernel`` without its own progress bar (the caller shows one)."""
    quiet = copy.copy(kernel)
    quiet.progress = False
    return quiet


class _PartialCholesky:
    """A pivoted partial Cholesky factor ``F`` of a kernel matrix, built one pivot at a time.

    ``residual`` holds the diagonal of ``K - F^T F`` (``F`` has one row per
    pivot), the variance of each sequence that the pivots chosen so far do not
    represent; it is 0 on the pivots (exactly: rounding would otherwise leave
    them a little weight). Residuals at or below ``negligible`` are rounding.
    """

    def __init__(self, diagonal: np.ndarray, n_pivots: int, eps: float):
        self.residual = np.asarray(diagonal, dtype=np.float64).copy()
        self.negligible = n_pivots * eps * max(self.residual.max(), 0.0)
        self.factor = np.empty((n_pivots, self.residual.size))
        self.chosen = np.zeros(self.residual.size, dtype=bool)
        self.pivots: list[int] = []

    @property
    def missing(self) -> int:
        return len(self.factor) - len(self.pivots)

    def open_residual(self) -> np.ndarray:
        """The residuals, 0 on the pivots and where rounding cannot tell them from 0."""
        return np.where(self.chosen | (self.residual <= self.negligible), 0.0, self.residual)

    def open_residual_at(self, index: int) -> float:
        """``open_residual()[index]`` alone."""
        value = self.residual[index]
        return 0.0 if self.chosen[index] or value <= self.negligible else float(value)

    def add(self, index: int, kernel_row: np.ndarray) -> None:
        """Make ``index`` the next pivot, from its row ``k(x_index, X)`` of the kernel matrix."""
        done = len(self.pivots)
        column = kernel_row - self.factor[:done, index] @ self.factor[:done]
        self.factor[done] = column / np.sqrt(self.residual[index])
        self.residual -= self.factor[done] ** 2
        self.residual[index] = 0.0
        self.chosen[index] = True
        self.pivots.append(index)

    def round_size(self, used_last_round: int, largest_round: int) -> int:
        """Kernel rows to ask for next: twice as many as the last round used (8 at first)."""
        return min(max(1, 2 * used_last_round), largest_round, self.missing)


def _greedy_pivots(cholesky: _PartialCholesky, kernel_rows, largest_round: int) -> None:
    """Pivoted Cholesky: each pivot the largest residual (ties: the lowest index).

    Kernel rows are computed in rounds, for the sequences with the largest
    residuals, so that the kernel works on blocks instead of paying its
    per-call cost once per pivot; a row is used only when its sequence is the
    pivot of the one-at-a-time rule, so the pivots are exactly that rule's.
    Each round asks for twice as many rows as the previous round used (the
    first for 8; at most ``largest_round``), so at most ``2 m + 8`` rows are
    computed for ``m`` pivots.
    """
    rows: dict[int, np.ndarray] = {}  # kernel rows of this round's candidates
    used_in_round = 4  # so that the first round computes 8 rows
    while cholesky.missing:
        open_residual = np.where(cholesky.chosen, -np.inf, cholesky.residual)
        index = int(np.argmax(open_residual))
        if open_residual[index] <= cholesky.negligible:
            # Every sequence is in the span: the rest cannot improve it; take
            # them in decreasing order of their (rounding-level) residual.
            remaining = np.flatnonzero(~cholesky.chosen)
            order = np.argsort(-cholesky.residual[remaining], kind="stable")
            cholesky.pivots.extend(remaining[order[: cholesky.missing]].tolist())
            return
        if index not in rows:
            size = cholesky.round_size(used_in_round, largest_round)
            candidates = np.argsort(-open_residual, kind="stable")[:size].tolist()
            rows = {c: rows[c] for c in candidates if c in rows}
            new = [c for c in candidates if c not in rows]
            rows.update(zip(new, kernel_rows(new), strict=True))
            used_in_round = 0
        cholesky.add(index, rows.pop(index))
        used_in_round += 1


def _randomly_pivoted(
    cholesky: _PartialCholesky, kernel_rows, largest_round: int, rng: np.random.Generator
) -> None:
    """Randomly pivoted Cholesky: each pivot drawn with probability proportional to its residual.

    Simulated in rounds by rejection sampling (Epperly, Tropp & Webber, in the
    module's references): a round draws proposals
    independently with probabilities proportional to the residuals at its
    start, computes their kernel rows in one call, and keeps each proposal in
    turn with probability (its residual now) / (its residual at the start).
    A kept proposal is then distributed as the next pivot of the one-at-a-time
    rule, since residuals only decrease; a pivot's residual is 0, so it is
    never kept twice. The random stream is, per round, the proposals
    (``rng.choice``) then one uniform per proposal (``rng.random``). Each
    round proposes twice as many as the previous round kept (8 at first; at
    most ``largest_round`` and the number of pivots still missing).
    """
    kept_in_round = 4  # so that the first round proposes 8
    while cholesky.missing:
        weights = cholesky.open_residual()
        total = weights.sum()
        if total == 0.0:
            # Every sequence is in the span: the rest cannot improve it.
            remaining = rng.permutation(np.flatnonzero(~cholesky.chosen))
            cholesky.pivots.extend(remaining[: cholesky.missing].tolist())
            return
        size = cholesky.round_size(kept_in_round, largest_round)
        proposals = rng.choice(weights.size, size=size, p=weights / total)
        thresholds = rng.random(size) * weights[proposals]
        distinct = np.unique(proposals).tolist()
        rows = dict(zip(distinct, kernel_rows(distinct), strict=True))
        kept_in_round = 0
        for proposal, threshold in zip(proposals.tolist(), thresholds, strict=True):
            if not cholesky.missing:
                return
            if threshold < cholesky.open_residual_at(proposal):
                cholesky.add(proposal, rows[proposal])
                kept_in_round += 1


def _sequences(
    kernel: RNTK, X, prepare: bool
) -> tuple[PreparedSequences | SequenceBatch, SequenceBatch]:
    """``X`` validated, prepared for ``kernel`` if it is already or if ``prepare``; and its batch.

    Preparing pays off when ``kernel`` is called on the same sequences
    repeatedly; else only the sequences used need their paths.
    """
    if prepare or isinstance(X, PreparedSequences):
        prepared = kernel.prepare(X)
        return prepared, prepared.batch
    batch = as_sequences(X, "X")
    return batch, batch


def _pivots(
    kernel: RNTK, prepared: PreparedSequences, n_pivots: int, rng: np.random.Generator | None
) -> np.ndarray:
    """Indices of ``n_pivots`` sequences of ``prepared``: greedy (``rng=None``) or random pivots."""
    cholesky = _PartialCholesky(kernel.diag(prepared), n_pivots, np.finfo(kernel.dtype).eps)

    def kernel_rows(indices: list[int]) -> np.ndarray:
        # The new sequences as rows against all columns: the kernel spreads
        # the columns over its workers. The columns' per-sequence work was
        # done once, in prepared; the rows' is selected from it.
        return np.asarray(kernel(prepared.subset(indices), prepared), dtype=np.float64)

    largest_round = max(1, PIVOT_ROUND_BYTES // (8 * prepared.n_sequences))
    if rng is None:
        _greedy_pivots(cholesky, kernel_rows, largest_round)
    else:
        _randomly_pivoted(cholesky, kernel_rows, largest_round, rng)
    return np.asarray(cholesky.pivots, dtype=np.intp)


class Nystroem:
    """Nystroem features of an RNTK (or NNGP): a linear model on them approximates a kernel machine.

    ``F = Nystroem(kernel, m).fit(X_train).transform(X)`` is an ``(n, m)``
    array whose inner products ``F @ F.T`` approximate ``kernel(X)``; for
    ``X = X_train`` and ``m = len(X_train)`` they equal it to rounding. See
    :mod:`rntk.nystroem` for the construction, the eigenvalue cut and the
    cost of each landmark rule.

    Parameters
    ----------
    kernel : rntk.RNTK
        The kernel to approximate; it must give a single kernel (``get="ntk"``
        or ``get="nngp"``). Its ``n_jobs``, ``executor`` (threads by default,
        or e.g. a Dask client's executor), ``block_size`` and ``dtype`` apply
        to every kernel evaluation here. Its own progress bar is not shown;
        ask ``transform`` for one. ``fit`` keeps a copy (``kernel_``), and
        ``transform`` computes the features of that kernel, whatever the
        activation, scales, head, ``get``, ``normalize`` or ``dtype`` of
        ``kernel`` become after ``fit``; its execution options (``n_jobs``,
        ``executor``, ``block_size``) are read at each call, so that a fitted
        map can run on another executor.
    n_components : int
        Number of landmarks, which is also the number of features; between 1
        and the number of sequences given to ``fit``.
    landmarks : {"uniform", "rpcholesky", "greedy"}, default "uniform"
        How landmarks are chosen among the sequences given to ``fit``:
        uniformly at random without replacement; by randomly pivoted
        Cholesky, each drawn in proportion to how badly the landmarks so far
        represent it; or by greedy pivoted Cholesky, each the worst
        represented (deterministic, drawn to outliers). Both Cholesky rules
        compute about ``n_components`` kernel rows over the training set and
        ``8 n n_components`` bytes more. In ``benchmarks/bench_nystroem.py``
        ``"rpcholesky"`` never approximates the Gram matrix worse than
        uniform landmarks (half the error on one UCR set and on
        clustered data), while ``"greedy"``, better still at a large
        ``n_components`` on some sets, is much worse on small sets with
        outliers.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seed of the uniform draw and of ``"rpcholesky"`` (``"greedy"`` is
        deterministic).
    batch_size : int, default 4096
        Sequences whose kernel values against the landmarks are computed
        together by ``transform``. The working memory is about ``8 *
        batch_size * n_components`` bytes whatever the number of sequences;
        each batch is split into the kernel's blocks and spread over its
        workers, so a batch should hold at least ``2 * n_jobs`` row blocks.

    Attributes
    ----------
    kernel_ : rntk.RNTK
        A copy of ``kernel`` as it was at ``fit``: the kernel of the features.
    landmark_indices_ : ndarray of shape (n_components,), int
        Positions in the ``fit`` data of the landmarks, in the order chosen.
    landmarks_ : list of ndarray of shape (T_i, m)
        The landmark sequences (their non-padding steps), in that order.
    n_components_ : int
        Number of landmarks and of features (equal to ``n_components``).
    normalization_ : ndarray of shape (n_components, n_components), float64
        ``K_mm^{-1/2}`` of the landmarks' Gram matrix, eigenvalues below the
        cut set to zero.
    rank_ : int
        Number of eigenvalues of ``K_mm`` kept: the dimension of the span the
        features live in (below ``n_components_`` when landmarks are
        numerically redundant).

    Raises
    ------
    TypeError, ValueError
        From ``fit`` and ``transform``, for a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> from rntk.nystroem import Nystroem
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal(t) for t in rng.integers(5, 20, size=30)]
    >>> kernel = rntk.RNTK()
    >>> features = Nystroem(kernel, n_components=30, random_state=0).fit(X).transform(X)
    >>> features.shape
    (30, 30)
    >>> exact = kernel(X)
    >>> bool(np.abs(features @ features.T - exact).max() < 1e-10 * np.abs(exact).max())
    True
    """

    def __init__(
        self,
        kernel: RNTK,
        n_components: int,
        *,
        landmarks: str = "uniform",
        random_state=None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.kernel = kernel
        self.n_components = n_components
        self.landmarks = landmarks
        self.random_state = random_state
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return (
            f"Nystroem({self.kernel!r}, n_components={self.n_components!r}, "
            f"landmarks={self.landmarks!r}, random_state={self.random_state!r}, "
            f"batch_size={self.batch_size!r})"
        )

    def fit(self, X, y=None) -> Nystroem:
        """Choose the landmarks among the sequences of ``X`` and compute ``K_mm^{-1/2}``.

        Parameters
        ----------
        X : array (n, T) or (n, T, m), NaN-padded array, or list of (T_i,) / (T_i, m) arrays
            Training sequences, in any format of :func:`rntk.kernel`, or
            prepared by ``kernel.prepare``. ``"rpcholesky"`` and ``"greedy"``
            prepare them anyway (a kernel row of every sequence per pivot), so
            a caller who has them prepared saves that work.
        y : ignored
            Accepted for pipelines.

        Returns
        -------
        self

        Raises
        ------
        TypeError, ValueError
            If ``kernel`` is not an :class:`rntk.RNTK` giving one kernel,
            ``n_components`` is not an integer between 1 and ``n``,
            ``landmarks`` is unknown, ``random_state`` or ``batch_size`` is
            malformed, or ``X`` is (see :func:`rntk.kernel`).
        """
        kernel = _quiet(_check_kernel(self.kernel))
        check_positive_integer(self.batch_size, "batch_size")
        n_components = check_positive_integer(self.n_components, "n_components")
        check_choice(self.landmarks, "landmarks", LANDMARK_METHODS)
        rng = _generator(self.random_state)
        # The Cholesky rules compute a kernel row of every sequence per pivot.
        sequences, batch = _sequences(kernel, X, prepare=self.landmarks != "uniform")
        if n_components > batch.n_sequences:
            raise ValueError(
                f"n_components must be at most the number of sequences in X "
                f"({batch.n_sequences}), got {n_components}"
            )

        if self.landmarks == "uniform":
            indices = rng.permutation(batch.n_sequences)[:n_components]
        else:
            pivot_rng = rng if self.landmarks == "rpcholesky" else None
            indices = _pivots(kernel, sequences, n_components, pivot_rng)
        landmark_batch = batch.subset(indices)

        landmark_gram = np.asarray(kernel(sequences.subset(indices)), dtype=np.float64)
        eigenvalues, eigenvectors = np.linalg.eigh(landmark_gram)
        cut = n_components * np.finfo(kernel.dtype).eps * max(eigenvalues.max(), 0.0)
        kept = eigenvalues > cut
        inverse_root = np.zeros_like(eigenvalues)
        inverse_root[kept] = eigenvalues[kept] ** -0.5

        self.kernel_ = kernel
        self.landmark_indices_ = np.asarray(indices, dtype=np.intp)
        self.landmarks_ = [landmark_batch.sequence(i) for i in range(n_components)]
        self.n_components_ = n_components
        self.normalization_ = (eigenvectors * inverse_root) @ eigenvectors.T
        self.rank_ = int(kept.sum())
        return self

    def transform(self, X, *, progress: bool = False) -> np.ndarray:
        """Features of the sequences of ``X``: ``kernel_(X, landmarks_) @ normalization_``.

        Computed ``batch_size`` sequences at a time, so that besides the
        output and one validated copy of ``X`` the memory is bounded by
        ``batch_size x n_components_`` kernel values (and the kernel's
        blocks) whatever the number of sequences. The result is the same, to
        rounding, for every ``batch_size`` (the kernel's blocks regroup the
        same arithmetic), and bit for bit whichever executor runs the blocks.

        Parameters
        ----------
        X : array (n, T) or (n, T, m), NaN-padded array, or list of (T_i,) / (T_i, m) arrays
            Sequences with as many features per step as those given to ``fit``,
            or prepared by ``kernel.prepare``.
        progress : bool, default False
            Show a progress bar (sequences done, time elapsed and left) on stderr.

        Returns
        -------
        ndarray of shape (n, n_components), of the kernel's dtype

        Raises
        ------
        ValueError
            If the object is not fitted, ``X`` has a different number of
            features per step than the landmarks, or ``X`` is malformed.
        TypeError
            If ``progress`` is not a bool or ``X`` is not numeric.
        """
        if not hasattr(self, "normalization_"):
            raise ValueError("this Nystroem is not fitted yet: call fit(X) before transform(X)")
        check_flag(progress, "progress")
        kernel = self._fitted_kernel()
        batch_size = check_positive_integer(self.batch_size, "batch_size")
        # The landmarks' per-sequence work once, not once per batch.
        landmarks = kernel.prepare(as_sequences(self.landmarks_, "landmarks_"))
        landmark_batch = landmarks.batch
        sequences, batch = _sequences(kernel, X, prepare=False)
        if batch.n_features != landmark_batch.n_features:
            raise ValueError(
                f"X has {batch.n_features} features per step but the landmarks (from fit) "
                f"have {landmark_batch.n_features}; they must match"
            )
        features = np.empty((batch.n_sequences, self.n_components_), dtype=kernel.dtype)
        # Batches of similar lengths keep the kernel's blocks free of short
        # sequences waiting for long ones.
        order = np.argsort(-batch.lengths, kind="stable")
        bar = ProgressBar(batch.n_sequences, "Nystroem features", enabled=progress)
        try:
            for start in range(0, batch.n_sequences, batch_size):
                rows = order[start : start + batch_size]
                gram = kernel(sequences.subset(rows), landmarks)
                features[rows] = gram @ self.normalization_
                bar.advance(len(rows))
        finally:
            bar.close()
        return features

    def _fitted_kernel(self) -> RNTK:
        """``kernel_``, run with the execution options that ``kernel`` has now."""
        now = _check_rntk(self.kernel).options
        kernel = copy.copy(self.kernel_)
        # normalize and dtype change the values: they stay as fitted.
        kernel.options = replace(
            now, normalize=self.kernel_.normalize, dtype=self.kernel_.dtype, progress=False
        )
        return kernel

    def fit_transform(self, X, y=None, *, progress: bool = False) -> np.ndarray:
        """``fit(X)`` then ``transform(X, progress=progress)``."""
        return self.fit(X).transform(X, progress=progress)
