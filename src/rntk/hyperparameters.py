"""The architecture's hyperparameters, validated once and shared by every model.

The limit kernel (:func:`rntk.kernel`, :class:`rntk.RNTK`), the finite network
(:mod:`rntk.network`) and the sensitivity (:func:`rntk.sensitivity`) take the same keyword arguments
with the same defaults, those of :meth:`Architecture.from_arguments` (documented
in :class:`rntk.RNTK`); this module turns them into per-layer arrays and checks
them.

Defaults
--------
A scale left at ``None`` takes the activation's default, else the generic one:

=============  =========  ========  =========  =========  =========
activation     sigma_w    sigma_u   sigma_b    sigma_h    sigma_v
=============  =========  ========  =========  =========  =========
relu           sqrt(2)    1         2          0          1
erf            1          0.1       0.1        0          1
others         1          1         0.1        0          1
=============  =========  ========  =========  =========  =========

They are chosen so that the kernel sees the whole sequence and stays bounded
for sequences of any length (checked on 10,000 steps in the tests). The
tangent kernel obeys ``Theta_t = Sigma_t + sigma_w**2 * Kd_t * Theta_{t-1} +
...``, so a step ``T - t`` before the end weighs about ``(sigma_w**2 Kd)**t``:

* ReLU: ``Kd = 1/2`` between a sequence and itself, and the variance grows like
  ``(sigma_w**2 / 2)**T``. ``sigma_w = sqrt(2)`` is the critical point: every
  step keeps its weight (no geometric decay) and the variance grows only
  linearly, so even
  10,000 steps stay far from overflow. Below it the kernel forgets: with
  ``sigma_w = 1`` (the default of rntk 0.1) 98.7% of the sensitivity of a
  GunPoint series sat in its last 10 steps and an SVM on that kernel was at
  chance. Above it long sequences overflow. ReLU is homogeneous, so
  ``sigma_u`` only sets the inputs' weight against the bias. The default bias
  is large, ``sigma_b**2 = 4`` against ``sigma_u**2 = 1``: it keeps the two
  states of a pair strongly correlated, where the arc-cosine map is close to
  linear, and on the bundled UCR sets it lifts the SVM on the default kernel
  from 75.9% to 80.7% mean accuracy (``sigma_b = 0.1``: 1.18x between thirds
  of a 100-step pair's per-step sensitivity; ``sigma_b = 2``: the last third
  weighs 4x the middle one, and the first step still 0.46x the average).
* erf: ``Kd = (4/pi) / sqrt(1 + 4 q)`` shrinks as the variance ``q`` grows.
  Inputs of unit scale with ``sigma_u = 1`` keep ``q`` near 1, where
  ``sigma_w**2 Kd`` is about 0.5 and only the last few steps count. Small
  input weights (``sigma_u = 0.1``) keep ``q`` near the fixed point of a zero
  input, ``q = sigma_w**2 V(q) + sigma_b**2``, where ``sigma_w = 1`` and
  ``sigma_b = 0.1`` give ``sigma_w**2 * Kd = 0.97``: a long memory, still below
  1. With ``sigma_b = 0`` it would be 1.017, which overflows after about
  40,000 steps; that is why the default bias scale is not zero.

``examples/ucr_defaults.py`` measures what the defaults give an SVM on the
UCR/UEA data sets available offline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import DualActivation, get_activation
from .heads import Head
from .options import check_instance, check_positive_integer

__all__ = ["DEFAULTS", "Architecture", "Hyperparameters", "default_scales"]

DEFAULTS = {"sigma_w": 1.0, "sigma_u": 1.0, "sigma_b": 0.1, "sigma_h": 0.0, "sigma_v": 1.0}


def default_scales(activation=None) -> dict[str, float]:
    """The default of every scale for ``activation`` (a DualActivation or None)."""
    return {**DEFAULTS, **getattr(activation, "default_scales", {})}


def _per_layer(value, name: str, depth: int) -> np.ndarray:
    """``value`` as a read-only float64 array of one scale per layer, or an error naming it."""
    array = np.asarray(value)
    # Booleans are refused as for depth: sigma_w=True is a slip, not a scale of 1.
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or one per layer, got {value!r}")
    if array.ndim == 0:
        array = np.full(depth, float(array))
    elif array.shape == (depth,):
        array = array.astype(np.float64)  # a copy: the caller's array may change later
    else:
        raise ValueError(
            f"{name} must be a scalar or hold one value per layer (depth={depth}), "
            f"got an array of shape {array.shape}"
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Hyperparameters:
    """Per-layer standard deviations of the RNN of ``docs/math.md#the-model``.

    Every field is checked on construction, also by :func:`dataclasses.replace`
    (a message names the field at fault): ``depth`` is a positive integer, a
    scale is finite and non-negative, and ``sigma_w, sigma_u, sigma_b,
    sigma_h`` become read-only arrays of one value per layer (a scalar is
    broadcast). So ``replace(h, depth=3)`` of a one-layer ``h`` raises instead of
    building a record that the recursion cannot use.

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

    def __post_init__(self):
        depth = check_positive_integer(self.depth, "depth")
        object.__setattr__(self, "depth", depth)
        for name in ("sigma_w", "sigma_u", "sigma_b", "sigma_h"):
            object.__setattr__(self, name, _per_layer(getattr(self, name), name, depth))
        if np.ndim(self.sigma_v) != 0:
            raise ValueError(f"sigma_v must be a single number, got {self.sigma_v!r}")
        object.__setattr__(self, "sigma_v", float(_per_layer(self.sigma_v, "sigma_v", 1)[0]))

    @classmethod
    def from_arguments(
        cls,
        *,
        depth=1,
        sigma_w=None,
        sigma_u=None,
        sigma_b=None,
        sigma_h=None,
        sigma_v=None,
        activation=None,
    ) -> Hyperparameters:
        """The hyperparameters of the user's keyword arguments.

        A scale given as ``None`` takes ``activation``'s default (its
        ``default_scales``), else the generic one in :data:`DEFAULTS`.
        """
        defaults = default_scales(activation)
        given = {
            "sigma_w": sigma_w,
            "sigma_u": sigma_u,
            "sigma_b": sigma_b,
            "sigma_h": sigma_h,
            "sigma_v": sigma_v,
        }
        scales = {name: defaults[name] if value is None else value for name, value in given.items()}
        return cls(depth=depth, **scales)

    def describe(self) -> str:
        def fmt(values):
            return f"{values[0]:g}" if np.all(values == values[0]) else str(values.tolist())

        return (
            f"depth={self.depth}, sigma_w={fmt(self.sigma_w)}, sigma_u={fmt(self.sigma_u)}, "
            f"sigma_b={fmt(self.sigma_b)}, sigma_h={fmt(self.sigma_h)}, sigma_v={self.sigma_v:g}"
        )


@dataclass(frozen=True, eq=False)
class Architecture:
    """The model every kernel and network is built from: activation, scales and read-out head.

    Attributes
    ----------
    activation : DualActivation
    hyperparameters : Hyperparameters
    head : Head
    """

    activation: DualActivation
    hyperparameters: Hyperparameters
    head: Head

    def __post_init__(self):
        # Validated here too, so that dataclasses.replace cannot build an
        # architecture of the wrong parts (each part validates itself).
        object.__setattr__(self, "activation", get_activation(self.activation))
        check_instance(self.hyperparameters, "hyperparameters", Hyperparameters)
        check_instance(self.head, "head", Head)

    @classmethod
    def from_arguments(
        cls,
        *,
        activation: str | DualActivation = "relu",
        depth: int = 1,
        sigma_w=None,
        sigma_u=None,
        sigma_b=None,
        sigma_h=None,
        sigma_v: float | None = None,
        readout: str = "last",
        bidirectional: bool = False,
        pool_stride: int = 1,
    ) -> Architecture:
        """Validate the architecture's arguments, as :class:`rntk.RNTK` documents them.

        These are the parameters shared by :func:`rntk.kernel`, :class:`rntk.RNTK`,
        :class:`rntk.RNN` and :func:`rntk.sensitivity`, with their defaults: the
        one list of them. A message names the argument at fault.
        """
        activation = get_activation(activation)
        hyperparameters = Hyperparameters.from_arguments(
            depth=depth,
            sigma_w=sigma_w,
            sigma_u=sigma_u,
            sigma_b=sigma_b,
            sigma_h=sigma_h,
            sigma_v=sigma_v,
            activation=activation,
        )
        head = Head.from_arguments(
            readout=readout, bidirectional=bidirectional, pool_stride=pool_stride
        )
        return cls(activation=activation, hyperparameters=hyperparameters, head=head)
