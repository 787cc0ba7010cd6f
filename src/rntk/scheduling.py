"""Block scheduling: split a Gram matrix into blocks of pairs and assemble it.

The pairwise recursion (:func:`rntk.recursion.model_block`) works on a block of
row and column sequences at a time, so memory is bounded by the block size, not
by ``n1 * n2`` or by the sequence length. This module decides the blocks,
sorts sequences by length so that each block holds sequences of similar length
(the work for a pair is then about ``min(T_i, T_j)`` steps), runs the blocks,
possibly in parallel, and writes each into the output at the sequences'
original positions. How (block shape, threads or executor, progress bar,
normalisation, precision) is one validated :class:`rntk.options.GramOptions`, built by
:class:`rntk.RNTK` and passed down whole.

In the symmetric case ``K(X, X)`` only blocks on or above the diagonal are
computed; each is mirrored, and the diagonal itself comes from the exact
per-sequence path.

A Gram matrix of few blocks leaves workers idle: most UCR training sets (under
256 sequences) are a single block. When the blocks run on an executor other
than a thread pool (worker processes, a Dask cluster) and one block would take
more than a worker's share of the work, :func:`plan_gram` cuts the rows instead
into one strip per worker, of about equal cost, each within the block shape.
It does so only where a pair's values do not depend on the block that holds it
(univariate inputs and an activation with a difference form:
:func:`rntk.recursion.block_invariant`), so the result is the same, bit for
bit, whatever runs the blocks.

Threads cannot share such a Gram matrix. On a block of a few thousand pairs
every NumPy call releases the GIL for a microsecond or so, and two threads
spend their time handing it over: the two strips of 104 sequences of length
2000 (mean head, ``pool_stride=63``) took 2.2 to 2.9 times as long on two
threads as the one block on one thread, with a million context switches; even
blocks of 64 x 512 pairs took 1.6 times as long on two threads as on one. Nor
is a finer split free on one core: each block pays NumPy's per-call overhead
at every step, the work of several thousand pairs, so the two strips of that
Gram matrix took 1.18 times the CPU time of its one block, and eight strips
2.6 times (``benchmarks/bench_small_gram.py``). Hence one strip per worker,
and only for workers that do not share a GIL.

Normalisation (cosine form) is applied to each block as it is written, one
product ``K_ij * (a_i a_j)`` per entry, never by dividing the finished matrix
in place. So every write into the output is an assignment of values that
depend only on the computation: writing a block twice changes nothing, which
is what lets a computation into a file resume after a crash
(:mod:`rntk.checkpoint` keeps the journal of finished blocks).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import astuple, dataclass

import numpy as np

from .heads import Head
from .hyperparameters import Architecture
from .options import GramOptions, inverse_root
from .progress import ProgressBar
from .recursion import StackPaths, block_invariant, model_block, non_finite_error

__all__ = ["compute_gram"]


@dataclass(frozen=True)
class Block:
    """Rows ``row_start:row_stop`` against columns ``column_start:column_stop``
    (positions in the length-sorted order)."""

    row_start: int
    row_stop: int
    column_start: int
    column_stop: int

    @property
    def n_pairs(self) -> int:
        return (self.row_stop - self.row_start) * (self.column_stop - self.column_start)


def plan_blocks(
    n_rows: int,
    n_columns: int,
    symmetric: bool,
    block_shape: tuple[int, int],
    row_bounds: Sequence[int] | None = None,
) -> list[Block]:
    """Tile the ``n_rows x n_columns`` pairs into blocks.

    The rows are cut into strips of ``block_shape[0]`` rows, or at
    ``row_bounds`` (from 0 to ``n_rows``, strips of at most ``block_shape[0]``
    rows) if given, and each strip into blocks of ``block_shape[1]`` columns.
    With ``symmetric`` only the upper triangle is covered: a strip's columns
    start at its first row.
    """
    block_rows, block_columns = block_shape
    if symmetric:
        # Each strip's first block must hold its whole square of pairs.
        block_columns = max(block_columns, block_rows)
    if row_bounds is None:
        row_bounds = [*range(0, n_rows, block_rows), n_rows]
    blocks = []
    for row_start, row_stop in itertools.pairwise(row_bounds):
        first_column = row_start if symmetric else 0
        for column_start in range(first_column, n_columns, block_columns):
            column_stop = min(column_start + block_columns, n_columns)
            blocks.append(Block(row_start, row_stop, column_start, column_stop))
    return blocks


def evaluate_block(rows: StackPaths, columns: StackPaths, architecture: Architecture):
    """The ``(nngp, ntk)`` of one block: the unit of work sent to an executor.

    Takes only the block's own sequences, so sending it to another process
    (a Dask worker) ships ``O(L T block)`` data, not the whole data set.
    """
    activation, hyper = architecture.activation, architecture.hyperparameters
    nngp, ntk = model_block(rows, columns, hyper, activation, architecture.head)
    if not (np.isfinite(ntk).all() and np.isfinite(nngp).all()):
        raise non_finite_error(
            activation,
            hyper,
            "a pair of sequences (not on either alone)",
            (nngp, ntk),
            nngp.dtype,
        )
    return nngp, ntk


def default_n_jobs() -> int:
    """The number of cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _bounded_map(executor: Executor, tasks: Iterator[tuple], in_flight: int) -> Iterator:
    """Results of ``executor.submit(*task)`` in order, at most ``in_flight`` pending.

    Bounding the queue bounds memory: a finished block waits until it is written.
    If a block fails (or the caller stops early), the blocks still pending are
    cancelled: no work is left running, and a Dask cluster lets go of them, so
    that the same call again submits them afresh instead of finding the failure.
    """
    pending: deque = deque()
    try:
        for task in tasks:
            pending.append(executor.submit(*task))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def plan_gram(
    rows: StackPaths,
    columns: StackPaths,
    symmetric: bool,
    block_shape: tuple[int, int],
    architecture: Architecture,
    workers: int,
) -> list[Block]:
    """The blocks of a Gram matrix shared by ``workers`` workers.

    The tiles of :func:`plan_blocks`, unless one of them would take more than
    a worker's share of the work and a pair's values do not depend on the block
    that holds it (:func:`rntk.recursion.block_invariant`). Then the rows are
    cut into ``workers`` strips of about equal cost instead (more if a strip
    would exceed ``block_shape[0]`` rows), so that every worker has its share.
    The plan depends only on the shapes, the lengths, the head and the number
    of workers; with one worker it is the tiles. ``workers`` counts the
    workers that can share a small block: threads cannot (see the module
    docstring), so :func:`compute_gram` passes 1 for a thread pool.
    """
    n_rows, n_columns = rows.n_sequences, columns.n_sequences
    tiles = plan_blocks(n_rows, n_columns, symmetric, block_shape)
    head = architecture.head
    if workers == 1 or not block_invariant(architecture.activation, rows.n_features):
        return tiles
    costs = [_block_cost(tile, rows, columns, head) for tile in tiles]
    if max(costs, default=0.0) * workers <= sum(costs):
        return tiles
    bounds = _balanced_row_bounds(
        rows.lengths, columns.lengths, symmetric, head, workers, block_shape[0]
    )
    return plan_blocks(n_rows, n_columns, symmetric, block_shape, bounds)


def _balanced_row_bounds(
    row_lengths: np.ndarray,
    column_lengths: np.ndarray,
    symmetric: bool,
    head: Head,
    pieces: int,
    max_rows: int,
) -> list[int]:
    """Row boundaries of ``pieces`` strips whose costliest is as cheap as possible.

    More strips than ``pieces`` only if a strip would exceed ``max_rows`` rows,
    fewer only if there are fewer rows. A symmetric strip of rows ``a:b`` is
    paired with the columns ``a:``, the lower half of its square included (the
    block computes it). Sequences are sorted by decreasing length, so the rows
    are not uniform: the first strips pair longer sequences, and in the
    symmetric case with more columns.
    """
    n_rows = len(row_lengths)

    def cut(limit: float) -> list[int]:
        # Each strip takes the rows that keep its cost within limit (one at least).
        bounds = [0]
        while bounds[-1] < n_rows:
            start = bounds[-1]
            strip_columns = column_lengths[start:] if symmetric else column_lengths
            cumulative = np.cumsum(_pair_steps(row_lengths[start:], strip_columns, head))
            taken = int(np.searchsorted(cumulative, limit, side="right"))
            bounds.append(start + min(max(taken, 1), max_rows))
        return bounds

    # Fewer strips for a higher limit (a strip starting later reaches at least as
    # far), so bisect for the lowest limit that needs no more than wanted.
    low, high = 0.0, float(np.sum(_pair_steps(row_lengths, column_lengths, head)))
    wanted = max(pieces, len(cut(high)) - 1)
    for _ in range(30):  # to a billionth of the whole cost
        middle = 0.5 * (low + high)
        if len(cut(middle)) - 1 <= wanted:
            high = middle
        else:
            low = middle
    return cut(high)


def _pair_steps(row_lengths: np.ndarray, column_lengths: np.ndarray, head: Head) -> np.ndarray:
    """Pair-steps of each row sequence against all the column sequences, (n_rows,).

    Both sorted by decreasing length. The head's read rule estimates a
    stack's pair-steps (:meth:`rntk.heads.ReadRule.pair_steps`); every stack
    takes as many.
    """
    row_lengths = np.asarray(row_lengths, dtype=np.float64)
    column_lengths = np.asarray(column_lengths, dtype=np.float64)
    return head.rule.pair_steps(row_lengths, column_lengths) * len(head.directions)


def _block_cost(block: Block, rows: StackPaths, columns: StackPaths, head: Head) -> float:
    """Pair-steps of a block (for balancing and progress)."""
    return float(
        _pair_steps(
            rows.lengths[block.row_start : block.row_stop],
            columns.lengths[block.column_start : block.column_stop],
            head,
        ).sum()
    )


def compute_gram(
    rows: StackPaths,
    columns: StackPaths,
    outputs: dict[str, np.ndarray],
    *,
    architecture: Architecture,
    options: GramOptions,
    symmetric: bool,
    row_positions: np.ndarray,
    column_positions: np.ndarray,
    journals: dict | None = None,
) -> None:
    """Fill ``outputs`` (``{"nngp": array, "ntk": array}``, any subset).

    ``rows`` and ``columns`` are per-sequence paths sorted by decreasing length;
    ``row_positions[i]`` is the output row of sorted sequence ``i`` (likewise
    columns). With ``symmetric``, ``rows`` and ``columns`` are the same set.
    With ``options.normalize`` every value is multiplied by ``a_i a_j``,
    ``a_i = 1 / sqrt(K(x_i, x_i))`` (0 for a zero self-kernel), as it is written.

    The blocks (:func:`plan_gram`, at most ``options.block_shape``) run on
    ``options.executor`` if given (any ``concurrent.futures.Executor``, e.g. a
    Dask client's), else on a pool of ``options.n_jobs`` threads (NumPy
    releases the GIL in its loops), else inline when ``n_jobs == 1``. A Gram
    matrix of few blocks is cut into one strip per worker for an executor
    other than a thread pool. At most ``2 * n_jobs`` blocks are in flight, so
    memory stays bounded; the results are written here, in the calling
    thread, in a fixed order.

    ``journals`` (``{name: rntk.checkpoint.GramFile}``, for some of the
    outputs) makes the computation resumable: a block the journal of an output
    lists as done is not written there again (nor computed, if every output
    has it), each block written is recorded once its values are on disk, and
    an output whose journal is complete is left alone. Every write is an
    assignment of values that depend only on the computation, so writing a
    block again after a crash changes nothing. A journal names each block by
    its rows and columns: if another executor or number of workers gives
    another plan, the blocks of this plan not recorded as such are computed,
    even where recorded blocks of the old plan covered their pairs.
    """
    journals = journals or {}
    n_jobs = default_n_jobs() if options.n_jobs is None else options.n_jobs
    # Threads cannot share a small block (the GIL, see the module docstring).
    threads = options.executor is None or isinstance(options.executor, ThreadPoolExecutor)
    blocks = plan_gram(
        rows, columns, symmetric, options.block_shape, architecture, 1 if threads else n_jobs
    )

    def needs(name: str, block: Block) -> bool:
        journal = journals.get(name)
        return journal is None or (not journal.complete and astuple(block) not in journal.done)

    pending = [block for block in blocks if any(needs(name, block) for name in outputs)]
    tasks = (
        (
            evaluate_block,
            rows.rows(block.row_start, block.row_stop),
            columns.rows(block.column_start, block.column_stop),
            architecture,
        )
        for block in pending
    )
    executor, own_pool = options.executor, None
    if executor is None and n_jobs > 1 and len(pending) > 1:
        executor = own_pool = ThreadPoolExecutor(max_workers=n_jobs)
    if executor is None:
        results = (function(*arguments) for function, *arguments in tasks)
    else:
        results = _bounded_map(executor, tasks, in_flight=2 * n_jobs)

    scales = {
        name: (inverse_root(getattr(rows, name)), inverse_root(getattr(columns, name)))
        for name in outputs
        if options.normalize
    }
    costs = {block: _block_cost(block, rows, columns, architecture.head) for block in blocks}
    already_written = set(blocks) - set(pending)
    bar = ProgressBar(
        sum(costs.values()),
        f"rntk: {len(blocks)} blocks"
        + (f", {len(already_written)} already written" if already_written else ""),
        enabled=options.progress,
    )
    bar.advance(sum(costs[block] for block in already_written))
    try:
        for block, (nngp, ntk) in zip(pending, results, strict=True):
            values = {"nngp": nngp, "ntk": ntk}
            targets = {name: out for name, out in outputs.items() if needs(name, block)}
            _write_block(block, values, targets, symmetric, row_positions, column_positions, scales)
            for name in targets.keys() & journals.keys():
                journals[name].record_block(astuple(block))
            bar.advance(costs[block])
    except BaseException as error:
        _note_resumable(error, journals, len(blocks))
        raise
    finally:
        results.close()  # cancels the blocks in flight if the loop stopped early
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)

    unfinished = {
        name: out
        for name, out in outputs.items()
        if name not in journals or not journals[name].complete
    }
    _write_identical_pairs(
        rows, columns, symmetric, unfinished, row_positions, column_positions, scales
    )
    for name in unfinished.keys() & journals.keys():
        journals[name].record_complete()


def _note_resumable(error: BaseException, journals: dict, n_blocks: int) -> None:
    """Tell the caller of a failed resumable computation what was kept."""
    if not hasattr(error, "add_note"):  # Python < 3.11
        return
    for journal in journals.values():
        note = (
            f"rntk: {len(journal.done)} of {n_blocks} blocks of {journal.path} are on disk "
            "and recorded in its journal; rerun the same call to compute only the others"
        )
        if note not in getattr(error, "__notes__", ()):  # an executor may raise it again
            error.add_note(note)


def _identical_groups(paths: StackPaths) -> dict[bytes, list[int]]:
    groups: dict[bytes, list[int]] = {}
    path = paths.stacks[0]  # the other stack reads the same sequences reversed
    for i, length in enumerate(path.lengths):
        # Adding 0.0 turns -0.0 into 0.0: equal numbers, so the same sequence.
        key = (path.steps_from_end[:length, i] + 0.0).tobytes()
        groups.setdefault(key, []).append(i)
    return groups


def _write_identical_pairs(
    rows, columns, symmetric, outputs, row_positions, column_positions, scales
):
    """Give every pair of identical sequences the exact per-sequence value of the head.

    Through the pairwise recursion such a pair has correlation 1 up to rounding,
    which costs ReLU half its digits in arccos; and in the chaotic regime
    (``sigma_w**2 * Kd > 1``) rounding is amplified at every step, so two copies
    of a sequence would drift apart. The diagonal of ``K(X, X)`` is the common
    case; duplicates within ``X`` or shared by ``X`` and ``X2`` are handled alike.
    """
    row_groups = _identical_groups(rows)
    column_groups = row_groups if symmetric else _identical_groups(columns)
    for key, row_members in row_groups.items():
        column_members = column_groups.get(key)
        if column_members is None:
            continue
        target = np.ix_(row_positions[row_members], column_positions[column_members])
        for name, out in outputs.items():
            value = np.full(
                (len(row_members), len(column_members)), getattr(rows, name)[row_members[0]]
            )
            out[target] = _scaled(value, out.dtype, scales.get(name), row_members, column_members)


def _scaled(value, dtype, scales, row_members, column_members) -> np.ndarray:
    """``value`` in the output's dtype, times ``a_i a_j`` if normalising.

    Rounded to the output's dtype first, then multiplied in float64 and rounded
    again: the same arithmetic as normalising the stored matrix afterwards.
    """
    value = value.astype(dtype, copy=False)
    if scales is None:
        return value
    row_scale, column_scale = scales
    return value * np.multiply.outer(row_scale[row_members], column_scale[column_members])


def _write_block(block, values, outputs, symmetric, row_positions, column_positions, scales):
    rows = slice(block.row_start, block.row_stop)
    columns = slice(block.column_start, block.column_stop)
    target_rows, target_columns = row_positions[rows], column_positions[columns]
    for name, out in outputs.items():
        value = values[name]
        if symmetric and block.column_start == block.row_start:
            # The leading square pairs each sequence of the block with the others
            # twice; keep its upper triangle so the result is exactly symmetric.
            square = value[:, : value.shape[0]]
            lower = np.tril_indices(square.shape[0], -1)
            square[lower] = square.T[lower]
        value = _scaled(value, out.dtype, scales.get(name), rows, columns)
        out[np.ix_(target_rows, target_columns)] = value
        if symmetric:
            out[np.ix_(target_columns, target_rows)] = value.T
