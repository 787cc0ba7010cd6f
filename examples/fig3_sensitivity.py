# %% [markdown]
# # Figure 3 of the RNTK paper: how much each time step moves the kernel
#
# Alemohammad, Wang, Balestriero, Baraniuk, "The Recurrent Neural Tangent
# Kernel", ICLR 2021 (arXiv:2006.10246), Figure 3.
#
# A recurrent kernel may, depending on its hyperparameters, look mostly at the
# last few steps of a sequence (it forgets), mostly at the first ones, or at
# all of them alike. The per-step sensitivity measures it: for a pair of
# sequences `(x, x2)`,
#
#     S_t = |d Theta(x, x2) / d x_t|,
#
# computed exactly through the recursion by `rntk.sensitivity` (no finite
# differences). The paper's claims: ReLU with `sigma_w` near `sqrt(2)` weighs
# the steps nearly evenly; erf concentrates on the early or on the late steps
# depending on the hyperparameters.
#
# Run it whole with `python examples/fig3_sensitivity.py` (about 60 s;
# `--quick`: shorter sequences and fewer pairs, about 5 s; `--out DIR`) or
# cell by cell as a notebook (`RNTK_EXAMPLES_QUICK=1` for the small run). It
# writes `fig3_sensitivity.png` and `results.json` to
# `results/fig3_sensitivity/`.

# %%
import time

import numpy as np
from _common import Progress, example_arguments, pyplot, show, write_results

from rntk import sensitivity

# %% [markdown]
# ## Settings
#
# The sequence length and the number of random pairs; for each activation a
# base setting and the values each panel sweeps (one hyperparameter at a time,
# the others at the base); the threshold of an "even" profile; and the
# settings and pairs of the read-out head comparison (the bottom row).

# %%
args = example_arguments(
    "fig3_sensitivity", "Figure 3 of the RNTK paper: how much each time step moves the kernel."
)
LENGTH, N_PAIRS = (20, 10) if args.quick else (50, 200)
SEED = 0
SQRT2 = float(np.sqrt(2.0))
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
# A profile is even if its thirds differ by at most this factor.
EVEN_SPREAD = 2.0
# The sigma_w of the head comparison (bottom row), on each activation's base.
HEAD_SWEEP = {"relu": [1.0, SQRT2, 1.5], "erf": [0.5, 1.0, 1.5]}
# The mean head costs O(T^2) per pair, against O(T) for the last step, and its
# thirds are stable to a few percent at 30 pairs.
HEAD_PAIRS = 50

# %% [markdown]
# ## The pairs and the summary of a profile
#
# The same random Gaussian pairs of univariate sequences of length `T` for
# every curve, so that the curves differ only by the hyperparameters. A
# profile is `S_t` averaged over the pairs; it is summarised by
#
# * `thirds`: the mean of `S_t` over the first, middle and last third of the
#   steps, and `spread`: the largest of them over the smallest (1 = even);
#   means over many steps and pairs, so robust to the noise of single steps;
# * `center`: the sensitivity-weighted mean position of the step in `[0, 1]`
#   (0 = all weight on the first step, 1 = on the last, 0.5 for an even
#   profile);
# * `shape`: `even` if `spread <= 2`, otherwise `early`, `middle` or `late` by
#   its largest third.

# %%
rng = np.random.default_rng(SEED)
pairs = [(rng.standard_normal(LENGTH), rng.standard_normal(LENGTH)) for _ in range(N_PAIRS)]


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


def average_sensitivity(pairs, activation: str, params: dict, readout: str = "last") -> np.ndarray:
    """The per-step sensitivity averaged over the pairs."""
    return np.mean(
        [sensitivity(x, x2, activation=activation, readout=readout, **params) for x, x2 in pairs],
        axis=0,
    )


# %% [markdown]
# ## The sweeps: one curve per setting (rows 1 and 2 of the figure)

# %%
start = time.perf_counter()
settings = [
    (activation, name, value)
    for activation, spec in GRID.items()
    for name, values in spec["sweeps"].items()
    for value in values
]
curves = []
progress = Progress(len(settings), "fig3 curves")
for activation, name, value in settings:
    params = {**GRID[activation]["base"], name: value}
    profile = average_sensitivity(pairs, activation, params)
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
seconds = time.perf_counter() - start

print(f"Per-step sensitivity, T = {LENGTH}, mean over {N_PAIRS} Gaussian pairs ({seconds:.1f} s)")
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

# %% [markdown]
# ## The paper's two claims, tested
#
# Claim 1 holds if, in the ReLU `sigma_w` sweep, the curve at `sqrt(2)` is
# even and the flattest; the summary also lists the curves of the other ReLU
# panels (all at `sigma_w = sqrt(2)`) that are not even. Claim 2 holds if the
# erf row has both early and late curves.
#
# Measured (full run, `T = 50`, 200 pairs): both hold. The spread of the ReLU
# `sigma_w` sweep is 3.5e4 at 1.2, 16 at 1.35, 1.09 at `sqrt(2)`, 12 at 1.5
# and 450 at 1.6: below `sqrt(2)` the kernel forgets the past (late), above it
# the early steps dominate. At `sqrt(2)` only `sigma_b = 2` breaks the even
# profile (spread 3.1, late). The erf curves are early, even or late
# depending on `sigma_w`, `sigma_u` and `sigma_b`.


# %%
def verdicts(curves: list[dict]) -> dict:
    """Whether the numbers show the paper's two claims (criteria above)."""
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


claims = verdicts(curves)
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

# %% [markdown]
# ## The read-out head (row 3 of the figure)
#
# The curves above read the top layer's state at the last step
# (`readout="last"`, the paper's model). The mean head (`readout="mean"`)
# reads the mean of the top layer's states over time, and its kernel is the
# average of the last-step kernel over all pairs of prefixes
# `(x[:t], x2[:t2])`. For ReLU at `sigma_w = 1` (rntk 0.1's default), `sqrt(2)`
# and 1.5, and for erf at `sigma_w = 0.5`, 1 and 1.5 (each activation's base
# otherwise), we compare the profiles of both heads on the first `HEAD_PAIRS`
# pairs.
#
# What to expect: the gradient in `x_t` of the mean head is the sum of those
# of the prefix kernels that contain step `t`. Every step is the last step of
# some prefix, so where the last-step head forgets the past (late curves: ReLU
# below `sqrt(2)`, erf at small `sigma_w`), the mean head weighs the steps
# nearly evenly. But an early step is in more prefixes than a late one, so the
# mean head also tilts the profile towards the early steps: an even profile
# (ReLU at `sqrt(2)`) becomes early, and an early one becomes more so.
#
# Measured (full run, `T = 50`, 50 pairs), spread of the thirds, last step ->
# mean: ReLU at `sigma_w = 1`: 4.7e9 (late) -> 1.14 (even), at `sqrt(2)`: 1.05
# (even) -> 18.7 (early), at 1.5: 12.1 -> 49 (early); erf at 0.5: 4.4e15
# (late) -> 1.05 (even), at 1: 1.71 (even) -> 4.3 (early), at 1.5: 1.3e3 ->
# 3.6e3 (early). So the mean head evens out the profiles that the last-step
# head concentrates on the late steps, not the others.

# %%
head_pairs = pairs[:HEAD_PAIRS]
head_settings = [(a, value) for a, values in HEAD_SWEEP.items() for value in values]
head_curves = []  # last-step and mean head alternate, setting by setting
start = time.perf_counter()
progress = Progress(len(head_settings), "fig3 heads")
for activation, value in head_settings:
    params = {**GRID[activation]["base"], "sigma_w": value}
    for readout in ("last", "mean"):
        profile = average_sensitivity(head_pairs, activation, params, readout)
        head_curves.append(
            {
                "activation": activation,
                "readout": readout,
                "value": value,
                "parameters": params,
                "profile": profile.tolist(),
                **profile_statistics(profile),
            }
        )
    progress.advance(note=f"{activation} sigma_w={value:.3g}")
progress.close()
head_seconds = time.perf_counter() - start

comparison = [
    {
        "activation": last["activation"],
        "sigma_w": last["value"],
        "last_spread": last["spread"],
        "mean_spread": mean["spread"],
        "last_shape": last["shape"],
        "mean_shape": mean["shape"],
    }
    for last, mean in zip(head_curves[::2], head_curves[1::2], strict=True)
]
print(
    f"Read-out heads, the first {len(head_pairs)} pairs ({head_seconds:.1f} s): spread of "
    "the thirds (shape), last step -> mean over time"
)
for row in comparison:
    print(
        f"{row['activation']:<6} sigma_w={row['sigma_w']:<5.3g} "
        f"{row['last_spread']:>9.3g} ({row['last_shape']}) -> "
        f"{row['mean_spread']:.3g} ({row['mean_shape']})"
    )

# %%
results_path = write_results(
    args.out,
    {
        "length": LENGTH,
        "n_pairs": N_PAIRS,
        "criteria": {"even_spread_at_most": EVEN_SPREAD},
        "seconds": seconds,
        "claims": claims,
        "curves": curves,
        "heads": {
            "n_pairs": len(head_pairs),
            "seconds": head_seconds,
            "comparison": comparison,
            "curves": head_curves,
        },
    },
)

# %% [markdown]
# ## The figure
#
# Rows 1 and 2: ReLU and erf, one panel per swept hyperparameter, each curve
# divided by its maximum on a log scale (at least one decade, so that a flat
# profile looks flat). Look for the flat ReLU curve at `sigma_w = sqrt(2)`
# between the falling curves below it and the rising ones above, and for
# erf curves leaning either way. Row 3: the last-step head dashed, the mean
# head solid, one colour per `sigma_w`, the legend giving both spreads; the
# axis is cut at `1e-4`, since the late last-step curves fall many decades
# below.

# %%
LABELS = {
    "sigma_w": r"$\sigma_w$",
    "sigma_u": r"$\sigma_u$",
    "sigma_b": r"$\sigma_b$",
    "sigma_h": r"$\sigma_h$",
}
HEAD_FLOOR = 1e-4


def plot_heads(axis, curves: list[dict]) -> None:
    """Overlay the last-step (dashed) and mean (solid) profiles, one colour per sigma_w."""
    for index, (last, mean) in enumerate(zip(curves[::2], curves[1::2], strict=True)):
        colour = f"C{index}"
        for curve, style in ((last, "--"), (mean, "-")):
            profile = np.asarray(curve["profile"])
            steps = np.arange(1, len(profile) + 1)
            axis.semilogy(steps, profile / profile.max(), color=colour, linestyle=style)
        # One legend entry per colour, with both spreads side by side.
        axis.plot(
            [],
            [],
            color=colour,
            label=f"{last['value']:.3g}: {last['spread']:.3g} $\\to$ {mean['spread']:.3g}",
        )
    axis.set_ylim(HEAD_FLOOR, 1.5)
    axis.legend(
        title=f"{LABELS['sigma_w']}: spread, last $\\to$ mean",
        fontsize=8,
        title_fontsize=8,
        loc="lower left",
    )


plt = pyplot()
sweeps = list(GRID["relu"]["sweeps"])
figure = plt.figure(figsize=(4 * len(sweeps), 10.5))
grid = figure.add_gridspec(3, len(sweeps), height_ratios=[1, 1, 1.2])
first = None
for row, activation in enumerate(GRID):
    base = GRID[activation]["base"]
    for column, name in enumerate(sweeps):
        axis = figure.add_subplot(grid[row, column], sharex=first)
        first = first or axis
        for curve in curves:
            if curve["activation"] != activation or curve["varied"] != name:
                continue
            profile = np.asarray(curve["profile"])
            steps = np.arange(1, len(profile) + 1)
            axis.semilogy(steps, profile / profile.max(), label=f"{curve['value']:.3g}")
        axis.set_ylim(min(axis.get_ylim()[0], 0.1), 1.5)
        fixed = ", ".join(f"{LABELS[k]}={v:.3g}" for k, v in base.items() if k != name)
        axis.set_title(f"{activation}: {fixed}", fontsize=9)
        axis.legend(title=LABELS[name], fontsize=8, title_fontsize=9)
        if column == 0:
            axis.set_ylabel(r"$S_t / \max_t S_t$")
        if row == 1:
            axis.set_xlabel("time step t")
half = len(sweeps) // 2
for index, activation in enumerate(HEAD_SWEEP):
    axis = figure.add_subplot(grid[2, index * half : (index + 1) * half], sharex=first)
    plot_heads(axis, [c for c in head_curves if c["activation"] == activation])
    fixed = ", ".join(
        f"{LABELS[k]}={v:.3g}" for k, v in GRID[activation]["base"].items() if k != "sigma_w"
    )
    axis.set_title(
        f"{activation}, read-out heads: last step (dashed) vs mean over time (solid); {fixed}",
        fontsize=9,
    )
    axis.set_xlabel("time step t")
    if index == 0:
        axis.set_ylabel(r"$S_t / \max_t S_t$")
figure.suptitle(
    r"Per-step sensitivity $\|\partial\Theta(x, x')/\partial x_t\|$, averaged over Gaussian pairs"
)
figure.tight_layout()
show(figure, args.out / "fig3_sensitivity.png")
print(f"wrote {results_path} and {args.out / 'fig3_sensitivity.png'}")
