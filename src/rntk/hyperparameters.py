"""The architecture's hyperparameters, validated once and shared by every model.

The limit kernel (:mod:`rntk.kernel`) and the finite network (:mod:`rntk.network`)
take the same keyword arguments with the same defaults; this module turns them
into per-layer arrays and checks them.

Defaults
--------
``sigma_w = 1``, ``sigma_u = 1``, ``sigma_b = 0.1``, ``sigma_h = 0``, ``sigma_v = 1``.
They keep both kernels bounded for sequences of any length (checked on 10,000
steps in the tests). The tangent kernel obeys ``Theta_t = Sigma_t + sigma_w**2 *
Kd_t * Theta_{t-1} + ...``, so it stays bounded while ``sigma_w**2 * Kd < 1``:

* ReLU: ``Kd <= 1/2``, and the variance itself grows like ``(sigma_w**2 / 2)**T``.
  ``sigma_w = 1`` contracts; ``sigma_w = sqrt(2)`` is critical (all steps weigh
  about evenly, the variance grows linearly, still safe); above it long
  sequences overflow.
* erf: ``Kd = (4/pi) / sqrt(1 + 4 q)`` shrinks as the variance ``q`` grows; the
  worst case is an input that stays at zero, where ``q`` settles at the fixed
  point of ``q = sigma_w**2 V(q) + sigma_b**2``. With ``sigma_w = 1`` and
  ``sigma_b = 0.1`` that gives ``sigma_w**2 * Kd = 0.97 < 1``; with
  ``sigma_b = 0`` it would be 1.017, which overflows after about 40,000 steps.
  That is why the default bias scale is not zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULTS", "Hyperparameters"]

DEFAULTS = {"sigma_w": 1.0, "sigma_u": 1.0, "sigma_b": 0.1, "sigma_h": 0.0, "sigma_v": 1.0}


def _per_layer(value, name: str, depth: int) -> np.ndarray:
    array = np.asarray(value)
    # Booleans are refused as for depth: sigma_w=True is a slip, not a scale of 1.
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or one per layer, got {value!r}")
    if array.ndim == 0:
        array = np.full(depth, float(array))
    elif array.shape == (depth,):
        array = array.astype(np.float64)
    else:
        raise ValueError(
            f"{name} must be a scalar or hold one value per layer ({depth}), "
            f"got an array of shape {array.shape}"
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    return array


@dataclass(frozen=True, eq=False)
class Hyperparameters:
    """Per-layer standard deviations of the RNN of spec section 1.

    Attributes
    ----------
    depth : int
        Number of recurrent layers ``L``.
    sigma_w, sigma_u, sigma_b, sigma_h : ndarray of shape (depth,)
        Scales of the recurrent weights, input weights, biases and initial state.
    sigma_v : float
        Scale of the read-out weights.
    """

    depth: int
    sigma_w: np.ndarray
    sigma_u: np.ndarray
    sigma_b: np.ndarray
    sigma_h: np.ndarray
    sigma_v: float

    @classmethod
    def from_arguments(
        cls,
        depth=1,
        sigma_w=DEFAULTS["sigma_w"],
        sigma_u=DEFAULTS["sigma_u"],
        sigma_b=DEFAULTS["sigma_b"],
        sigma_h=DEFAULTS["sigma_h"],
        sigma_v=DEFAULTS["sigma_v"],
    ) -> Hyperparameters:
        """Validate user arguments; scalars are broadcast to every layer."""
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
            raise TypeError(f"depth must be an integer, got {depth!r}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        depth = int(depth)
        if np.ndim(sigma_v) != 0:
            raise ValueError(f"sigma_v must be a single number, got {sigma_v!r}")
        sigma_v = _per_layer(sigma_v, "sigma_v", 1)[0]
        return cls(
            depth,
            _per_layer(sigma_w, "sigma_w", depth),
            _per_layer(sigma_u, "sigma_u", depth),
            _per_layer(sigma_b, "sigma_b", depth),
            _per_layer(sigma_h, "sigma_h", depth),
            float(sigma_v),
        )

    def describe(self) -> str:
        def fmt(values):
            return f"{values[0]:g}" if np.all(values == values[0]) else str(values.tolist())

        return (
            f"depth={self.depth}, sigma_w={fmt(self.sigma_w)}, sigma_u={fmt(self.sigma_u)}, "
            f"sigma_b={fmt(self.sigma_b)}, sigma_h={fmt(self.sigma_h)}, sigma_v={self.sigma_v:g}"
        )
