"""rntk: the Recurrent Neural Tangent Kernel, exactly, in NumPy.

The public surface is small: :func:`kernel` and :class:`RNTK` for the
infinite-width kernels, :class:`RNN` for the finite network they are the limit
of, :func:`sensitivity` for the kernel's gradient in the inputs, and
:func:`load_ucr` for data. Three modules are public as a whole:
:mod:`rntk.baselines` (RBF, polynomial and MLP-NTK kernels), :mod:`rntk.predict`
(kernel ridge regression, gradient-flow predictions) and :mod:`rntk.datasets`
(UCR/UEA parsers). The machinery lives in :mod:`rntk.sequences` (inputs),
:mod:`rntk.activations` (dual activations), :mod:`rntk.recursion` (the limit
recursion), :mod:`rntk.scheduling` (blocks, executors) and :mod:`rntk.network`.
"""

from . import baselines, datasets, predict
from .activations import DualActivation, Erf, Hermite, ReLU, register_activation
from .datasets import available_ucr, load_ucr
from .kernel import RNTK, kernel
from .network import RNN
from .options import KernelPair
from .recursion import KernelOverflowError, KernelUnderflowError
from .sensitivity import sensitivity

__all__ = [
    "RNN",
    "RNTK",
    "DualActivation",
    "Erf",
    "Hermite",
    "KernelOverflowError",
    "KernelPair",
    "KernelUnderflowError",
    "ReLU",
    "available_ucr",
    "baselines",
    "datasets",
    "kernel",
    "load_ucr",
    "predict",
    "register_activation",
    "sensitivity",
]
__version__ = "0.1.0"
