"""The errors the kernels raise when a value leaves the range of its floating-point type.

The bottom of the package: it imports nothing from rntk, so that any module
(the recursion, the baseline kernels, the estimators) can raise or catch these
without importing the machinery of another. Both are public as
:class:`rntk.KernelOverflowError` and :class:`rntk.KernelUnderflowError`.
"""

from __future__ import annotations

__all__ = ["KernelOverflowError", "KernelUnderflowError"]


class KernelOverflowError(FloatingPointError):
    """The kernel left the range of its floating-point type (sigma_w too large for the length)."""


class KernelUnderflowError(FloatingPointError):
    """The kernel fell below the range where its floating-point type keeps full precision.

    Raised for inputs so small (around ``1e-146`` and below in float64 with
    ``sigma_b = sigma_h = 0``) that a sequence's kernel with itself is zero or
    within a factor ``1 / eps`` of the smallest normal number, where products
    and differences of kernel values lose digits to gradual underflow.
    """
