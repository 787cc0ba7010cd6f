"""Figure 3 of the RNTK paper: how much each time step moves the kernel.

For random Gaussian pairs ``(x, x2)`` of univariate sequences of length T, the
per-step sensitivity ``S_t = |d Theta(x, x2) / d x_t|`` (exact, through the
recursion: :func:`rntk.sensitivity.sensitivity`) is averaged over the pairs, for
ReLU (top row) and erf (bottom row). Each panel varies one of
``(sigma_w, sigma_u, sigma_b, sigma_h)`` around a base setting; the curves are
divided by their maximum and drawn on a log scale.

The paper's claims (spec section 9): ReLU with ``sigma_w`` near ``sqrt(2)``
weights the steps nearly evenly; erf concentrates on the early or on the late
steps depending on the hyperparameters. Each curve is summarised by

* ``thirds``: the mean of S_t over the first, middle and last third of the
  steps, and ``spread``: the largest of them over the smallest (1 = even);
  means over many steps and pairs, so robust to the noise of single steps;
* ``center``: the sensitivity-weighted mean position of the step in [0, 1]
  (0 = all weight on the first step, 1 = on the last, 0.5 for an even profile).

A curve counts as even if ``spread <= 2``, otherwise as early, middle or late
by its largest third. Claim 1 holds if, in the ``sigma_w`` sweep, the curve at
``sqrt(2)`` is even and the flattest; the summary also lists the curves of the
other ReLU panels (all at ``sigma_w = sqrt(2)``) that are not even. Claim 2
holds if the erf row has both early and late curves.

    python examples/fig3_sensitivity.py            # about 35 s
    python examples/fig3_sensitivity.py --quick    # about 3 s

Writes ``fig3_sensitivity.png`` and ``results.json`` to ``--out`` (default
``results/fig3_sensitivity/``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from _common import Progress, example_arguments, pyplot, write_results

from rntk.sensitivity import sensitivity

SQRT2 = float(np.sqrt(2.0))

#: Base settings and the values each panel sweeps, per activation.
GRID = {
    "relu": {
        "base": {"sigma_w": SQRT2, "sigma_u": 1.0, "sigma_b": 0.1, "sigma_h": 0.0},
        "sweeps": {
            "sigma_w": [1.2, 1.35, SQRT2, 1.5, 1.6],
            "sigma_u": [0.5, 1.0, 2.0],
            "sigma_b": [0.1, 0.5, 1.0, 2.0],
            "sigma_h": [0.0, 0.5, 1.0, 2.0],
        },
    },
    "erf": {
        "base": {"sigma_w": 1.5, "sigma_u": 0.01, "sigma_b": 0.1, "sigma_h": 0.0},
        "sweeps": {
            "sigma_w": [0.5, 1.0, 1.5, 2.0],
            "sigma_u": [0.01, 0.1, 0.5, 1.0],
            "sigma_b": [0.0, 0.1, 1.0, 2.0],
            "sigma_h": [0.0, 0.5, 1.0, 2.0],
        },
    },
}

#: A profile is even if its thirds differ by at most this factor.
EVEN_SPREAD = 2.0


def profile_statistics(profile: np.ndarray) -> dict:
    """The summary numbers of one averaged sensitivity profile."""
    position = np.linspace(0.0, 1.0, len(profile))
    thirds = [float(part.mean()) for part in np.array_split(profile, 3)]
    spread = max(thirds) / min(thirds)
    shape = "even" if spread <= EVEN_SPREAD else ("early", "middle", "late")[int(np.argmax(thirds))]
    return {
        "thirds": thirds,
        "spread": spread,
        "first_over_last": float(profile[0] / profile[-1]),
        "center": float(np.sum(position * profile) / np.sum(profile)),
        "shape": shape,
    }


def run_grid(pairs) -> list[dict]:
    """Average the sensitivity over the pairs for every curve of the grid."""
    curves = []
    settings = [
        (activation, name, value)
        for activation, spec in GRID.items()
        for name, values in spec["sweeps"].items()
        for value in values
    ]
    progress = Progress(len(settings), "fig3 curves")
    for activation, name, value in settings:
        params = {**GRID[activation]["base"], name: value}
        profile = np.mean(
            [sensitivity(x, x2, activation=activation, **params) for x, x2 in pairs], axis=0
        )
        progress.advance(note=f"{activation} {name}={value:.3g}")
        curves.append(
            {
                "activation": activation,
                "varied": name,
                "value": value,
                "parameters": params,
                "profile": profile.tolist(),
                **profile_statistics(profile),
            }
        )
    progress.close()
    return curves


def verdicts(curves: list[dict]) -> dict:
    """Whether the numbers show the paper's two claims (criteria in the module docstring)."""
    relu = [c for c in curves if c["activation"] == "relu"]
    sweep = [c for c in relu if c["varied"] == "sigma_w"]
    critical = next(c for c in sweep if c["value"] == SQRT2)
    flattest = min(sweep, key=lambda c: c["spread"])
    uneven_at_sqrt2 = [
        f"{c['varied']}={c['value']:.3g} ({c['shape']}, spread {c['spread']:.3g})"
        for c in relu
        if c["varied"] != "sigma_w" and c["shape"] != "even"
    ]
    erf_shapes = {c["shape"] for c in curves if c["activation"] == "erf"}
    return {
        "relu_even_near_sqrt2": critical["shape"] == "even" and flattest is critical,
        "relu_sigma_w_spread": {c["value"]: c["spread"] for c in sweep},
        "relu_uneven_at_sqrt2_in_other_panels": uneven_at_sqrt2,
        "erf_early_and_late": {"early", "late"} <= erf_shapes,
        "erf_shapes": sorted(erf_shapes),
    }


def plot(curves: list[dict], path: Path) -> None:
    plt = pyplot()
    sweeps = list(GRID["relu"]["sweeps"])
    figure, axes = plt.subplots(2, len(sweeps), figsize=(4 * len(sweeps), 6.5), sharex=True)
    labels = {
        "sigma_w": r"$\sigma_w$",
        "sigma_u": r"$\sigma_u$",
        "sigma_b": r"$\sigma_b$",
        "sigma_h": r"$\sigma_h$",
    }
    for row, activation in enumerate(GRID):
        base = GRID[activation]["base"]
        for column, name in enumerate(sweeps):
            axis = axes[row, column]
            for curve in curves:
                if curve["activation"] != activation or curve["varied"] != name:
                    continue
                profile = np.asarray(curve["profile"])
                steps = np.arange(1, len(profile) + 1)
                axis.semilogy(steps, profile / profile.max(), label=f"{curve['value']:.3g}")
            # At least one decade, so that a flat profile looks flat.
            axis.set_ylim(min(axis.get_ylim()[0], 0.1), 1.5)
            fixed = ", ".join(f"{labels[k]}={v:.3g}" for k, v in base.items() if k != name)
            axis.set_title(f"{activation}: {fixed}", fontsize=9)
            axis.legend(title=labels[name], fontsize=8, title_fontsize=9)
            if column == 0:
                axis.set_ylabel(r"$S_t / \max_t S_t$")
            if row == 1:
                axis.set_xlabel("time step t")
    figure.suptitle(
        r"Per-step sensitivity $\|\partial\Theta(x, x')/\partial x_t\|$, "
        "averaged over Gaussian pairs"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    args = example_arguments("fig3_sensitivity", __doc__.splitlines()[0])

    length, n_pairs = (20, 10) if args.quick else (50, 200)
    rng = np.random.default_rng(0)
    # The same pairs for every curve, so the curves differ only by the hyperparameters.
    pairs = [(rng.standard_normal(length), rng.standard_normal(length)) for _ in range(n_pairs)]

    start = time.perf_counter()
    curves = run_grid(pairs)
    seconds = time.perf_counter() - start
    claims = verdicts(curves)

    results = {
        "length": length,
        "n_pairs": n_pairs,
        "criteria": {
            "even_spread_at_most": EVEN_SPREAD,
        },
        "seconds": seconds,
        "claims": claims,
        "curves": curves,
    }
    write_results(args.out, results)
    plot(curves, args.out / "fig3_sensitivity.png")

    print(
        f"Per-step sensitivity, T = {length}, mean over {n_pairs} Gaussian pairs ({seconds:.1f} s)"
    )
    print(
        f"{'kernel':<6} {'varied':<8} {'value':>6} {'first/last':>11} {'spread':>9} "
        f"{'center':>7}  shape"
    )
    for c in curves:
        print(
            f"{c['activation']:<6} {c['varied']:<8} {c['value']:>6.3g} "
            f"{c['first_over_last']:>11.3g} {c['spread']:>9.3g} {c['center']:>7.2f}  "
            f"{c['shape']}"
        )
    sweep = ", ".join(f"{k:.3g}: {v:.3g}" for k, v in claims["relu_sigma_w_spread"].items())
    exceptions = "; ".join(claims["relu_uneven_at_sqrt2_in_other_panels"]) or "none"
    print(
        f"Claim 1 (ReLU near sigma_w = sqrt(2) weights steps evenly): "
        f"{'shown' if claims['relu_even_near_sqrt2'] else 'NOT shown'}; spread of the thirds "
        f"over the sigma_w sweep (even means <= {EVEN_SPREAD:g}): {sweep}. "
        f"Not even at sigma_w = sqrt(2) in the other panels: {exceptions}"
    )
    print(
        f"Claim 2 (erf concentrates on early or late steps): "
        f"{'shown' if claims['erf_early_and_late'] else 'NOT shown'}; erf shapes: "
        f"{', '.join(claims['erf_shapes'])}"
    )
    print(f"wrote {args.out / 'results.json'} and {args.out / 'fig3_sensitivity.png'}")


if __name__ == "__main__":
    main()
