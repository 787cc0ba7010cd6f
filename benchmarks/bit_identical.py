"""Fingerprint the library's numbers, to show that a restructuring changed none of them.

``python benchmarks/bit_identical.py --save before.npz`` computes a fixed set of results
(Gram matrices of every head, activation, depth and option; the sensitivities and their
gradients; the finite network's tangent kernel; the baseline kernels; Nystroem features;
the estimators' predictions and cross-validation scores; a small UCR table) and stores
them. ``--compare before.npz`` recomputes them and prints, for each, whether it is
bit-identical (the same bytes), or else the largest difference; it exits with status 1
when anything differs. Run it before and after a change that is meant to move code
without changing arithmetic.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

import rntk
from rntk.baselines import mlp_ntk, polynomial_kernel, rbf_kernel


def sequences(seed: int, n: int, lengths: tuple[int, int], features: int | None) -> list:
    rng = np.random.default_rng(seed)
    shape = (lambda t: (t,)) if features is None else (lambda t: (t, features))
    return [rng.standard_normal(shape(int(rng.integers(*lengths)))) for _ in range(n)]


def gram_cases() -> dict[str, np.ndarray]:
    univariate = sequences(0, 9, (5, 14), None)
    univariate2 = sequences(1, 6, (3, 12), None)
    multivariate = sequences(2, 7, (4, 11), 3)
    multivariate2 = sequences(3, 5, (6, 9), 3)
    heads = {
        "last": {},
        "mean": {"readout": "mean"},
        "mean-stride3": {"readout": "mean", "pool_stride": 3},
        "bi-last": {"bidirectional": True},
        "bi-mean": {"readout": "mean", "bidirectional": True},
    }
    models = {
        "relu": {},
        "relu-depth3": {"depth": 3, "sigma_w": [1.2, 1.4, 0.9]},
        "erf": {"activation": "erf"},
        "tanh-depth2": {"activation": "tanh", "depth": 2},
    }
    out = {}
    for head_name, head in heads.items():
        for model_name, model in models.items():
            for data_name, (X, X2) in {
                "uni": (univariate, univariate2),
                "multi": (multivariate, multivariate2),
            }.items():
                k = rntk.RNTK(**head, **model, get=("nngp", "ntk"))
                key = f"gram/{head_name}/{model_name}/{data_name}"
                pair = k(X)
                out[f"{key}/nngp"], out[f"{key}/ntk"] = pair.nngp, pair.ntk
                out[f"{key}/cross"] = rntk.RNTK(**head, **model)(X, X2)
                out[f"{key}/diag"] = rntk.RNTK(**head, **model).diag(X)
    for head_name in ("last", "mean"):
        options = heads[head_name]
        out[f"gram/{head_name}/normalize"] = rntk.kernel(univariate, normalize=True, **options)
        out[f"gram/{head_name}/float32"] = rntk.kernel(
            multivariate, multivariate2, dtype=np.float32, **options
        )
        out[f"gram/{head_name}/blocks"] = rntk.kernel(
            sequences(4, 40, (3, 9), None), block_size=(7, 11), **options
        )
    return out


def sensitivity_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    x, x2 = rng.standard_normal((11, 2)), rng.standard_normal((8, 2))
    out = {}
    for name, options in {
        "last": {},
        "mean": {"readout": "mean", "pool_stride": 2},
        "bi-last": {"bidirectional": True},
        "erf-depth2": {"activation": "erf", "depth": 2},
    }.items():
        for get in ("ntk", "nngp"):
            out[f"sensitivity/{name}/{get}"] = rntk.sensitivity(x, x2, get=get, **options)
            out[f"sensitivity/{name}/{get}/gradient"] = rntk.sensitivity(
                x, x2, get=get, return_gradient=True, **options
            )
    return out


def network_cases() -> dict[str, np.ndarray]:
    X = sequences(6, 4, (5, 8), 2)
    out = {}
    for name, options in {
        "last": {},
        "bi-mean": {"readout": "mean", "bidirectional": True},
    }.items():
        net = rntk.RNN(width=32, depth=2, seed=0, **options)
        out[f"network/{name}/ntk"] = net.ntk(X)
        out[f"network/{name}/nngp"] = net.nngp(X)
        out[f"network/{name}/output"] = net(X)
    return out


def baseline_cases() -> dict[str, np.ndarray]:
    X = sequences(7, 8, (6, 7), None)
    X2 = sequences(8, 5, (6, 7), None)
    out = {f"mlp_ntk/depth{d}": mlp_ntk(X, X2, depth=d) for d in (1, 2, 3)}
    out["mlp_ntk/nngp"] = mlp_ntk(X, get="nngp", depth=2)
    out["rbf"] = rbf_kernel(X, X2)
    out["polynomial"] = polynomial_kernel(X, X2)
    return out


def nystroem_cases() -> dict[str, np.ndarray]:
    X = sequences(9, 60, (4, 10), None)
    out = {}
    for landmarks in ("uniform", "greedy", "rpcholesky"):
        for readout in ("last", "mean"):
            model = rntk.Nystroem(
                rntk.RNTK(readout=readout), 12, landmarks=landmarks, random_state=0
            )
            out[f"nystroem/{landmarks}/{readout}"] = model.fit(X).transform(X[:9])
    return out


def estimator_cases() -> dict[str, np.ndarray]:
    try:
        from rntk.sklearn import KernelClassifierCV, RNTKClassifierCV, RNTKRegressor
    except ImportError:
        return {}
    X = sequences(10, 40, (5, 12), None)
    y = np.array([float(np.sum(x[-3:])) for x in X])
    labels = (y > np.median(y)).astype(int)
    out = {}
    regressor = RNTKRegressor(readout="mean").fit(X[:30], y[:30])
    mean, std = regressor.predict(X[30:], return_std=True)
    out["sklearn/regressor/mean"], out["sklearn/regressor/std"] = mean, std
    grid = {"readout": ["last", "mean"], "sigma_w": [1.0, 1.4]}
    search = RNTKClassifierCV(grid, Cs=[0.1, 1.0], cv=3).fit(X[:30], labels[:30])
    out["sklearn/rntk_cv/scores"] = search.cv_results_["mean_test_score"]
    out["sklearn/rntk_cv/predict"] = search.predict(X[30:])
    baseline = KernelClassifierCV(rbf_kernel, {"gamma": [0.1, 1.0]}, Cs=[1.0], cv=3)
    vectors = [x[:5] for x in X]
    baseline.fit(vectors[:30], labels[:30])
    out["sklearn/kernel_cv/scores"] = baseline.cv_results_["mean_test_score"]
    out["sklearn/kernel_cv/predict"] = baseline.predict(vectors[30:])
    return out


def ucr_cases() -> dict[str, np.ndarray]:
    """A small UCR table: the RNTK's test predictions on GunPoint for each head."""
    try:
        from rntk.sklearn import RNTKClassifier
    except ImportError:
        return {}
    X, y, X_test, _ = rntk.load_ucr("GunPoint")
    out = {}
    for name, options in {
        "last": {},
        "mean": {"readout": "mean", "pool_stride": 10},
        "bi-last": {"bidirectional": True},
    }.items():
        model = RNTKClassifier(C=1.0, **options).fit(X, y)
        out[f"ucr/GunPoint/{name}"] = model.decision_function(X_test)
    return out


CASES = (
    gram_cases,
    sensitivity_cases,
    network_cases,
    baseline_cases,
    nystroem_cases,
    estimator_cases,
    ucr_cases,
)


def fingerprint() -> dict[str, np.ndarray]:
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in CASES:
            results.update({key: np.asarray(value) for key, value in case().items()})
    return results


def compare(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> int:
    differing = 0
    for key in sorted(set(before) | set(after)):
        if key not in after or key not in before:
            print(f"{key}: only {'before' if key in before else 'after'}")
            differing += 1
            continue
        old, new = before[key], after[key]
        if old.shape == new.shape and old.dtype == new.dtype and old.tobytes() == new.tobytes():
            continue
        differing += 1
        if old.shape != new.shape or old.dtype != new.dtype:
            print(f"{key}: shape/dtype {old.shape} {old.dtype} -> {new.shape} {new.dtype}")
        else:
            difference = np.abs(old.astype(float) - new.astype(float))
            print(f"{key}: differs, largest difference {np.nanmax(difference):.3g}")
    print(
        f"{len(before)} results compared: {differing} differ, {len(before) - differing} "
        "bit-identical"
    )
    return differing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="store the fingerprint in this .npz file")
    action.add_argument("--compare", type=Path, help="compare with a stored fingerprint")
    args = parser.parse_args(argv)
    results = fingerprint()
    if args.save:
        np.savez(args.save, **results)
        print(f"{len(results)} results saved to {args.save}")
        return 0
    with np.load(args.compare) as stored:
        before = {key: stored[key] for key in stored.files}
    return 1 if compare(before, results) else 0


if __name__ == "__main__":
    sys.exit(main())
