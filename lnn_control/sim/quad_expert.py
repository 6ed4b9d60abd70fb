"""Expert pilot: a position controller on privileged state that outputs attitude setpoints.

It is the imitation teacher, so it flies the way an image-based student can copy: a bounded
approach speed, gentle tilt, smoothed commands, and the nose (and camera) kept on the target for
the whole approach. It uses only the nominal airframe (no knowledge of payload or wind) and
integral action to reject both, like a pilot would.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
import math
from typing import Any

from lnn_control.sim.quad_params import GRAVITY, QuadParams
import numpy as np


@dataclass(frozen=True)
class ExpertConfig:
    """Gains and limits of the expert pilot.

    Attributes:
        pos_gain: Position error to velocity setpoint, 1/s.
        vel_gain: Horizontal velocity error to acceleration, 1/s.
        climb_gain: Vertical velocity error to acceleration, 1/s (stiffer: sinking is a crash).
        vel_integral: Integral gain on the horizontal velocity error, 1/s (rejects wind; on
            the velocity error, as PX4's MPC_XY_VEL_I, it does not wind up on the approach).
        climb_integral: Integral gain on the vertical velocity error, 1/s (learns the hover
            thrust of an unknown payload before the vehicle sinks to the ground).
        integral_limit: Clamp of the horizontal integral acceleration, m/s^2 (8 m/s of wind
            needs ~3).
        climb_integral_limit: Clamp of the vertical integral, m/s^2 (an unknown payload of up
            to +60 % mass needs ~6).
        max_speed: Horizontal speed limit of the approach, m/s.
        max_climb: Vertical speed limit, m/s.
        max_tilt: Largest roll/pitch the expert commands, rad (keeps the target in view).
        yaw_gain: Heading error to yaw rate, 1/s.
        max_yaw_rate: Yaw rate limit, rad/s.
        smoothing_s: Time constant of the low-pass on the commands, s (0 disables it).
    """

    pos_gain: float = 0.9
    vel_gain: float = 2.2
    climb_gain: float = 5.0
    vel_integral: float = 1.0
    climb_integral: float = 3.0
    integral_limit: float = 3.5
    climb_integral_limit: float = 7.0
    max_speed: float = 1.5
    max_climb: float = 1.0
    max_tilt: float = 0.3
    yaw_gain: float = 1.5
    max_yaw_rate: float = 1.0
    smoothing_s: float = 0.08

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0.0):
                raise ValueError(f'ExpertConfig.{f.name}: expected a finite number >= 0, '
                                 f'got {value!r}')
        if not 0.05 <= self.max_tilt <= 0.6:
            raise ValueError(f'ExpertConfig.max_tilt: expected rad in [0.05, 0.6], '
                             f'got {self.max_tilt!r}')
        if not 0.0 < self.max_yaw_rate <= 2.0:
            raise ValueError(f'ExpertConfig.max_yaw_rate: expected rad/s in (0, 2], '
                             f'got {self.max_yaw_rate!r}')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExpertConfig:
        return cls(**d)


class QuadExpert:
    """``act(info) -> [roll, pitch, yaw_rate, thrust]`` (float32) from ``info['privileged']``.

    Args:
        params: Nominal airframe (an env, which has ``.params``, is accepted too).
        config: Gains and limits.
        noise: Std of Gaussian noise added to roll/pitch (rad) and yaw rate (rad/s), for data
            diversity in imitation learning; needs ``rng``.
        rng: Generator for the noise.
    """

    def __init__(self, params: QuadParams | Any | None = None, *,
                 config: ExpertConfig | None = None, noise: float = 0.0,
                 rng: np.random.Generator | None = None) -> None:
        if params is not None and not isinstance(params, QuadParams):
            params = getattr(params, 'params', None) or getattr(
                getattr(params, 'unwrapped', None), 'params', None)
            if not isinstance(params, QuadParams):
                raise ValueError('QuadExpert: params must be QuadParams or a quad env')
        self.params = params or QuadParams()
        self.config = config or ExpertConfig()
        if not (math.isfinite(noise) and noise >= 0.0):
            raise ValueError(f'QuadExpert: noise must be >= 0, got {noise!r}')
        if noise > 0.0 and rng is None:
            raise ValueError('QuadExpert: noise > 0 needs rng (a numpy Generator)')
        self.noise = noise
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        """Forget the integral and the filter state (call at every episode start)."""
        self._integral = np.zeros(3)
        self._last_time: float | None = None
        self._command: np.ndarray | None = None

    def act(self, info: Mapping[str, Any]) -> np.ndarray:
        """Return the attitude setpoint for the state in ``info['privileged']``.

        The state is described in ``QuadEnvBase``.
        """
        try:
            state = info['privileged']
            position, velocity = state['position'], state['velocity']
            yaw, goal, target = state['euler'][2], state['goal'], state['target_position']
            time = float(state['time'])
        except (KeyError, TypeError, IndexError):
            raise ValueError("QuadExpert.act: expected an env info with 'privileged' state "
                             '(position, velocity, euler, goal, target_position, time)') from None
        cfg = self.config
        dt = 0.0 if self._last_time is None else max(0.0, time - self._last_time)
        if self._last_time is not None and time < self._last_time:
            self.reset()
            dt = 0.0
        self._last_time = time

        error = np.asarray(goal, float) - np.asarray(position, float)
        velocity_sp = cfg.pos_gain * error
        horizontal = float(np.hypot(velocity_sp[0], velocity_sp[1]))
        if horizontal > cfg.max_speed:
            velocity_sp[:2] *= cfg.max_speed / horizontal
        velocity_sp[2] = float(np.clip(velocity_sp[2], -cfg.max_climb, cfg.max_climb))
        velocity_error = velocity_sp - np.asarray(velocity, float)
        step = np.array([cfg.vel_integral, cfg.vel_integral, cfg.climb_integral]) * dt
        limit = np.array([cfg.integral_limit, cfg.integral_limit, cfg.climb_integral_limit])
        self._integral = np.clip(self._integral + step * velocity_error, -limit, limit)
        gains = np.array([cfg.vel_gain, cfg.vel_gain, cfg.climb_gain])
        accel = gains * velocity_error + self._integral

        # Rotate into the heading frame: pitch > 0 accelerates forward, roll > 0 to the right.
        c, s = math.cos(yaw), math.sin(yaw)
        forward = c * accel[0] + s * accel[1]
        left = -s * accel[0] + c * accel[1]
        lift = max(0.3 * GRAVITY, GRAVITY + accel[2])
        pitch = math.atan2(forward, lift)
        roll = math.atan2(-left * math.cos(pitch), lift)
        roll = float(np.clip(roll, -cfg.max_tilt, cfg.max_tilt))
        pitch = float(np.clip(pitch, -cfg.max_tilt, cfg.max_tilt))
        thrust = self.params.mass * lift / (math.cos(roll) * math.cos(pitch))
        thrust /= self.params.total_thrust

        # Keep the nose (camera) on the target panel during the whole approach.
        to_target = np.asarray(target, float) - np.asarray(position, float)
        heading = math.atan2(to_target[1], to_target[0])
        if math.hypot(to_target[0], to_target[1]) < 0.3:
            heading = float(state.get('goal_yaw', yaw))
        heading_error = (heading - yaw + math.pi) % (2.0 * math.pi) - math.pi
        yaw_rate = float(np.clip(cfg.yaw_gain * heading_error, -cfg.max_yaw_rate,
                                 cfg.max_yaw_rate))

        command = np.array([roll, pitch, yaw_rate, thrust])
        if self._command is not None and cfg.smoothing_s > 0.0:
            alpha = dt / (dt + cfg.smoothing_s)
            command = self._command + alpha * (command - self._command)
        self._command = command
        out = command.copy()
        if self.noise > 0.0:
            out[:3] += self.rng.normal(0.0, self.noise, 3)
            out[:2] = np.clip(out[:2], -cfg.max_tilt, cfg.max_tilt)
            out[2] = np.clip(out[2], -cfg.max_yaw_rate, cfg.max_yaw_rate)
        out[3] = np.clip(out[3], 0.0, 1.0)
        return out.astype(np.float32)
