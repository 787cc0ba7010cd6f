"""Figure 2 of the RNTK paper: finite-width RNNs converge to the RNTK.

Alemohammad, Wang, Balestriero, Baraniuk, "The Recurrent Neural Tangent
Kernel", ICLR 2021 (arXiv:2006.10246), Figure 2; spec section 9.

Left panel: the tangent kernel between ``x = (1, -1, 1)`` and
``x' = (cos a, sin a)`` for ``a`` in ``[0, 2 pi]``, from single-layer weight-tied
RNNs of several widths (one network per width, the same network for every
``a``) and from the limit. Reading of the paper: ``x`` and ``x'`` are univariate
sequences of different lengths (3 and 2 steps), aligned at their last step as
everywhere in this library, so the pair shares the steps ``(-1, 1)`` and
``(cos a, sin a)`` and ``x`` has one earlier step.

Right panel: 50 Gaussian sequences of length 5 (univariate, N(0, 1) steps);
for weight-tied and weight-untied single-layer RNNs of increasing width, the
average over the 1275 pairs ``i <= j`` of ``log10(|Theta_emp - Theta| / |Theta|)``,
mean and spread over several networks per width. Both variants converge to the
same limit (spec section 1), with slope about -1/2 (fluctuations
``O(1/sqrt(N))``).

Model: ReLU, the library's default hyperparameters (``sigma_w = sigma_u = 1``,
``sigma_b = 0.1``, ``sigma_h = 0``, ``sigma_v = 1``). The empirical kernels are
exact (``rntk.network.RNN.ntk``, factorised, no Jacobian).

Run ``python examples/fig2_convergence.py [--quick] [--out DIR]``; writes
``fig2_convergence.png`` and ``results.json`` to ``DIR`` (default
``results/fig2_convergence/``).
"""

from __future__ import annotations

import time

import numpy as np
from _common import Progress, example_arguments, pyplot, write_results

import rntk
from rntk.network import RNN

NAME = "fig2_convergence"
ACTIVATION = "relu"
HYPERPARAMETERS = dict(sigma_w=1.0, sigma_u=1.0, sigma_b=0.1, sigma_h=0.0, sigma_v=1.0)
N_SEQUENCES, LENGTH = 50, 5
VARIANTS = {"tied": True, "untied": False}

SETTINGS = {
    "full": dict(
        left_widths=[2**6, 2**8, 2**10, 2**12],
        n_angles=181,
        right_widths=[2**k for k in range(5, 14)],
        networks_per_width=5,
    ),
    "quick": dict(
        left_widths=[2**5, 2**7, 2**9],
        n_angles=61,
        right_widths=[2**k for k in range(5, 11)],
        networks_per_width=3,
    ),
}


def left_panel(widths, n_angles, progress):
    """Kernel of x = (1, -1, 1) with x' = (cos a, sin a) over a, per width and in the limit."""
    x = np.array([[1.0, -1.0, 1.0]])
    angles = np.linspace(0.0, 2.0 * np.pi, n_angles)
    x_prime = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    limit = rntk.kernel(x, x_prime, activation=ACTIVATION, **HYPERPARAMETERS)[0]
    empirical = {}
    for seed, width in enumerate(widths):
        net = RNN(width, activation=ACTIVATION, seed=seed, **HYPERPARAMETERS)
        empirical[width] = net.ntk(x, x_prime)[0]
        progress.advance(width**2, note=f"left panel, width {width}")
    return angles, limit, empirical


def mean_log_error(empirical, limit):
    """Average of log10 |emp - lim| / |lim| over the pairs i <= j."""
    rows, columns = np.triu_indices_from(limit)
    relative = np.abs(empirical - limit)[rows, columns] / np.abs(limit)[rows, columns]
    return float(np.mean(np.log10(relative)))


def right_panel(widths, networks_per_width, progress):
    """Mean log normalised error per network, for tied and untied RNNs of each width."""
    X = np.random.default_rng(2020).standard_normal((N_SEQUENCES, LENGTH))
    limit = rntk.kernel(X, activation=ACTIVATION, **HYPERPARAMETERS)
    errors = {variant: np.empty((len(widths), networks_per_width)) for variant in VARIANTS}
    for i, width in enumerate(widths):
        for variant, tied in VARIANTS.items():
            for seed in range(networks_per_width):
                net = RNN(
                    width,
                    activation=ACTIVATION,
                    tied=tied,
                    max_length=LENGTH,
                    seed=1000 * i + seed,
                    **HYPERPARAMETERS,
                )
                errors[variant][i, seed] = mean_log_error(net.ntk(X), limit)
                progress.advance(
                    width**2, note=f"right panel, {variant} width {width} network {seed}"
                )
    return errors


def fitted_slope(widths, log_errors):
    """Slope of the mean log10 error against log10 width (-1/2 for O(1/sqrt(N)))."""
    return float(np.polyfit(np.log10(widths), log_errors.mean(axis=1), 1)[0])


def plot(path, angles, limit, empirical, widths, errors):
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = plt.cm.viridis(np.linspace(0.15, 0.85, len(empirical)))
    for color, (width, values) in zip(colors, empirical.items(), strict=True):
        left.plot(angles, values, color=color, lw=1.2, label=f"N = {width}")
    left.plot(angles, limit, color="black", lw=2.2, ls="--", label="limit (RNTK)")
    left.set_xlabel(r"$\alpha$")
    left.set_ylabel(r"$\Theta(x, x')$")
    left.set_xticks(
        np.linspace(0, 2 * np.pi, 5), ["0", r"$\pi/2$", r"$\pi$", r"$3\pi/2$", r"$2\pi$"]
    )
    left.set_title(r"$x = (1, -1, 1)$, $x' = (\cos\alpha, \sin\alpha)$")
    left.legend(fontsize=8)

    log2_widths = np.log2(widths)
    for variant, marker in (("tied", "o"), ("untied", "s")):
        values = errors[variant]
        right.errorbar(
            log2_widths,
            values.mean(axis=1),
            yerr=values.std(axis=1),
            marker=marker,
            capsize=3,
            label=f"weight-{variant} (slope {fitted_slope(widths, values):.2f})",
        )
    reference = errors["tied"].mean(axis=1)[0] - 0.5 * np.log10(np.asarray(widths) / widths[0])
    right.plot(log2_widths, reference, color="gray", ls=":", label=r"$\propto N^{-1/2}$")
    right.set_xlabel(r"$\log_2 N$")
    right.set_ylabel(r"mean $\log_{10}$ |$\Theta_{emp} - \Theta$| / |$\Theta$|")
    right.set_title(f"{N_SEQUENCES} Gaussian sequences of length {LENGTH}")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def main():
    args = example_arguments(NAME, "Reproduce Figure 2 of the RNTK paper (convergence).")
    settings = SETTINGS["quick" if args.quick else "full"]
    start = time.perf_counter()
    # A network costs about width**2 (its weight matrices): weigh progress by that.
    total_cost = sum(w**2 for w in settings["left_widths"]) + 2 * settings[
        "networks_per_width"
    ] * sum(w**2 for w in settings["right_widths"])
    progress = Progress(total_cost, "networks")
    angles, limit, empirical = left_panel(settings["left_widths"], settings["n_angles"], progress)
    widths = settings["right_widths"]
    errors = right_panel(widths, settings["networks_per_width"], progress)
    progress.close()

    figure_path = args.out / f"{NAME}.png"
    plot(figure_path, angles, limit, empirical, widths, errors)
    scale = np.max(np.abs(limit))
    left_deviation = {w: float(np.max(np.abs(v - limit)) / scale) for w, v in empirical.items()}
    slopes = {variant: fitted_slope(widths, errors[variant]) for variant in errors}
    results = {
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
            "widths": widths,
            "networks_per_width": settings["networks_per_width"],
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
        "runtime_seconds": time.perf_counter() - start,
    }
    results_path = write_results(args.out, results)

    print(f"Figure 2 ({'quick' if args.quick else 'full'} run, {results['runtime_seconds']:.0f} s)")
    print("left, max |emp - limit| / max |limit| over a:")
    for width, deviation in left_deviation.items():
        print(f"  N = {width:5d}: {deviation:.3f}")
    print("right, mean log10 normalised error (tied | untied):")
    for i, width in enumerate(widths):
        tied, untied = errors["tied"][i].mean(), errors["untied"][i].mean()
        print(f"  N = {width:5d}: {tied:6.2f} | {untied:6.2f}")
    print(f"  slope vs log10 N: tied {slopes['tied']:.2f}, untied {slopes['untied']:.2f}")
    print(f"wrote {figure_path} and {results_path}")


if __name__ == "__main__":
    main()
