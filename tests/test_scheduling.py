"""Block scheduling: executors, Dask (and its workers dying), small Gram matrices cut
for the workers, writing into ``out`` (memmap), normalisation, progress, float32."""

from __future__ import annotations

import functools
import io
import logging
import os
import signal
import time
import tracemalloc
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import rntk
from rntk.progress import ProgressBar
from rntk.scheduling import plan_blocks

PARAMS = dict(activation="relu", depth=2, sigma_w=1.3, sigma_h=0.4, get=("nngp", "ntk"))


def ragged(n, seed=0, low=3, high=30, m=2):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((t, m)) for t in rng.integers(low, high, size=n)]


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("row_bounds", [None, [0, 2, 7, 8, 20, 25, 37]])
def test_blocks_cover_every_pair_once(symmetric, row_bounds):
    n_rows, n_columns = 37, 37 if symmetric else 23
    covered = np.zeros((n_rows, n_columns), int)
    for block in plan_blocks(n_rows, n_columns, symmetric, (12, 3), row_bounds):
        assert block.row_stop - block.row_start <= 12
        assert block.column_stop - block.column_start <= (12 if symmetric else 3)
        covered[block.row_start : block.row_stop, block.column_start : block.column_stop] += 1
    if symmetric:
        # Every unordered pair at least once, every pair above the diagonal exactly once.
        assert ((covered + covered.T) >= 1).all()
        assert (np.triu(covered, 1) == 1)[np.triu_indices(n_rows, 1)].all()
    else:
        assert (covered == 1).all()


class RecordingExecutor(Executor):
    """Runs each block as it is submitted and keeps the lengths of its sequences.

    Not a thread pool, so the scheduler may share a small Gram matrix among its
    ``n_jobs`` workers, as it does for worker processes or a Dask cluster."""

    def __init__(self):
        self.blocks = []

    def submit(self, fn, /, *args, **kwargs):
        rows, columns = args[:2]
        self.blocks.append((rows.lengths, columns.lengths))
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def univariate(n, seed, low=3, high=40):
    """``n`` univariate sequences of different lengths, two of them identical."""
    rng = np.random.default_rng(seed)
    X = [rng.standard_normal(t) for t in rng.integers(low, high, size=n)]
    X[5] = X[2].copy()
    return X


#: The variants a small Gram matrix cut into strips must reproduce bit for bit.
SPLIT_CASES = {
    "last step": {},
    "mean head": dict(readout="mean", pool_stride=3),
    "bidirectional last": dict(bidirectional=True),
    "bidirectional mean": dict(readout="mean", pool_stride=2, bidirectional=True),
    "erf": dict(activation="erf", readout="mean", pool_stride=4),
    "normalize": dict(normalize=True, readout="mean", pool_stride=5),
    "float32": dict(dtype=np.float32, readout="mean", pool_stride=3),
}


@pytest.mark.parametrize("case", SPLIT_CASES)
@pytest.mark.parametrize("symmetric", [True, False])
def test_a_small_gram_cut_for_the_workers_is_one_blocks_result_bit_for_bit(case, symmetric):
    """One block (one worker) against the strips planned for 2 to 4 workers; with
    ``block_size=(16, 64)`` the 40 rows are three blocks before the cut, which
    must also keep strips of 16 rows."""
    X, X2 = univariate(40, 11), None if symmetric else univariate(29, 12)
    params = dict(PARAMS, **SPLIT_CASES[case])
    one_block = rntk.kernel(X, X2, n_jobs=1, block_size=10_000, **params)
    assert one_block.ntk.dtype == params.get("dtype", np.float64)
    results = []
    for n_jobs, block_size, most_rows in [(2, 10_000, 40), (3, 10_000, 40), (4, (16, 64), 16)]:
        executor = RecordingExecutor()
        results.append(
            rntk.kernel(X, X2, n_jobs=n_jobs, executor=executor, block_size=block_size, **params)
        )
        assert len(executor.blocks) >= n_jobs
        assert max(len(rows) for rows, _ in executor.blocks) <= most_rows
    for result in results:
        assert np.array_equal(result.nngp, one_block.nngp)
        assert np.array_equal(result.ntk, one_block.ntk)


def test_worker_processes_share_a_small_gram_and_threads_do_not(monkeypatch):
    """Threads would hand the GIL to each other at every NumPy call of a small
    block (see rntk.scheduling): they get the one block; processes get strips."""
    X = univariate(30, 17)
    params = dict(PARAMS, readout="mean", pool_stride=2)
    one_block = rntk.kernel(X, n_jobs=1, **params)
    with ProcessPoolExecutor(max_workers=2) as executor:
        shared = rntk.kernel(X, executor=executor, n_jobs=2, **params)
    evaluated = []
    evaluate = rntk.scheduling.evaluate_block

    def counting(*arguments):
        evaluated.append(None)
        return evaluate(*arguments)

    monkeypatch.setattr(rntk.scheduling, "evaluate_block", counting)
    with ThreadPoolExecutor(max_workers=2) as executor:
        threaded = [
            rntk.kernel(X, executor=executor, n_jobs=2, **params),
            rntk.kernel(X, n_jobs=2, **params),
        ]
    assert len(evaluated) == 2  # one block each
    for result in (shared, *threaded):
        assert np.array_equal(result.nngp, one_block.nngp)
        assert np.array_equal(result.ntk, one_block.ntk)


@pytest.mark.parametrize("readout", ["last", "mean"])
@pytest.mark.parametrize("n_jobs", [2, 3, 5])
def test_the_strips_of_a_small_gram_cost_about_the_same(readout, n_jobs):
    """One strip per worker, none costing 20% more than the average (what the
    slowest worker takes, against the ideal), counted as the pairs' common steps
    or, for the mean head, their products (the pool_stride-th diagonals)."""
    X = univariate(60, 13, low=10, high=200)
    params = dict(readout=readout, pool_stride=1 if readout == "last" else 7, block_size=10_000)
    executor = RecordingExecutor()
    rntk.kernel(X, n_jobs=n_jobs, executor=executor, **params)
    if readout == "last":
        costs = [np.minimum.outer(r, c).sum() for r, c in executor.blocks]
    else:
        costs = [np.multiply.outer(r, c).sum() for r, c in executor.blocks]
    assert len(costs) == n_jobs
    assert max(costs) < 1.2 * np.mean(costs)


@pytest.mark.parametrize(
    "X, params",
    [
        (ragged(40, 14), {}),  # several features: a matrix product over the block
        (univariate(40, 15), dict(activation="tanh")),  # no difference form
    ],
    ids=["multivariate", "covariance form"],
)
def test_a_gram_whose_values_depend_on_the_block_is_not_cut(X, params):
    """Where the block leaves its mark on the last bits, the plan ignores the workers."""
    params = dict(PARAMS, block_size=10_000, **params)
    executor = RecordingExecutor()
    result = rntk.kernel(X, n_jobs=4, executor=executor, **params)
    assert len(executor.blocks) == 1
    one_block = rntk.kernel(X, n_jobs=1, **params)
    assert np.array_equal(result.nngp, one_block.nngp)
    assert np.array_equal(result.ntk, one_block.ntk)


@pytest.mark.parametrize("activation", [rntk.ReLU(), rntk.Erf()])
def test_the_difference_form_treats_both_sequences_alike(activation):
    """Swapping the row and column sequences of a block transposes the dual map's
    outputs bit for bit (what lets the scheduler cut blocks of any shape)."""
    rng = np.random.default_rng(16)
    q1, q2 = rng.uniform(0.1, 3.0, 9), rng.uniform(0.1, 3.0, 6)
    q1[4] = q2[2] = 0.0  # zero variances take the activation's special case
    correlation = rng.uniform(-1.0, 1.0, (9, 6))
    difference = q1[:, None] + q2 - 2 * correlation * np.sqrt(np.multiply.outer(q1, q2))

    def outputs(rows, columns, difference):
        out = [np.empty(difference.shape) for _ in range(3)]
        work = [np.empty(difference.shape) for _ in range(activation.difference_work)]
        with np.errstate(divide="ignore", invalid="ignore"):
            activation.cross_difference(
                difference,
                tuple(f[:, None] for f in activation.difference_factors(rows)),
                tuple(f[None, :] for f in activation.difference_factors(columns)),
                *out,
                work,
            )
        return out

    forward = outputs(q1, q2, difference)
    backward = outputs(q2, q1, np.ascontiguousarray(difference.T))
    for one, other in zip(forward, backward, strict=True):
        assert np.array_equal(one, other.T)


@pytest.mark.parametrize("make_executor", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_any_executor_gives_the_single_threaded_result_bit_for_bit(make_executor):
    X, X2 = ragged(70, 1), ragged(40, 2)
    reference = rntk.kernel(X, X2, n_jobs=1, block_size=(8, 16), **PARAMS)
    with make_executor(max_workers=2) as executor:
        result = rntk.kernel(X, X2, executor=executor, n_jobs=2, block_size=(8, 16), **PARAMS)
    assert np.array_equal(result.ntk, reference.ntk)
    assert np.array_equal(result.nngp, reference.nngp)


def local_cluster(distributed, allowed_failures: int = 3):
    """Two single-threaded worker processes (restarted by their nannies if killed);
    a block whose workers died more than ``allowed_failures`` times fails the call."""
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        return distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )


class KillingExecutor(Executor):
    """Pass submissions on to a Dask client's executor; right after the
    ``kill_at``-th, SIGKILL a worker process that is running or queueing blocks."""

    def __init__(self, client, kill_at: int):
        self.client, self.kill_at = client, kill_at
        self.executor = client.get_executor()
        self.pids = client.run(os.getpid)
        self.submitted, self.killed = 0, None

    def submit(self, fn, /, *args, **kwargs):
        future = self.executor.submit(fn, *args, **kwargs)
        self.submitted += 1
        if self.submitted == self.kill_at:
            deadline = time.monotonic() + 30
            while not (busy := {a: k for a, k in self.client.processing().items() if k}):
                assert time.monotonic() < deadline, "no worker is running a block"
            address, blocks = max(busy.items(), key=lambda item: len(item[1]))
            self.killed = (self.pids[address], len(blocks))
            os.kill(self.pids[address], signal.SIGKILL)
        return future


#: The mean head makes a block take milliseconds: long enough to be caught running.
DASK_PARAMS = dict(PARAMS, readout="mean", normalize=True, block_size=(8, 16))


@functools.cache
def dask_case():
    """The sequences of the Dask tests, their number of blocks and their Gram matrices."""
    X = ragged(90, 3)
    n_blocks = len(plan_blocks(90, 90, True, DASK_PARAMS["block_size"]))
    return X, n_blocks, rntk.kernel(X, n_jobs=1, **DASK_PARAMS)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_dask_gives_the_single_threaded_result_bit_for_bit_even_if_a_worker_dies():
    """Dask gives a dead worker's blocks to another worker: nothing changes."""
    distributed = pytest.importorskip("dask.distributed")
    X, n_blocks, reference = dask_case()
    with local_cluster(distributed) as cluster, distributed.Client(cluster) as client:
        undisturbed = rntk.kernel(X, executor=client.get_executor(), n_jobs=2, **DASK_PARAMS)
        executor = KillingExecutor(client, kill_at=n_blocks // 3)
        disturbed = rntk.kernel(X, executor=executor, n_jobs=2, **DASK_PARAMS)
        assert executor.killed[0] not in client.run(os.getpid).values()
    for result in (undisturbed, disturbed):
        assert np.array_equal(result.ntk, reference.ntk)
        assert np.array_equal(result.nngp, reference.nngp)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_block_dask_cannot_finish_fails_the_call_and_the_file_resumes(tmp_path):
    """With no retries allowed, a killed worker is an error (Dask's KilledWorker),
    never a matrix with holes: the file is not complete, and the same call again
    finishes it, bit for bit."""
    distributed = pytest.importorskip("dask.distributed")
    X, n_blocks, reference = dask_case()
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    with (
        local_cluster(distributed, allowed_failures=0) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = KillingExecutor(client, kill_at=n_blocks // 3)
        with pytest.raises(distributed.KilledWorker):
            rntk.kernel(X, executor=executor, n_jobs=2, out=out, **DASK_PARAMS)
        assert not (tmp_path / "ntk.npy.journal").read_bytes().endswith(b" complete\n")
        # The client remembers the failed blocks by their (pure) keys: new keys retry them.
        retrying = client.get_executor(pure=False)
        result = rntk.kernel(X, executor=retrying, n_jobs=2, out=out, **DASK_PARAMS)
    assert np.array_equal(result.ntk, reference.ntk)
    assert np.array_equal(result.nngp, reference.nngp)


def test_normalisation_is_one_product_per_entry():
    """``K_ij * (a_i a_j)`` with ``a = 1 / sqrt(diag)``, bit for bit: what dividing the
    finished matrix in place gave, now applied as each block is written."""
    X, X2 = ragged(40, 9), ragged(17, 10)
    X[5] = X[11]
    for Y in (None, X2):
        for dtype in (np.float64, np.float32):
            params = dict(PARAMS, dtype=dtype, block_size=(8, 8))
            raw, normalized = (
                rntk.kernel(X, Y, normalize=flag, **params) for flag in (False, True)
            )
            exact = rntk.RNTK(**{**params, "dtype": np.float64})  # diag() rounds to dtype
            diagonals = exact.diag(X), exact.diag(X if Y is None else Y)
            for name in ("nngp", "ntk"):
                row_scale, column_scale = (1 / np.sqrt(getattr(d, name)) for d in diagonals)
                scaled = getattr(raw, name) * np.multiply.outer(row_scale, column_scale)
                assert np.array_equal(getattr(normalized, name), scaled.astype(dtype))


def test_out_memmap_is_filled_with_bounded_memory(tmp_path):
    n = 2500  # a 50 MB float64 Gram on disk; blocks of 32 x 256 pairs
    X = np.random.default_rng(4).standard_normal((n, 4))
    out = np.lib.format.open_memmap(tmp_path / "gram.npy", "w+", np.float64, (n, n))
    tracemalloc.start()
    result = rntk.kernel(X, out=out, block_size=(32, 256), n_jobs=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result is out
    assert peak < 0.1 * out.nbytes, f"peak {peak / 2**20:.1f} MiB"
    out.flush()
    reloaded = np.load(tmp_path / "gram.npy", mmap_mode="r")
    sample = np.random.default_rng(5).choice(n, 50, replace=False)
    direct = rntk.kernel(X[sample])
    np.testing.assert_allclose(reloaded[np.ix_(sample, sample)], direct, rtol=1e-13)


def test_out_checks_shape_dtype_and_kind():
    X = ragged(6)
    with pytest.raises(ValueError, match="out must have shape"):
        rntk.kernel(X, out=np.empty((6, 5)))
    with pytest.raises(ValueError, match="out must have shape .* dtype"):
        rntk.kernel(X, out=np.empty((6, 6), np.float32))
    with pytest.raises(TypeError, match="out must be a pair"):
        rntk.kernel(X, get=("nngp", "ntk"), out=np.empty((6, 6)))
    shared = np.empty((6, 6))
    with pytest.raises(ValueError, match="must not overlap"):
        rntk.kernel(X, get=("nngp", "ntk"), out=(shared, shared))


def test_bad_executor_dtype_and_n_jobs_name_the_argument():
    with pytest.raises(TypeError, match="executor"):
        rntk.kernel(ragged(3), executor="threads")
    with pytest.raises(ValueError, match="dtype"):
        rntk.kernel(ragged(3), dtype=np.float16)
    with pytest.raises(ValueError, match="n_jobs"):
        rntk.kernel(ragged(3), n_jobs=0)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_float32_is_close_to_float64(activation):
    X = ragged(60, 6, high=80)
    params = {**PARAMS, "activation": activation}
    double = rntk.kernel(X, **params)
    single = rntk.kernel(X, dtype=np.float32, **params)
    assert single.ntk.dtype == np.float32
    for name in ("nngp", "ntk"):
        error = np.abs(getattr(single, name) - getattr(double, name)).max()
        assert error < 1e-5 * np.abs(getattr(double, name)).max()


def test_float32_refuses_a_kernel_beyond_its_range():
    X = np.ones((2, 400))  # ReLU with sigma_w = 1.6 grows like 1.28**T: ~1e43 at T = 400
    assert np.isfinite(rntk.kernel(X, sigma_w=1.6)).all()
    with pytest.raises(rntk.KernelOverflowError, match="float32"):
        rntk.kernel(X, sigma_w=1.6, dtype=np.float32)


def test_progress_bar_reports_on_the_given_stream():
    stream = io.StringIO()
    bar = ProgressBar(4, "work", stream=stream, delay=0.0, log_interval=0.0)
    for _ in range(4):
        bar.advance(1)
    bar.close()
    text = stream.getvalue()
    assert "work" in text and "100.0%" in text and text.endswith("\n")
    quiet = io.StringIO()
    bar = ProgressBar(4, "work", stream=quiet, enabled=False)
    bar.advance(4)
    bar.close()
    assert quiet.getvalue() == ""
