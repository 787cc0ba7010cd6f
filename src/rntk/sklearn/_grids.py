"""Grids for :class:`RNTKClassifierCV`: the read-out heads, with strided mean heads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..options import check_positive_integer
from ..sequences import as_sequences

#: The four read-out heads of :mod:`rntk.heads`, cheapest first: the last
#: state, read forward and in both directions, then the mean of the states.
READOUT_HEADS = ("last", "bi-last", "mean", "bi-mean")


def head_name(params: Mapping) -> str:
    """The read-out head of a grid point or candidate: ``last``, ``mean``, ``bi-last`` or
    ``bi-mean``.

    Parameters
    ----------
    params : mapping
        Kernel parameters holding ``readout`` (``"last"`` or ``"mean"``) and
        ``bidirectional``, e.g. a row of ``RNTKClassifierCV.cv_results_["params"]``.

    Returns
    -------
    str
        ``readout``, prefixed by ``bi-`` if ``bidirectional``.

    Examples
    --------
    >>> from rntk.sklearn import head_name
    >>> head_name({"readout": "mean", "bidirectional": True, "sigma_w": 1.4})
    'bi-mean'
    """
    return ("bi-" if params["bidirectional"] else "") + params["readout"]


def mean_pool_stride(X, max_pooled_states: int) -> int:
    """The smallest ``pool_stride`` at which the mean head reads at most
    ``max_pooled_states`` states of the longest sequence of ``X``.

    The mean head reads every ``k``-th state counted back from the last. A
    pair of sequences of lengths ``T`` and ``T'`` then costs about ``T T' / k``
    pair-steps, against ``min(T, T')`` for the last-step head: with at most
    ``s`` states read, a mean head costs about ``s`` last-step kernels
    whatever the length.

    Parameters
    ----------
    X : sequences
        Any input of :func:`rntk.kernel` (typically the training sequences).
    max_pooled_states : int
        The most states the mean head may read of the longest sequence.

    Returns
    -------
    int
        ``ceil(T_max / max_pooled_states)``; 1 when every sequence has at most
        ``max_pooled_states`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import mean_pool_stride
    >>> mean_pool_stride([np.zeros(150), np.zeros(90)], 32)  # 150 steps: 5 * 30 >= 150
    5
    >>> mean_pool_stride(np.zeros((4, 20)), 32)
    1
    """
    max_pooled_states = check_positive_integer(max_pooled_states, "max_pooled_states")
    longest = int(as_sequences(X, "X").lengths.max())
    return -(-longest // max_pooled_states)


def rntk_head_grid(
    X,
    kernel_grid: Mapping[str, Sequence],
    *,
    heads: Sequence[str] = READOUT_HEADS,
    max_pooled_states: int = 32,
) -> list[dict]:
    """A ``param_grid`` for :class:`RNTKClassifierCV`: read-out heads crossed with a kernel grid.

    One dict per head, in the order of ``heads``: ``readout`` and
    ``bidirectional`` first, then the keys of ``kernel_grid`` in order (the
    last varying fastest when the search expands it), and for a mean head a
    ``pool_stride`` of :func:`mean_pool_stride`, so that it reads at most
    ``max_pooled_states`` states of the longest sequence of ``X``. The search
    breaks ties by grid order, so listing the heads cheapest first
    (:data:`READOUT_HEADS`) gives a tie to the cheaper head.

    Parameters
    ----------
    X : sequences
        The training sequences (any input of :func:`rntk.kernel`): they set
        the mean heads' stride.
    kernel_grid : mapping of str to sequence
        The other kernel parameters of :class:`rntk.RNTK` (and ``"kernel"``)
        to their values, e.g. ``{"activation": ("relu", "erf"), "sigma_w":
        (1.38, 1.41)}``; it may not hold ``readout``, ``bidirectional`` or
        ``pool_stride``.
    heads : sequence of {"last", "bi-last", "mean", "bi-mean"}, default READOUT_HEADS
    max_pooled_states : int, default 32

    Returns
    -------
    list of dict
        One grid per head, each value a tuple or the sequence given.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.sklearn import rntk_head_grid
    >>> X = np.zeros((10, 150))
    >>> grid = rntk_head_grid(X, {"sigma_w": (1.38, 1.41)}, heads=("last", "bi-mean"))
    >>> grid[0]
    {'readout': ('last',), 'bidirectional': (False,), 'sigma_w': (1.38, 1.41)}
    >>> grid[1]
    {'readout': ('mean',), 'bidirectional': (True,), 'sigma_w': (1.38, 1.41), 'pool_stride': (5,)}
    """
    unknown = [head for head in heads if head not in READOUT_HEADS]
    if unknown or not heads:
        raise ValueError(
            f"heads must be a non-empty list of {', '.join(map(repr, READOUT_HEADS))}, "
            f"got {heads!r}"
        )
    fixed = sorted({"readout", "bidirectional", "pool_stride"} & set(kernel_grid))
    if fixed:
        raise ValueError(
            f"kernel_grid may not hold {fixed[0]!r}: rntk_head_grid sets it from heads "
            "and max_pooled_states"
        )
    stride = None
    grid = []
    for head in heads:
        readout = head.removeprefix("bi-")
        axes = {"readout": (readout,), "bidirectional": (head.startswith("bi-"),), **kernel_grid}
        if readout == "mean":
            if stride is None:
                stride = mean_pool_stride(X, max_pooled_states)
            axes["pool_stride"] = (stride,)
        grid.append(axes)
    return grid
