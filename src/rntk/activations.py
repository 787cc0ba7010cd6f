r"""Dual activations: the Gaussian expectations that drive the limit recursion.

For :math:`(u, v) \sim \mathcal N(0, [[q_1, c], [c, q_2]])` an activation
:math:`\phi` has the dual map

.. math::

    V(q_1, q_2, c) = E[\phi(u)\phi(v)], \qquad V'(q_1, q_2, c) = E[\phi'(u)\phi'(v)].

Each activation states its dual map once, in :meth:`DualActivation.cross`. The
recursion evaluates it on blocks of sequence pairs at one time step, where the
per-sequence variances ``q_1`` (rows) and ``q_2`` (columns) are shared across a
whole row or column of the block; so the map is split into per-sequence factors
(:meth:`~DualActivation.factors`, computed once per sequence, step and layer)
and an in-place block evaluation. :meth:`~DualActivation.dual` is the plain
broadcasting form ``(c, q_1, q_2) -> (V, V')`` for everything else.

The difference form
-------------------
Near ``|rho| = 1`` (a sequence and a near-duplicate of it) the covariance ``c``
does not determine the angle between ``u`` and ``v`` to full precision: ``1 -
rho`` is lost to rounding, and ``arccos`` keeps only half the digits
(``docs/math.md#correlation-near-1``). An activation with ``difference_form =
True`` also states its dual map in terms of the variance of the difference,
``D = E[(u - v)^2] = q_1 + q_2 - 2c``, which the recursion carries with full
relative precision however close the two sequences are (:mod:`rntk.recursion`):
:meth:`~DualActivation.cross_difference` turns ``D`` into ``V'`` and into
``E[(phi(u) - phi(v))^2]``, the difference variance of the next states, with
:meth:`~DualActivation.difference_factors` as its per-sequence factors, and
:meth:`~DualActivation.dual_difference` is its broadcasting form. Activations
without it (:class:`Hermite`) are evaluated through the covariance.

References: Cho and Saul, "Kernel methods for deep learning" (NeurIPS 2009) for
the ReLU arc-cosine kernel; Williams, "Computing with infinite networks"
(NeurIPS 1996) for erf; ``docs/math.md#dual-activations`` for the formulas.
"""

from __future__ import annotations

import hashlib
from collections import namedtuple
from collections.abc import Callable

import numpy as np
from scipy import special

__all__ = [
    "DualActivation",
    "DualGradient",
    "Erf",
    "Hermite",
    "ReLU",
    "available_activations",
    "dual_fingerprint",
    "get_activation",
    "register_activation",
]

_TWO_PI = 2.0 * np.pi
#: Cap on tan^2(theta / 2) in the ReLU difference form: beyond it theta rounds to pi.
_LARGE_TANGENT_SQUARE = 2.0**106
#: Gauss-Hermite nodes whose weight is below this are dropped: they change no
#: expectation of a function of moderate growth, and they are where the series'
#: polynomials are largest.
_NEGLIGIBLE_WEIGHT = 1e-30
#: Cap on the ratio of the geometric tail model of :class:`Hermite`, so that its
#: denominator ``1 - lambda x`` stays away from 0.
_LARGEST_TAIL_RATIO = 1.0 - 2.0**-20

DualGradient = namedtuple(
    "DualGradient",
    [
        "kernel_covariance",
        "kernel_variance1",
        "kernel_variance2",
        "derivative_covariance",
        "derivative_variance1",
        "derivative_variance2",
    ],
)
DualGradient.__doc__ = """The six partial derivatives of a dual map ``(V, V')`` at ``(q1, q2, c)``.

``kernel_covariance = dV/dc``, ``kernel_variance1 = dV/dq1``, ``kernel_variance2
= dV/dq2`` and the same three of ``V'`` as ``derivative_*``.
"""


class DualActivation:
    """An activation function described by its dual map (see the module docstring).

    A new activation needs one method: the broadcasting :meth:`dual`
    ``(c, q1, q2) -> (V, V')``. Everything else has a default built on it:
    :meth:`diagonal` evaluates ``dual(q, q, q)`` (override it with a closed form
    in ``q`` when the correlation 1 loses digits in your formula), and the
    block evaluation :meth:`cross` calls :meth:`dual` on the block with the
    per-sequence variances as its :meth:`factors`. ReLU and erf instead
    implement the fused, in-place :meth:`factors` / :meth:`cross` pair (and the
    difference form), which saves passes over the block; a subclass defines
    either :meth:`dual` or both :meth:`factors` and :meth:`cross`.
    ``__call__`` and :meth:`derivative` let the finite network :class:`rntk.RNN`
    use the activation; :meth:`dual_gradient` and :meth:`diagonal_gradient` let
    :func:`rntk.sensitivity` differentiate the kernel.
    :func:`register_activation` makes it available by name.

    Examples
    --------
    Leaky ReLU with slope ``a`` on the negative side is ``(1 - a) relu(z) + a z``,
    so its dual is ``(1 - a)**2`` times ReLU's plus ``a c`` (and ``V' = a +
    (1 - a)**2 V'_relu``):

    >>> import numpy as np
    >>> from rntk.activations import DualActivation, ReLU
    >>> class LeakyReLU(DualActivation):
    ...     def __init__(self, slope=0.1):
    ...         self.slope = slope
    ...     def dual(self, covariance, variance1, variance2):
    ...         kernel, derivative = ReLU().dual(covariance, variance1, variance2)
    ...         a = self.slope
    ...         return (1 - a) ** 2 * kernel + a * covariance, (1 - a) ** 2 * derivative + a
    >>> kernel, derivative = LeakyReLU(0.0).dual(0.0, 1.0, 1.0)  # plain ReLU
    >>> bool(np.isclose(kernel, 1 / (2 * np.pi))), float(derivative)
    (True, 0.25)
    """

    name: str = ""
    #: What makes the kernel of long sequences grow and how to avoid it (for errors).
    growth_advice: str = "use a smaller sigma_w"
    #: This activation's defaults for the scales it needs other than the generic
    #: ones of :data:`rntk.hyperparameters.DEFAULTS` (used where a scale is None).
    default_scales: dict = {}
    #: Whether :meth:`difference_factors` and :meth:`cross_difference` are defined,
    #: so that the recursion can carry the variance of the difference of two states.
    difference_form: bool = False
    #: How many work arrays :meth:`cross_difference` needs.
    difference_work: int = 0
    #: Whether ``phi(c z) = c phi(z)`` for ``c > 0``; then with no bias and no initial
    #: state the kernel scales as ``K(c x, c x') = c**2 K(x, x')``.
    homogeneous: bool = False

    def __init_subclass__(cls, **keywords):
        super().__init_subclass__(**keywords)
        defines_dual = cls.dual is not DualActivation.dual
        defines_cross = cls.cross is not DualActivation.cross
        defines_factors = cls.factors is not DualActivation.factors
        # Without dual, the defaults of dual and cross would call each other.
        if not defines_dual and not (defines_cross and defines_factors):
            raise TypeError(
                f"{cls.__name__} must define dual(covariance, variance1, variance2) -> "
                "(V, V'), or both factors(variance) and cross(...)"
            )
        if defines_cross != defines_factors:
            raise TypeError(
                f"{cls.__name__} defines only one of factors and cross; they go together "
                "(cross reads what factors computes)"
            )

    def diagonal(self, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(V(q, q, q), V'(q, q, q))``: the dual map of a sequence with itself.

        By default :meth:`dual` at ``c = q``. ReLU and erf use closed forms in ``q``
        alone, never the correlation (which is 1 up to rounding and loses half the
        digits in ``arccos``); an activation whose :meth:`dual` goes through an
        angle should do the same.
        """
        variance = np.asarray(variance, dtype=np.float64)
        values = self.dual(variance, variance, variance)
        return check_dual_result(values, self, "dual", variance.shape)

    def factors(self, variance: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-sequence quantities that :meth:`cross` needs, each shaped like ``variance``.

        By default the variance itself, which the default :meth:`cross` hands to
        :meth:`dual`.
        """
        return (np.asarray(variance, dtype=np.float64),)

    def cross(
        self,
        covariance: np.ndarray,
        row_factors: tuple[np.ndarray, ...],
        column_factors: tuple[np.ndarray, ...],
        kernel_out: np.ndarray,
        derivative_out: np.ndarray,
        scratch: np.ndarray,
    ) -> None:
        """Write ``V`` into ``kernel_out`` and ``V'`` into ``derivative_out``.

        ``row_factors`` and ``column_factors`` come from :meth:`factors` and must
        broadcast against ``covariance`` (column and row vectors for a block).
        ``covariance`` is read only; ``scratch`` is a work array of its shape.
        By default :meth:`dual` of the block and the per-sequence variances.
        """
        values = self.dual(covariance, row_factors[0], column_factors[0])
        kernel, derivative = check_dual_result(values, self, "dual", np.shape(covariance))
        kernel_out[...] = kernel
        derivative_out[...] = derivative

    def difference_factors(self, variance: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-sequence quantities that :meth:`cross_difference` needs, shaped like ``variance``.

        The first is always the self kernel ``k = V(q, q, q)``: the recursion
        reads it to turn differences back into covariances, ``V = (k_1 + k_2 -
        E) / 2``, and for the difference of a state and the initial state.
        """
        raise NotImplementedError(f"{type(self).__name__} has no difference form")

    def cross_difference(
        self,
        difference: np.ndarray,
        row_factors: tuple[np.ndarray, ...],
        column_factors: tuple[np.ndarray, ...],
        difference_out: np.ndarray,
        derivative_out: np.ndarray,
        covariance_out: np.ndarray,
        work: list[np.ndarray],
    ) -> None:
        """The dual map from ``D = E[(u - v)^2]``: ``E[(phi(u) - phi(v))^2]``, ``V'`` and ``c``.

        Writes the difference variance of the states into ``difference_out``,
        ``V'`` into ``derivative_out`` and the covariance ``c = (q_1 + q_2 -
        D) / 2`` into ``covariance_out``. The factors come from
        :meth:`difference_factors` and broadcast against ``difference`` (read
        only); ``work`` holds ``difference_work`` arrays of its shape. The
        outputs keep full precision as ``D`` goes to 0: relative for ``V'``,
        absolute (on the scale of ``q``) for the others.

        The two sequences must be treated alike: swapping ``row_factors`` and
        ``column_factors`` (and transposing ``difference``) must transpose the
        outputs bit for bit, as for ReLU and erf. The scheduler relies on it to
        cut a Gram matrix into blocks of any shape without changing a bit
        (:func:`rntk.recursion.block_invariant`).
        """
        raise NotImplementedError(f"{type(self).__name__} has no difference form")

    def dual_difference(self, difference, variance1, variance2) -> tuple[np.ndarray, np.ndarray]:
        """``(E[(phi(u) - phi(v))^2], V')`` for broadcastable arrays ``D, q1, q2``.

        ``D = E[(u - v)^2] = q1 + q2 - 2c`` must lie in
        ``[(sqrt q1 - sqrt q2)^2, (sqrt q1 + sqrt q2)^2]``.

        Examples
        --------
        >>> import numpy as np
        >>> from rntk.activations import ReLU
        >>> e, kd = ReLU().dual_difference(2.0, 1.0, 1.0)   # independent unit Gaussians
        >>> bool(np.isclose(e, 1 - 1 / np.pi)), bool(np.isclose(kd, 0.25))
        (True, True)
        """
        difference, variance1, variance2 = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (difference, variance1, variance2))
        )
        difference_out, derivative, covariance = (np.empty(difference.shape) for _ in range(3))
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 at a zero variance, replaced
            self.cross_difference(
                difference,
                self.difference_factors(variance1),
                self.difference_factors(variance2),
                difference_out,
                derivative,
                covariance,
                [np.empty(difference.shape) for _ in range(self.difference_work)],
            )
        return difference_out, derivative

    def __call__(self, preactivation: np.ndarray) -> np.ndarray:
        """``phi(z)`` elementwise, for finite networks; optional for dual-only activations."""
        raise NotImplementedError(f"{type(self).__name__} defines only its dual map")

    def derivative(self, preactivation: np.ndarray) -> np.ndarray:
        """``phi'(z)`` elementwise, for back-propagation in finite networks."""
        raise NotImplementedError(f"{type(self).__name__} defines only its dual map")

    def dual(self, covariance, variance1, variance2) -> tuple[np.ndarray, np.ndarray]:
        """``(V(q1, q2, c), V'(q1, q2, c))`` for broadcastable arrays ``c, q1, q2``.

        ``V = E[phi(u) phi(v)]`` and ``V' = E[phi'(u) phi'(v)]`` for ``(u, v)``
        Gaussian with variances ``q1, q2`` and covariance ``c``. The one method a
        new activation must define (see the class docstring); the default
        evaluates the fused :meth:`factors` / :meth:`cross` pair.

        Examples
        --------
        >>> import numpy as np
        >>> from rntk.activations import ReLU
        >>> k, kd = ReLU().dual(0.0, 1.0, 1.0)   # independent unit Gaussians
        >>> bool(np.isclose(k, 1 / (2 * np.pi))), bool(np.isclose(kd, 0.25))
        (True, True)
        """
        covariance, variance1, variance2 = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (covariance, variance1, variance2))
        )
        kernel, derivative, scratch = (np.empty(covariance.shape) for _ in range(3))
        self.cross(
            covariance,
            self.factors(variance1),
            self.factors(variance2),
            kernel,
            derivative,
            scratch,
        )
        return kernel, derivative

    def dual_gradient(self, covariance, variance1, variance2) -> DualGradient:
        r"""Partial derivatives of ``V`` and ``V'`` in ``(c, q1, q2)``, broadcasting.

        Price's theorem gives one of them for every activation:
        :math:`\partial V / \partial c = E[\phi'(u)\phi'(v)] = V'`. Used to
        differentiate the kernel with respect to its inputs
        (:func:`rntk.sensitivity`).

        Returns
        -------
        DualGradient
            Six arrays of the broadcast shape.
        """
        raise NotImplementedError(
            f"{self!r} does not define dual_gradient, the partial derivatives of its dual "
            "map that rntk.sensitivity needs (ReLU and Erf define them; the Hermite "
            "expansions, such as 'tanh', do not)"
        )

    def diagonal_gradient(self, variance) -> tuple[np.ndarray, np.ndarray]:
        """``(d V(q, q, q) / dq, d V'(q, q, q) / dq)``: the derivatives of :meth:`diagonal`."""
        raise NotImplementedError(
            f"{self!r} does not define diagonal_gradient, the derivative of its diagonal "
            "dual map that rntk.sensitivity needs (ReLU and Erf define it)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_dual_result(values, activation: DualActivation, method: str, shape: tuple) -> tuple:
    """``values``, what ``activation.<method>`` returned for inputs of ``shape``, as ``(V, V')``.

    A pair (tuple or list) is returned as it is, and so is one array stacking
    the two along a new first axis. A dual map that returns one array or three
    would otherwise fail in an unpacking far from its cause, or, returning one
    array for two sequences, have its two values read as ``V`` and ``V'``.

    Raises
    ------
    TypeError
        If ``values`` is neither.
    """
    if isinstance(values, (tuple, list)):
        if len(values) == 2:
            return values
        got = f"{len(values)} values"
    else:
        got_shape = np.shape(values)
        if got_shape[:1] == (2,) and len(got_shape) == len(shape) + 1:
            return values
        got = f"{type(values).__name__} of shape {got_shape} for inputs of shape {shape}"
    raise TypeError(
        f"{type(activation).__name__}.{method} must return a pair (V, V') of arrays, "
        f"V = E[phi(u) phi(v)] and V' = E[phi'(u) phi'(v)]; got {got}"
    )


class ReLU(DualActivation):
    r"""ReLU, :math:`\phi(z) = \max(z, 0)`: the arc-cosine kernel of degree 1.

    With :math:`\rho = c / \sqrt{q_1 q_2}` and :math:`\theta = \arccos\rho`,

    .. math::

        V = \sqrt{q_1 q_2}\,\frac{\sin\theta + (\pi - \theta)\cos\theta}{2\pi},
        \qquad V' = \frac{\pi - \theta}{2\pi}.

    Difference form (:meth:`cross_difference`): with :math:`s = \sqrt{q_1 q_2}`
    and :math:`D = q_1 + q_2 - 2c = (\sqrt{q_1} - \sqrt{q_2})^2 + 4 s \sin^2(\theta/2)`,

    .. math::

        \sin^2\frac{\theta}{2} = \frac{D - (\sqrt{q_1} - \sqrt{q_2})^2}{4 s},
        \qquad
        E[(\phi(u) - \phi(v))^2] = \frac{q_1 + q_2}{2} - 2V
            = \frac{D}{2} - \frac{s}{\pi}(\sin\theta - \theta\cos\theta),

    The angle comes from :math:`N = D - (\sqrt{q_1} - \sqrt{q_2})^2 = 4s
    \sin^2(\theta/2)` with full relative precision as :math:`\theta \to 0`; with
    :math:`W = 4s - N = 4s\cos^2(\theta/2)`: :math:`\tan^2(\theta/2) = N / W`,
    :math:`2s\sin\theta = \tan(\theta/2) W`, :math:`4s\cos\theta = W - N` and
    :math:`c = s\cos\theta`, so ``s`` divides nothing. The closed form of
    :math:`\sin\theta - \theta\cos\theta \approx \theta^3/3` cancels, which
    leaves the difference variance a relative error of about ``eps / theta``:
    harmless, as the next step's angle (which goes as its square root) keeps an
    absolute error at rounding, and the covariance of the states recovered from
    it, ``(k_1 + k_2 - E) / 2``, an error of rounding times ``theta``.

    A zero variance (``sigma_b = sigma_h = 0`` and an all-zero input step)
    means ``u = 0`` almost surely; following a finite network with
    :math:`\phi'(0) = 0`, ``V = V' = 0`` then (and ``E[(phi(u) - phi(v))^2] = D / 2``).
    """

    name = "relu"
    growth_advice = "the ReLU variance grows like (sigma_w**2 / 2)**T, so use sigma_w <= sqrt(2)"
    # Critical: sigma_w**2 V' = 1, so no step's weight decays geometrically and the
    # variance grows only linearly. A bias four times the input variance
    # (sigma_b = 2 with sigma_u = 1) keeps the pre-activations mostly positive,
    # where ReLU is close to linear; on the bundled UCR sets it lifts an SVM on
    # the default kernel from 75.9% to 80.7% on average (examples/ucr_defaults.py),
    # and cross-validation over a wider grid chose it (or 0.5) on 7 of 9 sets.
    default_scales = {"sigma_w": float(np.sqrt(2.0)), "sigma_b": 2.0}
    difference_form = True
    difference_work = 2
    homogeneous = True

    def __call__(self, preactivation):
        return np.maximum(preactivation, 0.0)

    def derivative(self, preactivation):
        return (preactivation > 0).astype(np.float64)  # phi'(0) = 0, as in the limit

    def diagonal(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        return 0.5 * variance, np.where(variance > 0, 0.5, 0.0)

    def factors(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        positive = variance > 0
        with np.errstate(divide="ignore"):
            inverse_sqrt = np.where(positive, 1.0 / np.sqrt(variance), 0.0)
        # 1/(2 pi) is folded into the roots, so the block evaluation needs no
        # pass of its own for it. V' = 0 where a variance is 0: ``nonzero``.
        return np.sqrt(variance / _TWO_PI), inverse_sqrt, positive.astype(np.float64)

    def cross(self, covariance, row_factors, column_factors, kernel_out, derivative_out, scratch):
        row_root, row_inverse, row_nonzero = row_factors
        column_root, column_inverse, column_nonzero = column_factors
        # Work with -rho: arccos(-rho) = pi - theta is what V and V' need, and
        # negating the (short) row factor is free where negating the block is not.
        negative_correlation = scratch
        np.multiply(covariance, np.negative(row_inverse), out=negative_correlation)
        negative_correlation *= column_inverse
        # Rounding can push |rho| past 1 for (nearly) parallel states.
        np.clip(negative_correlation, -1.0, 1.0, out=negative_correlation)
        angle_complement = derivative_out
        np.arccos(negative_correlation, out=angle_complement)  # pi - theta
        sine = kernel_out  # sin(theta) = sqrt(1 - rho^2)
        np.multiply(negative_correlation, negative_correlation, out=sine)
        np.subtract(1.0, sine, out=sine)
        np.sqrt(sine, out=sine)
        negative_correlation *= angle_complement
        kernel_out -= negative_correlation  # sin(theta) + (pi - theta) cos(theta)
        kernel_out *= row_root
        kernel_out *= column_root
        derivative_out *= row_nonzero * (1.0 / _TWO_PI)  # a short vector: no extra pass
        derivative_out *= column_nonzero

    def difference_factors(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        root = np.sqrt(variance)
        return 0.5 * variance, root, 2.0 * root, (variance > 0).astype(np.float64)

    def cross_difference(
        self,
        difference,
        row_factors,
        column_factors,
        difference_out,
        derivative_out,
        covariance_out,
        work,
    ):
        _, row_root, row_double_root, row_positive = row_factors
        _, column_root, column_double_root, column_positive = column_factors
        # With phi = theta / 2: N = D - (sqrt q1 - sqrt q2)^2 = 4 s sin^2(phi) (both
        # terms exact to rounding, so N keeps its relative precision as theta -> 0,
        # where 1 - rho is lost) and W = 4 s - N = 4 s cos^2(phi). Nothing below
        # divides by s, so zero variances only need the fix at the end.
        sine_part, cosine_part = work[:2]
        np.subtract(row_root, column_root, out=sine_part)
        sine_part *= sine_part
        np.subtract(difference, sine_part, out=sine_part)  # N
        np.einsum("...,...->...", row_double_root, column_double_root, out=cosine_part)
        cosine_part -= sine_part
        # |.|: rounding can put N just past 4 s at theta = pi.
        np.absolute(cosine_part, out=cosine_part)  # W
        tangent = derivative_out
        np.divide(sine_part, cosine_part, out=tangent)
        # Negative N (rounding at theta = 0) gives 0; the cap keeps tan(phi) * W
        # finite (0) at W = 0.
        np.clip(tangent, 0.0, _LARGE_TANGENT_SQUARE, out=tangent)
        np.sqrt(tangent, out=tangent)  # tan(phi): one root and one arctan for the angle
        half_angle = difference_out
        np.arctan(tangent, out=half_angle)
        tangent *= cosine_part  # tan(phi) W = 2 s sin(theta)
        cosine_part -= sine_part  # W - N = 4 s cos(theta)
        np.multiply(cosine_part, 0.25, out=covariance_out)
        cosine_part *= half_angle
        np.subtract(tangent, cosine_part, out=cosine_part)  # 2 s (sin theta - theta cos theta)
        cosine_part *= 1.0 / _TWO_PI
        np.multiply(half_angle, -1.0 / np.pi, out=derivative_out)
        derivative_out += 0.5  # V' = (pi - theta) / (2 pi)
        np.multiply(difference, 0.5, out=difference_out)
        difference_out -= cosine_part  # D / 2 - s (sin theta - theta cos theta) / pi
        for positive in (row_positive, column_positive):
            if not positive.all():  # rare: test the short factor, not the block
                zero = np.broadcast_to(positive == 0, difference_out.shape)
                derivative_out[zero] = 0.0
                covariance_out[zero] = 0.0
                difference_out[zero] = 0.5 * difference[zero]

    def dual_gradient(self, covariance, variance1, variance2):
        r"""Partial derivatives of the arc-cosine dual map.

        With :math:`\rho = c / \sqrt{q_1 q_2}` (clipped to [-1, 1] as in
        :meth:`cross`) and :math:`\sin\theta = \sqrt{1 - \rho^2}`:

        .. math::

            \frac{\partial V}{\partial c} = V', \qquad
            \frac{\partial V}{\partial q_1} = \frac{V - c V'}{2 q_1}, \qquad
            \frac{\partial V'}{\partial c} = \frac{1}{2\pi\sqrt{q_1 q_2}\sin\theta},
            \qquad
            \frac{\partial V'}{\partial q_1} = -\frac{c}{2 q_1}
                \frac{\partial V'}{\partial c},

        and the same in :math:`q_2` with the indices swapped (from
        :math:`dJ/d\rho = \pi - \theta` for :math:`J = \sin\theta + (\pi -
        \theta)\cos\theta`).

        Singular points, as limits: at parallel states (:math:`|\rho| = 1`, e.g.
        a sequence with itself) :math:`\partial V' / \partial c = +\infty` and
        :math:`\partial V' / \partial q_i = \mp\infty`, while the partials of
        ``V`` stay finite. At a zero variance (``q1 = 0`` or ``q2 = 0``) ``V``
        grows like :math:`\sqrt{q}` and ``V'`` jumps, so all six are NaN.

        Examples
        --------
        >>> from rntk.activations import ReLU
        >>> g = ReLU().dual_gradient(0.0, 1.0, 1.0)  # independent unit Gaussians
        >>> float(g.kernel_covariance), float(g.derivative_covariance) * 2 * 3.141592653589793
        (0.25, 1.0)
        """
        covariance, variance1, variance2 = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (covariance, variance1, variance2))
        )
        kernel, derivative = self.dual(covariance, variance1, variance2)
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.sqrt(variance1 * variance2)
            correlation = np.clip(covariance / root, -1.0, 1.0)
            sine = np.sqrt(1.0 - correlation * correlation)
            derivative_covariance = 1.0 / (_TWO_PI * root * sine)
            gradient = DualGradient(
                derivative,
                (kernel - covariance * derivative) / (2.0 * variance1),
                (kernel - covariance * derivative) / (2.0 * variance2),
                derivative_covariance,
                -covariance * derivative_covariance / (2.0 * variance1),
                -covariance * derivative_covariance / (2.0 * variance2),
            )
        zero_variance = (variance1 <= 0) | (variance2 <= 0)
        return DualGradient(*(np.where(zero_variance, np.nan, part) for part in gradient))

    def diagonal_gradient(self, variance):
        """``(1/2, 0)``: ``V(q, q, q) = q / 2`` and ``V'(q, q, q) = 1/2`` for ``q > 0``.

        At ``q = 0`` the derivative of ``V'`` (which jumps from 0 to 1/2) is NaN.
        """
        variance = np.asarray(variance, dtype=np.float64)
        return np.full(variance.shape, 0.5), np.where(variance > 0, 0.0, np.nan)


class Erf(DualActivation):
    r"""The error function, :math:`\phi(z) = \mathrm{erf}(z)` (Williams, 1996).

    .. math::

        V = \frac{2}{\pi}\arcsin\frac{2c}{\sqrt{(1 + 2q_1)(1 + 2q_2)}},
        \qquad V' = \frac{4}{\pi}\,\frac{1}{\sqrt{(1 + 2q_1)(1 + 2q_2) - 4c^2}}.

    Both are smooth at zero variance, so no special case is needed.

    Difference form (:meth:`cross_difference`): with :math:`R = \sqrt{(1 +
    2q_1)(1 + 2q_2)}`, the arcsin argument :math:`z = 2c / R` and :math:`t_i =
    \sqrt{q_i + 1/2}` (so that :math:`R = 2 t_1 t_2` and :math:`(t_1 - t_2)^2 = 1
    + q_1 + q_2 - R`), what ``V'`` and ``V`` need near :math:`|z| = 1` is

    .. math::

        R (1 - z) = R - 2c = 1 + D - (t_1 - t_2)^2 \ge 1,

    with no cancellation: :math:`(t_1 - t_2)^2 \le (\sqrt{q_1} - \sqrt{q_2})^2
    \le D` (the last is :math:`S - 2c \ge 0` with :math:`S = 2\sqrt{q_1 q_2}`),
    so its error is that of ``D`` itself. Then :math:`P = R^2 (1 - z^2) = (R -
    2c)(R + 2c)`, :math:`V' = (4/\pi) / \sqrt{P}`, :math:`V = (2/\pi) \arctan(2c
    / \sqrt{P})` and :math:`E[(\phi(u) - \phi(v))^2] = k_1 + k_2 - 2V` with
    :math:`k_i = V(q_i, q_i, q_i)`, whose absolute error stays at rounding
    because :math:`|\phi| \le 1`. Through the covariance, ``V'`` of two
    near-duplicates loses a factor of about ``q`` in relative precision
    (``1e-12`` at ``q = 1e4``).
    """

    name = "erf"
    # Small input weights keep the variance near the fixed point where
    # sigma_w**2 V' = 0.97 (sigma_w = 1, sigma_b = 0.1): long memory, still bounded.
    # With sigma_u = 1 the inputs drive V' down to about 0.5 and the kernel
    # forgets all but the last few steps.
    default_scales = {"sigma_u": 0.1}
    growth_advice = (
        "the erf tangent kernel grows by sigma_w**2 * (4/pi) / sqrt(1 + 4 q) per step at "
        "variance q, so use sigma_w <= 1 with sigma_b >= 0.1"
    )
    difference_form = True
    difference_work = 1

    def __call__(self, preactivation):
        return special.erf(preactivation)

    def derivative(self, preactivation):
        return (2.0 / np.sqrt(np.pi)) * np.exp(-np.square(preactivation))

    def diagonal(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        root = np.sqrt(1.0 + 4.0 * variance)
        # arcsin(2q / (1 + 2q)) = arctan(2q / sqrt(1 + 4q)): arcsin near 1 would
        # lose a factor sqrt(q) of relative precision.
        kernel = (2.0 / np.pi) * np.arctan(2.0 * variance / root)
        return kernel, (4.0 / np.pi) / root

    def factors(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        inverse_root = 1.0 / np.sqrt(1.0 + 2.0 * variance)
        with np.errstate(divide="ignore"):
            inverse_sqrt = np.where(variance > 0, 1.0 / np.sqrt(variance), 0.0)
        # sqrt(q) / sqrt(1 + 2q): turns the correlation into the arcsin argument.
        return inverse_sqrt, 2.0 * np.sqrt(variance) * inverse_root, inverse_root

    def cross(self, covariance, row_factors, column_factors, kernel_out, derivative_out, scratch):
        row_inverse_sqrt, row_scale, row_inverse_root = row_factors
        column_inverse_sqrt, column_scale, column_inverse_root = column_factors
        # Clip the correlation c / sqrt(q1 q2), not the arcsin argument: rounding
        # past |rho| = 1 must give V' at |rho| = 1, which is finite for erf.
        # (In the chaotic regime sigma_w**2 V' > 1 the correlation of two copies of
        # one sequence is unstable and rounding can push it past 1.)
        argument = scratch  # 2c / sqrt((1 + 2 q1)(1 + 2 q2))
        np.multiply(covariance, row_inverse_sqrt, out=argument)
        argument *= column_inverse_sqrt
        np.clip(argument, -1.0, 1.0, out=argument)
        argument *= row_scale
        argument *= 0.5 * column_scale
        np.arcsin(argument, out=kernel_out)
        kernel_out *= 2.0 / np.pi
        np.multiply(argument, argument, out=derivative_out)
        np.subtract(1.0, derivative_out, out=derivative_out)
        np.sqrt(derivative_out, out=derivative_out)
        np.divide(4.0 / np.pi, derivative_out, out=derivative_out)
        derivative_out *= row_inverse_root
        derivative_out *= column_inverse_root

    def difference_factors(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        # k, t = sqrt(q + 1/2) for the gap (t_1 - t_2)^2, and sqrt(1 + 2q) for R.
        return (
            self.diagonal(variance)[0],
            np.sqrt(variance + 0.5),
            np.sqrt(1.0 + 2.0 * variance),
        )

    def cross_difference(
        self,
        difference,
        row_factors,
        column_factors,
        difference_out,
        derivative_out,
        covariance_out,
        work,
    ):
        row_kernel, row_shifted_root, row_root_scale = row_factors
        column_kernel, column_shifted_root, column_root_scale = column_factors
        # One work array, reused: fewer arrays stream through the cache per call.
        distance = work[0]  # R - 2c = 1 + D - (t_1 - t_2)^2
        np.subtract(row_shifted_root, column_shifted_root, out=distance)
        distance *= distance
        np.subtract(difference, distance, out=distance)
        # D - (t_1 - t_2)^2 >= S - 2c >= 0. Rounding, amplified in the chaotic regime
        # (sigma_w**2 V' > 1) and in float32, can push it below, and the amplification
        # would carry it on until R - 2c < 0 and the root further down is NaN.
        # Reflecting it at 0 stops that drift; |.| is a cheaper pass than a clamp.
        np.absolute(distance, out=distance)
        distance += 1.0
        twice_covariance = covariance_out
        root = difference_out
        np.einsum("...,...->...", row_root_scale, column_root_scale, out=root)  # R
        np.subtract(root, distance, out=twice_covariance)
        root += twice_covariance  # R + 2c
        np.absolute(root, out=root)  # rounding at z = -1
        root *= distance
        np.sqrt(root, out=root)  # R sqrt(1 - z^2)
        np.divide(4.0 / np.pi, root, out=derivative_out)
        arcsine = distance  # of z, as arctan(z / sqrt(1 - z^2))
        np.divide(twice_covariance, root, out=arcsine)
        np.arctan(arcsine, out=arcsine)
        np.multiply(arcsine, -4.0 / np.pi, out=difference_out)  # -2 V
        np.add(row_kernel, column_kernel, out=arcsine)
        difference_out += arcsine
        covariance_out *= 0.5

    def dual_gradient(self, covariance, variance1, variance2):
        r"""Partial derivatives of the erf dual map.

        With :math:`P = (1 + 2q_1)(1 + 2q_2)` and :math:`D = P - 4c^2`
        (:math:`D \ge 1 + 2q_1 + 2q_2 > 0`, so erf has no singular point):

        .. math::

            \frac{\partial V}{\partial c} = V', \qquad
            \frac{\partial V}{\partial q_1} = -\frac{c V'}{1 + 2q_1}, \qquad
            \frac{\partial V'}{\partial c} = \frac{4 c V'}{D}, \qquad
            \frac{\partial V'}{\partial q_1} = -\frac{(1 + 2q_2) V'}{D},

        and the same in :math:`q_2` with the indices swapped. ``c`` is clipped
        to :math:`|c| \le \sqrt{q_1 q_2}` as in :meth:`cross`.

        Examples
        --------
        >>> from rntk.activations import Erf
        >>> g = Erf().dual_gradient(0.0, 0.0, 0.0)  # V' = 4/pi at zero variance
        >>> float(g.kernel_covariance) * 3.141592653589793 / 4, float(g.derivative_covariance)
        (1.0, 0.0)
        """
        covariance, variance1, variance2 = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (covariance, variance1, variance2))
        )
        _, derivative = self.dual(covariance, variance1, variance2)
        bound = np.sqrt(variance1 * variance2)
        covariance = np.clip(covariance, -bound, bound)
        scale1, scale2 = 1.0 + 2.0 * variance1, 1.0 + 2.0 * variance2
        determinant = scale1 * scale2 - 4.0 * covariance * covariance
        return DualGradient(
            derivative,
            -covariance * derivative / scale1,
            -covariance * derivative / scale2,
            4.0 * covariance * derivative / determinant,
            -scale2 * derivative / determinant,
            -scale1 * derivative / determinant,
        )

    def diagonal_gradient(self, variance):
        r"""Derivatives of :meth:`diagonal`:

        .. math::

            \frac{d}{dq} V(q, q, q) = \frac{4}{\pi}\frac{1}{(1 + 2q)\sqrt{1 + 4q}},
            \qquad
            \frac{d}{dq} V'(q, q, q) = -\frac{8}{\pi}(1 + 4q)^{-3/2}.
        """
        variance = np.asarray(variance, dtype=np.float64)
        root = np.sqrt(1.0 + 4.0 * variance)
        kernel = (4.0 / np.pi) / ((1.0 + 2.0 * variance) * root)
        derivative = -(8.0 / np.pi) / (root * root * root)
        return kernel, derivative


class Hermite(DualActivation):
    r"""Any activation, through its Hermite (Mehler) expansion: an approximation.

    With :math:`\rho = c / \sqrt{q_1 q_2}` and the normalised Hermite coefficients
    :math:`a_k(q) = E[\phi(\sqrt q z)\,\mathrm{He}_k(z)] / \sqrt{k!}`,
    :math:`z \sim \mathcal N(0, 1)`,

    .. math::

        V(q_1, q_2, c) = \sum_{k \ge 0} a_k(q_1)\, a_k(q_2)\, \rho^k,

    and :math:`V'` the same series with :math:`\phi'` (Mehler's formula;
    ``docs/math.md#the-hermite-expansion``). The coefficients are computed once
    per sequence, step and layer by Gauss-Hermite quadrature; a pair then costs
    a polynomial in ``rho``.

    The series converges fast for ``|rho|`` well below 1 and slowly near
    ``|rho| = 1`` (for tanh the coefficients decay like ``exp(-c sqrt(k / q))``,
    so at ``rho = 1`` and variance 10 the terms after ``k = 256`` still add
    2e-6 to ``V'``). Two things make the truncation after ``degree`` accurate
    over the whole range:

    * The sum is split by parity, :math:`V = E(\rho^2) + \rho\,O(\rho^2)`
      with the even and odd terms (those of the even and odd parts of
      :math:`\phi`); the part of an odd or even activation that vanishes is
      skipped, so tanh, erf and their derivatives cost ``degree / 2`` terms.
    * The rest of each part at :math:`\rho^2 = 1` is known exactly:
      :math:`T = \sum_{k > K} a_k(q_1) a_k(q_2) = E[\phi_p(\sqrt{q_1}z)\,
      \phi_p(\sqrt{q_2}z)] - \sum_{k \le K} a_k(q_1) a_k(q_2)`, a
      one-dimensional quadrature for each pair (one matrix product for a block
      of pairs, over the quadrature nodes and the coefficients). The rest is
      modelled as geometric beyond the last term :math:`\beta_J` of the part,
      with the ratio :math:`\lambda = T / (T + \beta_J)` that makes its sum
      :math:`T`:

      .. math::

          \sum_{j > J} \beta_j x^j \approx
          x^{J+1}\,\frac{T (1 - \lambda)}{1 - \lambda x},
          \qquad x = \rho^2,

      exact at :math:`|\rho| = 1` (so a sequence with itself or a
      near-duplicate gets the quadrature value) and exact for erf-like
      coefficients that decay geometrically. ``lambda`` is clipped to
      ``[0, 1)``: when the coefficients change sign the model is only
      consistent at ``|rho| = 1``.

    Measured (``tests/test_activations.py``), largest error over
    ``rho`` in ``[-1, 1]`` with the defaults: erf against its closed form,
    4e-14 (``V'``; ``V`` less) for variances up to 5 and 4e-11 up to 10; tanh
    against a two-dimensional quadrature, 4e-11 and 1e-8. (The plain series
    with ``degree = 64``: 2e-3 at variance 10.) A pair costs
    ``3 * degree + 30`` passes over the block for an odd or even activation
    (twice the terms otherwise), two matrix products over the nodes and the
    coefficients, and ``degree + 4`` stored factors per sequence,
    step and layer. A sequence with itself uses :meth:`diagonal`, the same
    quadrature of ``E[phi(u)^2]`` with no truncation.

    Parameters
    ----------
    function, derivative : callable
        ``phi`` and ``phi'``, vectorised over NumPy arrays. For the tangent
        kernel ``derivative`` must be the derivative of ``function``.
    degree : int, default 224
        Last term of the series.
    name : str, default "hermite"
        For error messages and ``repr``.
    quadrature_points : int, default 1024
        Gauss-Hermite nodes for the coefficients, the diagonal and the rest at
        ``|rho| = 1`` (2 to 4096). A steep ``phi(sqrt(q) z)`` needs many: for
        ``E[tanh'(u)^2]`` at ``q = 10`` the error is 4e-5 with 256 nodes, 1e-7
        with 512 and 4e-11 with 1024; nodes of weight below 1e-30 are dropped.

    Examples
    --------
    >>> import numpy as np, rntk
    >>> from rntk.activations import Erf, Hermite
    >>> from scipy.special import erf
    >>> hermite_erf = Hermite(erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z * z))
    >>> V, _ = hermite_erf.dual(0.5, 1.0, 2.0)
    >>> bool(np.isclose(V, Erf().dual(0.5, 1.0, 2.0)[0], atol=1e-12))
    True
    >>> K = rntk.kernel(np.ones((2, 3)), activation="tanh")  # a registered Hermite activation
    """

    def __init__(
        self,
        function,
        derivative,
        *,
        degree: int = 224,
        name: str = "hermite",
        quadrature_points: int = 1024,
    ):
        if not (callable(function) and callable(derivative)):
            raise TypeError("function and derivative must be callables (phi and phi')")
        if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
            raise ValueError(f"degree must be a positive integer, got {degree!r}")
        if isinstance(quadrature_points, (bool, np.bool_)) or not isinstance(
            quadrature_points, (int, np.integer)
        ):
            raise TypeError(f"quadrature_points must be an integer, got {quadrature_points!r}")
        if not 2 <= quadrature_points <= 4096:
            raise ValueError(f"quadrature_points must be in 2..4096, got {quadrature_points!r}")
        self._function, self._derivative = function, derivative
        self.degree, self.name = int(degree), name
        nodes, weights = special.roots_hermitenorm(int(quadrature_points))
        weights = weights / np.sqrt(2.0 * np.pi)  # expectations under N(0, 1)
        kept = weights > _NEGLIGIBLE_WEIGHT
        self._nodes, self._weights = nodes[kept], weights[kept]
        # The nodes are symmetric: the parts of phi of one parity need only
        # x >= 0, with the weight of -x folded in.
        half = self._nodes >= 0
        self._half_nodes = self._nodes[half]
        self._half_root_weights = np.sqrt(
            np.where(self._half_nodes > 0, 2.0, 1.0) * self._weights[half]
        )
        # Orthonormal Hermite polynomials He_k / sqrt(k!) at the nodes, by recurrence.
        basis = np.empty((self.degree + 1, self._nodes.size))
        basis[0] = 1.0
        basis[1] = self._nodes
        for k in range(1, self.degree):
            basis[k + 1] = (self._nodes * basis[k] - np.sqrt(k) * basis[k - 1]) / np.sqrt(k + 1)
        self._projection = (basis * self._weights).T  # (points, degree + 1)
        # The parities (0 even, 1 odd) of the nonzero parts of phi and phi'.
        self._parities = tuple(self._parities_of(f) for f in (function, derivative))

    def _parities_of(self, function) -> tuple[int, ...]:
        probe = np.concatenate(
            [self._half_nodes[self._half_nodes <= 8.0] * s for s in (0.3, 1.0, 3.0)]
        )
        with np.errstate(all="ignore"):
            plus, minus = function(probe), function(-probe)
            scale = np.max(np.abs(plus))
            parities = tuple(
                p
                for p, sign in ((0, 1.0), (1, -1.0))
                if not np.max(np.abs(plus + sign * minus)) <= 1e-14 * scale
            )
        # phi = 0 (or not finite): keep the even part, which carries phi(0).
        return parities if len(parities) > 0 else (0,)

    def __repr__(self) -> str:
        return f"Hermite(name={self.name!r}, degree={self.degree})"

    def __call__(self, preactivation):
        return self._function(preactivation)

    def derivative(self, preactivation):
        return self._derivative(preactivation)

    def _at_nodes(self, function, variance):
        return function(np.sqrt(variance)[..., None] * self._nodes)

    def diagonal(self, variance):
        variance = np.asarray(variance, dtype=np.float64)
        kernel = np.square(self._at_nodes(self._function, variance)) @ self._weights
        derivative = np.square(self._at_nodes(self._derivative, variance)) @ self._weights
        return kernel, derivative

    def factors(self, variance):
        """``(1 / sqrt(q), sqrt(q), a_k(q) ...)``: the coefficients of each part of phi, phi'."""
        variance = np.asarray(variance, dtype=np.float64)
        with np.errstate(divide="ignore"):
            inverse_sqrt = np.where(variance > 0, 1.0 / np.sqrt(variance), 0.0)
        coefficients = []
        for function, parities in zip(
            (self._function, self._derivative), self._parities, strict=True
        ):
            values = self._at_nodes(function, variance) @ self._projection
            for parity in parities:
                part = values[..., parity::2]
                coefficients.extend(np.ascontiguousarray(np.moveaxis(part, -1, 0)))
        return (inverse_sqrt, np.sqrt(variance), *coefficients)

    def _part_values(self, function, root, parity, both):
        """``sqrt(w_i) phi_p(sqrt(q) x_i)`` at the nodes ``x_i >= 0``: ``root.shape + (m,)``."""
        points = root[..., None] * self._half_nodes
        values = function(points)
        if both:  # phi has both parts: phi_p(y) = (phi(y) +- phi(-y)) / 2
            values = 0.5 * (values + (1.0 - 2.0 * parity) * function(-points))
        return values * self._half_root_weights

    def cross(self, covariance, row_factors, column_factors, kernel_out, derivative_out, scratch):
        correlation = scratch
        np.multiply(covariance, row_factors[0], out=correlation)
        correlation *= column_factors[0]
        np.clip(correlation, -1.0, 1.0, out=correlation)
        square, rest, ratio, term = (np.empty_like(correlation) for _ in range(4))
        np.multiply(correlation, correlation, out=square)
        start = 2
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 in the tail ratio: 0
            for function, parities, out in zip(
                (self._function, self._derivative),
                self._parities,
                (kernel_out, derivative_out),
                strict=True,
            ):
                for index, parity in enumerate(parities):
                    terms = len(range(parity, self.degree + 1, 2))
                    rows = row_factors[start : start + terms]
                    columns = column_factors[start : start + terms]
                    start += terms
                    both = len(parities) == 2
                    part_out = out if index == 0 else np.empty_like(correlation)
                    self._rest_at_one(
                        function,
                        parity,
                        both,
                        row_factors[1],
                        column_factors[1],
                        rows,
                        columns,
                        rest,
                    )
                    self._part(square, rows, columns, rest, part_out, ratio, term)
                    if parity == 1:
                        part_out *= correlation
                    if index == 1:
                        out += part_out

    def _rest_at_one(self, function, parity, both, row_root, column_root, rows, columns, rest):
        """``T = E[phi_p(u) phi_p(v)] - sum_{k <= K} a_k a_k`` at ``|rho| = 1``, into ``rest``."""
        left = np.concatenate(
            [self._part_values(function, row_root, parity, both), np.stack(rows, axis=-1)], axis=-1
        )
        right = np.concatenate(
            [self._part_values(function, column_root, parity, both), -np.stack(columns, axis=-1)],
            axis=-1,
        )
        if left.ndim == 3 and left.shape[1] == 1 and right.ndim == 3 and right.shape[0] == 1:
            np.matmul(left[:, 0], right[0].T, out=rest)  # a block: one matrix product
        else:
            rest[...] = np.einsum("...i,...i->...", left, right)

    @staticmethod
    def _part(square, rows, columns, rest, out, ratio, term):
        """``sum_j beta_j x^j`` with the geometric model of the rest (class docstring)."""
        np.multiply(rows[-1], columns[-1], out=term)  # beta_J
        np.add(rest, term, out=ratio)
        np.divide(rest, ratio, out=ratio)  # lambda = T / (T + beta_J)
        np.fmax(ratio, 0.0, out=ratio)  # NaN (T = beta_J = 0) -> 0
        np.fmin(ratio, _LARGEST_TAIL_RATIO, out=ratio)
        np.multiply(ratio, rest, out=out)
        np.subtract(rest, out, out=rest)  # T (1 - lambda)
        ratio *= square
        np.subtract(1.0, ratio, out=ratio)
        np.divide(rest, ratio, out=out)
        out *= square
        out += term  # beta_J + x T (1 - lambda) / (1 - lambda x)
        for k in range(len(rows) - 2, -1, -1):  # Horner's rule in x = rho^2
            out *= square
            np.multiply(rows[k], columns[k], out=term)
            out += term


def _tanh_derivative(preactivation):
    return 1.0 / np.square(np.cosh(preactivation))


#: Activations by name: a factory (a class or any callable) making a fresh instance.
_REGISTRY: dict[str, Callable[[], DualActivation]] = {}


def register_activation(
    name: str, factory: Callable[[], DualActivation], *, replace: bool = False
) -> None:
    """Make an activation available by name to :func:`rntk.kernel`, :class:`rntk.RNN`, ...

    Parameters
    ----------
    name : str
        The name (case-insensitive), e.g. ``"leaky_relu"``.
    factory : callable
        A :class:`DualActivation` subclass, or any function of no arguments that
        returns an instance; called once now to check it, and once per use.
    replace : bool, default False
        Allow replacing an activation already registered under ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``factory`` does not make a
        :class:`DualActivation`.
    ValueError
        If ``name`` is taken and ``replace`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> import rntk
    >>> from rntk.activations import DualActivation, register_activation
    >>> class Linear(DualActivation):
    ...     def dual(self, covariance, variance1, variance2):
    ...         covariance = np.asarray(covariance, dtype=float)
    ...         return covariance, np.ones_like(covariance)
    >>> register_activation("linear_example", Linear)
    >>> float(rntk.kernel([[1.0]], activation="linear_example", get="nngp")[0, 0])
    1.01
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    key = name.strip().lower()
    if key in _REGISTRY and not replace:
        raise ValueError(
            f"an activation named {key!r} is already registered; pass replace=True to replace it"
        )
    if isinstance(factory, DualActivation):
        # An instance is callable too (phi itself), so calling it would fail on phi's argument.
        raise TypeError(
            f"factory must be a DualActivation subclass or a function that makes an instance, "
            f"got the instance {factory!r}; pass its class, register_activation({name!r}, "
            f"{type(factory).__name__}), or a function such as lambda: activation"
        )
    if not callable(factory):
        raise TypeError(f"factory must be a DualActivation subclass or a callable, got {factory!r}")
    made = factory()
    if not isinstance(made, DualActivation):
        raise TypeError(
            f"factory must make a DualActivation instance, but {factory!r} made "
            f"{type(made).__name__}"
        )
    _REGISTRY[key] = factory


def available_activations() -> list[str]:
    """The registered activation names, sorted (``"erf"``, ``"relu"``, ``"tanh"`` and any added).

    >>> from rntk.activations import available_activations
    >>> [name for name in available_activations() if name in ("erf", "relu", "tanh")]
    ['erf', 'relu', 'tanh']
    """
    return sorted(_REGISTRY)


def _tanh() -> Hermite:
    return Hermite(np.tanh, _tanh_derivative, name="tanh")


register_activation("relu", ReLU)
register_activation("erf", Erf)
register_activation("tanh", _tanh)


def get_activation(activation) -> DualActivation:
    """Resolve a registered name (:func:`available_activations`) or a :class:`DualActivation`."""
    if isinstance(activation, DualActivation):
        return activation
    if isinstance(activation, str) and activation.strip().lower() in _REGISTRY:
        return _REGISTRY[activation.strip().lower()]()
    raise ValueError(
        f"activation must be one of {available_activations()} (see "
        f"rntk.activations.register_activation) or a DualActivation instance, got {activation!r}"
    )


# Points (covariance, variance1, variance2) at which a dual map is evaluated for
# its fingerprint: two activations of one class (e.g. Hermite expansions of
# different functions) differ there.
_PROBE_VARIANCES = np.array([0.25, 1.0, 4.0])
_PROBE_CORRELATIONS = np.array([-0.9, -0.3, 0.0, 0.5, 0.95])


def dual_fingerprint(activation: DualActivation) -> str:
    """A hash of the dual and diagonal maps of ``activation`` at fixed points, to 10 digits.

    What a Gram file's header and a prepared batch record of the activation, so
    that another activation of the same class and name is told apart. Rounded
    so that the last-bit differences of another NumPy build do not count as
    another activation.
    """
    variance1, variance2, correlation = np.meshgrid(
        _PROBE_VARIANCES, _PROBE_VARIANCES, _PROBE_CORRELATIONS, indexing="ij"
    )
    covariance = correlation * np.sqrt(variance1 * variance2)
    values = [*activation.dual(covariance, variance1, variance2)]
    values += [*activation.diagonal(_PROBE_VARIANCES)]
    text = " ".join(f"{v:.9e}" for array in values for v in np.ravel(array))
    return hashlib.sha256(text.encode()).hexdigest()
