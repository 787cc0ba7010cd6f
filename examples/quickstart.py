# %% [markdown]
# # Quickstart: the RNTK of sequences of different lengths, and a kernel ridge fit
#
# The Recurrent Neural Tangent Kernel is the kernel that an infinitely wide
# recurrent network converges to: `rntk.kernel(X, X2)` gives it exactly, by the
# closed-form recursion over time steps and layers (`docs/math.md`). This tour
# computes it on sequences of different lengths and regresses on it.
#
# **The task.** Each input is a noisy sinusoid `sin(omega t + phase)` observed
# for a random number of steps (20 to 80, so the sequences have different
# lengths); the target is its frequency `omega`, between 0.5 and 2.5. The RNTK
# compares sequences of any lengths directly (aligned at their last step), and
# kernel ridge regression on it predicts `omega` of unseen sequences.
#
# Run it whole with `python examples/quickstart.py` (about 2 s; `--quick`:
# smaller, under a second; `--out DIR`: where to write) or cell by cell as a
# notebook (`RNTK_EXAMPLES_QUICK=1` for the small run). It writes
# `results.json` and `prediction.png` to `results/quickstart/`.

# %%
import time

import numpy as np
from _common import example_arguments, pyplot, show, write_results

import rntk
from rntk.predict import kernel_ridge_regression

# %% [markdown]
# ## Settings
#
# The parameters a reader may want to change. `args` is the command line when
# run as a script, and the defaults in a notebook.

# %%
args = example_arguments(
    "quickstart", "Quickstart: RNTK Gram matrices of sequences of different lengths, and a fit."
)
N_TRAIN, N_TEST = (200, 100) if args.quick else (800, 400)
SEED = 0
# sigma_w = sqrt(2) weighs all steps about evenly for ReLU (see fig3_sensitivity.py).
KERNEL = rntk.RNTK(activation="relu", depth=1, sigma_w=np.sqrt(2), sigma_b=0.1)
# The ridge, relative to the mean of the training diagonal.
RELATIVE_RIDGE = 1e-3


# %% [markdown]
# ## The data
#
# One sinusoid per example, with its own frequency, phase and length, plus
# Gaussian noise of standard deviation 0.1; training and test sets are drawn
# the same way from one random generator.


# %%
def make_sinusoids(n: int, rng: np.random.Generator):
    """``n`` sinusoids with random frequency, phase and length, plus noise."""
    frequencies = rng.uniform(0.5, 2.5, size=n)
    lengths = rng.integers(20, 81, size=n)
    sequences = []
    for omega, length in zip(frequencies, lengths, strict=True):
        t = 0.25 * np.arange(length)
        clean = np.sin(omega * t + rng.uniform(0, 2 * np.pi))
        sequences.append(clean + 0.1 * rng.standard_normal(length))
    return sequences, frequencies


rng = np.random.default_rng(SEED)
X_train, y_train = make_sinusoids(N_TRAIN, rng)
X_test, y_test = make_sinusoids(N_TEST, rng)

# %% [markdown]
# ## The Gram matrices
#
# A list of 1-D arrays of different lengths is a valid input: no padding, no
# resampling. `KERNEL(X_train)` is the symmetric training Gram matrix (its
# diagonal exact), `KERNEL(X_test, X_train)` the test rows against it.

# %%
start = time.perf_counter()
K_train = KERNEL(X_train)  # (n_train, n_train)
K_test = KERNEL(X_test, X_train)  # (n_test, n_train)
gram_seconds = time.perf_counter() - start
print(
    f"RNTK Gram matrices {K_train.shape} and {K_test.shape} of sequences of "
    f"lengths 20..80 in {gram_seconds:.2f} s"
)

# %% [markdown]
# ## Kernel ridge regression
#
# The prediction is `mean(y) + K_test (K_train + ridge I)^-1 (y - mean(y))`:
# the targets are centred, because the kernel has no constant direction of its
# own to fit their mean. `rntk.predict.kernel_ridge_regression` solves it by a
# Cholesky factorisation. The ridge is `1e-3` of the mean self-similarity, in
# the kernel's own units.

# %%
ridge = RELATIVE_RIDGE * np.trace(K_train) / N_TRAIN
offset = y_train.mean()
prediction = offset + kernel_ridge_regression(K_train, y_train - offset, K_test, ridge=ridge)
rmse = float(np.sqrt(np.mean((prediction - y_test) ** 2)))
r2 = float(1 - np.mean((prediction - y_test) ** 2) / np.var(y_test))
print(f"kernel ridge regression of the frequency: test RMSE {rmse:.3f}, R^2 {r2:.3f}")

results_path = write_results(
    args.out,
    {
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "kernel": repr(KERNEL),
        "gram_seconds": gram_seconds,
        "ridge": ridge,
        "test_rmse": rmse,
        "test_r2": r2,
    },
)

# %% [markdown]
# ## The figure: predicted against true frequency
#
# Each point is a test sequence; on the diagonal the prediction is exact.
# Measured (default run, 800 training sequences): test RMSE 0.096, R² 0.973;
# the quick run (200) gives RMSE 0.20, R² 0.88. What to look for: the points
# bend towards the mean at both ends of the range (default run: frequencies
# below 0.9 are predicted 0.13 too high on average, those above 2.1 are 0.09
# too low, those between are off by 0.03), and the shortest sequences, which
# show only a few periods, are the hardest (mean error 0.09 for 20 to 34
# steps, 0.05 for 65 to 80).

# %%
plt = pyplot()
figure, axis = plt.subplots(figsize=(4.5, 4.5))
axis.scatter(y_test, prediction, s=8)
axis.plot([0.5, 2.5], [0.5, 2.5], color="black", linewidth=1)
axis.set(
    xlabel="true frequency",
    ylabel="predicted frequency",
    title=f"RNTK kernel ridge, R$^2$ = {r2:.3f}",
)
figure.tight_layout()
show(figure, args.out / "prediction.png")
print(f"wrote {results_path} and {args.out / 'prediction.png'}")
