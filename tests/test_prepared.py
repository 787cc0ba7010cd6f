"""Prepared sequences give the raw sequences' kernels, bit for bit, and refuse other kernels."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rntk
import rntk.scheduling as scheduling
from rntk.nystroem import Nystroem
from rntk.prepared import PreparedSequences
from rntk.sequences import as_sequences


def sequences(seed: int, n: int, features: int | None = None, lengths=(3, 17)) -> list:
    rng = np.random.default_rng(seed)
    shape = (lambda t: (t,)) if features is None else (lambda t: (t, features))
    return [rng.standard_normal(shape(int(t))) for t in rng.integers(*lengths, size=n)]


#: Every case is compared with np.array_equal: the same bytes, not close values.
MODELS = {
    "relu": {},
    "erf-depth2": {"activation": "erf", "depth": 2},
    "tanh": {"activation": "tanh"},
    "mean": {"readout": "mean"},
    "bi-mean": {"readout": "mean", "bidirectional": True},
    "mean-stride2-depth2": {"readout": "mean", "pool_stride": 2, "depth": 2},
    "float32-mean": {"readout": "mean", "dtype": np.float32},
    "normalize-bi": {"normalize": True, "bidirectional": True},
    "small-blocks-mean": {"readout": "mean", "block_size": (3, 4)},
    "small-blocks-tanh-bi": {"activation": "tanh", "bidirectional": True, "block_size": 4},
}


def assert_identical(first, second) -> None:
    for a, b in zip(first, second, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("features", [None, 3], ids=["univariate", "multivariate"])
@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_prepared_grams_and_diagonals_are_those_of_the_raw_sequences(model, features):
    X, X2 = sequences(0, 11, features), sequences(1, 6, features)
    k = rntk.RNTK(**model, get=("nngp", "ntk"))
    prepared, prepared2 = k.prepare(X), k.prepare(X2)
    assert_identical(k(prepared), k(X))
    assert_identical(k(prepared, prepared2), k(X, X2))
    assert_identical(k(prepared, X2), k(X, X2))
    assert_identical(k(X, prepared2), k(X, X2))
    assert_identical(k.diag(prepared), k.diag(X))


@pytest.mark.parametrize("features", [None, 3], ids=["univariate", "multivariate"])
@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_subsets_are_the_sequences_prepared_alone(model, features):
    X = sequences(2, 13, features)
    k = rntk.RNTK(**model, get=("nngp", "ntk"))
    prepared = k.prepare(X)
    # Repeats, every order, the longest left out (a shorter time axis), a mask, a slice.
    for indices in ([5, 0, 5, 12], [3], np.arange(13)[::-2], np.arange(13) % 3 == 0, slice(2, 9)):
        positions = np.arange(13)[indices]
        subset, raw = prepared[indices], [X[i] for i in positions]
        assert len(subset) == len(positions)
        assert_identical(k(subset), k(raw))
        assert_identical(k(subset, prepared), k(raw, X))
        assert_identical(k.diag(subset), k.diag(raw))


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_subset_paths_are_selected_bit_for_bit(activation):
    # The paths of a sequence do not depend on the others of the batch nor on the
    # padding to the longest (see rntk.prepared): selecting them is preparing anew.
    X = sequences(3, 20, 2, lengths=(2, 30))
    k = rntk.RNTK(activation=activation, readout="mean", bidirectional=True, depth=2)
    indices = [7, 3, 3, 19, 0]
    selected, fresh = k.prepare(X)[indices].paths, k.prepare([X[i] for i in indices]).paths
    assert_identical((selected.nngp, selected.ntk), (fresh.nngp, fresh.ntk))
    for mine, theirs in zip(selected.stacks, fresh.stacks, strict=True):
        arrays = ("lengths", "steps_from_end", "variance", "prefix_nngp", "prefix_ntk")
        assert_identical([getattr(mine, a) for a in arrays], [getattr(theirs, a) for a in arrays])
        for layer, other in zip(mine.factors, theirs.factors, strict=True):
            assert_identical(layer, other)


def test_a_prepared_handle_serves_kernels_of_the_same_architecture_and_dtype():
    X = sequences(4, 5)
    prepared = rntk.RNTK(readout="mean", sigma_w=1.2).prepare(X)
    other = rntk.RNTK(
        readout="mean", sigma_w=1.2, get="nngp", normalize=True, block_size=2, n_jobs=1
    )
    assert np.array_equal(other(prepared), other(X))
    assert other.prepare(prepared) is prepared


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"sigma_w": 1.3}, "sigma_w"),
        ({"activation": "erf"}, "activation, sigma_u, sigma_b"),
        ({"depth": 2}, "depth"),
        ({"readout": "last"}, "readout"),
        ({"bidirectional": True}, "bidirectional"),
        ({"dtype": np.float32}, "dtype"),
    ],
)
def test_a_handle_of_another_kernel_is_refused_naming_the_argument(change, named):
    X = sequences(5, 4)
    arguments = {"readout": "mean", "sigma_w": 1.2}
    prepared = rntk.RNTK(**arguments).prepare(X)
    k = rntk.RNTK(**{**arguments, **change})
    expected = f"prepared for another kernel (different {named}"
    for call, name in [
        (lambda: k(prepared), "X"),
        (lambda: k(X, prepared), "X2"),
        (lambda: k.diag(prepared), "X"),
        (lambda: k.prepare(prepared), "X"),
    ]:
        with pytest.raises(ValueError, match="^" + re.escape(f"{name} was {expected}")):
            call()


def test_a_handle_is_not_an_empty_or_single_selection():
    prepared = rntk.RNTK().prepare(sequences(6, 4))
    assert isinstance(prepared, PreparedSequences) and len(prepared) == 4
    with pytest.raises(TypeError, match=r"prepared\[\[i\]\]"):
        prepared[1]
    with pytest.raises(ValueError, match="select no sequence"):
        prepared[np.zeros(4, dtype=bool)]


@pytest.mark.parametrize("first", ["raw", "prepared"])
def test_a_resumable_file_is_the_same_computation_prepared_or_not(tmp_path, first):
    X, X2 = sequences(7, 9, 2), sequences(8, 5, 2)
    k = rntk.RNTK(readout="mean", block_size=(2, 3))
    prepared = k.prepare(X)
    expected = k(X, X2)
    path = tmp_path / "gram.npy"
    written = k(X if first == "raw" else prepared, X2, out=path)
    assert np.array_equal(written, expected)
    # The same data either way: the file is recognised as complete, not refused.
    again = k(prepared if first == "raw" else X, X2, out=path)
    assert np.array_equal(again, expected)


def test_a_resume_of_a_partial_file_from_a_prepared_handle_completes_it(tmp_path, monkeypatch):
    X = sequences(9, 10)
    k = rntk.RNTK(readout="mean", block_size=(2, 2), n_jobs=1)
    path = tmp_path / "gram.npy"
    original, written = scheduling._write_block, []

    def write_three(*arguments):
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(arguments[0])
        original(*arguments)

    monkeypatch.setattr(scheduling, "_write_block", write_three)
    with pytest.raises(KeyboardInterrupt):
        k(X, out=path)
    monkeypatch.setattr(scheduling, "_write_block", original)
    assert np.array_equal(k(k.prepare(X), out=path), k(X))


@pytest.mark.parametrize("landmarks", ["uniform", "rpcholesky", "greedy"])
def test_nystroem_takes_prepared_sequences_with_the_same_features(landmarks):
    X, X_new = sequences(10, 30, lengths=(5, 25)), sequences(11, 7, lengths=(5, 25))
    k = rntk.RNTK(readout="mean", block_size=(4, 8))
    raw = Nystroem(k, 12, landmarks=landmarks, random_state=0).fit(X)
    prepared = Nystroem(k, 12, landmarks=landmarks, random_state=0).fit(k.prepare(X))
    assert np.array_equal(raw.landmark_indices_, prepared.landmark_indices_)
    assert np.array_equal(raw.normalization_, prepared.normalization_)
    assert np.array_equal(raw.transform(X_new), prepared.transform(k.prepare(X_new)))


def test_prepared_batch_is_the_validated_input():
    X = [np.arange(4.0), np.arange(7.0), np.arange(2.0)]
    prepared = rntk.RNTK().prepare(X)
    batch = as_sequences(X)
    assert np.array_equal(prepared.batch.steps_from_end, batch.steps_from_end)
    assert prepared.order.tolist() == [1, 0, 2]
    assert "3 sequences of lengths 2 to 7" in repr(prepared)


def test_regressor_prepares_the_test_sequences_once(monkeypatch):
    pytest.importorskip("sklearn")
    import rntk._kernel
    import rntk.prepared
    from rntk.sklearn import RNTKRegressor

    X, X_test = sequences(12, 10), sequences(13, 4)
    y = np.array([x[-1] for x in X])
    model = RNTKRegressor(readout="mean", normalize=True).fit(X, y)
    counted = []
    for module in (rntk._kernel, rntk.prepared):
        original = module.stack_paths

        def counting(batch, *arguments, original=original):
            counted.append(batch.n_sequences)
            return original(batch, *arguments)

        monkeypatch.setattr(module, "stack_paths", counting)
    model.predict(X_test, return_std=True)
    # The test sequences once (for the Gram matrix, its cosine form and the
    # prior variance), the training ones once.
    assert sorted(counted) == [4, 10]
