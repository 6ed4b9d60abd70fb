"""Rate, jitter, latency and deadline statistics of a fixed-rate control loop.

One ``LoopStats`` per loop. The node calls ``tick(t)`` at the start of every control tick and
``done(...)`` once the command is published; diagnostics, the HIL report and the bench read
``summary()``. Times are seconds from a monotonic clock.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

import numpy as np


class Samples:
    """A bounded window of float samples with percentiles (the newest ``maxlen`` are kept).

    A preallocated ring buffer: adding is O(1) and a percentile reads the buffer in place, so
    the node's once-a-second diagnostics cost well under a millisecond even over a full window.
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        self._buffer = np.empty(maxlen)
        self._count = 0
        self._next = 0

    def add(self, value: float) -> None:
        if math.isfinite(value):
            self._buffer[self._next] = value
            self._next = (self._next + 1) % len(self._buffer)
            self._count = min(self._count + 1, len(self._buffer))

    def __len__(self) -> int:
        return self._count

    def percentile(self, q: float) -> float:
        """Return the ``q``-th percentile, q from 0 to 100 (NaN when empty)."""
        return self.percentiles(q)[0]

    def percentiles(self, *qs: float) -> list[float]:
        """Return several percentiles, interpolated as ``np.percentile`` does, in one pass.

        ``np.percentile`` costs ~0.7 ms per call on 20 000 samples; one ``np.partition`` at all
        the ranks needed costs a fifth of that.
        """
        if not self._count:
            return [math.nan] * len(qs)
        positions = [q / 100.0 * (self._count - 1) for q in qs]
        ranks = sorted({r for p in positions for r in (math.floor(p), math.ceil(p))})
        ordered = np.partition(self._buffer[:self._count], ranks)
        return [float(ordered[math.floor(p)] + (ordered[math.ceil(p)] - ordered[math.floor(p)])
                      * (p - math.floor(p))) for p in positions]

    def mean(self) -> float:
        return float(np.mean(self._buffer[:self._count])) if self._count else math.nan


@dataclass(frozen=True)
class LoopSummary:
    """Figures of a control loop over the window; times in milliseconds, rate in Hz."""

    ticks: int
    rate_hz: float
    period_p50_ms: float
    period_p99_ms: float
    jitter_p50_ms: float
    jitter_p99_ms: float
    latency_p50_ms: float
    latency_p99_ms: float
    inference_p50_ms: float
    inference_p99_ms: float
    missed_ticks: int
    deadline_misses: int

    def format(self) -> str:  # noqa: A003 (the dataclass's own formatter, like str.format)
        """Return the figures as one human-readable line."""
        return (f'rate {self.rate_hz:.2f} Hz | jitter p50/p99 {self.jitter_p50_ms:.2f}/'
                f'{self.jitter_p99_ms:.2f} ms | latency p50/p99 {self.latency_p50_ms:.2f}/'
                f'{self.latency_p99_ms:.2f} ms | inference p50/p99 {self.inference_p50_ms:.2f}/'
                f'{self.inference_p99_ms:.2f} ms | missed ticks {self.missed_ticks} | '
                f'deadline misses {self.deadline_misses}')


class LoopStats:
    """Accumulates tick periods, jitter, image->command latency and inference time.

    Args:
        rate_hz: The configured loop rate.
        window: How many recent samples percentiles are taken over.

    A tick that comes more than 1.5 periods after the previous one counts the skipped ticks as
    *missed*; a tick whose work (start to publish) takes longer than one period is a *deadline
    miss*.
    """

    def __init__(self, rate_hz: float, window: int = 100_000) -> None:
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f'LoopStats: rate_hz must be positive, got {rate_hz!r}')
        self.period = 1.0 / rate_hz
        self.periods = Samples(window)
        self.jitter = Samples(window)
        self.latency = Samples(window)
        self.inference = Samples(window)
        self._tick_times: deque[float] = deque(maxlen=window)
        self._last_tick: float | None = None
        self._tick_start = math.nan
        self.ticks = 0
        self.missed_ticks = 0
        self.deadline_misses = 0

    def tick(self, t: float) -> float:
        """Mark the start of a tick at ``t``; return the measured elapsed time since the last."""
        elapsed = math.nan if self._last_tick is None else t - self._last_tick
        if math.isfinite(elapsed):
            self.periods.add(elapsed)
            self.jitter.add(abs(elapsed - self.period))
            self.missed_ticks += max(0, round(elapsed / self.period) - 1)
        self._last_tick = t
        self._tick_start = t
        self._tick_times.append(t)
        self.ticks += 1
        return elapsed

    def done(self, t: float, *, inference_s: float = math.nan,
             latency_s: float = math.nan) -> None:
        """Mark the command published at ``t``, with the tick's inference time and latency."""
        if t - self._tick_start > self.period:
            self.deadline_misses += 1
        self.inference.add(inference_s)
        self.latency.add(latency_s)

    def rate(self) -> float:
        """Achieved rate over the window, in Hz (NaN before two ticks)."""
        if len(self._tick_times) < 2:
            return math.nan
        span = self._tick_times[-1] - self._tick_times[0]
        return (len(self._tick_times) - 1) / span if span > 0 else math.nan

    def summary(self) -> LoopSummary:
        figures = {}
        for name in ('period', 'jitter', 'latency', 'inference'):
            p50, p99 = getattr(self, 'periods' if name == 'period' else name).percentiles(50, 99)
            figures[f'{name}_p50_ms'], figures[f'{name}_p99_ms'] = p50 * 1e3, p99 * 1e3
        return LoopSummary(ticks=self.ticks, rate_hz=self.rate(), **figures,
                           missed_ticks=self.missed_ticks, deadline_misses=self.deadline_misses)


class PhaseLock:
    """Places a fixed-rate tick at camera frame arrivals, to cut image->command latency.

    A free-running camera and a free-running timer at the same rate meet at a random phase: the
    frame the policy uses is on average half a period old. The lock estimates the frames'
    arrival phase and the ticks' start phase (circular means over recent ones, so that single
    late frames or late executor wake-ups do not count) and tells the caller how long to wait
    before restarting its timer so that ticks start ``offset`` seconds after the frames (a
    negative offset starts them just before, to absorb the executor's wake-up latency; the tick
    then waits for its frame, see ``frame_overdue``). The rate is unchanged; only the tick at
    which the phase is corrected is stretched.

    A tick that starts after its frame adds that lateness to every command's latency, so the
    late side is held tight (camera and timer drift apart slowly and are caught early); a tick
    that starts before its frame costs nothing but a wait, so the early side allows the frame
    wait.

    Args:
        period: Tick period (s); frames are expected at the same rate.
        offset: Wanted tick start relative to frame arrival (s), within +-period/2.
        frames: How many recent arrivals (and tick starts) the phases are estimated from.
        early_tolerance: How long (s) before its frame a tick may start and stay (it can wait
            that long for the frame: give the node's frame wait).
        late_tolerance: How long (s) after their frames (or after ``offset``, if positive) the
            ticks may start, on average, and stay.
    """

    def __init__(self, period: float, offset: float, *, frames: int = 20,
                 early_tolerance: float = 0.0, late_tolerance: float = 0.001) -> None:
        if not (0 < period and abs(offset) < period / 2):
            raise ValueError(f'PhaseLock: expected |offset| < period/2, got offset={offset!r}, '
                             f'period={period!r}')
        self.period = period
        self.offset = offset
        self.early_tolerance = max(early_tolerance, -offset)
        self.late_tolerance = max(offset, 0.0) + late_tolerance
        self._arrivals: deque[float] = deque(maxlen=frames)
        self._ticks: deque[float] = deque(maxlen=frames)
        self.corrections = 0

    def on_frame(self, t: float) -> None:
        """Record a frame's arrival time (monotonic seconds)."""
        self._arrivals.append(t)

    def frame_overdue(self, now: float) -> bool:
        """Tell whether this period's frame is still due (the last is > half a period old).

        A phase-locked tick that finds its frame not yet there may wait a moment for it rather
        than act on the previous one, a full period older.
        """
        return bool(self._arrivals) and now - self._arrivals[-1] > self.period / 2

    def delay(self, t_tick: float, now: float) -> float:
        """Seconds to wait, from ``now``, before restarting the timer; 0 if in phase.

        Args:
            t_tick: When this tick started (its phase is what is judged, with the ones before).
            now: The current time (the tick's work has taken ``now - t_tick``).

        Returns 0 until enough frames and ticks have been seen since the last correction, or
        when frames and ticks differ in rate (the phases then do not agree).
        """
        self._ticks.append(t_tick)
        if len(self._arrivals) < self._arrivals.maxlen or len(self._ticks) < self._ticks.maxlen:
            return 0.0
        arrival, tick = self._phase(self._arrivals), self._phase(self._ticks)
        if arrival is None or tick is None:
            return 0.0
        after = (tick - arrival + self.period / 2) % self.period - self.period / 2
        if -self.early_tolerance <= after <= self.late_tolerance:
            return 0.0
        self.corrections += 1
        self._ticks.clear()  # judge the new phase on fresh ticks
        return float((arrival + self.offset - now) % self.period)

    def _phase(self, times: deque[float]) -> float | None:
        """Circular mean of ``times`` modulo the period, or None if they share no phase."""
        angles = 2 * math.pi * (np.fromiter(times, float) % self.period) / self.period
        mean = np.mean(np.exp(1j * angles))
        if abs(mean) < 0.7:
            return None
        return float(np.angle(mean) / (2 * math.pi) * self.period)
