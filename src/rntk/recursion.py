r"""The limit recursion of the RNTK over time steps and layers (``docs/math.md#the-recursion``).

For a pair of sequences at a step ``s`` where both are active, layer ``l``:

.. math::

    \Sigma_{l,s} &= \sigma_{w,l}^2 K_{l,s-1} + \sigma_{u,l}^2 K_{l-1,s} + \sigma_{b,l}^2 \\
    K_{l,s},\ \dot K_{l,s} &= V_\phi,\ V'_\phi\,(q_{l,s}(x),\ q_{l,s}(x'),\ \Sigma_{l,s}) \\
    \Theta_{l,s} &= \Sigma_{l,s} + \sigma_{w,l}^2 \dot K_{l,s-1}\Theta_{l,s-1}
                   + \sigma_{u,l}^2 \dot K_{l-1,s}\Theta_{l-1,s}

with ``K_{0,s} = <x_s, x'_s> / m`` and no last term in layer 1. The read-out at
the last step gives ``NNGP = sigma_v^2 K_{L,S}`` and
``NTK = sigma_v^2 (K_{L,S} + Kd_{L,S} Theta_{L,S})``.

The state carried from step to step is ``K`` and the product ``Kd * Theta`` per
layer, so a block of pairs needs ``O(L n1 n2)`` memory whatever the length.
:func:`advance_layer` is the one place the recursion is written; the
per-sequence path (a sequence with itself, whose variances ``q`` the cross
recursion needs) and the pairwise block sweep both call it.

The difference form. For two near-duplicate sequences the
correlation ``Sigma / sqrt(q q')`` is 1 up to rounding, which leaves the angle
between the states with an absolute error of ``sqrt(eps)`` and the NTK with
about 8 digits. For activations that state their dual map in terms of
differences (ReLU, erf: ``difference_form``), the pairwise sweep carries
instead ``E = E[(h - h')^2]``, whose pre-activation counterpart ``D = E[(g -
g')^2] = q + q' - 2 Sigma`` follows the same linear recursion without the bias
(it cancels in ``g - g'``):

.. math::

    D_{l,s} = \sigma_{w,l}^2 E_{l,s-1} + \sigma_{u,l}^2 E_{l-1,s},
    \qquad E_{0,s} = |x_s - x'_s|^2 / m,

and the dual map turns ``D`` into ``E``, ``Kd`` and ``Sigma`` with full precision
however close the two sequences are
(:meth:`~rntk.activations.DualActivation.cross_difference`). ``K = (k + k' -
E) / 2`` is recovered from the self kernels ``k = V(q, q, q)`` at the read-out.
The per-sequence path and :func:`rntk.sensitivity` use the covariance form.

Sequences are aligned at their last step. Before a pair's first common step
the state is the boundary value: ``K = sigma_h^2`` if both sequences start
there together (equal lengths), ``K = 0`` if one has started and the other is
still at its initial state ``h0`` (independent of it), and ``Kd * Theta = 0``
(``h0`` is not trained). In the difference form: ``E = 0`` for two sequences
at the shared ``h0``, and ``E = k + sigma_h^2`` (``k`` the started one's self
kernel at the step before) for one at ``h0`` and one started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import DualActivation, Erf, Hermite, ReLU, check_dual_result
from .errors import KernelOverflowError, KernelUnderflowError
from .heads import LAST_STEP, Head
from .hyperparameters import Hyperparameters
from .sequences import SequenceBatch

__all__ = [
    "SequencePath",
    "StackPaths",
    "advance_layer",
    "block_invariant",
    "reverse_layer",
    "cross_block",
    "model_block",
    "self_kernels",
    "sequence_path",
    "stack_paths",
]


def advance_layer(
    kernel: np.ndarray,
    derivative_times_tangent: np.ndarray,
    kernel_below: np.ndarray,
    derivative_times_tangent_below: np.ndarray | None,
    layer: int,
    hyper: Hyperparameters,
    evaluate_dual: Callable[..., None],
    covariance: np.ndarray,
    derivative: np.ndarray,
    difference: np.ndarray | None = None,
) -> None:
    """Advance one layer by one step, in place.

    On entry ``kernel`` and ``derivative_times_tangent`` hold ``K[l, s-1]`` and
    ``Kd[l, s-1] * Theta[l, s-1]``; on exit they hold the values at step ``s``.
    ``kernel_below`` is ``K[l-1, s]`` already scaled for the input layer (see
    :func:`input_covariance`), ``derivative_times_tangent_below`` is
    ``Kd[l-1, s] * Theta[l-1, s]`` or ``None`` in the first layer.
    ``evaluate_dual(Sigma, K_out, Kd_out)`` evaluates the activation's dual map.
    ``covariance`` and ``derivative`` are work arrays of the state's shape; on
    exit ``covariance`` holds ``Sigma[l, s]``.

    Given the work array ``difference``, the recursion is in its difference
    form (see the module docstring): ``kernel`` and ``kernel_below`` hold
    ``E`` instead of ``K``, ``D[l, s]`` is formed in ``difference`` (with no
    bias term: the bias cancels in ``g - g'``; ``difference`` may be
    ``kernel_below`` itself), and ``evaluate_dual(D, E_out, Kd_out,
    Sigma_out)`` is the difference form of the dual map, which also writes
    ``Sigma[l, s]`` into ``covariance`` for the tangent kernel.
    """
    w2 = hyper.sigma_w[layer] ** 2
    u2 = hyper.sigma_u[layer] ** 2
    moment = covariance if difference is None else difference  # Sigma or D
    np.multiply(kernel_below, u2, out=moment)
    np.multiply(kernel, w2, out=derivative)  # derivative is free until the dual writes it
    moment += derivative

    # Theta[l, s] = Sigma + w2 Kd[l,s-1] Theta[l,s-1] + u2 Kd[l-1,s] Theta[l-1,s],
    # built in the state array: its old value is needed only here.
    tangent = derivative_times_tangent
    tangent *= w2
    if difference is None:
        covariance += hyper.sigma_b[layer] ** 2
        tangent += covariance
    if derivative_times_tangent_below is not None:
        np.multiply(derivative_times_tangent_below, u2, out=derivative)
        tangent += derivative

    if difference is None:
        evaluate_dual(covariance, kernel, derivative)
    else:
        evaluate_dual(difference, kernel, derivative, covariance)
        tangent += covariance
    tangent *= derivative


def reverse_layer(
    kernel_adjoint: float,
    product_adjoint: float,
    derivative: float,
    tangent: float,
    partials,
    cell: tuple[int, int],
) -> tuple[float, float, float]:
    """The adjoint of :func:`advance_layer` at one cell, for reverse mode (the sensitivity).

    ``advance_layer`` forms ``Sigma = w2 K[l, s-1] + u2 K[l-1, s] + b2`` and
    ``Theta = Sigma + w2 P[l, s-1] + u2 P[l-1, s]``, then ``K = V(q1, q2,
    Sigma)``, ``Kd = V'(q1, q2, Sigma)`` and ``P = Kd * Theta``. Given the
    adjoints of ``K`` and ``P`` at the cell, this returns those of ``Sigma``,
    ``Theta`` and the first sequence's variance ``q1``; ``derivative`` and
    ``tangent`` are ``Kd`` and ``Theta`` at the cell, and ``partials[cell]``
    (each part of a :class:`~rntk.activations.DualGradient` of arrays, at the
    index ``cell``) the dual map's partial derivatives there. The caller passes
    ``w2`` times the ``Sigma`` and ``Theta`` adjoints back to ``K[l, s-1]`` and
    ``P[l, s-1]``, and ``u2`` times them down to ``K[l-1, s]`` and ``P[l-1, s]``
    (the forward step's two inputs). ``product_adjoint = 0`` is the NNGP's pass.
    """
    sigma_adjoint = kernel_adjoint * partials.kernel_covariance[cell]
    variance_adjoint = kernel_adjoint * partials.kernel_variance1[cell]
    if not product_adjoint:
        # Nothing flows through P (the NNGP), where V' may have infinite partials
        # (|rho| = 1) that must not meet a zero adjoint as 0 * inf.
        return sigma_adjoint, 0.0, variance_adjoint
    # P = Kd * Theta: Theta's adjoint goes back unchanged through Theta = Sigma + ...,
    # Kd's through the dual map's partials.
    tangent_adjoint = product_adjoint * derivative
    derivative_adjoint = product_adjoint * tangent
    sigma_adjoint += tangent_adjoint + derivative_adjoint * partials.derivative_covariance[cell]
    variance_adjoint += derivative_adjoint * partials.derivative_variance1[cell]
    return sigma_adjoint, tangent_adjoint, variance_adjoint


#: OpenBLAS multiplies on threads of its own above m * n * k = 65536 * 4. The blocks
#: already run on every core, where those threads only contend: with two block
#: threads a 256 x 1024 x 5 product took 1 to 19 ms instead of 0.4 ms in chunks.
_SINGLE_THREAD_PRODUCT = 65536 * 4


def _block_product(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """``out = left @ right.T``, in row chunks small enough for BLAS to stay on this thread."""
    rows = max(1, _SINGLE_THREAD_PRODUCT // (right.shape[0] * left.shape[1]))
    for start in range(0, left.shape[0], rows):
        np.matmul(left[start : start + rows], right.T, out=out[start : start + rows])


def input_covariance(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``K[0, s] = <x_s, x'_s> / m`` for all rows ``left`` (a, m) and columns ``right`` (b, m)."""
    n_features = left.shape[1]
    if n_features == 1:
        np.multiply(left, right.T, out=out)
    else:
        _block_product(left, right, out)
        out *= 1.0 / n_features
    return out


#: Distances below this fraction f of the block's largest |x|^2 + |x'|^2 are
#: recomputed directly. Above it the matrix-product form keeps a relative precision
#: of eps / f, which moves the angle between the states (about sqrt(f) there) by
#: about eps / sqrt(f), below 1e-14.
_CANCELLATION_FRACTION = 2.0**-12


def input_difference(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``E[0, s] = |x_s - x'_s|^2 / m`` for all rows ``left`` (a, m) and columns ``right`` (b, m).

    Computed without cancellation, so that near-duplicate steps keep the
    relative precision of their difference. Univariate: ``(x - x')^2``.
    Otherwise ``|x|^2 + |x'|^2 - 2 <x, x'>`` as one matrix product of ``[x,
    |x|^2, 1]`` and ``[-2 x', 1, |x'|^2]`` (a third of the time of summing the
    features' squared differences at three features), with the pairs where it
    may cancel recomputed from the differences.
    """
    n_rows, n_features = left.shape
    if n_features == 1:
        np.subtract(left, right.T, out=out)
        out *= out
        return out
    left_energy = np.einsum("im,im->i", left, left)
    right_energy = np.einsum("im,im->i", right, right)
    augmented_left = np.ones((n_rows, n_features + 2), left.dtype)
    augmented_left[:, :n_features] = left
    augmented_left[:, n_features] = left_energy
    augmented_right = np.ones((right.shape[0], n_features + 2), right.dtype)
    np.multiply(right, -2.0, out=augmented_right[:, :n_features])
    augmented_right[:, n_features + 1] = right_energy
    _block_product(augmented_left, augmented_right, out)
    largest = float(left_energy.max(initial=0.0) + right_energy.max(initial=0.0))
    close = out < _CANCELLATION_FRACTION * largest
    if close.any():
        close_rows, close_columns = np.divmod(np.flatnonzero(close), out.shape[1])
        steps = left[close_rows] - right[close_columns]
        out[close_rows, close_columns] = np.einsum("km,km->k", steps, steps)
    out *= 1.0 / n_features
    return out


@dataclass(frozen=True, eq=False)
class SequencePath:
    """Per-sequence quantities of the recursion, a sequence paired with itself.

    Attributes
    ----------
    lengths : ndarray (n,)
    steps_from_end : ndarray (max_length, n, m)
        The inputs, as in :class:`~rntk.sequences.SequenceBatch`.
    variance : ndarray (depth, max_length, n), float64
        The pre-activation variance ``q[l, t]`` (steps counted from the end;
        zero before a sequence starts).
    factors : list over layers of tuples of ndarrays (max_length, n)
        The activation's per-sequence factors of ``variance``, used by the
        pairwise recursion: :meth:`~rntk.activations.DualActivation.difference_factors`
        if the activation has a difference form, else
        :meth:`~rntk.activations.DualActivation.factors`.
    prefix_nngp, prefix_ntk : ndarray (max_length, n), float64
        The last-step kernels of each prefix with itself: ``[r, i]`` is the
        kernel of sequence ``i`` without its last ``r`` steps (zero where
        ``r >= T_i``). Computed from closed forms in ``q`` (exact, no
        ``arccos`` near 1).
    """

    lengths: np.ndarray
    steps_from_end: np.ndarray
    variance: np.ndarray
    factors: list
    prefix_nngp: np.ndarray
    prefix_ntk: np.ndarray

    @property
    def n_sequences(self) -> int:
        return self.lengths.shape[0]

    @property
    def nngp(self) -> np.ndarray:
        """The last-step NNGP of each whole sequence with itself, (n,)."""
        return self.prefix_nngp[0]

    @property
    def ntk(self) -> np.ndarray:
        """The last-step NTK of each whole sequence with itself, (n,)."""
        return self.prefix_ntk[0]

    def _select(self, steps: slice, part: slice) -> SequencePath:
        return SequencePath(
            self.lengths[part] - (steps.start or 0),
            self.steps_from_end[steps, part],
            self.variance[:, steps, part],
            [tuple(f[steps, part] for f in layer) for layer in self.factors],
            self.prefix_nngp[steps, part],
            self.prefix_ntk[steps, part],
        )

    def dropping_last(self, steps: int) -> SequencePath:
        """The prefixes that remain when the last ``steps`` steps are dropped (views).

        Sequences no longer than ``steps`` are left out; as the path is sorted
        by decreasing length (as :func:`cross_block` needs), the rest is a
        prefix of the sequences, in the same order. By causality the prefixes'
        variances and factors are those of the first steps of the sequences.
        """
        if steps == 0:
            return self
        kept = int(np.count_nonzero(self.lengths > steps))
        return self._select(slice(steps, None), slice(0, kept))

    def rows(self, start: int, stop: int) -> SequencePath:
        """The sequences ``start:stop`` (views, no copies).

        The time axis is cut to the longest of them, so a part sent to another
        process (a Dask worker) carries no steps that none of them has.
        """
        part = slice(start, stop)
        return self._select(slice(0, int(self.lengths[part].max())), part)


def overflow_message(
    activation: DualActivation, hyper: Hyperparameters, where: str, dtype=np.float64
) -> str:
    """Why the kernel left the range of ``dtype`` and what to do about it."""
    return (
        f"the RNTK overflowed {np.dtype(dtype).name} on {where} with activation "
        f"{activation.name or type(activation).__name__} and {hyper.describe()}: "
        f"{activation.growth_advice}, or use shorter sequences or inputs of smaller scale"
    )


def non_finite_error(
    activation: DualActivation, hyper: Hyperparameters, where: str, values, dtype=np.float64
) -> FloatingPointError:
    """The error for kernel values that are not finite: NaN from the dual map, or overflow.

    Infinities mean the kernel outgrew the floating-point range, and so do
    finite values within a factor 16 of it (the headroom of the overflow check
    of :func:`sequence_path`): the next step's sums overflow, which the dual
    map may turn into NaN (``inf / inf``). A NaN with neither is not an
    overflow: the activation's dual map returned NaN (for example a
    :class:`~rntk.activations.Hermite` activation whose ``phi`` is NaN
    somewhere), and the sigma advice would mislead.
    """
    values = [np.asarray(v) for v in values]
    # An overflow inside one step (inf - inf, inf * 0, inf / inf in a dual map)
    # can leave NaN and no infinity; the finite values met before it went past
    # the headroom of the overflow check in sequence_path then.
    largest = float(np.finfo(dtype).max) / 16
    overflowed = any(
        np.isinf(v).any() or (np.abs(v[np.isfinite(v)]) > largest).any() for v in values
    )
    if not overflowed and any(np.isnan(v).any() for v in values):
        name = activation.name or type(activation).__name__
        return FloatingPointError(
            f"the dual map of activation {name} returned NaN on {where} with "
            f"{hyper.describe()}: the activation (or its derivative) is not finite for "
            "some input; check phi and phi' of a custom or Hermite activation"
        )
    return KernelOverflowError(overflow_message(activation, hyper, where, dtype))


#: The scales, in the order :meth:`~rntk.hyperparameters.Hyperparameters.describe` gives them.
_SCALES = ("sigma_w", "sigma_u", "sigma_b", "sigma_h", "sigma_v")


def check_scales(hyper: Hyperparameters, activation: DualActivation) -> None:
    """Raise :class:`KernelOverflowError` if the square of a scale overflows float64.

    The kernel is computed with the squares of the scales, so a scale above
    the square root of the largest float64 (about ``1.34e154``) would enter as
    an infinity, which meets a zero (``sigma_h = 0``) as NaN before any kernel
    value is infinite (``docs/math.md#overflow``).
    """
    limit = float(np.sqrt(np.finfo(np.float64).max))
    for name in _SCALES:
        largest = float(np.max(getattr(hyper, name)))
        if largest > limit:
            raise KernelOverflowError(
                f"the RNTK overflowed float64: {name}={largest:g} is too large, the kernel is "
                f"computed with {name}**2, which is beyond the largest float64 (activation "
                f"{activation.name or type(activation).__name__}, {hyper.describe()}); use "
                f"{name} below {limit:.3g} (the kernel grows with {name}**2, so it may need "
                "to be much smaller)"
            )


#: The library's own diagonal maps: closed forms (ReLU, erf) and a quadrature with
#: positive weights (Hermite), none of which can return a negative second moment,
#: so sequence_path spares them the check of every step.
_NON_NEGATIVE_DIAGONALS = (ReLU.diagonal, Erf.diagonal, Hermite.diagonal)


def _negative_moment_error(
    activation: DualActivation, hyper: Hyperparameters, variance, kernel, derivative
) -> ValueError:
    """The error for a dual map whose ``V(q, q, q)`` or ``V'(q, q, q)`` is negative."""
    negative_kernel = kernel < 0
    negative = negative_kernel if negative_kernel.any() else derivative < 0
    at = int(np.flatnonzero(negative)[0])
    value, symbol = (kernel, "V") if negative_kernel.any() else (derivative, "V'")
    defines_diagonal = type(activation).diagonal is not DualActivation.diagonal
    method = "diagonal" if defines_diagonal else "dual (at c = q1 = q2 = q)"
    return ValueError(
        f"the dual map of activation {activation.name or type(activation).__name__} gave "
        f"{symbol}(q, q, q) = {float(value[at]):.6g} at q = {float(variance[at]):.6g} "
        f"({hyper.describe()}): V(q, q, q) = E[phi(u)**2] and V'(q, q, q) = E[phi'(u)**2] "
        f"are second moments, never negative; check {type(activation).__name__}.{method}"
    )


def sequence_path(
    batch: SequenceBatch,
    hyper: Hyperparameters,
    activation: DualActivation,
    dtype=np.float64,
) -> SequencePath:
    """Run the recursion of every sequence with itself, ``O(n L T)``.

    Sequences of different length are advanced together; a sequence that has
    not started yet is held at the boundary value (``K = sigma_h^2``,
    ``Kd * Theta = 0``) until its first step.

    The path is computed in float64; the inputs and factors that the pairwise
    recursion reads are stored in ``dtype``. Because every intermediate kernel
    is positive semi-definite, a pair's values at any step are bounded by its
    two sequences' own, so checking the largest value met here against the
    range of ``dtype`` guarantees that the pairwise recursion cannot overflow.
    """
    check_scales(hyper, activation)
    n, depth = batch.n_sequences, hyper.depth
    horizon = batch.max_length
    boundary = hyper.sigma_h**2
    kernel = np.repeat(boundary[:, None], n, axis=1)
    derivative_times_tangent = np.zeros((depth, n))
    variance = np.zeros((depth, horizon, n))
    prefix_kernel, prefix_tangent = np.zeros((horizon, n)), np.zeros((horizon, n))
    covariance, derivative, input_var = np.empty(n), np.empty(n), np.empty(n)

    checked = type(activation).diagonal not in _NON_NEGATIVE_DIAGONALS

    def diagonal_dual(sigma, kernel_out, derivative_out):
        values = activation.diagonal(sigma)
        if checked:
            values = check_dual_result(values, activation, "diagonal", sigma.shape)
        kernel_out[...], derivative_out[...] = values
        if checked and (kernel_out.min() < 0 or derivative_out.min() < 0):
            raise _negative_moment_error(activation, hyper, sigma, kernel_out, derivative_out)

    largest_tangent = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(horizon - 1, -1, -1):
            inputs = batch.steps_from_end[step]
            np.einsum("im,im->i", inputs, inputs, out=input_var)
            input_var *= 1.0 / batch.n_features
            below, below_tangent = input_var, None
            not_started = batch.lengths <= step
            for layer in range(depth):
                advance_layer(
                    kernel[layer],
                    derivative_times_tangent[layer],
                    below,
                    below_tangent,
                    layer,
                    hyper,
                    diagonal_dual,
                    covariance,
                    derivative,
                )
                variance[layer, step] = covariance
                kernel[layer, not_started] = boundary[layer]
                derivative_times_tangent[layer, not_started] = 0.0
                variance[layer, step, not_started] = 0.0
                below, below_tangent = kernel[layer], derivative_times_tangent[layer]
            # fmax skips NaN, so the largest value met before an overflow turned
            # into NaN still tells non_finite_error what happened.
            step_largest = float(np.fmax.reduce(derivative_times_tangent, axis=None))
            largest_tangent = max(largest_tangent, step_largest)
            np.add(kernel[-1], derivative_times_tangent[-1], out=prefix_tangent[step])
            prefix_kernel[step] = kernel[-1]
            prefix_kernel[step, not_started] = prefix_tangent[step, not_started] = 0.0

    with np.errstate(over="ignore"):  # checked by _check_read_out_scale
        prefix_nngp = hyper.sigma_v**2 * prefix_kernel
        prefix_ntk = hyper.sigma_v**2 * prefix_tangent
    ntk = prefix_ntk[0]
    # Headroom for the products formed inside one step (Sigma plus w2 * Kd * Theta).
    limit = float(np.finfo(dtype).max) / 16
    unscaled_fits = (
        bool(np.isfinite(variance).all() and np.isfinite(prefix_tangent[0]).all())
        and max(largest_tangent, float(variance.max()), float(prefix_tangent[0].max())) <= limit
    )
    _check_read_out_scale(prefix_tangent[0], ntk, unscaled_fits, hyper, activation, dtype)
    finite = np.isfinite(ntk) & np.isfinite(variance).all(axis=(0, 1))
    if not finite.all():
        raise non_finite_error(
            activation,
            hyper,
            f"a sequence of length {int(batch.lengths[~finite].max())}",
            (ntk, variance, largest_tangent),
        )
    largest = max(largest_tangent, float(variance.max()), float(ntk.max()))
    if largest > limit:
        raise KernelOverflowError(
            overflow_message(activation, hyper, "the sequences with themselves", dtype)
            + f" (largest intermediate value {largest:.3g}, too close to the largest "
            f"{np.dtype(dtype).name})"
            + ("; float64 has a wider range" if np.dtype(dtype) != np.float64 else "")
        )

    def stored(array):
        return array.astype(dtype, copy=False) if array.dtype.kind == "f" else array

    per_sequence_factors = (
        activation.difference_factors if activation.difference_form else activation.factors
    )
    factors = [tuple(map(stored, per_sequence_factors(variance[layer]))) for layer in range(depth)]
    return SequencePath(
        batch.lengths, stored(batch.steps_from_end), variance, factors, prefix_nngp, prefix_ntk
    )


def _check_read_out_scale(
    unscaled: np.ndarray,
    scaled: np.ndarray,
    unscaled_fits: bool,
    hyper: Hyperparameters,
    activation: DualActivation,
    dtype,
) -> None:
    """Raise if ``sigma_v**2`` alone takes the kernels out of the range of ``dtype``.

    ``unscaled`` and ``scaled`` are each sequence's NTK with itself before and
    after the factor ``sigma_v**2``. :class:`KernelOverflowError` if the
    recursion itself fits (``unscaled_fits``) but a scaled kernel passes the
    headroom bound of :func:`sequence_path`; :class:`KernelUnderflowError` if a
    scaled kernel falls below the bound of :func:`_check_underflow`, ``tiny /
    eps``. A kernel already small before the factor is left to
    :func:`_check_underflow` (its inputs are at fault), unless ``sigma_v**2``
    itself underflows, which leaves no way to tell. A self kernel of 0 is exact
    whatever ``sigma_v``.
    """
    scale = hyper.sigma_v**2
    name = np.dtype(dtype).name
    remedy = (
        "multiply the kernel by the factor afterwards (it is proportional to sigma_v**2), "
        "or leave sigma_v at 1 with normalize=True, where it cancels"
    )
    if scale > 1.0:
        limit = float(np.finfo(dtype).max) / 16
        beyond = ~(scaled <= limit)
        if unscaled_fits and beyond.any():
            sequence = int(np.flatnonzero(beyond)[0])
            raise KernelOverflowError(
                f"the RNTK overflowed {name}: sigma_v={hyper.sigma_v:g} multiplies the kernel "
                f"by sigma_v**2 = {scale:.3g}, which takes a sequence's kernel with itself from "
                f"{float(unscaled[sequence]):.3g} to {float(scaled[sequence]):.3g}, beyond "
                f"{limit:.3g}, too close to the largest {name} (activation "
                f"{activation.name or type(activation).__name__}, {hyper.describe()}). Use a "
                f"smaller sigma_v and {remedy}"
            )
        return
    if hyper.sigma_v == 0 or scale == 1.0:
        return
    info = np.finfo(dtype)
    smallest = float(info.tiny) / float(info.eps)
    below = (unscaled > 0) & (scaled < smallest)
    lost = below & ((unscaled >= smallest) | (scale < float(np.finfo(np.float64).tiny)))
    if lost.any():
        sequence = int(np.flatnonzero(lost)[0])
        raise KernelUnderflowError(
            f"the RNTK underflowed {name}: sigma_v={hyper.sigma_v:g} multiplies the kernel by "
            f"sigma_v**2 = {scale:.3g}, which takes a sequence's kernel with itself from "
            f"{float(unscaled[sequence]):.3g} to {float(scaled[sequence]):.3g}, below "
            f"{smallest:.3g}, where {name} loses precision (activation "
            f"{activation.name or type(activation).__name__}, {hyper.describe()}). Use a "
            f"larger sigma_v and {remedy}"
        )


@dataclass(frozen=True, eq=False)
class StackPaths:
    """The per-sequence paths of every stack of a model, and its self-kernels.

    Attributes
    ----------
    stacks : tuple of SequencePath
        One per stack: the sequences, then (bidirectional head) the reversed
        sequences. All share the lengths and the order of the sequences.
    nngp, ntk : ndarray (n,)
        The head's kernels of each sequence with itself, summed over stacks
        (:func:`self_kernels`).
    """

    stacks: tuple
    nngp: np.ndarray
    ntk: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.stacks[0].lengths

    @property
    def n_sequences(self) -> int:
        return self.stacks[0].n_sequences

    @property
    def n_features(self) -> int:
        return self.stacks[0].steps_from_end.shape[2]

    def rows(self, start: int, stop: int) -> StackPaths:
        """The sequences ``start:stop`` of every stack (views, no copies)."""
        part = slice(start, stop)
        return StackPaths(
            tuple(path.rows(start, stop) for path in self.stacks), self.nngp[part], self.ntk[part]
        )

    def select(self, positions: np.ndarray) -> StackPaths:
        """The sequences at ``positions`` of every stack (contiguous copies).

        ``positions`` must list sequences by decreasing length (as
        :func:`cross_block` needs); the time axis is cut to the longest of them,
        the shape :func:`stack_paths` gives those sequences alone. The values are
        theirs alone only where every per-sequence map works value by value
        (see :mod:`rntk.prepared`).
        """
        positions = np.asarray(positions, dtype=np.intp)
        horizon = int(self.lengths[positions].max())

        def pick(array: np.ndarray, axis: int) -> np.ndarray:
            steps = (slice(None),) * (axis - 1) + (slice(0, horizon),)
            return np.ascontiguousarray(array[steps].take(positions, axis=axis))

        stacks = tuple(
            SequencePath(
                path.lengths[positions],
                pick(path.steps_from_end, 1),
                pick(path.variance, 2),
                [tuple(pick(factor, 1) for factor in layer) for layer in path.factors],
                pick(path.prefix_nngp, 1),
                pick(path.prefix_ntk, 1),
            )
            for path in self.stacks
        )
        return StackPaths(stacks, self.nngp[positions], self.ntk[positions])


def stack_paths(
    batch: SequenceBatch,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head,
    dtype=np.float64,
) -> StackPaths:
    """Run the per-sequence recursion of every stack of the model.

    ``batch`` must be sorted by decreasing length (as :func:`cross_block` needs).
    """
    stacks = tuple(
        sequence_path(batch.reversed() if backward else batch, hyper, activation, dtype)
        for backward in head.directions
    )
    nngp, ntk = np.zeros(batch.n_sequences), np.zeros(batch.n_sequences)
    for path in stacks:
        stack_nngp, stack_ntk = self_kernels(path, hyper, activation, head)
        nngp += stack_nngp
        ntk += stack_ntk
    if hyper.sigma_v**2 > 0:
        _check_underflow(batch, ntk / hyper.sigma_v**2, hyper, activation, dtype)
    return StackPaths(stacks, nngp, ntk)


def _check_underflow(
    batch: SequenceBatch,
    self_kernel: np.ndarray,
    hyper: Hyperparameters,
    activation: DualActivation,
    dtype,
) -> None:
    """Raise :class:`KernelUnderflowError` if a sequence's kernel left the precise range.

    ``self_kernel`` is the head's NTK of each sequence with itself, without the
    factor ``sigma_v**2``. Below ``tiny / eps`` of ``dtype`` the pairwise
    recursion would form differences and products in the subnormal range. A
    self kernel of exactly 0 is an underflow only if some nonzero input step of
    that sequence has an energy ``|x_t|^2 / m`` below the normal range (an
    all-zero sequence with ``sigma_b = sigma_h = 0`` has kernel 0, exactly).
    """
    info = np.finfo(dtype)
    smallest = float(info.tiny) / float(info.eps)
    too_small = (self_kernel > 0) & (self_kernel < smallest)
    if self_kernel.min(initial=np.inf) == 0.0:
        steps = batch.steps_from_end
        energy = np.einsum("tim,tim->ti", steps, steps) / batch.n_features
        lost = (np.any(steps != 0, axis=2) & (energy < float(info.tiny))).any(axis=0)
        too_small |= lost & (self_kernel == 0)
    if not too_small.any():
        return
    sequence = int(np.flatnonzero(too_small)[0])
    scale = float(np.abs(batch.steps_from_end[:, sequence]).max())
    homogeneous = activation.homogeneous and not (hyper.sigma_b.any() or hyper.sigma_h.any())
    remedy = (
        "with sigma_b = sigma_h = 0 this kernel is homogeneous, K(c x, c x') = "
        "c**2 K(x, x'), so scaling the inputs by a power of two c and the kernel by "
        "1 / c**2 is exact, and the normalized kernel does not change"
        if homogeneous
        else "the kernel depends on the scale of the inputs, so rescale them as part of the "
        "model, or use sigma_b > 0"
    )
    raise KernelUnderflowError(
        f"the RNTK underflowed {np.dtype(dtype).name} on a sequence whose largest input is "
        f"{scale:.3g}: its kernel with itself ({float(self_kernel[sequence]):.3g}) is below "
        f"{smallest:.3g}, where {np.dtype(dtype).name} loses precision (activation "
        f"{activation.name or type(activation).__name__}, {hyper.describe()}). Multiply the "
        f"inputs by a constant: {remedy}"
    )


def model_block(
    rows: StackPaths,
    columns: StackPaths,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head,
) -> tuple[np.ndarray, np.ndarray]:
    """The model's NNGP and NTK between the row and column sequences of a block.

    The stacks have independent weights, so their kernels add.
    """
    nngp, ntk = None, None
    for row_path, column_path in zip(rows.stacks, columns.stacks, strict=True):
        stack_nngp, stack_ntk = cross_block(row_path, column_path, hyper, activation, head)
        if nngp is None:
            nngp, ntk = stack_nngp, stack_ntk
        else:
            nngp += stack_nngp
            ntk += stack_ntk
    return nngp, ntk


def block_invariant(activation: DualActivation, n_features: int) -> bool:
    """Whether a pair's kernels are the same, bit for bit, in every block that holds it.

    True for univariate inputs and an activation with a difference form, where
    every operation of :func:`cross_block` on a pair involves that pair alone.
    Otherwise the block leaves its mark on the last bits in two ways. With
    several features the input term is a matrix product over the block, whose
    rounding depends on its shape, and :func:`input_difference` recomputes the
    pairs below a threshold set by the block's largest inputs. And
    :func:`_sweep` puts the larger side of a block (after dropping the steps of
    a diagonal) in its rows, so a block's shape decides which sequence of a
    pair is the row; the covariance form's dual maps scale by the row's factor
    first (``(Sigma a_i) a_j`` is not ``(Sigma a_j) a_i`` in floating point),
    while the difference form's treat both sequences alike
    (:meth:`~rntk.activations.DualActivation.cross_difference`).
    """
    return n_features == 1 and activation.difference_form


def _active_counts(lengths_descending: np.ndarray, horizon: int) -> np.ndarray:
    """Number of sequences active ``r`` steps before the end (length > r), ``r < horizon``."""
    # lengths sorted in descending order: the active ones (length > r) form a prefix.
    return np.searchsorted(-lengths_descending, -np.arange(horizon), side="left")


def cross_block(
    rows: SequencePath,
    columns: SequencePath,
    hyper: Hyperparameters,
    activation: DualActivation,
    head: Head = LAST_STEP,
) -> tuple[np.ndarray, np.ndarray]:
    """The NNGP and NTK of one stack between every row and column sequence of a block.

    Both ``rows`` and ``columns`` must be sorted by decreasing length. The
    head's read rule says which diagonals of the step grid to sweep and how to
    weigh the cells along them (:class:`rntk.heads.ReadRule`); the sums are
    then scaled by the rule's normalisers. ``head.bidirectional`` is not
    looked at here: the caller adds the reversed stack.

    Returns
    -------
    nngp, ntk : ndarray of shape (len(rows), len(columns))
    """
    rule = head.rule
    row_length, column_length = int(rows.lengths[0]), int(columns.lengths[0])

    def sweep_diagonal(offset):
        row_dropped, column_dropped = max(int(offset), 0), max(-int(offset), 0)
        n_steps = min(row_length - row_dropped, column_length - column_dropped)
        return _sweep(
            rows.dropping_last(row_dropped),
            columns.dropping_last(column_dropped),
            hyper,
            activation,
            _ActiveRectangle,
            rule.diagonal_weights(offset, n_steps),
        )

    offsets = rule.offsets(row_length, column_length)
    if len(offsets) == 1:
        # One diagonal (offset 0, every pair): its kernels are the sums.
        nngp, ntk = sweep_diagonal(offsets[0])
    else:
        shape, dtype = (rows.n_sequences, columns.n_sequences), rows.steps_from_end.dtype
        nngp, ntk = np.zeros(shape, dtype), np.zeros(shape, dtype)
        for offset in offsets:
            diagonal_nngp, diagonal_ntk = sweep_diagonal(offset)
            cells = (slice(0, diagonal_nngp.shape[0]), slice(0, diagonal_nngp.shape[1]))
            nngp[cells] += diagonal_nngp
            ntk[cells] += diagonal_ntk
    weights = np.multiply.outer(1.0 / rule.totals(rows.lengths), 1.0 / rule.totals(columns.lengths))
    nngp *= weights
    ntk *= weights
    return nngp, ntk


def self_kernels(
    path: SequencePath, hyper: Hyperparameters, activation: DualActivation, head: Head
) -> tuple[np.ndarray, np.ndarray]:
    """The head's NNGP and NTK of every sequence with itself (one stack), each (n,).

    The cells of the step grid where a prefix meets itself (diagonal 0) take
    the exact per-sequence values of ``path``; the others pair two different
    prefixes of one sequence and go through the pairwise recursion, paired
    sequence by sequence (no Gram matrix), ``O(n L T^2 / k)`` for the mean
    head with stride ``k``, nothing for the last-step head. The result depends
    on the sequence alone, so every pair of identical sequences of a Gram
    matrix gets exactly this value. ``path`` must be sorted by decreasing
    length.
    """
    rule = head.rule
    length = int(path.lengths[0])
    profile = rule.profile(length)
    read = np.flatnonzero(profile)
    cell_weights = np.square(profile[read])[:, None]
    nngp = (path.prefix_nngp[read] * cell_weights).sum(axis=0)
    ntk = (path.prefix_ntk[read] * cell_weights).sum(axis=0)
    for offset in rule.offsets(length, length):
        if offset <= 0:
            # Theta(x[:t], x[:t']) = Theta(x[:t'], x[:t]): the offsets o > 0 count twice.
            continue
        pair_nngp, pair_ntk = _sweep(
            path.dropping_last(offset),
            path,
            hyper,
            activation,
            _ActivePairs,
            rule.diagonal_weights(offset, length - offset),
        )
        nngp[: pair_nngp.shape[0]] += 2.0 * pair_nngp
        ntk[: pair_ntk.shape[0]] += 2.0 * pair_ntk
    weights = 1.0 / np.square(rule.totals(path.lengths))
    return nngp * weights, ntk * weights


def _sweep(
    rows: SequencePath,
    columns: SequencePath,
    hyper: Hyperparameters,
    activation: DualActivation,
    layout,
    read_weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the recursion over the common steps of row and column sequences.

    Sequences are aligned at their last step and sorted by decreasing length.
    Going forward in time, the pairs that are active at a step then form a
    growing prefix of the rows and of the columns, so the sweep updates only
    those pairs and a pair costs ``min(T_i, T_j)`` steps. ``layout`` pairs
    every row with every column (:class:`_ActiveRectangle`) or row ``i`` with
    column ``i`` only (:class:`_ActivePairs`). The recursion carries ``E`` if
    the activation has a difference form (:class:`_DifferenceForm`), else
    ``K`` (:class:`_CovarianceForm`).

    ``read_weights[s]`` weighs the kernels ``s`` steps before the end (the
    cells of one diagonal, :meth:`rntk.heads.ReadRule.diagonal_weights`). If
    only the last step is read (the last-step head), the kernels are read from
    the state after the sweep; otherwise the sweep sums the read cells as it
    goes.

    Returns
    -------
    nngp, ntk : ndarray, shaped like the layout's pairs, scaled by ``sigma_v**2``
    """
    if layout is _ActiveRectangle and rows.n_sequences < columns.n_sequences:
        # The recursion is symmetric in the two sequences (bit for bit only in the
        # difference form, see block_invariant): run it with the larger set
        # outermost and transpose (see _ActiveRectangle).
        nngp, ntk = _sweep(columns, rows, hyper, activation, layout, read_weights)
        return nngp.T, ntk.T

    depth = hyper.depth
    horizon = int(min(rows.lengths[0], columns.lengths[0]))
    # Counts for steps 0..horizon: the sequences that have started at step r + 1
    # (longer than r + 1) pair with those starting at r through the boundary value.
    active_rows = _active_counts(rows.lengths, horizon + 1)
    active_columns = _active_counts(columns.lengths, horizon + 1)
    read_weights = read_weights[:horizon]
    # Running sums over the read cells (two more planes of state) only if a
    # cell before the end is read.
    accumulate = bool(read_weights[1:].any())
    form_type = _DifferenceForm if activation.difference_form else _CovarianceForm
    form = form_type(rows, columns, hyper, activation, read_weights if accumulate else None)
    dtype = rows.steps_from_end.dtype
    state = layout(rows.n_sequences, columns.n_sequences, depth, dtype, accumulate, form.n_work)

    # 0/0 and x/0 arise at zero variance and are replaced by the activation.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(horizon - 1, -1, -1):
            a, b = int(active_rows[step]), int(active_columns[step])
            entering = state.grow(a, b, int(active_rows[step + 1]), int(active_columns[step + 1]))
            form.enter(state, entering, step)
            covariance, derivative, inputs, *work = state.work_arrays()
            below = form.input_term(
                state, rows.steps_from_end[step, :a], columns.steps_from_end[step, :b], inputs, work
            )
            below_tangent = None
            for layer in range(depth):
                row_factors, column_factors = state.factors(
                    rows.factors[layer], columns.factors[layer], step
                )
                kernel, derivative_times_tangent = state.layer(layer)
                advance_layer(
                    kernel,
                    derivative_times_tangent,
                    below,
                    below_tangent,
                    layer,
                    hyper,
                    form.dual_map(row_factors, column_factors, work),
                    covariance,
                    derivative,
                    form.difference_array(inputs),
                )
                below, below_tangent = kernel, derivative_times_tangent
            if accumulate and read_weights[step] != 0:
                form.read(state, float(read_weights[step]))

    kernel, derivative_times_tangent = form.readout(state, float(read_weights[0]))
    scale = hyper.sigma_v**2
    # New arrays, so the block's state buffers are freed while the result waits.
    return scale * kernel, scale * (kernel + derivative_times_tangent)


class _CovarianceForm:
    """The pairwise recursion carrying ``K = E[h h']`` (the recursion above).

    For activations with no difference form: the dual map is evaluated from
    the covariance ``Sigma``, whose correlation is 1 up to rounding for two
    near-duplicate sequences. Pairs enter with ``K = sigma_h^2`` if both
    sequences start together (equal lengths), else 0.
    """

    def __init__(self, rows, columns, hyper, activation, read_weights):
        self.activation = activation
        self.depth = hyper.depth
        self.initial_variance = hyper.sigma_h**2
        self.n_work = 4  # Sigma, Kd, the input covariance, one for the dual map

    def enter(self, state, entering, step: int) -> None:
        """Give the pairs that become active at ``step`` their boundary state."""
        together = entering.get("both start")
        if together is None:
            return
        for layer in range(self.depth):
            if self.initial_variance[layer]:
                state.assign(state.layer(layer)[0], together, self.initial_variance[layer])

    def input_term(self, state, row_inputs, column_inputs, out, work) -> np.ndarray:
        return state.input_covariance(row_inputs, column_inputs, out)

    def dual_map(self, row_factors, column_factors, work):
        """The dual map of one layer and step, as :func:`advance_layer` calls it."""
        activation, scratch = self.activation, work[0]

        def evaluate_dual(covariance, kernel_out, derivative_out):
            activation.cross(
                covariance, row_factors, column_factors, kernel_out, derivative_out, scratch
            )

        return evaluate_dual

    def difference_array(self, inputs):
        """The work array for ``D`` in :func:`advance_layer` (none: the state is ``K``)."""
        return None

    def read(self, state, weight: float) -> None:
        """Add the top layer's ``K`` and ``Kd * Theta``, times ``weight``, to the sums."""
        kernel_sum, tangent_sum = state.sums()
        kernel, derivative_times_tangent = state.layer(self.depth - 1)
        kernel_sum += _weighted(kernel, weight)
        tangent_sum += _weighted(derivative_times_tangent, weight)

    def readout(self, state, weight: float) -> tuple[np.ndarray, np.ndarray]:
        """``(K, Kd * Theta)`` of the top layer summed over the read cells.

        Without running sums the one read cell is the last step, weighed by
        ``weight`` as :meth:`read` would: a pair's value must not depend on
        whether its block needed sums (see :func:`block_invariant`).
        """
        if state.accumulate:
            return state.sums()
        kernel, derivative_times_tangent = state.layer(self.depth - 1)
        return _weighted(kernel, weight), _weighted(derivative_times_tangent, weight)


class _DifferenceForm(_CovarianceForm):
    r"""The pairwise recursion carrying ``E = E[(h - h')^2]`` (the difference form above).

    The variance of the difference of the pre-activations follows the same
    linear recursion as the covariance, without the bias (it cancels):

    .. math::

        D_{l,s} = \sigma_{w,l}^2 E_{l,s-1} + \sigma_{u,l}^2 E_{l-1,s},
        \qquad E_{0,s} = |x_s - x'_s|^2 / m,

    and the dual map in its difference form turns ``D`` into ``E`` and
    ``Kd`` with full relative precision, however close the two sequences are.
    The dual map also gives ``Sigma`` for the tangent kernel, and ``K = (k + k'
    - E) / 2`` comes back from the per-sequence self kernels at the read-out.

    Boundary: two sequences that start together share ``h0``, so ``E = 0``. If
    one has started and the other is still at ``h0`` (independent of the
    started state, which has ``E[h^2] = k``), ``E = k + sigma_h^2``; this is the
    covariance form's ``K = 0`` boundary, as ``(k + sigma_h^2 - E) / 2 = 0``.
    """

    def __init__(self, rows, columns, hyper, activation, read_weights):
        super().__init__(rows, columns, hyper, activation, read_weights)
        self.n_work = 3 + activation.difference_work  # Sigma, Kd, E[0] and D, the dual map's
        # The self kernels k = V(q, q, q) (the first difference factor) per layer.
        self.row_kernels = [factors[0] for factors in rows.factors]
        self.column_kernels = [factors[0] for factors in columns.factors]
        if read_weights is not None:
            # A pair entering at step r is read at the read steps r' <= r; the
            # per-sequence part of K at those cells sums to these (see read).
            self.row_read_sums = _read_sums(self.row_kernels[-1], read_weights)
            self.column_read_sums = _read_sums(self.column_kernels[-1], read_weights)

    def enter(self, state, entering, step: int) -> None:
        for layer in range(self.depth):
            difference = state.layer(layer)[0]
            if "row started" in entering:
                state.assign(
                    difference,
                    entering["row started"],
                    self.initial_variance[layer],
                    row_values=self.row_kernels[layer][step + 1],
                )
            if "column started" in entering:
                state.assign(
                    difference,
                    entering["column started"],
                    self.initial_variance[layer],
                    column_values=self.column_kernels[layer][step + 1],
                )
        if state.accumulate:
            # The read-out sums 2 K = k + k' - E over the read cells: the
            # per-sequence part here, the E part as the cells are read.
            kernel_sum = state.sums()[0]
            for region in entering.values():
                state.assign(
                    kernel_sum,
                    region,
                    0.0,
                    self.row_read_sums[step],
                    self.column_read_sums[step],
                )

    def input_term(self, state, row_inputs, column_inputs, out, work) -> np.ndarray:
        return state.input_difference(row_inputs, column_inputs, out)

    def dual_map(self, row_factors, column_factors, work):
        activation = self.activation

        def evaluate_dual(difference, difference_out, derivative_out, covariance_out):
            activation.cross_difference(
                difference,
                row_factors,
                column_factors,
                difference_out,
                derivative_out,
                covariance_out,
                work,
            )

        return evaluate_dual

    def difference_array(self, inputs):
        # E[0, s] is needed only to form D[1, s]: D is formed in its place.
        return inputs

    def read(self, state, weight: float) -> None:
        kernel_sum, tangent_sum = state.sums()
        difference, derivative_times_tangent = state.layer(self.depth - 1)
        kernel_sum -= _weighted(difference, weight)
        tangent_sum += _weighted(derivative_times_tangent, weight)

    def readout(self, state, weight: float) -> tuple[np.ndarray, np.ndarray]:
        if state.accumulate:
            twice_kernel, derivative_times_tangent = state.sums()
            return 0.5 * twice_kernel, derivative_times_tangent
        difference, derivative_times_tangent = state.layer(self.depth - 1)
        (row_kernel,), (column_kernel,) = state.factors(
            (self.row_kernels[-1],), (self.column_kernels[-1],), 0
        )
        # The arithmetic of enter and read for one read cell, in the same order.
        kernel = np.add(_weighted(row_kernel, weight), _weighted(column_kernel, weight))
        kernel -= _weighted(difference, weight)
        kernel *= 0.5
        return kernel, _weighted(derivative_times_tangent, weight)


def _read_sums(kernels: np.ndarray, read_weights: np.ndarray) -> np.ndarray:
    """``[r, i]``: the sum of ``read_weights[r'] * kernels[r', i]`` over ``r' <= r``.

    For ``r`` up to the length of ``read_weights`` (the sweep's horizon).
    """
    horizon = read_weights.shape[0]
    return np.cumsum(kernels[:horizon] * read_weights.astype(kernels.dtype)[:, None], axis=0)


def _weighted(values: np.ndarray, weight: float) -> np.ndarray:
    """``weight * values``; ``values`` itself for the unit weights of the mean head."""
    return values if weight == 1.0 else weight * values


class _ActiveRectangle:
    """The recursion state (``K`` or ``E``, and ``Kd * Theta`` per layer) of the active pairs.

    The active pairs are the first ``a`` rows times the first ``b`` columns.
    They are stored as contiguous ``(a, b)`` arrays, because NumPy runs 2-3
    times slower on a strided sub-rectangle of a larger array. New rows are
    appended in place; new columns change the row stride, so the state is
    copied into a second buffer (at most once per distinct column length).
    New pairs start at 0; the form then sets their boundary state. With
    ``accumulate``, two more planes hold the sums over the read cells; they
    move with the state.
    """

    def __init__(self, n_rows: int, n_columns: int, depth: int, dtype, accumulate, n_work):
        self.depth = depth
        planes = 2 * self.depth + (2 if accumulate else 0)
        self.buffer = np.empty((planes, n_rows * n_columns), dtype)
        self.spare = np.empty_like(self.buffer)
        self.work = np.empty((n_work, n_rows * n_columns), dtype)
        self.accumulate = accumulate
        self.rows = self.columns = 0

    def _view(self, buffer, rows, columns):
        return buffer[:, : rows * columns].reshape(buffer.shape[0], rows, columns)

    def grow(self, rows: int, columns: int, started_rows: int, started_columns: int) -> dict:
        """Make the first ``rows x columns`` pairs active; return where the new ones are.

        ``started_rows`` (``started_columns``) sequences had started before
        this step; the ones after them start now. The new pairs are returned as
        regions for :meth:`assign`, by whether both sequences start now, or
        only the column or only the row (the other one having started).
        """
        old_rows, old_columns = self.rows, self.columns
        if columns != old_columns:
            widened = self._view(self.spare, old_rows, columns)
            widened[:, :, :old_columns] = self._view(self.buffer, old_rows, old_columns)
            widened[:, :, old_columns:] = 0.0
            self.buffer, self.spare = self.spare, self.buffer
        if rows != old_rows:
            self._view(self.buffer, rows, columns)[:, old_rows:] = 0.0
        self.rows, self.columns = rows, columns
        # Sequences that had started are active already, except at the first step,
        # when only one side can have started: no new pair has both started.
        regions = {
            "both start": (slice(started_rows, rows), slice(started_columns, columns)),
            "row started": (slice(0, started_rows), slice(started_columns, columns)),
            "column started": (slice(started_rows, rows), slice(0, started_columns)),
        }
        return {
            kind: (r, c)
            for kind, (r, c) in regions.items()
            if r.stop > r.start and c.stop > c.start
        }

    def assign(self, plane, region, value, row_values=None, column_values=None) -> None:
        """Set ``plane`` on ``region`` to ``value + row_values[i] + column_values[j]``."""
        row_part, column_part = region
        target = plane[row_part, column_part]
        target[...] = value
        if row_values is not None:
            target += row_values[row_part, None]
        if column_values is not None:
            target += column_values[column_part]

    def work_arrays(self) -> list[np.ndarray]:
        """Scratch arrays of the active pairs' shape."""
        return [w[: self.rows * self.columns].reshape(self.rows, self.columns) for w in self.work]

    def input_covariance(self, row_inputs, column_inputs, out) -> np.ndarray:
        return input_covariance(row_inputs, column_inputs, out)

    def input_difference(self, row_inputs, column_inputs, out) -> np.ndarray:
        return input_difference(row_inputs, column_inputs, out)

    def factors(self, row_factors, column_factors, step: int) -> tuple[tuple, tuple]:
        """Per-sequence factors at ``step``, as a column and a row vector."""
        return (
            tuple(f[step, : self.rows, None] for f in row_factors),
            tuple(f[step, None, : self.columns] for f in column_factors),
        )

    def layer(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(K or E, Kd * Theta)`` of one layer's active pairs."""
        view = self._view(self.buffer, self.rows, self.columns)
        return view[layer], view[self.depth + layer]

    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Views of the two planes that hold the sums over the read cells."""
        view = self._view(self.buffer, self.rows, self.columns)
        return view[-2], view[-1]


class _ActivePairs(_ActiveRectangle):
    """The recursion state of row ``i`` paired with column ``i`` only.

    Rows and columns are the same sequences in the same order (for example a
    sequence's prefixes against the whole sequences), so the active pairs are
    the first ``min(a, b)``; the state is one-dimensional.
    """

    def __init__(self, n_rows: int, n_columns: int, depth: int, dtype, accumulate, n_work):
        super().__init__(min(n_rows, n_columns), 1, depth, dtype, accumulate, n_work)

    def grow(self, rows: int, columns: int, started_rows: int, started_columns: int) -> dict:
        old, pairs = self.rows, min(rows, columns)
        self.buffer[:, old:pairs] = 0.0
        self.rows, self.columns = pairs, 1
        regions = {
            "both start": slice(max(started_rows, started_columns, old), pairs),
            "row started": slice(max(started_columns, old), min(started_rows, pairs)),
            "column started": slice(max(started_rows, old), min(started_columns, pairs)),
        }
        return {kind: part for kind, part in regions.items() if part.stop > part.start}

    def assign(self, plane, region, value, row_values=None, column_values=None) -> None:
        plane[region] = value
        if row_values is not None:
            plane[region] += row_values[region]
        if column_values is not None:
            plane[region] += column_values[region]

    def _view(self, buffer, rows, columns):
        return buffer[:, :rows]

    def work_arrays(self) -> list[np.ndarray]:
        return [w[: self.rows] for w in self.work]

    def input_covariance(self, row_inputs, column_inputs, out) -> np.ndarray:
        pairs = self.rows
        np.einsum("im,im->i", row_inputs[:pairs], column_inputs[:pairs], out=out)
        out *= 1.0 / row_inputs.shape[1]
        return out

    def input_difference(self, row_inputs, column_inputs, out) -> np.ndarray:
        steps = row_inputs[: self.rows] - column_inputs[: self.rows]
        np.einsum("im,im->i", steps, steps, out=out)
        out *= 1.0 / row_inputs.shape[1]
        return out

    def factors(self, row_factors, column_factors, step: int) -> tuple[tuple, tuple]:
        return (
            tuple(f[step, : self.rows] for f in row_factors),
            tuple(f[step, : self.rows] for f in column_factors),
        )
