"""The simulator side of the HIL loop, free of ROS: env episodes, command -> action, laps.

``sim_bridge_node`` owns one ``SimSession``: every bridge tick it hands over the latest vehicle
command (or ``None`` when none is fresh) and publishes what ``step`` returns. The session counts
laps (rover) or successful flights (quad), summarises each episode and says when the run is
finished.

Rover commands come as (speed m/s, yaw rate rad/s), the Twist form of ``control.commands``: the
steering angle is recovered with the same bicycle model and the env's wheelbase, and the speed
becomes a throttle through the env's own cruise control, capped by the commanded speed, so a
zero-speed safe command really stops the rover. Quad commands are the env's action.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

from lnn_control.control.bridge_config import BridgeConfig, QUAD_TASKS, ROVER_ENV
from lnn_control.control.commands import GENERIC_NAMES, steering_from_yaw_rate
import numpy as np


@dataclass(frozen=True)
class SimStep:
    """What one bridge tick produced.

    Attributes:
        obs: The env observation (image, imu, ...).
        privileged: Ground truth for the expert (JSON-able after ``encode_privileged``).
        pose: (x, y, z) position in the world (ENU, m) and [w, x, y, z] attitude.
        episode_summary: Set on the tick that ended an episode.
        progress: Live figures for progress messages.
    """

    obs: dict[str, np.ndarray]
    privileged: dict[str, Any]
    pose: tuple[np.ndarray, np.ndarray]
    episode_summary: dict[str, Any] | None
    progress: dict[str, Any]


def rover_action(speed_cmd: float, yaw_rate_cmd: float, privileged: dict[str, Any]) -> np.ndarray:
    """[steering fraction, throttle] of ``RoverLane-v0`` (throttle=True) from a Twist command."""
    angle = steering_from_yaw_rate(speed_cmd, yaw_rate_cmd, privileged['wheelbase'])
    return rover_action_from_angle(speed_cmd, angle, privileged)


def rover_action_from_angle(speed_cmd: float, angle: float,
                            privileged: dict[str, Any]) -> np.ndarray:
    """[steering fraction, throttle] from a speed (m/s) and a steering angle (rad, Ackermann).

    The env's cruise control speed, capped by ``speed_cmd``, becomes a throttle.
    """
    p = privileged
    steer = float(np.clip(angle / p['max_steer'], -1.0, 1.0))
    target = min(max(speed_cmd, 0.0), p['target_speed'])
    throttle = float(np.clip((target - p['speed']) / p['speed_tau'] / p['max_accel'], -1, 1))
    return np.array([steer, throttle], np.float32)


def quad_action(named: dict[str, float], low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Return the quad env action from the generic output's named values, clipped to the bounds.

    Raises:
        ValueError: A name is missing or a value is not finite.
    """
    missing = [n for n in GENERIC_NAMES if n not in named]
    if missing:
        raise ValueError(f'attitude command: missing {missing}; expected {list(GENERIC_NAMES)}')
    values = np.array([named[n] for n in GENERIC_NAMES], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f'attitude command: non-finite values {values.tolist()}')
    return np.clip(values, low, high).astype(np.float32)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class SimSession:
    """Episodes of one env under one scenario, with lap counting.

    Args:
        config: The bridge configuration.
    """

    def __init__(self, config: BridgeConfig) -> None:
        import gymnasium as gym
        import lnn_control.sim  # noqa: F401  (registers the env ids)

        self.config = config
        steps = int(config.max_episode_s * config.rate_hz)
        if config.vehicle == 'rover':
            kwargs: dict[str, Any] = {'throttle': True, 'laps': float(max(config.laps, 1)),
                                      'control_hz': float(config.rate_hz),
                                      'track_split': config.track_split,
                                      'terminate_on_departure': config.end_on_departure}
            if config.track_length:
                kwargs['track_length'] = config.track_length
            env_id = ROVER_ENV
        else:
            kwargs = {'control_hz': int(config.rate_hz)}
            env_id = QUAD_TASKS[config.quad_task]
        if config.image_height:
            kwargs['image_hw'] = (config.image_height, config.image_width)
        self.env = gym.make(env_id, scenario=config.scenario, max_episode_steps=steps,
                            disable_env_checker=True, **kwargs)
        self.dt = 1.0 / config.rate_hz
        self.sim_time = 0.0
        self.episodes = 0
        self.laps_done = 0
        self.summaries: list[dict[str, Any]] = []
        self._episode_steps = 0
        self._obs: dict[str, np.ndarray] = {}
        self._info: dict[str, Any] = {}
        self._reset()

    @property
    def finished(self) -> bool:
        """The run has its laps (or hit the episode cap)."""
        cfg = self.config
        return ((cfg.laps > 0 and self.laps_done >= cfg.laps)
                or (cfg.max_episodes > 0 and self.episodes >= cfg.max_episodes))

    def _reset(self) -> None:
        self._obs, self._info = self.env.reset(seed=self.config.seed + self.episodes)
        self._episode_steps = 0

    def current(self) -> SimStep:
        """Return the latest observation, without stepping (for the first publication)."""
        return SimStep(self._obs, self._privileged(), self._pose(), None, self._progress())

    def safe_action(self) -> np.ndarray:
        """Brake with straight steering (rover) or level hover (quad)."""
        if self.config.vehicle == 'rover':
            return rover_action(0.0, 0.0, self._info['privileged'])
        return np.array([0.0, 0.0, 0.0, self.env.unwrapped.params.hover_thrust], np.float32)

    def action_from_twist(self, speed: float, yaw_rate: float) -> np.ndarray:
        return rover_action(speed, yaw_rate, self._info['privileged'])

    def action_from_ackermann(self, speed: float, steering_angle: float) -> np.ndarray:
        return rover_action_from_angle(speed, steering_angle, self._info['privileged'])

    def action_from_named(self, named: dict[str, float]) -> np.ndarray:
        space = self.env.action_space
        return quad_action(named, space.low, space.high)

    def step(self, action: np.ndarray | None) -> SimStep:
        """Advance one control period with ``action`` (``None``: the safe action)."""
        if action is None:
            action = self.safe_action()
        self._obs, _reward, terminated, truncated, self._info = self.env.step(action)
        self.sim_time += self.dt
        self._episode_steps += 1
        summary = None
        success = self.config.vehicle == 'quad' and bool(self._info.get('success'))
        if terminated or truncated or success:
            summary = self._summary(truncated)
            self.summaries.append(summary)
            self.episodes += 1
            self.laps_done += summary['laps']
            if not self.finished:
                self._reset()
        return SimStep(self._obs, self._privileged(), self._pose(), summary, self._progress())

    def _summary(self, truncated: bool) -> dict[str, Any]:
        info = self._info
        base = {'episode': self.episodes + 1, 'sim_time_s': self._episode_steps * self.dt,
                'truncated': bool(truncated), 'scenario': self.config.scenario}
        if self.config.vehicle == 'rover':
            laps = int(info['laps_completed'])
            figures = {k: _plain(v) for k, v in info['metrics'].items()}
            return {**base, 'laps': laps, 'departed': bool(info['departed']),
                    'finished': bool(info['finished']), **figures}
        success = bool(info.get('success'))
        keys = ('success', 'time_to_target_s', 'crashed', 'rms_position_error',
                'distance_to_goal')
        return {**base, 'laps': int(success), 'termination': info.get('termination'),
                **{k: _plain(info.get(k)) for k in keys}}

    def _privileged(self) -> dict[str, Any]:
        p = dict(self._info['privileged'])
        if self.config.vehicle == 'rover':
            p['throttle'] = False  # the bridge drives the throttle; the expert only steers
        return p

    def _pose(self) -> tuple[np.ndarray, np.ndarray]:
        p = self._info['privileged']
        if self.config.vehicle == 'rover':
            yaw = float(p['yaw'])
            return (np.array([p['x'], p['y'], 0.0]),
                    np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))
        return np.asarray(p['position'], float), np.asarray(p['quaternion'], float)

    def _progress(self) -> dict[str, Any]:
        info = self._info
        base = {'episode': self.episodes + 1, 'laps_done': self.laps_done,
                'laps_goal': self.config.laps, 'sim_time_s': round(self.sim_time, 3)}
        if self.config.vehicle == 'rover':
            return {**base, 'lap_progress': round(float(info['lap_progress']), 4),
                    'lateral_error': round(float(info['lateral_error']), 4),
                    'speed': round(float(info['speed']), 3)}
        return {**base, 'distance_to_goal': round(float(info['distance_to_goal']), 3),
                'hold_time_s': round(float(info['hold_time_s']), 3)}

    def close(self) -> None:
        self.env.close()
