"""Shared tolerances, random test cases and a read rule of the tests' own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rntk.heads import ReadRule

#: Agreement between the fast code and the per-pair oracle (different
#: arithmetic, same formulas): a few hundred ulps at most.
ORACLE_RTOL = 1e-10

#: Agreement between two runs of the fast code that only regroup the same
#: elementwise arithmetic (other blocks, other order of the sequences).
REGROUPING_RTOL = 1e-13


def assert_relative_close(actual, expected, rtol: float, floor: float = 1e-2) -> None:
    """Entrywise ``|actual - expected| <= rtol * max(|expected|, floor * max|expected|)``.

    The floor keeps an entry that is near 0 only through cancellation (an erf
    kernel between nearly uncorrelated sequences) from demanding more digits
    than the terms that cancel to make it carry.
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert np.isfinite(actual).all(), actual
    scale = np.maximum(np.abs(expected), floor * np.max(np.abs(expected), initial=0.0))
    error = np.abs(actual - expected)
    worst = np.unravel_index(np.argmax(error / np.where(scale > 0, scale, 1.0)), error.shape)
    assert np.all(error <= rtol * scale), (
        f"entry {tuple(int(i) for i in worst)}: got {actual[worst]!r}, "
        f"expected {expected[worst]!r} (rtol {rtol:g})"
    )


def random_sequences(rng: np.random.Generator, lengths, n_features: int, as_univariate=False):
    """A list of standard normal sequences of the given lengths.

    With ``as_univariate`` (only for one feature) each sequence is ``(T,)``,
    otherwise ``(T, m)``.
    """
    if as_univariate:
        assert n_features == 1
        return [rng.standard_normal(length) for length in lengths]
    return [rng.standard_normal((length, n_features)) for length in lengths]


def random_hyperparameters(rng: np.random.Generator, depth: int, per_layer: bool) -> dict:
    """Keyword arguments for ``rntk.kernel`` and the oracle.

    ``sigma_u`` stays away from 0: with no input the states of all sequences
    coincide, the correlation is 1 up to rounding and ``arccos`` keeps only
    half the digits in both implementations, so a 1e-10 comparison would test
    rounding, not formulas.
    """

    def draw(low, high):
        if per_layer:
            return [float(v) for v in rng.uniform(low, high, depth)]
        return float(rng.uniform(low, high))

    return {
        "depth": depth,
        "sigma_w": draw(0.0, 1.6),
        "sigma_u": draw(0.5, 2.0),
        "sigma_b": draw(0.0, 1.0),
        "sigma_h": draw(0.0, 1.0),
        "sigma_v": float(rng.uniform(0.2, 2.0)),
    }


def pad_with_nan(sequences) -> np.ndarray:
    """Stack ``(T_i, m)`` sequences into ``(n, max T, m)`` with trailing NaN padding."""
    length = max(len(s) for s in sequences)
    n_features = np.asarray(sequences[0]).reshape(len(sequences[0]), -1).shape[1]
    out = np.full((len(sequences), length, n_features), np.nan)
    for i, sequence in enumerate(sequences):
        out[i, : len(sequence)] = np.asarray(sequence).reshape(len(sequence), n_features)
    return out


@dataclass(frozen=True)
class ExponentialPool(ReadRule):
    """A read-out the library does not have: the top states weighed by ``decay**r``.

    ``r`` counts the steps before the last one, and the weights are normalised
    per sequence. ``decay=0`` reads the last step only and ``decay=1`` every
    step equally (the last-step and mean heads). Defined here alone, to show
    that a read rule needs nothing from the library but :class:`ReadRule`.
    """

    decay: float

    def profile(self, n_steps: int) -> np.ndarray:
        return self.decay ** np.arange(n_steps, dtype=np.float64)
