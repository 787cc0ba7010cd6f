"""A small progress bar on stderr for long computations (no dependencies)."""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Report work done, elapsed time and an estimate of the time left.

    ``total`` is in any unit of work (blocks weighted by their cost, networks,
    ...); :meth:`advance` adds to the work done. Nothing is shown until the work
    has taken ``delay`` seconds, so short runs stay quiet. On a terminal the
    line is redrawn in place at most ``refresh`` times per second; elsewhere
    (logs, CI) a full line is printed at most every ``log_interval`` seconds.
    :meth:`close` prints the final state. A disabled bar does nothing, so
    callers need no conditionals.

    Examples
    --------
    >>> bar = ProgressBar(10, "demo", enabled=False)
    >>> for _ in range(10):
    ...     bar.advance()
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
        log_interval: float = 10.0,
    ):
        self.total = float(total) if total > 0 else 1.0
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.in_place = bool(isatty and isatty())
        self.interval = 1.0 / refresh if self.in_place else log_interval
        self.delay = delay
        self.done = 0.0
        self.start = time.perf_counter()
        self.last_drawn = -float("inf")

    def advance(self, amount: float = 1.0, note: str = "") -> None:
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
        left = f"~{elapsed * (1 - fraction) / fraction:.1f} s left" if fraction > 0 else ""
        filled = round(24 * fraction)
        line = (
            f"{self.label} [{'#' * filled}{'-' * (24 - filled)}] {100 * fraction:5.1f}% "
            f"{elapsed:.1f} s elapsed {left} {note}".rstrip()
        )
        self.stream.write(f"\r{line:<100}" if self.in_place else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.last_drawn > -float("inf"):
            self._draw(time.perf_counter(), "done")
            if self.in_place:
                self.stream.write("\n")
                self.stream.flush()
