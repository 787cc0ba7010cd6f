"""How to choose among hundreds of candidates on 20-100 training series, without test labels.

The RNTK grid of the archive benchmark offers cross-validation 480 candidates
(4 heads x 12 kernel points x 2 kernel scalings x 5 values of C). On a training
split of 20-30 series the best cross-validation score is mostly noise, and the
candidate it picks can be far from the best head. This study measures selection
rules on the TRAINING splits of the small archive sets alone, by nested
validation: each training split is cut (stratified, repeated) into an inner
part, on which a rule cross-validates and chooses, and a held-out part, on
which the choice is scored. The test splits are never read.

For every rule it reports the mean held-out accuracy and the selection regret:
the held-out accuracy of the best single head (each head's own cross-validated
choice, the best of the four on held-out data) minus the rule's. The kernels are
computed once per data set and grid point on the training split; every rule
costs only SVM fits on slices of those Gram matrices.

``python benchmarks/selection_study.py`` (all training splits of at most
``--max-train`` series) keeps each set's scores and held-out predictions in
``--cache`` (one file per set, a few MB; a rerun skips finished sets) and
writes the table to ``results/selection_study.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon
from sklearn.svm import SVC, _libsvm

import rntk
from rntk.datasets import available_ucr, load_ucr, z_normalise
from rntk.sklearn import _stratified_splits, head_name, mean_pool_stride

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ucr_archive import HEADS, SCALED  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "selection_study.md"
CACHE = Path.home() / ".cache" / "rntk" / "selection_study"
OUTER_REPEATS = 5
INNER_FOLDS = 5
INNER_REPEATS = 10  # rules that use 3 read the first 3 repeats (the same shuffles)
SVM_MAX_ITERATIONS = 1_000_000


def grid_points(train: list[np.ndarray]) -> list[dict]:
    """The archive benchmark's RNTK grid, in its order (heads cheapest first)."""
    stride = mean_pool_stride(train, SCALED.max_pooled_states)
    points = []
    for readout in ("last", "mean"):
        for bidirectional in (False, True):
            for activation in SCALED.rntk["activation"]:
                for sigma_w in SCALED.rntk["sigma_w"]:
                    for sigma_b in SCALED.rntk["sigma_b"]:
                        point = {
                            "readout": readout,
                            "bidirectional": bidirectional,
                            "activation": activation,
                            "sigma_w": sigma_w,
                            "sigma_b": sigma_b,
                        }
                        if readout == "mean":
                            point["pool_stride"] = stride
                        points.append(point)
    return points


def scaled(gram: np.ndarray, scaling: str, fit: np.ndarray) -> np.ndarray:
    """The protocol's kernel scalings: trace (from the fitting rows) or cosine."""
    if scaling == "cosine":
        inverse = 1.0 / np.sqrt(np.diag(gram))
        return gram * np.outer(inverse, inverse)
    return gram / np.mean(np.diag(gram)[fit])


def predictions(gram, scaling, c, y, fit, validate) -> np.ndarray:
    """``SVC(C=c, kernel="precomputed")`` fitted on ``fit`` and predicting ``validate``.

    ``y`` holds class codes (floats). libsvm is called directly: the study makes
    hundreds of thousands of fits on 10-60 series, where ``SVC``'s input checks
    cost 30 times the fit itself (0.75 ms against 0.023 ms). The predictions are
    those of ``SVC`` (checked in ``--check``).
    """
    g = scaled(gram, scaling, fit)
    model = _libsvm.fit(
        np.ascontiguousarray(g[np.ix_(fit, fit)]),
        y[fit],
        svm_type=0,
        kernel="precomputed",
        C=float(c),
        cache_size=200,
        tol=1e-3,
        max_iter=SVM_MAX_ITERATIONS,
        random_seed=0,
    )
    support, vectors, n_class_vectors, coefficients, intercept, prob_a, prob_b = model[:7]
    return _libsvm.predict(
        np.ascontiguousarray(g[np.ix_(validate, fit)]),
        support,
        vectors,
        n_class_vectors,
        coefficients,
        intercept,
        prob_a,
        prob_b,
        svm_type=0,
        kernel="precomputed",
    )


def check_against_svc() -> None:
    """The direct libsvm calls give SVC's predictions (on a random multiclass kernel)."""
    rng = np.random.default_rng(1)
    features = rng.standard_normal((40, 12))
    gram = features @ features.T
    codes = (np.arange(40) % 3).astype(np.float64)
    fit, validate = np.arange(28), np.arange(28, 40)
    for c in SCALED.Cs:
        ours = predictions(gram, "trace", c, codes, fit, validate)
        g = scaled(gram, "trace", fit)
        svc = SVC(C=c, kernel="precomputed").fit(g[np.ix_(fit, fit)], codes[fit])
        assert np.array_equal(ours, svc.predict(g[np.ix_(validate, fit)])), c


def candidates(points: list[dict]) -> list[tuple[int, str, float]]:
    return [(p, s, c) for p in range(len(points)) for s in ("trace", "cosine") for c in SCALED.Cs]


def study_one(name: str, seed: int = 0) -> dict:
    X_train, labels_train, _, _ = load_ucr(name, missing="interpolate")  # test: never read
    y = np.unique(labels_train, return_inverse=True)[1].astype(np.float64)
    train = list(z_normalise(X_train))
    points = grid_points(train)
    start = time.perf_counter()
    grams = []
    for point in points:
        grams.append(rntk.RNTK(**point)(train))
    # Sums of the four heads' trace-normalised kernels at one kernel point: one more
    # kernel per point, at no kernel cost.
    per_head = len(points) // len(HEADS)
    head_sums = []
    for k in range(per_head):
        members = [grams[h * per_head + k] for h in range(len(HEADS))]
        head_sums.append(sum(g / np.mean(np.diag(g)) for g in members) / len(HEADS))
    kernel_seconds = time.perf_counter() - start
    all_grams = grams + head_sums
    labels = [head_name(p) for p in points] + ["sum"] * per_head
    pool = candidates(all_grams)

    outer = _stratified_splits(y, 3, OUTER_REPEATS, seed)
    outer = [(fit, held) for fit, held in outer][::3]  # one 2:1 cut per repeat
    records = []
    for inner_part, held in outer:
        y_inner = y[inner_part]
        inner_splits = _stratified_splits(y_inner, INNER_FOLDS, INNER_REPEATS, seed)
        scores = np.full((len(pool), len(inner_splits)), np.nan)
        held_predictions = []
        for row, (p, scaling, c) in enumerate(pool):
            gram = all_grams[p][np.ix_(inner_part, inner_part)]
            for split, (fit, validate) in enumerate(inner_splits):
                scores[row, split] = np.mean(
                    predictions(gram, scaling, c, y_inner, fit, validate) == y_inner[validate]
                )
            full = all_grams[p]
            held_predictions.append(predictions(full, scaling, c, y, inner_part, held))
        records.append(
            {
                "inner_size": int(len(inner_part)),
                "held_size": int(len(held)),
                "scores": scores.tolist(),
                "held_correct": [(pred == y[held]).tolist() for pred in held_predictions],
                "held_predictions": [pred.tolist() for pred in held_predictions],
                "held_labels": y[held].tolist(),
                "n_inner_splits_per_repeat": len(inner_splits) // INNER_REPEATS,
            }
        )
    return {
        "dataset": name,
        "n_train": len(y),
        "candidates": [[labels[p], s, c, p] for p, s, c in pool],
        "kernel_seconds": kernel_seconds,
        "outer": records,
    }


# ---------------------------------------------------------------------------
# The rules: each picks candidates from inner CV scores; their held-out vote is the prediction.


def first_best(means: np.ndarray, allowed: np.ndarray) -> int:
    masked = np.where(allowed, means, -np.inf)
    return int(np.argmax(masked))


def rule_choices(record: dict, heads: list[str], rule: str) -> list[int]:
    """The candidates (rows) that predict under ``rule``, the first breaking vote ties.

    * ``best``: the first candidate of the best mean (the paper's protocol);
    * ``vote-1se``: every candidate within one standard error of the best one's
      mean (its split scores' spread / sqrt(splits)), by decreasing mean;
    * ``vote-top5``: the five best candidates;
    * ``heads``: the best candidate of each read-out head (``selection="vote"``);
    * ``mean-heads``: the best candidate of each mean-pooled head (mean, bi-mean),
      a prior against the last-step heads;
    * ``+sum``: the sums of the four heads' kernels are candidates too.

    ``-r3`` rules read the first 3 repeats of the inner folds (the estimator's
    ``n_repeats="auto"`` below 300 series), ``-r10`` all 10.
    """
    scores = np.array(record["scores"])
    if rule.endswith("-r3"):
        scores = scores[:, : 3 * record["n_inner_splits_per_repeat"]]
    means = scores.mean(axis=1)
    allowed = np.array([h != "sum" or "+sum" in rule for h in heads])
    best = first_best(means, allowed)
    by_score = sorted(np.flatnonzero(allowed).tolist(), key=lambda r: (-means[r], r))
    if rule.startswith("best"):
        return [best]
    if rule.startswith("vote-1se"):
        margin = scores[best].std() / np.sqrt(scores.shape[1])
        return [r for r in by_score if means[r] >= means[best] - margin]
    if rule.startswith("vote-top5"):
        return by_score[:5]
    if rule.startswith(("heads", "mean-heads")):
        groups = sorted({h for h, ok in zip(heads, allowed, strict=True) if ok})
        if rule.startswith("mean-heads"):
            groups = [g for g in ("mean", "bi-mean") if g in groups]
        leaders = [first_best(means, allowed & (np.array(heads) == g)) for g in groups]
        return sorted(leaders, key=lambda r: (-means[r], r))
    raise ValueError(rule)


def vote(record: dict, chosen: list[int]) -> np.ndarray:
    """Majority vote of the chosen candidates on the held-out part; ties go to the first."""
    votes = [np.array(record["held_predictions"][c], dtype=object) for c in chosen]
    labels = np.array(record["held_labels"], dtype=object)
    result = []
    for i in range(len(labels)):
        counts: dict = {}
        for v in votes:
            counts[v[i]] = counts.get(v[i], 0) + 1
        top = max(counts.values())
        result.append(next(v[i] for v in votes if counts[v[i]] == top))
    return np.mean(np.array(result, dtype=object) == labels)


RULES = (
    "best-r3",
    "best-r10",
    "best+sum-r10",
    "vote-1se-r10",
    "vote-top5-r10",
    "heads-r3",
    "heads-r10",
    "heads+sum-r3",
    "mean-heads-r3",
)


def evaluate(study: dict) -> dict:
    heads = [c[0] for c in study["candidates"]]
    out = {rule: [] for rule in RULES}
    oracle = []
    for record in study["outer"]:
        scores = np.array(record["scores"])
        means = scores.mean(axis=1)
        correct = np.array([np.mean(c) for c in record["held_correct"]])
        head_best = []
        for head in HEADS:
            allowed = np.array([h == head for h in heads])
            head_best.append(correct[first_best(means, allowed)])
        oracle.append(max(head_best))
        for rule in RULES:
            out[rule].append(vote(record, rule_choices(record, heads, rule)))
    summary = {rule: float(np.mean(values)) for rule, values in out.items()}
    summary["best head (oracle)"] = float(np.mean(oracle))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-train", type=int, default=100)
    parser.add_argument("--datasets")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    names = (
        args.datasets.split(",")
        if args.datasets
        else [n for n in available_ucr() if _n_train(n) <= args.max_train]
    )
    _libsvm.set_verbosity_wrap(0)
    check_against_svc()
    args.cache.mkdir(parents=True, exist_ok=True)
    summaries = {}
    for name in names:
        path = args.cache / f"{name}.json"
        if not path.exists():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                study = study_one(name)
            path.write_text(json.dumps(study))
            print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        study = json.loads(path.read_text())
        if study["outer"]:  # no class with two series (Fungi): nothing to hold out
            summaries[name] = evaluate(study)
    columns = [*RULES, "best head (oracle)"]
    lines = [
        "Held-out accuracy (%) of each selection rule, nested inside the training splits "
        f"({OUTER_REPEATS} stratified 2:1 cuts; inner {INNER_FOLDS}-fold CV x {INNER_REPEATS} "
        "repeats, or the first 3); regret = best head (oracle) - rule. "
        f"Command: python benchmarks/selection_study.py {' '.join(argv or sys.argv[1:])}",
        "",
        "| set | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, summary in summaries.items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * summary[c]:.1f}" for c in columns) + " |")
    means = {c: np.mean([s[c] for s in summaries.values()]) for c in columns}
    oracle = means["best head (oracle)"]
    lines.append("| mean | " + " | ".join(f"{100 * means[c]:.2f}" for c in columns) + " |")
    lines.append(
        "| regret | " + " | ".join(f"{100 * (oracle - means[c]):.2f}" for c in columns) + " |"
    )
    # A paired test of each rule against the estimator's default, over the sets.
    default = np.array([s["heads-r3"] for s in summaries.values()])
    p_values = []
    for column in RULES:
        other = np.array([s[column] for s in summaries.values()])
        same = np.allclose(other, default)
        p_values.append(
            "–" if same else f"{wilcoxon(other, default, zero_method='zsplit').pvalue:.2g}"
        )
    lines.append("| p against heads-r3 | " + " | ".join(p_values) + " | – |")
    lines.append("")
    lines.append(
        "p: two-sided Wilcoxon signed-rank test of the rule's per-set held-out accuracy against "
        'heads-r3 (the default, `selection="vote"`), zero differences split.'
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.datasets:
        RESULTS.write_text(text)
    return 0


def _n_train(name: str) -> int:
    try:
        return len(load_ucr(name, missing="interpolate")[1])
    except Exception:
        return 10**9


if __name__ == "__main__":
    sys.exit(main())
