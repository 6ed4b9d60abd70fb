"""Vehicle-specific halves of the control loop: policy action -> command, and the safe command.

A commander turns the policy's action (env units) into a limited command, and produces the
safe command when the loop may not drive: the rover stops with straight steering; the drone
holds level attitude at hover thrust for ``failsafe_hold_s``, then sinks slowly.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from lnn_control.control.limits import QuadLimits, RoverLimits, SteeringLimiter
import numpy as np


@dataclass(frozen=True)
class RoverCommand:
    """Speed in m/s, steering angle in rad (positive = left), steering rate in rad/s."""

    speed: float
    steering_angle: float
    steering_rate: float


class RoverCommander:
    """Steering fraction [-1, 1] -> limited steering angle at the cruise speed."""

    action_dim = 1

    def __init__(self, limits: RoverLimits, cruise_speed: float) -> None:
        self.limiter = SteeringLimiter(limits)
        self.cruise_speed = cruise_speed

    def command(self, action: np.ndarray, dt: float) -> RoverCommand:
        before = self.limiter.angle
        angle = self.limiter(float(action[0]), dt)
        rate = (angle - before) / dt if dt > 0 and math.isfinite(dt) else 0.0
        return RoverCommand(self.cruise_speed, angle, rate)

    def safe(self, since_s: float) -> RoverCommand:
        """Zero speed, straight steering; ``since_s`` is unused (the rover has one safe state)."""
        self.limiter.reset(0.0)
        return RoverCommand(0.0, 0.0, 0.0)

    def reset(self) -> None:
        self.limiter.reset(0.0)


@dataclass(frozen=True)
class QuadCommand:
    """Attitude command in FLU: roll, pitch (rad), yaw rate (rad/s), thrust 0..1."""

    roll: float
    pitch: float
    yaw_rate: float
    thrust: float


class QuadCommander:
    """Quad action ``[roll, pitch, yaw_rate, thrust]`` -> clamped command; failsafe descent.

    Args:
        limits: Tilt, yaw-rate and thrust limits (``hover_thrust`` is the failsafe's level).
        failsafe_hold_s: Seconds of level hover before the descent starts.
        descent_thrust: How far below hover the descent's thrust is.
    """

    action_dim = 4

    def __init__(self, limits: QuadLimits, failsafe_hold_s: float, descent_thrust: float) -> None:
        self.limits = limits
        self.failsafe_hold_s = failsafe_hold_s
        self.descent_thrust = descent_thrust

    def command(self, action: np.ndarray, dt: float) -> QuadCommand:
        roll, pitch, yaw_rate, thrust = self.limits.clamp(action)
        return QuadCommand(float(roll), float(pitch), float(yaw_rate), float(thrust))

    def safe(self, since_s: float) -> QuadCommand:
        """Level at hover thrust, then ``hover - descent_thrust`` after ``failsafe_hold_s``."""
        thrust = self.limits.hover_thrust
        if since_s >= self.failsafe_hold_s:
            thrust = max(self.limits.thrust_min, thrust - self.descent_thrust)
        return QuadCommand(0.0, 0.0, 0.0, thrust)

    def reset(self) -> None:
        """Stateless: nothing to forget."""


class YawReference:
    """Heading for autopilot attitude setpoints, which need a full attitude, not a yaw rate.

    With a measured yaw (IMU orientation) the setpoint is ``measured + yaw_rate * dt``: the
    autopilot turns at the commanded rate from where the vehicle points. Without one, the yaw is
    integrated from the commanded rate, starting at 0 (a heading relative to start-up).
    """

    def __init__(self) -> None:
        self.measured: float | None = None
        self.integrated = 0.0

    def measure(self, yaw: float) -> None:
        if math.isfinite(yaw):
            self.measured = yaw

    def setpoint(self, yaw_rate: float, dt: float) -> float:
        dt = dt if math.isfinite(dt) and dt > 0 else 0.0
        base = self.measured if self.measured is not None else self.integrated
        self.integrated = math.remainder(base + yaw_rate * dt, 2 * math.pi)
        return self.integrated
