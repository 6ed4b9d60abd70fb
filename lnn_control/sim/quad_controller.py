"""An emulated flight controller in attitude mode: attitude P -> rate PID -> mixer.

This is what PX4 or ArduPilot do with an attitude setpoint, reduced to its core, so a policy that
publishes ``[roll, pitch, yaw_rate, thrust]`` in simulation would publish the same on a vehicle.
Pure numpy: it runs at the physics rate inside the env and needs no MuJoCo.

Sign conventions (FLU body, ENU world, right-hand rule, ZYX Euler angles):
    roll > 0  rotates about +x (forward): the right side goes down, the vehicle drifts right (-y).
    pitch > 0 rotates about +y (left): the nose goes down, the vehicle accelerates forward (+x).
    yaw_rate > 0 rotates about +z (up): counter-clockwise seen from above, the nose turns left.
    thrust is the collective along body +z as a fraction of the full thrust of all four motors.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
import math
from typing import Any

from lnn_control.sim.quad_mixer import Mixer
from lnn_control.sim.quad_params import QuadParams
import numpy as np


def quat_to_euler(quat: np.ndarray) -> np.ndarray:
    """ZYX Euler angles ``(roll, pitch, yaw)`` in rad of a unit quaternion ``(w, x, y, z)``."""
    w, x, y, z = (float(v) for v in quat)
    roll = math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2.0 * (w * y - z * x))))
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return np.array([roll, pitch, yaw])


def euler_rates_to_body(euler: np.ndarray, euler_rates: np.ndarray) -> np.ndarray:
    """Map ZYX Euler angle rates to body angular rates ``(p, q, r)`` (exact kinematics)."""
    roll, pitch = euler[0], euler[1]
    droll, dpitch, dyaw = euler_rates
    sr, cr = math.sin(roll), math.cos(roll)
    sp, cp = math.sin(pitch), math.cos(pitch)
    return np.array([droll - sp * dyaw,
                     cr * dpitch + sr * cp * dyaw,
                     -sr * dpitch + cr * cp * dyaw])


@dataclass(frozen=True)
class FlightControllerConfig:
    """Gains and limits of the emulated flight controller.

    Attributes:
        attitude_p: Roll/pitch angle error to Euler rate setpoint, in 1/s (PX4 MC_ROLL_P ~6.5).
        rate_p: Rate error (rad/s) to angular acceleration (rad/s^2), per body axis.
        rate_i: Integral gain on the rate error, per axis, in 1/s^2.
        rate_d: Derivative gain on the measured rate, per axis, in s * (1/s).
        integral_limit: Clamp of each integral term, as angular acceleration in rad/s^2.
        max_rate: Limits of the rate setpoint (p, q, r) in rad/s.
        max_tilt: Largest roll or pitch setpoint accepted, in rad (larger commands are errors).
        d_cutoff_hz: Low-pass corner of the derivative term in Hz.
    """

    attitude_p: float = 6.5
    rate_p: tuple[float, float, float] = (20.0, 20.0, 12.0)
    rate_i: tuple[float, float, float] = (8.0, 8.0, 4.0)
    rate_d: tuple[float, float, float] = (0.25, 0.25, 0.0)
    integral_limit: float = 10.0
    max_rate: tuple[float, float, float] = (3.5, 3.5, 2.0)
    max_tilt: float = 0.6
    d_cutoff_hz: float = 30.0

    def __post_init__(self) -> None:
        _check('attitude_p', self.attitude_p, 0.0, 50.0)
        for name in ('rate_p', 'rate_i', 'rate_d', 'max_rate'):
            values = getattr(self, name)
            if len(values) != 3:
                raise ValueError(f'FlightControllerConfig.{name}: expected 3 values, '
                                 f'got {values!r}')
            for value in values:
                _check(name, value, 0.0, 500.0)
        _check('integral_limit', self.integral_limit, 0.0, 1000.0)
        _check('max_tilt', self.max_tilt, 0.05, 1.4)
        _check('d_cutoff_hz', self.d_cutoff_hz, 1.0, 1000.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlightControllerConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f'FlightControllerConfig: unknown fields {sorted(unknown)}')
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _check(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
        raise ValueError(f'FlightControllerConfig.{name}: expected a number in '
                         f'[{low}, {high}], got {value!r}')


class FlightController:
    """Attitude mode: ``[roll, pitch, yaw_rate, thrust]`` setpoint -> motor thrust commands (N).

    The controller flies on its own state estimate, modelled as the true attitude and body rates
    (IMU disturbances act on what the policy sees, as on a vehicle whose EKF is healthy). The
    per-tick maths is written on Python floats: it runs 500 times per simulated second, where
    NumPy's per-call overhead on 3-vectors would dominate the env's step time.
    """

    def __init__(self, params: QuadParams, config: FlightControllerConfig | None = None) -> None:
        self.params = params
        self.config = config or FlightControllerConfig()
        self.mixer = Mixer(params)
        self.reset()

    def reset(self) -> None:
        """Clear the integrators and the derivative filter (call at every episode start)."""
        self._integral = [0.0, 0.0, 0.0]
        self._prev_rates: tuple[float, float, float] | None = None
        self._rate_derivative = [0.0, 0.0, 0.0]
        self.rate_setpoint = (0.0, 0.0, 0.0)

    def update(self, setpoint: np.ndarray, euler: np.ndarray, rates: np.ndarray,
               dt: float) -> np.ndarray:
        """One controller tick.

        Args:
            setpoint: ``[roll rad, pitch rad, yaw_rate rad/s, thrust 0..1]``, already validated.
            euler: Current ``(roll, pitch, yaw)`` in rad.
            rates: Current body rates ``(p, q, r)`` in rad/s (FLU).
            dt: Tick period in s.

        Returns:
            Motor thrust commands (4,) in N, before the motor lag.
        """
        cfg = self.config
        roll, pitch = float(euler[0]), float(euler[1])
        w = (float(rates[0]), float(rates[1]), float(rates[2]))
        euler_rate_sp = (cfg.attitude_p * (float(setpoint[0]) - roll),
                         cfg.attitude_p * (float(setpoint[1]) - pitch), float(setpoint[2]))
        body_sp = euler_rates_to_body((roll, pitch, 0.0), euler_rate_sp)
        rate_sp = tuple(max(-m, min(m, float(v)))
                        for v, m in zip(body_sp, cfg.max_rate, strict=True))
        self.rate_setpoint = rate_sp
        alpha = dt / (dt + 1.0 / (2.0 * math.pi * cfg.d_cutoff_hz))
        limit = cfg.integral_limit
        accel = [0.0, 0.0, 0.0]
        for i in range(3):
            error = rate_sp[i] - w[i]
            self._integral[i] = max(-limit, min(limit, self._integral[i]
                                                + cfg.rate_i[i] * error * dt))
            if self._prev_rates is not None:
                raw = (w[i] - self._prev_rates[i]) / dt
                self._rate_derivative[i] += alpha * (raw - self._rate_derivative[i])
            accel[i] = (cfg.rate_p[i] * error + self._integral[i]
                        - cfg.rate_d[i] * self._rate_derivative[i])
        self._prev_rates = w
        jx, jy, jz = self.params.inertia
        # Euler's equation: add w x (J w) so each axis sees J * accel.
        torque = (jx * accel[0] + w[1] * w[2] * (jz - jy),
                  jy * accel[1] + w[2] * w[0] * (jx - jz),
                  jz * accel[2] + w[0] * w[1] * (jy - jx))
        return self.mixer.allocate(float(setpoint[3]) * self.params.total_thrust, torque)
