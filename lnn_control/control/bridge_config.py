"""Parameters of ``sim_bridge_node``: which simulator, scenario, run length, topics, faults."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lnn_control.control.config import check_choice, check_topic, config_from_dict
from lnn_control.control.faults import FaultConfig
from lnn_control.control.limits import check_range

SIM_VEHICLES = ('rover', 'quad')
QUAD_TASKS = {'target': 'lnn_control/QuadTarget-v0', 'hover': 'lnn_control/QuadHover-v0'}
ROVER_ENV = 'lnn_control/RoverLane-v0'
DEFAULT_HZ = {'rover': 20, 'quad': 25}
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
        image_height, image_width: Camera image size (0 = the env's default); match the size
            the policy was trained on (the node resizes anything else, which is not the same
            picture as a native render).
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
    image_height: int = 0
    image_width: int = 0
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
        for field in ('image_height', 'image_width'):
            value = getattr(self, field)
            if value and not 8 <= value <= 1024:
                raise ValueError(f'{name}.{field}: expected 0 (env default) or 8-1024 pixels, '
                                 f'got {value!r}')
        if bool(self.image_height) != bool(self.image_width):
            raise ValueError(f'{name}.image_height/image_width: give both or neither, got '
                             f'{self.image_height}x{self.image_width}')
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
