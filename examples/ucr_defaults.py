"""How good is the default kernel? An SVM on ``rntk.kernel(X)`` with no tuning, on UCR/UEA data.

A kernel library's defaults are what a newcomer tries first. This script puts
the library's default RNTK (ReLU and erf, each with its own default scales)
into a support vector machine on every classification data set available
offline, with nothing tuned but the SVM penalty ``C``, and compares it with
the defaults of rntk 0.1 (``sigma_w = sigma_u = 1`` for both activations) and,
when ``examples/ucr_classification.py`` has been run, with the RNTK whose
hyperparameters were chosen by cross-validation there.

Protocol
--------
Inputs
    Univariate series z-normalised one by one (the UCR convention);
    multivariate ones standardised per channel with the mean and standard
    deviation of all training steps. Sequences of different lengths are read
    as they are.
Kernel
    ``rntk.kernel(X_train)`` and ``rntk.kernel(X_test, X_train)`` with the
    activation's defaults, divided by the mean of the training diagonal (which
    fixes the scale that ``sigma_v`` and ``C`` share).
SVM
    ``SVC(kernel="precomputed")`` with ``C`` in {0.01, 0.1, 1, 10, 100} chosen
    by stratified 5-fold cross-validation on the training split (fewer folds if
    a class is smaller), refitted on the whole training split and scored once
    on the test split.

Usage::

    python examples/ucr_defaults.py            # every data set available offline, ~1 minute
    python examples/ucr_defaults.py --quick    # UnitTest only

Writes ``results.json``, ``defaults.md`` and ``defaults.png`` to ``--out`` (default
``results/ucr_defaults/``); the table also goes to stdout.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from _common import Progress, example_arguments, example_parser, pyplot, write_results
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

import rntk
from rntk.datasets import available_ucr, load_ucr

C_VALUES = (0.01, 0.1, 1.0, 10.0, 100.0)
KERNELS = {
    "ReLU, defaults": {"activation": "relu"},
    "erf, defaults": {"activation": "erf"},
    "ReLU, rntk 0.1 defaults": {"activation": "relu", "sigma_w": 1.0, "sigma_u": 1.0},
    "erf, rntk 0.1 defaults": {"activation": "erf", "sigma_w": 1.0, "sigma_u": 1.0},
}
TUNED_RESULTS = Path("results") / "ucr_classification" / "results.json"


def prepare(train: list[np.ndarray], test: list[np.ndarray]):
    """z-normalise univariate series one by one; standardise multivariate channels."""
    if train[0].shape[1] == 1:

        def z(sequence):
            spread = sequence.std()
            return (sequence - sequence.mean()) / (spread if spread > 0 else 1.0)

        return [z(s) for s in train], [z(s) for s in test]
    steps = np.concatenate(train)
    mean, spread = steps.mean(axis=0), steps.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return [(s - mean) / spread for s in train], [(s - mean) / spread for s in test]


def as_list(X) -> list[np.ndarray]:
    return [np.asarray(x, dtype=float).reshape(len(x), -1) for x in X]


def svm_accuracy(gram, y_train, test_gram, y_test) -> tuple[float, float]:
    """Test accuracy of the SVM whose C wins 5-fold CV on the training split, and that C."""
    folds = int(min(5, np.unique(y_train, return_counts=True)[1].min()))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    scores = [
        cross_val_score(SVC(C=c, kernel="precomputed"), gram, y_train, cv=splitter).mean()
        for c in C_VALUES
    ]
    best_c = C_VALUES[int(np.argmax(scores))]
    model = SVC(C=best_c, kernel="precomputed").fit(gram, y_train)
    return float(model.score(test_gram, y_test)), best_c


def evaluate(name: str) -> dict:
    X_train, y_train, X_test, y_test = load_ucr(name)
    train, test = prepare(as_list(X_train), as_list(X_test))
    row = {}
    for label, params in KERNELS.items():
        gram = rntk.kernel(train, **params)
        test_gram = rntk.kernel(test, train, **params)
        scale = float(np.mean(np.diag(gram)))
        accuracy, c = svm_accuracy(gram / scale, y_train, test_gram / scale, y_test)
        row[label] = {"accuracy": 100 * accuracy, "C": c}
    return row


#: Columns taken from examples/ucr_classification.py: its method name -> our label.
TUNED_METHODS = {
    "RNTK-last": "RNTK, last step, cross-validated",
    "RNTK": "RNTK, any head, cross-validated",
}


def tuned_accuracies() -> dict[str, dict[str, float]]:
    """``{label: {data set: accuracy}}`` of examples/ucr_classification.py, if it has run."""
    if not TUNED_RESULTS.exists():
        return {}
    results = json.loads(TUNED_RESULTS.read_text()).get("datasets", {})
    return {
        label: {
            name: 100 * entry["methods"][method]["test_accuracy"]
            for name, entry in results.items()
            if method in entry["methods"]
        }
        for method, label in TUNED_METHODS.items()
    }


def table(rows: dict, tuned: dict) -> str:
    columns = list(KERNELS) + list(tuned)
    lines = [
        "| Data set | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, row in rows.items():
        cells = [f"{row[label]['accuracy']:.1f}" for label in KERNELS]
        cells += [f"{found[name]:.1f}" if name in found else "" for found in tuned.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    means = [np.mean([row[label]["accuracy"] for row in rows.values()]) for label in KERNELS]
    cells = [f"{m:.1f}" for m in means]
    for found in tuned.values():
        complete = all(name in found for name in rows)
        cells.append(f"{np.mean([found[name] for name in rows]):.1f}" if complete else "")
    lines.append("| Mean | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: dict, tuned: dict, path: Path) -> None:
    """Grouped bars: test accuracy of each kernel on each data set."""
    plt = pyplot()
    labels = list(KERNELS) + list(tuned)
    names = list(rows)
    width = 0.8 / len(labels)
    figure, axes = plt.subplots(figsize=(max(6, 1.2 * len(names) + 2), 4))
    for k, label in enumerate(labels):
        values = [
            rows[name][label]["accuracy"] if label in KERNELS else tuned[label].get(name, np.nan)
            for name in names
        ]
        axes.bar(
            np.arange(len(names)) + (k - (len(labels) - 1) / 2) * width, values, width, label=label
        )
    axes.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(0, 100)
    axes.set_title("SVM on the RNTK: library defaults (only C tuned) against tuned kernels")
    axes.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = example_parser("ucr_defaults", __doc__.splitlines()[0])
    args = example_arguments("ucr_defaults", __doc__.splitlines()[0], parser)
    names = ["UnitTest"] if args.quick else available_ucr()
    start = time.perf_counter()
    rows = {}
    bar = Progress(len(names), "data sets")
    for name in names:
        rows[name] = evaluate(name)
        bar.advance(1)
    bar.close()
    tuned = tuned_accuracies()
    markdown = table(rows, tuned)
    print(markdown)
    (args.out / "defaults.md").write_text(markdown + "\n")
    plot(rows, tuned, args.out / "defaults.png")
    write_results(
        args.out,
        {
            "kernels": KERNELS,
            "c_values": C_VALUES,
            "accuracy": rows,
            "cross_validated_rntk": tuned,
            "seconds": time.perf_counter() - start,
        },
    )


if __name__ == "__main__":
    main()
