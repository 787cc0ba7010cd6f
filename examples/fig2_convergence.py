# %% [markdown]
# # Figure 2 of the RNTK paper: finite-width RNNs converge to the RNTK
#
# Alemohammad, Wang, Balestriero, Baraniuk, "The Recurrent Neural Tangent
# Kernel", ICLR 2021 (arXiv:2006.10246), Figure 2.
#
# The RNTK is a limit: the tangent kernel
# `Theta_emp(x, x') = <df(x)/dtheta, df(x')/dtheta>` of a randomly initialised
# recurrent network of width `N` fluctuates around it, and the fluctuations
# shrink like `1/sqrt(N)`. This example checks both statements against finite
# networks built by `rntk.RNN`, whose tangent kernel `RNN.ntk` is exact
# (factorised, no Jacobian).
#
# **Model.** A single-layer ReLU RNN with `sigma_w = sigma_u = 1`,
# `sigma_b = 0.1`, `sigma_h = 0`, `sigma_v = 1` (fixed here, so the figure does
# not move with the library's defaults), read out at the last step.
#
# Run it whole with `python examples/fig2_convergence.py` (about 5 minutes on
# 2 cores; `--quick`: fewer and smaller networks, a few seconds; `--out DIR`)
# or cell by cell as a notebook (`RNTK_EXAMPLES_QUICK=1` for the small run).
# It writes `fig2_convergence.png` and `results.json` to
# `results/fig2_convergence/`.

# %%
import time

import numpy as np
from _common import Progress, example_arguments, pyplot, show, write_results

import rntk
from rntk.network import RNN

# %% [markdown]
# ## Settings
#
# The widths of the networks in each panel, the number of angles of the left
# panel and the number of networks per width on the right (the full run's
# largest network, `N = 2**13`, takes most of the time).

# %%
NAME = "fig2_convergence"
args = example_arguments(NAME, "Reproduce Figure 2 of the RNTK paper (convergence).")
ACTIVATION = "relu"
HYPERPARAMETERS = dict(sigma_w=1.0, sigma_u=1.0, sigma_b=0.1, sigma_h=0.0, sigma_v=1.0)
N_SEQUENCES, LENGTH = 50, 5
VARIANTS = {"tied": True, "untied": False}
if args.quick:
    LEFT_WIDTHS, N_ANGLES = [2**5, 2**7, 2**9], 61
    RIGHT_WIDTHS, NETWORKS_PER_WIDTH = [2**k for k in range(5, 11)], 3
else:
    LEFT_WIDTHS, N_ANGLES = [2**6, 2**8, 2**10, 2**12], 181
    RIGHT_WIDTHS, NETWORKS_PER_WIDTH = [2**k for k in range(5, 14)], 5

# %% [markdown]
# ## Left panel: one pair of sequences, one network per width
#
# The tangent kernel between `x = (1, -1, 1)` and `x' = (cos a, sin a)` for `a`
# in `[0, 2 pi]`, from one weight-tied network per width (the same network for
# every `a`) and from the limit. Our reading of the paper: `x` and `x'` are
# univariate sequences of different lengths (3 and 2 steps), aligned at their
# last step as everywhere in this library, so the pair shares the steps
# `(-1, 1)` and `(cos a, sin a)`, and `x` has one earlier step.

# %%
start = time.perf_counter()
x = np.array([[1.0, -1.0, 1.0]])
angles = np.linspace(0.0, 2.0 * np.pi, N_ANGLES)
x_prime = np.stack([np.cos(angles), np.sin(angles)], axis=1)
limit = rntk.kernel(x, x_prime, activation=ACTIVATION, **HYPERPARAMETERS)[0]
empirical = {}
# A network costs about width**2 (its weight matrices): weigh progress by that.
progress = Progress(sum(w**2 for w in LEFT_WIDTHS), "networks")
for seed, width in enumerate(LEFT_WIDTHS):
    net = RNN(width, activation=ACTIVATION, seed=seed, **HYPERPARAMETERS)
    empirical[width] = net.ntk(x, x_prime)[0]
    progress.advance(width**2, note=f"left panel, width {width}")
progress.close()
scale = np.max(np.abs(limit))
left_deviation = {w: float(np.max(np.abs(v - limit)) / scale) for w, v in empirical.items()}
print("left, max |emp - limit| / max |limit| over a:")
for width, deviation in left_deviation.items():
    print(f"  N = {width:5d}: {deviation:.3f}")

# %% [markdown]
# ## Right panel: the error against the width, tied and untied weights
#
# 50 Gaussian sequences of length 5 (univariate, `N(0, 1)` steps). For each
# width, several networks with weights shared across time steps (tied, the
# usual RNN) and with fresh weights at every step (untied); the error of one
# network is the average over the 1275 pairs `i <= j` of
# `log10(|Theta_emp - Theta| / |Theta|)`. Both variants converge to the same
# limit: in the infinite-width limit a weight matrix reused at another step
# acts as an independent one. If the fluctuations are `O(1/sqrt(N))`, the
# error falls with slope `-1/2` against `log10 N`.


# %%
def mean_log_error(empirical, limit):
    """Average of log10 |emp - lim| / |lim| over the pairs i <= j."""
    rows, columns = np.triu_indices_from(limit)
    relative = np.abs(empirical - limit)[rows, columns] / np.abs(limit)[rows, columns]
    return float(np.mean(np.log10(relative)))


def fitted_slope(widths, log_errors):
    """Slope of the mean log10 error against log10 width (-1/2 for O(1/sqrt(N)))."""
    return float(np.polyfit(np.log10(widths), log_errors.mean(axis=1), 1)[0])


X = np.random.default_rng(2020).standard_normal((N_SEQUENCES, LENGTH))
gram = rntk.kernel(X, activation=ACTIVATION, **HYPERPARAMETERS)
errors = {variant: np.empty((len(RIGHT_WIDTHS), NETWORKS_PER_WIDTH)) for variant in VARIANTS}
progress = Progress(2 * NETWORKS_PER_WIDTH * sum(w**2 for w in RIGHT_WIDTHS), "networks")
for i, width in enumerate(RIGHT_WIDTHS):
    for variant, tied in VARIANTS.items():
        for seed in range(NETWORKS_PER_WIDTH):
            net = RNN(
                width,
                activation=ACTIVATION,
                tied=tied,
                max_length=LENGTH,
                seed=1000 * i + seed,
                **HYPERPARAMETERS,
            )
            errors[variant][i, seed] = mean_log_error(net.ntk(X), gram)
            progress.advance(width**2, note=f"right panel, {variant} width {width} network {seed}")
progress.close()
slopes = {variant: fitted_slope(RIGHT_WIDTHS, errors[variant]) for variant in errors}
print("right, mean log10 normalised error (tied | untied):")
for i, width in enumerate(RIGHT_WIDTHS):
    tied, untied = errors["tied"][i].mean(), errors["untied"][i].mean()
    print(f"  N = {width:5d}: {tied:6.2f} | {untied:6.2f}")
print(f"  slope vs log10 N: tied {slopes['tied']:.2f}, untied {slopes['untied']:.2f}")

# %% [markdown]
# ## The figure
#
# What to look for. Left: the finite-width curves scatter around the limit
# (dashed) and close in on it as `N` grows. Measured (full run), the largest
# deviation over `a`, relative to the largest value of the limit, is 0.12,
# 0.24, 0.11 and 0.03 at `N` = 64, 256, 1024 and 4096: with one network per
# width the decrease is not monotone, but at 4096 the curve lies on the limit.
# Right: both variants fall along the `N^(-1/2)` guide, the untied errors up
# to 0.3 decades below the tied ones. Measured (full run, 9 widths from 32 to
# 8192, 5 networks each): fitted slopes of -0.46 (tied) and -0.51 (untied),
# close to the -1/2 of fluctuations of order `1/sqrt(N)`, as the paper
# states; the quick run (up to 1024, 3 networks) gives -0.51 and -0.46.

# %%
plt = pyplot()
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
colors = plt.cm.viridis(np.linspace(0.15, 0.85, len(empirical)))
for color, (width, values) in zip(colors, empirical.items(), strict=True):
    left.plot(angles, values, color=color, lw=1.2, label=f"N = {width}")
left.plot(angles, limit, color="black", lw=2.2, ls="--", label="limit (RNTK)")
left.set_xlabel(r"$\alpha$")
left.set_ylabel(r"$\Theta(x, x')$")
left.set_xticks(np.linspace(0, 2 * np.pi, 5), ["0", r"$\pi/2$", r"$\pi$", r"$3\pi/2$", r"$2\pi$"])
left.set_title(r"$x = (1, -1, 1)$, $x' = (\cos\alpha, \sin\alpha)$")
left.legend(fontsize=8)

log2_widths = np.log2(RIGHT_WIDTHS)
for variant, marker in (("tied", "o"), ("untied", "s")):
    values = errors[variant]
    right.errorbar(
        log2_widths,
        values.mean(axis=1),
        yerr=values.std(axis=1),
        marker=marker,
        capsize=3,
        label=f"weight-{variant} (slope {slopes[variant]:.2f})",
    )
guide = errors["tied"].mean(axis=1)[0] - 0.5 * np.log10(np.asarray(RIGHT_WIDTHS) / RIGHT_WIDTHS[0])
right.plot(log2_widths, guide, color="gray", ls=":", label=r"$\propto N^{-1/2}$")
right.set_xlabel(r"$\log_2 N$")
right.set_ylabel(r"mean $\log_{10}$ |$\Theta_{emp} - \Theta$| / |$\Theta$|")
right.set_title(f"{N_SEQUENCES} Gaussian sequences of length {LENGTH}")
right.legend(fontsize=8)
figure.tight_layout()
figure_path = args.out / f"{NAME}.png"
show(figure, figure_path, dpi=150)

# %% [markdown]
# ## The numbers
#
# `results.json` holds every curve, every network's error and the fitted slopes.

# %%
runtime_seconds = time.perf_counter() - start
results_path = write_results(
    args.out,
    {
        "figure": figure_path.name,
        "quick": args.quick,
        "activation": ACTIVATION,
        "hyperparameters": HYPERPARAMETERS,
        "left": {
            "x": [1.0, -1.0, 1.0],
            "x_prime": "(cos a, sin a), aligned with the last two steps of x",
            "alpha": angles,
            "limit": limit,
            "empirical": {str(w): v for w, v in empirical.items()},
            "max_deviation_over_max_limit": {str(w): d for w, d in left_deviation.items()},
        },
        "right": {
            "n_sequences": N_SEQUENCES,
            "length": LENGTH,
            "error": "mean over pairs i <= j of log10(|emp - limit| / |limit|)",
            "widths": RIGHT_WIDTHS,
            "networks_per_width": NETWORKS_PER_WIDTH,
            **{
                variant: {
                    "mean": errors[variant].mean(axis=1),
                    "std": errors[variant].std(axis=1),
                    "per_network": errors[variant],
                    "slope_vs_log10_width": slopes[variant],
                }
                for variant in errors
            },
        },
        "runtime_seconds": runtime_seconds,
    },
)
print(f"Figure 2 ({'quick' if args.quick else 'full'} run, {runtime_seconds:.0f} s)")
print(f"wrote {figure_path} and {results_path}")
