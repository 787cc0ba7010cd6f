"""Resumable Gram matrices: an ``.npy`` file and a journal of its finished blocks.

``rntk.kernel(X, out="gram.npy")`` writes the Gram matrix into ``gram.npy`` and
keeps beside it ``gram.npy.journal``, which says what the file holds and how
far it got. If the process dies (killed, out of time, out of memory), rerunning
the same call computes only the blocks the journal does not list, and the file
ends up bit for bit what an uninterrupted run writes. A call that would compute
something else (other data, hyperparameters, head, activation, kernel, dtype,
block shape, normalisation) is refused instead of mixing two computations.

The journal is a text file of lines ``<crc32 of the rest, 8 hex digits> <record>``:

* line 1, the header: a JSON object with ``format``, ``version``, the output
  ``shape``, ``dtype`` and ``kernel`` (``"nngp"`` or ``"ntk"``), and the
  fingerprint of the computation (:func:`computation_fingerprint`);
* ``block r0 r1 c0 c1``: the block of rows ``r0:r1`` and columns ``c0:c1`` (in
  the length-sorted order of :mod:`rntk.scheduling`) is in the file, mirror and
  normalisation included;
* ``complete``: the identical pairs have their exact values; the file is final.

Crash safety rests on four rules, so that SIGKILL between any two writes (or
in the middle of one) loses at most the blocks not yet recorded:

1. The header is written to a temporary file, synced, and linked into place:
   a journal always starts with a whole header. The ``.npy`` file is created
   after it, and created again if it is missing or cut short while no block is
   recorded.
2. A block's values are synced to disk (``msync``) before its record is
   appended (one ``write``, then ``fsync``): a recorded block is on disk,
   even after a power cut. A block written but not recorded is computed and
   written again.
3. A record torn by a crash fails its checksum: reading stops at the first bad
   line, and the journal is cut back to the good ones before anything is
   appended. A line whose checksum holds but which is not a record of this
   format (not UTF-8, a ``block`` without four decimal numbers) counts as bad
   too: what it and the lines after it recorded is computed again.
4. Every write into the ``.npy`` file is an assignment of values that depend
   only on the computation (normalisation is applied per block, not by dividing
   the file in place), so writing a block or the identical pairs again changes
   nothing. ``complete`` is appended only after the identical pairs are synced.

The journal stays locked (``flock``) while a call writes the file, so a second
process on the same file is refused; the lock dies with its process. A complete
file is only read, so it and its journal may be read-only. The
fingerprint leaves out what cannot change the values: ``n_jobs``, ``executor``
and ``progress``.

So the block plan is not fixed by the header: on an executor other than a
thread pool, ``n_jobs`` cuts a Gram matrix of few blocks into one strip per
worker (:func:`rntk.scheduling.plan_gram`), only where a pair's values do not
depend on its block. A record names its pairs, not a position in a plan, so it
reads the same under any plan: a resume with another executor or number of
workers skips the recorded blocks that its own plan has and computes the
others again, to the same values.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np

from .activations import dual_fingerprint
from .heads import ReadRule
from .hyperparameters import Architecture
from .options import GramOptions
from .sequences import SequenceBatch

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, concurrent runs are not detected
    fcntl = None

__all__ = ["GramFile", "computation_fingerprint", "gram_file_paths", "open_gram_files"]

JOURNAL_SUFFIX = ".journal"
FORMAT = "rntk-gram-journal"
VERSION = 1


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + JOURNAL_SUFFIX)


def _data_hash(batch: SequenceBatch) -> str:
    digest = hashlib.sha256()
    digest.update(np.asarray(batch.steps_from_end.shape, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(batch.lengths, dtype="<i8").data)
    digest.update(np.ascontiguousarray(batch.steps_from_end, dtype="<f8").data)
    return digest.hexdigest()


def computation_fingerprint(
    X: SequenceBatch,
    X2: SequenceBatch | None,
    architecture: Architecture,
    options: GramOptions,
) -> dict:
    """Everything the values and the block layout of a Gram matrix depend on.

    The data enter as SHA-256 hashes of the validated sequences (lengths and
    steps, so a list and its NaN-padded array are the same data); ``X2=None``
    is the symmetric computation. A custom activation is identified by its
    class, its name and its dual map at fixed points, a read rule of one's own
    by its class and its repr (a frozen dataclass's names its fields). Of the
    ``options``,
    ``n_jobs``, ``executor`` and ``progress`` are left out.
    """
    activation = architecture.activation
    activation_class = type(activation)
    return {
        "X": _data_hash(X),
        "X2": None if X2 is None else _data_hash(X2),
        "symmetric": X2 is None,
        "activation": f"{activation_class.__module__}.{activation_class.__qualname__}",
        "activation name": activation.name,
        "activation dual map": dual_fingerprint(activation),
        # Every field of the hyperparameters and of the head, whatever they become.
        **_plain_fields(architecture.hyperparameters),
        **_plain_fields(architecture.head),
        "normalize": options.normalize,
        "dtype": options.dtype.name,
        "block_shape": list(options.block_shape),
    }


def _plain_fields(record) -> dict:
    """Every field of the dataclass ``record``, by name, as JSON reads it back."""
    return {field.name: _plain(getattr(record, field.name)) for field in fields(record)}


def _plain(value):
    """``value`` as JSON reads it back: lists for arrays, Python numbers, text for a rule."""
    if isinstance(value, ReadRule):
        rule_class = type(value)
        return f"{rule_class.__module__}.{rule_class.__qualname__}: {value!r}"
    return np.asarray(value).tolist()


def gram_file_paths(out, names: tuple[str, ...]) -> dict[str, Path] | None:
    """``{kernel name: path}`` if ``out`` names files (one per kernel), else None.

    A path is a ``str``, ``bytes`` or path-like object, and its directory must
    exist.
    """

    def is_path(value):
        return isinstance(value, (str, bytes, os.PathLike))

    if len(names) == 1:
        if isinstance(out, (tuple, list)) and any(is_path(item) for item in out):
            raise TypeError(
                f"out must be one file path (or one array) for get={names[0]!r}, got "
                f"{len(out)} items {out!r}; pass one path, or get=('nngp', 'ntk') with a pair"
            )
        items = (out,)
    else:
        items = out
    if is_path(out) and len(names) > 1:
        raise TypeError(
            f"out must be a pair of file paths for get={names!r} (one per kernel), got {out!r}"
        )
    if not isinstance(items, (tuple, list)) or not any(is_path(item) for item in items):
        return None
    if not all(is_path(item) for item in items) or len(items) != len(names):
        raise TypeError(
            f"out must be {len(names)} file path(s) or {len(names)} array(s) for get={names!r}, "
            f"not a mix; got {out!r}"
        )
    paths = {name: Path(os.fsdecode(item)) for name, item in zip(names, items, strict=True)}
    if len({path.resolve() for path in paths.values()}) != len(paths):
        raise ValueError(f"out: the nngp and ntk files must differ, got {out!r}")
    for path in paths.values():
        if not path.parent.is_dir():
            raise FileNotFoundError(
                f"out: the directory {path.parent} of {path} does not exist; create it first "
                "(rntk creates the file and its journal, not their directory)"
            )
    return paths


class GramFile:
    """One kernel's Gram matrix in an ``.npy`` file, and the journal of its blocks.

    Open it with :meth:`open`; it holds an exclusive lock on the journal until
    :meth:`close`, so a second process on the same file is refused.

    Attributes
    ----------
    path : Path
    array : numpy.memmap
        The matrix, opened for writing.
    done : set of tuple
        ``(row_start, row_stop, column_start, column_stop)`` of every recorded block.
    complete : bool
        Whether the file is final (every block and the identical pairs written).
    """

    def __init__(self, path: Path, array: np.memmap, journal_fd: int, done: set, complete: bool):
        self.path = path
        self.array = array
        self.done = done
        self.complete = complete
        self._journal_fd = journal_fd

    @classmethod
    def open(cls, path: Path, header: dict) -> GramFile:
        """Create ``path`` and its journal, or reopen them to resume.

        Raises
        ------
        FileExistsError
            If ``path`` exists without a journal (rntk cannot tell what it holds).
        ValueError
            If the journal describes another computation, is not an rntk
            journal, or records blocks of an ``.npy`` file that is gone or damaged.
        PermissionError
            If the file is not complete and its journal cannot be written. A
            complete file is only read, so it may be read-only.
        RuntimeError
            If another process is writing the same file.
        """
        journal = journal_path(path)
        header = json.loads(json.dumps(header))  # lists, not tuples, as read back
        if not journal.exists():
            if path.exists():
                raise FileExistsError(
                    f"{path} exists but has no journal {journal.name}, so rntk cannot tell what "
                    "it holds and will not overwrite it; delete it or choose another file"
                )
            _create_journal(journal, header)
        try:
            journal_fd, writable = os.open(journal, os.O_RDWR | os.O_APPEND), True
        except PermissionError:
            journal_fd, writable = os.open(journal, os.O_RDONLY), False
        try:
            _lock(journal_fd, path)  # flock needs no write access
            stored_header, records, valid_size = _read_journal(journal)
            _check_same_computation(stored_header, header, path, journal)
            complete = "complete" in records
            if not (complete or writable):
                raise PermissionError(
                    f"{path} is not complete and its journal {journal} is read-only, so the "
                    "computation cannot resume; make both files writable"
                )
            if writable and valid_size < os.fstat(journal_fd).st_size:
                os.ftruncate(journal_fd, valid_size)  # drop a record torn by a crash
            done = {tuple(int(v) for v in r.split()[1:]) for r in records if r != "complete"}
            shape, dtype = tuple(header["shape"]), header["dtype"]
            array = _open_array(path, journal, shape, dtype, done, complete)
        except BaseException:
            os.close(journal_fd)
            raise
        return cls(path, array, journal_fd, done, complete=complete)

    def record_block(self, block: tuple[int, int, int, int]) -> None:
        """Sync the values written so far, then record ``block`` as done."""
        self.array.flush()
        self._append("block " + " ".join(str(v) for v in block))
        self.done.add(block)

    def record_complete(self) -> None:
        """Sync the values written so far, then record the file as final."""
        self.array.flush()
        self._append("complete")
        self.complete = True

    def close(self) -> None:
        """Release the journal (and its lock)."""
        os.close(self._journal_fd)

    def _append(self, record: str) -> None:
        line = _journal_line(record)
        while line:  # a regular file takes it whole; loop in case it does not
            line = line[os.write(self._journal_fd, line) :]
        os.fsync(self._journal_fd)


@contextlib.contextmanager
def open_gram_files(
    paths: dict[str, Path], shape: tuple[int, int], dtype: np.dtype, fingerprint: dict
) -> Iterator[dict[str, GramFile]]:
    """Open (create or resume) one :class:`GramFile` per kernel; close them on exit."""
    files: dict[str, GramFile] = {}
    try:
        for name, path in paths.items():
            header = {
                "format": FORMAT,
                "version": VERSION,
                "kernel": name,
                "shape": list(shape),
                **fingerprint,
            }
            files[name] = GramFile.open(path, header)
        yield files
    finally:
        for file in files.values():
            file.close()


def _journal_line(record: str) -> bytes:
    payload = record.encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _read_journal(journal: Path) -> tuple[dict, list[str], int]:
    """The header, the valid records, and the size of the valid prefix in bytes."""
    data = journal.read_bytes()
    records, position = [], 0
    while (end := data.find(b"\n", position)) >= 0:
        checksum, _, payload = data[position:end].partition(b" ")
        if checksum != b"%08x" % zlib.crc32(payload):
            break
        try:
            record = payload.decode()
        except UnicodeDecodeError:
            break
        # A record with a good checksum but not of this format (damaged in a way
        # the checksum missed) is treated like a torn one: cut, its blocks recomputed.
        if records and not _is_record(record):
            break
        records.append(record)
        position = end + 1
    try:
        header = json.loads(records[0])
        valid = header.get("format") == FORMAT
    except (IndexError, ValueError, AttributeError):
        valid = False
    if not valid:
        raise ValueError(f"{journal} is not an rntk journal or its header is damaged")
    if header.get("version") != VERSION:
        raise ValueError(
            f"{journal} has format version {header.get('version')!r}; this rntk reads {VERSION}"
        )
    return header, records[1:], position


def _is_record(record: str) -> bool:
    """Whether ``record`` is ``complete`` or ``block`` and four decimal numbers."""
    words = record.split(" ")
    if words[0] == "block" and len(words) == 5:
        return all(word.isascii() and word.isdigit() for word in words[1:])
    return record == "complete"


def _check_same_computation(stored: dict, requested: dict, path: Path, journal: Path) -> None:
    differences = [
        key
        for key in sorted(stored.keys() | requested.keys())
        if stored.get(key) != requested.get(key)
    ]
    if differences:
        raise ValueError(
            f"{path} holds another computation than this call (different {', '.join(differences)})"
            f"; refusing to mix them. Use another file, or delete {path} and {journal} to start "
            "over"
        )


def _create_journal(journal: Path, header: dict) -> None:
    """Write the header whole, atomically: linked into place only once synced."""
    temporary = journal.with_name(f"{journal.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(_journal_line(json.dumps(header, sort_keys=True)))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, journal)  # never replaces a journal created meanwhile
        except FileExistsError:
            raise RuntimeError(
                f"{journal} was created by another process at the same time; choose another file"
            ) from None
        except OSError:  # a file system without hard links
            os.replace(temporary, journal)
        _sync_directory(journal.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _open_array(
    path: Path, journal: Path, shape, dtype: str, done: set, complete: bool
) -> np.memmap:
    """The ``.npy`` file, opened for writing (read-only if ``complete``: it is final).

    Created if no block was recorded yet.
    """
    try:
        array = np.lib.format.open_memmap(path, mode="r" if complete else "r+")
        if array.shape == shape and array.dtype == np.dtype(dtype) and array.flags.c_contiguous:
            return array
    except PermissionError:
        raise
    except (OSError, ValueError, EOFError):  # missing, or cut short while being created
        pass
    if done or complete:
        raise ValueError(
            f"{journal} records {len(done)} finished blocks but {path} is missing or not the "
            f"{shape} {dtype} array they were written to; delete {journal} to start over"
        )
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    array.flush()
    _sync_directory(path.parent)
    return array


#: How long to retry a journal lock that is held before calling it another writer's.
LOCK_PATIENCE_SECONDS = 2.0


def _lock(fd: int, path: Path) -> None:
    if fcntl is None:
        return
    # A lock can be held for an instant by a child process that this process
    # forks (a Dask nanny restarting a worker, a subprocess) between its fork
    # and its exec, which closes the inherited descriptor. A writer holds the
    # lock for its whole computation, so a short wait tells the two apart.
    deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{path} is being written by another process (its journal is locked); "
                    "wait for it to finish or choose another file"
                ) from None
            time.sleep(0.05)


def _sync_directory(directory: Path) -> None:
    """Make a new directory entry durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
