r"""The finite-width RNN whose infinite-width limit the RNTK describes.

:class:`RNN` is the network of spec section 1 in NumPy, weight-tied or
weight-untied, with the read-out heads of :mod:`rntk.heads` (the last step or
the mean of the top layer's states, optionally bidirectional), a hand-written
back-propagation through time and its exact empirical tangent kernel.

The module follows the network's concerns: :class:`_Architecture` holds what
every stack shares (sizes, scales, weight sharing); :class:`_Stack` is one
recurrent stack, its random initialisation and its forward and backward
passes; :class:`RNN` validates arguments and inputs, owns the parameters and
combines one stack, or two when bidirectional, under the head.

The kernel is computed in the factorised form below: every
parameter's gradient is a sum over steps of outer products
:math:`\delta_{l,t} \otimes a_{l,t}` of a back-propagated vector
:math:`\delta_{l,t} = \partial f / \partial g_{l,t}` and the layer's input
:math:`a_{l,t}`, so

.. math::

    \langle \nabla_{W} f(x), \nabla_{W} f(x') \rangle
    = c^2 \sum_{t, t'} (\delta_{t} \cdot \delta'_{t'})\,(a_{t} \cdot a'_{t'})

and the kernel of ``n`` sequences needs only ``(n T) x N`` Gram products, never
the ``n x P`` Jacobian (``P ~ N^2`` parameters). Untied weights keep only the
pairs of steps that share a weight, those at the same distance from the end.
The head enters only through the read-out: the features that ``v`` multiplies
(the head's weighted sum of top states) and the gradient that
back-propagation starts from (at every read step, not only the last). Given
the deltas, each layer's factorised kernel is the same for every head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import DualActivation, get_activation
from .heads import Head
from .hyperparameters import Hyperparameters
from .sequences import SequenceBatch, as_sequences

__all__ = ["RNN"]

#: Name prefix of the backward stack's parameters in a bidirectional network.
BACKWARD_PREFIX = "backward."


@dataclass(frozen=True, eq=False)
class _Trace:
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
        :func:`_read_weights`).
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


def _read_weights(head: Head, batch: SequenceBatch) -> np.ndarray:
    """How the head weighs the top state at each step (from the end) of each sequence, (R, n).

    ``1 / count`` at the head's read steps of a sequence and 0 elsewhere, so a
    sequence is never read at a step before it starts. The last-step head has
    a single 1 per sequence, at ``r = 0``.
    """
    weights = np.zeros((batch.max_length, batch.n_sequences))
    counts = head.counts(batch.lengths)
    for length in np.unique(batch.lengths):
        same_length = np.flatnonzero(batch.lengths == length)
        weights[np.ix_(head.read_steps(length), same_length)] = 1.0 / counts[same_length]
    return weights


def _check_positive_integer(value, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _as_generator(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))


def _check_finite_activation(activation: DualActivation) -> None:
    probe = np.zeros(1)
    try:
        activation(probe)
        activation.derivative(probe)
    except NotImplementedError:
        raise TypeError(
            f"activation {activation!r} defines only its dual map; a finite network "
            "needs phi(z) and phi'(z) (__call__ and derivative)"
        ) from None


@dataclass(frozen=True)
class _Architecture:
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


class _Stack:
    """One recurrent stack: its initial state and its forward and backward passes.

    A bidirectional network has two, with independent parameters and initial
    states; the backward one reads every sequence reversed. The parameters
    live in the network's one ``params`` dict, so that editing it changes the
    network; a stack finds its own there under ``prefix + name``.
    """

    def __init__(
        self,
        architecture: _Architecture,
        reverses: bool,
        initial_state: tuple[np.ndarray, ...],
        input_weight_seed: int,
    ):
        self.architecture = architecture
        self.reverses = reverses
        self.prefix = BACKWARD_PREFIX if reverses else ""
        self.initial_state = initial_state
        self._input_weight_seed = input_weight_seed

    @classmethod
    def draw(
        cls, architecture: _Architecture, reverses: bool, rng: np.random.Generator
    ) -> tuple[_Stack, dict[str, np.ndarray]]:
        """A freshly initialised stack and all its parameters but ``U1``, by prefixed name.

        The input weights ``U1`` wait for the number of features per step
        (:meth:`input_weights`); their stream is fixed here, so they do not
        depend on when they are drawn. The order of the draws defines the
        network of a given seed: changing it changes every seeded network.
        """
        hyper, n, steps = architecture.hyperparameters, architecture.width, architecture.step_axes
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
        stack = cls(architecture, reverses, initial_state, int(rng.integers(2**63)))
        return stack, {stack.prefix + name: value for name, value in params.items()}

    def input_weights(self, n_features: int) -> np.ndarray:
        """``U1`` for inputs of ``n_features`` features per step."""
        shape = (*self.architecture.step_axes, self.architecture.width, n_features)
        return np.random.default_rng(self._input_weight_seed).standard_normal(shape)

    def forward(self, batch: SequenceBatch, params: dict, read_weights: np.ndarray) -> _Trace:
        """Run the stack over ``batch`` (reversed first if this is the backward stack).

        ``params`` is the network's whole dict, already checked; ``read_weights``
        how the head reads the top states (:func:`_read_weights`).
        """
        architecture = self.architecture
        if self.reverses:
            batch = batch.reversed()
        own = {
            name: params[self.prefix + name]
            for name in architecture.parameter_shapes(batch.n_features)
        }
        hyper, width = architecture.hyperparameters, architecture.width
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
                w_scale, u_scale, b_scale = architecture.scales(layer, batch.n_features)
                name = layer + 1
                previous = states[layer][step + 1]
                preactivation = _rows_times(
                    previous, architecture.step_weight(own[f"W{name}"], step)
                )
                preactivation *= w_scale
                preactivation += u_scale * _rows_times(
                    below, architecture.step_weight(own[f"U{name}"], step)
                )
                preactivation += b_scale * architecture.step_weight(own[f"b{name}"], step)
                # A sequence that has not started stays at h0 and passes no gradient.
                activated = architecture.activation(preactivation)
                states[layer][step] = np.where(started, activated, previous)
                slope = architecture.activation.derivative(preactivation)
                np.multiply(slope, started, out=slopes[layer][step])
                below = states[layer][step]
        if not np.isfinite(states[-1]).all():
            raise FloatingPointError(
                f"the hidden states overflowed float64 with {hyper.describe()} on sequences "
                f"of up to {horizon} steps: the state grows geometrically when sigma_w is "
                "too large (ReLU: like (sigma_w**2 / 2)**T); use a smaller sigma_w, shorter "
                "sequences or inputs of smaller scale"
            )
        return _Trace(batch.lengths, batch.steps_from_end, states, slopes, own, read_weights)

    def outputs(self, trace: _Trace) -> np.ndarray:
        return self.architecture.readout_scale * (trace.read_state() @ trace.params["v"])

    def backward(self, trace: _Trace) -> list[np.ndarray]:
        """``delta[l][r] = df/dg`` of layer ``l + 1`` at step ``r``, (R, n, N) per layer.

        The read-out's gradient ``sigma_v / sqrt(N) v`` enters the top state at
        every step the head reads, with the head's weight of that step.
        """
        architecture, params = self.architecture, trace.params
        depth, horizon = architecture.hyperparameters.depth, trace.horizon
        n, width = trace.lengths.shape[0], architecture.width
        readout = architecture.readout_scale * params["v"]
        deltas = [np.empty((horizon, n, width)) for _ in range(depth)]
        # Gradient reaching h[l, t] through W_l from the step after t.
        from_next_step = [np.zeros((n, width)) for _ in range(depth)]
        for step in range(horizon):
            for layer in range(depth - 1, -1, -1):
                grad_state = from_next_step[layer]
                if layer == depth - 1:
                    grad_state = grad_state + np.outer(trace.read_weights[step], readout)
                else:
                    u_scale = architecture.scales(layer + 1, trace.n_features)[1]
                    above = deltas[layer + 1][step]
                    upper_weight = architecture.step_weight(params[f"U{layer + 2}"], step)
                    grad_state = grad_state + u_scale * _rows_times(above, upper_weight.T)
                np.multiply(grad_state, trace.slopes[layer][step], out=deltas[layer][step])
                if step + 1 < horizon:
                    w_scale = architecture.scales(layer, trace.n_features)[0]
                    weight = architecture.step_weight(params[f"W{layer + 1}"], step)
                    from_next_step[layer] = w_scale * _rows_times(deltas[layer][step], weight.T)
        return deltas

    def gradients(self, trace: _Trace) -> dict[str, np.ndarray]:
        """Per-sequence gradients of the stack's parameters, by prefixed name."""
        architecture = self.architecture
        deltas = self.backward(trace)
        gradients = {}
        for layer in range(architecture.hyperparameters.depth):
            name = layer + 1
            w_scale, u_scale, b_scale = architecture.scales(layer, trace.n_features)
            delta = deltas[layer]
            factors = {
                f"W{name}": (w_scale, trace.recurrent_input(layer)),
                f"U{name}": (u_scale, trace.layer_input(layer)),
            }
            for key, (scale, layer_input) in factors.items():
                if architecture.tied:
                    gradients[key] = scale * np.einsum("rni,rnj->nij", delta, layer_input)
                else:
                    per_step = scale * np.einsum("rni,rnj->nrij", delta, layer_input)
                    gradients[key] = _pad_steps(per_step, architecture.max_length)
            if architecture.tied:
                gradients[f"b{name}"] = b_scale * delta.sum(axis=0)
            else:
                gradients[f"b{name}"] = _pad_steps(
                    b_scale * delta.transpose(1, 0, 2), architecture.max_length
                )
        gradients["v"] = architecture.readout_scale * trace.read_state()
        return {self.prefix + name: value for name, value in gradients.items()}

    def conjugate_kernel(self, rows: _Trace, columns: _Trace) -> np.ndarray:
        """The read-out features' Gram matrix, ``sigma_v^2 / N`` times the read states' products."""
        features = rows.read_state()
        column_features = features if columns is rows else columns.read_state()
        return self.architecture.readout_scale**2 * (features @ column_features.T)

    def tangent_kernel(self, rows: _Trace, columns: _Trace) -> np.ndarray:
        """The stack's share of the empirical NTK: its read-out plus every layer's."""
        architecture = self.architecture
        row_deltas = self.backward(rows)
        column_deltas = row_deltas if columns is rows else self.backward(columns)
        theta = self.conjugate_kernel(rows, columns)
        for layer in range(architecture.hyperparameters.depth):
            w_scale, u_scale, b_scale = architecture.scales(layer, rows.n_features)
            theta += _layer_tangent_kernel(
                row_deltas[layer],
                column_deltas[layer],
                (rows.recurrent_input(layer), rows.layer_input(layer)),
                (columns.recurrent_input(layer), columns.layer_input(layer)),
                (w_scale**2, u_scale**2),
                b_scale**2,
                architecture.tied,
            )
        return theta


class RNN:
    r"""A finite-width Elman RNN in the NTK parameterisation (spec section 1).

    .. math::

        g_{l,t} = \frac{\sigma_{w,l}}{\sqrt N} W_l h_{l,t-1}
                + \frac{\sigma_{u,l}}{\sqrt{n_{l-1}}} U_l h_{l-1,t} + \sigma_{b,l} b_l,
        \qquad h_{l,t} = \phi(g_{l,t}), \qquad h_{0,t} = x_t.

    Every trained parameter is standard normal at initialisation. The initial
    state :math:`h_{l,0} \sim \mathcal N(0, \sigma_{h,l}^2 I)` is drawn once per
    network, shared by every input and not trained (it is
    :attr:`initial_state`, not part of :attr:`params`). The read-out is one of
    the heads of :mod:`rntk.heads`:

    ``readout="last"`` (default)
        :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top h_{L,T}`, the last step.
    ``readout="mean"``
        :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top \frac{1}{|R_T|}
        \sum_{t \in R_T} h_{L,t}`, the mean of the top states over the read
        steps :math:`R_T`: every ``pool_stride``-th step counted back from the
        last one (every step for ``pool_stride=1``). A sequence is read only
        at its own steps.
    ``bidirectional=True``
        A second stack with independent parameters and initial state reads
        the sequence reversed and the two read-outs add,
        :math:`f(x) = f_{\rightarrow}(x) + f_{\leftarrow}(\overleftarrow{x})`,
        each with its own ``v`` scaled by :math:`\sigma_v / \sqrt N`, so the
        kernels add as well. With ``readout="last"`` the backward stack is
        read at the sequence's first element.

    As ``width`` grows, :meth:`ntk` and :meth:`nngp` converge to
    :func:`rntk.kernel` with the same hyperparameters and head.

    Parameters
    ----------
    width : int
        Number of hidden units ``N`` of every layer.
    depth : int, default 1
        Number of recurrent layers ``L``.
    activation : {"relu", "erf"} or DualActivation, default "relu"
        The nonlinearity ``phi``; a custom :class:`~rntk.activations.DualActivation`
        must implement ``phi`` (``__call__``) and ``phi'`` (``derivative``).
    sigma_w, sigma_u, sigma_b, sigma_h : float or sequence of float, optional
        Scales of the recurrent weights, input weights, biases and initial
        state, one value or one per layer, with the activation's defaults, as
        in :func:`rntk.kernel`.
    sigma_v : float, default 1
        Scale of the read-out weights (of each stack when bidirectional).
    readout : {"last", "mean"}, default "last"
        Read the top layer's last state or the mean of its states.
    bidirectional : bool, default False
        Add a backward stack on the reversed sequences.
    pool_stride : int, default 1
        The mean head reads every ``pool_stride``-th state counted back from
        the last one; only 1 is valid for ``readout="last"``.
    tied : bool, default True
        Share ``W_l, U_l, b_l`` across time steps. With ``tied=False`` every
        step has its own weights, indexed from the END of the sequence: the
        weights ``[r]`` act ``r`` steps before the last one, so sequences of
        different lengths share the weights of their final steps (the
        backward stack's, the final steps of the reversed sequences).
    max_length : int, optional
        The longest sequence the network accepts. Required for untied weights
        (the network holds weights for that many steps); optional for tied ones.
    n_features : int, optional
        Features per input step ``m``. By default it is taken from the first
        input the network sees, and the input weights ``U1`` are drawn then (from
        a stream fixed at construction, so the result does not depend on when).
    seed : int, numpy Generator or SeedSequence, optional
        Source of the random initialisation. The forward stack's draws do not
        depend on the head; a backward stack draws after them from the same
        stream.

    Attributes
    ----------
    params : dict of str to ndarray
        Every trained parameter by name: ``W1, U1, b1, ..., WL, UL, bL, v``,
        followed for a bidirectional network by the backward stack's
        ``backward.W1, ..., backward.v``. Tied shapes are ``W_l (N, N)``,
        ``U_l (N, n_{l-1})``, ``b_l (N,)``, ``v (N,)``; untied ones carry a
        leading axis ``(max_length, ...)`` indexed by steps from the end.
        Editing the arrays in place (or replacing them with arrays of the same
        shape) changes the network.
    initial_state : tuple of ndarray (N,)
        ``h0`` of every layer of the (forward) stack.
    backward_initial_state : tuple of ndarray (N,) or None
        ``h0`` of every layer of the backward stack, None when unidirectional.
    head : Head
        The validated ``readout``, ``pool_stride`` and ``bidirectional``.

    Raises
    ------
    TypeError, ValueError
        For malformed arguments; the message names the argument.
    ValueError
        For ``readout="mean"`` with ``tied=False``. Untied weights are indexed
        from the end of the sequence, so the states the mean head averages,
        at different distances from their sequences' ends, come from
        independent weights for two sequences: the prefix identity
        :math:`\Theta_{mean}(x, x') = \frac{1}{|R_T| |R_{T'}|} \sum_{t, t'}
        \Theta_{last}(x_{1:t}, x'_{1:t'})` fails and the infinite-width limit
        is not :func:`rntk.kernel`'s mean head. A bidirectional untied network
        is fine: the backward stack's weights are indexed from the end of the
        reversed sequence.

    Notes
    -----
    The tied network has about ``(2 L - 1) N^2`` parameters per stack, the
    untied one ``max_length`` times as many (e.g. 10.7 GB of ``W`` alone for
    ``N = 2**14`` and ``max_length = 5``).
    :meth:`ntk` costs ``O(L n T N^2)`` for the forward and backward passes plus
    ``O(L n^2 T^2 N)`` for the Gram products, in ``O(L n T N)`` memory besides
    the parameters, per stack; the head adds ``O(n T N)``.

    References
    ----------
    .. [1] S. Alemohammad, Z. Wang, R. Balestriero, R. Baraniuk, "The Recurrent
       Neural Tangent Kernel", ICLR 2021, arXiv:2006.10246.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> from rntk.network import RNN
    >>> X = [np.sin(np.linspace(0, 3, 5)), np.cos(np.linspace(0, 2, 3))]
    >>> net = RNN(4096, seed=0)
    >>> net(X).shape, net.ntk(X).shape
    ((2,), (2, 2))

    The fluctuation around the limit shrinks like ``1 / sqrt(width)``:

    >>> limit = rntk.kernel(X)
    >>> bool(np.linalg.norm(net.ntk(X) - limit) < 0.1 * np.linalg.norm(limit))
    True

    A bidirectional network's limit is the sum of the kernels of the sequences
    and of the reversed sequences:

    >>> bi = RNN(2048, bidirectional=True, seed=0)
    >>> limit = rntk.kernel(X) + rntk.kernel([x[::-1] for x in X])
    >>> bool(np.linalg.norm(bi.ntk(X) - limit) < 0.1 * np.linalg.norm(limit))
    True
    >>> list(bi.params)
    ['W1', 'U1', 'b1', 'v', 'backward.W1', 'backward.U1', 'backward.b1', 'backward.v']
    """

    def __init__(
        self,
        width: int,
        *,
        depth: int = 1,
        activation: str | DualActivation = "relu",
        sigma_w=None,
        sigma_u=None,
        sigma_b=None,
        sigma_h=None,
        sigma_v: float | None = None,
        readout: str = "last",
        bidirectional: bool = False,
        pool_stride: int = 1,
        tied: bool = True,
        max_length: int | None = None,
        n_features: int | None = None,
        seed=None,
    ):
        self.width = _check_positive_integer(width, "width")
        self.activation = get_activation(activation)
        self.hyperparameters = Hyperparameters.from_arguments(
            depth, sigma_w, sigma_u, sigma_b, sigma_h, sigma_v, activation=self.activation
        )
        _check_finite_activation(self.activation)
        self.head = Head.from_arguments(readout, bidirectional, pool_stride)
        if not isinstance(tied, (bool, np.bool_)):
            raise TypeError(f"tied must be True or False, got {tied!r}")
        self.tied = bool(tied)
        if not self.tied and not self.head.reads_last_step_only:
            raise ValueError(
                f"readout={self.head.readout!r} needs tied weights (tied=True): untied weights "
                "are indexed from the end of the sequence, so states at different distances "
                "from their sequences' ends come from independent weights and the network's "
                "infinite-width limit is not the mean head's kernel"
            )
        self.max_length = _check_positive_integer(max_length, "max_length", allow_none=True)
        if not self.tied and self.max_length is None:
            raise ValueError(
                "max_length is required for an untied network (tied=False): it is the "
                "number of steps the network holds weights for"
            )
        self.n_features = _check_positive_integer(n_features, "n_features", allow_none=True)

        self._architecture = _Architecture(
            self.width, self.hyperparameters, self.activation, self.tied, self.max_length
        )
        rng = _as_generator(seed)
        stacks, self._params = [], {}
        for reverses in self.head.directions:
            stack, params = _Stack.draw(self._architecture, reverses, rng)
            stacks.append(stack)
            self._params.update(params)
        self._stacks = tuple(stacks)
        if self.n_features is not None:
            self._draw_input_weights(self.n_features)

    def __repr__(self) -> str:
        untied = "" if self.tied else f", tied=False, max_length={self.max_length}"
        head = "" if self.head == Head() else f", {self.head.describe()}"
        return (
            f"RNN(width={self.width}, activation={self.activation.name!r}, "
            f"{self.hyperparameters.describe()}{head}{untied})"
        )

    # ------------------------------------------------------------------ parameters

    @property
    def initial_state(self) -> tuple[np.ndarray, ...]:
        """``h0`` of every layer of the (forward) stack."""
        return self._stacks[0].initial_state

    @property
    def backward_initial_state(self) -> tuple[np.ndarray, ...] | None:
        """``h0`` of every layer of the backward stack; None when unidirectional."""
        return self._stacks[1].initial_state if self.head.bidirectional else None

    def _draw_input_weights(self, n_features: int) -> None:
        self.n_features = n_features
        for stack in self._stacks:
            self._params[stack.prefix + "U1"] = stack.input_weights(n_features)
        # Keep the documented order W1, U1, b1, W2, ...
        self._params = {name: self._params[name] for name in self._expected_shapes()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every trained parameter by name (see the class docstring)."""
        if self.n_features is None:
            raise RuntimeError(
                "the input weights U1 are drawn when the number of features per step is "
                "known: pass n_features=... to RNN or call the network on data first"
            )
        return self._params

    @property
    def n_parameters(self) -> int:
        """Total number of trained parameters."""
        return sum(p.size for p in self.params.values())

    def _expected_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = self._architecture.parameter_shapes(self.n_features)
        return {
            stack.prefix + name: shape for stack in self._stacks for name, shape in shapes.items()
        }

    def _checked_params(self) -> dict[str, np.ndarray]:
        """The parameters, after checking that edits kept every name and shape."""
        params = self.params
        for name, shape in self._expected_shapes().items():
            if name not in params:
                raise KeyError(f"params has lost the parameter {name!r}")
            if np.shape(params[name]) != shape:
                raise ValueError(
                    f"params[{name!r}] must have shape {shape}, got {np.shape(params[name])}"
                )
        return params

    # ------------------------------------------------------------------ inputs

    def _batch(self, X, name: str) -> SequenceBatch:
        batch = as_sequences(X, name)
        if self.n_features is None:
            self._draw_input_weights(batch.n_features)
        elif batch.n_features != self.n_features:
            raise ValueError(
                f"{name} has {batch.n_features} features per step but the network was "
                f"built for {self.n_features}"
            )
        if self.max_length is not None and batch.max_length > self.max_length:
            longest = int(np.argmax(batch.lengths))
            raise ValueError(
                f"{name}: sequence {longest} has {batch.max_length} steps but the network "
                f"holds max_length={self.max_length}; build it with a larger max_length"
            )
        return batch

    def _forward(self, X, name: str) -> list[_Trace]:
        """Validate ``X`` and run every stack over it: one trace per stack."""
        batch = self._batch(X, name)
        params = self._checked_params()
        read_weights = _read_weights(self.head, batch)
        return [stack.forward(batch, params, read_weights) for stack in self._stacks]

    # ------------------------------------------------------------------ public

    def __call__(self, X) -> np.ndarray:
        """The network's outputs ``f(x)`` for every sequence of ``X``.

        Parameters
        ----------
        X : array (n, T), array (n, T, m), NaN-padded array or list of (T_i,) or (T_i, m)
            Sequences, aligned at their last step, as for :func:`rntk.kernel`.

        Returns
        -------
        ndarray of shape (n,)
            The head's read-out; the sum of both stacks' when bidirectional.

        Raises
        ------
        TypeError, ValueError
            For malformed sequences, a number of features other than the
            network's, or a sequence longer than ``max_length``.
        FloatingPointError
            If the hidden states leave the float64 range (``sigma_w`` too large
            for the length). :meth:`grad`, :meth:`ntk` and :meth:`nngp` raise
            the same errors.
        """
        traces = self._forward(X, "X")
        return sum(stack.outputs(trace) for stack, trace in zip(self._stacks, traces, strict=True))

    def grad(self, X) -> dict[str, np.ndarray]:
        """Per-sequence gradients of the output with respect to every parameter.

        Back-propagation through time, by hand. Memory is ``n`` times the
        parameter count, so this is for small widths; :meth:`ntk` never forms it.

        Parameters
        ----------
        X : sequences, same formats as :meth:`__call__`

        Returns
        -------
        dict of str to ndarray
            ``grad[name][i]`` is ``d f(x_i) / d params[name]``, shape
            ``(n, *params[name].shape)``, in the order of :attr:`params`.
            Untied weights of steps a sequence does not reach have zero
            gradient. The gradient of ``v`` is the head's read-out features.
        """
        gradients = {}
        for stack, trace in zip(self._stacks, self._forward(X, "X"), strict=True):
            gradients.update(stack.gradients(trace))
        return {name: gradients[name] for name in self.params}

    def nngp(self, X, X2=None) -> np.ndarray:
        r"""The empirical conjugate kernel :math:`\frac{\sigma_v^2}{N} h \cdot h'` of the read-out.

        ``h`` is what the head reads (the last top state, or the mean of the
        read ones), summed over both stacks when bidirectional, scaled so that
        it converges to ``rntk.kernel(..., get="nngp")`` as the width grows.

        Parameters
        ----------
        X, X2 : sequences, same formats as :meth:`__call__`; ``X2=None`` means ``X``

        Returns
        -------
        ndarray of shape (n1, n2)
        """
        rows = self._forward(X, "X")
        columns = rows if X2 is None else self._forward(X2, "X2")
        return sum(
            stack.conjugate_kernel(row, column)
            for stack, row, column in zip(self._stacks, rows, columns, strict=True)
        )

    def ntk(self, X, X2=None) -> np.ndarray:
        r"""The exact empirical tangent kernel of the network.

        :math:`\Theta(x, x') = \langle \nabla_\theta f(x), \nabla_\theta f(x') \rangle`
        summed over every trained parameter (of both stacks when
        bidirectional), computed from one forward and one backward pass per
        batch and stack in the factorised form of the module docstring, without
        forming the Jacobian.

        Parameters
        ----------
        X, X2 : sequences, same formats as :meth:`__call__`; ``X2=None`` means ``X``
            (the result is then exactly symmetric).

        Returns
        -------
        ndarray of shape (n1, n2)
        """
        rows = self._forward(X, "X")
        columns = rows if X2 is None else self._forward(X2, "X2")
        theta = sum(
            stack.tangent_kernel(row, column)
            for stack, row, column in zip(self._stacks, rows, columns, strict=True)
        )
        if X2 is None:
            theta = 0.5 * (theta + theta.T)
        return theta


def _rows_times(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix.T``, i.e. ``matrix`` applied to every row of ``rows``.

    Computed as ``(matrix @ rows.T).T``: OpenBLAS is up to several times faster
    with the few sequences as the last dimension than as the first.
    """
    return (matrix @ rows.T).T


def _pad_steps(per_step: np.ndarray, max_length: int) -> np.ndarray:
    """Zero-pad axis 1 (steps from the end) of per-sequence untied gradients to ``max_length``."""
    padded = np.zeros((per_step.shape[0], max_length, *per_step.shape[2:]))
    padded[:, : per_step.shape[1]] = per_step
    return padded


def _layer_tangent_kernel(
    row_deltas: np.ndarray,
    column_deltas: np.ndarray,
    row_inputs: tuple[np.ndarray, ...],
    column_inputs: tuple[np.ndarray, ...],
    input_weights: tuple[float, ...],
    bias_weight: float,
    tied: bool,
) -> np.ndarray:
    r"""One layer's contribution to the tangent kernel (spec section 8).

    For a parameter ``c * M`` acting on an input ``a`` the contribution is
    :math:`c^2 \sum (\delta_r \cdot \delta'_{r'}) (a_r \cdot a'_{r'})`; the layer's
    ``W``, ``U`` and ``b`` share the ``delta`` Gram, so it is formed once and
    multiplied by :math:`\sum_k c_k^2 (a_k \cdot a'_k) + c_b^2`. Tied weights sum
    over every pair of steps ``(r, r')``, untied ones over ``r = r'`` only.

    ``row_deltas`` is ``(R1, n1, N)``, each of ``row_inputs`` ``(R1, n1, d_k)``;
    the columns likewise with ``R2, n2``. Memory stays ``O(n1 R2 n2)``: one row
    step against all column steps at a time.
    """
    horizon, n_rows = row_deltas.shape[:2]
    column_horizon, n_columns = column_deltas.shape[:2]
    theta = np.zeros((n_rows, n_columns))
    if tied:
        flat_columns = column_deltas.reshape(column_horizon * n_columns, -1)
        flat_inputs = [a.reshape(column_horizon * n_columns, -1) for a in column_inputs]
        for step in range(horizon):
            features = np.full((n_rows, column_horizon * n_columns), bias_weight)
            for weight, row_input, column_input in zip(
                input_weights, row_inputs, flat_inputs, strict=True
            ):
                features += weight * (row_input[step] @ column_input.T)
            features *= row_deltas[step] @ flat_columns.T
            theta += features.reshape(n_rows, column_horizon, n_columns).sum(axis=1)
    else:
        for step in range(min(horizon, column_horizon)):
            features = np.full((n_rows, n_columns), bias_weight)
            for weight, row_input, column_input in zip(
                input_weights, row_inputs, column_inputs, strict=True
            ):
                features += weight * (row_input[step] @ column_input[step].T)
            features *= row_deltas[step] @ column_deltas[step].T
            theta += features
    return theta
