r"""Per-step sensitivity of the kernel: the exact gradient of ``Theta(x, x2)`` in ``x``.

The paper's Figure 3 (spec section 9) measures how much each time step of an
input moves the kernel, :math:`S_t = \lVert \partial\Theta(x, x') / \partial x_t
\rVert`. A step ``x_t`` enters the recursion (spec section 3) in two places:

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

Where the gradient does not exist
---------------------------------
For ReLU, :math:`V' = (\pi - \theta) / 2\pi` has an infinite derivative at
parallel states (:math:`|\rho| = 1`): the NTK has a cone there (directional
derivatives, no gradient). This happens for ``x2 == x``, for ``x2`` a positive
multiple of ``x`` when ``sigma_b = sigma_h = 0``, and at the first step of
equal-length univariate inputs when ``sigma_b = 0`` and ``sigma_h = 0`` (there
the derivative happens to exist, but the recursion cannot tell it apart). A
ReLU state with zero variance (``sigma_b = sigma_h = 0`` and an all-zero input
step) is not differentiable either (``V`` grows like :math:`\sqrt q`).
:func:`sensitivity` raises ``ValueError`` in these cases rather than return a
number that is not a derivative. States within ``1e-9`` of parallel count as
parallel: rounding of the correlation costs about ``1e-16 / (1 - |rho|)`` of
relative accuracy. The ReLU NNGP is differentiable at parallel states; erf is
smooth everywhere.
"""

from __future__ import annotations

import numpy as np

from .activations import DualActivation, get_activation
from .hyperparameters import DEFAULTS, Hyperparameters
from .recursion import KernelOverflowError, advance_layer, overflow_message, sequence_path
from .sequences import as_sequences

__all__ = ["sensitivity"]

#: States with ``1 - |rho|`` at most this are treated as parallel (see the module docstring).
PARALLEL_TOLERANCE = 1e-9


def sensitivity(
    x,
    x2,
    *,
    activation: str | DualActivation = "relu",
    depth: int = 1,
    sigma_w=DEFAULTS["sigma_w"],
    sigma_u=DEFAULTS["sigma_u"],
    sigma_b=DEFAULTS["sigma_b"],
    sigma_h=DEFAULTS["sigma_h"],
    sigma_v: float = DEFAULTS["sigma_v"],
    get: str = "ntk",
    return_gradient: bool = False,
) -> np.ndarray:
    r"""Per-step sensitivity :math:`S_t = \lVert \partial K(x, x_2) / \partial x_t \rVert`.

    ``K`` is the NTK ``Theta`` (or the NNGP) of :func:`rntk.kernel` with the
    same parameters, and the derivative is exact: it is taken through the
    limit recursion (reverse mode), not by finite differences. See
    :mod:`rntk.sensitivity` for the method.

    Parameters
    ----------
    x : array (T,) or (T, m)
        The sequence to differentiate with respect to.
    x2 : array (T2,) or (T2, m)
        The other sequence (held fixed). Lengths may differ: the sequences are
        aligned at their last step, and steps of ``x`` with no partner in
        ``x2`` still act through the variances of the later steps of ``x``.
    activation, depth, sigma_w, sigma_u, sigma_b, sigma_h, sigma_v
        As in :func:`rntk.kernel` (same defaults).
    get : {"ntk", "nngp"}, default "ntk"
        The kernel to differentiate.
    return_gradient : bool, default False
        Return the gradient :math:`\partial K / \partial x` itself, shaped like
        ``x``, instead of the norms of its steps.

    Returns
    -------
    ndarray of shape (T,)
        The Euclidean norm of the gradient with respect to each step of ``x``
        (or the gradient, shape ``x.shape``, with ``return_gradient``).

    Raises
    ------
    TypeError, ValueError
        For malformed inputs or hyperparameters (the message names the
        argument); ``ValueError`` also where the kernel is not differentiable:
        ReLU NTK at parallel hidden states (``x2 == x`` in particular) and ReLU
        at zero-variance states (see :mod:`rntk.sensitivity`).
    rntk.KernelOverflowError
        If the kernel leaves the float64 range.

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
    """
    first, second = _as_one_sequence(x, "x"), _as_one_sequence(x2, "x2")
    if first.shape[1] != second.shape[1]:
        raise ValueError(
            f"x2 has {second.shape[1]} features per step but x has {first.shape[1]}; "
            "they must match"
        )
    hyper = Hyperparameters.from_arguments(depth, sigma_w, sigma_u, sigma_b, sigma_h, sigma_v)
    activation = get_activation(activation)
    if get not in ("ntk", "nngp"):
        raise ValueError(f"get must be 'ntk' or 'nngp', got {get!r}")

    gradient = _kernel_gradient(first, second, hyper, activation, tangent=get == "ntk")
    if return_gradient:
        return gradient.reshape(np.shape(x))
    return np.linalg.norm(gradient, axis=1)


def _as_one_sequence(value, name: str) -> np.ndarray:
    """One validated sequence as a float64 array (T, m)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype}")
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
    tangent: bool,
) -> np.ndarray:
    """Gradient of the NTK (``tangent``) or NNGP of ``(first, second)`` in ``first`` (T, m)."""
    depth, n_features = hyper.depth, first.shape[1]
    length, other_length = first.shape[0], second.shape[0]
    common = min(length, other_length)
    # Step j of the pair's common window is step offset + j of each sequence.
    offset, other_offset = length - common, other_length - common
    w2, u2 = hyper.sigma_w**2, hyper.sigma_u**2

    with np.errstate(over="ignore", invalid="ignore"):
        variance = _variance_path(first, hyper, activation)
        other_variance = _variance_path(second, hyper, activation)
        window_variance = variance[:, offset:]
        other_window_variance = other_variance[:, other_offset:]
        input_covariance = np.einsum("tm,tm->t", first[offset:], second[other_offset:])
        input_covariance /= n_features

        # Forward pass of the pair, recording every layer and common step.
        # Before the first common step: K = sigma_h^2 if both start there, else 0.
        boundary = hyper.sigma_h**2 if length == other_length else np.zeros(depth)
        kernel = boundary[:, None].copy()
        derivative_times_tangent = np.zeros((depth, 1))
        covariance, derivative = np.empty(1), np.empty(1)
        sigma, kernel_derivative, product = (np.empty((depth, common)) for _ in range(3))
        for step in range(common):
            below, below_tangent = input_covariance[step : step + 1], None
            for layer in range(depth):

                def cross_dual(s, kernel_out, derivative_out, layer=layer, step=step):
                    kernel_out[...], derivative_out[...] = activation.dual(
                        s, window_variance[layer, step], other_window_variance[layer, step]
                    )

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

    recorded = (variance, other_variance, sigma, kernel_derivative, product)
    if not all(np.isfinite(values).all() for values in recorded):
        raise KernelOverflowError(
            overflow_message(activation, hyper, f"sequences of lengths {length} and {other_length}")
        )

    partials = activation.dual_gradient(sigma, window_variance, other_window_variance)
    _check_differentiable(
        activation, partials, sigma, window_variance, other_window_variance, tangent
    )
    diagonal_slope = activation.diagonal_gradient(variance)[0]

    # Theta[l, j] = Sigma + w2 (Kd Theta)[l, j-1] + u2 (Kd Theta)[l-1, j] (0 at the boundary).
    theta = sigma.copy()
    theta[:, 1:] += w2[:, None] * product[:, :-1]
    theta[1:] += u2[1:, None] * product[:-1]

    # Backward pass of the pair. Adjoints: of K and of Kd * Theta per layer and
    # common step, of the input covariance, of the variances of `first`.
    kernel_adjoint = np.zeros((depth, common))
    product_adjoint = np.zeros((depth, common))
    input_covariance_adjoint = np.zeros(common)
    variance_adjoint = np.zeros((depth, length))
    sigma_v2 = hyper.sigma_v**2
    kernel_adjoint[-1, -1] = sigma_v2
    if tangent:
        product_adjoint[-1, -1] = sigma_v2
    for step in range(common - 1, -1, -1):
        for layer in range(depth - 1, -1, -1):
            kernel_bar = kernel_adjoint[layer, step]
            sigma_bar = kernel_bar * partials.kernel_covariance[layer, step]
            variance_bar = kernel_bar * partials.kernel_variance1[layer, step]
            if tangent:
                product_bar = product_adjoint[layer, step]
                theta_bar = product_bar * kernel_derivative[layer, step]
                derivative_bar = product_bar * theta[layer, step]
                sigma_bar += (
                    theta_bar + derivative_bar * partials.derivative_covariance[layer, step]
                )
                variance_bar += derivative_bar * partials.derivative_variance1[layer, step]
                if step > 0:
                    product_adjoint[layer, step - 1] += w2[layer] * theta_bar
                if layer > 0:
                    product_adjoint[layer - 1, step] += u2[layer] * theta_bar
            variance_adjoint[layer, offset + step] += variance_bar
            if step > 0:
                kernel_adjoint[layer, step - 1] += w2[layer] * sigma_bar
            if layer > 0:
                kernel_adjoint[layer - 1, step] += u2[layer] * sigma_bar
            else:
                input_covariance_adjoint[step] += u2[0] * sigma_bar

    # Backward pass of `first` alone: q[l, t] = w2 k[l, t-1] + u2 k[l-1, t] + b2,
    # k[l, t] = V(q, q, q), k[0, t] = |x_t|^2 / m.
    own_kernel_adjoint = np.zeros((depth, length))
    input_variance_adjoint = np.zeros(length)
    for step in range(length - 1, -1, -1):
        for layer in range(depth - 1, -1, -1):
            variance_bar = (
                variance_adjoint[layer, step]
                + own_kernel_adjoint[layer, step] * diagonal_slope[layer, step]
            )
            if step > 0:
                own_kernel_adjoint[layer, step - 1] += w2[layer] * variance_bar
            if layer > 0:
                own_kernel_adjoint[layer - 1, step] += u2[layer] * variance_bar
            else:
                input_variance_adjoint[step] += u2[0] * variance_bar

    gradient = (2.0 / n_features) * input_variance_adjoint[:, None] * first
    gradient[offset:] += (input_covariance_adjoint / n_features)[:, None] * second[other_offset:]
    return gradient


def _check_differentiable(activation, partials, sigma, variance1, variance2, tangent: bool):
    """Raise ``ValueError`` where the kernel has no gradient (see the module docstring)."""
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
                    f"at layer {layer + 1}, common step {step + 1}), as for x2 == x, and the "
                    f"derivative of {name}'s V' is infinite there. The NNGP (get='nngp') is "
                    "differentiable there; for univariate inputs with sigma_b = sigma_h = 0, "
                    "use sigma_b > 0"
                )
    needed = partials if tangent else partials[:3]
    finite = np.logical_and.reduce([np.isfinite(part) for part in needed])
    if not finite.all():
        layer, step = (int(i[0]) for i in np.nonzero(~finite))
        raise ValueError(
            f"the {name} kernel is not differentiable at this pair: the derivative of its "
            f"dual map is not finite at layer {layer + 1}, common step {step + 1}, where a "
            f"hidden state has variance {variance1[layer, step]:g} (x) and "
            f"{variance2[layer, step]:g} (x2); a zero variance (sigma_b = sigma_h = 0 and an "
            "all-zero input step) has no derivative for ReLU: use sigma_b > 0"
        )
