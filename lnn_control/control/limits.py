"""Output limits and NaN guards between the policy and the actuators.

Whatever the policy outputs, the command that leaves the node is finite and inside the vehicle's
envelope: steering angle and steering rate for the rover; tilt, yaw rate and thrust range for the
drone. A non-finite policy output is replaced by the safe command, never forwarded.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import math
from typing import Any

import numpy as np


def check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    """Raise ``ValueError`` naming ``owner.name``, its value and the range, if out of range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f'{owner}.{name}: expected a number in [{low}, {high}], got {value!r}')


@dataclass(frozen=True)
class RoverLimits:
    """Steering envelope of a car-like rover.

    Attributes:
        max_steering_angle: Full-lock steering angle in rad; the policy's [-1, 1] maps onto it.
        max_steering_rate: Largest change of steering angle in rad/s (servo slew limit).
    """

    max_steering_angle: float = 0.5
    max_steering_rate: float = 4.0

    def __post_init__(self) -> None:
        check_range('RoverLimits', 'max_steering_angle', self.max_steering_angle, 1e-3, 1.5)
        check_range('RoverLimits', 'max_steering_rate', self.max_steering_rate, 1e-3, 100.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RoverLimits:
        return cls(**d)


class SteeringLimiter:
    """Clamps steering angle and slew rate; keeps the last command for the rate limit."""

    def __init__(self, limits: RoverLimits) -> None:
        self.limits = limits
        self.angle = 0.0

    def reset(self, angle: float = 0.0) -> None:
        """Forget the previous command (after a failsafe the servo is straight)."""
        self.angle = float(angle)

    def __call__(self, fraction: float, dt: float) -> float:
        """Steering angle in rad from a policy output ``fraction`` in [-1, 1] after ``dt`` s.

        A non-finite ``fraction`` or ``dt`` holds the previous angle.
        """
        lim = self.limits
        if not (math.isfinite(fraction) and math.isfinite(dt)):
            return self.angle
        target = min(1.0, max(-1.0, fraction)) * lim.max_steering_angle
        step = lim.max_steering_rate * max(dt, 0.0)
        self.angle += min(step, max(-step, target - self.angle))
        return self.angle


@dataclass(frozen=True)
class QuadLimits:
    """Attitude-command envelope of a quadrotor.

    Attributes:
        max_tilt: Largest commanded roll or pitch in rad.
        max_yaw_rate: Largest commanded yaw rate in rad/s.
        thrust_min: Lowest normalized collective thrust (keeps the motors spinning).
        thrust_max: Highest normalized collective thrust.
        hover_thrust: Normalized thrust that holds altitude (used by the failsafe).
    """

    max_tilt: float = 0.5
    max_yaw_rate: float = 1.5
    thrust_min: float = 0.05
    thrust_max: float = 0.9
    hover_thrust: float = 0.5

    def __post_init__(self) -> None:
        check_range('QuadLimits', 'max_tilt', self.max_tilt, 1e-3, 1.2)
        check_range('QuadLimits', 'max_yaw_rate', self.max_yaw_rate, 0.0, 10.0)
        check_range('QuadLimits', 'thrust_min', self.thrust_min, 0.0, 1.0)
        check_range('QuadLimits', 'thrust_max', self.thrust_max, self.thrust_min, 1.0)
        check_range('QuadLimits', 'hover_thrust', self.hover_thrust, self.thrust_min,
                    self.thrust_max)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuadLimits:
        return cls(**d)

    def clamp(self, action: np.ndarray) -> np.ndarray:
        """[roll, pitch, yaw_rate, thrust] clipped into the envelope.

        Roll and pitch are scaled together so that the combined tilt stays under ``max_tilt``.
        Non-finite entries take the level-hover value (0, 0, 0, hover_thrust).
        """
        out = np.asarray(action, dtype=float).reshape(4).copy()
        safe = np.array([0.0, 0.0, 0.0, self.hover_thrust])
        bad = ~np.isfinite(out)
        out[bad] = safe[bad]
        tilt = math.hypot(out[0], out[1])
        if tilt > self.max_tilt:
            out[:2] *= self.max_tilt / tilt
        out[2] = min(self.max_yaw_rate, max(-self.max_yaw_rate, out[2]))
        out[3] = min(self.thrust_max, max(self.thrust_min, out[3]))
        return out
