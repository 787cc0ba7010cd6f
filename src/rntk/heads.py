r"""Read-out heads: which hidden states of the top layer the network reads out.

A head owns its read rule (:class:`ReadRule`): which steps of a sequence it
reads, with which weights, hence which cells of the ``(t, t')`` grid of a pair
it reads and what that costs. The recursion (:mod:`rntk.recursion`), the block
scheduler (:mod:`rntk.scheduling`), its reverse pass (:func:`rntk.sensitivity`)
and the finite network (:mod:`rntk.network`) take those from the rule and never
ask which rule it is, so a new read-out is one new :class:`ReadRule`.

A read rule weighs the top layer's state ``r`` steps before the last by a
profile :math:`p(r)` that does not depend on the sequence (0: not read),
normalised per sequence:

.. math::

    f(x) = \frac{\sigma_v}{\sqrt N} v^\top \frac{1}{P_T} \sum_{r=0}^{T-1} p(r)\, h_{L,T-r},
    \qquad P_T = \sum_{r=0}^{T-1} p(r).

The two built-in read-outs, each optionally bidirectional:

``readout="last"`` (:class:`LastStep`)
    :math:`p = (1, 0, 0, \dots)`, so :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top h_{L,T}`,
    the paper's model.
``readout="mean"`` (:class:`MeanPool`)
    :math:`p(r) = 1` for ``r`` a multiple of ``pool_stride``, else 0: the mean of
    the top layer's states over the read steps
    :math:`R_T = \{T, T-k, T-2k, \dots\} \cap [1, T]` (every step for ``k = 1``).

``readout`` also takes a :class:`ReadRule` instance, a read-out of the user's own.

Because the state at step ``t`` depends only on the prefix :math:`x_{1:t}` and
the weights are shared over time, a head's kernels are weighted sums of the
last-step kernel over pairs of prefixes (aligned at their last steps):

.. math::

    \Theta(x, x') = \frac{1}{P_T P_{T'}} \sum_{r < T,\ r' < T'}
        p(r)\, p(r')\, \Theta_{last}(x_{1:T-r}, x'_{1:T'-r'}),

and likewise for the NNGP. The recursion computes them by sweeping the
diagonals of the ``(t, t')`` grid: along a diagonal (fixed lag ``t - t'``) the
pair of prefixes grows by one step of each, which is one step of the ordinary
recursion. Diagonal ``offset`` pairs the row sequence with its last ``offset``
steps dropped against the whole column sequence (a negative offset drops
column steps); :meth:`ReadRule.offsets` lists the diagonals that hold a read
cell and :meth:`ReadRule.diagonal_weights` the weights ``p(r) p(r')`` of the
cells along one. The normalisers ``1 / (P_T P_{T'})`` are applied at the end.
So the mean head with stride ``k`` costs ``O(T T' / k)`` pair-steps a pair, the
last-step head its ``min(T, T')`` common steps, with memory independent of the
length.

``bidirectional=True`` adds a second stack with independent weights that reads
each sequence reversed; the two read-outs are concatenated, so

.. math::

    \Theta_{bi}(x, x') = \Theta(x, x') + \Theta(\overleftarrow{x}, \overleftarrow{x}'),

for any read-out. Reversed sequences are aligned at their last steps, i.e.
the originals at their first steps; with ``readout="last"`` the backward stack
is read at the sequence's first element.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .options import check_choice, check_flag, check_positive_integer

__all__ = ["LAST_STEP", "READOUTS", "Head", "LastStep", "MeanPool", "ReadRule"]

READOUTS = ("last", "mean")


class ReadRule(ABC):
    """How a head reads the top layer's states: a profile over the steps, normalised.

    A subclass states :meth:`profile`; everything else follows from it, and a
    subclass overrides :meth:`pair_steps` only to estimate its cost better.
    Rules are compared and hashed as values (make a subclass a frozen
    dataclass), as :class:`Head` holds one.
    """

    #: Whether the rule reads one cell of a pair, its last common step: then no
    #: sums over cells are held (:meth:`rntk.RNTK.block_memory`), and untied
    #: weights give the same kernel (:class:`rntk.RNN`).
    reads_last_step_only: bool = False

    @abstractmethod
    def profile(self, n_steps: int) -> np.ndarray:
        """``p[r]``, ``r < n_steps``: the weight of the state ``r`` steps before the last.

        Before normalisation, the same for every sequence; 0 where the state
        is not read. ``p[0]`` must be nonzero, so that every sequence is read,
        and ``profile(n)`` must be the first ``n`` values of ``profile(m)``,
        ``m > n``, bit for bit (a block's longest sequence sets ``n``).
        """

    def totals(self, lengths) -> np.ndarray:
        """``P_T``: the profile summed over each sequence's steps (its weights' normaliser)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        cumulative = np.cumsum(self.profile(int(lengths.max(initial=1))))
        return cumulative[lengths - 1]

    def read_weights(self, lengths, n_steps: int) -> np.ndarray:
        """``[r, i]``: the weight of the state ``r`` steps before the last of sequence ``i``.

        ``p(r) / P_T``, and 0 for ``r >= T``, where the sequence has no state.
        Shape ``(n_steps, n)``, ``n_steps`` at least the longest length.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        weights = self.profile(n_steps)[:, None] / self.totals(lengths)
        weights[np.arange(n_steps)[:, None] >= lengths] = 0.0
        return weights

    def offsets(self, row_length: int, column_length: int) -> np.ndarray:
        """The diagonals of the step grid that hold a read cell, in increasing order.

        ``offset`` is the number of last steps dropped from the row sequence
        (from the column sequence if negative): the differences ``r - r'`` of a
        read step of the row and one of the column. The lengths are the
        longest of a block: a shorter sequence's read steps are among them, as
        the profile is counted from the end.
        """
        row_read = np.flatnonzero(self.profile(int(row_length)))
        column_read = np.flatnonzero(self.profile(int(column_length)))
        # One pass per read row step, so memory stays O(T + T') for any profile.
        held = np.zeros(int(row_length) + int(column_length) - 1, dtype=bool)
        for step in row_read:
            held[step - column_read + int(column_length) - 1] = True
        return np.flatnonzero(held) - (int(column_length) - 1)

    def diagonal_weights(self, offset: int, n_steps: int) -> np.ndarray:
        """``p(r) p(r')`` of the cells of diagonal ``offset``, counted back from its end.

        Cell ``s`` pairs the row's state ``r = s + max(offset, 0)`` steps before
        its last with the column's ``r' = s + max(-offset, 0)``.
        """
        row_dropped, column_dropped = max(int(offset), 0), max(-int(offset), 0)
        profile = self.profile(int(n_steps) + abs(int(offset)))
        return (
            profile[row_dropped : row_dropped + n_steps]
            * profile[column_dropped : column_dropped + n_steps]
        )

    def pair_steps(self, row_lengths: np.ndarray, column_lengths: np.ndarray) -> np.ndarray:
        """Estimated pair-steps of each row sequence against all the columns, (n_rows,).

        Lengths as float64, sorted by decreasing length. The sweep of every
        diagonal of the step grid, about ``T_i T_j`` a pair, unless a rule
        says better.
        """
        return row_lengths * column_lengths.sum()


@dataclass(frozen=True)
class LastStep(ReadRule):
    """The last state only (``readout="last"``): one diagonal, read at its end."""

    reads_last_step_only = True

    def profile(self, n_steps: int) -> np.ndarray:
        profile = np.zeros(n_steps)
        profile[:1] = 1.0
        return profile

    def pair_steps(self, row_lengths: np.ndarray, column_lengths: np.ndarray) -> np.ndarray:
        """A pair takes its ``min(T_i, T_j)`` common steps."""
        # The columns at least as long as a row (a prefix) count its length,
        # the others their own: the sum of column_lengths[longer:].
        longer = np.searchsorted(-column_lengths, -row_lengths, side="right")
        tail_sums = np.append(np.cumsum(column_lengths[::-1])[::-1], 0.0)
        return row_lengths * longer + tail_sums[longer]


@dataclass(frozen=True)
class MeanPool(ReadRule):
    """The mean over every ``stride``-th state counted back from the last (``readout="mean"``)."""

    stride: int = 1

    def profile(self, n_steps: int) -> np.ndarray:
        profile = np.zeros(n_steps)
        profile[:: self.stride] = 1.0
        return profile

    def pair_steps(self, row_lengths: np.ndarray, column_lengths: np.ndarray) -> np.ndarray:
        """About ``T_i T_j / stride`` a pair: every ``stride``-th diagonal of the step grid."""
        return row_lengths * (column_lengths.sum() / self.stride)


@dataclass(frozen=True)
class Head:
    """A validated read-out: ``readout``, ``pool_stride`` and ``bidirectional``.

    Every field is checked on construction, also by :func:`dataclasses.replace`,
    so no head holds an unknown read-out or a stride it cannot apply; the
    message names the argument at fault.

    Attributes
    ----------
    readout : {"last", "mean"} or ReadRule
        A built-in read-out by name, or a read rule of the user's own.
    pool_stride : int
        The mean head reads every ``pool_stride``-th state counted back from the
        last one (1: every state). Always 1 for the other read-outs.
    bidirectional : bool
        Add a backward stack on the reversed sequences.
    """

    readout: str | ReadRule = "last"
    pool_stride: int = 1
    bidirectional: bool = False

    def __post_init__(self):
        # In the order of the arguments of rntk.RNTK, so that the first bad one is named.
        if not isinstance(self.readout, ReadRule):
            check_choice(self.readout, "readout", READOUTS)
        object.__setattr__(self, "bidirectional", check_flag(self.bidirectional, "bidirectional"))
        pool_stride = check_positive_integer(self.pool_stride, "pool_stride")
        if self.readout != "mean" and pool_stride != 1:
            raise ValueError(
                f"pool_stride={pool_stride} applies only to readout='mean' (readout="
                f"{self.readout!r} says itself which states it reads)"
            )
        object.__setattr__(self, "pool_stride", pool_stride)

    @classmethod
    def from_arguments(cls, *, readout="last", bidirectional=False, pool_stride=1) -> Head:
        """The head of the user's keyword arguments (as :class:`rntk.RNTK` takes them)."""
        return cls(readout=readout, pool_stride=pool_stride, bidirectional=bidirectional)

    @property
    def rule(self) -> ReadRule:
        """The read rule of each stack."""
        if isinstance(self.readout, ReadRule):
            return self.readout
        return LastStep() if self.readout == "last" else MeanPool(self.pool_stride)

    @property
    def directions(self) -> tuple[bool, ...]:
        """``reversed`` flag of each stack: ``(False,)`` or ``(False, True)``."""
        return (False, True) if self.bidirectional else (False,)

    def describe(self) -> str:
        stride = f", pool_stride={self.pool_stride}" if self.pool_stride != 1 else ""
        return f"readout={self.readout!r}{stride}, bidirectional={self.bidirectional}"


#: The paper's model: one stack read at its last step.
LAST_STEP = Head()
