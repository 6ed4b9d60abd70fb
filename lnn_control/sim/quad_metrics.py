"""Quad task metrics: success (reached and held), time to target, crashes, RMS position error.

Pure logic over positions, so the same judge scores the simulator, a replayed rosbag or a HIL run.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
import math
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SuccessCriteria:
    """When a fly-to-target or hover episode counts as a success.

    Attributes:
        radius: Distance to the goal point that counts as "at the target", in m.
        hold_s: How long the vehicle must stay inside ``radius`` without a break, in s.
    """

    radius: float = 0.5
    hold_s: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius) and 0.05 <= self.radius <= 10.0):
            raise ValueError(f'SuccessCriteria.radius: expected metres in [0.05, 10], '
                             f'got {self.radius!r}')
        if not (math.isfinite(self.hold_s) and 0.0 <= self.hold_s <= 600.0):
            raise ValueError(f'SuccessCriteria.hold_s: expected seconds in [0, 600], '
                             f'got {self.hold_s!r}')


class QuadTaskMonitor:
    """Accumulates one episode's metrics, one control step at a time."""

    def __init__(self, criteria: SuccessCriteria | None = None) -> None:
        self.criteria = criteria or SuccessCriteria()
        self.reset()

    def reset(self) -> None:
        self.elapsed_s = 0.0
        self.hold_time_s = 0.0
        self.time_to_target_s: float | None = None
        self.success = False
        self.crashed = False
        self.distance = math.nan
        self._sq_error_sum = 0.0
        self._steps = 0

    def update(self, position: np.ndarray, goal: np.ndarray, dt: float,
               crashed: bool = False) -> None:
        """Record the state after a control step of ``dt`` s (``dt=0`` for the reset state)."""
        self.elapsed_s += dt
        self.distance = float(np.linalg.norm(np.asarray(position) - np.asarray(goal)))
        self._sq_error_sum += self.distance ** 2
        self._steps += 1
        self.crashed = self.crashed or crashed
        if self.distance <= self.criteria.radius and not self.crashed:
            if self.time_to_target_s is None:
                self.time_to_target_s = self.elapsed_s
            self.hold_time_s += dt
            if self.hold_time_s >= self.criteria.hold_s:
                self.success = True
        else:
            self.hold_time_s = 0.0

    @property
    def rms_position_error(self) -> float:
        """RMS distance to the goal over the episode so far, in m."""
        return math.sqrt(self._sq_error_sum / self._steps) if self._steps else math.nan

    def as_info(self) -> dict[str, Any]:
        """Return the per-step metric keys of the env's ``info`` (see ``QuadEpisodeSummary``)."""
        return {'distance_to_goal': self.distance, 'hold_time_s': self.hold_time_s,
                'success': self.success, 'time_to_target_s': self.time_to_target_s,
                'crashed': self.crashed, 'rms_position_error': self.rms_position_error,
                'elapsed_s': self.elapsed_s}


@dataclass(frozen=True)
class QuadEpisodeSummary:
    """One episode's result, as reported by evaluation and benchmark tables.

    Attributes:
        success: Reached the goal within the radius and held it for ``hold_s``.
        time_to_target_s: First time inside the radius in s (NaN if never; None in ``info``).
        crashed: Ground or obstacle contact, or tilt beyond the limit.
        rms_position_error: RMS distance to the goal over the episode, in m.
        duration_s: Flight time of the episode, in s.
    """

    success: bool
    time_to_target_s: float
    crashed: bool
    rms_position_error: float
    duration_s: float

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> QuadEpisodeSummary:
        """Summarise an episode from the ``info`` of its last step."""
        try:
            reached = info['time_to_target_s']
            return cls(bool(info['success']), math.nan if reached is None else float(reached),
                       bool(info['crashed']), float(info['rms_position_error']),
                       float(info['elapsed_s']))
        except KeyError as exc:
            raise ValueError(f'QuadEpisodeSummary: info lacks the metric key {exc}; '
                             'pass the info of a quad env step') from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def aggregate(summaries: list[QuadEpisodeSummary]) -> dict[str, float]:
    """Success rate, crash rate, mean time to target (successful episodes) and mean RMS error."""
    if not summaries:
        raise ValueError('aggregate: no episodes to summarise')
    times = [s.time_to_target_s for s in summaries if s.success]
    return {'episodes': float(len(summaries)),
            'success_rate': float(np.mean([s.success for s in summaries])),
            'crash_rate': float(np.mean([s.crashed for s in summaries])),
            'mean_time_to_target_s': float(np.mean(times)) if times else math.nan,
            'mean_rms_position_error': float(np.mean([s.rms_position_error
                                                      for s in summaries]))}
