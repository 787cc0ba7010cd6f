r"""Baseline kernels on fixed-length sequences: Gaussian RBF, polynomial and the MLP NTK.

These are the kernels the RNTK paper compares against (Alemohammad et al., ICLR
2021, section 5). They treat a sequence as one vector: an input of shape
``(n, T)`` or ``(n, T, m)`` becomes ``n`` vectors of dimension ``d = T m`` (time
steps in their original order, features within a step contiguous). They follow
the calling convention of :func:`rntk.kernel`, ``f(X, X2=None, **params)`` returning
an ``(n1, n2)`` Gram matrix, and accept the same input formats (validated by
:func:`rntk.sequences.as_sequences`), as long as every sequence has the same
length: a vector kernel cannot compare sequences of different length, which is
what the RNTK is for.

A kernel that leaves the float64 range raises :class:`rntk.KernelOverflowError`,
as :func:`rntk.kernel` does, naming the cause and a remedy: every result, and
every intermediate value whose overflow a later step would hide (``exp(-inf) = 0``,
``inf - inf = NaN``), is checked for finiteness.
"""

from __future__ import annotations

import functools

import numpy as np

from .activations import ReLU
from .errors import KernelOverflowError
from .hyperparameters import Hyperparameters
from .options import (
    check_non_negative,
    check_positive,
    check_positive_integer,
    kernel_result,
    parse_get,
)
from .recursion import advance_layer
from .sequences import SequenceBatch, as_sequences, check_same_features

__all__ = ["median_squared_distance", "mlp_ntk", "polynomial_kernel", "rbf_kernel"]


def _flatten(X, name: str, length: int | None = None) -> tuple[np.ndarray, SequenceBatch]:
    """Validate fixed-length sequences and return them as rows of shape ``(n, T m)``."""
    batch = as_sequences(X, name)
    lengths = batch.lengths
    if np.any(lengths != lengths[0]):
        shortest, longest = int(lengths.min()), int(lengths.max())
        raise ValueError(
            f"{name} holds sequences of different lengths ({shortest} to {longest} steps); "
            "this kernel compares fixed-length vectors: resample or crop the sequences to "
            "one length, or use rntk.kernel, which aligns sequences at their last step"
        )
    if length is not None and lengths[0] != length:
        raise ValueError(
            f"{name} holds sequences of length {int(lengths[0])} but X has length {length}; "
            "this kernel compares fixed-length vectors: resample or crop both to one length"
        )
    # steps_from_end is time-major and reversed; restore (n, T, m) in time order.
    vectors = batch.steps_from_end[::-1].transpose(1, 0, 2)
    return np.ascontiguousarray(vectors).reshape(batch.n_sequences, -1), batch


def _vectors(X, X2) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` and ``X2`` (or ``None``) as matrices of flattened sequences."""
    vectors, batch = _flatten(X, "X")
    if X2 is None:
        return vectors, None
    vectors2, batch2 = _flatten(X2, "X2", length=int(batch.lengths[0]))
    check_same_features(batch, batch2)
    return vectors, vectors2


def _gamma(gamma, dimension: int) -> float:
    """``gamma`` as a positive finite float; ``None`` means ``1 / dimension``."""
    return 1.0 / dimension if gamma is None else check_positive(gamma, "gamma")


def _variance(value, name: str, kernel: str) -> float:
    """``value**2`` for a non-negative scale ``value``, refused if beyond float64."""
    scale = check_non_negative(value, name)
    variance = scale * scale  # a float product gives inf where ``scale**2`` would raise
    if not np.isfinite(variance):
        raise _overflow(
            kernel, f"{name}**2 is beyond it for {name}={value!r}", f"use a smaller {name}"
        )
    return variance


def _overflow(kernel: str, cause: str, remedy: str) -> KernelOverflowError:
    return KernelOverflowError(f"{kernel} overflowed float64: {cause}; {remedy}")


def _one_step(input_kernel: np.ndarray, hyper: Hyperparameters, evaluate_dual):
    """``K`` and ``Kd * Theta`` at the top layer of the RNTK of one step.

    ``input_kernel`` is ``<x, x'> / d`` (or ``|x|^2 / d`` for one vector with
    itself); ``evaluate_dual(layer, Sigma, K_out, Kd_out)`` is the dual map at
    ``layer``. Each layer is one :func:`rntk.recursion.advance_layer` from the
    state before the step, ``K = Kd * Theta = 0`` (``h0 = 0``).
    """
    kernel_below, derivative_times_tangent_below = input_kernel, None
    for layer in range(hyper.depth):
        kernel, derivative_times_tangent = np.zeros_like(input_kernel), np.zeros_like(input_kernel)
        covariance, derivative = np.empty_like(input_kernel), np.empty_like(input_kernel)
        advance_layer(
            kernel,
            derivative_times_tangent,
            kernel_below,
            derivative_times_tangent_below,
            layer,
            hyper,
            functools.partial(evaluate_dual, layer),
            covariance,
            derivative,
        )
        kernel_below, derivative_times_tangent_below = kernel, derivative_times_tangent
    return kernel_below, derivative_times_tangent_below


def _largest_magnitude(vectors: np.ndarray, vectors2: np.ndarray | None) -> float:
    """The largest absolute entry of the inputs, for error messages."""
    sets = (vectors,) if vectors2 is None else (vectors, vectors2)
    return max(float(np.max(np.abs(rows), initial=0.0)) for rows in sets)


def rbf_kernel(X, X2=None, *, gamma: float | None = None) -> np.ndarray:
    r"""The Gaussian RBF kernel of fixed-length sequences flattened to vectors.

    .. math::

        k(x, x') = \exp\left(-\gamma \lVert x - x' \rVert^2\right),
        \qquad \lVert x - x' \rVert^2 = \sum_{t=1}^{T} \lVert x_t - x'_t \rVert^2 .

    Parameters
    ----------
    X : array (n1, T) or (n1, T, m), or list of sequences of one length
        Sequences of equal length, flattened to vectors of dimension ``d = T m``.
    X2 : same formats as X, optional
        Second set, of the same length and features; ``None`` means ``X``.
    gamma : float, optional
        Inverse squared length scale; default ``1 / d`` (as scikit-learn), which
        suits inputs whose entries have unit scale.

    Returns
    -------
    ndarray of shape (n1, n2)
        Entries in ``(0, 1]``; with ``X2=None`` the diagonal is exactly 1.

    Raises
    ------
    ValueError
        If the sequences have different lengths (resample them first), or for
        malformed inputs or a non-positive ``gamma``.
    rntk.KernelOverflowError
        If a squared distance is beyond the float64 range (inputs of magnitude
        above about ``1e154``): scale the inputs down by a factor ``s`` and
        ``gamma`` up by ``s**2``, which leaves the kernel unchanged.

    References
    ----------
    .. [1] B. Schölkopf and A. J. Smola, "Learning with Kernels", MIT Press, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.baselines import rbf_kernel
    >>> K = rbf_kernel(np.array([[0.0, 0.0], [1.0, 1.0]]), gamma=0.5)
    >>> bool(np.isclose(K[0, 1], np.exp(-1.0)))
    True
    """
    vectors, vectors2 = _vectors(X, X2)
    gamma = _gamma(gamma, vectors.shape[1])
    other = vectors if vectors2 is None else vectors2
    with np.errstate(over="ignore", invalid="ignore"):
        squared_norms = np.einsum("id,id->i", vectors, vectors)
        other_norms = squared_norms if vectors2 is None else np.einsum("id,id->i", other, other)
        squared_distance = vectors @ other.T
        squared_distance *= -2.0
        squared_distance += squared_norms[:, None]
        squared_distance += other_norms[None, :]
    # An infinite squared norm would come out as exp(-inf) = 0 or as NaN (inf - inf),
    # and the diagonal below would hide it.
    if not np.isfinite(squared_distance).all():
        raise _overflow(
            "rbf_kernel",
            "the squared distances are beyond it for inputs of magnitude up to "
            f"{_largest_magnitude(vectors, vectors2):.3g}",
            "scale the inputs down by a factor s and gamma up by s**2 (the kernel is unchanged)",
        )
    # Cancellation can leave tiny negatives for (nearly) equal vectors.
    np.maximum(squared_distance, 0.0, out=squared_distance)
    if vectors2 is None:
        np.fill_diagonal(squared_distance, 0.0)
    # Beyond -1.8e308 the exponent is -inf and exp gives 0, the kernel's true value.
    with np.errstate(over="ignore"):
        squared_distance *= -gamma
    return np.exp(squared_distance, out=squared_distance)


def median_squared_distance(X) -> float:
    r"""The median squared distance between distinct sequences, the RBF kernel's usual scale.

    .. math::

        \operatorname{median}_{i < j} \lVert x_i - x_j \rVert^2,

    over the sequences of ``X`` flattened to vectors as :func:`rbf_kernel`
    does. ``gamma = g / median_squared_distance(X_train)`` makes the grid of
    factors ``g`` of an RBF kernel independent of the scale and dimension of
    the inputs (the median heuristic).

    Parameters
    ----------
    X : array (n, T) or (n, T, m), or list of sequences of one length
        At least two sequences of equal length.

    Returns
    -------
    float
        The median over the ``n (n - 1) / 2`` pairs; 1 if it is not positive
        (more than half of the pairs equal), so that it can always divide.

    Raises
    ------
    ValueError
        If the sequences have different lengths, or there are fewer than two.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.baselines import median_squared_distance
    >>> median_squared_distance(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]]))
    4.0
    """
    flat = _flatten(X, "X")[0]
    if len(flat) < 2:
        raise ValueError(f"X must hold at least two sequences, got {len(flat)}")
    norms = np.einsum("id,id->i", flat, flat)
    squared = norms[:, None] + norms[None, :] - 2.0 * flat @ flat.T
    median = float(np.median(squared[np.triu_indices(len(flat), 1)]))
    return median if median > 0 else 1.0


def polynomial_kernel(
    X, X2=None, *, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> np.ndarray:
    r"""The polynomial kernel of fixed-length sequences flattened to vectors.

    .. math::

        k(x, x') = \left(\gamma \langle x, x' \rangle + c_0\right)^{p},
        \qquad \langle x, x' \rangle = \sum_{t=1}^{T} \langle x_t, x'_t \rangle .

    Parameters
    ----------
    X : array (n1, T) or (n1, T, m), or list of sequences of one length
        Sequences of equal length, flattened to vectors of dimension ``d = T m``.
    X2 : same formats as X, optional
        Second set, of the same length and features; ``None`` means ``X``.
    degree : int, default 3
        The degree ``p >= 1``.
    gamma : float, optional
        Scale of the inner product; default ``1 / d`` (as scikit-learn).
    coef0 : float, default 1
        The offset ``c_0 >= 0``; with ``c_0 > 0`` every monomial of degree up to
        ``p`` is in the feature space.

    Returns
    -------
    ndarray of shape (n1, n2)

    Raises
    ------
    ValueError
        If the sequences have different lengths (resample them first), or for
        malformed inputs or parameters.
    rntk.KernelOverflowError
        If ``gamma <x, x'> + coef0`` or its ``degree``-th power is beyond the
        float64 range: scale the inputs down, or lower ``gamma`` or the degree.

    References
    ----------
    .. [1] B. Schölkopf and A. J. Smola, "Learning with Kernels", MIT Press, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.baselines import polynomial_kernel
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> polynomial_kernel(X, degree=2, gamma=1.0, coef0=1.0)
    array([[ 36.,   4.],
           [  4., 121.]])
    """
    vectors, vectors2 = _vectors(X, X2)
    degree = check_positive_integer(degree, "degree")
    gamma = _gamma(gamma, vectors.shape[1])
    coef0 = check_non_negative(coef0, "coef0")
    with np.errstate(over="ignore", invalid="ignore"):
        gram = vectors @ (vectors if vectors2 is None else vectors2).T
        gram *= gamma
        gram += coef0
    if not np.isfinite(gram).all():
        raise _overflow(
            "polynomial_kernel",
            "gamma <x, x'> + coef0 is beyond it for inputs of magnitude up to "
            f"{_largest_magnitude(vectors, vectors2):.3g}",
            "scale the inputs down or lower gamma",
        )
    with np.errstate(over="ignore"):
        kernel = gram**degree
    if not np.isfinite(kernel).all():
        raise _overflow(
            "polynomial_kernel",
            f"(gamma <x, x'> + coef0)**{degree} is beyond it (the largest "
            f"|gamma <x, x'> + coef0| is {float(np.max(np.abs(gram))):.3g})",
            "lower the degree, or scale the inputs or gamma so that |gamma <x, x'> + coef0| "
            "stays near 1 or below",
        )
    return kernel


#: Pairs in one block of rows of :func:`mlp_ntk`'s work arrays.
MLP_BLOCK_PAIRS = 2**22


def _rows_per_block(n_columns: int) -> int:
    """Rows of ``n_columns`` pairs each that fit in :data:`MLP_BLOCK_PAIRS` (at least one)."""
    return max(1, MLP_BLOCK_PAIRS // max(n_columns, 1))


def _symmetrise(matrix: np.ndarray, block: int) -> None:
    """``matrix = (matrix + matrix.T) / 2`` in place, a block of rows at a time.

    Each pair of entries gets ``0.5 * (a + b)``, the same bits as the whole
    expression, as ``a + b == b + a`` in floating point.
    """
    for start in range(0, matrix.shape[0], block):
        rows = slice(start, start + block)
        # Rows ``rows`` against the columns before them are done already.
        upper = 0.5 * (matrix[rows, start:] + matrix[start:, rows].T)
        matrix[rows, start:] = upper
        matrix[start:, rows] = upper.T


def mlp_ntk(
    X,
    X2=None,
    *,
    depth: int = 1,
    sigma_w: float = np.sqrt(2.0),
    sigma_b: float = 0.1,
    sigma_v: float = 1.0,
    get="ntk",
):
    r"""The NTK (or NNGP) of an infinitely wide fully connected ReLU network with biases.

    The network (NTK parameterisation, all weights and biases standard normal,
    hidden width :math:`N \to \infty`) reads a sequence flattened to
    :math:`x \in \mathbb R^d`, ``d = T m``:

    .. math::

        g_1 = \frac{\sigma_w}{\sqrt d} W_1 x + \sigma_b b_1, \qquad
        g_l = \frac{\sigma_w}{\sqrt N} W_l \phi(g_{l-1}) + \sigma_b b_l \ (2 \le l \le L),
        \qquad f(x) = \frac{\sigma_v}{\sqrt N} v^\top \phi(g_L),

    with :math:`\phi = \mathrm{ReLU}` and ``L = depth`` hidden layers. With
    :math:`V, V'` the ReLU dual map (:class:`rntk.activations.ReLU`), the limit
    kernels follow the recursion (Jacot et al. 2018; Arora et al. 2019)

    .. math::

        \Sigma_1 &= \sigma_w^2 \frac{\langle x, x' \rangle}{d} + \sigma_b^2, &
        \Theta_1 &= \Sigma_1, \\
        K_l, \dot K_l &= V, V'(\Sigma_l(x, x), \Sigma_l(x', x'), \Sigma_l(x, x')), \\
        \Sigma_{l+1} &= \sigma_w^2 K_l + \sigma_b^2, &
        \Theta_{l+1} &= \Sigma_{l+1} + \sigma_w^2 \dot K_l \Theta_l, \\
        \mathrm{NNGP} &= \sigma_v^2 K_L, &
        \mathrm{NTK} &= \sigma_v^2 (K_L + \dot K_L \Theta_L).

    It is the RNTK of a single step (``T = 1``, ``sigma_h = 0``) with ``sigma_u``
    in the role of ``sigma_w`` here, applied to the whole flattened sequence, and
    is computed as such: each layer is one step of the RNTK's recursion
    (:func:`rntk.recursion.advance_layer`).

    Parameters
    ----------
    X : array (n1, T) or (n1, T, m), or list of sequences of one length
        Sequences of equal length, flattened to vectors of dimension ``d = T m``.
    X2 : same formats as X, optional
        Second set, of the same length and features; ``None`` means ``X`` (the
        diagonal then comes from closed forms, exact).
    depth : int, default 1
        Number of hidden ReLU layers ``L``.
    sigma_w : float, default sqrt(2)
        Scale of the hidden weights; ``sqrt(2)`` preserves the variance through
        ReLU layers (He et al. 2015).
    sigma_b : float, default 0.1
        Scale of the hidden biases.
    sigma_v : float, default 1
        Scale of the read-out weights (multiplies both kernels by ``sigma_v**2``).
    get : "ntk", "nngp", ("nngp", "ntk") or ("ntk", "nngp"), default "ntk"
        Which kernel to return; with both, a :class:`rntk.KernelPair` in that order.

    Returns
    -------
    ndarray of shape (n1, n2), or a :class:`rntk.KernelPair` of them.

    Raises
    ------
    ValueError
        If the sequences have different lengths (resample them first), or for
        malformed inputs or parameters.
    rntk.KernelOverflowError
        If a variance or the kernel is beyond the float64 range: inputs of
        magnitude above about ``1e154``, or a variance that grows by
        ``sigma_w**2 / 2`` per layer; scale the inputs down, or use
        ``sigma_w <= sqrt(2)``, fewer layers or a smaller ``sigma_v``.

    Notes
    -----
    Memory: for ``X2`` given, the input products and the result (``n1 n2``
    values each) and about 17 arrays of a block of at most
    :data:`MLP_BLOCK_PAIRS` pairs (32 MB each); for a symmetric Gram matrix
    (``X2=None``), whose two halves are averaged at every layer, about 10
    arrays of ``n1**2`` values. The blocks change no bit of the result.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel: Convergence
       and Generalization in Neural Networks", NeurIPS 2018.
    .. [2] S. Arora, S. S. Du, W. Hu, Z. Li, R. Salakhutdinov, R. Wang, "On Exact
       Computation with an Infinitely Wide Neural Net", NeurIPS 2019.
    .. [3] Y. Cho and L. K. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from rntk.baselines import mlp_ntk
    >>> x = np.array([[1.0, -1.0, 0.5]])
    >>> # one hidden layer, no bias: NTK(x, x) = sigma_w^2 |x|^2 / d  (= 2 * 0.75)
    >>> round(float(mlp_ntk(x, depth=1, sigma_b=0.0)[0, 0]), 12)
    1.5
    """
    vectors, vectors2 = _vectors(X, X2)
    depth = check_positive_integer(depth, "depth")
    _variance(sigma_w, "sigma_w", "mlp_ntk")  # refused by name if its square overflows
    _variance(sigma_b, "sigma_b", "mlp_ntk")
    output_variance = _variance(sigma_v, "sigma_v", "mlp_ntk")
    names = parse_get(get)
    symmetric = vectors2 is None
    # The RNTK of one step: the hidden weights are its input weights, and the
    # state before the step is h0 = 0 (sigma_h = 0), with no recurrent weight on it.
    hyper = Hyperparameters(
        depth=depth, sigma_w=0.0, sigma_u=sigma_w, sigma_b=sigma_b, sigma_h=0.0, sigma_v=sigma_v
    )
    relu = ReLU()
    scale = 1.0 / vectors.shape[1]

    def self_layers(points) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(q, K, Kd)`` of each of ``points`` with itself, per layer (closed forms, exact)."""
        layers = []

        def diagonal_dual(layer, variance, kernel_out, derivative_out):
            kernel_out[...], derivative_out[...] = relu.diagonal(variance)
            layers.append((variance.copy(), kernel_out.copy(), derivative_out.copy()))

        norms = np.einsum("id,id->i", points, points)
        norms *= scale
        _one_step(norms, hyper, diagonal_dual)
        return layers

    def cross_kernels(row_layers, column_layers, input_covariance):
        """``K`` and ``Kd * Theta`` of the top layer between two sets of points."""

        def cross_dual(layer, covariance, kernel_out, derivative_out):
            row_variance, row_kernel, row_derivative = row_layers[layer]
            column_variance = column_layers[layer][0]
            # The dual map's temporaries, a block of rows at a time (it acts pair by pair).
            block = _rows_per_block(covariance.shape[1])
            for start in range(0, covariance.shape[0], block):
                part = slice(start, start + block)
                kernel_out[part], derivative_out[part] = relu.dual(
                    covariance[part], row_variance[part, None], column_variance[None, :]
                )
            if symmetric:
                # Rounding differs between (i, j) and (j, i); keep the Gram exactly symmetric.
                _symmetrise(kernel_out, block)
                _symmetrise(derivative_out, block)
                # Through the correlation the diagonal loses half its digits (arccos near 1).
                np.fill_diagonal(kernel_out, row_kernel)
                np.fill_diagonal(derivative_out, row_derivative)

        return _one_step(input_covariance, hyper, cross_dual)

    with np.errstate(over="ignore", invalid="ignore"):
        rows = self_layers(vectors)
        columns = rows if symmetric else self_layers(vectors2)
    if not (np.isfinite(rows[0][0]).all() and np.isfinite(columns[0][0]).all()):
        raise _overflow(
            "mlp_ntk",
            "the first-layer variance sigma_w**2 |x|**2 / d + sigma_b**2 is beyond it for "
            f"inputs of magnitude up to {_largest_magnitude(vectors, vectors2):.3g}",
            "scale the inputs down (e.g. standardise them) or use a smaller sigma_w",
        )
    # A pair's first-layer covariance is bounded by the two variances checked here
    # (Cauchy-Schwarz); beyond the first layer an overflow can only grow into the
    # result, checked below.
    input_covariance = vectors @ (vectors if symmetric else vectors2).T
    input_covariance *= scale
    values = {name: np.empty_like(input_covariance) for name in names}
    # The layers hold about 17 arrays of a block's shape: blocks of rows keep that
    # near 0.5 GB however many pairs (a whole test Gram of Crop, 16,800 x 7,200
    # pairs, would take 16 GB). The input covariance is one product of the whole
    # matrices, as a product's rounding depends on how its rows are cut; after it
    # each pair's arithmetic is its own. A symmetric Gram is one block, as its
    # two halves are averaged at every layer.
    n_rows, n_columns = input_covariance.shape
    block_rows = n_rows if symmetric else _rows_per_block(n_columns)
    for start in range(0, n_rows, block_rows):
        part = slice(start, start + block_rows)
        with np.errstate(over="ignore", invalid="ignore"):
            kernel, derivative_times_tangent = cross_kernels(
                [tuple(array[part] for array in layer) for layer in rows],
                columns,
                input_covariance[part],
            )
            if "nngp" in names:
                values["nngp"][part] = output_variance * kernel
            if "ntk" in names:
                values["ntk"][part] = output_variance * (kernel + derivative_times_tangent)
    if not all(np.isfinite(value).all() for value in values.values()):
        raise _overflow(
            "mlp_ntk",
            f"the kernel is beyond it with depth={depth}, sigma_w={float(sigma_w):.6g} and "
            f"sigma_v={float(sigma_v):.6g} (the variance grows by sigma_w**2 / 2 per layer)",
            "use sigma_w <= sqrt(2), fewer layers, a smaller sigma_v or inputs of smaller scale",
        )
    return kernel_result(values, names)
