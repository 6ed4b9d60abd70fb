"""Turn a rosbag2 recording (MCAP or sqlite3) into a demonstration folder, with ``rosbags``.

A user drives the rover by hand (or with any controller) while ``ros2 bag record`` stores the
camera (``sensor_msgs/Image``), the IMU (``sensor_msgs/Imu``) and the command
(``geometry_msgs/Twist`` or ``TwistStamped``). Each frame becomes one step: its IMU is the latest
sample at or before the frame, its label the first command at or after it (the command that
answered the frame), and its elapsed time the real gap between frame stamps. Gaps longer than
``max_gap_s`` (a paused bag, a dropped sensor) start a new episode instead of teaching the policy
one impossible step. Frames go through the nodes' own ``to_rgb``/``resize``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lnn_control.train.demos import DatasetError, DemoWriter, Episode
import numpy as np

ROVER_ACTIONS = ('steering',)
ROVER_ACTIONS_THROTTLE = ('steering', 'throttle')


@dataclass(frozen=True)
class BagConfig:
    """Which topics to read and how a rover command maps to the policy's actions.

    ``steering = clip(angular.z / max_angular_z, -1, 1)``; with ``max_speed`` set, a second action
    ``throttle = clip(linear.x / max_speed, -1, 1)`` is kept too.
    """

    image_topic: str = '/camera/image_raw'
    imu_topic: str = '/imu/data'
    command_topic: str = '/cmd_vel'
    image_hw: tuple[int, int] = (66, 200)
    max_angular_z: float = 1.0
    max_speed: float | None = None
    command_timeout_s: float = 0.5
    max_gap_s: float = 0.5
    min_episode_steps: int = 16

    def __post_init__(self) -> None:
        for name in ('image_topic', 'imu_topic', 'command_topic'):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.startswith('/'):
                raise ValueError(f'BagConfig.{name}: expected an absolute topic name, '
                                 f'got {value!r}')
        if len(self.image_hw) != 2 or min(self.image_hw) < 1:
            raise ValueError('BagConfig.image_hw: expected two positive ints (H, W), '
                             f'got {self.image_hw!r}')
        for name in ('max_angular_z', 'command_timeout_s', 'max_gap_s'):
            if not getattr(self, name) > 0:
                raise ValueError(f'BagConfig.{name}: expected > 0, got {getattr(self, name)!r}')
        if self.max_speed is not None and not self.max_speed > 0:
            raise ValueError(f'BagConfig.max_speed: expected > 0 or None, got {self.max_speed!r}')
        if self.min_episode_steps < 1:
            raise ValueError('BagConfig.min_episode_steps: expected >= 1, '
                             f'got {self.min_episode_steps}')

    @property
    def action_names(self) -> tuple[str, ...]:
        return ROVER_ACTIONS if self.max_speed is None else ROVER_ACTIONS_THROTTLE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> BagConfig:
        doc = dict(doc)
        if 'image_hw' in doc:
            doc['image_hw'] = tuple(doc['image_hw'])
        return cls(**doc)


def _stamp_s(msg: Any, fallback_ns: int) -> float:
    header = getattr(msg, 'header', None)
    if header is not None and (header.stamp.sec or header.stamp.nanosec):
        return header.stamp.sec + header.stamp.nanosec * 1e-9
    return fallback_ns * 1e-9


def _imu_vector(msg: Any) -> np.ndarray:
    a, g = msg.linear_acceleration, msg.angular_velocity
    return np.array([a.x, a.y, a.z, g.x, g.y, g.z], dtype=np.float32)


def _twist_of(msg: Any) -> Any:
    return msg.twist if hasattr(msg, 'twist') else msg


_COMMAND_TYPES = ('geometry_msgs/msg/Twist', 'geometry_msgs/msg/TwistStamped')


@dataclass
class _Streams:
    """Messages of the three topics, in bag order (times in seconds, bag clock)."""

    frame_t: list[float]
    frame_stamp: list[float]
    frames: list[np.ndarray]
    imu_t: list[float]
    imu: list[np.ndarray]
    cmd_t: list[float]
    cmd: list[np.ndarray]


def _read_streams(bag: Path, config: BagConfig) -> _Streams:
    from lnn_control.control.preprocess import PreprocessError, resize, to_rgb
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import get_typestore, Stores

    topics = (config.image_topic, config.imu_topic, config.command_topic)
    streams = _Streams([], [], [], [], [], [], [])
    reader = AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_JAZZY))
    try:
        reader.open()
    except Exception as exc:  # rosbags raises several types for unreadable bags
        raise DatasetError(f'{bag}: not a readable rosbag2 ({type(exc).__name__}: {exc})') \
            from None
    try:
        by_topic = {c.topic: c for c in reader.connections}
        missing = [t for t in topics if t not in by_topic]
        if missing:
            raise DatasetError(f'{bag}: topics {missing} not in the bag; it has '
                               f'{sorted(by_topic)} (set image/imu/command topics)')
        if by_topic[config.command_topic].msgtype not in _COMMAND_TYPES:
            raise DatasetError(f'{bag}: {config.command_topic} is '
                               f'{by_topic[config.command_topic].msgtype}, expected one of '
                               f'{_COMMAND_TYPES}')
        connections = [by_topic[t] for t in topics]
        speed_scale = config.max_speed
        for connection, timestamp, raw in reader.messages(connections=connections):
            msg = reader.deserialize(raw, connection.msgtype)
            t = timestamp * 1e-9
            if connection.topic == config.image_topic:
                try:
                    rgb = to_rgb(bytes(msg.data), msg.encoding, msg.height, msg.width, msg.step)
                except PreprocessError as exc:
                    raise DatasetError(f'{bag}: {config.image_topic} at t={t:.3f} s: {exc}') \
                        from None
                streams.frame_t.append(t)
                streams.frame_stamp.append(_stamp_s(msg, timestamp))
                streams.frames.append(resize(rgb, tuple(config.image_hw)))
            elif connection.topic == config.imu_topic:
                streams.imu_t.append(t)
                streams.imu.append(_imu_vector(msg))
            else:
                twist = _twist_of(msg)
                steer = np.clip(twist.angular.z / config.max_angular_z, -1.0, 1.0)
                action = [steer] if speed_scale is None else [
                    steer, np.clip(twist.linear.x / speed_scale, -1.0, 1.0)]
                streams.cmd_t.append(t)
                streams.cmd.append(np.asarray(action, dtype=np.float32))
    finally:
        reader.close()
    return streams


def _episodes(streams: _Streams, config: BagConfig) -> list[Episode]:
    """Pair frames with IMU and commands; split where data is missing or stale."""
    if not streams.frames or not streams.imu or not streams.cmd:
        return []
    imu_t, cmd_t = np.asarray(streams.imu_t), np.asarray(streams.cmd_t)
    episodes: list[Episode] = []
    current: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = []
    last_stamp: float | None = None

    def close() -> None:
        if len(current) >= config.min_episode_steps:
            images, imu, actions, elapsed = zip(*current, strict=True)
            episodes.append(Episode(np.stack(images), np.stack(imu), np.stack(actions),
                                    np.asarray(elapsed, dtype=np.float32)))
        current.clear()

    for t, stamp, frame in zip(streams.frame_t, streams.frame_stamp, streams.frames,
                               strict=True):
        i_imu = int(np.searchsorted(imu_t, t, side='right')) - 1
        i_cmd = int(np.searchsorted(cmd_t, t, side='left'))
        usable = (i_imu >= 0 and t - imu_t[i_imu] <= config.command_timeout_s
                  and i_cmd < len(cmd_t) and cmd_t[i_cmd] - t <= config.command_timeout_s)
        if not usable:
            close()
            last_stamp = None
            continue
        gap = None if last_stamp is None else stamp - last_stamp
        if gap is not None and not 0 < gap <= config.max_gap_s:
            close()
            gap = None
        # The first frame of an episode has no predecessor: use the median frame period.
        elapsed = gap if gap is not None else _nominal_period(streams.frame_stamp)
        current.append((frame, streams.imu[i_imu], streams.cmd[i_cmd], elapsed))
        last_stamp = stamp
    close()
    return episodes


def _nominal_period(stamps: Sequence[float]) -> float:
    diffs = np.diff(np.asarray(stamps))
    diffs = diffs[diffs > 0]
    return float(np.median(diffs)) if len(diffs) else 0.05


def import_bag(bag: str | Path, out: str | Path, config: BagConfig = BagConfig(),
               *, progress: Callable[[str], None] | None = None) -> int:
    """Convert one rosbag2 folder (or ``.mcap``/``.db3`` file) into episodes under ``out``.

    Returns the number of episodes written (the folder may already hold others: they are kept).
    """
    bag = Path(bag)
    if not bag.exists():
        raise DatasetError(f'{bag}: no such rosbag2 folder or file')
    streams = _read_streams(bag, config)
    episodes = _episodes(streams, config)
    if not episodes:
        raise DatasetError(
            f'{bag}: no episode of >= {config.min_episode_steps} steps with image, IMU and '
            f'command within {config.command_timeout_s} s of each other '
            f'({len(streams.frames)} frames, {len(streams.imu)} IMU, {len(streams.cmd)} commands)')
    writer = DemoWriter(out, vehicle='rover', image_hw=config.image_hw,
                        action_names=config.action_names, source=f'rosbag2:{bag}')
    for episode in episodes:
        writer.add(episode, scenario='real', source=f'rosbag2:{bag.name}')
        if progress:
            progress(f'{bag.name}: episode of {episode.steps} steps')
    return len(episodes)
