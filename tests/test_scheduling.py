"""Block scheduling: executors, Dask, writing into ``out`` (memmap), progress, float32."""

from __future__ import annotations

import io
import tracemalloc
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

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
def test_blocks_cover_every_pair_once(symmetric):
    n_rows, n_columns = 37, 37 if symmetric else 23
    covered = np.zeros((n_rows, n_columns), int)
    for block in plan_blocks(n_rows, n_columns, symmetric, (5, 3)):
        covered[block.row_start : block.row_stop, block.column_start : block.column_stop] += 1
    if symmetric:
        # Every unordered pair at least once, every pair above the diagonal exactly once.
        assert ((covered + covered.T) >= 1).all()
        assert (np.triu(covered, 1) == 1)[np.triu_indices(n_rows, 1)].all()
    else:
        assert (covered == 1).all()


@pytest.mark.parametrize("make_executor", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_any_executor_gives_the_single_threaded_result_bit_for_bit(make_executor):
    X, X2 = ragged(70, 1), ragged(40, 2)
    reference = rntk.kernel(X, X2, n_jobs=1, block_size=(8, 16), **PARAMS)
    with make_executor(max_workers=2) as executor:
        result = rntk.kernel(X, X2, executor=executor, n_jobs=2, block_size=(8, 16), **PARAMS)
    assert np.array_equal(result.ntk, reference.ntk)
    assert np.array_equal(result.nngp, reference.nngp)


def test_dask_cluster_gives_the_single_threaded_result_bit_for_bit():
    distributed = pytest.importorskip("dask.distributed")
    X = ragged(90, 3)
    reference = rntk.kernel(X, n_jobs=1, block_size=(16, 32), **PARAMS)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = rntk.kernel(
            X, executor=client.get_executor(), n_jobs=2, block_size=(16, 32), **PARAMS
        )
    assert np.array_equal(result.ntk, reference.ntk)
    assert np.array_equal(result.nngp, reference.nngp)


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
