"""Figure 4 of the RNTK paper: one-step-ahead kernel regression, RNTK against three kernels.

Every kernel predicts the next value of a time series from a window of its past
``T`` values, by kernel ridge regression (:func:`rntk.predict.kernel_ridge_regression`)
with its own hyperparameters and ridge chosen on a validation split of the
training data. The four panels of the paper's Figure 4:

(a) synthetic sinusoids, varying the input length ``T``;
(b) synthetic sinusoids, varying the input noise;
(c) Google's daily stock price, varying the input length ``T``;
(d) Google's daily stock price, varying the number of training windows.

Task design (ours: the paper does not specify every detail)
-----------------------------------------------------------
Sinusoids
    Each example is its own sinusoid ``s(t) = sin(2 pi f t + phase)`` with a
    random frequency ``f ~ U(0.02, 0.15)`` cycles per step (periods of 7 to 50
    steps) and phase ``~ U(0, 2 pi)``. Input: ``s(0..T-1)`` plus white Gaussian
    noise of standard deviation ``noise``; target: the clean next value
    ``s(T)``. 100 training and 100 test examples per draw, independent.
    Defaults: ``T = 20``, ``noise = 0.1``.
Google stock
    The daily closing price of GOOG from 2004-08-19 to 2013-03-01 (2148
    trading days), read from ``stocks.csv.gz`` of the ``bokeh-sampledata``
    package (public domain). Each draw picks a random origin in the series and
    a forecasting set-up that never looks ahead: ``n_train`` windows of
    ``T + 1`` consecutive days with stride 1 (input: ``T`` closing prices;
    target: the next close), followed by the ``n_test = 50`` windows whose
    targets are the 50 trading days after the last training target. Defaults:
    ``T = 20``, ``n_train = 100``.
Splits
    The last 25 % of the training windows (in time, for the stock; at random,
    for the sinusoids) is the validation split. For each kernel every point of
    its hyperparameter grid and every ridge (relative to the mean diagonal,
    ``10**-10, 10**-9, ..., 10``) is fitted on the other 75 % and scored on
    the validation split; the best is refitted on all training windows and
    scored on the test windows, which play no part in any choice.
Normalisation
    Inputs and targets of a draw are standardised with the mean and standard
    deviation of all training inputs of that draw (for the sinusoids, which
    are centred, only a rescaling; for the stock it removes the price level).
    The SNR is measured in these units.
Score
    ``SNR = 10 log10(sum y**2 / sum (y - y_hat)**2)`` in dB over the test
    windows of a draw, averaged over ``--reps`` draws (the paper: 1000). All
    kernels see the same draws, so differences are paired; the summary reports
    whether the RNTK has the best mean SNR and its margin over the best other
    kernel, with the standard error of the paired difference.
Kernels and grids
    RNTK (20 candidates): one layer, ReLU or erf, ``sigma_w`` in {0.25, 0.5,
    0.8, 1.1, 1.4}, ``sigma_b`` in {0, 1}, ``sigma_u = 1``, ``sigma_h = 0``.
    RBF (9): ``gamma = g / T``, g in {0.001, 0.003, ..., 10} (half decades).
    Polynomial (16): degree 1 to 4, ``gamma = g / T`` with g in {0.1, 1, 10,
    100}, ``coef0 = 1``. NTK of a ReLU MLP (15): 1 to 3 hidden layers,
    ``sigma_w = sqrt(2)``, ``sigma_b`` in {0, 0.5, 1, 2, 4}. The vector kernels
    see the window as a vector of ``T`` numbers. On the stock several
    selections sit on a grid edge that leads towards one limit, a nearly
    linear predictor from the last values (RNTK ``sigma_w`` 0.25, RBF
    ``gamma`` 0.001 / T, polynomial ``gamma`` 100 / T): the series is close
    to a random walk, for which the last price is the best forecast.

Usage::

    python examples/fig4_regression.py              # 20 draws per point, ~4 min
    python examples/fig4_regression.py --reps 1000  # the paper's averaging, ~3 h
    python examples/fig4_regression.py --quick      # 3 points per panel, 2 draws, ~10 s

(times on two busy cores; the cost grows linearly with ``--reps``).

Writes ``fig4_regression.png`` and ``results.json`` to ``--out`` (default
``results/fig4_regression/``).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import importlib.util
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import Progress, example_arguments, example_parser, pyplot, write_results

import rntk
from rntk.baselines import mlp_ntk, polynomial_kernel, rbf_kernel
from rntk.predict import NotPositiveDefiniteError, kernel_ridge_regression

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # installed with scikit-learn; without it BLAS keeps its threads
    threadpool_limits = None

RIDGES = 10.0 ** np.arange(-10, 2)  # relative to trace(K) / n
VALIDATION_FRACTION = 0.25
SINUSOID_FREQUENCIES = (0.02, 0.15)  # cycles per step
STOCK_TEST_WINDOWS = 50

KERNELS: dict[str, Callable] = {
    "RNTK": rntk.kernel,
    "RBF": rbf_kernel,
    "Polynomial": polynomial_kernel,
    "NTK (MLP)": mlp_ntk,
}


def hyperparameter_grid(name: str, length: int) -> list[dict]:
    """Keyword arguments of every candidate of kernel ``name`` for windows of ``length``."""
    if name == "RNTK":
        return [
            {"activation": activation, "sigma_w": sigma_w, "sigma_u": 1.0, "sigma_b": sigma_b}
            for activation in ("relu", "erf")
            for sigma_w in (0.25, 0.5, 0.8, 1.1, 1.4)
            for sigma_b in (0.0, 1.0)
        ]
    if name == "RBF":
        return [{"gamma": float(g / length)} for g in 10.0 ** np.arange(-3.0, 1.5, 0.5)]
    if name == "Polynomial":
        return [
            {"degree": degree, "gamma": g / length, "coef0": 1.0}
            for degree in (1, 2, 3, 4)
            for g in (0.1, 1.0, 10.0, 100.0)
        ]
    if name == "NTK (MLP)":
        return [
            {"depth": depth, "sigma_w": float(np.sqrt(2.0)), "sigma_b": sigma_b}
            for depth in (1, 2, 3)
            for sigma_b in (0.0, 0.5, 1.0, 2.0, 4.0)
        ]
    raise ValueError(name)


# --- data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """One regression problem: windows (n, T) and next values (n,)."""

    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    chronological: bool  # validation = last training windows (else a random subset)


def sinusoid_draw(rng, length: int, noise: float, n_train: int = 100, n_test: int = 100) -> Draw:
    """Independent sinusoids of random frequency and phase; target = clean next value."""
    n = n_train + n_test
    frequency = rng.uniform(*SINUSOID_FREQUENCIES, size=(n, 1))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    clean = np.sin(2.0 * np.pi * frequency * np.arange(length + 1) + phase)
    inputs = clean[:, :length] + noise * rng.standard_normal((n, length))
    targets = clean[:, length]
    return Draw(inputs[:n_train], targets[:n_train], inputs[n_train:], targets[n_train:], False)


def load_google_closes() -> np.ndarray:
    """GOOG daily closing prices 2004-2013 from the bokeh-sampledata package, in date order."""
    spec = importlib.util.find_spec("bokeh_sampledata")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "fig4_regression needs the bokeh-sampledata package for the Google stock "
            "series: pip install bokeh-sampledata"
        )
    path = Path(spec.origin).parent / "_data" / "stocks.csv.gz"
    with gzip.open(path, "rt", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Ticker"] == "GOOG"]
    rows.sort(key=lambda row: row["Date"])
    return np.array([float(row["Close"]) for row in rows])


def stock_draw(rng, series: np.ndarray, length: int, n_train: int = 100) -> Draw:
    """Consecutive training windows from a random origin, then the next test windows."""
    n = n_train + STOCK_TEST_WINDOWS
    start = rng.integers(0, len(series) - (n + length) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(
        series[start : start + n + length], length + 1
    )
    inputs, targets = windows[:, :length], windows[:, length]
    return Draw(inputs[:n_train], targets[:n_train], inputs[n_train:], targets[n_train:], True)


# --- evaluation -------------------------------------------------------------------


def snr_db(targets: np.ndarray, predictions: np.ndarray) -> float:
    """``10 log10(sum y^2 / sum (y - y_hat)^2)`` (spec section 9)."""
    return float(10.0 * np.log10(np.sum(targets**2) / np.sum((targets - predictions) ** 2)))


def standardised(draw: Draw) -> Draw:
    """Scale inputs and targets by the mean and standard deviation of the training inputs."""
    mean, scale = draw.train_inputs.mean(), draw.train_inputs.std()
    return Draw(
        *(
            (part - mean) / scale
            for part in (draw.train_inputs, draw.train_targets, draw.test_inputs, draw.test_targets)
        ),
        draw.chronological,
    )


def validation_split(n_train: int, chronological: bool, rng) -> tuple[np.ndarray, np.ndarray]:
    n_validation = max(1, int(round(VALIDATION_FRACTION * n_train)))
    order = np.arange(n_train) if chronological else rng.permutation(n_train)
    return np.sort(order[:-n_validation]), np.sort(order[-n_validation:])


def evaluate_draw(draw: Draw, rng) -> dict[str, dict]:
    """Select each kernel's hyperparameters and ridge on validation, then score on test."""
    draw = standardised(draw)
    n_train, length = draw.train_inputs.shape
    fit, validation = validation_split(n_train, draw.chronological, rng)
    train, test = np.arange(n_train), np.arange(n_train, n_train + len(draw.test_targets))
    inputs = np.concatenate([draw.train_inputs, draw.test_inputs])
    targets = draw.train_targets
    results = {}
    for name, kernel in KERNELS.items():
        best = (np.inf, None, None, None)
        for params in hyperparameter_grid(name, length):
            # Test rows are computed with the rest for speed; they play no part in the choice.
            gram = kernel(inputs, **params)
            for ridge in RIDGES:
                try:
                    predicted = kernel_ridge_regression(
                        gram[np.ix_(fit, fit)],
                        targets[fit],
                        gram[np.ix_(validation, fit)],
                        ridge=ridge,
                        relative_ridge=True,
                    )
                except NotPositiveDefiniteError:
                    continue
                error = float(np.mean((predicted - targets[validation]) ** 2))
                if error < best[0]:
                    best = (error, params, ridge, gram)
        _, params, selected_ridge, gram = best
        # A ridge that suits the 75 % may be too small for all windows: then take the next.
        for ridge in RIDGES[RIDGES >= selected_ridge]:
            try:
                predicted = kernel_ridge_regression(
                    gram[np.ix_(train, train)],
                    targets,
                    gram[np.ix_(test, train)],
                    ridge=ridge,
                    relative_ridge=True,
                )
                break
            except NotPositiveDefiniteError:
                continue
        results[name] = {
            "snr_db": snr_db(draw.test_targets, predicted),
            "selected": describe(params, ridge, length),
        }
    return results


def describe(params: dict, ridge: float, length: int) -> str:
    """A short label of a selected candidate (gamma shown as gamma * T)."""
    parts = []
    for key, value in params.items():
        if key == "gamma":
            parts.append(f"gamma*T={value * length:g}")
        elif isinstance(value, float):
            parts.append(f"{key}={value:.3g}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts + [f"ridge={ridge:.0e}"])


# --- panels -----------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    x_label: str
    values: tuple
    make_draw: Callable  # (rng, value) -> Draw


def panels(series: np.ndarray) -> list[Panel]:
    return [
        Panel("a", "(a) sinusoid, input length", "input length T",
              (5, 10, 20, 30, 40, 50), lambda rng, T: sinusoid_draw(rng, T, noise=0.1)),
        Panel("b", "(b) sinusoid, input noise", "input noise (std)",
              (0.0, 0.05, 0.1, 0.2, 0.5, 1.0), lambda rng, s: sinusoid_draw(rng, 20, noise=s)),
        Panel("c", "(c) Google stock, input length", "input length T",
              (5, 10, 20, 30, 40, 50), lambda rng, T: stock_draw(rng, series, T)),
        Panel("d", "(d) Google stock, training-set size", "training windows",
              (25, 50, 100, 200, 400), lambda rng, n: stock_draw(rng, series, 20, n_train=n)),
    ]  # fmt: skip


def run_panel(panel: Panel, index: int, reps: int, seed: int, progress: Progress) -> dict:
    snr = {name: np.empty((len(panel.values), reps)) for name in KERNELS}
    selections = {name: [Counter() for _ in panel.values] for name in KERNELS}
    for position, value in enumerate(panel.values):
        for rep in range(reps):
            rng = np.random.default_rng([seed, index, position, rep])
            outcome = evaluate_draw(panel.make_draw(rng, value), rng)
            for name, result in outcome.items():
                snr[name][position, rep] = result["snr_db"]
                selections[name][position][result["selected"]] += 1
            progress.advance(note=f"panel {panel.key}, {panel.x_label} = {value:g}")
    return summarise_panel(panel, snr, selections)


def summarise_panel(panel: Panel, snr: dict, selections: dict) -> dict:
    reps = next(iter(snr.values())).shape[1]

    def sem(values, axis=-1):
        return (
            np.std(values, axis=axis, ddof=1) / np.sqrt(reps) if reps > 1 else 0.0 * values[..., 0]
        )

    means = {name: values.mean(axis=1) for name, values in snr.items()}
    others = [name for name in KERNELS if name != "RNTK"]
    best_other = [max(others, key=lambda name: means[name][i]) for i in range(len(panel.values))]
    margins = np.array([means["RNTK"][i] - means[o][i] for i, o in enumerate(best_other)])
    paired = np.array(
        [snr["RNTK"][i] - snr[o][i] for i, o in enumerate(best_other)]
    )  # (settings, reps)
    return {
        "title": panel.title,
        "x_label": panel.x_label,
        "x": list(panel.values),
        "kernels": {
            name: {
                "snr_db_mean": means[name].tolist(),
                "snr_db_sem": np.atleast_1d(sem(snr[name])).tolist(),
                "snr_db_draws": np.round(snr[name], 4).tolist(),
                "most_selected": [c.most_common(1)[0][0] for c in selections[name]],
            }
            for name in KERNELS
        },
        "best_other_kernel": best_other,
        "rntk_margin_db": margins.tolist(),
        "rntk_margin_sem": np.atleast_1d(sem(paired)).tolist(),
        "rntk_wins": (margins > 0).tolist(),
    }


def verdict(result: dict) -> str:
    margins = np.array(result["rntk_margin_db"])
    errors = np.array(result["rntk_margin_sem"])
    wins = int(np.sum(margins > 0))
    clear_wins, clear_losses = int(np.sum(margins > 2 * errors)), int(np.sum(margins < -2 * errors))
    return (
        f"{result['title']}: RNTK best at {wins}/{len(margins)} points; margin over the best "
        f"other kernel {margins.mean():+.2f} dB on average ({margins.min():+.2f} to "
        f"{margins.max():+.2f} dB); beyond 2 standard errors: {clear_wins} wins, "
        f"{clear_losses} losses"
    )


def plot(results: dict, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    for axis, result in zip(axes.flat, results.values(), strict=True):
        for name, values in result["kernels"].items():
            axis.errorbar(
                result["x"],
                values["snr_db_mean"],
                yerr=values["snr_db_sem"],
                marker="o",
                capsize=3,
                linewidth=2.5 if name == "RNTK" else 1.2,
                label=name,
            )
        axis.set_title(result["title"])
        axis.set_xlabel(result["x_label"])
        axis.set_ylabel("test SNR (dB)")
        if result["x_label"].startswith("training"):
            axis.set_xscale("log")
            axis.minorticks_off()
            axis.set_xticks(result["x"], labels=[f"{x:g}" for x in result["x"]])
        axis.grid(alpha=0.3)
    axes.flat[0].legend()
    figure.suptitle("Kernel regression, one-step-ahead (mean and standard error over draws)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    description = __doc__.splitlines()[0]
    parser = example_parser("fig4_regression", description)
    parser.add_argument("--reps", type=int, default=20, help="draws per point (paper: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of all draws")
    args = example_arguments("fig4_regression", description, parser)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    reps = 2 if args.quick else args.reps  # --quick: also only 3 points per panel

    all_panels = panels(load_google_closes())
    if args.quick:
        all_panels = [
            Panel(p.key, p.title, p.x_label, p.values[::2][:3], p.make_draw) for p in all_panels
        ]
    start = time.perf_counter()
    progress = Progress(reps * sum(len(p.values) for p in all_panels), "fig4 draws")
    # The matrices are small (n <= 450): threaded BLAS costs more than it saves, up
    # to 30x on a busy machine. The kernels keep their own threads.
    single_blas = threadpool_limits(1, "blas") if threadpool_limits else contextlib.nullcontext()
    with single_blas:
        results = {
            panel.key: run_panel(panel, index, reps, args.seed, progress)
            for index, panel in enumerate(all_panels)
        }
    progress.close()
    seconds = time.perf_counter() - start

    plot(results, args.out / "fig4_regression.png")
    summary = [verdict(result) for result in results.values()]
    write_results(
        args.out,
        {
            "reps": reps,
            "seed": args.seed,
            "quick": args.quick,
            "ridges_relative": RIDGES,
            "validation_fraction": VALIDATION_FRACTION,
            "grids_for_T_20": {name: hyperparameter_grid(name, 20) for name in KERNELS},
            "panels": results,
            "summary": summary,
            "seconds": seconds,
        },
    )

    caveat = " (--quick: a smoke test, too few draws to compare kernels)" if args.quick else ""
    print(f"Figure 4, {reps} draw(s) per point, {seconds:.0f} s{caveat}")
    for result in results.values():
        print(f"\n{result['title']}  (mean test SNR in dB; * = best)")
        names = list(result["kernels"])
        print(f"  {result['x_label']:>20}" + "".join(f"{name:>12}" for name in names))
        for i, x in enumerate(result["x"]):
            row = [result["kernels"][name]["snr_db_mean"][i] for name in names]
            best = int(np.argmax(row))
            cells = "".join(
                f"{value:>11.2f}{'*' if j == best else ' '}" for j, value in enumerate(row)
            )
            print(f"  {x:>20g}{cells}")
    print("\nSummary (paper: the RNTK wins across the board, less so at high input noise):")
    for line in summary:
        print("  " + line)
    print(f"\nWrote {args.out / 'fig4_regression.png'} and {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
