r"""The finite network's empirical kernels: the NNGP of its read-out and its exact NTK.

Given one stack's forward :class:`~rntk.network_passes.Trace` of two batches,
:func:`conjugate_kernel` is the Gram matrix of the read-out features and
:func:`tangent_kernel` the tangent kernel
:math:`\langle \nabla_\theta f(x), \nabla_\theta f(x') \rangle` over every
parameter of the stack. :class:`rntk.RNN` adds the stacks' shares.

The tangent kernel is computed in a factorised form: every parameter's
gradient is a sum over steps of outer products
:math:`\delta_{l,t} \otimes a_{l,t}` of a back-propagated vector
:math:`\delta_{l,t} = \partial f / \partial g_{l,t}` and the layer's input
:math:`a_{l,t}`, so

.. math::

    \langle \nabla_{W} f(x), \nabla_{W} f(x') \rangle
    = c^2 \sum_{t, t'} (\delta_{t} \cdot \delta'_{t'})\,(a_{t} \cdot a'_{t'})

and the kernel of ``n`` sequences needs only ``(n T) x N`` Gram products, never
the ``n x P`` Jacobian (``P ~ N^2`` parameters). Untied weights keep only the
pairs of steps that share a weight, those at the same distance from the end.
The head enters only through the read-out (:mod:`rntk.network_passes`): given
the deltas, each layer's factorised kernel is the same for every head.
"""

from __future__ import annotations

import numpy as np

from .network_passes import Stack, Trace

__all__ = ["conjugate_kernel", "layer_tangent_kernel", "tangent_kernel"]


def conjugate_kernel(stack: Stack, rows: Trace, columns: Trace) -> np.ndarray:
    """The read-out features' Gram matrix, ``sigma_v^2 / N`` times the read states' products."""
    features = rows.read_state()
    column_features = features if columns is rows else columns.read_state()
    return stack.layout.readout_scale**2 * (features @ column_features.T)


def tangent_kernel(stack: Stack, rows: Trace, columns: Trace) -> np.ndarray:
    """The stack's share of the empirical NTK: its read-out plus every layer's."""
    layout = stack.layout
    row_deltas = stack.backward(rows)
    column_deltas = row_deltas if columns is rows else stack.backward(columns)
    theta = conjugate_kernel(stack, rows, columns)
    for layer in range(layout.hyperparameters.depth):
        w_scale, u_scale, b_scale = layout.scales(layer, rows.n_features)
        theta += layer_tangent_kernel(
            row_deltas[layer],
            column_deltas[layer],
            (rows.recurrent_input(layer), rows.layer_input(layer)),
            (columns.recurrent_input(layer), columns.layer_input(layer)),
            (w_scale**2, u_scale**2),
            b_scale**2,
            layout.tied,
        )
    return theta


def layer_tangent_kernel(
    row_deltas: np.ndarray,
    column_deltas: np.ndarray,
    row_inputs: tuple[np.ndarray, ...],
    column_inputs: tuple[np.ndarray, ...],
    input_weights: tuple[float, ...],
    bias_weight: float,
    tied: bool,
) -> np.ndarray:
    r"""One layer's contribution to the tangent kernel.

    See ``docs/math.md#the-empirical-ntk-of-a-finite-network``.

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
