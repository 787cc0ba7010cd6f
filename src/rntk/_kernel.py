"""The public kernel API: :func:`kernel` and the reusable :class:`RNTK` object."""

from __future__ import annotations

import inspect
from concurrent.futures import Executor
from dataclasses import fields

import numpy as np

from .activations import DualActivation
from .checkpoint import computation_fingerprint, gram_file_paths, open_gram_files
from .heads import Head
from .hyperparameters import Architecture, Hyperparameters
from .options import (
    DEFAULT_BLOCK_SHAPE,
    GramOptions,
    KernelPair,
    check_instance,
    check_keywords,
    close_match_hint,
    inverse_root,
    kernel_result,
    keywords_of,
    parse_get,
)
from .prepared import PreparedSequences, prepare_sequences
from .recursion import StackPaths, stack_paths
from .scheduling import compute_gram
from .sequences import SequenceBatch, as_sequences, check_same_features

__all__ = ["RNTK", "KernelPair", "kernel"]

#: The parameters of :class:`RNTK` that make its architecture (activation, scales, head).
_ARCHITECTURE_PARAMETERS = tuple(inspect.signature(Architecture.from_arguments).parameters)

#: The parameters of :class:`RNTK` that make its options: the field of GramOptions of each.
_OPTION_FIELDS = {
    "normalize": "normalize",
    "block_size": "block_shape",
    "n_jobs": "n_jobs",
    "executor": "executor",
    "progress": "progress",
    "dtype": "dtype",
}


def _parameter(name: str, record: str, field: str | None = None) -> property:
    """The parameter ``name`` of :class:`RNTK`, read from its validated ``record``.

    Reading gives the validated value (``k.sigma_w`` one scale per layer, ``k.dtype``
    a ``numpy.dtype``); setting is ``k.set_params(name=value)``.
    """
    field = field or name

    def get(self):
        return getattr(getattr(self, record), field)

    def set(self, value):
        self.set_params(**{name: value})

    return property(
        get, set, doc=f"The validated ``{name}``; setting it is ``set_params({name}=...)``."
    )


def _fields_of(record) -> dict:
    """``{field: value}`` of a dataclass, values as they are (not copied)."""
    return {field.name: getattr(record, field.name) for field in fields(record)}


def _head_arguments(head: Head) -> dict:
    return _fields_of(check_instance(head, "head", Head))


def _hyperparameter_arguments(hyperparameters: Hyperparameters) -> dict:
    return _fields_of(check_instance(hyperparameters, "hyperparameters", Hyperparameters))


def _architecture_arguments(architecture: Architecture) -> dict:
    check_instance(architecture, "architecture", Architecture)
    return {
        "activation": architecture.activation,
        **_hyperparameter_arguments(architecture.hyperparameters),
        **_head_arguments(architecture.head),
    }


def _option_arguments(options: GramOptions) -> dict:
    check_instance(options, "options", GramOptions)
    return {name: getattr(options, field) for name, field in _OPTION_FIELDS.items()}


def _record(read, arguments_of, name: str) -> property:
    """A validated record of :class:`RNTK`; setting one sets the parameters it holds."""

    def set(self, value):
        self.set_params(**arguments_of(value))

    return property(
        read, set, doc=f"The validated ``{name}``; setting it sets the parameters it holds."
    )


def _block_arrays(architecture: Architecture) -> int:
    """Arrays of a block's shape that one worker holds at its peak (see RNTK.block_memory).

    Counted from :func:`rntk.recursion.cross_block` and checked against tracemalloc
    in ``tests/test_kernel.py``.
    """
    activation, head = architecture.activation, architecture.head
    sums_cells = not head.rule.reads_last_step_only
    # K (or E) and Kd * Theta per layer, and the two sums over the read cells of a
    # pooling head; twice, as a spare buffer takes the state when the active
    # columns grow.
    state = 2 * (2 * architecture.hyperparameters.depth + (2 if sums_cells else 0))
    if activation.difference_form:
        work = 3 + activation.difference_work  # Sigma, Kd, D and the dual map's own
        dual_temporaries = 0
    else:
        work = 4  # Sigma, Kd, the input covariance and a scratch array
        # Allocated by the dual map at every step: 6 at the peak for the Hermite
        # expansions (tanh); a new activation's dual map may need more or fewer.
        dual_temporaries = 6
    read_out = 3  # the top layer's kernels and the two results, after the last step
    # A pooling head's sums over the diagonals, and the last diagonal's kernels
    # while the next one is swept; a bidirectional model's forward kernels while
    # the backward stack runs.
    held = (4 if sums_cells else 0) + (2 if head.bidirectional else 0)
    return state + work + max(read_out, dual_temporaries) + held


def _batch_of(sequences: PreparedSequences | SequenceBatch) -> SequenceBatch:
    return sequences.batch if isinstance(sequences, PreparedSequences) else sequences


class RNTK:
    r"""The Recurrent Neural Tangent Kernel of an infinitely wide RNN.

    The model (``docs/math.md#the-model``; Alemohammad et al., ICLR 2021): ``depth`` stacked
    Elman layers with the same weights at every step (the limit is the same
    for untied weights),

    .. math::

        g_{l,t} = \frac{\sigma_{w,l}}{\sqrt N} W_l h_{l,t-1}
                + \frac{\sigma_{u,l}}{\sqrt{n_{l-1}}} U_l h_{l-1,t} + \sigma_{b,l} b_l,
        \qquad h_{l,t} = \phi(g_{l,t}), \qquad h_{0,t} = x_t,

    an initial state :math:`h_{l,0} \sim \mathcal N(0, \sigma_{h,l}^2 I)` drawn once,
    shared by every input and not trained, and the read-out
    :math:`f(x) = \frac{\sigma_v}{\sqrt N} v^\top h_{L,T}` at the last step. All
    weights are standard normal (NTK parameterisation). As the width
    :math:`N \to \infty` the tangent kernel :math:`\langle \nabla_\theta f(x),
    \nabla_\theta f(x') \rangle` and the output covariance converge to the
    deterministic NTK and NNGP computed here by the closed-form recursion over
    time steps and layers (:mod:`rntk.recursion`). Sequences of different
    lengths are aligned at their last step.

    Parameters
    ----------
    activation : str or DualActivation, default "relu"
        A registered name (``rntk.activations.available_activations()``:
        ``"relu"`` and ``"erf"`` in closed form, ``"tanh"`` through its Hermite
        expansion, and any added with :func:`rntk.register_activation`) or an
        instance.
    depth : int, default 1
        Number of recurrent layers.
    sigma_w, sigma_u, sigma_b, sigma_h : float or sequence of float, optional
        Scales of the recurrent weights, input weights, biases and initial
        state; a scalar applies to every layer, a sequence gives one per layer.
        Defaults depend on the activation (:mod:`rntk.hyperparameters`): ReLU
        ``sqrt(2), 1, 2, 0`` (the critical ``sigma_w``, where no step's weight
        decays geometrically; above it the ReLU kernel grows like
        ``(sigma_w**2 / 2)**T``; the large bias is an empirical choice, see
        ``docs/math.md#parametrisation-and-hyperparameters``), erf ``1, 0.1,
        0.1, 0`` (small input weights keep erf near its critical point), others
        ``1, 1, 0.1, 0``. They keep
        the kernel bounded for sequences of any length.
    sigma_v : float, default 1
        Scale of the read-out weights (multiplies both kernels by ``sigma_v**2``).
    readout : {"last", "mean"} or rntk.heads.ReadRule, default "last"
        Which hidden states the read-out sees (:mod:`rntk.heads`): the last
        one (the paper's model, ``O(min(T, T'))`` per pair), or the mean of the
        top layer's states over time, ``f(x) = sigma_v / sqrt(N) v . (1/T)
        sum_t h[L, t]``, whose kernels average the last-step kernel over all
        pairs of prefixes (``O(T T')`` per pair), or a read rule of one's own
        (a :class:`~rntk.heads.ReadRule`: weights over the steps counted back
        from the last).
    bidirectional : bool, default False
        Add a second stack with independent weights that reads every sequence
        reversed; the read-out sees both, so the kernels are
        ``K(x, x') + K(reversed x, reversed x')`` (about twice the cost).
    pool_stride : int, default 1
        With ``readout="mean"``: average every ``pool_stride``-th state counted
        back from the last one, at ``O(T T' / pool_stride)`` per pair (a
        cheaper model for long series).
    get : "ntk", "nngp", ("nngp", "ntk") or ("ntk", "nngp"), default "ntk"
        Which kernel to return; with both, a :class:`KernelPair` (a tuple with
        attributes ``nngp`` and ``ntk``) in the order given. Both come from one
        pass, so asking for both costs no more.
    normalize : bool, default False
        Return ``K(x, x') / sqrt(K(x, x) K(x', x'))`` (cosine form; 0 where a
        sequence has zero kernel with itself).
    block_size : int or (int, int), default (256, 1024)
        Rows and columns of pairs advanced together, at most. Affects speed and
        memory (a worker's peak is about ``4 depth + 8`` arrays of ``rows *
        columns`` values of ``dtype`` with ReLU and the last-step head: 25 MB
        for the default block at depth 1 in float64, 42 MB at depth 3;
        :meth:`block_memory` counts it for any architecture), and only the
        last bits of the result (none for univariate inputs with ReLU or
        erf). On an ``executor`` other than a thread pool, a Gram
        matrix of too few blocks for its workers is cut into one strip of rows
        per worker, where no bit changes. Threads cannot share small blocks
        (the GIL), so for a small Gram matrix on several cores pass
        ``executor=concurrent.futures.ProcessPoolExecutor(n_jobs)``.
    n_jobs : int, optional
        Worker threads; default all cores available to the process. With an
        ``executor``, the number of its workers: ``2 * n_jobs`` blocks are kept
        in flight, which bounds memory. Never changes the result.
    executor : concurrent.futures.Executor, optional
        Run the blocks there instead of on a private thread pool, e.g.
        ``dask.distributed.Client(...).get_executor()`` for a Dask cluster. The
        result is identical (bit for bit) whichever runs the blocks: every pair
        gets the same arithmetic and is written by the calling thread. If a Dask
        worker dies, Dask runs its blocks on another and the result is the same;
        a block that cannot be run (``distributed.KilledWorker``) fails the call,
        which then returns nothing (with a file ``out``, the blocks written are
        kept for a rerun). The client remembers failed blocks by their keys: to
        retry on the same client, use ``client.get_executor(pure=False)``.
    progress : bool, default False
        Show a progress bar (blocks done, time elapsed and left) on stderr.
    dtype : numpy.float64 or numpy.float32, default float64
        Precision of the pairwise recursion and of the output. float32 halves
        memory and is faster; its error relative to float64 is about 1e-6 for
        moderate lengths and grows slowly with the length (measured in
        benchmarks/bench_scale.py). A kernel that would overflow float32 raises
        :class:`KernelOverflowError` before any pair is computed.

    Attributes
    ----------
    activation, depth, sigma_w, ..., dtype
        Every parameter, as validated and in use: ``activation`` a
        :class:`DualActivation`, ``sigma_w, sigma_u, sigma_b, sigma_h`` arrays
        of one scale per layer (read-only), ``block_size`` (also
        ``block_shape``) a pair, ``dtype`` a ``numpy.dtype``.
    get : tuple of str
        The kernels to return, in the order asked for.
    architecture : rntk.hyperparameters.Architecture
        The validated ``activation``, ``hyperparameters`` (depth and scales) and
        ``head``.
    options : rntk.options.GramOptions
        The validated ``normalize``, ``block_shape`` (from ``block_size``),
        ``n_jobs``, ``executor``, ``progress`` and ``dtype``.

    Notes
    -----
    Every call starts with work on each sequence alone: validating, sorting by
    length, the recursion of the sequence with itself and its own kernel
    (``O(L T^2)`` per sequence for the mean head). :meth:`prepare` does it once
    and returns a :class:`~rntk.prepared.PreparedSequences` that calls accept
    in place of the sequences, with the same results bit for bit: for several
    kernels of the same sequences (``k(P)``, ``k(P[rows], P)``, ``k.diag(P)``).

    Changing a parameter is constructing the object again with it: ``k.depth =
    2`` is ``k.set_params(depth=2)``, which validates every parameter anew and
    applies them, exactly as ``RNTK(**{**k.get_params(), "depth": 2})`` would.
    Scales left at None follow the activation (``k.activation = "erf"`` takes
    erf's default scales). A refused value raises a ValueError or TypeError
    naming it and leaves ``k`` as it was; change several at once when only
    their combination is valid (``k.set_params(depth=2, sigma_w=[1.2, 1.4])``).
    Setting a record (``k.head = Head(...)``, ``k.hyperparameters``,
    ``k.architecture``, ``k.options``) sets the parameters it holds, and an
    unknown attribute raises an AttributeError.

    References
    ----------
    .. [1] S. Alemohammad, Z. Wang, R. Balestriero, R. Baraniuk, "The Recurrent
       Neural Tangent Kernel", ICLR 2021, arXiv:2006.10246.
    .. [2] S. Alemohammad, R. Balestriero, Z. Wang, R. Baraniuk, "Scalable Neural
       Tangent Kernel of Recurrent Architectures", arXiv:2012.04859.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> X = [np.sin(np.linspace(0, 3, 7)), np.cos(np.linspace(0, 2, 4))]
    >>> k = rntk.RNTK(sigma_w=1.2)
    >>> K = k(X)
    >>> K.shape, bool(np.allclose(K, K.T)), bool(np.allclose(np.diag(K), k.diag(X)))
    ((2, 2), True, True)
    """

    def __init__(
        self,
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
        get="ntk",
        normalize: bool = False,
        block_size=DEFAULT_BLOCK_SHAPE,
        n_jobs: int | None = None,
        executor: Executor | None = None,
        progress: bool = False,
        dtype=np.float64,
    ):
        self._apply(
            {
                "activation": activation,
                "depth": depth,
                "sigma_w": sigma_w,
                "sigma_u": sigma_u,
                "sigma_b": sigma_b,
                "sigma_h": sigma_h,
                "sigma_v": sigma_v,
                "readout": readout,
                "bidirectional": bidirectional,
                "pool_stride": pool_stride,
                "get": get,
                "normalize": normalize,
                "block_size": block_size,
                "n_jobs": n_jobs,
                "executor": executor,
                "progress": progress,
                "dtype": dtype,
            }
        )

    def _apply(self, arguments: dict) -> None:
        """Validate ``arguments`` (every parameter) whole, then make them this object's state.

        Nothing changes unless everything is valid. ``arguments`` is a new dict
        each time, never changed in place: a ``copy.copy`` of the object shares it.
        """
        architecture = Architecture.from_arguments(
            **{name: arguments[name] for name in _ARCHITECTURE_PARAMETERS}
        )
        get = parse_get(arguments["get"])
        options = GramOptions(**{field: arguments[name] for name, field in _OPTION_FIELDS.items()})
        self._arguments = arguments
        self._architecture, self._get, self._options = architecture, get, options

    def set_params(self, **parameters) -> RNTK:
        """Change some parameters, as if the object were constructed again with them.

        ``k.set_params(depth=2, sigma_w=[1.2, 1.4])`` makes ``k`` what
        ``RNTK(**{**k.get_params(), "depth": 2, "sigma_w": [1.2, 1.4]})`` is: every
        parameter is validated again and the scales left at None take the
        defaults of the (new) activation. If any value is refused, the error
        names it and ``k`` is left as it was. Setting an attribute, ``k.depth =
        2``, is ``k.set_params(depth=2)``; change several at once when only
        their combination is valid (a depth and per-layer scales).

        Returns
        -------
        RNTK
            This object.

        Raises
        ------
        TypeError, ValueError
            For an unknown parameter or a refused value; the message names it.
        """
        check_keywords(parameters, RNTK)
        self._apply({**self._arguments, **parameters})
        return self

    def get_params(self, deep: bool = True) -> dict:
        """The parameters as given (to the constructor or since), by name.

        ``RNTK(**k.get_params())`` is a new object equal to ``k``. A scale left
        at ``None`` is ``None`` here (the activation's default); the attribute
        ``k.sigma_w`` gives the value in use. ``deep`` is accepted for
        scikit-learn and changes nothing: an RNTK holds no estimator.
        """
        return dict(self._arguments)

    def __setattr__(self, name: str, value) -> None:
        # Only the parameters and records (properties that validate and apply) can
        # be set: an unknown name such as k.sigma = 2 must not be silently kept.
        if isinstance(getattr(type(self), name, None), property) or name.startswith("_"):
            super().__setattr__(name, value)
            return
        settable = [member for member, kind in vars(RNTK).items() if isinstance(kind, property)]
        raise AttributeError(
            f"RNTK has no parameter {name!r}{close_match_hint(name, settable)}; "
            f"what can be set: {', '.join(settable)}"
        )

    activation = _parameter("activation", "architecture")
    depth = _parameter("depth", "hyperparameters")
    sigma_w = _parameter("sigma_w", "hyperparameters")
    sigma_u = _parameter("sigma_u", "hyperparameters")
    sigma_b = _parameter("sigma_b", "hyperparameters")
    sigma_h = _parameter("sigma_h", "hyperparameters")
    sigma_v = _parameter("sigma_v", "hyperparameters")
    readout = _parameter("readout", "head")
    bidirectional = _parameter("bidirectional", "head")
    pool_stride = _parameter("pool_stride", "head")
    normalize = _parameter("normalize", "options")
    block_size = _parameter("block_size", "options", "block_shape")
    block_shape = _parameter("block_size", "options", "block_shape")
    n_jobs = _parameter("n_jobs", "options")
    executor = _parameter("executor", "options")
    progress = _parameter("progress", "options")
    dtype = _parameter("dtype", "options")
    architecture = _record(lambda self: self._architecture, _architecture_arguments, "architecture")
    hyperparameters = _record(
        lambda self: self._architecture.hyperparameters,
        _hyperparameter_arguments,
        "hyperparameters",
    )
    head = _record(lambda self: self._architecture.head, _head_arguments, "head")
    options = _record(lambda self: self._options, _option_arguments, "options")

    @property
    def get(self) -> tuple[str, ...]:
        """The kernels to return, in the order asked for; setting it is ``set_params(get=...)``."""
        return self._get

    @get.setter
    def get(self, value) -> None:
        self.set_params(get=value)

    def __repr__(self) -> str:
        # The values in use, and the options that change values when not the defaults.
        options = ""
        if self.block_size != DEFAULT_BLOCK_SHAPE:
            options += f", block_size={self.block_size}"
        if self.dtype != np.float64:
            options += f", dtype='{self.dtype.name}'"
        return (
            f"RNTK(activation={self.activation.name!r}, {self.hyperparameters.describe()}, "
            f"{self.head.describe()}, get={self._get_argument()!r}, normalize={self.normalize}"
            f"{options})"
        )

    def _get_argument(self):
        return self.get[0] if len(self.get) == 1 else self.get

    def _paths(self, batch) -> StackPaths:
        """Every stack's per-sequence recursion; ``batch`` sorted by decreasing length."""
        return stack_paths(batch, self.hyperparameters, self.activation, self.head, self.dtype)

    def prepare(self, X) -> PreparedSequences:
        """``X`` validated, sorted by length, with its per-sequence recursion and self kernels.

        The per-sequence work that every call of this kernel on ``X`` starts
        with, done once: pass the result instead of ``X`` to ``self(X, X2)``
        (as either argument or both), :meth:`diag`, :meth:`rntk.Nystroem.fit`
        or ``transform``, and take subsets of it with ``prepared[indices]``.
        Results are bit for bit those of ``X``. It serves every kernel of the
        same architecture and ``dtype`` (``get``, ``normalize`` and the
        execution options may differ); others refuse it with a ValueError. See
        :class:`~rntk.prepared.PreparedSequences`.

        Parameters
        ----------
        X : array (n, T) or (n, T, m), NaN-padded array, list of (T_i,) / (T_i, m) arrays
            Sequences, as for :meth:`__call__`; a :class:`PreparedSequences`
            is checked against this kernel and returned as it is.

        Returns
        -------
        PreparedSequences

        Raises
        ------
        TypeError, ValueError
            For malformed sequences (as :meth:`__call__`), or sequences
            prepared for another kernel.
        rntk.KernelOverflowError, rntk.KernelUnderflowError
            As :meth:`__call__`, when a sequence's own kernel leaves the range
            of ``dtype``.

        Examples
        --------
        >>> import numpy as np, rntk
        >>> rng = np.random.default_rng(0)
        >>> X = [rng.standard_normal(t) for t in (40, 25, 32)]
        >>> k = rntk.RNTK(readout="mean")
        >>> prepared = k.prepare(X)
        >>> K, d = k(prepared), k.diag(prepared)  # the per-sequence work is done once
        >>> bool(np.array_equal(K, k(X))), bool(np.array_equal(d, np.diag(K)))
        (True, True)
        """
        return self._input(X, "X") if isinstance(X, PreparedSequences) else self._prepare(X)

    def _prepare(self, X) -> PreparedSequences:
        return prepare_sequences(as_sequences(X, "X"), self.architecture, self.dtype)

    def _input(self, X, name: str) -> PreparedSequences | SequenceBatch:
        """``X`` validated: prepared (checked to be for this kernel), or a SequenceBatch."""
        if isinstance(X, PreparedSequences):
            X.check(self.architecture, self.dtype, name)
            return X
        return as_sequences(X, name)

    def _sorted_paths(
        self, sequences: PreparedSequences | SequenceBatch
    ) -> tuple[SequenceBatch, np.ndarray, StackPaths]:
        """The batch, its order by decreasing length and the paths in that order."""
        if isinstance(sequences, PreparedSequences):
            return sequences.batch, sequences.order, sequences.paths
        order = np.argsort(-sequences.lengths, kind="stable")
        return sequences, order, self._paths(sequences.subset(order))

    def _result(self, values: dict[str, np.ndarray]):
        return kernel_result(values, self.get)

    def diag(self, X):
        """The kernel of each sequence with itself, with no Gram matrix.

        ``O(n L T)`` for the last-step head, ``O(n L T^2 / pool_stride)`` for
        the mean head. The values are the diagonal of ``self(X)`` bit for bit
        (and the value of any pair of identical sequences), in the kernel's
        ``dtype``: the exact per-sequence value rounded to ``dtype``, and with
        ``normalize`` that value times ``(1 / sqrt(K(x, x)))**2`` rounded again,
        which is 1 up to rounding (0 for a zero self kernel), as the Gram
        matrix writes it (``docs/math.md#the-normalised-kernel``). For
        sequences prepared by :meth:`prepare` they are read from the
        preparation, at no further cost.

        Returns an array of shape ``(n,)`` and the kernel's ``dtype``, or a
        :class:`KernelPair` of them when both kernels are requested.
        """
        batch, order, paths = self._sorted_paths(self._input(X, "X"))
        values = {}
        for name in self.get:
            self_kernels = np.empty(batch.n_sequences)
            self_kernels[order] = getattr(paths, name)
            values[name] = self._as_written(self_kernels)
        return self._result(values)

    def _as_written(self, self_kernels: np.ndarray) -> np.ndarray:
        """Self kernels (float64) as the Gram matrix's diagonal holds them.

        The arithmetic of ``rntk.scheduling._scaled`` for a pair of identical
        sequences: rounded to ``dtype``, then, if normalising, multiplied by
        ``a * a`` with ``a = 1 / sqrt(K(x, x))`` in float64 and rounded again.
        """
        written = self_kernels.astype(self.dtype)
        if self.normalize:
            scale = inverse_root(self_kernels)
            written = (written * (scale * scale)).astype(self.dtype)
        return written

    def block_memory(self) -> int:
        """The bytes one worker allocates at its peak for a block of ``block_size`` pairs.

        An estimate of the arrays of a block's shape (``rows * columns`` values
        of ``dtype`` each) that the pairwise recursion holds at once: ``4 depth
        + 8`` of them for ReLU with the last-step head (25 MB for the default
        256 x 1024 block at depth 1, 42 MB at depth 3), ``4 depth + 7`` for erf
        and ``4 depth + 10`` for the Hermite expansions (tanh); the mean head
        adds 8, ``bidirectional`` 2. ``tests/test_kernel.py`` checks it against
        the peak that ``tracemalloc`` measures on the default block, within
        10% (float32 with ReLU allocates 8% more). For ``K(X, X)`` a block has
        at least as many columns as rows. Besides, each finished block waiting
        to be written holds its two kernels (at most ``2 n_jobs`` blocks are in
        flight), and the output holds ``n1 n2`` values of ``dtype`` per kernel.

        Examples
        --------
        >>> import rntk
        >>> [round(rntk.RNTK(depth=depth).block_memory() / 1e6, 1) for depth in (1, 3)]
        [25.2, 41.9]
        """
        rows, columns = self.block_size
        return _block_arrays(self.architecture) * rows * columns * self.dtype.itemsize

    def __call__(self, X, X2=None, *, out=None):
        """The Gram matrix between the sequences of ``X`` and ``X2`` (``X`` if None).

        Parameters
        ----------
        X, X2 : array (n, T), array (n, T, m), NaN-padded array or list of (T_i,) or (T_i, m)
            Sequences, aligned at their last step, or either of them prepared
            by :meth:`prepare` (their per-sequence work is then not redone;
            the result is the same, bit for bit).
        out : ndarray, str or path-like, or a pair of them, optional
            Where to write the result, block by block. With both kernels
            requested, a pair in the order of ``get``.

            * An array, returned filled: for example a ``numpy.memmap`` for a
              Gram matrix larger than memory. Shape ``(n1, n2)`` and the
              kernel's ``dtype``. If the call raises, it holds only some blocks.
            * A file path such as ``"gram.npy"``: a resumable computation into
              that ``.npy`` file. Beside it, ``gram.npy.journal`` records what
              the file holds and each block once its values are on disk. If the
              process dies (even by SIGKILL, at any moment), the same call again
              computes only the missing blocks, and the file ends up bit for bit
              what an uninterrupted run writes; once the file is complete, the
              same call returns it at once. ``n_jobs``, ``executor`` and
              ``progress`` may change between runs; the progress bar counts the
              blocks already written. The result is returned as a read-only
              ``numpy.memmap`` (``numpy.load(path, mmap_mode="r")`` reads it
              later). See :mod:`rntk.checkpoint` for the journal's format.

        Returns
        -------
        ndarray of shape (n1, n2), or a :class:`KernelPair` of them.

        Raises
        ------
        ValueError
            If ``X`` or ``X2`` was prepared for another kernel (the message
            names the argument and what differs). If ``out`` is a file holding
            another computation: other data,
            hyperparameters, head, activation, kernel, ``dtype``, ``block_size``
            or ``normalize`` (the message names what differs). Never mixed.
        FileExistsError
            If ``out`` is an existing file without a journal.
        RuntimeError
            If another process is writing the same ``out`` file.
        """
        rows = self._input(X, "X")
        columns = None if X2 is None else self._input(X2, "X2")
        batch = _batch_of(rows)
        batch2 = None if columns is None else _batch_of(columns)
        if batch2 is not None:
            check_same_features(batch, batch2)
        shape = (batch.n_sequences, (batch if batch2 is None else batch2).n_sequences)
        paths = gram_file_paths(out, self.get)
        if paths is None:
            outputs = self._outputs(out, shape)
            self._fill(outputs, rows, columns)
            return self._result(outputs)

        # Prepared or not, the same sequences are the same data for a resumed file.
        fingerprint = computation_fingerprint(batch, batch2, self.architecture, self.options)
        with open_gram_files(paths, shape, self.dtype, fingerprint) as files:
            if not all(file.complete for file in files.values()):
                arrays = {name: file.array for name, file in files.items()}
                self._fill(arrays, rows, columns, files)
        return self._result({name: np.load(path, mmap_mode="r") for name, path in paths.items()})

    def _fill(self, outputs, rows, columns, journals=None) -> None:
        """Write the Gram matrices of ``rows`` against ``columns`` (``rows`` if None).

        Each is a :class:`PreparedSequences` or a ``SequenceBatch`` (see :meth:`_input`).
        """
        _, order, row_paths = self._sorted_paths(rows)
        if columns is None:
            column_paths, column_order = row_paths, order
        else:
            _, column_order, column_paths = self._sorted_paths(columns)
        compute_gram(
            row_paths,
            column_paths,
            outputs,
            architecture=self.architecture,
            options=self.options,
            symmetric=columns is None,
            row_positions=order,
            column_positions=column_order,
            journals=journals,
        )

    def _outputs(self, out, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        """Arrays to write the requested kernels into: ``out``, checked, or new ones."""
        if out is None:
            return {name: np.empty(shape, self.dtype) for name in self.get}
        arrays = (out,) if len(self.get) == 1 else out
        if not isinstance(arrays, (tuple, list)) or len(arrays) != len(self.get):
            raise TypeError(
                f"out must be {'one array' if len(self.get) == 1 else 'a pair of arrays'} "
                f"for get={self._get_argument()!r}, got {type(out).__name__}"
            )
        for array in arrays:
            if not isinstance(array, np.ndarray):
                raise TypeError(f"out must hold numpy arrays, got {type(array).__name__}")
            if array.shape != shape or array.dtype != self.dtype:
                raise ValueError(
                    f"out must have shape {shape} and dtype {self.dtype}, got shape "
                    f"{array.shape} and dtype {array.dtype}"
                )
            if not array.flags.writeable:
                raise ValueError("out must be writeable")
        if len(arrays) == 2 and np.shares_memory(arrays[0], arrays[1]):
            raise ValueError("out: the nngp and ntk arrays must not overlap")
        return dict(zip(self.get, arrays, strict=True))


@keywords_of(RNTK)
def kernel(X, X2=None, *, out=None, **parameters):
    """The RNTK (or NNGP) Gram matrix of two sets of sequences.

    ``rntk.kernel(X, X2, out=out, **params)`` is ``rntk.RNTK(**params)(X, X2,
    out=out)``; see :class:`RNTK` for the model, the parameters (including
    ``n_jobs``, ``executor``, ``progress`` and ``dtype``) and the references.

    Parameters
    ----------
    X : array (n1, T) or (n1, T, m), NaN-padded array, or list of (T_i,) / (T_i, m) arrays
        Sequences, possibly of different lengths, aligned at their last step.
    X2 : same formats as X, optional
        Second set; ``None`` computes ``X`` against itself (symmetric, faster,
        with an exact diagonal).
    out : ndarray, str or path-like, or a pair of them, optional
        Write the result into this array (e.g. a ``numpy.memmap``), or into this
        ``.npy`` file resumably: a file path keeps a journal beside the file
        (``gram.npy.journal``), so that after a crash or a killed job the same
        call computes only the missing blocks and gives the file bit for bit as
        an uninterrupted run. See :meth:`RNTK.__call__`.
    **parameters
        Every parameter of :class:`RNTK`, by keyword, with its defaults: the
        architecture (``activation, depth, sigma_w, ..., pool_stride``),
        ``get``, ``normalize``, ``block_size``, ``n_jobs``, ``executor``,
        ``progress`` and ``dtype``. The signature lists them all.

    Returns
    -------
    ndarray of shape (n1, n2), of ``dtype`` (float64 by default); a
    :class:`KernelPair` ``(nngp, ntk)`` when ``get=("nngp", "ntk")``. With a
    file ``out``, read-only memory maps of the files.

    Raises
    ------
    TypeError, ValueError
        For malformed inputs or hyperparameters, or an unknown parameter; the
        message names the argument.
        A ValueError too if ``out`` is a file holding another computation (other
        data, hyperparameters, kernel, dtype, block size or normalisation).
    FileExistsError, RuntimeError
        If ``out`` is an existing file without a journal, or a file that another
        process is writing.
    rntk.KernelOverflowError
        If the kernel leaves the range of ``dtype`` (``sigma_w`` too large for
        the sequence length); the message suggests a remedy.
    rntk.KernelUnderflowError
        If a sequence's kernel with itself falls below the range where the
        floating-point type keeps full precision (inputs of scale around
        ``1e-146`` and below with ``sigma_b = sigma_h = 0``); the message gives
        an exact rescaling.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal(t) for t in (5, 8, 3)]
    >>> K = rntk.kernel(X, sigma_w=1.4, get=("nngp", "ntk"))
    >>> K.ntk.shape, bool(np.all(np.linalg.eigvalsh(K.ntk) > 0))
    ((3, 3), True)

    A Gram matrix written to a file survives a crash: the same call resumes it.

    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "gram.npy")
    >>> on_disk = rntk.kernel(X, sigma_w=1.4, out=path)
    >>> bool(np.array_equal(on_disk, K.ntk)), sorted(os.listdir(folder.name))
    (True, ['gram.npy', 'gram.npy.journal'])
    >>> rntk.kernel(X, sigma_w=1.5, out=path)
    Traceback (most recent call last):
    ValueError: ... holds another computation than this call (different sigma_w); ...
    >>> del on_disk; folder.cleanup()
    """
    check_keywords(parameters, kernel)
    return RNTK(**parameters)(X, X2, out=out)
