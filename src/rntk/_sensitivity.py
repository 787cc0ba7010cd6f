r"""Per-step sensitivity of the kernel: the exact gradient of ``Theta(x, x2)`` in ``x``.

The paper's Figure 3 (``docs/math.md#figure-3-sensitivity``) measures how much
each time step of an input moves the kernel, :math:`S_t = \lVert
\partial\Theta(x, x') / \partial x_t \rVert`. A step ``x_t`` enters the
recursion (``docs/math.md#the-pairwise-recursion``) in two places:

* the pair's input covariance :math:`K_{0,s} = \langle x_s, x'_s\rangle / m` at
  its own step, if ``x2`` has a step there (sequences are aligned at the end);
* the per-sequence variances :math:`q_{l,t'}(x)` of every later step
  :math:`t' \ge t`, through :math:`k_{0,t} = \lVert x_t\rVert^2 / m`. So the
  leading steps of a longer ``x``, which have no partner in ``x2``, still move
  the kernel (unless ``sigma_w = 0``).

The gradient is computed in reverse mode for the one pair: a forward pass runs
the shared recursion (:func:`rntk.recursion.advance_layer`) on the sequence
``x`` alone, on ``x2`` alone and on the pair, recording the variances and the
pair's ``Sigma``, ``K``, ``Kd`` and ``Kd * Theta`` for every layer and common
step (``O(L T)`` memory); a backward pass then carries the adjoints of the
read-out back through the pair's recursion to ``K_{0,s}`` and ``q_{l,t}(x)``,
and through the per-sequence recursion of ``x`` to ``k_{0,t}``. The partial
derivatives of the dual maps come from
:meth:`~rntk.activations.DualActivation.dual_gradient` and
:meth:`~rntk.activations.DualActivation.diagonal_gradient`.

Read-out heads
--------------
The head's read rule (:class:`rntk.heads.ReadRule`) says which pairs of steps
the kernel reads and how it weighs them. The last-step head reads one cell,
the pair's last common step. A pooling head sums the last-step kernel over
pairs of prefixes,

.. math::

    \Theta(x, x') = \frac{1}{P_T P_{T'}} \sum_{r < T,\ r' < T'}
        p(r)\, p(r')\, \Theta_{last}(x_{1:T-r}, x'_{1:T'-r'}),

with :math:`p` the rule's profile over the steps counted back from the last
and :math:`P_T` its sum (the mean head: 1 at every ``pool_stride``-th step).
Along one diagonal of the ``(t, t')`` grid (a fixed lag) the pair of prefixes
grows by one step of each, which is the pair recursion above run on the two
truncated sequences; the rule gives the diagonals that hold a read cell
(:meth:`~rntk.heads.ReadRule.offsets`) and the weights of the cells along one
(:meth:`~rntk.heads.ReadRule.diagonal_weights`), each divided by
:math:`P_T P_{T'}`. So the backward pass of a diagonal starts from
the adjoints of the top layer's ``K`` (and ``Kd * Theta`` for the NTK) at all
of its read cells at once, and the diagonals' adjoints of the variances of
``x`` add up: by causality the variances of a prefix of ``x`` are the first
steps of those of ``x``. One backward pass through the per-sequence recursion
of ``x`` then finishes the gradient.

The bidirectional kernel is :math:`\Theta(x, x') + \Theta(\overleftarrow{x},
\overleftarrow{x}')`: the gradient of the second term is computed on the
reversed sequences and reversed back in time.

Cost: the last-step head takes ``O(L min(T, T'))`` Python-level steps; the
mean head ``O(L T T' / k)`` with ``k = pool_stride`` (every cell of the swept
diagonals), under a second for ``T = T' = 100``, depth 1 and ``k = 1``.
Memory is ``O(L (T + T'))`` for any head.

Where the gradient does not exist
---------------------------------
For ReLU, :math:`V' = (\pi - \theta) / 2\pi` has an infinite derivative at
parallel states (:math:`|\rho| = 1`): the NTK has a cone there (directional
derivatives, no gradient). This happens for ``x2 == x``, for ``x2`` a positive
multiple of ``x`` when ``sigma_b = sigma_h = 0``, and at the first step of
equal-length univariate inputs when ``sigma_b = 0`` and ``sigma_h = 0`` (there
the derivative happens to exist, but the recursion cannot tell it apart). The
mean head also reads pairs of prefixes, so it has no gradient where the states
of any prefix of ``x`` and any prefix of ``x2`` are parallel (for instance
when ``x2`` is a prefix of ``x``). A ReLU state with zero variance
(``sigma_b = sigma_h = 0`` and an all-zero input step) is not differentiable
either (``V`` grows like :math:`\sqrt q`). :func:`sensitivity` raises
``ValueError`` in these cases rather than return a number that is not a
derivative. States within ``1e-9`` of parallel count as parallel: rounding of
the correlation costs about ``1e-16 / (1 - |rho|)`` of relative accuracy. The
ReLU NNGP is differentiable at parallel states; erf is smooth everywhere.
"""

from __future__ import annotations

import numpy as np

from .activations import DualActivation, DualGradient
from .heads import Head
from .hyperparameters import Architecture, Hyperparameters
from .options import KERNEL_NAMES, check_choice, check_keywords, check_real_array, keywords_of
from .recursion import (
    advance_layer,
    check_scales,
    non_finite_error,
    reverse_layer,
    sequence_path,
)
from .sequences import as_sequences

__all__ = ["sensitivity"]

#: States with ``1 - |rho|`` at most this are treated as parallel (see the module docstring).
PARALLEL_TOLERANCE = 1e-9


@keywords_of(Architecture.from_arguments)
def sensitivity(
    x, x2, *, get: str = "ntk", return_gradient: bool = False, **parameters
) -> np.ndarray:
    r"""Per-step sensitivity :math:`S_t = \lVert \partial K(x, x_2) / \partial x_t \rVert`.

    ``K`` is the NTK ``Theta`` (or the NNGP) of :func:`rntk.kernel` with the
    same parameters, read-out head included, and the derivative is exact: it
    is taken through the limit recursion (reverse mode), not by finite
    differences. See :mod:`rntk._sensitivity` for the method.

    The heads (see :mod:`rntk.heads`):

    * ``readout="last"``: the state at the last step (the paper's model).
    * ``readout="mean"``: the kernel of the mean of the top layer's states over
      the read steps :math:`R_T` (every ``pool_stride``-th step counted back
      from the last), which is the average of the last-step kernel over pairs
      of prefixes, :math:`\frac{1}{|R_T| |R_{T_2}|} \sum_{t \in R_T, t' \in
      R_{T_2}} K_{last}(x_{1:t}, x_{2,1:t'})`.
    * ``readout=rule``, a :class:`rntk.heads.ReadRule`: the weighted sum of
      the last-step kernel over pairs of prefixes that the rule describes.
    * ``bidirectional=True`` (either read-out): :math:`K(x, x_2) +
      K(\overleftarrow{x}, \overleftarrow{x}_2)`, a second stack on the
      reversed sequences.

    Parameters
    ----------
    x : array (T,) or (T, m)
        The sequence to differentiate with respect to.
    x2 : array (T2,) or (T2, m)
        The other sequence (held fixed). Lengths may differ: the sequences are
        aligned at their last step, and steps of ``x`` with no partner in
        ``x2`` still act through the variances of the later steps of ``x``.
    get : {"ntk", "nngp"}, default "ntk"
        The kernel to differentiate.
    return_gradient : bool, default False
        Return the gradient :math:`\partial K / \partial x` itself, shaped like
        ``x``, instead of the norms of its steps.
    **parameters
        The architecture and its read-out head, ``activation, depth, sigma_w,
        sigma_u, sigma_b, sigma_h, sigma_v, readout, bidirectional,
        pool_stride``, as in :class:`rntk.RNTK` (same defaults).

    Returns
    -------
    ndarray of shape (T,)
        The Euclidean norm of the gradient with respect to each step of ``x``
        (or the gradient, shape ``x.shape``, with ``return_gradient``).

    Raises
    ------
    TypeError, ValueError
        For malformed inputs, hyperparameters or head arguments (the message
        names the argument); ``ValueError`` also where the kernel is not
        differentiable: ReLU NTK at parallel hidden states (``x2 == x`` in
        particular, and for the mean head any pair of prefixes with parallel
        states) and ReLU at zero-variance states (see :mod:`rntk._sensitivity`).
    rntk.KernelOverflowError
        If the kernel leaves the float64 range.

    Notes
    -----
    The last-step head costs ``O(L min(T, T2))`` Python-level steps. The mean
    head sweeps every diagonal of the ``(t, t')`` grid that holds a read cell:
    ``O(L T T2 / pool_stride)`` Python-level steps, under a second for
    ``T = T2 = 100`` and ``depth=1``. A bidirectional head doubles the cost.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> rng = np.random.default_rng(0)
    >>> x, x2 = rng.standard_normal(6), rng.standard_normal(4)
    >>> s = rntk.sensitivity(x, x2, sigma_w=1.4)
    >>> s.shape, bool(np.all(s > 0))
    ((6,), True)

    With no recurrence (``sigma_w = 0``) only the last step matters:

    >>> bool(np.all(rntk.sensitivity(x, x2, sigma_w=0.0)[:-1] == 0))
    True

    The mean head reads every step, so then every step matters:

    >>> s = rntk.sensitivity(x, x2, sigma_w=0.0, readout="mean")
    >>> bool(np.all(s > 0))
    True
    """
    first, second = _as_one_sequence(x, "x"), _as_one_sequence(x2, "x2")
    if first.shape[1] != second.shape[1]:
        raise ValueError(
            f"x2 has {second.shape[1]} features per step but x has {first.shape[1]}; "
            "they must match"
        )
    check_keywords(parameters, sensitivity)
    architecture = Architecture.from_arguments(**parameters)
    check_choice(get, "get", KERNEL_NAMES)

    model = (architecture.hyperparameters, architecture.activation, architecture.head)
    tangent = get == "ntk"
    gradient = _kernel_gradient(first, second, *model, tangent)
    if architecture.head.bidirectional:
        # The backward stack reads the reversed sequences: differentiate it
        # there and put its gradient back in the original time order.
        reversed_gradient = _kernel_gradient(
            first[::-1], second[::-1], *model, tangent, backward=True
        )
        gradient += reversed_gradient[::-1]
    if return_gradient:
        return gradient.reshape(np.shape(x))
    return np.linalg.norm(gradient, axis=1)


def _as_one_sequence(value, name: str) -> np.ndarray:
    """One validated sequence as a float64 array (T, m)."""
    array = check_real_array(value, name)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be one sequence, a 1-D (T,) or 2-D (T, m) array, "
            f"got an array of shape {array.shape}"
        )
    if array.shape[0] == 0 or array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    batch = as_sequences([array], name)
    if batch.lengths[0] != array.shape[0]:
        raise ValueError(f"{name} ends with NaN steps; pass the sequence without padding")
    return batch.sequence(0)


def _variance_path(sequence: np.ndarray, hyper: Hyperparameters, activation: DualActivation):
    """Pre-activation variances ``q[l, t]`` of one sequence with itself, shape (L, T)."""
    path = sequence_path(as_sequences([sequence]), hyper, activation)
    return path.variance[:, ::-1, 0]


def _kernel_gradient(
    first: np.ndarray,
    second: np.ndarray,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head,
    tangent: bool,
    backward: bool = False,
) -> np.ndarray:
    """Gradient in ``first`` (T, m) of the NTK (``tangent``) or NNGP of one stack of ``head``.

    ``backward`` says that the sequences are the reversed ones (for the
    messages only: steps are reported in the original order).
    """
    n_features = first.shape[1]
    length, other_length = first.shape[0], second.shape[0]
    # A read cell weighs p(r) p(r') / (P_T P_T2) (rntk.heads): 1 for the last-step head.
    # A scale whose square leaves float64 is refused by name first, as by the kernel.
    check_scales(hyper, activation)
    rule = head.rule
    seed = hyper.sigma_v**2 / float(rule.totals(length) * rule.totals(other_length))

    with np.errstate(over="ignore", invalid="ignore"):
        variance = _variance_path(first, hyper, activation)
        other_variance = _variance_path(second, hyper, activation)
    variance_adjoint = np.zeros((hyper.depth, length))
    covariance_gradient = np.zeros_like(first)

    for offset in rule.offsets(length, other_length):
        # The diagonal pairs the prefixes first[:prefix] and second[:other_prefix],
        # aligned at their ends: its common steps are the windows below.
        prefix = length - max(int(offset), 0)
        other_prefix = other_length + min(int(offset), 0)
        common = min(prefix, other_prefix)
        window = slice(prefix - common, prefix)
        other_window = slice(other_prefix - common, other_prefix)
        window_variance = variance[:, window]
        other_window_variance = other_variance[:, other_window]

        sigma, kernel_derivative, product = _pair_forward(
            first[window],
            second[other_window],
            window_variance,
            other_window_variance,
            prefix == other_prefix,
            hyper,
            activation,
        )
        recorded = (sigma, kernel_derivative, product)
        if not all(np.isfinite(values).all() for values in recorded):
            raise non_finite_error(
                activation, hyper, f"sequences of lengths {prefix} and {other_prefix}", recorded
            )
        partials = activation.dual_gradient(sigma, window_variance, other_window_variance)

        def cell(layer, step, start=window.start, other_start=other_window.start):
            """Where a cell of this diagonal is, in the caller's terms (1-based steps)."""
            at, other_at = start + step, other_start + step
            if backward:
                at, other_at = length - 1 - at, other_length - 1 - other_at
            stack = " of the backward stack" if backward else ""
            return f"layer {layer + 1}{stack}, step {at + 1} of x and step {other_at + 1} of x2"

        _check_differentiable(
            activation, partials, sigma, window_variance, other_window_variance, tangent, cell
        )
        cell_weights = rule.diagonal_weights(offset, common)  # counted from the end
        read = np.flatnonzero(cell_weights)
        window_variance_adjoint, input_covariance_adjoint = _pair_backward(
            sigma,
            kernel_derivative,
            product,
            partials,
            common - 1 - read,
            seed * cell_weights[read],
            hyper,
            tangent,
        )
        variance_adjoint[:, window] += window_variance_adjoint
        input_covariance_adjoint /= n_features
        covariance_gradient[window] += input_covariance_adjoint[:, None] * second[other_window]

    diagonal_slope = activation.diagonal_gradient(variance)[0]
    input_variance_adjoint = _sequence_backward(variance_adjoint, diagonal_slope, hyper)
    return (2.0 / n_features) * input_variance_adjoint[:, None] * first + covariance_gradient


def _pair_forward(
    first: np.ndarray,
    second: np.ndarray,
    variance: np.ndarray,
    other_variance: np.ndarray,
    start_together: bool,
    hyper: Hyperparameters,
    activation: DualActivation,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recursion of one pair over its common steps, recording every cell.

    ``first`` and ``second`` (C, m) are the pair's common steps, ``variance``
    and ``other_variance`` (L, C) their variances, ``start_together`` whether
    both sequences start at the first common step (equal lengths).

    Returns ``Sigma``, ``Kd`` and ``Kd * Theta``, each (L, C).
    """
    depth, common = hyper.depth, first.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        input_covariance = np.einsum("tm,tm->t", first, second)
        input_covariance /= first.shape[1]

        # Before the first common step: K = sigma_h^2 if both start there, else 0.
        boundary = hyper.sigma_h**2 if start_together else np.zeros(depth)
        kernel = boundary[:, None].copy()
        derivative_times_tangent = np.zeros((depth, 1))
        covariance, derivative, scratch = np.empty(1), np.empty(1), np.empty(1)
        sigma, kernel_derivative, product = (np.empty((depth, common)) for _ in range(3))
        # The dual map's per-sequence factors, once for the pair rather than once per cell.
        factors, other_factors = activation.factors(variance), activation.factors(other_variance)
        for step in range(common):
            below, below_tangent = input_covariance[step : step + 1], None
            for layer in range(depth):
                cell_factors = tuple(f[layer, step : step + 1] for f in factors)
                other_cell_factors = tuple(f[layer, step : step + 1] for f in other_factors)

                def cross_dual(s, kernel_out, derivative_out, r=cell_factors, c=other_cell_factors):
                    activation.cross(s, r, c, kernel_out, derivative_out, scratch)

                advance_layer(
                    kernel[layer],
                    derivative_times_tangent[layer],
                    below,
                    below_tangent,
                    layer,
                    hyper,
                    cross_dual,
                    covariance,
                    derivative,
                )
                sigma[layer, step] = covariance[0]
                kernel_derivative[layer, step] = derivative[0]
                product[layer, step] = derivative_times_tangent[layer, 0]
                below, below_tangent = kernel[layer], derivative_times_tangent[layer]
    return sigma, kernel_derivative, product


def _pair_backward(
    sigma: np.ndarray,
    kernel_derivative: np.ndarray,
    product: np.ndarray,
    partials: DualGradient,
    read_cells: np.ndarray,
    seeds: np.ndarray,
    hyper: Hyperparameters,
    tangent: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Reverse mode through the recursion of one pair (see :func:`_pair_forward`).

    The read-out is the sum of the top layer's ``K`` (NNGP) or ``K + Kd *
    Theta`` (NTK) over the common steps ``read_cells``, weighed by ``seeds``
    (one per cell: the cell's weight times ``sigma_v**2``); ``partials``
    are the dual map's partial derivatives at every cell.

    Returns the adjoints of the first sequence's variances (L, C) and of the
    input covariance ``K[0, j]`` (C,).
    """
    depth, common = sigma.shape
    w2, u2 = hyper.sigma_w**2, hyper.sigma_u**2

    # Theta[l, j] = Sigma + w2 (Kd Theta)[l, j-1] + u2 (Kd Theta)[l-1, j] (0 at the boundary).
    theta = sigma.copy()
    theta[:, 1:] += w2[:, None] * product[:, :-1]
    theta[1:] += u2[1:, None] * product[:-1]

    # Adjoints of K and of Kd * Theta per layer and common step, seeded at the
    # read cells: adjoints flow only to earlier steps and lower layers, so
    # every seed can be placed before the sweep.
    kernel_adjoint = np.zeros((depth, common))
    product_adjoint = np.zeros((depth, common))
    input_covariance_adjoint = np.zeros(common)
    variance_adjoint = np.zeros((depth, common))
    kernel_adjoint[-1, read_cells] = seeds
    if tangent:
        product_adjoint[-1, read_cells] = seeds
    for step in range(common - 1, -1, -1):
        for layer in range(depth - 1, -1, -1):
            sigma_bar, theta_bar, variance_bar = reverse_layer(
                kernel_adjoint[layer, step],
                product_adjoint[layer, step],
                kernel_derivative[layer, step],
                theta[layer, step],
                partials,
                (layer, step),
            )
            variance_adjoint[layer, step] += variance_bar
            _linear_adjoint(
                kernel_adjoint, sigma_bar, layer, step, w2, u2, input_covariance_adjoint
            )
            _linear_adjoint(product_adjoint, theta_bar, layer, step, w2, u2)
    return variance_adjoint, input_covariance_adjoint


def _linear_adjoint(
    adjoint: np.ndarray,
    value: float,
    layer: int,
    step: int,
    w2: np.ndarray,
    u2: np.ndarray,
    input_adjoint: np.ndarray | None = None,
) -> None:
    """Pass ``value`` back through the linear part of a forward step, in place.

    The forward step forms ``w2 A[l, s-1] + u2 A[l-1, s]`` (plus a constant)
    from its two inputs, the previous step and the layer below, for ``A`` the
    kernel (``Sigma``) or ``Kd * Theta`` (``Theta``). Given the adjoint
    ``value`` of that sum at ``(layer, step)``, add ``w2 * value`` to
    ``adjoint[layer, step - 1]`` and ``u2 * value`` to ``adjoint[layer - 1,
    step]``, or in the first layer to ``input_adjoint[step]`` (the input's
    ``k[0, s]``; ``None`` where nothing lies below the first layer, as for
    ``Theta``).
    """
    if step > 0:
        adjoint[layer, step - 1] += w2[layer] * value
    if layer > 0:
        adjoint[layer - 1, step] += u2[layer] * value
    elif input_adjoint is not None:
        input_adjoint[step] += u2[0] * value


def _sequence_backward(
    variance_adjoint: np.ndarray, diagonal_slope: np.ndarray, hyper: Hyperparameters
) -> np.ndarray:
    """Adjoint of ``k[0, t] = |x_t|^2 / m`` from the adjoint of the variances ``q[l, t]`` of x.

    Reverse mode through ``q[l, t] = w2 k[l, t-1] + u2 k[l-1, t] + b2`` and
    ``k[l, t] = V(q, q, q)``, whose slope is ``diagonal_slope`` (L, T).
    """
    depth, length = variance_adjoint.shape
    w2, u2 = hyper.sigma_w**2, hyper.sigma_u**2
    own_kernel_adjoint = np.zeros((depth, length))
    input_variance_adjoint = np.zeros(length)
    for step in range(length - 1, -1, -1):
        for layer in range(depth - 1, -1, -1):
            variance_bar = (
                variance_adjoint[layer, step]
                + own_kernel_adjoint[layer, step] * diagonal_slope[layer, step]
            )
            _linear_adjoint(
                own_kernel_adjoint, variance_bar, layer, step, w2, u2, input_variance_adjoint
            )
    return input_variance_adjoint


def _check_differentiable(
    activation, partials, sigma, variance1, variance2, tangent: bool, cell
) -> None:
    """Raise ``ValueError`` where the kernel has no gradient (see the module docstring).

    ``cell(layer, step)`` says where a recorded cell is, for the message.
    """
    name = activation.name or type(activation).__name__
    if tangent:
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.sqrt(variance1 * variance2)
            parallel = 1.0 - np.abs(sigma) / root <= PARALLEL_TOLERANCE
        if parallel.any():
            # Probe the derivative map at exactly parallel states: singular for ReLU.
            at_parallel = activation.dual_gradient(
                np.copysign(root[parallel], sigma[parallel]),
                variance1[parallel],
                variance2[parallel],
            )
            if not all(np.isfinite(part).all() for part in at_parallel[3:]):
                layer, step = (int(i[0]) for i in np.nonzero(parallel))
                raise ValueError(
                    f"the {name} NTK is not differentiable at this pair: the hidden states of "
                    f"x and x2 are parallel (correlation within {PARALLEL_TOLERANCE:g} of +-1 "
                    f"at {cell(layer, step)}), as for x2 == x, and the derivative of "
                    f"{name}'s V' is infinite there. The NNGP (get='nngp') is "
                    "differentiable there; for univariate inputs with sigma_b = sigma_h = 0, "
                    "use sigma_b > 0"
                )
    needed = partials if tangent else partials[:3]
    finite = np.logical_and.reduce([np.isfinite(part) for part in needed])
    if not finite.all():
        layer, step = (int(i[0]) for i in np.nonzero(~finite))
        raise ValueError(
            f"the {name} kernel is not differentiable at this pair: the derivative of its "
            f"dual map is not finite at {cell(layer, step)}, where a hidden state has "
            f"variance {variance1[layer, step]:g} (x) and {variance2[layer, step]:g} (x2); "
            "a zero variance (sigma_b = sigma_h = 0 and an all-zero input step) has no "
            "derivative for ReLU: use sigma_b > 0"
        )
