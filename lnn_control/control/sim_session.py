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

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lnn_control.control.commands import GENERIC_NAMES, steering_from_yaw_rate
from lnn_control.control.config import check_choice, check_topic, config_from_dict
from lnn_control.control.faults import FaultConfig
from lnn_control.control.limits import check_range

SIM_VEHICLES = ('rover', 'quad')
QUAD_TASKS = {'target': 'lnn_control/QuadTarget-v0', 'hover': 'lnn_control/QuadHover-v0'}
ROVER_ENV = 'lnn_control/RoverLane-v0'
DEFAULT_HZ = {'rover': 20, 'quad': 50}
DEFAULT_CMD_TOPIC = {'rover': 'cmd_vel', 'quad': 'attitude_cmd'}


@dataclass(frozen=True)
class BridgeConfig:
    """Parameters of ``sim_bridge_node``.

    Attributes:
        vehicle: ``rover`` or ``quad``.
        quad_task: ``target`` (fly to the panel) or ``hover``.
        scenario: Scenario string, e.g. ``rain:3+crosswind:2`` (``clear`` = in distribution).
        seed: Seed of the first episode (then +1 per episode).
        laps: Laps (rover) or successful flights (quad) that finish the run; 0 = never.
        max_episodes: Episodes after which the run finishes even without enough laps; 0 = no cap.
        track_length: Rover lap length in m (0 = the env's default; short for quick tests).
        track_split: Rover course seeds, ``train`` or ``eval`` (held out).
        end_on_departure: A rover lane departure ends the episode; if False a safety driver
            puts the rover back on the lane and the departure is only counted (long runs).
        control_hz: Env step rate = camera and IMU rate (0 = the vehicle's default).
        max_episode_s: Simulated seconds before an episode is cut.
        real_time_factor: Simulated seconds per wall second.
        publish_clock: Publish ``/clock`` (sim time) and stamp messages with it.
        rover_command: ``twist`` or ``ackermann`` (AckermannDriveStamped; needs ackermann_msgs).
        image_topic, imu_topic, cmd_topic, ground_truth_topic, odom_topic, metrics_topic: Topic
            names (``cmd_topic`` empty = ``cmd_vel`` for the rover, ``attitude_cmd`` for the quad).
        frame_id, world_frame_id: Frames of sensor and ground-truth messages.
        command_timeout_s: A command older than this is ignored (the vehicle then gets the
            safe action: brake and straight, or level hover).
        drop_rate, delay_s, jitter_s, fault_seed: Faults on the camera and IMU messages.
        progress_period_s: Period of progress messages on ``metrics_topic``.
    """

    vehicle: str = 'rover'
    quad_task: str = 'target'
    scenario: str = 'clear'
    seed: int = 0
    laps: int = 1
    max_episodes: int = 10
    track_length: float = 0.0
    track_split: str = 'eval'
    end_on_departure: bool = True
    control_hz: int = 0
    max_episode_s: float = 120.0
    real_time_factor: float = 1.0
    publish_clock: bool = False
    rover_command: str = 'twist'
    image_topic: str = 'camera/image_raw'
    imu_topic: str = 'imu/data'
    cmd_topic: str = ''
    ground_truth_topic: str = 'ground_truth/privileged'
    odom_topic: str = 'ground_truth/odom'
    metrics_topic: str = 'sim/metrics'
    frame_id: str = 'base_link'
    world_frame_id: str = 'map'
    command_timeout_s: float = 0.5
    drop_rate: float = 0.0
    delay_s: float = 0.0
    jitter_s: float = 0.0
    fault_seed: int = 0
    progress_period_s: float = 1.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_choice(name, 'vehicle', self.vehicle, SIM_VEHICLES)
        check_choice(name, 'quad_task', self.quad_task, tuple(QUAD_TASKS))
        check_choice(name, 'track_split', self.track_split, ('train', 'eval'))
        check_choice(name, 'rover_command', self.rover_command, ('twist', 'ackermann'))
        if not isinstance(self.scenario, str) or not self.scenario.strip():
            raise ValueError(f"{name}.scenario: expected a scenario such as 'rain:3', "
                             f'got {self.scenario!r}')
        check_range(name, 'laps', self.laps, 0, 1000)
        check_range(name, 'max_episodes', self.max_episodes, 0, 100000)
        check_range(name, 'track_length', self.track_length, 0.0, 10000.0)
        if self.track_length and self.track_length < 5.0:
            raise ValueError(f'{name}.track_length: expected 0 (default) or >= 5 m, '
                             f'got {self.track_length!r}')
        check_range(name, 'control_hz', self.control_hz, 0, 100)
        check_range(name, 'max_episode_s', self.max_episode_s, 1.0, 3600.0)
        check_range(name, 'real_time_factor', self.real_time_factor, 0.05, 20.0)
        for topic in ('image_topic', 'imu_topic', 'ground_truth_topic', 'odom_topic',
                      'metrics_topic'):
            check_topic(name, topic, getattr(self, topic))
        if self.cmd_topic:
            check_topic(name, 'cmd_topic', self.cmd_topic)
        check_range(name, 'command_timeout_s', self.command_timeout_s, 1e-3, 60.0)
        check_range(name, 'progress_period_s', self.progress_period_s, 0.05, 60.0)
        self.faults()

    @property
    def rate_hz(self) -> int:
        return self.control_hz or DEFAULT_HZ[self.vehicle]

    @property
    def command_topic(self) -> str:
        return self.cmd_topic or DEFAULT_CMD_TOPIC[self.vehicle]

    def faults(self) -> FaultConfig:
        return FaultConfig(self.drop_rate, self.delay_s, self.jitter_s)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BridgeConfig:
        return config_from_dict(cls, d)


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
    """The quad env action from the generic output's named values, clipped to the bounds.

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
        """The latest observation, without stepping (for the first publication)."""
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
