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
    """A bounded window of float samples with percentiles (the newest ``maxlen`` are kept)."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._values: deque[float] = deque(maxlen=maxlen)

    def add(self, value: float) -> None:
        if math.isfinite(value):
            self._values.append(float(value))

    def __len__(self) -> int:
        return len(self._values)

    def percentile(self, q: float) -> float:
        """Return the ``q``-th percentile, q from 0 to 100 (NaN when empty)."""
        if not self._values:
            return math.nan
        return float(np.percentile(np.fromiter(self._values, float), q))

    def mean(self) -> float:
        return float(np.mean(np.fromiter(self._values, float))) if self._values else math.nan


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
        ms = 1e3
        return LoopSummary(
            ticks=self.ticks, rate_hz=self.rate(),
            period_p50_ms=self.periods.percentile(50) * ms,
            period_p99_ms=self.periods.percentile(99) * ms,
            jitter_p50_ms=self.jitter.percentile(50) * ms,
            jitter_p99_ms=self.jitter.percentile(99) * ms,
            latency_p50_ms=self.latency.percentile(50) * ms,
            latency_p99_ms=self.latency.percentile(99) * ms,
            inference_p50_ms=self.inference.percentile(50) * ms,
            inference_p99_ms=self.inference.percentile(99) * ms,
            missed_ticks=self.missed_ticks, deadline_misses=self.deadline_misses)


class PhaseLock:
    """Places a fixed-rate tick at camera frame arrivals, to cut image->command latency.

    A free-running camera and a free-running timer at the same rate meet at a random phase: the
    frame the policy uses is on average half a period old. The lock estimates the frames'
    arrival phase (circular mean over recent frames) and tells the caller how long to wait
    before restarting its timer so that ticks start ``offset`` seconds after the frames (a
    negative offset starts them just before, to absorb the executor's wake-up latency; the tick
    then waits for its frame, see ``frame_overdue``). The rate is unchanged; only the tick at
    which the phase is corrected is stretched.

    Args:
        period: Tick period (s); frames are expected at the same rate.
        offset: Wanted tick start relative to frame arrival (s), within +-period/2.
        frames: How many recent arrivals the phase is estimated from.
        early_tolerance: How long (s) before its frame a tick may start and stay (it can wait
            that long for the frame: give the node's frame wait).
        late_tolerance: How long (s) after its frame a tick may start and stay; default a
            quarter period (a busy executor starts timers a few ms late; moving the timer
            cannot fix that).
    """

    def __init__(self, period: float, offset: float, *, frames: int = 20,
                 early_tolerance: float = 0.0, late_tolerance: float | None = None) -> None:
        if not (0 < period and abs(offset) < period / 2):
            raise ValueError(f'PhaseLock: expected |offset| < period/2, got offset={offset!r}, '
                             f'period={period!r}')
        self.period = period
        self.offset = offset
        self.early_tolerance = max(early_tolerance, -offset)
        self.late_tolerance = period / 4 if late_tolerance is None else late_tolerance
        self._arrivals: deque[float] = deque(maxlen=frames)
        self._hold = 0
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
            t_tick: When this tick started (its phase is what is judged).
            now: The current time (the tick's work has taken ``now - t_tick``).

        Returns 0 until enough frames have been seen, or when frames and ticks differ in rate
        (the arrival phases then do not agree).
        """
        if len(self._arrivals) < self._arrivals.maxlen or self._hold > 0:
            self._hold -= 1
            return 0.0
        angles = 2 * math.pi * (np.fromiter(self._arrivals, float) % self.period) / self.period
        mean = np.mean(np.exp(1j * angles))
        if abs(mean) < 0.7:  # arrivals do not share one phase
            return 0.0
        arrival = (np.angle(mean) / (2 * math.pi)) * self.period
        after = (t_tick - arrival + self.period / 2) % self.period - self.period / 2
        if -self.early_tolerance <= after <= self.late_tolerance:
            return 0.0
        self.corrections += 1
        self._hold = self._arrivals.maxlen  # judge the new phase on fresh evidence
        return float((arrival + self.offset - now) % self.period)
