"""Options shared by every kernel function, validated in one place.

Which kernels to return (``get``) and how they come back (:class:`KernelPair`,
in the order the caller asked for), the checks of flags, counts, numbers,
arrays and keyword names that every public function applies to its arguments,
and how a Gram matrix is computed and delivered (:class:`GramOptions`, with
:func:`inverse_root`, the factor of its ``normalize``). A message always names
the argument and what was received.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, fields
from operator import itemgetter

import numpy as np

__all__ = [
    "DEFAULT_BLOCK_SHAPE",
    "KERNEL_NAMES",
    "GramOptions",
    "KernelPair",
    "check_choice",
    "check_flag",
    "check_instance",
    "check_keywords",
    "check_non_negative",
    "check_positive",
    "check_positive_integer",
    "check_real",
    "check_real_array",
    "close_match_hint",
    "inverse_root",
    "is_integer",
    "is_positive_integer",
    "kernel_result",
    "keywords_of",
    "parse_get",
]

KERNEL_NAMES = ("nngp", "ntk")


class KernelPair(tuple):
    """The NNGP and the NTK of one computation, in the order ``get`` asked for.

    A tuple of two arrays with the attributes ``nngp`` and ``ntk``:
    ``nngp, ntk = rntk.kernel(X, get=("nngp", "ntk"))`` and
    ``ntk, nngp = rntk.kernel(X, get=("ntk", "nngp"))`` both unpack as written.
    ``_fields`` gives the order.
    """

    __slots__ = ()
    _fields = ("nngp", "ntk")
    nngp = property(itemgetter(0), doc="The NNGP (conjugate kernel) Gram matrix or diagonal.")
    ntk = property(itemgetter(1), doc="The neural tangent kernel Gram matrix or diagonal.")

    def __new__(cls, nngp, ntk):
        return super().__new__(cls, (nngp, ntk))

    def __repr__(self) -> str:
        return f"KernelPair({self._fields[0]}={self[0]!r}, {self._fields[1]}={self[1]!r})"

    def __getnewargs__(self):  # pickling
        return (self.nngp, self.ntk)

    def _asdict(self) -> dict:
        """``{name: array}`` in the order of ``_fields``, as for a named tuple."""
        return dict(zip(self._fields, self, strict=True))

    @classmethod
    def from_values(cls, values: dict, order: tuple[str, str]) -> KernelPair:
        """The pair of ``values[name]`` in ``order``."""
        pair_type = cls if tuple(order) == cls._fields else _TangentFirstPair
        return pair_type(values["nngp"], values["ntk"])


class _TangentFirstPair(KernelPair):
    """A :class:`KernelPair` asked for as ``("ntk", "nngp")``."""

    __slots__ = ()
    _fields = ("ntk", "nngp")
    nngp = property(itemgetter(1), doc=KernelPair.nngp.__doc__)
    ntk = property(itemgetter(0), doc=KernelPair.ntk.__doc__)

    def __new__(cls, nngp, ntk):
        return tuple.__new__(cls, (ntk, nngp))


def parse_get(get) -> tuple[str, ...]:
    """``get`` as a tuple of kernel names in the caller's order: one name or both."""
    if isinstance(get, str):
        if get in KERNEL_NAMES:
            return (get,)
    elif isinstance(get, (tuple, list)):
        if all(isinstance(name, str) for name in get) and sorted(get) == sorted(KERNEL_NAMES):
            return tuple(get)
        bad = [name for name in get if not (isinstance(name, str) and name in KERNEL_NAMES)]
        problem = f"{bad[0]!r} is not a kernel name" if bad else "each name must appear once"
        raise ValueError(
            f"get must be 'ntk', 'nngp', ('nngp', 'ntk') or ('ntk', 'nngp'); got {get!r}: {problem}"
        )
    raise ValueError(f"get must be 'ntk', 'nngp', ('nngp', 'ntk') or ('ntk', 'nngp'), got {get!r}")


def kernel_result(values: dict, names: tuple[str, ...]):
    """One array for one name, else a :class:`KernelPair` in the order of ``names``."""
    if len(names) == 1:
        return values[names[0]]
    return KernelPair.from_values(values, names)


def check_flag(value, name: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (NumPy booleans too), else a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_instance(value, name: str, kind: type):
    """``value`` if it is an instance of ``kind``, else a TypeError naming the class."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__module__}.{kind.__qualname__}, got {value!r}")
    return value


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of the strings ``choices``, else a ValueError listing them."""
    if not (isinstance(value, str) and value in choices):
        names = [repr(choice) for choice in choices]
        allowed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def is_integer(value) -> bool:
    """Whether ``value`` is an integer: Python's or NumPy's, not a bool, not a float."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_positive_integer(value) -> bool:
    """Whether ``value`` is an integer >= 1 (not a bool, not a float)."""
    return is_integer(value) and value >= 1


def check_positive_integer(value, name: str, *, allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` if it is an integer >= 1 (not a bool, not a float).

    With ``allow_none``, ``None`` is accepted and returned as it is.
    """
    if value is None and allow_none:
        return None
    if not is_integer(value):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_real(value, name: str) -> float:
    """``value`` as a float if it is a real number (not a bool, a string or an array)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_non_negative(value, name: str) -> float:
    """``value`` as a float if it is a finite real number >= 0."""
    value = check_real(value, name)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be non-negative and finite, got {value!r}")
    return value


def check_positive(value, name: str) -> float:
    """``value`` as a float if it is a finite real number > 0."""
    value = check_real(value, name)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def check_real_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array if it holds real numbers (booleans count as 0 and 1).

    Strings, objects and complex numbers raise a TypeError; the values
    themselves (NaN, inf, the shape) are for the caller to check.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def keywords_of(source: Callable) -> Callable:
    """Show ``source``'s named parameters in place of the decorated function's ``**parameters``.

    For a function that passes its ``**parameters`` on to ``source``: its
    signature (what ``help()`` and ``inspect.signature`` show) lists them, as
    keyword-only parameters with their defaults and annotations, after its own
    positional parameters and before its own keyword-only ones. The function
    itself is returned unchanged; :func:`check_keywords` refuses other names.
    """
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    passed_on = [
        parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for parameter in inspect.signature(source).parameters.values()
        if parameter.kind in kinds
    ]

    def decorate(function: Callable) -> Callable:
        own = inspect.signature(function)
        positional = [p for p in own.parameters.values() if p.kind in kinds[:1]]
        keyword_only = [p for p in own.parameters.values() if p.kind == kinds[1]]
        function.__signature__ = own.replace(parameters=positional + passed_on + keyword_only)
        return function

    return decorate


def close_match_hint(name: str, names) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``names`` to a mistyped ``name``, or ``""``."""
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def _parameter_names(function: Callable) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def check_keywords(parameters: dict, function: Callable) -> None:
    """A TypeError for any name in ``parameters`` that ``function``'s signature does not list.

    The message names the unknown parameter, a close match if there is one,
    and every parameter ``function`` accepts.
    """
    accepted = _parameter_names(function)
    for name in parameters:
        if name not in accepted:
            raise TypeError(
                f"unknown parameter {name!r}{close_match_hint(name, accepted)}; "
                f"{function.__name__} accepts "
                f"{', '.join(accepted)}"
            )


#: Default block shape: at most rows x columns of pairs advanced together. Large enough
#: that NumPy's per-call overhead is amortised and two threads rarely wait for
#: the GIL (64 x 512 blocks gained nothing from a second thread), small enough
#: that a worker's arrays stay modest: its peak is 25 MB at depth 1 and 42 MB at
#: depth 3 in float64 (``rntk.RNTK.block_memory``).
#: Chosen by timing n = 2000, T = 100 with 1 and 2 threads (bench_kernel.py).
DEFAULT_BLOCK_SHAPE = (256, 1024)


def _check_block_shape(block_size) -> tuple[int, int]:
    shape = (block_size, block_size) if np.ndim(block_size) == 0 else tuple(block_size)
    if len(shape) != 2 or not all(is_positive_integer(size) for size in shape):
        raise ValueError(
            f"block_size must be a positive integer or a pair (rows, columns), got {block_size!r}"
        )
    return int(shape[0]), int(shape[1])


def _check_executor(executor) -> Executor | None:
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor (with .submit), got {executor!r}"
        )
    return executor


def _check_dtype(dtype) -> np.dtype:
    try:
        resolved = np.dtype(dtype)  # as in NumPy, None means float64
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in ("float64", "float32"):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    return resolved


#: How each field of :class:`GramOptions` is validated.
_OPTION_CHECKS = {
    "normalize": lambda value: check_flag(value, "normalize"),
    "block_shape": _check_block_shape,
    "n_jobs": lambda value: check_positive_integer(value, "n_jobs", allow_none=True),
    "executor": _check_executor,
    "progress": lambda value: check_flag(value, "progress"),
    "dtype": _check_dtype,
}


@dataclass(frozen=True)
class GramOptions:
    """How a Gram matrix is computed and delivered: one validated object, passed down whole.

    ``normalize`` and ``dtype`` shape the values; ``block_shape`` only groups
    the pairs (a computation into a file records it, to resume block by block);
    ``n_jobs``, ``executor`` and ``progress`` only say where the blocks run and
    whether that shows, and may change between runs of a resumable computation
    (``executor`` and ``n_jobs`` may cut a Gram matrix of few blocks into others,
    see :func:`rntk.scheduling.plan_gram`, never changing a value).
    Every field is validated on construction, also by :func:`dataclasses.replace`;
    the messages name the arguments of :class:`rntk.RNTK` (``block_size`` for
    ``block_shape``), where they are documented.

    Attributes
    ----------
    normalize : bool
        Multiply every value by ``1 / sqrt(K(x, x) K(x', x'))`` as it is written.
    block_shape : (int, int)
        Rows and columns of pairs advanced together, at most (the largest
        block, so the memory per worker); an integer means a square.
    n_jobs : int or None
        Worker threads, or the executor's workers; None: every core.
    executor : concurrent.futures.Executor or None
        Where to run the blocks; None: a private thread pool (or inline).
    progress : bool
        Show a progress bar on stderr.
    dtype : numpy.dtype
        float64 or float32, for the pairwise recursion and the output.
    """

    normalize: bool = False
    block_shape: tuple[int, int] = DEFAULT_BLOCK_SHAPE
    n_jobs: int | None = None
    executor: Executor | None = None
    progress: bool = False
    dtype: np.dtype = np.dtype(np.float64)

    def __post_init__(self):
        for field in fields(self):
            value = _OPTION_CHECKS[field.name](getattr(self, field.name))
            object.__setattr__(self, field.name, value)


def inverse_root(diagonal: np.ndarray) -> np.ndarray:
    """``1 / sqrt(K(x, x))`` per sequence, 0 where the self-kernel is 0 (for ``normalize``)."""
    with np.errstate(divide="ignore"):
        return np.where(diagonal > 0, 1.0 / np.sqrt(diagonal), 0.0)
