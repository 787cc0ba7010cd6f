r"""One recurrent stack of the finite network: its layout, initialisation and passes.

:class:`StackLayout` holds what every stack of a network shares (width,
scales, activation, weight sharing) and the parameters' shapes;
:class:`Stack` is one recurrent stack, its random initialisation, its forward
pass and its back-propagation through time, written by hand; the forward pass
leaves a :class:`Trace` for back-propagation and for the empirical kernels of
:mod:`rntk.network_kernels`. :class:`rntk.RNN` combines one stack, or two when
bidirectional, under its read-out head.

Steps are counted from the end (``r = 0`` is every sequence's last step), as
in :class:`~rntk.sequences.SequenceBatch`. The head enters only through the
read-out: the features that ``v`` multiplies (the head's weighted sum of top
states, :func:`read_weights_of`) and the gradient that back-propagation starts
from (at every read step, not only the last).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import DualActivation
from .heads import Head
from .hyperparameters import Hyperparameters
from .sequences import SequenceBatch

__all__ = [
    "BACKWARD_PREFIX",
    "Stack",
    "StackLayout",
    "Trace",
    "pad_steps",
    "read_weights_of",
    "rows_times",
]

#: Name prefix of the backward stack's parameters in a bidirectional network.
BACKWARD_PREFIX = "backward."


@dataclass(frozen=True, eq=False)
class Trace:
    """What one stack's forward pass over a batch leaves for back-propagation and kernels.

    Steps are counted from the end (``r = 0`` is every sequence's last step),
    as in :class:`~rntk.sequences.SequenceBatch`; for the backward stack they
    are the steps of the reversed sequences.

    Attributes
    ----------
    lengths : ndarray (n,)
    inputs : ndarray (R, n, m)
        The input steps ``x``, zero where a sequence has not started.
    states : list over layers of ndarray (R + 1, n, N)
        ``states[l][r]`` is the hidden state of layer ``l + 1`` after step ``r``;
        ``states[l][R]`` is the initial state ``h0``. A sequence that has not
        started at step ``r`` is still at ``h0`` there, so ``states[l][r + 1]`` is
        always the recurrent input of step ``r``.
    slopes : list over layers of ndarray (R, n, N)
        ``phi'(g)`` at each step, zero where the sequence has not started (so
        back-propagated vectors vanish there).
    params : dict of str to ndarray
        The stack's parameters the pass used, by their names without prefix.
    read_weights : ndarray (R, n)
        The weight of each top state in its sequence's read-out (see
        :func:`read_weights_of`).
    """

    lengths: np.ndarray
    inputs: np.ndarray
    states: list
    slopes: list
    params: dict
    read_weights: np.ndarray

    @property
    def horizon(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_features(self) -> int:
        return self.inputs.shape[2]

    def layer_input(self, layer: int) -> np.ndarray:
        """The input from below of layer ``layer`` at every step, (R, n, n_{l-1})."""
        return self.inputs if layer == 0 else self.states[layer - 1][:-1]

    def recurrent_input(self, layer: int) -> np.ndarray:
        """``h[l, t-1]`` at every step, (R, n, N)."""
        return self.states[layer][1:]

    def read_state(self) -> np.ndarray:
        """The head's weighted sum of the top layer's states, (n, N): what ``v`` reads."""
        return np.einsum("rn,rnk->nk", self.read_weights, self.states[-1][:-1])


def read_weights_of(head: Head, batch: SequenceBatch) -> np.ndarray:
    """How the head weighs the top state at each step (from the end) of each sequence, (R, n).

    The head's read rule's weights (:meth:`rntk.heads.ReadRule.read_weights`),
    0 before a sequence starts. The last-step head has a single 1 per
    sequence, at ``r = 0``; the mean head ``1 / count`` at its read steps.
    """
    return head.rule.read_weights(batch.lengths, batch.max_length)


@dataclass(frozen=True)
class StackLayout:
    """What every stack of a network shares: width, scales, activation and weight sharing."""

    width: int
    hyperparameters: Hyperparameters
    activation: DualActivation
    tied: bool
    max_length: int | None

    @property
    def step_axes(self) -> tuple[int, ...]:
        """The leading axis of untied parameters (one weight per step from the end)."""
        return () if self.tied else (self.max_length,)

    def parameter_shapes(self, n_features: int) -> dict[str, tuple[int, ...]]:
        """One stack's parameter shapes in the documented order ``W1, U1, b1, ..., v``."""
        n, steps = self.width, self.step_axes
        shapes = {}
        for layer in range(1, self.hyperparameters.depth + 1):
            below = n_features if layer == 1 else n
            shapes[f"W{layer}"] = (*steps, n, n)
            shapes[f"U{layer}"] = (*steps, n, below)
            shapes[f"b{layer}"] = (*steps, n)
        shapes["v"] = (n,)
        return shapes

    def scales(self, layer: int, n_features: int) -> tuple[float, float, float]:
        """Forward multipliers of ``W``, ``U`` and ``b`` in layer ``layer`` (0-based)."""
        hyper = self.hyperparameters
        fan_in = n_features if layer == 0 else self.width
        return (
            hyper.sigma_w[layer] / math.sqrt(self.width),
            hyper.sigma_u[layer] / math.sqrt(fan_in),
            hyper.sigma_b[layer],
        )

    @property
    def readout_scale(self) -> float:
        return self.hyperparameters.sigma_v / math.sqrt(self.width)

    def step_weight(self, weight: np.ndarray, step: int) -> np.ndarray:
        return weight if self.tied else weight[step]


class Stack:
    """One recurrent stack: its initial state and its forward and backward passes.

    A bidirectional network has two, with independent parameters and initial
    states; the backward one reads every sequence reversed. The parameters
    live in the network's one ``params`` dict, so that editing it changes the
    network; a stack finds its own there under ``prefix + name``.
    """

    def __init__(
        self,
        layout: StackLayout,
        reverses: bool,
        initial_state: tuple[np.ndarray, ...],
        input_weight_seed: int,
    ):
        self.layout = layout
        self.reverses = reverses
        self.prefix = BACKWARD_PREFIX if reverses else ""
        self.initial_state = initial_state
        self._input_weight_seed = input_weight_seed

    @classmethod
    def draw(
        cls, layout: StackLayout, reverses: bool, rng: np.random.Generator
    ) -> tuple[Stack, dict[str, np.ndarray]]:
        """A freshly initialised stack and all its parameters but ``U1``, by prefixed name.

        The input weights ``U1`` wait for the number of features per step
        (:meth:`input_weights`); their stream is fixed here, so they do not
        depend on when they are drawn. The order of the draws defines the
        network of a given seed: changing it changes every seeded network.
        """
        hyper, n, steps = layout.hyperparameters, layout.width, layout.step_axes
        initial_state = tuple(
            hyper.sigma_h[layer] * rng.standard_normal(n) for layer in range(hyper.depth)
        )
        params = {}
        for layer in range(1, hyper.depth + 1):
            params[f"W{layer}"] = rng.standard_normal((*steps, n, n))
            if layer > 1:
                params[f"U{layer}"] = rng.standard_normal((*steps, n, n))
            params[f"b{layer}"] = rng.standard_normal((*steps, n))
        params["v"] = rng.standard_normal(n)
        stack = cls(layout, reverses, initial_state, int(rng.integers(2**63)))
        return stack, {stack.prefix + name: value for name, value in params.items()}

    def input_weights(self, n_features: int) -> np.ndarray:
        """``U1`` for inputs of ``n_features`` features per step."""
        shape = (*self.layout.step_axes, self.layout.width, n_features)
        return np.random.default_rng(self._input_weight_seed).standard_normal(shape)

    def forward(self, batch: SequenceBatch, params: dict, read_weights: np.ndarray) -> Trace:
        """Run the stack over ``batch`` (reversed first if this is the backward stack).

        ``params`` is the network's whole dict, already checked; ``read_weights``
        how the head reads the top states (:func:`read_weights_of`).
        """
        layout = self.layout
        if self.reverses:
            batch = batch.reversed()
        own = {
            name: params[self.prefix + name] for name in layout.parameter_shapes(batch.n_features)
        }
        hyper, width = layout.hyperparameters, layout.width
        horizon, n = batch.max_length, batch.n_sequences
        states, slopes = [], []
        for layer in range(hyper.depth):
            layer_states = np.empty((horizon + 1, n, width))
            layer_states[horizon] = self.initial_state[layer]
            states.append(layer_states)
            slopes.append(np.empty((horizon, n, width)))

        for step in range(horizon - 1, -1, -1):
            started = (batch.lengths > step)[:, None]
            below = batch.steps_from_end[step]
            for layer in range(hyper.depth):
                w_scale, u_scale, b_scale = layout.scales(layer, batch.n_features)
                name = layer + 1
                previous = states[layer][step + 1]
                preactivation = rows_times(previous, layout.step_weight(own[f"W{name}"], step))
                preactivation *= w_scale
                preactivation += u_scale * rows_times(
                    below, layout.step_weight(own[f"U{name}"], step)
                )
                preactivation += b_scale * layout.step_weight(own[f"b{name}"], step)
                # A sequence that has not started stays at h0 and passes no gradient.
                activated = layout.activation(preactivation)
                states[layer][step] = np.where(started, activated, previous)
                slope = layout.activation.derivative(preactivation)
                np.multiply(slope, started, out=slopes[layer][step])
                below = states[layer][step]
        if not np.isfinite(states[-1]).all():
            raise FloatingPointError(
                f"the hidden states overflowed float64 with {hyper.describe()} on sequences "
                f"of up to {horizon} steps: the state grows geometrically when sigma_w is "
                "too large (ReLU: like (sigma_w**2 / 2)**T); use a smaller sigma_w, shorter "
                "sequences or inputs of smaller scale"
            )
        return Trace(batch.lengths, batch.steps_from_end, states, slopes, own, read_weights)

    def outputs(self, trace: Trace) -> np.ndarray:
        return self.layout.readout_scale * (trace.read_state() @ trace.params["v"])

    def backward(self, trace: Trace) -> list[np.ndarray]:
        """``delta[l][r] = df/dg`` of layer ``l + 1`` at step ``r``, (R, n, N) per layer.

        The read-out's gradient ``sigma_v / sqrt(N) v`` enters the top state at
        every step the head reads, with the head's weight of that step.
        """
        layout, params = self.layout, trace.params
        depth, horizon = layout.hyperparameters.depth, trace.horizon
        n, width = trace.lengths.shape[0], layout.width
        readout = layout.readout_scale * params["v"]
        deltas = [np.empty((horizon, n, width)) for _ in range(depth)]
        # Gradient reaching h[l, t] through W_l from the step after t.
        from_next_step = [np.zeros((n, width)) for _ in range(depth)]
        for step in range(horizon):
            for layer in range(depth - 1, -1, -1):
                grad_state = from_next_step[layer]
                if layer == depth - 1:
                    grad_state = grad_state + np.outer(trace.read_weights[step], readout)
                else:
                    u_scale = layout.scales(layer + 1, trace.n_features)[1]
                    above = deltas[layer + 1][step]
                    upper_weight = layout.step_weight(params[f"U{layer + 2}"], step)
                    grad_state = grad_state + u_scale * rows_times(above, upper_weight.T)
                np.multiply(grad_state, trace.slopes[layer][step], out=deltas[layer][step])
                if step + 1 < horizon:
                    w_scale = layout.scales(layer, trace.n_features)[0]
                    weight = layout.step_weight(params[f"W{layer + 1}"], step)
                    from_next_step[layer] = w_scale * rows_times(deltas[layer][step], weight.T)
        return deltas

    def gradients(self, trace: Trace) -> dict[str, np.ndarray]:
        """Per-sequence gradients of the stack's parameters, by prefixed name."""
        layout = self.layout
        deltas = self.backward(trace)
        gradients = {}
        for layer in range(layout.hyperparameters.depth):
            name = layer + 1
            w_scale, u_scale, b_scale = layout.scales(layer, trace.n_features)
            delta = deltas[layer]
            factors = {
                f"W{name}": (w_scale, trace.recurrent_input(layer)),
                f"U{name}": (u_scale, trace.layer_input(layer)),
            }
            for key, (scale, layer_input) in factors.items():
                if layout.tied:
                    gradients[key] = scale * np.einsum("rni,rnj->nij", delta, layer_input)
                else:
                    per_step = scale * np.einsum("rni,rnj->nrij", delta, layer_input)
                    gradients[key] = pad_steps(per_step, layout.max_length)
            if layout.tied:
                gradients[f"b{name}"] = b_scale * delta.sum(axis=0)
            else:
                gradients[f"b{name}"] = pad_steps(
                    b_scale * delta.transpose(1, 0, 2), layout.max_length
                )
        gradients["v"] = layout.readout_scale * trace.read_state()
        return {self.prefix + name: value for name, value in gradients.items()}


def rows_times(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix.T``, i.e. ``matrix`` applied to every row of ``rows``.

    Computed as ``(matrix @ rows.T).T``: OpenBLAS is up to several times faster
    with the few sequences as the last dimension than as the first.
    """
    return (matrix @ rows.T).T


def pad_steps(per_step: np.ndarray, max_length: int) -> np.ndarray:
    """Zero-pad axis 1 (steps from the end) of per-sequence untied gradients to ``max_length``."""
    padded = np.zeros((per_step.shape[0], max_length, *per_step.shape[2:]))
    padded[:, : per_step.shape[1]] = per_step
    return padded
