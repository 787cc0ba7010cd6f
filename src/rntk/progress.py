"""A small progress bar on stderr for long computations (no dependencies)."""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Report work done, elapsed time and an estimate of the time left.

    ``total`` is in any unit of work (blocks weighted by their cost, steps, ...);
    :meth:`advance` adds to the work done. The line appears once the work has
    taken ``delay`` seconds (short runs stay quiet), is redrawn in place at most
    ``refresh`` times per second, and is finished with a newline by
    :meth:`close`. A disabled bar does nothing, so callers need no conditionals.

    Examples
    --------
    >>> bar = ProgressBar(10, "demo", enabled=False)
    >>> for _ in range(10):
    ...     bar.advance(1)
    >>> bar.close()
    """

    def __init__(
        self,
        total: float,
        label: str,
        enabled: bool = True,
        stream=None,
        refresh: float = 4.0,
        delay: float = 1.0,
    ):
        self.total = float(total) if total > 0 else 1.0
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = 1.0 / refresh
        self.delay = delay
        self.done = 0.0
        self.start = time.perf_counter()
        self.last_drawn = -float("inf")

    def advance(self, amount: float, note: str = "") -> None:
        self.done += amount
        now = time.perf_counter()
        if (
            self.enabled
            and now - self.start >= self.delay
            and now - self.last_drawn >= self.interval
        ):
            self._draw(now, note)

    def _draw(self, now: float, note: str) -> None:
        self.last_drawn = now
        fraction = min(self.done / self.total, 1.0)
        elapsed = now - self.start
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        width = 24
        filled = int(round(width * fraction))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {100 * fraction:5.1f}%  {elapsed:6.1f} s elapsed, "
            f"~{left:6.1f} s left {note}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.last_drawn > -float("inf"):
            self._draw(time.perf_counter(), "")
            self.stream.write("\n")
            self.stream.flush()
