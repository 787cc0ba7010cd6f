"""Published UCR test accuracies, read offline from files that installed wheels carry.

Two sources, both on the archive's default train/test split:

* **aeon** ships the accuracies of four classifiers on the UCR 2018 archive in
  ``aeon/testing/example_results_files/classification/accuracy/<method>_accuracy.csv``
  (HIVE-COTE 2, InceptionTime, WEASEL 2.0, FreshPRINCE; the results of the
  2023 bake-off redux by Middlehurst, Schäfer and Bagnall). A row is a data set,
  the columns are 30 resamples; resample 0 is the archive's own split and is
  the only one read here. Names are those of the UCR 2018 archive (112 sets,
  the equal-length ones without missing values, Fungi aside). WEASEL 2.0 has
  30 more rows: sets newer than the archive, and preprocessed versions of the
  variable-length sets and of the sets with missing values
  (``AllGestureWiimoteX_eq``, padded to equal length; ``DodgerLoopDay_nmv``,
  missing values filled). Those are other data than the archive's, so their
  names are kept as they are and never matched to the original sets.
* **tslearn** ships ``tslearn/.cached_datasets/singleTrainTest.csv``, the
  single-split accuracies of the 37 classifiers of the 2017 bake-off (Bagnall,
  Lines, Bostrom, Large and Keogh) on 85 sets of the UCR 2015 archive. Its
  names are those of 2015; ``bakeoff_name`` turns them into the 2018 names.
  ``DTW_R1_1NN`` is 1-NN DTW with a full window (GunPoint 90.67%, ArrowHead
  70.29%, the archive's own full-window DTW figures), ``DTW_Rn_1NN`` the window
  set by cross-validation. Four cells are empty (BoP on the two
  NonInvasiveFetalECGThorax sets, StarLightCurves and UWaveGestureLibraryAll);
  those sets are absent from that column.

The files are found through ``importlib.util.find_spec``, which locates a
top-level package without importing it. A missing package or file leaves its
columns out with a note; it is never an error.

Name mapping of the 2017 bake-off (checked by listing the 85 names against the
112 of aeon's files, which are all in the 2018 spelling; every bake-off name
then has exactly one match):

* Renamed sets, explicit (``BAKEOFF_RENAMES``): ``50words`` -> ``FiftyWords``,
  ``Lighting2``/``Lighting7`` -> ``Lightning2``/``Lightning7``,
  ``NonInvasiveFatalECGThorax1``/``2`` -> ``NonInvasiveFetalECGThorax1``/``2``,
  ``SonyAIBORobotSurface`` -> ``SonyAIBORobotSurface1``,
  ``SonyAIBORobotSurfaceII`` -> ``SonyAIBORobotSurface2``.
* Case only, by matching names with case, ``_``, ``-`` and spaces ignored
  against the 2018 names given (``reference_names``): ``FISH`` -> ``Fish``,
  ``MALLAT`` -> ``Mallat``, ``syntheticcontrol`` -> ``SyntheticControl``,
  ``uWaveGestureLibraryX``/``Y``/``Z`` -> ``UWaveGestureLibraryX``/``Y``/``Z``,
  ``wafer`` -> ``Wafer``, ``yoga`` -> ``Yoga``. A name with no match keeps its
  spelling.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: aeon's published classifiers, by the stem of their result file.
AEON_METHODS = ("HC2", "InceptionTime", "WEASEL-2.0", "FreshPRINCE")
#: Inside the aeon package.
AEON_ACCURACY_FOLDER = Path("testing", "example_results_files", "classification", "accuracy")
#: Inside the tslearn package.
BAKEOFF_FILE = Path(".cached_datasets", "singleTrainTest.csv")
#: The bake-off columns read by default: 1-NN DTW with full and tuned windows,
#: DTW features, the quadratic SVM, rotation forest, and the dictionary,
#: shapelet, elastic-ensemble and collective (COTE) classifiers.
BAKEOFF_COLUMNS = ("DTW_R1_1NN", "DTW_Rn_1NN", "DTW_F", "SVMQ", "RotF", "BOSS", "ST", "EE", "COTE")
#: 2015 names of the bake-off file that the 2018 archive spells differently
#: beyond case (see the module docstring for the case-only differences).
BAKEOFF_RENAMES = {
    "50words": "FiftyWords",
    "Lighting2": "Lightning2",
    "Lighting7": "Lightning7",
    "NonInvasiveFatalECGThorax1": "NonInvasiveFetalECGThorax1",
    "NonInvasiveFatalECGThorax2": "NonInvasiveFetalECGThorax2",
    "SonyAIBORobotSurface": "SonyAIBORobotSurface1",
    "SonyAIBORobotSurfaceII": "SonyAIBORobotSurface2",
}


@dataclass(frozen=True)
class Published:
    """Published accuracy columns, their sources and notes on what is missing."""

    #: Column label (e.g. ``"HC2 (published)"``) -> data set -> accuracy (fraction).
    columns: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Column label -> where the numbers come from.
    sources: dict[str, str] = field(default_factory=dict)
    #: Why a source or column is absent.
    notes: tuple[str, ...] = ()


def package_folder(package: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it.

    Parameters
    ----------
    package : str
        A top-level package name, e.g. ``"aeon"``.

    Returns
    -------
    pathlib.Path or None
        The first folder of the package; None if it is not installed.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _version(distribution: str) -> str:
    """The installed version of a distribution, or ``"?"``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def name_key(name: str) -> str:
    """A data set name with case, ``_``, ``-`` and spaces ignored, for matching.

    Examples
    --------
    >>> name_key("uWaveGestureLibrary_X") == name_key("UWaveGestureLibraryX")
    True
    """
    return "".join(character for character in name.casefold() if character not in "_- ")


def bakeoff_name(name: str, reference_names: Iterable[str] = ()) -> str:
    """The UCR 2018 name of a data set named as in the 2017 bake-off file.

    Parameters
    ----------
    name : str
        A name of the bake-off file (UCR 2015 spelling).
    reference_names : iterable of str
        Names in the 2018 spelling to match against, ignoring case, ``_``,
        ``-`` and spaces. Names that share a key among them are not used.

    Returns
    -------
    str
        The renamed set of ``BAKEOFF_RENAMES``, else the reference name with
        the same key, else ``name``.

    Examples
    --------
    >>> bakeoff_name("50words"), bakeoff_name("FISH", ["Fish", "FordA"]), bakeoff_name("FISH")
    ('FiftyWords', 'Fish', 'FISH')
    """
    renamed = BAKEOFF_RENAMES.get(name, name)
    matches = [
        reference for reference in reference_names if name_key(reference) == name_key(renamed)
    ]
    return matches[0] if len(set(matches)) == 1 else renamed


def read_resample_accuracies(path: str | Path, resample: int = 0) -> dict[str, float]:
    """One resample's accuracies from a results file in aeon's format.

    The format: a header row ``Resamples:,0,1,...``, then one row per data set,
    its name and one accuracy per resample.

    Parameters
    ----------
    path : str or pathlib.Path
        The csv file.
    resample : int, default 0
        The resample read; 0 is the archive's default train/test split.

    Returns
    -------
    dict
        Data set name -> accuracy; empty cells are left out.

    Raises
    ------
    ValueError
        If the header has no column for ``resample`` or a cell is not a number.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [cell.strip() for cell in rows[0]]
    try:
        column = header.index(str(resample), 1)
    except ValueError:
        raise ValueError(f"{path}: no column for resample {resample} in the header") from None
    accuracies = {}
    for row in rows[1:]:
        if column < len(row) and row[column].strip():
            accuracies[row[0].strip()] = _accuracy(row[column], path, row[0])
    return accuracies


def _accuracy(cell: str, path: str | Path, name: str) -> float:
    """A cell as an accuracy in [0, 1]."""
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{path}: {name}: {cell!r} is not a number") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{path}: {name}: accuracy {value} is not in [0, 1]")
    return value


def read_bakeoff(
    path: str | Path,
    columns: Sequence[str] | None = BAKEOFF_COLUMNS,
    reference_names: Iterable[str] = (),
) -> dict[str, dict[str, float]]:
    """Accuracies of the 2017 bake-off file, with data sets renamed to UCR 2018.

    The format: ``;``-separated, a header row (an empty cell, then the
    classifiers), then one row per data set, its name and one accuracy per
    classifier.

    Parameters
    ----------
    path : str or pathlib.Path
        The csv file.
    columns : sequence of str or None, default BAKEOFF_COLUMNS
        Classifiers to read; None reads all. A classifier the file lacks is
        left out.
    reference_names : iterable of str
        UCR 2018 names for the case-only matches (see ``bakeoff_name``).

    Returns
    -------
    dict
        Classifier -> data set (2018 name) -> accuracy; empty cells are left out.

    Raises
    ------
    ValueError
        If a cell is not a number, or two names map to one.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter=";") if row]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [cell.strip() for cell in rows[0]]
    wanted = header[1:] if columns is None else [name for name in columns if name in header[1:]]
    references = list(reference_names)
    result: dict[str, dict[str, float]] = {name: {} for name in wanted}
    seen: dict[str, str] = {}
    for row in rows[1:]:
        original = row[0].strip()
        name = bakeoff_name(original, references)
        if name in seen:
            raise ValueError(f"{path}: {seen[name]!r} and {original!r} both map to {name!r}")
        seen[name] = original
        for classifier in wanted:
            index = header.index(classifier)
            if index < len(row) and row[index].strip():
                result[classifier][name] = _accuracy(row[index], path, original)
    return result


def aeon_accuracies(
    folder: str | Path | None = None, methods: Sequence[str] = AEON_METHODS
) -> Published:
    """Resample 0 of aeon's published accuracy files.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        The folder holding ``<method>_accuracy.csv``; by default the one in
        the installed aeon.
    methods : sequence of str, default AEON_METHODS
        The file stems to read.

    Returns
    -------
    Published
        Columns ``"<method> (published)"``; notes for what is missing.
    """
    if folder is None:
        package = package_folder("aeon")
        if package is None:
            return Published(notes=("aeon is not installed: no HC2, InceptionTime, ... columns",))
        folder = package / AEON_ACCURACY_FOLDER
        origin = f"aeon {_version('aeon')}, {AEON_ACCURACY_FOLDER.as_posix()}"
    else:
        origin = str(folder)
    columns, sources, notes = {}, {}, []
    for method in methods:
        path = Path(folder) / f"{method}_accuracy.csv"
        label = f"{method} (published)"
        try:
            columns[label] = read_resample_accuracies(path, resample=0)
        except (OSError, ValueError) as error:
            notes.append(f"{label} left out: {error}")
            continue
        sources[label] = f"{origin}/{path.name}, resample 0 (the archive's default split)"
    return Published(columns, sources, tuple(notes))


def bakeoff_accuracies(
    path: str | Path | None = None,
    columns: Sequence[str] | None = BAKEOFF_COLUMNS,
    reference_names: Iterable[str] = (),
) -> Published:
    """The 2017 bake-off's single-split accuracies, as published columns.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The ``;``-separated file; by default the one in the installed tslearn.
    columns : sequence of str or None, default BAKEOFF_COLUMNS
        Classifiers to read; None reads all 37.
    reference_names : iterable of str
        UCR 2018 names for the case-only matches (see ``bakeoff_name``).

    Returns
    -------
    Published
        Columns ``"<classifier> (bake-off 2017)"``; notes for what is missing.
    """
    if path is None:
        package = package_folder("tslearn")
        if package is None:
            return Published(notes=("tslearn is not installed: no 2017 bake-off columns",))
        path = package / BAKEOFF_FILE
        origin = f"tslearn {_version('tslearn')}, {BAKEOFF_FILE.as_posix()}"
    else:
        origin = str(path)
    try:
        table = read_bakeoff(path, columns, reference_names)
    except (OSError, ValueError) as error:
        return Published(notes=(f"2017 bake-off columns left out: {error}",))
    notes = [
        f"{name} (bake-off 2017) left out: not in {origin}"
        for name in (columns or ())
        if name not in table
    ]
    labels = {name: f"{name} (bake-off 2017)" for name in table}
    return Published(
        columns={labels[name]: accuracies for name, accuracies in table.items()},
        sources={labels[name]: f"{origin} (single train/test split)" for name in table},
        notes=tuple(notes),
    )


def published_accuracies(
    reference_names: Iterable[str] = (),
    aeon_folder: str | Path | None = None,
    bakeoff_file: str | Path | None = None,
) -> Published:
    """All published columns: aeon's four classifiers and the 2017 bake-off's.

    The bake-off's case-only name differences are resolved against
    ``reference_names`` together with the names of aeon's files (UCR 2018
    spelling), so they resolve whenever aeon is installed.

    Parameters
    ----------
    reference_names : iterable of str
        UCR 2018 names, e.g. the data sets of a benchmark run.
    aeon_folder, bakeoff_file : str or pathlib.Path, optional
        Other locations than the installed packages' (for tests).

    Returns
    -------
    Published
        Columns in the order aeon's, then the bake-off's.
    """
    aeon = aeon_accuracies(aeon_folder)
    names = set(reference_names)
    for accuracies in aeon.columns.values():
        names.update(accuracies)
    bakeoff = bakeoff_accuracies(bakeoff_file, reference_names=sorted(names))
    return Published(
        columns={**aeon.columns, **bakeoff.columns},
        sources={**aeon.sources, **bakeoff.sources},
        notes=aeon.notes + bakeoff.notes,
    )
