"""Rover episode metrics: completion, lane departures per km, lateral error, steering smoothness.

Pure Python: the env updates a :class:`LaneMetrics` every step and puts ``summary()`` in
``info['metrics']``; evaluation code can rebuild the same numbers from logged steps.
"""
from __future__ import annotations

from dataclasses import dataclass
import math


@dataclass
class LaneMetrics:
    """Running sums for one episode.

    Args:
        target_distance: distance that counts as a complete episode (laps x lap length), m.
    """

    target_distance: float
    distance: float = 0.0
    steps: int = 0
    departures: int = 0
    sum_sq_lateral: float = 0.0
    max_lateral: float = 0.0
    sum_abs_dsteer: float = 0.0
    last_steer: float | None = None

    def update(self, lateral: float, steer: float, distance: float, departed: bool) -> None:
        """Record one step: lateral error (m), steering action, progress (m), departure flag."""
        self.steps += 1
        self.distance = max(distance, self.distance)
        self.sum_sq_lateral += lateral * lateral
        self.max_lateral = max(self.max_lateral, abs(lateral))
        if self.last_steer is not None:
            self.sum_abs_dsteer += abs(steer - self.last_steer)
        self.last_steer = steer
        self.departures += int(departed)

    def summary(self) -> dict[str, float]:
        """Return the per-episode figures so far.

        Keys: ``completion`` (0-1 of the target distance), ``departures_per_km``,
        ``rms_lateral_error`` and ``max_lateral_error`` (m), ``steering_smoothness`` (mean
        |delta steering| per step, action units), ``distance`` (m) and ``steps``.
        """
        km = max(self.distance, 1e-6) / 1000.0
        return {
            'completion': min(self.distance / self.target_distance, 1.0),
            'departures_per_km': self.departures / km,
            'rms_lateral_error': math.sqrt(self.sum_sq_lateral / max(self.steps, 1)),
            'max_lateral_error': self.max_lateral,
            'steering_smoothness': self.sum_abs_dsteer / max(self.steps - 1, 1),
            'distance': self.distance,
            'steps': float(self.steps),
        }


def aggregate(summaries: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over episodes, plus the fraction of fully completed episodes."""
    if not summaries:
        raise ValueError('aggregate: expected at least one episode summary, got none')
    keys = summaries[0].keys()
    out = {k: sum(s[k] for s in summaries) / len(summaries) for k in keys}
    out['success_rate'] = sum(s['completion'] >= 1.0 for s in summaries) / len(summaries)
    return out
