"""rntk: the Recurrent Neural Tangent Kernel, exactly, in NumPy.

The public surface is small: :func:`kernel` and :class:`RNTK` for the
infinite-width kernels; the modules hold the machinery (:mod:`rntk.sequences`
for inputs, :mod:`rntk.activations` for dual activations, :mod:`rntk.recursion`
for the limit recursion, :mod:`rntk.scheduling` for blocks).
"""

from .activations import DualActivation, Erf, ReLU
from .kernel import RNTK, KernelPair, kernel
from .network import RNN
from .recursion import KernelOverflowError
from .sensitivity import sensitivity

__all__ = [
    "RNN",
    "RNTK",
    "DualActivation",
    "Erf",
    "KernelOverflowError",
    "KernelPair",
    "ReLU",
    "kernel",
    "sensitivity",
]
__version__ = "0.1.0"
