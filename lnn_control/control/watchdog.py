"""Stale-input watchdog: decides at every tick whether the policy may drive.

Each input (camera, IMU) has a timeout. The watchdog compares the arrival time of the latest
sample with the tick's time, both read from the node's clock (never a message stamp, which comes
from the sender's clock); when any input is older than its timeout it *trips* and the vehicle
gets its safe command. When all inputs are fresh again it *recovers*, and the caller resets the
policy's hidden state, since the state integrated over the gap no longer matches the world.

A sample that arrived *after* the tick's time means the node's clock jumped back (a simulator
restart under ``/clock``): its age is unknown, so the input counts as stale until a new sample
arrives. Were it counted fresh, a camera that stalled right then would keep the vehicle driving
until the clock caught up with the old arrival time, not one timeout later.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import enum
import math


class Transition(enum.Enum):
    """What changed at this tick."""

    NONE = 'none'
    TRIPPED = 'tripped'
    RECOVERED = 'recovered'


@dataclass(frozen=True)
class WatchdogStatus:
    """Result of one check: ``ok`` when no input is stale; ``stale`` names the stale ones."""

    ok: bool
    stale: tuple[str, ...]
    transition: Transition


class Watchdog:
    """Tracks the last arrival time per input and trips when one is older than its timeout.

    Args:
        timeouts: Input name -> timeout in seconds (positive, finite).
    """

    def __init__(self, timeouts: Mapping[str, float]) -> None:
        for name, value in timeouts.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f'Watchdog: timeout for {name!r} must be a positive number of '
                                 f'seconds, got {value!r}')
        if not timeouts:
            raise ValueError('Watchdog: expected at least one input, got none')
        self.timeouts = dict(timeouts)
        self._last: dict[str, float | None] = dict.fromkeys(self.timeouts)
        self._tripped = True  # nothing received yet: not safe to drive
        self.trips = 0

    def feed(self, name: str, t: float) -> None:
        """Record that a valid sample of ``name`` arrived at node time ``t`` (seconds)."""
        self._known(name)
        self._last[name] = t

    def invalidate(self, name: str) -> None:
        """Forget ``name``'s last sample (it was malformed): the input is stale at once."""
        self._known(name)
        self._last[name] = None

    def age(self, name: str, now: float) -> float:
        """Seconds from the last arrival of ``name`` to node time ``now``.

        ``inf`` if none yet, or if it arrived after ``now`` (the clock jumped back: its age is
        unknown).
        """
        last = self._last[name]
        return math.inf if last is None or last > now else now - last

    def _known(self, name: str) -> None:
        if name not in self._last:
            raise KeyError(f'Watchdog: unknown input {name!r}; known: {sorted(self._last)}')

    def check(self, now: float) -> WatchdogStatus:
        """Evaluate all inputs at ``now``; report the stale ones and any state change."""
        stale = tuple(n for n, limit in self.timeouts.items() if not self.age(n, now) <= limit)
        transition = Transition.NONE
        if stale and not self._tripped:
            self._tripped = True
            self.trips += 1
            transition = Transition.TRIPPED
        elif not stale and self._tripped:
            self._tripped = False
            transition = Transition.RECOVERED
        return WatchdogStatus(ok=not stale, stale=stale, transition=transition)

    @property
    def tripped(self) -> bool:
        """True while the safe command is in force (including before the first samples)."""
        return self._tripped
