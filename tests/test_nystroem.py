"""Tests of rntk.nystroem: Nystroem features against exact Gram matrices.

The references are independent of the module's algebra: the exact Gram matrix
from ``rntk.kernel``, the Nystroem approximation written with ``numpy.linalg.pinv``
of the landmarks' Gram matrix, textbook pivoted Cholesky (greedy and randomly
pivoted, with the module's random stream) run on the full exact Gram matrix
(the Schur complement recomputed from scratch at every pick), and the exact
probabilities of randomly pivoted Cholesky's picks.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import pad_with_nan, random_sequences
from scipy import linalg, stats

import rntk
from rntk.nystroem import Nystroem, _greedy_pivots, _PartialCholesky, _randomly_pivoted

METHODS = ("uniform", "rpcholesky", "greedy")


def relative_error(approximation: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(approximation - exact) / np.linalg.norm(exact))


@pytest.fixture(scope="module")
def unequal_sequences():
    """40 bivariate sequences of lengths 3..24, so that end alignment matters."""
    rng = np.random.default_rng(1)
    return random_sequences(rng, rng.integers(3, 25, size=40), n_features=2)


def clustered_sequences(rng: np.random.Generator) -> list[np.ndarray]:
    """One cluster of 150 near-copies and four clusters of 4, length 12, univariate."""
    centres = 1.5 * rng.standard_normal((5, 12))
    sizes = (150, 4, 4, 4, 4)
    return [
        centre + 0.02 * rng.standard_normal(12)
        for centre, size in zip(centres, sizes, strict=True)
        for _ in range(size)
    ]


def schur_diagonal(gram: np.ndarray, picks: list[int]) -> np.ndarray:
    """The diagonal of K - K[:, S] K[S, S]^-1 K[S, :] for the picks S, from scratch."""
    if not picks:
        return np.diag(gram).copy()
    cross = gram[:, picks]
    return np.diag(gram - cross @ np.linalg.solve(gram[np.ix_(picks, picks)], cross.T)).copy()


def reference_pivoted_cholesky(gram: np.ndarray, n_picks: int) -> list[int]:
    """Each pick maximises the Schur complement's diagonal (ties: the lowest index)."""
    picks: list[int] = []
    for _ in range(n_picks):
        diagonal = schur_diagonal(gram, picks)
        diagonal[picks] = -np.inf
        picks.append(int(np.argmax(diagonal)))
    return picks


def reference_randomly_pivoted(gram: np.ndarray, n_picks: int, seed: int) -> list[int]:
    """Randomly pivoted Cholesky simulated by rejection, with the module's random stream.

    Rounds of proposals drawn with ``rng.choice`` in proportion to the Schur
    diagonal at the round's start (8 proposals, then twice as many as the
    previous round kept, at most the picks missing); one ``rng.random()`` per
    proposal; a proposal kept if that uniform times its starting diagonal is
    below its diagonal now (0 on the picks and at rounding level).
    """
    rng = np.random.default_rng(seed)
    negligible = n_picks * np.finfo(float).eps * np.diag(gram).max()

    def weights() -> np.ndarray:
        diagonal = schur_diagonal(gram, picks)
        diagonal[picks] = 0.0
        return np.where(diagonal <= negligible, 0.0, diagonal)

    picks: list[int] = []
    kept = 4
    while len(picks) < n_picks:
        start = weights()
        size = min(2 * kept, n_picks - len(picks))
        proposals = rng.choice(len(gram), size=size, p=start / start.sum())
        thresholds = rng.random(size) * start[proposals]
        kept = 0
        for proposal, threshold in zip(proposals, thresholds, strict=True):
            if len(picks) < n_picks and threshold < weights()[proposal]:
                picks.append(int(proposal))
                kept += 1
    return picks


def randomly_pivoted_probabilities(gram: np.ndarray, n_picks: int) -> dict[tuple, float]:
    """The probability of every ordered tuple of picks: each ∝ the Schur diagonal then."""
    probabilities = {}
    for picks in itertools.permutations(range(len(gram)), n_picks):
        probability = 1.0
        for done in range(n_picks):
            diagonal = schur_diagonal(gram, list(picks[:done]))
            diagonal[list(picks[:done])] = 0.0
            probability *= diagonal[picks[done]] / diagonal.sum()
        probabilities[picks] = probability
    return probabilities


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("get", ["ntk", "nngp"])
def test_all_sequences_as_landmarks_reproduce_the_gram_matrix(unequal_sequences, method, get):
    kernel = rntk.RNTK(get=get)
    n = len(unequal_sequences)
    nystroem = Nystroem(kernel, n, landmarks=method, random_state=0)
    features = nystroem.fit(unequal_sequences).transform(unequal_sequences)
    exact = rntk.kernel(unequal_sequences, get=get)
    assert features.shape == (n, n) and nystroem.n_components_ == n
    assert sorted(nystroem.landmark_indices_.tolist()) == list(range(n))
    assert relative_error(features @ features.T, exact) <= 1e-10
    assert np.abs(features @ features.T - exact).max() <= 1e-10 * np.abs(exact).max()


@pytest.mark.parametrize("method", METHODS)
def test_features_of_new_sequences_match_the_pseudo_inverse_formula(unequal_sequences, method):
    rng = np.random.default_rng(2)
    new = random_sequences(rng, rng.integers(2, 30, size=15), n_features=2)
    kernel = rntk.RNTK(depth=2, sigma_b=0.5)
    nystroem = Nystroem(kernel, 8, landmarks=method, random_state=3).fit(unequal_sequences)
    landmarks = [unequal_sequences[i] for i in nystroem.landmark_indices_]
    for landmark, stored in zip(landmarks, nystroem.landmarks_, strict=True):
        np.testing.assert_array_equal(stored, landmark)
    cross = rntk.kernel(new, landmarks, depth=2, sigma_b=0.5)
    landmark_gram = rntk.kernel(landmarks, depth=2, sigma_b=0.5)
    expected = cross @ np.linalg.pinv(landmark_gram, hermitian=True) @ cross.T
    features = nystroem.transform(new)
    assert nystroem.rank_ == 8
    assert relative_error(features @ features.T, expected) <= 1e-10


@pytest.mark.parametrize("method", METHODS)
def test_features_are_the_symmetric_map(unequal_sequences, method):
    """The features themselves, not only their inner products: F = K(X, L) K_LL^(-1/2) with
    the symmetric square root (any F Q with Q orthogonal has the same F F^T)."""
    rng = np.random.default_rng(18)
    new = random_sequences(rng, rng.integers(2, 30, size=15), n_features=2)
    kernel = rntk.RNTK(depth=2, sigma_b=0.5)
    nystroem = Nystroem(kernel, 8, landmarks=method, random_state=3).fit(unequal_sequences)
    landmarks = [unequal_sequences[i] for i in nystroem.landmark_indices_]
    root = linalg.sqrtm(rntk.kernel(landmarks, depth=2, sigma_b=0.5))
    cross = rntk.kernel(new, landmarks, depth=2, sigma_b=0.5)
    expected = linalg.solve(root, cross.T, assume_a="sym").T
    assert nystroem.rank_ == 8
    assert relative_error(nystroem.transform(new), expected) <= 1e-9
    assert relative_error(nystroem.transform(landmarks), root) <= 1e-9


@pytest.mark.parametrize("method", METHODS)
def test_error_decreases_with_the_number_of_components(unequal_sequences, method):
    kernel = rntk.RNTK()
    exact = kernel(unequal_sequences)
    errors = []
    for n_components in (2, 5, 10, 20, 30, 40):
        nystroem = Nystroem(kernel, n_components, landmarks=method, random_state=4)
        features = nystroem.fit_transform(unequal_sequences)
        errors.append(relative_error(features @ features.T, exact))
    assert all(later < earlier for earlier, later in zip(errors, errors[1:], strict=False))
    assert errors[0] > 0.1 and errors[-1] <= 1e-10


def test_uniform_landmarks_are_distinct_reproducible_and_nested(unequal_sequences):
    kernel = rntk.RNTK()
    small = Nystroem(kernel, 10, random_state=5).fit(unequal_sequences).landmark_indices_
    again = Nystroem(kernel, 10, random_state=5).fit(unequal_sequences).landmark_indices_
    large = Nystroem(kernel, 25, random_state=5).fit(unequal_sequences).landmark_indices_
    other = Nystroem(kernel, 10, random_state=6).fit(unequal_sequences).landmark_indices_
    assert len(set(small.tolist())) == 10
    np.testing.assert_array_equal(small, again)
    np.testing.assert_array_equal(large[:10], small)
    assert not np.array_equal(small, other)
    legacy = Nystroem(kernel, 10, random_state=np.random.RandomState(0))
    assert len(set(legacy.fit(unequal_sequences).landmark_indices_.tolist())) == 10


@pytest.mark.parametrize("clustered", [False, True])
def test_greedy_picks_follow_pivoted_cholesky(unequal_sequences, clustered):
    """Also on clusters, where most columns computed ahead in a round go unused."""
    if clustered:
        sequences, n_picks = clustered_sequences(np.random.default_rng(15)), 10
    else:
        sequences, n_picks = unequal_sequences, 30
    kernel = rntk.RNTK(activation="erf", depth=2)
    picks = Nystroem(kernel, n_picks, landmarks="greedy").fit(sequences).landmark_indices_
    assert picks.tolist() == reference_pivoted_cholesky(kernel(sequences), n_picks)


def test_greedy_ties_go_to_the_lowest_index():
    """One-step sequences along orthogonal axes (erf, no bias): the kernel is diagonal (to
    rounding far below its entries), with two values on the diagonal, each repeated."""
    scales = [1.0, 1.0, 2.0, 1.0, 2.0]
    X = [scale * np.eye(5)[i][None, :] for i, scale in enumerate(scales)]
    kernel = rntk.RNTK(activation="erf", sigma_b=0.0)
    diagonal = kernel.diag(X)
    assert diagonal[2] == diagonal[4] > diagonal[0] == diagonal[1] == diagonal[3]
    picks = Nystroem(kernel, 5, landmarks="greedy").fit(X).landmark_indices_
    assert picks.tolist() == [2, 4, 0, 1, 3]


@pytest.mark.parametrize("largest_round", [1, 2, 8])
def test_greedy_ties_go_to_the_lowest_index_in_rounds_of_every_size(largest_round):
    gram = np.diag([1.0, 3.0, 1.0, 3.0, 1.0, 1.0])
    cholesky = _PartialCholesky(np.diag(gram), 6, np.finfo(float).eps)
    _greedy_pivots(cholesky, lambda rows: gram[rows], largest_round)
    assert cholesky.pivots == [1, 3, 0, 2, 4, 5]


@pytest.mark.parametrize("clustered", [False, True])
def test_rpcholesky_picks_follow_the_reference_with_the_same_random_stream(
    unequal_sequences, clustered
):
    """Also on clusters, where many proposals are rejected."""
    if clustered:
        sequences, n_picks = clustered_sequences(np.random.default_rng(15)), 10
    else:
        sequences, n_picks = unequal_sequences, 30
    kernel = rntk.RNTK(activation="erf", depth=2)
    gram = kernel(sequences)
    for seed in (0, 1, 2):
        nystroem = Nystroem(kernel, n_picks, landmarks="rpcholesky", random_state=seed)
        picks = nystroem.fit(sequences).landmark_indices_
        assert picks.tolist() == reference_randomly_pivoted(gram, n_picks, seed)


@pytest.mark.parametrize("largest_round", [1, 8])
def test_rpcholesky_picks_have_the_exact_one_at_a_time_distribution(largest_round):
    """Rejection must leave each pick ∝ the residual then, also within a round.

    Two pairs of nearly parallel vectors: once one of a pair is picked, the
    other's residual collapses and a proposal of it in the same round must
    almost always be rejected. 12,000 draws of 3 ordered picks of 5 against
    the exact probabilities (chi-square, rare tuples pooled); rounds of 1
    have no rejection at all, rounds of 8 propose all 3 picks at once.
    """
    base = np.random.default_rng(16).standard_normal((3, 4))
    vectors = np.array([base[0], base[0] + 0.3 * base[1], 1.5 * base[1], 1.4 * base[1], base[2]])
    gram = vectors @ vectors.T
    exact = randomly_pivoted_probabilities(gram, 3)
    rng = np.random.default_rng(17)
    draws = 12_000
    counts = dict.fromkeys(exact, 0)
    for _ in range(draws):
        cholesky = _PartialCholesky(np.diag(gram), 3, np.finfo(float).eps)
        _randomly_pivoted(cholesky, lambda rows: gram[rows], largest_round, rng)
        counts[tuple(cholesky.pivots)] += 1
    expected = draws * np.array(list(exact.values()))
    observed = np.array(list(counts.values()))
    common = expected >= 5
    pooled_observed = np.append(observed[common], observed[~common].sum())
    pooled_expected = np.append(expected[common], expected[~common].sum())
    assert stats.chisquare(pooled_observed, pooled_expected).pvalue > 1e-4


def test_rpcholesky_is_reproducible_with_a_seed(unequal_sequences):
    kernel = rntk.RNTK()

    def picks(random_state):
        nystroem = Nystroem(kernel, 12, landmarks="rpcholesky", random_state=random_state)
        return nystroem.fit(unequal_sequences).landmark_indices_

    first = picks(5)
    np.testing.assert_array_equal(picks(5), first)
    np.testing.assert_array_equal(picks(np.random.default_rng(5)), first)
    assert len(set(first.tolist())) == 12
    assert not np.array_equal(picks(6), first)
    assert len(set(picks(np.random.RandomState(0)).tolist())) == 12


def test_rpcholesky_beats_uniform_on_clustered_data():
    """Most picks in the four small clusters that uniform draws nearly always miss."""
    sequences = clustered_sequences(np.random.default_rng(7))
    kernel = rntk.RNTK()
    exact = kernel(sequences)

    def errors(method):
        return [
            relative_error(features @ features.T, exact)
            for features in (
                Nystroem(kernel, 5, landmarks=method, random_state=seed).fit_transform(sequences)
                for seed in range(5)
            )
        ]

    randomly_pivoted, uniform = errors("rpcholesky"), errors("uniform")
    assert max(randomly_pivoted) < min(uniform)
    assert np.mean(randomly_pivoted) < 0.6 * np.mean(uniform)


def test_greedy_beats_uniform_on_clustered_data():
    sequences = clustered_sequences(np.random.default_rng(7))
    kernel = rntk.RNTK()
    exact = kernel(sequences)
    nystroem = Nystroem(kernel, 5, landmarks="greedy").fit(sequences)
    greedy = nystroem.transform(sequences)
    greedy_error = relative_error(greedy @ greedy.T, exact)
    for seed in range(5):
        uniform = Nystroem(kernel, 5, random_state=seed).fit_transform(sequences)
        assert greedy_error < 0.5 * relative_error(uniform @ uniform.T, exact)
    # One landmark in each cluster: the clusters are the first 150, then 4 each.
    clusters = np.searchsorted([150, 154, 158, 162], nystroem.landmark_indices_, side="right")
    assert sorted(clusters.tolist()) == [0, 1, 2, 3, 4]


def test_batches_give_the_one_batch_result_to_rounding(unequal_sequences):
    """Not bit for bit: a batch's kernel blocks regroup the same arithmetic."""
    kernel = rntk.RNTK()
    nystroem = Nystroem(kernel, 15, random_state=8, batch_size=len(unequal_sequences))
    one_batch = nystroem.fit(unequal_sequences).transform(unequal_sequences)
    for batch_size in (1, 7, 39):
        nystroem.batch_size = batch_size
        np.testing.assert_allclose(
            nystroem.transform(unequal_sequences),
            one_batch,
            rtol=1e-12,
            atol=1e-12 * np.abs(one_batch).max(),
        )


def test_every_executor_gives_the_same_features(unequal_sequences):
    kernel = rntk.RNTK(n_jobs=1, block_size=4, progress=True)
    nystroem = Nystroem(kernel, 10, random_state=9, batch_size=16).fit(unequal_sequences)
    serial = nystroem.transform(unequal_sequences)
    with ThreadPoolExecutor(2) as pool:
        kernel.executor, kernel.n_jobs = pool, 2
        threaded = nystroem.transform(unequal_sequences, progress=True)
    np.testing.assert_array_equal(threaded, serial)
    assert kernel.progress  # the caller's kernel is left as it was


def test_a_dask_cluster_gives_the_same_features_and_landmarks(unequal_sequences):
    distributed = pytest.importorskip("dask.distributed")
    kernel = rntk.RNTK(n_jobs=1, block_size=8)
    uniform = Nystroem(kernel, 10, random_state=9, batch_size=16).fit(unequal_sequences)
    greedy = Nystroem(kernel, 10, landmarks="greedy", batch_size=16).fit(unequal_sequences)
    serial = [uniform.transform(unequal_sequences), greedy.transform(unequal_sequences)]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        kernel.executor, kernel.n_jobs = client.get_executor(), 2
        on_dask = [uniform.transform(unequal_sequences), greedy.transform(unequal_sequences)]
        refitted = Nystroem(kernel, 10, landmarks="greedy").fit(unequal_sequences)
        random_pivots = Nystroem(kernel, 10, landmarks="rpcholesky", random_state=9)
        on_dask_pivots = random_pivots.fit(unequal_sequences).landmark_indices_
    np.testing.assert_array_equal(refitted.landmark_indices_, greedy.landmark_indices_)
    kernel.executor, kernel.n_jobs = None, 1
    serial_pivots = random_pivots.fit(unequal_sequences).landmark_indices_
    np.testing.assert_array_equal(on_dask_pivots, serial_pivots)
    for result, reference in zip(on_dask, serial, strict=True):
        np.testing.assert_array_equal(result, reference)


def test_every_input_format_gives_the_same_features():
    rng = np.random.default_rng(10)
    lengths = rng.integers(4, 16, size=20)
    ragged = random_sequences(rng, lengths, n_features=1, as_univariate=True)
    padded = pad_with_nan([s[:, None] for s in ragged])
    kernel = rntk.RNTK()
    from_list = Nystroem(kernel, 12, random_state=11).fit(ragged)
    from_padded = Nystroem(kernel, 12, random_state=11).fit(padded)
    np.testing.assert_array_equal(from_list.landmark_indices_, from_padded.landmark_indices_)
    np.testing.assert_allclose(
        from_padded.transform(padded[:, :, 0]), from_list.transform(ragged), rtol=1e-12
    )
    equal = rng.standard_normal((20, 9))
    np.testing.assert_allclose(
        from_list.transform(equal), from_list.transform(equal[:, :, None]), rtol=1e-12
    )


@pytest.mark.parametrize("method", METHODS)
def test_duplicated_sequences_are_harmless(method):
    rng = np.random.default_rng(12)
    distinct = rng.standard_normal((10, 8))
    sequences = np.concatenate([distinct, distinct[:6]])
    kernel = rntk.RNTK()
    nystroem = Nystroem(kernel, 16, landmarks=method, random_state=13).fit(sequences)
    features = nystroem.transform(sequences)
    assert nystroem.rank_ == 10 and np.isfinite(features).all()
    assert sorted(nystroem.landmark_indices_.tolist()) == list(range(16))
    assert relative_error(features @ features.T, kernel(sequences)) <= 1e-10


def test_float32_kernel_gives_float32_features(unequal_sequences):
    kernel = rntk.RNTK(dtype=np.float32)
    features = Nystroem(kernel, 40, random_state=14).fit_transform(unequal_sequences)
    exact = rntk.kernel(unequal_sequences)
    assert features.dtype == np.float32
    assert relative_error(features.astype(float) @ features.T.astype(float), exact) <= 1e-5


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"n_components": 0}, ValueError, "n_components"),
        ({"n_components": 41}, ValueError, "n_components must be at most"),
        ({"n_components": 2.0}, TypeError, "n_components"),
        ({"landmarks": "random"}, ValueError, "landmarks must be 'uniform', 'rpcholesky'"),
        ({"landmarks": "RPCholesky"}, ValueError, "landmarks"),
        ({"landmarks": None}, ValueError, "landmarks"),
        ({"landmarks": "rpcholesky", "random_state": 2.5}, TypeError, "random_state"),
        ({"random_state": "seed"}, TypeError, "random_state"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"kernel": rntk.RNTK(get=("nngp", "ntk"))}, ValueError, "single kernel"),
        ({"kernel": rntk.kernel}, TypeError, "kernel must be an rntk.RNTK"),
    ],
)
def test_bad_arguments_are_named(unequal_sequences, arguments, error, message):
    settings = {"kernel": rntk.RNTK(), "n_components": 5, **arguments}
    kernel, n_components = settings.pop("kernel"), settings.pop("n_components")
    with pytest.raises(error, match=message):
        Nystroem(kernel, n_components, **settings).fit(unequal_sequences)


def test_bad_transform_calls_are_named(unequal_sequences):
    nystroem = Nystroem(rntk.RNTK(), 5, random_state=0)
    with pytest.raises(ValueError, match="not fitted"):
        nystroem.transform(unequal_sequences)
    nystroem.fit(unequal_sequences)
    with pytest.raises(ValueError, match="X has 1 features per step but the landmarks"):
        nystroem.transform(np.ones((3, 4)))
    with pytest.raises(TypeError, match="progress"):
        nystroem.transform(unequal_sequences, progress="yes")
    with pytest.raises(ValueError, match="X"):
        nystroem.transform([])
