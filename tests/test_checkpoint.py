"""Resumable Gram matrices (``out="gram.npy"``): crashes at every write, SIGKILL, refusals.

The expected matrix is always the in-memory result of one uninterrupted call
(``out=None``), compared bit for bit. A crash is simulated in-process by raising
:class:`Crash` (a ``BaseException``) just before one write to the ``.npy`` file
or the journal, or halfway through it; what is on disk is then what SIGKILL at
that moment leaves (the memory map's pages survive the process either way, and
nothing rntk runs on the way out writes). One test kills a real subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from concurrent.futures import Executor, Future
from dataclasses import astuple

import numpy as np
import pytest
from helpers import ExponentialPool

import rntk
import rntk.checkpoint
import rntk.scheduling
from rntk.activations import Hermite
from rntk.progress import ProgressBar
from rntk.scheduling import plan_blocks

PARAMS = dict(depth=2, sigma_w=1.3, sigma_b=0.0, sigma_h=0.0, normalize=True, get=("nngp", "ntk"))


def small_case():
    """12 sequences: two copies of one (identical pairs off the diagonal) and an
    all-zero one (zero self-kernel: normalised to 0)."""
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((t, 2)) for t in (5, 3, 7, 5, 1, 4, 6, 2, 3, 8, 4, 5)]
    X[3] = X[0].copy()
    X[7] = np.zeros((2, 2))
    return X


class Crash(BaseException):
    """Stands for SIGKILL: raised at one write, so no later write happens."""


class Writes:
    """Count the writes of a resumable computation; crash at number ``crash_at``.

    Writes are assignments into and flushes of the ``.npy`` memory maps, the
    creation of an ``.npy`` file, and the journal's ``write``, ``fsync`` and
    ``link``. With ``torn``, a write that can be torn (a journal line, the
    creation of the ``.npy`` file) is left half done before the crash. Without
    ``sync`` the flushes and fsyncs are logged but not done: they matter for a
    power cut, not for a killed process, and cost milliseconds each.
    """

    def __init__(
        self, monkeypatch, crash_at: int | None = None, torn: bool = False, sync: bool = True
    ):
        self.log: list[tuple[str, object]] = []
        self.crash_at, self.torn = crash_at, torn
        writes = self

        def before(kind, detail=None, tear=None):
            writes.log.append((kind, detail))
            if len(writes.log) == writes.crash_at:
                if writes.torn and tear is not None:
                    tear()
                raise Crash(f"write {writes.crash_at}: {kind}")

        def setitem(array, key, value):
            before("data", os.fspath(array.filename))
            np.ndarray.__setitem__(array, key, value)

        def flush(array):
            before("flush", os.fspath(array.filename))
            if sync:
                original_flush(array)

        def open_memmap(filename, mode="r+", *args, **kwargs):
            if mode == "w+":

                def tear():
                    with open(filename, "wb") as file:
                        file.write(b"\x93NUMPY\x01\x00v\x00{'descr'")

                before("create", str(filename), tear)
            return original_open_memmap(filename, mode, *args, **kwargs)

        class JournalOs:
            def __getattr__(self, name):
                return getattr(os, name)

            def write(self, fd, data):
                before("journal", os.fstat(fd).st_ino, lambda: os.write(fd, data[: len(data) // 2]))
                return os.write(fd, data)

            def fsync(self, fd):
                before("fsync")
                if sync:
                    os.fsync(fd)

            def link(self, source, destination):
                before("link", destination)
                os.link(source, destination)

        original_flush = np.memmap.flush
        original_open_memmap = np.lib.format.open_memmap
        monkeypatch.setattr(np.memmap, "__setitem__", setitem, raising=False)
        monkeypatch.setattr(np.memmap, "flush", flush)
        monkeypatch.setattr(np.lib.format, "open_memmap", open_memmap)
        monkeypatch.setattr(rntk.checkpoint, "os", JournalOs())


def count_blocks(monkeypatch) -> list:
    """Record every block the scheduler evaluates."""
    evaluated = []
    evaluate = rntk.scheduling.evaluate_block

    def counting(rows, columns, *args):
        evaluated.append((rows.n_sequences, columns.n_sequences))
        return evaluate(rows, columns, *args)

    monkeypatch.setattr(rntk.scheduling, "evaluate_block", counting)
    return evaluated


def recorded_blocks(path) -> set | None:
    """The blocks whose records in ``path``'s journal are whole (None: no journal)."""
    journal = f"{path}.journal"
    if not os.path.exists(journal):
        return None
    blocks = set()
    with open(journal, "rb") as file:
        for line in file:
            checksum, _, payload = line.rstrip(b"\n").partition(b" ")
            if not line.endswith(b"\n") or int(checksum, 16) != zlib.crc32(payload):
                break
            if payload.startswith(b"block "):
                blocks.add(tuple(int(v) for v in payload.split()[1:]))
    return blocks


def journal_is_complete(path) -> bool:
    with open(f"{path}.journal", "rb") as file:
        return file.read().endswith(b" complete\n")


def assert_same_pair(actual, expected):
    for name in ("nngp", "ntk"):
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name


@pytest.mark.parametrize(
    "second, get, normalize",
    [(False, "ntk", False), (True, "nngp", True), (False, ("ntk", "nngp"), True)],
)
def test_file_output_is_the_in_memory_result_and_a_rerun_computes_nothing(
    tmp_path, monkeypatch, second, get, normalize
):
    X = small_case()
    X2 = small_case()[:7] if second else None
    params = dict(PARAMS, get=get, normalize=normalize, block_size=(4, 4))
    expected = rntk.kernel(X, X2, n_jobs=1, **params)
    out = (
        tmp_path / "gram.npy"
        if isinstance(get, str)
        else (tmp_path / "ntk.npy", tmp_path / "nngp.npy")
    )
    first = rntk.kernel(X, X2, out=out, n_jobs=2, **params)
    evaluated = count_blocks(monkeypatch)
    again = rntk.kernel(X, X2, out=out, **params)
    assert evaluated == []
    for result in (first, again):
        for actual, wanted in zip(
            (result,) if isinstance(get, str) else result,
            (expected,) if isinstance(get, str) else expected,
            strict=True,
        ):
            assert isinstance(actual, np.memmap) and not actual.flags.writeable
            assert np.array_equal(actual, wanted)
    reloaded = np.load(out if isinstance(get, str) else out[0])
    assert np.array_equal(reloaded, expected if isinstance(get, str) else expected[0])


def test_a_read_rule_of_ones_own_is_recorded_and_a_rerun_computes_nothing(tmp_path, monkeypatch):
    params = dict(PARAMS, readout=ExponentialPool(0.5), block_size=(4, 4))
    expected = rntk.kernel(small_case(), **params)
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    rntk.kernel(small_case(), out=out, **params)
    evaluated = count_blocks(monkeypatch)
    again = rntk.kernel(small_case(), out=out, **params)
    assert evaluated == []
    for actual, wanted in zip(again, expected, strict=True):
        assert np.array_equal(actual, wanted)
    with pytest.raises(ValueError, match="different readout"):
        rntk.kernel(small_case(), out=out, **dict(params, readout=ExponentialPool(0.6)))


def test_a_crash_at_any_write_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    """Crash before each write in turn, or halfway through it (a torn journal line,
    a half-created file), then rerun: only unrecorded blocks are computed, and
    both files end bit for bit as one uninterrupted run writes them. Of a run of
    consecutive assignments only the first and the last are crash points."""
    X = small_case()
    params = dict(PARAMS, block_size=(6, 6), n_jobs=1)
    expected = rntk.kernel(X, **params)
    n_blocks = len(plan_blocks(len(X), len(X), True, (6, 6)))

    with monkeypatch.context() as patch:
        clean = Writes(patch, sync=False)
        rntk.kernel(X, out=(tmp_path / "a.npy", tmp_path / "b.npy"), **params)
    kinds = [kind for kind, _ in clean.log]
    assert kinds.count("journal") == 2 * (n_blocks + 1)  # the blocks, then "complete"
    assert kinds.count("data") > 4 * n_blocks  # blocks and mirrors, then identical pairs

    padded = [None, *kinds, None]
    crash_points = [
        k for k in range(1, len(kinds) + 1) if not padded[k - 1] == padded[k] == padded[k + 1]
    ]
    cases = [(k, False) for k in crash_points]
    cases += [(k, True) for k in crash_points if kinds[k - 1] in ("journal", "create")]
    for crash_at, torn in cases:
        folder = tmp_path / f"{crash_at}{'-torn' if torn else ''}"
        folder.mkdir()
        out = (folder / "nngp.npy", folder / "ntk.npy")
        with monkeypatch.context() as patch:
            Writes(patch, crash_at, torn, sync=False)
            with pytest.raises(Crash):
                rntk.kernel(X, out=out, **params)
        on_disk_in_both = set.intersection(*[recorded_blocks(path) or set() for path in out])
        with monkeypatch.context() as patch:
            Writes(patch, sync=False)
            evaluated = count_blocks(patch)
            result = rntk.kernel(X, out=out, **params)
        case = f"crash at write {crash_at} ({kinds[crash_at - 1]}, torn={torn})"
        assert len(evaluated) == n_blocks - len(on_disk_in_both), case
        assert_same_pair(result, expected)
        every_block = {astuple(block) for block in plan_blocks(len(X), len(X), True, (6, 6))}
        for path in out:
            assert journal_is_complete(path) and recorded_blocks(path) == every_block, case


def test_each_block_is_recorded_only_after_its_values_are_flushed(tmp_path, monkeypatch):
    X = small_case()
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    writes = Writes(monkeypatch)
    rntk.kernel(X, out=out, block_size=(4, 4), n_jobs=1, **PARAMS)
    npy_of_journal = {os.stat(f"{path}.journal").st_ino: str(path) for path in out}
    unflushed = set()
    records = 0
    for kind, detail in writes.log:
        if kind == "data":
            unflushed.add(detail)
        elif kind == "flush":
            unflushed.discard(detail)
        elif kind == "journal":
            records += 1
            assert npy_of_journal[detail] not in unflushed, f"record {records} before its values"
    assert records == 2 * (len(plan_blocks(12, 12, True, (4, 4))) + 1)


CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import rntk, rntk.scheduling as scheduling

    evaluate, evaluated = scheduling.evaluate_block, []

    def slow(*arguments):  # 20 ms a block, and never past block 25: killed before
        evaluated.append(None)
        time.sleep(0.02 if len(evaluated) < 25 else 3600)
        return evaluate(*arguments)

    scheduling.evaluate_block = slow
    X, out, params = np.load(sys.argv[1]), sys.argv[2:4], json.loads(sys.argv[4])
    rntk.kernel(X, out=out, n_jobs=1, **params)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_sigkilled_process_resumes_with_only_the_missing_blocks(tmp_path, monkeypatch):
    rng = np.random.default_rng()
    X = rng.standard_normal((96, 20, 2))
    for sequence, length in zip(X, rng.integers(1, 21, 96), strict=True):
        sequence[length:] = np.nan  # trailing NaN: sequences of unequal lengths
    params = dict(PARAMS, block_size=[8, 16])
    n_blocks = len(plan_blocks(96, 96, True, (8, 16)))
    np.save(tmp_path / "X.npy", X)
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, tmp_path / "X.npy", *out, json.dumps(params)],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(recorded_blocks(out[1]) or ()) < 5:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child wrote no block in 60 s"
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.2))  # anywhere in a block: computing, writing, recording
    finally:
        child.kill()
    assert child.wait() == -signal.SIGKILL
    done = set.intersection(*(recorded_blocks(path) for path in out))
    assert 5 <= len(done) < 25 and not journal_is_complete(out[1])

    evaluated = count_blocks(monkeypatch)
    resumed = rntk.kernel(X, out=out, **params)
    assert len(evaluated) == n_blocks - len(done)
    assert_same_pair(resumed, rntk.kernel(X, n_jobs=1, **params))


class InlineExecutor(Executor):
    """Runs each block as it is submitted; not a thread pool, so the scheduler
    shares a small Gram matrix among ``n_jobs`` workers (rntk.scheduling.plan_gram)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.mark.parametrize("first, second", [(3, 1), (3, 2), (1, 3), (3, 3)])
def test_a_resume_with_another_number_of_workers_gives_the_same_file(
    tmp_path, monkeypatch, first, second
):
    """The number of workers cuts a small univariate Gram matrix into other blocks.
    A journal names each block by its rows and columns, so a resume under another
    plan skips only the recorded blocks it shares with the first one and computes
    the others, to the same values: the file ends bit for bit as one uninterrupted
    run writes it."""
    rng = np.random.default_rng(7)
    X = [rng.standard_normal(t) for t in rng.integers(2, 30, size=24)]
    X[9] = X[4].copy()
    params = dict(PARAMS, get="ntk", readout="mean", pool_stride=3, block_size=10_000)
    expected = rntk.kernel(X, n_jobs=1, **params)
    out = tmp_path / "gram.npy"

    record_block = rntk.checkpoint.GramFile.record_block

    def crash_after_the_first(file, block):
        record_block(file, block)
        raise Crash("after the first block")

    with monkeypatch.context() as patch:
        patch.setattr(rntk.checkpoint.GramFile, "record_block", crash_after_the_first)
        with pytest.raises(Crash):
            rntk.kernel(X, out=out, n_jobs=first, executor=InlineExecutor(), **params)
    before = recorded_blocks(out)
    assert len(before) == 1 and not journal_is_complete(out)

    evaluated = count_blocks(monkeypatch)
    resumed = rntk.kernel(X, out=out, n_jobs=second, executor=InlineExecutor(), **params)
    after = recorded_blocks(out)
    assert len(evaluated) == len(after - before) >= 1
    if first == second:  # the same plan: every block but the recorded one
        assert len(evaluated) == second - 1
    assert journal_is_complete(out)
    assert np.array_equal(resumed, expected)


@pytest.mark.parametrize(
    "change, differs",
    [
        (dict(X=small_case()[:11]), "X, shape"),
        (dict(X=[x + 1e-12 for x in small_case()]), "X"),
        (dict(X2=small_case()), "X2, symmetric"),
        (dict(sigma_w=1.31), "sigma_w"),
        (dict(sigma_h=[0.0, 0.1]), "sigma_h"),
        (dict(readout="mean"), "readout"),
        (dict(readout=ExponentialPool(0.5)), "readout"),
        (dict(bidirectional=True), "bidirectional"),
        # erf brings its own default sigma_u (0.1).
        (dict(activation="erf"), "activation, activation dual map, activation name, sigma_u"),
        (dict(activation=Hermite(np.sin, np.cos, name="tanh")), "activation dual map"),
        (dict(get="nngp"), "kernel"),
        (dict(normalize=False), "normalize"),
        (dict(dtype=np.float32), "dtype"),
        (dict(block_size=4), "block_shape"),
    ],
)
def test_another_computation_on_the_same_file_is_refused(tmp_path, change, differs):
    params = dict(PARAMS, get="ntk", activation="tanh", block_size=(4, 8))
    out = tmp_path / "gram.npy"
    rntk.kernel(small_case(), out=out, **params)
    before = out.read_bytes(), (tmp_path / "gram.npy.journal").read_bytes()
    arguments = {"X": small_case(), "X2": None, **params, **change}
    with pytest.raises(ValueError, match=f"another computation .*different {differs}\\)"):
        rntk.kernel(out=out, **arguments)
    assert (out.read_bytes(), (tmp_path / "gram.npy.journal").read_bytes()) == before


def test_a_file_that_rntk_cannot_vouch_for_is_refused(tmp_path):
    X = small_case()
    foreign = tmp_path / "foreign.npy"
    np.save(foreign, np.zeros((12, 12)))
    with pytest.raises(FileExistsError, match="no journal"):
        rntk.kernel(X, out=foreign)
    assert np.array_equal(np.load(foreign), np.zeros((12, 12)))

    out = tmp_path / "gram.npy"
    rntk.kernel(X, out=out, block_size=4)
    out.unlink()
    with pytest.raises(ValueError, match="records 6 finished blocks but .* missing"):
        rntk.kernel(X, out=out, block_size=4)

    damaged = tmp_path / "damaged.npy.journal"
    damaged.write_bytes(b"0000000 {not an rntk journal}\n")
    with pytest.raises(ValueError, match="not an rntk journal"):
        rntk.kernel(X, out=tmp_path / "damaged.npy")


@pytest.mark.skipif(rntk.checkpoint.fcntl is None, reason="no advisory locks here")
def test_a_file_being_written_by_another_process_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(rntk.checkpoint, "LOCK_PATIENCE_SECONDS", 0.2)
    X = small_case()
    out = tmp_path / "gram.npy"
    rntk.kernel(X, out=out, block_size=4)
    descriptor = os.open(tmp_path / "gram.npy.journal", os.O_RDWR)
    try:
        rntk.checkpoint.fcntl.flock(descriptor, rntk.checkpoint.fcntl.LOCK_EX)
        with pytest.raises(RuntimeError, match="being written by another process"):
            rntk.kernel(X, out=out, block_size=4)
    finally:
        os.close(descriptor)
    # The lock went with the descriptor (as it goes with a killed process).
    assert np.array_equal(rntk.kernel(X, out=out, block_size=4), rntk.kernel(X, block_size=4))


def fail_at_block(monkeypatch, number: int) -> None:
    """Make the evaluation of the ``number``-th block (1-based) raise :class:`Crash`."""
    evaluate, calls = rntk.scheduling.evaluate_block, []

    def failing(*arguments):
        calls.append(None)
        if len(calls) == number:
            raise Crash(f"block {number}")
        return evaluate(*arguments)

    monkeypatch.setattr(rntk.scheduling, "evaluate_block", failing)


def test_progress_counts_the_blocks_already_written(tmp_path, monkeypatch):
    X = small_case()
    out = tmp_path / "gram.npy"
    params = dict(get="ntk", block_size=(4, 4), n_jobs=1)
    with monkeypatch.context() as patch:
        fail_at_block(patch, 4)
        with pytest.raises(Crash):
            rntk.kernel(X, out=out, **params)
    assert len(recorded_blocks(out)) == 3

    bars = []

    class RecordingBar(ProgressBar):
        def __init__(self, *arguments, **keywords):
            super().__init__(*arguments, **keywords)
            self.steps = []
            bars.append(self)

        def advance(self, amount=1.0, note=""):
            self.steps.append(amount)
            super().advance(amount, note)

    monkeypatch.setattr(rntk.scheduling, "ProgressBar", RecordingBar)
    rntk.kernel(X, out=out, progress=True, **params)
    (bar,) = bars
    assert bar.label == "rntk: 6 blocks, 3 already written"
    assert len(bar.steps) == 1 + 3 and 0 < bar.steps[0] < bar.total
    assert bar.done == pytest.approx(bar.total)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
def test_a_failure_says_what_was_kept(tmp_path, monkeypatch):
    out = tmp_path / "gram.npy"
    fail_at_block(monkeypatch, 3)
    with pytest.raises(Crash) as failure:
        rntk.kernel(small_case(), out=out, block_size=(4, 4), n_jobs=1)
    (note,) = failure.value.__notes__
    assert f"2 of 6 blocks of {out}" in note and "rerun the same call" in note


def test_out_paths_are_checked(tmp_path):
    X = small_case()
    with pytest.raises(TypeError, match="pair of file paths"):
        rntk.kernel(X, get=("nngp", "ntk"), out=tmp_path / "gram.npy")
    with pytest.raises(TypeError, match="not a mix"):
        rntk.kernel(X, get=("nngp", "ntk"), out=(tmp_path / "gram.npy", np.empty((12, 12))))
    with pytest.raises(ValueError, match="must differ"):
        rntk.kernel(X, get=("nngp", "ntk"), out=(tmp_path / "k.npy", str(tmp_path / "k.npy")))
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(rntk.checkpoint.fcntl is None, reason="no advisory locks here")
def test_a_lock_held_for_an_instant_is_waited_for(tmp_path):
    # As by a child process between its fork and its exec: the call waits, then runs.
    X = small_case()
    out = tmp_path / "gram.npy"
    rntk.kernel(X, out=out, block_size=4)
    descriptor = os.open(tmp_path / "gram.npy.journal", os.O_RDWR)
    rntk.checkpoint.fcntl.flock(descriptor, rntk.checkpoint.fcntl.LOCK_EX)
    release = threading.Timer(0.3, os.close, (descriptor,))
    release.start()
    try:
        started = time.monotonic()
        result = rntk.kernel(X, out=out, block_size=4)
        assert time.monotonic() - started >= 0.25
    finally:
        release.join()
    assert np.array_equal(result, rntk.kernel(X, block_size=4))


def test_out_path_errors_say_what_to_do(tmp_path):
    X = small_case()
    missing = tmp_path / "no such directory" / "gram.npy"
    # Used to name the journal's temporary file, an internal detail.
    with pytest.raises(FileNotFoundError, match="out: the directory .*no such directory of .*"):
        rntk.kernel(X, out=missing)
    # Used to say "out must hold numpy arrays, got tuple".
    with pytest.raises(TypeError, match=r"one file path .* for get='ntk', got 2 items"):
        rntk.kernel(X, out=(tmp_path / "a.npy", tmp_path / "b.npy"))
    assert not any(tmp_path.iterdir())


def test_bytes_paths_are_file_paths(tmp_path):
    # A bytes path used to be refused as "out must hold numpy arrays, got bytes".
    X = small_case()
    expected = rntk.kernel(X, **PARAMS)
    pair = (os.fsencode(tmp_path / "nngp.npy"), os.fsencode(tmp_path / "ntk.npy"))
    assert_same_pair(rntk.kernel(X, out=pair, **PARAMS), expected)
    single = rntk.kernel(X, out=os.fsencode(tmp_path / "gram.npy"))
    assert np.array_equal(single, rntk.kernel(X)) and journal_is_complete(tmp_path / "gram.npy")


def refuse_writes_to_read_only_files(monkeypatch) -> None:
    """Make opening a file without write permission for writing fail, as it does for
    any user but root (who may run the tests): the journal by ``os.open``, the
    ``.npy`` file by ``open_memmap``."""

    def read_only(path) -> bool:
        return os.path.exists(path) and not os.stat(path).st_mode & 0o222

    def refuse(path):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    class ReadOnlyOs:
        def __getattr__(self, name):
            return getattr(os, name)

        def open(self, path, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR) and read_only(path):
                refuse(path)
            return os.open(path, flags, *args, **kwargs)

    open_memmap = np.lib.format.open_memmap

    def read_only_open_memmap(filename, mode="r+", *args, **kwargs):
        if mode != "r" and read_only(filename):
            refuse(filename)
        return open_memmap(filename, mode, *args, **kwargs)

    monkeypatch.setattr(rntk.checkpoint, "os", ReadOnlyOs())
    monkeypatch.setattr(np.lib.format, "open_memmap", read_only_open_memmap)


def test_a_complete_read_only_file_is_returned(tmp_path, monkeypatch):
    X = small_case()
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    expected = rntk.kernel(X, **PARAMS)
    rntk.kernel(X, out=out, **PARAMS)
    files = [*out, *(f"{path}.journal" for path in out)]
    before = [open(file, "rb").read() for file in files]
    for file in files:
        os.chmod(file, 0o444)
    refuse_writes_to_read_only_files(monkeypatch)
    evaluated = count_blocks(monkeypatch)
    # Used to raise PermissionError on the journal.
    assert_same_pair(rntk.kernel(X, out=out, **PARAMS), expected)
    assert evaluated == [] and [open(file, "rb").read() for file in files] == before


def test_an_unfinished_read_only_file_says_why_it_cannot_resume(tmp_path, monkeypatch):
    X = small_case()
    out = tmp_path / "gram.npy"
    with monkeypatch.context() as patch:
        fail_at_block(patch, 2)
        with pytest.raises(Crash):
            rntk.kernel(X, out=out, block_size=(4, 4), n_jobs=1)
    for file in (out, f"{out}.journal"):
        os.chmod(file, 0o444)
    refuse_writes_to_read_only_files(monkeypatch)
    with pytest.raises(PermissionError, match="is not complete and its journal .* is read-only"):
        rntk.kernel(X, out=out, block_size=(4, 4), n_jobs=1)


def journal_lines(path) -> list[bytes]:
    with open(f"{path}.journal", "rb") as file:
        return file.read().splitlines(keepends=True)


def replace_journal_line(path, index: int, line: bytes) -> None:
    lines = journal_lines(path)
    lines[index] = line
    with open(f"{path}.journal", "wb") as file:
        file.write(b"".join(lines))


def checksummed(payload: bytes) -> bytes:
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def resume_after_damaging_the_journal(tmp_path, monkeypatch, damaged_line) -> None:
    """Damage the third block record of a complete journal (6 blocks) with
    ``damaged_line(line)``: the resume recomputes that block and every later one,
    and ends bit for bit as the uninterrupted run, with a whole journal."""
    X = small_case()
    params = dict(get="ntk", block_size=(4, 4), n_jobs=1)
    out = tmp_path / "gram.npy"
    expected = rntk.kernel(X, **params)
    rntk.kernel(X, out=out, **params)
    lines = journal_lines(out)
    assert len(lines) == 1 + 6 + 1 and lines[3].split()[1] == b"block"
    replace_journal_line(out, 3, damaged_line(lines[3]))
    evaluated = count_blocks(monkeypatch)
    assert np.array_equal(rntk.kernel(X, out=out, **params), expected)
    assert len(evaluated) == 4  # the damaged record's block and the three after it
    every_block = {astuple(block) for block in plan_blocks(12, 12, True, (4, 4))}
    assert recorded_blocks(out) == every_block and journal_is_complete(out)
    assert len(journal_lines(out)) == 1 + 6 + 1


def test_a_record_with_a_bad_checksum_is_discarded_and_its_block_recomputed(tmp_path, monkeypatch):
    def bad_checksum(line):
        checksum, rest = line[:8], line[8:]
        return b"%08x" % (int(checksum, 16) ^ 1) + rest

    resume_after_damaging_the_journal(tmp_path, monkeypatch, bad_checksum)


@pytest.mark.parametrize(
    "payload",
    [b"block 0 4 a 8", b"block 0 4 4 8.0", b"block 0 4 4 \xff\xfe", b"blocks 0 4 4 8"],
    ids=["letters", "a float", "not UTF-8", "unknown record"],
)
def test_a_malformed_record_with_a_good_checksum_is_discarded_like_a_torn_one(
    tmp_path, monkeypatch, payload
):
    # Used to raise ValueError or UnicodeDecodeError instead of recomputing.
    resume_after_damaging_the_journal(tmp_path, monkeypatch, lambda line: checksummed(payload))


def test_sequences_that_pad_to_the_same_steps_are_different_data(tmp_path):
    """A leading zero step is data: [0, 1, 2] is not [1, 2], although both are
    stored as the same zero-padded steps (only the lengths tell them apart)."""
    with_zero = [np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0, 5.0])]
    without = [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])]
    stored = [rntk.sequences.as_sequences(X) for X in (with_zero, without)]
    assert np.array_equal(stored[0].steps_from_end, stored[1].steps_from_end)
    out = tmp_path / "gram.npy"
    rntk.kernel(with_zero, out=out)
    with pytest.raises(ValueError, match=r"another computation .*\(different X\)"):
        rntk.kernel(without, out=out)
    assert not np.array_equal(rntk.kernel(with_zero), rntk.kernel(without))


def test_a_complete_file_is_returned_without_kernel_work_or_journal_writes(tmp_path, monkeypatch):
    X = small_case()
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    expected = rntk.kernel(X, **PARAMS)
    rntk.kernel(X, out=out, **PARAMS)
    before = [journal_lines(path) for path in out]

    def no_kernel_work(*arguments):
        raise AssertionError("the recursion ran for a complete file")

    monkeypatch.setattr(rntk.recursion, "advance_layer", no_kernel_work)
    writes = Writes(monkeypatch)
    assert_same_pair(rntk.kernel(X, out=out, **PARAMS), expected)
    assert writes.log == [] and [journal_lines(path) for path in out] == before


def test_every_journal_append_is_fsynced_before_the_next_write(tmp_path, monkeypatch):
    X = small_case()
    out = (tmp_path / "nngp.npy", tmp_path / "ntk.npy")
    with monkeypatch.context() as patch:
        fail_at_block(patch, 3)
        with pytest.raises(Crash):
            rntk.kernel(X, out=out, block_size=(4, 4), n_jobs=1, **PARAMS)
    writes = Writes(monkeypatch, sync=False)
    rntk.kernel(X, out=out, block_size=(4, 4), n_jobs=1, **PARAMS)  # a resume: cut, then appends
    kinds = [kind for kind, _ in writes.log]
    appends = [k for k, kind in enumerate(kinds) if kind == "journal"]
    assert len(appends) == 2 * (6 - 2 + 1)
    for k in appends:
        assert kinds[k + 1 : k + 2] == ["fsync"], f"write {k + 1} (a journal line) not synced"


def test_a_journal_of_a_newer_format_version_is_refused_by_name(tmp_path):
    X = small_case()
    out = tmp_path / "gram.npy"
    rntk.kernel(X, out=out, block_size=(4, 4))
    header = json.loads(journal_lines(out)[0].split(b" ", 1)[1])
    header["version"] = rntk.checkpoint.VERSION + 1
    replace_journal_line(out, 0, checksummed(json.dumps(header, sort_keys=True).encode()))
    before = out.read_bytes(), journal_lines(out)
    newer = rntk.checkpoint.VERSION + 1
    message = rf"{out}.journal has format version {newer}; this rntk reads {newer - 1}"
    with pytest.raises(ValueError, match=message):
        rntk.kernel(X, out=out, block_size=(4, 4))
    assert (out.read_bytes(), journal_lines(out)) == before
