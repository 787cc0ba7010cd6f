"""Report of the UCR archive benchmark: accuracies, statistics and published references.

    python benchmarks/ucr_archive_report.py                    # benchmarks/results/ucr_archive
    python benchmarks/ucr_archive_report.py --results DIR --out DIR

Reads every result file ``<DataSet>/<method>.json`` that ``ucr_archive.py``
writes (one per data set and method, ``status`` ``"ok"`` or ``"failed"``),
adds the published accuracies of ``published.py``, and writes ``REPORT.md``,
``accuracy.csv`` and ``cd_diagram.png`` to ``--out`` (by default the results
folder); ``REPORT.md`` also goes to stdout. Its sections:

1. every data set: sizes, length, classes, each computed method's test
   accuracy (%; the best in bold, failures marked), the RNTK's protocol rule
   and chosen read-out head;
2. the computed methods over the sets where every one of them has a result:
   mean accuracy, mean rank, P90, P95 and PMA (``comparison.py``);
3. the RNTK against each other method, computed or published, each over the
   sets both have: means, wins/ties/losses, two-sided Wilcoxon signed-rank
   p-values and their Holm adjustment over the whole table;
4. the selection regret of the RNTK (best single head on the test split minus
   the RNTK chosen by cross-validation), a diagnostic;
5. total wall time per method;
6. a critical-difference diagram of the computed methods over the common sets
   (aeon's ``plot_critical_difference``);
7. the RNTK against MiniRocket, the best of the other kernels on each set and
   DTW, by series length and training-set size, with a scatter plot per set
   (``rntk_against_others.png``);

then the published columns with their sources and coverage, and the failed
units. ``accuracy.csv`` holds one row per data set: its facts, each method's
accuracy (fraction, empty if missing or failed) and each published column.
Partial results are fine: a set without some methods, a failed unit, no
result at all.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from comparison import (
    TIE_TOLERANCE,
    common_sets,
    compare_against,
    mean_accuracy,
    mean_ranks,
    p90,
    p95,
    pma,
    wins_ties_losses,
)
from published import Published, published_accuracies

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "ucr_archive"
#: The computed methods in the order of the tables; others found follow, sorted.
METHOD_ORDER = ("RNTK", "RBF", "Polynomial", "MLP-NTK", "MiniRocket", "DTW")
REFERENCE = "RNTK"
#: The RNTK's single-head variants, in the order of the regret table.
HEADS = ("RNTK-last", "RNTK-mean", "RNTK-bi-last", "RNTK-bi-mean")
#: Significance level of the critical-difference diagram.
CD_ALPHA = 0.05
MISSING = "–"


@dataclass(frozen=True)
class Unit:
    """One result file: a method on a data set."""

    dataset: str
    method: str
    status: str
    #: Test accuracy (fraction) if ``status == "ok"``, else None.
    accuracy: float | None
    seconds: float
    #: Cores the unit ran on (``--cores-per-unit``; 1 for files written before it existed).
    cores: int
    record: dict


# --------------------------------------------------------------------------- reading


def read_units(folder: Path) -> tuple[list[Unit], list[str]]:
    """Every result file under ``folder``, and a message for each file that cannot be used."""
    units, problems = [], []
    seen: dict[tuple[str, str], str] = {}
    paths = sorted(folder.glob("*/*.json")) if folder.is_dir() else []
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"`{path.parent.name}/{path.name}`: unreadable ({error})")
            continue
        if not isinstance(record, dict):
            problems.append(f"`{path.parent.name}/{path.name}`: not a JSON object")
            continue
        dataset = str(record.get("dataset") or path.parent.name)
        method = str(record.get("method") or path.stem)
        status = record.get("status")
        accuracy = record.get("test_accuracy")
        valid = isinstance(accuracy, (int, float)) and 0 <= accuracy <= 1
        if status == "ok" and not valid:
            problems.append(
                f"`{path.parent.name}/{path.name}`: status ok without a test accuracy in "
                f"[0, 1] ({accuracy!r}); counted as failed"
            )
            status = "failed"
        elif status != "ok":
            if status != "failed":
                problems.append(
                    f"`{path.parent.name}/{path.name}`: status {status!r}; counted as failed"
                )
            status = "failed"
        seconds = record.get("seconds")
        if (dataset, method) in seen:
            problems.append(
                f"`{path.parent.name}/{path.name}`: a second result for {method} on {dataset} "
                f"(first: `{seen[dataset, method]}`); left out"
            )
            continue
        seen[dataset, method] = f"{path.parent.name}/{path.name}"
        units.append(
            Unit(
                dataset=dataset,
                method=method,
                status=status,
                accuracy=float(accuracy) if status == "ok" else None,
                seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
                cores=cores if isinstance(cores := record.get("cores_per_unit"), int) else 1,
                record=record,
            )
        )
    return units, problems


def method_order(methods: set[str]) -> list[str]:
    """The known methods in the usual order, then the others, sorted."""
    return [m for m in METHOD_ORDER if m in methods] + sorted(methods - set(METHOD_ORDER))


def head_of(chosen: object) -> str:
    """The read-out head of a chosen RNTK candidate, e.g. ``bi-mean``; ``""`` if unknown."""
    if not isinstance(chosen, dict):
        return ""
    if isinstance(chosen.get("head"), str):
        head = chosen["head"]
    else:
        params = chosen.get("params") if isinstance(chosen.get("params"), dict) else chosen
        if "readout" not in params:
            return ""
        head = ("bi-" if params.get("bidirectional") else "") + str(params["readout"])
    stride = chosen.get("pool_stride")
    return head + (f", stride {stride}" if isinstance(stride, int) and stride > 1 else "")


# --------------------------------------------------------------------------- formatting


def percent(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage, or the missing mark."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{100 * value:.{digits}f}"


def p_value_text(value: float) -> str:
    """A p-value with three significant digits."""
    return MISSING if not math.isfinite(value) else f"{value:.3g}"


def duration(seconds: float) -> str:
    """Seconds as ``2 h 05 min``, ``3 min 07 s`` or ``12.3 s``."""
    if seconds >= 3600:
        hours, rest = divmod(round(seconds), 3600)
        return f"{hours} h {rest // 60:02d} min"
    if seconds >= 60:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    return f"{seconds:.1f} s"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """A Markdown table; ``align`` has one ``l`` or ``r`` per column."""
    rule = ["---" if side == "l" else "---:" for side in align]
    return [
        "| " + " | ".join(cells) + " |"
        for cells in (list(header), rule, *(list(map(str, row)) for row in rows))
    ]


def error_summary(error: object) -> str:
    """The last line of a traceback, shortened, safe inside a Markdown table."""
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    text = lines[-1] if lines else "(no error text)"
    text = text.replace("|", "\\|")
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Results:
    """The result files arranged by data set and method."""

    datasets: list[str]
    methods: list[str]
    #: (dataset, method) -> unit.
    units: dict[tuple[str, str], Unit]
    #: Test accuracies, shape (n_sets, n_methods); NaN if missing or failed.
    table: np.ndarray

    def info(self, dataset: str) -> dict:
        """The ``dataset_info`` of the first unit of a set that has one."""
        for method in self.methods:
            unit = self.units.get((dataset, method))
            if unit is not None and isinstance(unit.record.get("dataset_info"), dict):
                return unit.record["dataset_info"]
        return {}


def arrange(units: list[Unit]) -> Results:
    """The units as a per-set accuracy table."""
    datasets = sorted({unit.dataset for unit in units}, key=str.casefold)
    methods = method_order({unit.method for unit in units})
    by_key = {(unit.dataset, unit.method): unit for unit in units}
    table = np.full((len(datasets), len(methods)), np.nan)
    for row, dataset in enumerate(datasets):
        for column, method in enumerate(methods):
            unit = by_key.get((dataset, method))
            if unit is not None and unit.accuracy is not None:
                table[row, column] = unit.accuracy
    return Results(datasets, methods, by_key, table)


def length_text(info: dict) -> str:
    """``150`` or ``7-29`` for unequal lengths."""
    shortest, longest = info.get("min_length"), info.get("max_length")
    if shortest is None and longest is None:
        return MISSING
    if shortest is None or longest is None or shortest == longest:
        return str(longest if longest is not None else shortest)
    return f"{shortest}-{longest}"


def per_set_section(results: Results) -> list[str]:
    """Section 1: every data set and method."""
    lines = [
        "## 1. Test accuracy per data set (%)",
        "",
        "Each method's test accuracy on the archive's default split; the best of a row in "
        f"bold, `failed` for a unit that failed, `{MISSING}` for one not run (or not finished). "
        "The RNTK's rule is the protocol rule the driver applied to the set, its head the "
        "read-out head chosen by cross-validation.",
        "",
    ]
    if not results.datasets:
        return lines[:2] + ["No result files."]
    header = ["Data set", "train", "test", "length", "classes", "channels", *results.methods]
    header += ["RNTK rule", "RNTK head"]
    rows = []
    for row, dataset in enumerate(results.datasets):
        info = results.info(dataset)
        accuracies = results.table[row]
        best = np.nanmax(accuracies) if np.isfinite(accuracies).any() else np.nan
        cells = []
        for column, method in enumerate(results.methods):
            unit = results.units.get((dataset, method))
            if unit is None:
                cells.append(MISSING)
            elif unit.status != "ok":
                cells.append("failed")
            else:
                text = percent(unit.accuracy)
                bold = len(results.methods) > 1 and accuracies[column] >= best - TIE_TOLERANCE
                cells.append(f"**{text}**" if bold else text)
        reference = results.units.get((dataset, REFERENCE))
        rule = str(reference.record.get("rule") or MISSING) if reference else MISSING
        head = head_of(reference.record.get("chosen")) if reference else ""
        facts = [info.get(key, MISSING) for key in ("n_train", "n_test")]
        facts += [length_text(info), info.get("n_classes", MISSING), info.get("channels", MISSING)]
        rows.append([dataset, *map(str, facts), *cells, rule, head or MISSING])
    align = "lrrrrr" + "r" * len(results.methods) + "ll"
    return lines + markdown_table(header, rows, align)


def summary_section(results: Results) -> list[str]:
    """Section 2: the computed methods over the sets every one of them has."""
    lines = ["## 2. Summary over the common sets", ""]
    common = common_sets(results.table)
    if not results.methods or common.count == 0:
        return lines + ["No data set has a result for every computed method yet."]
    kept = set(common.rows.tolist())
    left_out = [d for i, d in enumerate(results.datasets) if i not in kept]
    lines.append(
        f"Over the {common.count} of {len(results.datasets)} data sets where every computed "
        f"method has a result"
        + (f" (left out: {', '.join(left_out)})." if left_out else ".")
        + " Rank 1 is the most accurate (ties share the mean rank). P90 and P95: the share of "
        "the sets on which a method reaches at least 90% (95%) of the best accuracy among "
        "these methods on that set; PMA: the mean over the sets of accuracy / best accuracy."
    )
    lines.append("")
    means, rank_means = mean_accuracy(common.table), mean_ranks(common.table)
    shares90, shares95, ratios = p90(common.table), p95(common.table), pma(common.table)
    rows = [
        [
            method,
            percent(means[i]),
            f"{rank_means[i]:.2f}",
            percent(shares90[i], 1),
            percent(shares95[i], 1),
            percent(ratios[i]),
        ]
        for i, method in enumerate(results.methods)
    ]
    header = ["Method", "mean accuracy (%)", "mean rank", "P90 (%)", "P95 (%)", "PMA (%)"]
    return lines + markdown_table(header, rows, "lrrrrr")


def published_table(results: Results, published: Published) -> tuple[list[str], np.ndarray]:
    """The published columns on the report's data sets: labels and (n_sets, n_columns)."""
    labels = list(published.columns)
    table = np.full((len(results.datasets), len(labels)), np.nan)
    for column, label in enumerate(labels):
        for row, dataset in enumerate(results.datasets):
            table[row, column] = published.columns[label].get(dataset, np.nan)
    return labels, table


def pairwise_section(results: Results, published: Published) -> list[str]:
    """Section 3: the RNTK against each other method, computed and published."""
    lines = ["## 3. The RNTK against each other method", ""]
    if REFERENCE not in results.methods:
        return lines + ["No RNTK result yet."]
    labels, published_values = published_table(results, published)
    names = results.methods + labels
    table = np.hstack([results.table, published_values])
    comparisons = compare_against(table, names.index(REFERENCE))
    lines.append(
        "Each row over the sets where both the RNTK and the other method have a result "
        "(`sets`), so the RNTK's mean differs between rows. W/T/L: the RNTK's wins, ties and "
        f"losses (accuracies within {TIE_TOLERANCE:g} are a tie). p: two-sided Wilcoxon "
        "signed-rank test on the paired accuracies, ties dropped (`zero_method='wilcox'`); "
        "Holm: Holm's step-down adjustment over all the rows of this table. Published "
        "columns are other people's runs on the same splits (sources below)."
    )
    lines.append("")
    rows = []
    for comparison in comparisons:
        rows.append(
            [
                names[comparison.column],
                str(comparison.n_sets),
                percent(comparison.reference_mean),
                percent(comparison.other_mean),
                f"{comparison.wins}/{comparison.ties}/{comparison.losses}",
                p_value_text(comparison.p_value),
                p_value_text(comparison.p_holm),
            ]
        )
    header = ["Against", "sets", "RNTK (%)", "other (%)", "W/T/L", "p", "p (Holm)"]
    return lines + markdown_table(header, rows, "lrrrrrr")


def regret_section(results: Results) -> list[str]:
    """Section 4: the selection regret of the RNTK, by the vote and by the best candidate."""
    lines = ["## 4. Selection regret of the RNTK (diagnostic)", ""]
    rows, regrets, single_regrets, small = [], [], [], []
    for dataset in results.datasets:
        unit = results.units.get((dataset, REFERENCE))
        variants = unit.record.get("variants") if unit else None
        if unit is None or unit.accuracy is None or not isinstance(variants, dict):
            continue
        scores = {
            head: float(value)
            for head, value in variants.items()
            if isinstance(value, (int, float)) and math.isfinite(value)
        }
        if not scores:
            continue
        heads = [h for h in HEADS if h in scores] + sorted(set(scores) - set(HEADS))
        best_head = max(heads, key=lambda head: scores[head])
        regret = scores[best_head] - unit.accuracy
        regrets.append(regret)
        single = unit.record.get("best_candidate_accuracy")
        single = float(single) if isinstance(single, (int, float)) else None
        if single is not None:
            single_regrets.append(scores[best_head] - single)
        info = results.info(dataset)
        small.append(isinstance(info.get("n_train"), int) and info["n_train"] <= 60)
        rows.append(
            [
                dataset,
                head_of(unit.record.get("chosen")) or MISSING,
                percent(single) if single is not None else MISSING,
                percent(unit.accuracy),
                ", ".join(f"{h.removeprefix('RNTK-')} {percent(scores[h])}" for h in heads),
                best_head.removeprefix("RNTK-"),
                f"{100 * (scores[best_head] - single):.2f}" if single is not None else MISSING,
                f"{100 * regret:.2f}",
            ]
        )
    if not rows:
        return lines + ["No RNTK result with per-head variants yet."]
    lines.append(
        "For each read-out head, the test accuracy of the candidate with the best "
        "cross-validation score among that head's candidates. The RNTK is their majority "
        "vote (`RNTKClassifierCV(selection='vote')`); `best candidate` is the paper's "
        "protocol, the single candidate with the best cross-validation score over all heads "
        "(its head is `chosen head`). The regret is the best head's accuracy minus the "
        "model's, in percentage points. A diagnostic only: picking the head by its test "
        "accuracy uses the test labels, so the best head is not a method and is not "
        "compared with anything."
    )
    lines.append("")
    header = [
        "Data set",
        "chosen head",
        "best candidate (%)",
        "RNTK vote (%)",
        "each head (%)",
        "best head",
        "regret, best candidate",
        "regret, vote",
    ]
    lines += markdown_table(header, rows, "llrrllrr")
    lines.append("")

    def mean_of(values: list[float], mask=None) -> str:
        chosen = [v for v, keep in zip(values, mask or [True] * len(values), strict=True) if keep]
        return f"{100 * float(np.mean(chosen)):.2f}" if chosen else MISSING

    lines.append(
        f"Mean regret over {len(regrets)} sets: vote {mean_of(regrets)} points (positive on "
        f"{sum(r > TIE_TOLERANCE for r in regrets)} sets)"
        + (
            f", best candidate {mean_of(single_regrets)}"
            if len(single_regrets) == len(regrets)
            else ""
        )
        + "."
    )
    if len(single_regrets) == len(regrets) and any(small):
        lines.append(
            f"On the {sum(small)} sets of at most 60 training series: vote "
            f"{mean_of(regrets, small)}, best candidate {mean_of(single_regrets, small)}."
        )
    return lines


def time_section(results: Results, cores: int = 2) -> list[str]:
    """Section 5: time per method, and the least wall time of the whole run on ``cores``."""
    lines = [
        "## 5. Wall time",
        "",
        "Per method, the sum of the `seconds` of every unit, failed ones included, and the "
        "core time (each unit's seconds times the cores it ran on).",
        "",
    ]
    rows, core_seconds = [], 0.0
    for method in [*results.methods, None]:
        units = [u for (_, m), u in results.units.items() if method is None or m == method]
        ok = sum(u.status == "ok" for u in units)
        spent = sum(u.seconds * u.cores for u in units)
        rows.append(
            [
                method or "all",
                str(len(units)),
                str(ok),
                str(len(units) - ok),
                duration(sum(u.seconds for u in units)),
                duration(spent),
            ]
        )
        core_seconds = spent  # the last row is all of them
    header = ["Method", "units", "ok", "failed", "time", "core time"]
    lines += markdown_table(header, rows, "lrrrrr")
    return lines + [
        "",
        f"On {cores} cores, with every core busy, the whole run takes at least "
        f"{duration(core_seconds / cores)} of wall time.",
    ]


def cd_diagram_section(results: Results, out: Path) -> list[str]:
    """Section 6: aeon's critical-difference diagram over the common sets."""
    lines = ["## 6. Critical-difference diagram", ""]
    # A diagram left by an earlier run must not pass for this one's.
    (out / "cd_diagram.png").unlink(missing_ok=True)
    common = common_sets(results.table)
    if len(results.methods) < 3 or common.count < 2:
        return lines + [
            f"Not drawn: it needs at least 3 methods and 2 common sets "
            f"(here {len(results.methods)} methods, {common.count} common sets)."
        ]
    try:
        import matplotlib

        matplotlib.use("Agg")
        from aeon.visualisation import plot_critical_difference
        from matplotlib import pyplot
    except ImportError as error:
        return lines + [f"Not drawn: {error}."]
    highlight = {REFERENCE: "#c0392b"} if REFERENCE in results.methods else None
    try:
        figure, _ = plot_critical_difference(
            common.table,
            list(results.methods),
            highlight=highlight,
            test="wilcoxon",
            correction="holm",
            alpha=CD_ALPHA,
        )
    except (ValueError, ArithmeticError) as error:
        return lines + [f"Not drawn: aeon's plot_critical_difference failed ({error})."]
    figure.savefig(out / "cd_diagram.png", bbox_inches="tight", dpi=150)
    pyplot.close(figure)
    return lines + [
        f"The {len(results.methods)} computed methods over the {common.count} common sets of "
        "section 2, by aeon's `plot_critical_difference`: each method at its mean rank (the "
        "number printed by it; best, the lowest, on the right). A bar joins methods aeon does "
        f"not tell apart at alpha = {CD_ALPHA}: if a Friedman test on the ranks is not "
        "significant, one bar joins all; otherwise each method, from the best, is tested "
        "against the lower-ranked ones with a one-sided Wilcoxon signed-rank test at "
        "alpha / (number of methods - 1), which aeon calls its Holm correction (a fixed level, "
        "not the step-down adjustment of section 3).",
        "",
        "![critical-difference diagram](cd_diagram.png)",
    ]


#: The kernels the RNTK is set against as one column, the best of them per set.
OTHER_KERNELS = ("RBF", "Polynomial", "MLP-NTK")
BEST_KERNEL = "best other kernel"
#: Bands of the longest series of a set and of its training split, inclusive; None: no bound.
LENGTH_BANDS = ((1, 150), (151, 500), (501, None))
TRAIN_BANDS = ((1, 60), (61, 300), (301, None))


def band_label(band: tuple[int, int | None]) -> str:
    """``1-60`` or ``over 300``."""
    low, high = band
    return f"over {low - 1}" if high is None else f"{low}-{high}"


def in_band(value: object, band: tuple[int, int | None]) -> bool:
    """Whether an integer ``value`` lies in ``band`` (False for a missing value)."""
    low, high = band
    return isinstance(value, int) and value >= low and (high is None or value <= high)


def comparators(results: Results) -> tuple[np.ndarray, list[str]]:
    """MiniRocket, the best of the other kernels per set and DTW, as far as they were run.

    The best-kernel column is the largest accuracy among ``OTHER_KERNELS`` on
    a set, and missing (NaN) unless every one of them that was run has a
    result there, so that it never stands for fewer kernels than it says.
    """
    columns, labels = [], []
    kernels = [results.methods.index(m) for m in OTHER_KERNELS if m in results.methods]
    if kernels:
        columns.append(np.max(results.table[:, kernels], axis=1))  # NaN if any is NaN
        labels.append(BEST_KERNEL)
    for method in ("MiniRocket", "DTW"):
        if method in results.methods:
            columns.append(results.table[:, results.methods.index(method)])
            labels.append(method)
    return np.stack(columns, axis=1) if columns else np.empty((len(results.datasets), 0)), labels


def kind_of_data_section(results: Results, out: Path) -> list[str]:
    """Section 7: the RNTK against MiniRocket, the best other kernel and DTW, by kind of data."""
    lines = ["## 7. By kind of data", ""]
    figure_name = "rntk_against_others.png"
    (out / figure_name).unlink(missing_ok=True)
    others, labels = comparators(results)
    if REFERENCE not in results.methods or not labels:
        return lines + ["Not made: it needs the RNTK and at least one method to set it against."]
    rntk = results.table[:, results.methods.index(REFERENCE)]
    infos = [results.info(dataset) for dataset in results.datasets]
    groups = [("all sets", np.ones(len(infos), dtype=bool))]
    for title, key, bands in (
        ("length", "max_length", LENGTH_BANDS),
        ("training series", "n_train", TRAIN_BANDS),
    ):
        for band in bands:
            inside = np.array([in_band(info.get(key), band) for info in infos], dtype=bool)
            groups.append((f"{title} {band_label(band)}", inside))
    lines += [
        "Each cell: the RNTK's mean accuracy minus the other column's, in points, over the "
        "sets of the row where both have a result, then the RNTK's wins/ties/losses and the "
        "number of those sets. The length is the longest series of a set. "
        f"*{BEST_KERNEL.capitalize()}*: on each set the most accurate of "
        f"{', '.join(m for m in OTHER_KERNELS if m in results.methods)}, so it holds "
        "hindsight the RNTK does not have.",
        "",
    ]
    rows = []
    for name, inside in groups:
        cells = [name]
        for column in range(len(labels)):
            pair = np.stack([rntk, others[:, column]], axis=1)[inside]
            pair = pair[~np.isnan(pair).any(axis=1)]
            if len(pair) == 0:
                cells.append(MISSING)
                continue
            wins, ties, losses = wins_ties_losses(pair, reference=0)[1]
            difference = 100 * (pair[:, 0].mean() - pair[:, 1].mean())
            cells.append(f"{difference:+.1f} ({wins}/{ties}/{losses} of {len(pair)})")
        rows.append(cells)
    lines += markdown_table(
        ["Sets", *(f"RNTK - {label}" for label in labels)], rows, "l" + "r" * len(labels)
    )
    if draw_scatter(rntk, others, labels, infos, out / figure_name):
        lines += [
            "",
            "Per set, the RNTK's accuracy against each other column's (above the diagonal the "
            "RNTK is better), coloured by the length of the series.",
            "",
            f"![the RNTK against the other methods per set]({figure_name})",
        ]
    return lines


def draw_scatter(
    rntk: np.ndarray, others: np.ndarray, labels: list[str], infos: list[dict], path: Path
) -> bool:
    """One panel per column of ``others``: the RNTK's accuracy against it; False if not drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import colors, pyplot
    except ImportError:
        return False
    lengths = np.array([info.get("max_length") or np.nan for info in infos], dtype=float)
    shown = np.isfinite(lengths)
    if not shown.any():
        return False
    norm = colors.LogNorm(vmin=np.nanmin(lengths), vmax=max(np.nanmax(lengths), 2.0))
    figure, axes = pyplot.subplots(
        1, len(labels), figsize=(4 * len(labels) + 1, 4.2), squeeze=False, layout="constrained"
    )
    for axis, column, label in zip(axes[0], others.T, labels, strict=True):
        both = shown & ~np.isnan(rntk) & ~np.isnan(column)
        points = axis.scatter(
            100 * column[both],
            100 * rntk[both],
            c=lengths[both],
            norm=norm,
            cmap="viridis",
            s=22,
            edgecolors="black",
            linewidths=0.3,
        )
        axis.plot([0, 100], [0, 100], color="grey", linewidth=0.8, zorder=0)
        axis.set(xlim=(0, 101), ylim=(0, 101), aspect="equal", xlabel=f"{label} (%)")
        axis.set_title(f"RNTK against {label}", fontsize="medium")
    axes[0][0].set_ylabel("RNTK (%)")
    figure.colorbar(points, ax=axes[0].tolist(), label="series length (longest)")
    figure.savefig(path, bbox_inches="tight", dpi=130)
    pyplot.close(figure)
    return True


def published_section(results: Results, published: Published) -> list[str]:
    """The published columns: source and the report's sets each covers."""
    lines = ["## Published columns", ""]
    if not published.columns:
        lines.append("No published column is available.")
    else:
        lines.append(
            "Accuracies published by others on the archive's default train/test split, read "
            "from files of installed packages (no network); the bake-off's data set names "
            "are mapped to those of the 2018 archive. `DTW_R1_1NN` is 1-NN DTW with a full "
            "window, the computed `DTW`: a check of the driver rather than a competitor."
        )
        lines.append("")
        rows = []
        for label, accuracies in published.columns.items():
            missing = [d for d in results.datasets if d not in accuracies]
            covered = len(results.datasets) - len(missing)
            absent = ", ".join(missing) if missing else MISSING
            rows.append(
                [label, published.sources[label], f"{covered}/{len(results.datasets)}", absent]
            )
        header = ["Column", "source", "report sets covered", "not covered"]
        lines += markdown_table(header, rows, "llrl")
    if published.notes:
        lines += ["", *(f"- {note}" for note in published.notes)]
    return lines


def failures_section(results: Results, problems: list[str]) -> list[str]:
    """The failed units and the files that could not be used."""
    lines = ["## Failed units", ""]
    failed = [u for u in results.units.values() if u.status != "ok"]
    failed.sort(key=lambda u: (u.dataset.casefold(), u.method))
    if failed:
        rows = [
            [u.dataset, u.method, duration(u.seconds), error_summary(u.record.get("error"))]
            for u in failed
        ]
        lines += markdown_table(["Data set", "method", "after", "error (last line)"], rows, "llrl")
    else:
        lines.append("None.")
    if problems:
        lines += ["", "Files not used as they are:", "", *(f"- {p}" for p in problems)]
    return lines


def header_lines(
    results_folder: Path, units: list[Unit], results: Results, command: str
) -> list[str]:
    """Title, command, dates and machines."""
    dates = sorted({str(u.record["date"]) for u in units if u.record.get("date")})
    machines: dict[str, int] = {}
    for unit in units:
        machine = unit.record.get("machine")
        if machine:
            items = sorted(machine.items()) if isinstance(machine, dict) else []
            text = ", ".join(f"{k}: {v}" for k, v in items) if items else str(machine)
            machines[text] = machines.get(text, 0) + 1
    lines = [
        "# UCR archive benchmark: the RNTK against other classifiers",
        "",
        f"Report written {date.today().isoformat()} by `{command}` from "
        f"`{results_folder}`: {len(units)} result files, {len(results.datasets)} data sets, "
        f"computed methods: {', '.join(results.methods) or 'none'}.",
    ]
    if not results_folder.is_dir():
        lines.append("The results folder does not exist.")
    if dates:
        lines.append(f"Results dated {dates[0]}" + (f" to {dates[-1]}." if len(dates) > 1 else "."))
    for text, count in machines.items():
        lines.append(f"Machine ({count} units): {text}.")
    return lines


def write_csv(path: Path, results: Results, published: Published) -> None:
    """``accuracy.csv``: one row per data set, accuracies as fractions (empty if none)."""
    labels, published_values = published_table(results, published)
    facts = ("n_train", "n_test", "min_length", "max_length", "n_classes", "channels")

    def cells(values: np.ndarray) -> list[str]:
        return [repr(float(v)) if math.isfinite(v) else "" for v in values]

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", *facts, *results.methods, "RNTK_rule", "RNTK_head", *labels])
        for row, dataset in enumerate(results.datasets):
            info = results.info(dataset)
            reference = results.units.get((dataset, REFERENCE))
            rntk = ["", ""]
            if reference is not None:
                rntk = [reference.record.get("rule") or "", head_of(reference.record.get("chosen"))]
            writer.writerow(
                [
                    dataset,
                    *(info.get(key, "") for key in facts),
                    *cells(results.table[row]),
                    *rntk,
                    *cells(published_values[row]),
                ]
            )


def report(results_folder: Path, out: Path, command: str) -> str:
    """Write ``REPORT.md``, ``accuracy.csv`` and ``cd_diagram.png`` to ``out``; return the report.

    ``command`` is quoted in the report as the command that wrote it.
    """
    units, problems = read_units(results_folder)
    results = arrange(units)
    published = published_accuracies(reference_names=results.datasets)
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        header_lines(results_folder, units, results, command),
        per_set_section(results),
        summary_section(results),
        pairwise_section(results, published),
        regret_section(results),
        time_section(results),
        cd_diagram_section(results, out),
        kind_of_data_section(results, out),
        published_section(results, published),
        failures_section(results, problems),
    ]
    text = "\n\n".join("\n".join(section) for section in sections) + "\n"
    (out / "REPORT.md").write_text(text, encoding="utf-8")
    write_csv(out / "accuracy.csv", results, published)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help="folder of <DataSet>/<method>.json"
    )
    parser.add_argument("--out", type=Path, help="where to write the report (default: --results)")
    args = parser.parse_args(argv)
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python benchmarks/ucr_archive_report.py", *arguments])
    print(report(args.results, args.out or args.results, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
