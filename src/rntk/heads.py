r"""Read-out heads: which hidden states of the top layer the network reads out.

A head is the one place that says which pairs of time steps a kernel reads and
how it weighs them; the recursion (:mod:`rntk.recursion`), its reverse pass
(:func:`rntk.sensitivity`) and the finite network (:mod:`rntk.network`) all ask
the head instead of assuming the last step.

Two read-outs, each optionally bidirectional:

``readout="last"``
    :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top h_{L,T}`, the paper's model.
``readout="mean"``
    :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top \frac1{|R_T|} \sum_{t \in R_T} h_{L,t}`,
    the mean of the top layer's states over the read steps :math:`R_T`: every
    step (``pool_stride=1``), or every ``k``-th step counted back from the last,
    :math:`R_T = \{T, T-k, T-2k, \dots\} \cap [1, T]` (``pool_stride=k``).

Because the state at step ``t`` depends only on the prefix :math:`x_{1:t}` and
the weights are shared over time, the mean head's kernels are averages of the
last-step kernel over pairs of prefixes (aligned at their last steps):

.. math::

    \Theta_{mean}(x, x') = \frac{1}{|R_T|\,|R_{T'}|}
        \sum_{t \in R_T,\ t' \in R_{T'}} \Theta_{last}(x_{1:t}, x'_{1:t'}),

and likewise for the NNGP. The recursion computes them by sweeping the
diagonals of the ``(t, t')`` grid: along a diagonal (fixed lag ``t - t'``) the
pair of prefixes grows by one step of each, which is one step of the ordinary
recursion. Diagonal ``offset`` pairs the row sequence with its last ``offset``
steps dropped against the whole column sequence (a negative offset drops
column steps); its cells are read every ``pool_stride`` steps along it. So a
pair costs ``O(T T' / k)`` pair-steps with memory independent of the length.

``bidirectional=True`` adds a second stack with independent weights that reads
each sequence reversed; the two read-outs are concatenated, so

.. math::

    \Theta_{bi}(x, x') = \Theta(x, x') + \Theta(\overleftarrow{x}, \overleftarrow{x}'),

for either read-out. Reversed sequences are aligned at their last steps, i.e.
the originals at their first steps; with ``readout="last"`` the backward stack
is read at the sequence's first element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .options import check_choice, check_flag, check_positive_integer

__all__ = ["LAST_STEP", "READOUTS", "Head"]

READOUTS = ("last", "mean")


@dataclass(frozen=True)
class Head:
    """A validated read-out: ``readout``, ``pool_stride`` and ``bidirectional``.

    Every field is checked on construction, also by :func:`dataclasses.replace`,
    so no head holds an unknown read-out or a stride it cannot apply; the
    message names the argument at fault.

    Attributes
    ----------
    readout : {"last", "mean"}
    pool_stride : int
        The mean head reads every ``pool_stride``-th state counted back from the
        last one (1: every state). Always 1 for the last-step head.
    bidirectional : bool
        Add a backward stack on the reversed sequences.
    """

    readout: str = "last"
    pool_stride: int = 1
    bidirectional: bool = False

    def __post_init__(self):
        # In the order of the arguments of rntk.RNTK, so that the first bad one is named.
        check_choice(self.readout, "readout", READOUTS)
        object.__setattr__(self, "bidirectional", check_flag(self.bidirectional, "bidirectional"))
        pool_stride = check_positive_integer(self.pool_stride, "pool_stride")
        if self.readout == "last" and pool_stride != 1:
            raise ValueError(
                f"pool_stride={pool_stride} applies only to readout='mean' (the last-step "
                "head reads one state)"
            )
        object.__setattr__(self, "pool_stride", pool_stride)

    @classmethod
    def from_arguments(cls, *, readout="last", bidirectional=False, pool_stride=1) -> Head:
        """The head of the user's keyword arguments (as :class:`rntk.RNTK` takes them)."""
        return cls(readout=readout, pool_stride=pool_stride, bidirectional=bidirectional)

    @property
    def reads_last_step_only(self) -> bool:
        return self.readout == "last"

    @property
    def directions(self) -> tuple[bool, ...]:
        """``reversed`` flag of each stack: ``(False,)`` or ``(False, True)``."""
        return (False, True) if self.bidirectional else (False,)

    def read_steps(self, length: int) -> np.ndarray:
        """The steps read from a sequence of ``length`` steps, counted from its end (0 = last)."""
        if self.reads_last_step_only:
            return np.zeros(1, dtype=np.int64)
        return np.arange(0, int(length), self.pool_stride, dtype=np.int64)

    def counts(self, lengths) -> np.ndarray:
        """How many states each sequence's read-out averages (1 for the last step)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if self.reads_last_step_only:
            return np.ones(lengths.shape, dtype=np.int64)
        return -(-lengths // self.pool_stride)

    def offsets(self, row_length: int, column_length: int) -> np.ndarray:
        """The diagonals of the step grid to sweep for a row and a column sequence.

        ``offset`` is the number of last steps dropped from the row sequence
        (from the column sequence if negative). The mean head needs every
        diagonal holding a read cell: offsets that are multiples of the stride
        with at least one step left on both sides.
        """
        if self.reads_last_step_only:
            return np.zeros(1, dtype=np.int64)
        k = self.pool_stride
        return np.arange(-((int(column_length) - 1) // k), (int(row_length) - 1) // k + 1) * k

    def describe(self) -> str:
        stride = f", pool_stride={self.pool_stride}" if self.pool_stride != 1 else ""
        return f"readout={self.readout!r}{stride}, bidirectional={self.bidirectional}"


#: The paper's model: one stack read at its last step.
LAST_STEP = Head()
