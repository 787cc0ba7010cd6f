"""rntk: the Recurrent Neural Tangent Kernel, exactly, in NumPy.

The public surface is small: :func:`kernel` and :class:`RNTK` for the
infinite-width kernels, :class:`RNN` for the finite network they are the limit
of, :func:`sensitivity` for the kernel's gradient in the inputs,
:class:`Nystroem` for features of data sets too large for a Gram matrix,
:func:`register_activation` for activations of your own, and :func:`load_ucr`
for data. Four modules are public as a whole: :mod:`rntk.baselines` (RBF,
polynomial and MLP-NTK kernels), :mod:`rntk.predict` (kernel ridge regression,
gradient-flow predictions), :mod:`rntk.datasets` (UCR/UEA parsers) and
:mod:`rntk.nystroem`. With scikit-learn installed (the ``sklearn`` extra),
:mod:`rntk.sklearn` holds estimators (``RNTKClassifier``, ``RNTKRegressor``,
``RNTKClassifierCV``, ``KernelClassifierCV``, ``RNTKFeatures``); it is not
imported here, as scikit-learn is optional. The machinery lives in
:mod:`rntk.sequences` (inputs), :mod:`rntk.activations` (dual activations),
:mod:`rntk.recursion` (the limit recursion), :mod:`rntk.prepared` (sequences
prepared once for many kernel calls, :class:`PreparedSequences`), :mod:`rntk.heads` (read-outs),
:mod:`rntk.scheduling` (blocks, executors), :mod:`rntk.checkpoint` (resumable
files) and the finite network's :mod:`rntk.network`, :mod:`rntk.network_passes`
and :mod:`rntk.network_kernels`. The mathematics is in ``docs/math.md``.
"""

from . import baselines, datasets, nystroem, predict
from ._kernel import RNTK, kernel
from ._sensitivity import sensitivity
from .activations import DualActivation, Erf, Hermite, ReLU, register_activation
from .datasets import available_ucr, load_ucr
from .errors import KernelOverflowError, KernelUnderflowError
from .network import RNN
from .nystroem import Nystroem
from .options import KernelPair
from .prepared import PreparedSequences

__all__ = [
    "RNN",
    "RNTK",
    "DualActivation",
    "Erf",
    "Hermite",
    "KernelOverflowError",
    "KernelPair",
    "KernelUnderflowError",
    "Nystroem",
    "PreparedSequences",
    "ReLU",
    "available_ucr",
    "baselines",
    "datasets",
    "kernel",
    "load_ucr",
    "nystroem",
    "predict",
    "register_activation",
    "sensitivity",
]
__version__ = "0.1.0"
