"""Fault injection for HIL runs: drop, delay and jitter messages like a bad link would.

Used by the sim bridge on the sensor messages it publishes. Delivery stays in order (a jittered
message never overtakes an earlier one), as on one DDS writer-reader pair, so the vehicle sees
late and missing frames, not reordered ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import heapq
import itertools
from typing import Any, Generic, TypeVar

from lnn_control.control.limits import check_range
import numpy as np

T = TypeVar('T')


@dataclass(frozen=True)
class FaultConfig:
    """Link faults.

    Attributes:
        drop_rate: Fraction of messages dropped, 0..1.
        delay_s: Constant added delay, s.
        jitter_s: Extra delay drawn uniformly from [0, jitter_s] per message, s.
    """

    drop_rate: float = 0.0
    delay_s: float = 0.0
    jitter_s: float = 0.0

    def __post_init__(self) -> None:
        check_range('FaultConfig', 'drop_rate', self.drop_rate, 0.0, 1.0)
        check_range('FaultConfig', 'delay_s', self.delay_s, 0.0, 10.0)
        check_range('FaultConfig', 'jitter_s', self.jitter_s, 0.0, 10.0)

    @property
    def delays(self) -> bool:
        """True when messages must be held back (needs a release timer)."""
        return self.delay_s > 0 or self.jitter_s > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FaultConfig:
        return cls(**d)


class FaultInjector(Generic[T]):
    """Queue of messages with release times.

    Args:
        config: The faults.
        rng: Generator for drops and jitter (seeded by the caller for repeatable runs).
    """

    def __init__(self, config: FaultConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self._queue: list[tuple[float, int, T]] = []
        self._order = itertools.count()
        self._last_release = -np.inf
        self.dropped = 0
        self.passed = 0

    def submit(self, item: T, now: float) -> None:
        """Offer ``item`` at time ``now``; it is dropped, or released at ``now + delay``."""
        cfg = self.config
        if cfg.drop_rate > 0 and self.rng.random() < cfg.drop_rate:
            self.dropped += 1
            return
        release = now + cfg.delay_s + (self.rng.uniform(0.0, cfg.jitter_s) if cfg.jitter_s else 0)
        release = max(release, self._last_release)
        self._last_release = release
        heapq.heappush(self._queue, (release, next(self._order), item))

    def release(self, now: float) -> list[T]:
        """Items due at ``now``, oldest first."""
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        self.passed += len(out)
        return out
