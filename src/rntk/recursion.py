r"""The limit recursion of the RNTK over time steps and layers (spec section 3).

For a pair of sequences at a step ``s`` where both are active, layer ``l``:

.. math::

    \Sigma_{l,s} &= \sigma_{w,l}^2 K_{l,s-1} + \sigma_{u,l}^2 K_{l-1,s} + \sigma_{b,l}^2 \\
    K_{l,s},\ \dot K_{l,s} &= V_\phi,\ V'_\phi\,(q_{l,s}(x),\ q_{l,s}(x'),\ \Sigma_{l,s}) \\
    \Theta_{l,s} &= \Sigma_{l,s} + \sigma_{w,l}^2 \dot K_{l,s-1}\Theta_{l,s-1}
                   + \sigma_{u,l}^2 \dot K_{l-1,s}\Theta_{l-1,s}

with ``K_{0,s} = <x_s, x'_s> / m`` and no last term in layer 1. The read-out at
the last step gives ``NNGP = sigma_v^2 K_{L,S}`` and
``NTK = sigma_v^2 (K_{L,S} + Kd_{L,S} Theta_{L,S})``.

The state carried from step to step is ``K`` and the product ``Kd * Theta`` per
layer, so a block of pairs needs ``O(L n1 n2)`` memory whatever the length.
:func:`advance_layer` is the one place the recursion is written; the
per-sequence path (a sequence with itself, whose variances ``q`` the cross
recursion needs) and the pairwise block sweep both call it.

Sequences are aligned at their last step. Before a pair's first common step
the state is the boundary value: ``K = sigma_h^2`` if both sequences start
there together (equal lengths), ``K = 0`` if one has started and the other is
still at its initial state ``h0`` (independent of it), and ``Kd * Theta = 0``
(``h0`` is not trained).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import DualActivation
from .heads import LAST_STEP, Head
from .hyperparameters import Hyperparameters
from .sequences import SequenceBatch

__all__ = [
    "KernelOverflowError",
    "SequencePath",
    "StackPaths",
    "advance_layer",
    "cross_block",
    "model_block",
    "self_kernels",
    "sequence_path",
    "stack_paths",
]


class KernelOverflowError(FloatingPointError):
    """The kernel left the range of its floating-point type (sigma_w too large for the length)."""


def advance_layer(
    kernel: np.ndarray,
    derivative_times_tangent: np.ndarray,
    kernel_below: np.ndarray,
    derivative_times_tangent_below: np.ndarray | None,
    layer: int,
    hyper: Hyperparameters,
    evaluate_dual: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
    covariance: np.ndarray,
    derivative: np.ndarray,
) -> None:
    """Advance one layer by one step, in place.

    On entry ``kernel`` and ``derivative_times_tangent`` hold ``K[l, s-1]`` and
    ``Kd[l, s-1] * Theta[l, s-1]``; on exit they hold the values at step ``s``.
    ``kernel_below`` is ``K[l-1, s]`` already scaled for the input layer (see
    :func:`input_covariance`), ``derivative_times_tangent_below`` is
    ``Kd[l-1, s] * Theta[l-1, s]`` or ``None`` in the first layer.
    ``evaluate_dual(Sigma, K_out, Kd_out)`` evaluates the activation's dual map.
    ``covariance`` and ``derivative`` are work arrays of the state's shape; on
    exit ``covariance`` holds ``Sigma[l, s]``.
    """
    w2 = hyper.sigma_w[layer] ** 2
    u2 = hyper.sigma_u[layer] ** 2
    np.multiply(kernel_below, u2, out=covariance)
    np.multiply(kernel, w2, out=derivative)  # derivative is free until the dual writes it
    covariance += derivative
    covariance += hyper.sigma_b[layer] ** 2

    # Theta[l, s] = Sigma + w2 Kd[l,s-1] Theta[l,s-1] + u2 Kd[l-1,s] Theta[l-1,s],
    # built in the state array: its old value is needed only here.
    tangent = derivative_times_tangent
    tangent *= w2
    tangent += covariance
    if derivative_times_tangent_below is not None:
        np.multiply(derivative_times_tangent_below, u2, out=derivative)
        tangent += derivative

    evaluate_dual(covariance, kernel, derivative)
    tangent *= derivative


def input_covariance(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``K[0, s] = <x_s, x'_s> / m`` for all rows ``left`` (a, m) and columns ``right`` (b, m)."""
    n_features = left.shape[1]
    if n_features == 1:
        np.multiply(left, right.T, out=out)
    else:
        np.matmul(left, right.T, out=out)
    if n_features != 1:
        out *= 1.0 / n_features
    return out


@dataclass(frozen=True, eq=False)
class SequencePath:
    """Per-sequence quantities of the recursion, a sequence paired with itself.

    Attributes
    ----------
    lengths : ndarray (n,)
    steps_from_end : ndarray (max_length, n, m)
        The inputs, as in :class:`~rntk.sequences.SequenceBatch`.
    variance : ndarray (depth, max_length, n), float64
        The pre-activation variance ``q[l, t]`` (steps counted from the end;
        zero before a sequence starts).
    factors : list over layers of tuples of ndarrays (max_length, n)
        The activation's per-sequence factors of ``variance``, used by the
        cross recursion.
    prefix_nngp, prefix_ntk : ndarray (max_length, n), float64
        The last-step kernels of each prefix with itself: ``[r, i]`` is the
        kernel of sequence ``i`` without its last ``r`` steps (zero where
        ``r >= T_i``). Computed from closed forms in ``q`` (exact, no
        ``arccos`` near 1).
    """

    lengths: np.ndarray
    steps_from_end: np.ndarray
    variance: np.ndarray
    factors: list
    prefix_nngp: np.ndarray
    prefix_ntk: np.ndarray

    @property
    def n_sequences(self) -> int:
        return self.lengths.shape[0]

    @property
    def nngp(self) -> np.ndarray:
        """The last-step NNGP of each whole sequence with itself, (n,)."""
        return self.prefix_nngp[0]

    @property
    def ntk(self) -> np.ndarray:
        """The last-step NTK of each whole sequence with itself, (n,)."""
        return self.prefix_ntk[0]

    def _select(self, steps: slice, part: slice) -> SequencePath:
        return SequencePath(
            self.lengths[part] - (steps.start or 0),
            self.steps_from_end[steps, part],
            self.variance[:, steps, part],
            [tuple(f[steps, part] for f in layer) for layer in self.factors],
            self.prefix_nngp[steps, part],
            self.prefix_ntk[steps, part],
        )

    def dropping_last(self, steps: int) -> SequencePath:
        """The prefixes that remain when the last ``steps`` steps are dropped (views).

        Sequences no longer than ``steps`` are left out; as the path is sorted
        by decreasing length (as :func:`cross_block` needs), the rest is a
        prefix of the sequences, in the same order. By causality the prefixes'
        variances and factors are those of the first steps of the sequences.
        """
        if steps == 0:
            return self
        kept = int(np.count_nonzero(self.lengths > steps))
        return self._select(slice(steps, None), slice(0, kept))

    def rows(self, start: int, stop: int) -> SequencePath:
        """The sequences ``start:stop`` (views, no copies).

        The time axis is cut to the longest of them, so a part sent to another
        process (a Dask worker) carries no steps that none of them has.
        """
        part = slice(start, stop)
        return self._select(slice(0, int(self.lengths[part].max())), part)


def overflow_message(activation: DualActivation, hyper: Hyperparameters, where: str) -> str:
    """Why the kernel left the float64 range and what to do about it."""
    return (
        f"the RNTK overflowed float64 on {where} with activation "
        f"{activation.name or type(activation).__name__} and {hyper.describe()}: "
        f"{activation.growth_advice}, or use shorter sequences or inputs of smaller scale"
    )


def sequence_path(
    batch: SequenceBatch,
    hyper: Hyperparameters,
    activation: DualActivation,
    dtype=np.float64,
) -> SequencePath:
    """Run the recursion of every sequence with itself, ``O(n L T)``.

    Sequences of different length are advanced together; a sequence that has
    not started yet is held at the boundary value (``K = sigma_h^2``,
    ``Kd * Theta = 0``) until its first step.

    The path is computed in float64; the inputs and factors that the pairwise
    recursion reads are stored in ``dtype``. Because every intermediate kernel
    is positive semi-definite, a pair's values at any step are bounded by its
    two sequences' own, so checking the largest value met here against the
    range of ``dtype`` guarantees that the pairwise recursion cannot overflow.
    """
    n, depth = batch.n_sequences, hyper.depth
    horizon = batch.max_length
    boundary = hyper.sigma_h**2
    kernel = np.repeat(boundary[:, None], n, axis=1)
    derivative_times_tangent = np.zeros((depth, n))
    variance = np.zeros((depth, horizon, n))
    prefix_kernel, prefix_tangent = np.zeros((horizon, n)), np.zeros((horizon, n))
    covariance, derivative, input_var = np.empty(n), np.empty(n), np.empty(n)

    def diagonal_dual(sigma, kernel_out, derivative_out):
        kernel_out[...], derivative_out[...] = activation.diagonal(sigma)

    largest_tangent = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(horizon - 1, -1, -1):
            inputs = batch.steps_from_end[step]
            np.einsum("im,im->i", inputs, inputs, out=input_var)
            input_var *= 1.0 / batch.n_features
            below, below_tangent = input_var, None
            not_started = batch.lengths <= step
            for layer in range(depth):
                advance_layer(
                    kernel[layer],
                    derivative_times_tangent[layer],
                    below,
                    below_tangent,
                    layer,
                    hyper,
                    diagonal_dual,
                    covariance,
                    derivative,
                )
                variance[layer, step] = covariance
                kernel[layer, not_started] = boundary[layer]
                derivative_times_tangent[layer, not_started] = 0.0
                variance[layer, step, not_started] = 0.0
                below, below_tangent = kernel[layer], derivative_times_tangent[layer]
            largest_tangent = max(largest_tangent, float(np.max(derivative_times_tangent)))
            np.add(kernel[-1], derivative_times_tangent[-1], out=prefix_tangent[step])
            prefix_kernel[step] = kernel[-1]
            prefix_kernel[step, not_started] = prefix_tangent[step, not_started] = 0.0

    prefix_nngp = hyper.sigma_v**2 * prefix_kernel
    prefix_ntk = hyper.sigma_v**2 * prefix_tangent
    ntk = prefix_ntk[0]
    finite = np.isfinite(ntk) & np.isfinite(variance).all(axis=(0, 1))
    if not finite.all():
        raise KernelOverflowError(
            overflow_message(
                activation, hyper, f"a sequence of length {int(batch.lengths[~finite].max())}"
            )
        )
    largest = max(largest_tangent, float(variance.max()), float(ntk.max()))
    # Headroom for the products formed inside one step (Sigma plus w2 * Kd * Theta).
    if largest > float(np.finfo(dtype).max) / 16:
        raise KernelOverflowError(
            overflow_message(activation, hyper, f"the {np.dtype(dtype).name} range")
            + f" (largest intermediate value {largest:.3g}); float64 has a wider range"
        )

    def stored(array):
        return array.astype(dtype, copy=False) if array.dtype.kind == "f" else array

    factors = [tuple(map(stored, activation.factors(variance[layer]))) for layer in range(depth)]
    return SequencePath(
        batch.lengths, stored(batch.steps_from_end), variance, factors, prefix_nngp, prefix_ntk
    )


@dataclass(frozen=True, eq=False)
class StackPaths:
    """The per-sequence paths of every stack of a model, and its self-kernels.

    Attributes
    ----------
    stacks : tuple of SequencePath
        One per stack: the sequences, then (bidirectional head) the reversed
        sequences. All share the lengths and the order of the sequences.
    nngp, ntk : ndarray (n,)
        The head's kernels of each sequence with itself, summed over stacks
        (:func:`self_kernels`).
    """

    stacks: tuple
    nngp: np.ndarray
    ntk: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.stacks[0].lengths

    @property
    def n_sequences(self) -> int:
        return self.stacks[0].n_sequences

    def rows(self, start: int, stop: int) -> StackPaths:
        """The sequences ``start:stop`` of every stack (views, no copies)."""
        part = slice(start, stop)
        return StackPaths(
            tuple(path.rows(start, stop) for path in self.stacks), self.nngp[part], self.ntk[part]
        )


def stack_paths(
    batch: SequenceBatch,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head,
    dtype=np.float64,
) -> StackPaths:
    """Run the per-sequence recursion of every stack of the model.

    ``batch`` must be sorted by decreasing length (as :func:`cross_block` needs).
    """
    stacks = tuple(
        sequence_path(batch.reversed() if backward else batch, hyper, activation, dtype)
        for backward in head.directions
    )
    nngp, ntk = np.zeros(batch.n_sequences), np.zeros(batch.n_sequences)
    for path in stacks:
        stack_nngp, stack_ntk = self_kernels(path, hyper, activation, head)
        nngp += stack_nngp
        ntk += stack_ntk
    return StackPaths(stacks, nngp, ntk)


def model_block(
    rows: StackPaths,
    columns: StackPaths,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head,
) -> tuple[np.ndarray, np.ndarray]:
    """The model's NNGP and NTK between the row and column sequences of a block.

    The stacks have independent weights, so their kernels add.
    """
    nngp, ntk = None, None
    for row_path, column_path in zip(rows.stacks, columns.stacks, strict=True):
        stack_nngp, stack_ntk = cross_block(row_path, column_path, hyper, activation, head)
        if nngp is None:
            nngp, ntk = stack_nngp, stack_ntk
        else:
            nngp += stack_nngp
            ntk += stack_ntk
    return nngp, ntk


def _active_counts(lengths_descending: np.ndarray, horizon: int) -> np.ndarray:
    """Number of sequences active ``r`` steps before the end (length > r), ``r < horizon``."""
    # lengths sorted in descending order: the active ones (length > r) form a prefix.
    return np.searchsorted(-lengths_descending, -np.arange(horizon), side="left")


def cross_block(
    rows: SequencePath,
    columns: SequencePath,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head = LAST_STEP,
) -> tuple[np.ndarray, np.ndarray]:
    """The NNGP and NTK of one stack between every row and column sequence of a block.

    Both ``rows`` and ``columns`` must be sorted by decreasing length. The
    head says which diagonals of the step grid to sweep (only the aligned one
    for the last-step head) and which cells along them to read; the read cells
    are averaged with the head's weights. ``head.bidirectional`` is not looked
    at here: the caller adds the reversed stack.

    Returns
    -------
    nngp, ntk : ndarray of shape (len(rows), len(columns))
    """
    if head.reads_last_step_only:
        return _sweep(rows, columns, hyper, activation, _ActiveRectangle, read_stride=None)

    shape, dtype = (rows.n_sequences, columns.n_sequences), rows.steps_from_end.dtype
    nngp, ntk = np.zeros(shape, dtype), np.zeros(shape, dtype)
    for offset in head.offsets(rows.lengths[0], columns.lengths[0]):
        diagonal_nngp, diagonal_ntk = _sweep(
            rows.dropping_last(max(offset, 0)),
            columns.dropping_last(max(-offset, 0)),
            hyper,
            activation,
            _ActiveRectangle,
            read_stride=head.pool_stride,
        )
        cells = (slice(0, diagonal_nngp.shape[0]), slice(0, diagonal_nngp.shape[1]))
        nngp[cells] += diagonal_nngp
        ntk[cells] += diagonal_ntk
    weights = np.multiply.outer(1.0 / head.counts(rows.lengths), 1.0 / head.counts(columns.lengths))
    nngp *= weights
    ntk *= weights
    return nngp, ntk


def self_kernels(
    path: SequencePath, hyper: Hyperparameters, activation: DualActivation, head: Head
) -> tuple[np.ndarray, np.ndarray]:
    """The head's NNGP and NTK of every sequence with itself (one stack), each (n,).

    The cells of the step grid where a prefix meets itself take the exact
    per-sequence values of ``path``; the others pair two different prefixes
    of one sequence and go through the pairwise recursion, paired sequence by
    sequence (no Gram matrix), ``O(n L T^2 / k)`` for the mean head. The
    result depends on the sequence alone, so every pair of identical sequences
    of a Gram matrix gets exactly this value. ``path`` must be sorted by
    decreasing length.
    """
    if head.reads_last_step_only:
        return path.nngp.copy(), path.ntk.copy()
    read = slice(None, None, head.pool_stride)
    nngp = path.prefix_nngp[read].sum(axis=0)
    ntk = path.prefix_ntk[read].sum(axis=0)
    for offset in head.offsets(path.lengths[0], 1)[1:]:
        # Theta(x[:t], x[:t']) = Theta(x[:t'], x[:t]): the offsets -o count twice.
        pair_nngp, pair_ntk = _sweep(
            path.dropping_last(offset),
            path,
            hyper,
            activation,
            _ActivePairs,
            read_stride=head.pool_stride,
        )
        nngp[: pair_nngp.shape[0]] += 2.0 * pair_nngp
        ntk[: pair_ntk.shape[0]] += 2.0 * pair_ntk
    weights = 1.0 / np.square(head.counts(path.lengths))
    return nngp * weights, ntk * weights


def _sweep(
    rows: SequencePath,
    columns: SequencePath,
    hyper: Hyperparameters,
    activation: DualActivation,
    layout,
    read_stride: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the recursion over the common steps of row and column sequences.

    Sequences are aligned at their last step and sorted by decreasing length.
    Going forward in time, the pairs that are active at a step then form a
    growing prefix of the rows and of the columns, so the sweep updates only
    those pairs and a pair costs ``min(T_i, T_j)`` steps. ``layout`` pairs
    every row with every column (:class:`_ActiveRectangle`) or row ``i`` with
    column ``i`` only (:class:`_ActivePairs`).

    With ``read_stride=None`` the kernels are read after the last step (the
    last-step head). Otherwise they are summed over the steps ``0, k, 2k, ...``
    before the end (the cells of one diagonal that a mean head reads).

    Returns
    -------
    nngp, ntk : ndarray, shaped like the layout's pairs, scaled by ``sigma_v**2``
    """
    if layout is _ActiveRectangle and rows.n_sequences < columns.n_sequences:
        # The recursion is symmetric in the two sequences: run it with the larger
        # set outermost and transpose (see _ActiveRectangle).
        nngp, ntk = _sweep(columns, rows, hyper, activation, layout, read_stride)
        return nngp.T, ntk.T

    depth = hyper.depth
    horizon = int(min(rows.lengths[0], columns.lengths[0]))
    # Counts for steps 0..horizon: the sequences that have started at step r + 1
    # (longer than r + 1) pair with those starting at r through the boundary value.
    active_rows = _active_counts(rows.lengths, horizon + 1)
    active_columns = _active_counts(columns.lengths, horizon + 1)
    dtype = rows.steps_from_end.dtype
    state = layout(rows.n_sequences, columns.n_sequences, hyper, dtype, read_stride is not None)

    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(horizon - 1, -1, -1):
            a, b = int(active_rows[step]), int(active_columns[step])
            state.grow(a, b, int(active_rows[step + 1]), int(active_columns[step + 1]))
            covariance, derivative, scratch, inputs = state.work_arrays()
            below = state.input_covariance(
                rows.steps_from_end[step, :a], columns.steps_from_end[step, :b], inputs
            )
            below_tangent = None
            for layer in range(depth):
                row_factors, column_factors = state.factors(
                    rows.factors[layer], columns.factors[layer], step
                )

                def block_dual(
                    sigma, kernel_out, derivative_out, r=row_factors, c=column_factors, work=scratch
                ):
                    activation.cross(sigma, r, c, kernel_out, derivative_out, work)

                kernel, derivative_times_tangent = state.layer(layer)
                advance_layer(
                    kernel,
                    derivative_times_tangent,
                    below,
                    below_tangent,
                    layer,
                    hyper,
                    block_dual,
                    covariance,
                    derivative,
                )
                below, below_tangent = kernel, derivative_times_tangent
            if read_stride is not None and step % read_stride == 0:
                state.read()

    kernel, derivative_times_tangent = state.readout()
    scale = hyper.sigma_v**2
    # New arrays, so the block's state buffers are freed while the result waits.
    return scale * kernel, scale * (kernel + derivative_times_tangent)


class _ActiveRectangle:
    """The recursion state (``K`` and ``Kd * Theta`` per layer) of the active pairs.

    The active pairs are the first ``a`` rows times the first ``b`` columns.
    They are stored as contiguous ``(a, b)`` arrays, because NumPy runs 2-3
    times slower on a strided sub-rectangle of a larger array. New rows are
    appended in place; new columns change the row stride, so the state is
    copied into a second buffer (at most once per distinct column length).
    Pairs enter with the boundary state: ``K = sigma_h^2`` when both
    sequences start at this step (equal lengths), else 0; ``Kd * Theta = 0``.
    With ``accumulate``, two more planes hold the sums of the top layer's
    ``K`` and ``Kd * Theta`` over the read steps; they move with the state.
    """

    def __init__(self, n_rows: int, n_columns: int, hyper: Hyperparameters, dtype, accumulate):
        self.depth = hyper.depth
        self.initial_variance = hyper.sigma_h**2
        planes = 2 * self.depth + (2 if accumulate else 0)
        self.buffer = np.empty((planes, n_rows * n_columns), dtype)
        self.spare = np.empty_like(self.buffer)
        self.work = np.empty((4, n_rows * n_columns), dtype)
        self.accumulate = accumulate
        self.rows = self.columns = 0

    def _view(self, buffer, rows, columns):
        return buffer[:, : rows * columns].reshape(buffer.shape[0], rows, columns)

    def grow(self, rows: int, columns: int, started_rows: int, started_columns: int) -> None:
        """Make the first ``rows x columns`` pairs active.

        ``started_rows`` (``started_columns``) sequences had started before
        this step; the ones after them start now.
        """
        old_rows, old_columns = self.rows, self.columns
        if columns != old_columns:
            widened = self._view(self.spare, old_rows, columns)
            widened[:, :, :old_columns] = self._view(self.buffer, old_rows, old_columns)
            widened[:, :, old_columns:] = 0.0
            self.buffer, self.spare = self.spare, self.buffer
        if rows != old_rows:
            self._view(self.buffer, rows, columns)[:, old_rows:] = 0.0
        self.rows, self.columns = rows, columns
        both_start_now = (slice(started_rows, rows), slice(started_columns, columns))
        for layer in range(self.depth):
            if self.initial_variance[layer]:
                self.layer(layer)[0][both_start_now] = self.initial_variance[layer]

    def work_arrays(self) -> list[np.ndarray]:
        """Four scratch arrays of the active pairs' shape."""
        return [w[: self.rows * self.columns].reshape(self.rows, self.columns) for w in self.work]

    def input_covariance(self, row_inputs, column_inputs, out) -> np.ndarray:
        return input_covariance(row_inputs, column_inputs, out)

    def factors(self, row_factors, column_factors, step: int) -> tuple[tuple, tuple]:
        """A layer's per-sequence factors at ``step``, as a column and a row vector."""
        return (
            tuple(f[step, : self.rows, None] for f in row_factors),
            tuple(f[step, None, : self.columns] for f in column_factors),
        )

    def layer(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(K, Kd * Theta)`` of one layer's active pairs."""
        view = self._view(self.buffer, self.rows, self.columns)
        return view[layer], view[self.depth + layer]

    def read(self) -> None:
        """Add the top layer's ``K`` and ``Kd * Theta`` to the sums of the read steps."""
        view = self._view(self.buffer, self.rows, self.columns)
        view[-2] += view[self.depth - 1]
        view[-1] += view[2 * self.depth - 1]

    def readout(self) -> tuple[np.ndarray, np.ndarray]:
        """``(K, Kd * Theta)`` of the top layer after the last step, or their sums."""
        if self.accumulate:
            view = self._view(self.buffer, self.rows, self.columns)
            return view[-2], view[-1]
        return self.layer(self.depth - 1)


class _ActivePairs(_ActiveRectangle):
    """The recursion state of row ``i`` paired with column ``i`` only.

    Rows and columns are the same sequences in the same order (for example a
    sequence's prefixes against the whole sequences), so the active pairs are
    the first ``min(a, b)``; the state is one-dimensional.
    """

    def __init__(self, n_rows: int, n_columns: int, hyper: Hyperparameters, dtype, accumulate):
        super().__init__(min(n_rows, n_columns), 1, hyper, dtype, accumulate)

    def grow(self, rows: int, columns: int, started_rows: int, started_columns: int) -> None:
        pairs = min(rows, columns)
        self.buffer[:, self.rows : pairs] = 0.0
        self.rows, self.columns = pairs, 1
        both_start_now = slice(max(started_rows, started_columns), pairs)
        for layer in range(self.depth):
            if self.initial_variance[layer]:
                self.buffer[layer, both_start_now] = self.initial_variance[layer]

    def _view(self, buffer, rows, columns):
        return buffer[:, :rows]

    def work_arrays(self) -> list[np.ndarray]:
        return [w[: self.rows] for w in self.work]

    def input_covariance(self, row_inputs, column_inputs, out) -> np.ndarray:
        pairs = self.rows
        np.einsum("im,im->i", row_inputs[:pairs], column_inputs[:pairs], out=out)
        out *= 1.0 / row_inputs.shape[1]
        return out

    def factors(self, row_factors, column_factors, step: int) -> tuple[tuple, tuple]:
        return (
            tuple(f[step, : self.rows] for f in row_factors),
            tuple(f[step, : self.rows] for f in column_factors),
        )
