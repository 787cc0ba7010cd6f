"""Options shared by every kernel function, validated in one place.

Which kernels to return (``get``) and how they come back (:class:`KernelPair`,
in the order the caller asked for), and the checks of flags and counts that
every public function applies to its keyword arguments. A message always names
the argument and what was received.
"""

from __future__ import annotations

import numbers
from operator import itemgetter

import numpy as np

__all__ = [
    "KERNEL_NAMES",
    "KernelPair",
    "check_flag",
    "check_positive_integer",
    "check_real",
    "kernel_result",
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


def check_positive_integer(value, name: str) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (not a bool, not a float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_real(value, name: str) -> float:
    """``value`` as a float if it is a real number (not a bool, a string or an array)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)
