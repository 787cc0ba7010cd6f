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

Two ways of choosing landmarks:

``"uniform"``
    ``m`` distinct sequences drawn uniformly at random (the first ``m`` of a
    random permutation, so with one seed a larger ``m`` keeps the smaller
    one's landmarks). Costs nothing beyond the draw.
``"greedy"``
    Pivoted Cholesky on the kernel matrix of the training set [2]_: each pick
    is the sequence with the largest residual variance
    :math:`k(x, x) - F(x) F(x)^\top`, i.e. the one the landmarks chosen so far
    represent worst (ties: the lowest index). This needs the kernel's diagonal
    and one kernel column ``k(X, z)`` per pick, never the Gram matrix: ``n m``
    kernel evaluations (as many as the features of the training set), up to
    ``2 n m + 8 n`` because columns are computed a round at a time for the
    largest residuals and some go unused, ``O(n m^2)`` arithmetic and ``8 n m`` bytes
    for the partial Cholesky factor (plus at most 64 MiB of columns). Once
    every residual is at rounding level (the landmarks already span the whole
    set), the remaining landmarks are taken in decreasing order of residual
    without further kernel columns: they cannot improve the approximation.

References
----------
.. [1] C. K. I. Williams, M. Seeger, "Using the Nystroem method to speed up
   kernel machines", NIPS 2001.
.. [2] S. Fine, K. Scheinberg, "Efficient SVM training using low-rank kernel
   representations", JMLR 2, 2001.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from ._kernel import RNTK
from .options import check_flag, check_positive_integer
from .progress import ProgressBar
from .sequences import SequenceBatch, as_sequences

__all__ = ["Nystroem"]

LANDMARK_METHODS = ("uniform", "greedy")

#: Sequences per batch of ``transform``: 4096 x 1000 landmarks is a 33 MB
#: batch of kernel values, and 16 row blocks of the kernel's default block
#: shape keep 8 workers busy.
DEFAULT_BATCH_SIZE = 4096

#: At most this many bytes of kernel columns are computed ahead by the greedy rule.
GREEDY_ROUND_BYTES = 64 * 2**20


def _check_kernel(kernel) -> RNTK:
    if not isinstance(kernel, RNTK):
        raise TypeError(f"kernel must be an rntk.RNTK, got {type(kernel).__name__}")
    if len(kernel.get) != 1:
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


def _greedy_landmarks(kernel: RNTK, batch: SequenceBatch, n_landmarks: int) -> np.ndarray:
    """Indices of ``n_landmarks`` sequences of ``batch`` chosen by pivoted Cholesky.

    See the module docstring for the rule and its cost. ``kernel`` gives one
    kernel. Kernel columns are computed in rounds, for the sequences with the
    largest residuals, so that the kernel works on blocks instead of paying
    its per-call cost once per pick; a column is used only when its sequence
    is the pick of the one-at-a-time rule, so the picks are exactly that
    rule's. Each round asks for twice as many columns as the previous round
    used (the first for 8; at most :data:`GREEDY_ROUND_BYTES` of columns), so
    at most ``2 n_landmarks + 8`` columns are computed in all.
    """
    n = batch.n_sequences
    residual = np.asarray(kernel.diag(batch), dtype=np.float64).copy()
    # Below this, a residual is rounding: its sequence is already in the span.
    negligible = n_landmarks * np.finfo(kernel.dtype).eps * max(residual.max(), 0.0)
    largest_round = max(1, GREEDY_ROUND_BYTES // (8 * n))
    factor = np.empty((n_landmarks, n))
    chosen = np.zeros(n, dtype=bool)
    picks: list[int] = []
    columns: dict[int, np.ndarray] = {}  # kernel columns of this round's candidates
    used_in_round = 4  # so that the first round computes 8 columns
    while len(picks) < n_landmarks:
        open_residual = np.where(chosen, -np.inf, residual)
        index = int(np.argmax(open_residual))
        if open_residual[index] <= negligible:
            remaining = np.flatnonzero(~chosen)
            order = np.argsort(-residual[remaining], kind="stable")
            picks.extend(remaining[order[: n_landmarks - len(picks)]].tolist())
            break
        if index not in columns:
            round_size = min(2 * used_in_round, largest_round, n_landmarks - len(picks))
            candidates = np.argsort(-open_residual, kind="stable")[:round_size].tolist()
            columns = {c: columns[c] for c in candidates if c in columns}
            new = [c for c in candidates if c not in columns]
            # New sequences as rows against all columns: the kernel spreads the
            # columns over its workers.
            values = np.asarray(kernel(batch.subset(new), batch), dtype=np.float64)
            columns.update(zip(new, values, strict=True))
            used_in_round = 0
        pick = len(picks)
        column = columns.pop(index) - factor[:pick, index] @ factor[:pick]
        factor[pick] = column / np.sqrt(residual[index])
        residual -= factor[pick] ** 2
        chosen[index] = True
        picks.append(index)
        used_in_round += 1
    return np.asarray(picks, dtype=np.intp)


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
        ask ``transform`` for one. The kernel is read at each call: change
        its hyperparameters only before ``fit``.
    n_components : int
        Number of landmarks, which is also the number of features; between 1
        and the number of sequences given to ``fit``.
    landmarks : {"uniform", "greedy"}, default "uniform"
        How landmarks are chosen among the sequences given to ``fit``:
        uniformly at random without replacement, or greedily by pivoted
        Cholesky (``n_components`` kernel columns over the training set, at
        most about twice that, and ``8 n n_components`` bytes more; usually a
        better approximation, much better when the data are clustered).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seed of the uniform draw (``"greedy"`` is deterministic).
    batch_size : int, default 4096
        Sequences whose kernel values against the landmarks are computed
        together by ``transform``. The working memory is about ``8 *
        batch_size * n_components`` bytes whatever the number of sequences;
        each batch is split into the kernel's blocks and spread over its
        workers, so a batch should hold at least ``2 * n_jobs`` row blocks.

    Attributes
    ----------
    landmark_indices_ : ndarray of shape (n_components_,), int
        Positions in the ``fit`` data of the landmarks, in the order chosen.
    landmarks_ : list of ndarray of shape (T_i, m)
        The landmark sequences (their non-padding steps), in that order.
    n_components_ : int
        Number of landmarks and of features (equal to ``n_components``).
    normalization_ : ndarray of shape (n_components_, n_components_), float64
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
            Training sequences, in any format of :func:`rntk.kernel`.
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
        if self.landmarks not in LANDMARK_METHODS:
            raise ValueError(f"landmarks must be 'uniform' or 'greedy', got {self.landmarks!r}")
        rng = _generator(self.random_state)
        batch = as_sequences(X, "X")
        if n_components > batch.n_sequences:
            raise ValueError(
                f"n_components must be at most the number of sequences in X "
                f"({batch.n_sequences}), got {n_components}"
            )

        if self.landmarks == "uniform":
            indices = rng.permutation(batch.n_sequences)[:n_components]
        else:
            indices = _greedy_landmarks(kernel, batch, n_components)
        landmark_batch = batch.subset(indices)

        landmark_gram = np.asarray(kernel(landmark_batch), dtype=np.float64)
        eigenvalues, eigenvectors = np.linalg.eigh(landmark_gram)
        cut = n_components * np.finfo(kernel.dtype).eps * max(eigenvalues.max(), 0.0)
        kept = eigenvalues > cut
        inverse_root = np.zeros_like(eigenvalues)
        inverse_root[kept] = eigenvalues[kept] ** -0.5

        self.landmark_indices_ = np.asarray(indices, dtype=np.intp)
        self.landmarks_ = [landmark_batch.sequence(i) for i in range(n_components)]
        self.n_components_ = n_components
        self.normalization_ = (eigenvectors * inverse_root) @ eigenvectors.T
        self.rank_ = int(kept.sum())
        return self

    def transform(self, X, *, progress: bool = False) -> np.ndarray:
        """Features of the sequences of ``X``: ``k(X, landmarks) @ normalization_``.

        Computed ``batch_size`` sequences at a time, so that besides the
        output and one validated copy of ``X`` the memory is bounded by
        ``batch_size x n_components_`` kernel values (and the kernel's
        blocks) whatever the number of sequences. The result is the same, to
        rounding, for every ``batch_size`` (the kernel's blocks regroup the
        same arithmetic), and bit for bit whichever executor runs the blocks.

        Parameters
        ----------
        X : array (n, T) or (n, T, m), NaN-padded array, or list of (T_i,) / (T_i, m) arrays
            Sequences with as many features per step as those given to ``fit``.
        progress : bool, default False
            Show a progress bar (sequences done, time elapsed and left) on stderr.

        Returns
        -------
        ndarray of shape (n, n_components_), of the kernel's dtype

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
        kernel = _quiet(_check_kernel(self.kernel))
        batch_size = check_positive_integer(self.batch_size, "batch_size")
        landmark_batch = as_sequences(self.landmarks_, "landmarks_")
        batch = as_sequences(X, "X")
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
                gram = kernel(batch.subset(rows), landmark_batch)
                features[rows] = gram @ self.normalization_
                bar.advance(len(rows))
        finally:
            bar.close()
        return features

    def fit_transform(self, X, y=None, *, progress: bool = False) -> np.ndarray:
        """``fit(X)`` then ``transform(X, progress=progress)``."""
        return self.fit(X).transform(X, progress=progress)
