"""Timing shared by the benchmark scripts: medians, because the machine may be shared."""

from __future__ import annotations

import statistics
import time


def median_time(function, repeat: int) -> float:
    """Median wall-clock seconds of ``repeat`` calls of ``function()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
