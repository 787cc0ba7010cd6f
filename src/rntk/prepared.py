"""Sequences prepared once for a kernel: the per-sequence work of a Gram matrix, kept.

Every Gram matrix starts with work on each sequence alone: validating the
input, sorting it by length, running the recursion of every sequence with
itself (:func:`rntk.recursion.stack_paths`, whose variances the pairwise
recursion reads) and its kernel with itself, which for the mean head costs
``O(L T^2)`` per sequence. A :class:`PreparedSequences` holds all of it, so
that a caller who computes several kernels of the same sequences (the rows of
pivots of :class:`rntk.Nystroem`, a prediction and its variance) pays it once.

Subsets (``prepared[indices]``) take the paths of their sequences without
running the recursion again when the activation's per-sequence maps are
closed forms applied value by value (ReLU and erf): a sequence's values then
depend on that sequence alone, not on the others of the batch nor on the
padding to the longest, and the subset is bit for bit what preparing those
sequences alone gives. Other activations (the Hermite expansions, such as
tanh, evaluate the per-sequence maps as matrix products whose rounding depends
on the number of sequences) prepare the subset's sequences again, which is
what a call on the raw sequences does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .activations import Erf, ReLU, dual_fingerprint
from .hyperparameters import Architecture
from .recursion import StackPaths, stack_paths
from .sequences import SequenceBatch

__all__ = ["PreparedSequences", "prepare_sequences"]

#: Activations whose per-sequence maps (diagonal, factors) are closed forms
#: applied value by value, so that a subset's paths can be selected; exact
#: types, as a subclass may compute them otherwise.
_VALUE_BY_VALUE = (ReLU, Erf)


def _fields(record) -> dict:
    return {f.name: np.asarray(getattr(record, f.name)).tolist() for f in fields(record)}


def _configuration(architecture: Architecture, dtype) -> dict:
    """What the paths depend on, by parameter name, comparable with ``==``.

    An activation is its class, its name and its dual map at fixed points, as
    for a resumable file (:func:`rntk.checkpoint.computation_fingerprint`).
    """
    activation = architecture.activation
    return {
        "activation": (type(activation), activation.name, dual_fingerprint(activation)),
        **_fields(architecture.hyperparameters),
        **_fields(architecture.head),
        "dtype": np.dtype(dtype).name,
    }


@dataclass(frozen=True, eq=False)
class PreparedSequences:
    """Sequences with the per-sequence work of a kernel done: use them in its Gram matrices.

    Made by :meth:`rntk.RNTK.prepare`, and accepted by that kernel (and by any
    kernel of the same architecture and ``dtype``) wherever it accepts
    sequences: ``kernel(prepared)``, ``kernel(prepared, X2)``, ``kernel(X,
    prepared)``, ``kernel.diag(prepared)``, :meth:`rntk.Nystroem.fit` and
    ``transform``. The results are those of the raw sequences, bit for bit
    (and a resumable file ``out`` sees the same data). Worth it when the same
    sequences enter several calls, the more so with the mean head, whose
    per-sequence work grows with ``T^2``. It holds about ``6 L`` values per
    step of each sequence (twice with ``bidirectional``).

    Attributes
    ----------
    batch : rntk.sequences.SequenceBatch
        The validated sequences, in the order given.
    order : ndarray of shape (n,), int
        The sequences by decreasing length (stable): ``paths`` holds sequence
        ``order[i]`` at position ``i``.
    paths : rntk.recursion.StackPaths
        Every stack's per-sequence recursion, and the head's kernels of each
        sequence with itself (``paths.nngp``, ``paths.ntk``, float64), in that
        order.
    architecture : rntk.hyperparameters.Architecture
        The activation, scales and head the paths were computed for.
    dtype : numpy.dtype
        The kernel's ``dtype`` they were computed for.

    Notes
    -----
    Only the architecture and ``dtype`` enter: a kernel that differs in
    ``get``, ``normalize``, ``block_size``, ``n_jobs``, ``executor`` or
    ``progress`` uses the same preparation. Any other kernel refuses it with a
    ValueError that names the argument and what differs.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal(t) for t in (30, 12, 25, 18)]
    >>> k = rntk.RNTK(readout="mean")
    >>> prepared = k.prepare(X)
    >>> len(prepared), bool(np.array_equal(k(prepared), k(X)))
    (4, True)
    >>> bool(np.array_equal(k(prepared[[3, 1]], prepared), k([X[3], X[1]], X)))
    True
    >>> bool(np.array_equal(k.diag(prepared), k.diag(X)))
    True
    >>> rntk.RNTK(readout="last")(prepared)
    Traceback (most recent call last):
    ValueError: X was prepared for another kernel (different readout): ...
    """

    batch: SequenceBatch
    order: np.ndarray
    paths: StackPaths
    architecture: Architecture
    dtype: np.dtype

    @property
    def n_sequences(self) -> int:
        return self.batch.n_sequences

    @property
    def n_features(self) -> int:
        return self.batch.n_features

    @property
    def lengths(self) -> np.ndarray:
        return self.batch.lengths

    def __len__(self) -> int:
        return self.batch.n_sequences

    def __repr__(self) -> str:
        return (
            f"PreparedSequences({self.n_sequences} sequences of lengths "
            f"{int(self.lengths.min())} to {int(self.lengths.max())}, {self.n_features} "
            f"feature(s) per step, for {self.architecture.head.describe()}, "
            f"dtype='{self.dtype.name}')"
        )

    def __getitem__(self, indices) -> PreparedSequences:
        """The sequences at ``indices`` (a slice, integers or a boolean mask), prepared.

        Cheap for ReLU and erf (their paths are selected, see
        :mod:`rntk.prepared`); other activations prepare the subset again.
        Indices may repeat. Raises a TypeError for a single integer (use
        ``prepared[[i]]``) and a ValueError for an empty selection.
        """
        positions = np.arange(self.n_sequences)[indices]
        if positions.ndim != 1:
            raise TypeError(
                "indices must select a list of sequences (a slice, integers or a boolean "
                f"mask), got {indices!r}; for one sequence use prepared[[i]]"
            )
        if positions.size == 0:
            raise ValueError(f"indices select no sequence: {indices!r}")
        return self.subset(positions)

    def subset(self, indices: np.ndarray) -> PreparedSequences:
        """The sequences at the integer ``indices``, in that order (as ``self[indices]``)."""
        batch = self.batch.subset(indices)
        order = np.argsort(-batch.lengths, kind="stable")
        if type(self.architecture.activation) in _VALUE_BY_VALUE:
            position = np.empty_like(self.order)
            position[self.order] = np.arange(self.order.size)
            paths = self.paths.select(position[np.asarray(indices, dtype=np.intp)[order]])
        else:
            paths = _paths(batch.subset(order), self.architecture, self.dtype)
        return PreparedSequences(batch, order, paths, self.architecture, self.dtype)

    def check(self, architecture: Architecture, dtype, name: str = "X") -> None:
        """Raise a ValueError naming ``name`` unless prepared for ``architecture`` and ``dtype``."""
        if architecture is self.architecture and np.dtype(dtype) == self.dtype:
            return
        prepared_for = _configuration(self.architecture, self.dtype)
        requested = _configuration(architecture, dtype)
        differences = [key for key in requested if requested[key] != prepared_for[key]]
        if differences:
            raise ValueError(
                f"{name} was prepared for another kernel (different {', '.join(differences)}): "
                f"its per-sequence values would be wrong for this one. Prepare it with this "
                f"kernel, kernel.prepare(sequences), or pass the sequences themselves"
            )


def _paths(batch: SequenceBatch, architecture: Architecture, dtype) -> StackPaths:
    return stack_paths(
        batch, architecture.hyperparameters, architecture.activation, architecture.head, dtype
    )


def prepare_sequences(batch: SequenceBatch, architecture: Architecture, dtype) -> PreparedSequences:
    """Sort ``batch`` by decreasing length and run every stack's per-sequence recursion."""
    order = np.argsort(-batch.lengths, kind="stable")
    dtype = np.dtype(dtype)
    return PreparedSequences(
        batch, order, _paths(batch.subset(order), architecture, dtype), architecture, dtype
    )
