r"""The finite-width RNN whose infinite-width limit the RNTK describes.

:class:`RNN` is the network of ``docs/math.md#the-model`` in NumPy, weight-tied or
weight-untied, with the read-out heads of :mod:`rntk.heads` (the last step or
the mean of the top layer's states, optionally bidirectional), a hand-written
back-propagation through time and its exact empirical tangent kernel.

The network is written along its concerns, one module each:

* :mod:`rntk.network` (here): :class:`RNN` validates arguments and inputs,
  owns the parameters and combines one stack, or two when bidirectional,
  under the head;
* :mod:`rntk.network_passes`: one recurrent stack, its layout (sizes, scales,
  weight sharing), its random initialisation and its forward and backward
  passes;
* :mod:`rntk.network_kernels`: the empirical NNGP and NTK of a stack, the
  latter in a factorised form that never forms the Jacobian.
"""

from __future__ import annotations

import numpy as np

from .activations import DualActivation
from .heads import Head
from .hyperparameters import Architecture
from .network_kernels import conjugate_kernel, tangent_kernel
from .network_passes import Stack, StackLayout, Trace, read_weights_of
from .options import check_flag, check_keywords, check_positive_integer, is_integer, keywords_of
from .sequences import SequenceBatch, as_sequences

__all__ = ["RNN"]


def _as_generator(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if not is_integer(seed):
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


class RNN:
    r"""A finite-width Elman RNN in the NTK parameterisation (``docs/math.md#the-model``).

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
    ``readout=rule``, a :class:`rntk.heads.ReadRule`
        The top states weighed by the rule's normalised profile.
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
    **parameters
        The architecture and its read-out head, ``activation, depth, sigma_w,
        sigma_u, sigma_b, sigma_h, sigma_v, readout, bidirectional,
        pool_stride``, as in :class:`rntk.RNTK` (same defaults). The activation
        must also implement ``phi`` and ``phi'`` (``__call__`` and
        ``derivative`` of a :class:`~rntk.activations.DualActivation`), and
        ``sigma_v`` scales the read-out of each stack when bidirectional.

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

    @keywords_of(Architecture.from_arguments)
    def __init__(
        self,
        width: int,
        *,
        tied: bool = True,
        max_length: int | None = None,
        n_features: int | None = None,
        seed=None,
        **parameters,
    ):
        self.width = check_positive_integer(width, "width")
        check_keywords(parameters, RNN)
        architecture = Architecture.from_arguments(**parameters)
        self.activation = architecture.activation
        self.hyperparameters = architecture.hyperparameters
        self.head = architecture.head
        _check_finite_activation(self.activation)
        self.tied = check_flag(tied, "tied")
        if not self.tied and not self.head.rule.reads_last_step_only:
            raise ValueError(
                f"readout={self.head.readout!r} needs tied weights (tied=True): untied weights "
                "are indexed from the end of the sequence, so states at different distances "
                "from their sequences' ends come from independent weights and the network's "
                "infinite-width limit is not the mean head's kernel"
            )
        self.max_length = check_positive_integer(max_length, "max_length", allow_none=True)
        if not self.tied and self.max_length is None:
            raise ValueError(
                "max_length is required for an untied network (tied=False): it is the "
                "number of steps the network holds weights for"
            )
        self.n_features = check_positive_integer(n_features, "n_features", allow_none=True)

        self._layout = StackLayout(
            self.width, self.hyperparameters, self.activation, self.tied, self.max_length
        )
        rng = _as_generator(seed)
        stacks, self._params = [], {}
        for reverses in self.head.directions:
            stack, params = Stack.draw(self._layout, reverses, rng)
            stacks.append(stack)
            self._params.update(params)
        self._stacks = tuple(stacks)
        if self.n_features is not None:
            self._draw_input_weights(self.n_features)

    def __setattr__(self, name: str, value) -> None:
        # The architecture is fixed when the weights are drawn: an assignment could
        # only be ignored (the weights keep their shapes) or half-applied, so it is
        # refused. The weights themselves are the arrays of params.
        if not name.startswith("_") and "_stacks" in self.__dict__:
            raise AttributeError(
                f"cannot set {name!r} on an RNN: its architecture and sizes are fixed when its "
                "weights are drawn; construct a new RNN(...) with the values you want"
            )
        super().__setattr__(name, value)

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
        # Drawn at the first call when n_features was not given: part of building.
        object.__setattr__(self, "n_features", n_features)
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
        shapes = self._layout.parameter_shapes(self.n_features)
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

    def _forward(self, X, name: str) -> list[Trace]:
        """Validate ``X`` and run every stack over it: one trace per stack."""
        batch = self._batch(X, name)
        params = self._checked_params()
        read_weights = read_weights_of(self.head, batch)
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
            conjugate_kernel(stack, row, column)
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
            tangent_kernel(stack, row, column)
            for stack, row, column in zip(self._stacks, rows, columns, strict=True)
        )
        if X2 is None:
            theta = 0.5 * (theta + theta.T)
        return theta
