"""Input handling: accepted formats, end alignment, and clear errors for bad input."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import reference
from helpers import ORACLE_RTOL, assert_relative_close

import rntk
from rntk.sequences import LayoutWarning, as_sequences, from_channels_first

# --- accepted formats and the end-aligned layout --------------------------------


def test_steps_are_stored_from_the_end():
    first = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    second = np.array([[7.0, 8.0]])
    batch = as_sequences([first, second])
    np.testing.assert_array_equal(batch.lengths, [3, 1])
    assert batch.steps_from_end.shape == (3, 2, 2)
    assert batch.n_sequences == 2 and batch.n_features == 2 and batch.max_length == 3
    # r = 0 is every sequence's last step.
    np.testing.assert_array_equal(batch.steps_from_end[0], [[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(batch.steps_from_end[:, 0], first[::-1])
    # Where a sequence has not started, its steps are zero.
    np.testing.assert_array_equal(batch.steps_from_end[1:, 1], 0.0)
    np.testing.assert_array_equal(batch.sequence(0), first)
    np.testing.assert_array_equal(batch.sequence(1), second)


def test_trailing_nan_padding_is_dropped_and_inner_values_kept():
    padded = np.array([[1.0, 2.0, 3.0, np.nan], [4.0, np.nan, np.nan, np.nan]])
    batch = as_sequences(padded)
    np.testing.assert_array_equal(batch.lengths, [3, 1])
    np.testing.assert_array_equal(batch.sequence(0)[:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(batch.sequence(1)[:, 0], [4.0])


def test_multivariate_padding_drops_only_all_nan_steps():
    padded = np.full((2, 3, 2), np.nan)
    padded[0] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    padded[1, :2] = [[7.0, 8.0], [9.0, 10.0]]
    batch = as_sequences(padded)
    np.testing.assert_array_equal(batch.lengths, [3, 2])
    np.testing.assert_array_equal(batch.sequence(1), [[7.0, 8.0], [9.0, 10.0]])


def test_integer_and_boolean_inputs_become_float64():
    batch = as_sequences(np.array([[1, 2, 3]], dtype=np.int32))
    assert batch.steps_from_end.dtype == np.float64
    np.testing.assert_array_equal(
        rntk.kernel(np.array([[1, 0, 1]], dtype=bool)), rntk.kernel(np.array([[1.0, 0.0, 1.0]]))
    )


def test_list_items_may_carry_trailing_nan():
    x = np.array([0.3, -1.2, 0.8])
    y = np.array([1.1, 0.4])
    padded_items = [np.append(x, np.nan), np.append(y, [np.nan, np.nan])]
    np.testing.assert_array_equal(rntk.kernel(padded_items), rntk.kernel([x, y]))


@pytest.mark.parametrize("dtype", [object, "Float64"])
def test_pandas_frames_of_object_and_nullable_dtype_are_read_as_float64(dtype):
    pd = pytest.importorskip("pandas")
    # A missing value at the end of a row is padding, as NaN is: the rows have lengths 3 and 2.
    frame = pd.DataFrame([[0.5, -1.0, 2.0], [1.5, 0.25, None]], dtype=dtype)
    expected = [np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25])]
    batch = as_sequences(frame)
    np.testing.assert_array_equal(batch.lengths, [3, 2])
    np.testing.assert_array_equal(batch.sequence(1)[:, 0], expected[1])
    np.testing.assert_array_equal(rntk.kernel(frame), rntk.kernel(expected))
    np.testing.assert_array_equal(rntk.RNTK().diag(frame), rntk.RNTK().diag(expected))
    # pandas.NA inside a series is a missing value there, refused as NaN is
    gappy = pd.DataFrame([[0.5, None, 2.0]], dtype=dtype)
    with pytest.raises(ValueError, match=r"X: sequence 0 has NaN at step 1"):
        rntk.kernel(gappy)


def test_pandas_nullable_integers_and_series_in_a_list_are_read_as_float64():
    pd = pytest.importorskip("pandas")
    items = [pd.Series([1, 2, 3], dtype="Int64"), pd.Series([4.0, pd.NA], dtype="Float64")]
    batch = as_sequences(items)
    np.testing.assert_array_equal(batch.lengths, [3, 1])
    np.testing.assert_array_equal(batch.sequence(0)[:, 0], [1.0, 2.0, 3.0])
    mixed = pd.DataFrame({"a": [1.0, 2.0], "b": pd.array([3.0, None], dtype="Float64")})
    np.testing.assert_array_equal(as_sequences(mixed).lengths, [2, 1])


@pytest.mark.parametrize(
    "cells, shown",
    [([["0.5", "1.5"]], "'0.5'"), ([[0.5, 1j]], "complex"), ([[0.5, [1.0, 2.0]]], "sequence")],
    ids=["text", "complex", "nested"],
)
def test_pandas_frames_of_other_objects_are_refused_naming_the_argument(cells, shown):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(cells, dtype=object)
    with pytest.raises(TypeError, match=r"X2 must hold real numbers") as excinfo:
        rntk.kernel(GOOD, frame)
    assert shown in str(excinfo.value)


def test_sequences_are_aligned_at_their_last_step():
    """With sigma_w = 0 the network has no memory: the kernel sees the last steps only."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(5), rng.standard_normal(3)
    for activation in ("relu", "erf"):
        params = {"activation": activation, "sigma_w": 0.0, "sigma_h": 0.4}
        K = rntk.kernel([x], [y], **params)
        np.testing.assert_allclose(K, rntk.kernel([x[-1:]], [y[-1:]], **params), rtol=1e-15)
        assert not np.allclose(K, rntk.kernel([x[:1]], [y[:1]], **params))
        assert_relative_close(K, reference.gram([x], [y], **params), ORACLE_RTOL)


# --- bad inputs: the message names the argument ------------------------------

GOOD = [np.arange(3.0), np.ones(2)]
X_NAMED = r"\bX\b"  # X, and not X2


BAD_X = {
    "empty list": ([], ValueError),
    "empty 2-D array": (np.empty((0, 5)), ValueError),
    "empty 3-D array": (np.empty((0, 5, 2)), ValueError),
    "zero-length sequence in a list": ([np.arange(3.0), np.array([])], ValueError),
    "all-NaN row of a padded array": (np.array([[1.0, 2.0], [np.nan, np.nan]]), ValueError),
    "zero steps": (np.empty((3, 0)), ValueError),
    "zero features": (np.empty((3, 4, 0)), ValueError),
    "NaN inside": ([np.array([1.0, np.nan, 2.0])], ValueError),
    "NaN at the start": (np.array([[np.nan, 1.0, 2.0]]), ValueError),
    "NaN in one feature of the last step": ([np.array([[1.0, 2.0], [3.0, np.nan]])], ValueError),
    "inf": ([np.array([1.0, np.inf])], ValueError),
    "-inf in an array": (np.array([[1.0, -np.inf, 0.0]]), ValueError),
    "features differ between sequences": ([np.ones((2, 2)), np.ones((3, 3))], ValueError),
    "steps of different sizes": ([[[1.0, 2.0], [3.0]]], ValueError),
    "strings in a list": (["abc"], TypeError),
    "a string": ("abc", TypeError),
    "string array": (np.array([["a", "b"]]), TypeError),
    "complex array": (np.ones((2, 3)) * 1j, TypeError),
    "complex sequence": ([np.ones(3) * 1j], TypeError),
    "None in a list": ([None], TypeError),
    "None": (None, TypeError),
    "a number": (3.0, TypeError),
    "object array": (np.array([[1, 2]], dtype=object), TypeError),
    "1-D array": (np.arange(3.0), ValueError),
    "4-D array": (np.ones((1, 2, 3, 4)), ValueError),
    "list of numbers": ([1.0, 2.0], ValueError),
    "3-D list item": ([np.ones((2, 2, 2))], ValueError),
}


@pytest.mark.parametrize("case", BAD_X)
def test_bad_X_names_X(case):
    X, error = BAD_X[case]
    with pytest.raises(error, match=X_NAMED):
        rntk.kernel(X)
    with pytest.raises(error, match=X_NAMED):
        rntk.RNTK().diag(X)


@pytest.mark.parametrize("case", [case for case in BAD_X if case != "None"])  # None: X with X
def test_bad_X2_names_X2(case):
    X2, error = BAD_X[case]
    with pytest.raises(error, match="X2"):
        rntk.kernel(GOOD, X2)


def test_feature_dimension_differing_between_X_and_X2():
    with pytest.raises(ValueError, match="X2"):
        rntk.kernel(GOOD, [np.ones((2, 2))])
    with pytest.raises(ValueError, match="X2"):
        rntk.kernel(np.ones((2, 4, 3)), np.ones((2, 4, 2)))


def test_errors_report_what_was_received():
    with pytest.raises(ValueError, match=r"step 1"):
        rntk.kernel([np.array([1.0, np.nan, 2.0])])
    with pytest.raises(ValueError, match=r"sequence 1"):
        rntk.kernel([np.arange(3.0), np.array([1.0, np.inf])])
    with pytest.raises(TypeError, match="complex"):
        rntk.kernel(np.ones((2, 3)) * 1j)
    with pytest.raises(ValueError, match=r"\(1, 2, 3, 4\)"):
        rntk.kernel(np.ones((1, 2, 3, 4)))


# --- channels-first data --------------------------------------------------------


def test_from_channels_first_swaps_steps_and_channels():
    rng = np.random.default_rng(11)
    channels_first = rng.standard_normal((4, 3, 7))  # 4 series, 3 channels, 7 steps
    steps_first = np.stack([series.T for series in channels_first])
    converted = from_channels_first(channels_first)
    np.testing.assert_array_equal(converted, steps_first)
    np.testing.assert_array_equal(rntk.kernel(converted), rntk.kernel(steps_first))


def test_from_channels_first_list_of_unequal_lengths_and_nan_padding():
    rng = np.random.default_rng(12)
    items = [rng.standard_normal((2, length)) for length in (5, 3)]
    converted = from_channels_first(items)
    assert [item.shape for item in converted] == [(5, 2), (3, 2)]
    np.testing.assert_array_equal(converted[1], items[1].T)
    padded = np.full((2, 2, 5), np.nan)
    padded[0], padded[1, :, :3] = items[0], items[1]
    np.testing.assert_array_equal(
        rntk.kernel(from_channels_first(padded)), rntk.kernel([item.T for item in items])
    )


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.ones((2, 3)), ValueError, "3-D array"),
        ([np.ones(4)], ValueError, r"X\[0\] must be a 2-D array"),
        ([], ValueError, "empty"),
        (np.array([[["a"]]]), TypeError, "real numbers"),
    ],
    ids=["2-D array", "1-D item", "empty list", "strings"],
)
def test_from_channels_first_rejects_other_shapes(bad, error, message):
    with pytest.raises(error, match=message):
        from_channels_first(bad)


def test_many_features_per_step_warns_that_data_may_be_channels_first():
    univariate_channels_first = np.random.default_rng(13).standard_normal((3, 1, 20))
    with pytest.warns(LayoutWarning, match=r"from_channels_first\(X\)"):
        batch = as_sequences(univariate_channels_first)
    assert batch.max_length == 1 and batch.n_features == 20  # read as given, not guessed


def here() -> int:
    """The line that calls this."""
    return sys._getframe(1).f_lineno


def test_a_layout_warning_points_at_the_callers_line():
    X = np.random.default_rng(13).standard_normal((3, 1, 20))
    calls = [
        (lambda: as_sequences(X), here()),
        (lambda: rntk.kernel(X), here()),
        (lambda: rntk.kernel(X[:1], X), here()),
        (lambda: rntk.RNTK()(X), here()),
        (lambda: rntk.RNTK().diag(X), here()),
    ]
    for call, line in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        sites = {(w.filename, w.lineno) for w in caught if issubclass(w.category, LayoutWarning)}
        assert sites == {(__file__, line)}


def test_steps_first_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", LayoutWarning)
        as_sequences(np.ones((3, 20, 4)))
        as_sequences(np.ones((3, 2, 7)))  # 7 features on 2 steps: below the threshold
        as_sequences([np.ones((1, 30))])  # lists are explicit about their layout
