# %% [markdown]
# # Large scale: Nystroem features of the RNTK and a linear classifier on 100,000 sequences
#
# An exact kernel machine needs the `n x n` Gram matrix: for 100,000 training
# sequences that is 80 GB and 5e9 kernel pairs. `rntk.nystroem.Nystroem`
# instead maps every sequence to `m` features whose inner products approximate
# the RNTK (`F(x) = k(x, landmarks) K_mm^{-1/2}`, with `m` landmarks drawn from
# the training set), so a linear classifier on them approximates the kernel
# machine at a cost linear in `n`: `n m` kernel pairs and `8 n m` bytes. This
# example measures how test accuracy grows with `m`.
#
# **The task: which event came first?** Every sequence is `T = 20` steps of
# Gaussian noise (standard deviation 0.2) holding two events at two distinct
# random steps: an event A (value 2) and an event B (value 1). The class is 1
# when A comes before B, else 0 (balanced). Finally the whole sequence is
# multiplied by a random sign, +1 or -1. So:
#
# * Swapping the two events turns a sequence of one class into an equally
#   likely sequence of the other with the same values at other places: the
#   *bag of steps* (the multiset of values) and the distribution of every
#   single step are the same in both classes. Any model that ignores the
#   order of the steps, or looks at each step on its own, is at chance.
# * The random sign makes every step's mean zero in both classes, so a linear
#   model on the raw steps, which could otherwise weigh early and late steps
#   differently, is at chance as well.
#
# Only the order of the two events separates the classes: a model must relate
# two steps that lie up to 19 steps apart, which a recurrent network does by
# carrying the first event in its state. Two baselines below prove the first
# two points on the same data; the RNTK's features then reach high accuracy.
#
# Run it whole with `python examples/large_scale.py` (100,000 training and
# 10,000 test sequences; about 6 minutes on 2 cores) or cell by cell as a
# notebook; `--quick` (3,000 and 1,000 sequences) takes seconds. It writes
# `results.json` and `accuracy.png` to `results/large_scale/`.

# %%
import time

import numpy as np
from _common import example_arguments, example_parser, pyplot, show, write_results
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rntk
from rntk.nystroem import Nystroem

# %% [markdown]
# ## Settings
#
# `args` is the command line when run as a script, and the defaults in a
# notebook. The kernel is the library's default RNTK (ReLU, depth 1, its
# default scales, which weigh every step of a sequence about the same).

# %%
DESCRIPTION = "Nystroem features of the RNTK and a linear classifier on 100,000 sequences."
parser = example_parser("large_scale", DESCRIPTION)
parser.add_argument("--n-train", type=int, default=100_000, help="training sequences")
parser.add_argument("--n-test", type=int, default=10_000, help="test sequences")
args = example_arguments("large_scale", DESCRIPTION, parser)
N_TRAIN, N_TEST = (3_000, 1_000) if args.quick else (args.n_train, args.n_test)
COMPONENTS = (25, 50, 100, 200) if args.quick else (50, 100, 200, 500, 1000)
LENGTH, NOISE = 20, 0.2
SEED = 0
KERNEL = rntk.RNTK()
# Penalty of the logistic regression on standardised features; not tuned.
PENALTY_C = 1.0

# %% [markdown]
# ## The data
#
# Two distinct steps per sequence, uniformly among all pairs; which of them
# holds A is the class.


# %%
def make_order_task(n: int, rng: np.random.Generator):
    """``n`` sequences of noise with events A (2) and B (1); label 1 when A comes first."""
    sequences = NOISE * rng.standard_normal((n, LENGTH))
    positions = np.sort(np.argsort(rng.random((n, LENGTH)), axis=1)[:, :2], axis=1)
    labels = rng.integers(0, 2, size=n)
    a_step = np.where(labels == 1, positions[:, 0], positions[:, 1])
    b_step = np.where(labels == 1, positions[:, 1], positions[:, 0])
    rows = np.arange(n)
    sequences[rows, a_step] = 2.0
    sequences[rows, b_step] = 1.0
    sequences *= rng.choice([-1.0, 1.0], size=(n, 1))
    return sequences, labels


rng = np.random.default_rng(SEED)
X_train, y_train = make_order_task(N_TRAIN, rng)
X_test, y_test = make_order_task(N_TEST, rng)
print(f"{N_TRAIN} training and {N_TEST} test sequences of length {LENGTH}")

# %% [markdown]
# ## Baselines that cannot see the order
#
# *Bag of steps*: the sorted values of a sequence are its multiset of values,
# everything a model that ignores the order can use. *Raw steps*: a linear
# model on the steps in time order. Both go into the same standardised
# logistic regression as the Nystroem features below.


# %%
def linear_accuracy(train_features, test_features) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=PENALTY_C, max_iter=2000))
    model.fit(train_features, y_train)
    return float(model.score(test_features, y_test))


baselines = {
    "bag of steps": linear_accuracy(np.sort(X_train, axis=1), np.sort(X_test, axis=1)),
    "raw steps": linear_accuracy(X_train, X_test),
}
for name, accuracy in baselines.items():
    print(f"baseline, logistic regression on {name}: test accuracy {100 * accuracy:.1f}%")

# %% [markdown]
# ## Nystroem features of the RNTK
#
# For each number of components `m`: landmarks drawn uniformly from the
# training set (one seed, so each larger `m` keeps the smaller one's
# landmarks), features of the training and test sets computed in batches of
# 4,096 sequences on all cores, then the logistic regression. The progress bar
# on stderr counts sequences.

# %%
rows = []
for n_components in COMPONENTS:
    start = time.perf_counter()
    nystroem = Nystroem(KERNEL, n_components, random_state=SEED).fit(X_train)
    train_features = nystroem.transform(X_train, progress=True)
    test_features = nystroem.transform(X_test, progress=True)
    feature_seconds = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = linear_accuracy(train_features, test_features)
    classifier_seconds = time.perf_counter() - start
    rows.append(
        {
            "n_components": n_components,
            "test_accuracy": accuracy,
            "feature_seconds": feature_seconds,
            "classifier_seconds": classifier_seconds,
        }
    )
    print(
        f"m = {n_components:5d}: test accuracy {100 * accuracy:5.1f}%  (features "
        f"{feature_seconds:6.1f} s, classifier {classifier_seconds:5.1f} s)",
        flush=True,
    )

results_path = write_results(
    args.out,
    {
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "length": LENGTH,
        "noise": NOISE,
        "kernel": repr(KERNEL),
        "penalty_C": PENALTY_C,
        "baselines": baselines,
        "nystroem": rows,
    },
)

# %% [markdown]
# ## Test accuracy against the number of components
#
# What to look for: both baselines sit at chance, and the RNTK features climb
# with `m`. Measured with the default run (100,000 training and 10,000 test
# sequences, 2-core machine, about 4 minutes in all): the baselines 49.2% (bag
# of steps) and 49.8% (raw steps); the RNTK features 71.8%, 74.5%, 78.0%, 88.3%
# and 96.3% at `m` = 50, 100, 200, 500 and 1,000 (features for 110,000
# sequences at `m = 1000` in 19 s of this run's timing, the linear classifier
# 27 s). The quick run (3,000 training sequences) takes about 10 s.

# %%
plt = pyplot()
figure, axis = plt.subplots(figsize=(5.5, 4))
components = [row["n_components"] for row in rows]
axis.plot(components, [100 * row["test_accuracy"] for row in rows], "o-", label="RNTK, Nystroem")
for (name, accuracy), style in zip(baselines.items(), ("--", ":"), strict=True):
    axis.axhline(100 * accuracy, color="grey", linestyle=style, label=f"{name} (baseline)")
axis.set(
    xscale="log",
    xlabel="number of components m",
    ylabel="test accuracy (%)",
    ylim=(40, 100),
    title=f"Which event came first? {N_TRAIN:,} training sequences",
)
axis.legend(loc="lower right", fontsize=8)
figure.tight_layout()
show(figure, args.out / "accuracy.png")
print(f"wrote {results_path} and {args.out / 'accuracy.png'}")
