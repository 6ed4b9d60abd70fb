"""Typed, validated configurations of the drive and flight nodes (their ROS parameters).

Each field is one ROS parameter with the same name and a typed default; ``config/drive.yaml`` and
``config/fly.yaml`` override them. Validation happens here, once, with errors that name the field,
its value and what was expected, so a bad YAML file stops the node at start-up.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from lnn_control.control.backends import BACKENDS, PROVIDERS
from lnn_control.control.commands import PX4_RELEASES
from lnn_control.control.limits import check_range, QuadLimits, RoverLimits

POLICY_MODES = ('checkpoint', 'expert')
ROVER_OUTPUTS = ('twist', 'ackermann')
QUAD_OUTPUTS = ('generic', 'px4', 'mavros')

C = TypeVar('C')


def check_choice(owner: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming ``owner.name`` if ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{owner}.{name}: expected one of {list(choices)}, got {value!r}')


def check_topic(owner: str, name: str, value: str) -> None:
    """Check that ``value`` is a non-empty ROS name without spaces."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValueError(f'{owner}.{name}: expected a ROS topic name, got {value!r}')


def config_from_dict(cls: type[C], d: dict[str, Any]) -> C:
    """Build ``cls`` from a dict, naming unknown keys (typos in YAML) instead of ignoring them.

    Integers are accepted for float fields (YAML ``20`` for ``20.0``).
    """
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ValueError(f'{cls.__name__}: unknown parameter(s) {unknown}; known: {sorted(known)}')
    values = {}
    for key, value in d.items():
        default = getattr(cls, key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ValueError(f'{cls.__name__}.{key}: expected {type(default).__name__}, '
                             f'got {value!r}')
        values[key] = value
    return cls(**values)


def resolve_checkpoint(path: str, config_dir: Path) -> Path:
    """Return an absolute path as is, a relative one under the package's ``config/`` folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else config_dir / p


def check_loop_fields(config: DriveConfig | FlightConfig) -> None:
    """Validate the control-loop fields that every policy node's config shares."""
    name = type(config).__name__
    check_choice(name, 'policy_mode', config.policy_mode, POLICY_MODES)
    check_range(name, 'rate_hz', config.rate_hz, 1.0, 1000.0)
    check_range(name, 'camera_timeout_s', config.camera_timeout_s, 1e-3, 10.0)
    check_range(name, 'imu_timeout_s', config.imu_timeout_s, 1e-3, 10.0)
    check_range(name, 'future_tolerance_s', config.future_tolerance_s, 1e-3, 60.0)
    check_range(name, 'diagnostics_period_s', config.diagnostics_period_s, 0.05, 60.0)
    check_range(name, 'phase_offset_s', config.phase_offset_s, -config.frame_wait_s,
                0.45 / config.rate_hz)
    check_range(name, 'frame_wait_s', config.frame_wait_s, 0.0, 0.5 / config.rate_hz)
    check_range(name, 'inference_threads', config.inference_threads, 1, 64)
    check_choice(name, 'backend', config.backend, BACKENDS)
    check_choice(name, 'onnx_provider', config.onnx_provider, tuple(PROVIDERS))
    if config.policy_mode == 'checkpoint' and not config.checkpoint:
        raise ValueError(f'{name}.checkpoint: expected a file path, got {config.checkpoint!r}')


@dataclass(frozen=True)
class DriveConfig:
    """Parameters of ``drive_node``.

    Attributes:
        checkpoint: Policy file, absolute or relative to the package ``config/`` folder.
        policy_mode: ``checkpoint`` (the trained policy) or ``expert`` (the sim's expert fed
            with ground truth from the bridge: plumbing tests without a trained policy).
        rate_hz: Control tick rate.
        output: ``twist`` (geometry_msgs/Twist) or ``ackermann`` (AckermannDriveStamped).
        image_topic, imu_topic, cmd_topic, ground_truth_topic: Topic names (relative, so the
            namespace applies; remapping works too).
        frame_id: Header frame of stamped outputs.
        camera_timeout_s, imu_timeout_s: Watchdog timeouts.
        future_tolerance_s: A sample stamped further ahead of the node's clock than this is
            rejected (a driver or clock fault); one stamped behind the previous sample is
            rejected too, unless a clock jumped back (the input then re-anchors).
        cruise_speed: Forward speed commanded while driving, m/s.
        wheelbase: m, for the Twist yaw-rate form.
        max_steering_angle, max_steering_rate: Output limits (rad, rad/s).
        diagnostics_period_s: Period of /diagnostics messages.
        phase_lock: Shift the tick phase once so ticks follow camera frames closely (lower
            image-to-command latency; the rate stays fixed).
        phase_offset_s: Tick start relative to frame arrival when phase-locked (< 0: just
            before, and the tick waits for its frame; > 0: just after).
        frame_wait_s: When phase-locked, how early a tick may come before its frame and wait
            for it (0: never wait): the tick is handed to the frame's callback, or runs on the
            last frame when this one is later than that.
        enabled: Drive at start (else wait for the ``enable`` service).
        managed: Wait, unconfigured, for a lifecycle manager to configure and activate the node
            (``false``: it does both itself at start-up).
        backend: What runs the policy: ``auto`` (ONNX Runtime when installed, else PyTorch),
            ``onnxruntime`` (an error if it cannot be used) or ``torch``.
        onnx_provider: ONNX Runtime execution provider: ``cpu``, ``cuda`` or ``tensorrt``.
        inference_threads: Intra-op threads for inference (1 keeps latency steady on small
            CPUs).
    """

    checkpoint: str = 'policies/rover_ncp_cfc.pt'
    policy_mode: str = 'checkpoint'
    rate_hz: float = 20.0
    output: str = 'twist'
    image_topic: str = 'camera/image_raw'
    imu_topic: str = 'imu/data'
    cmd_topic: str = 'cmd_vel'
    ground_truth_topic: str = 'ground_truth/privileged'
    frame_id: str = 'base_link'
    camera_timeout_s: float = 0.3
    imu_timeout_s: float = 0.2
    future_tolerance_s: float = 0.5
    cruise_speed: float = 1.0
    wheelbase: float = 0.33
    max_steering_angle: float = 0.40
    max_steering_rate: float = 4.0
    diagnostics_period_s: float = 1.0
    phase_lock: bool = True
    phase_offset_s: float = -0.005
    frame_wait_s: float = 0.008
    enabled: bool = True
    managed: bool = False
    backend: str = 'auto'
    onnx_provider: str = 'cpu'
    inference_threads: int = 1

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_loop_fields(self)
        check_choice(name, 'output', self.output, ROVER_OUTPUTS)
        for topic in ('image_topic', 'imu_topic', 'cmd_topic', 'ground_truth_topic'):
            check_topic(name, topic, getattr(self, topic))
        check_range(name, 'cruise_speed', self.cruise_speed, 0.0, 50.0)
        check_range(name, 'wheelbase', self.wheelbase, 1e-2, 10.0)
        self.limits()  # validates the steering limits

    def limits(self) -> RoverLimits:
        return RoverLimits(self.max_steering_angle, self.max_steering_rate)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DriveConfig:
        return config_from_dict(cls, d)


@dataclass(frozen=True)
class FlightConfig:
    """Parameters of ``flight_node``.

    Attributes:
        checkpoint, policy_mode, rate_hz, image_topic, imu_topic, ground_truth_topic, frame_id,
            camera_timeout_s, imu_timeout_s, future_tolerance_s, diagnostics_period_s,
            phase_lock, phase_offset_s, frame_wait_s, enabled, managed, backend, onnx_provider,
            inference_threads: As in
            :class:`DriveConfig`.
        output: ``generic`` (sensor_msgs/JointState, see ``control.commands``), ``px4`` or
            ``mavros``.
        px4_release: PX4 message layout (``1.14``, ``1.15``, ``1.16``).
        cmd_topic: Generic output topic. px4_setpoint_topic, px4_offboard_topic,
            mavros_topic: Topics of the autopilot outputs; relative, so that a namespace
            applies (PX4 multi-vehicle set-ups put ``fmu/...`` under one per vehicle); without
            one they are PX4's and MAVROS's own ``/fmu/in/...`` and ``/mavros/...``.
        offboard_rate_hz: OffboardControlMode heartbeat rate (PX4 needs > 2 Hz).
        max_tilt, max_yaw_rate, thrust_min, thrust_max, hover_thrust: Output limits.
        failsafe_hold_s: Seconds of level hover after the watchdog trips, before descending.
        descent_thrust: Thrust below hover during the failsafe descent (slow sink).
        state_topic: ``nav_msgs/Odometry`` with the autopilot's state estimate (e.g.
            ``/mavros/local_position/odom``), read only when the policy takes state inputs.
        state_timeout_s: Stale-state timeout.
    """

    checkpoint: str = 'policies/quad_ncp_cfc.pt'
    policy_mode: str = 'checkpoint'
    rate_hz: float = 25.0
    output: str = 'generic'
    px4_release: str = '1.16'
    image_topic: str = 'camera/image_raw'
    imu_topic: str = 'imu/data'
    cmd_topic: str = 'attitude_cmd'
    ground_truth_topic: str = 'ground_truth/privileged'
    px4_setpoint_topic: str = 'fmu/in/vehicle_attitude_setpoint'
    px4_offboard_topic: str = 'fmu/in/offboard_control_mode'
    mavros_topic: str = 'mavros/setpoint_raw/attitude'
    frame_id: str = 'base_link'
    offboard_rate_hz: float = 10.0
    camera_timeout_s: float = 0.2
    imu_timeout_s: float = 0.1
    future_tolerance_s: float = 0.5
    max_tilt: float = 0.5
    max_yaw_rate: float = 1.5
    thrust_min: float = 0.05
    thrust_max: float = 0.9
    hover_thrust: float = 0.5
    failsafe_hold_s: float = 1.0
    descent_thrust: float = 0.05
    state_topic: str = 'odom'
    state_timeout_s: float = 0.2
    diagnostics_period_s: float = 1.0
    phase_lock: bool = True
    phase_offset_s: float = -0.005
    frame_wait_s: float = 0.008
    enabled: bool = True
    managed: bool = False
    backend: str = 'auto'
    onnx_provider: str = 'cpu'
    inference_threads: int = 1

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_loop_fields(self)
        check_choice(name, 'output', self.output, QUAD_OUTPUTS)
        check_choice(name, 'px4_release', self.px4_release, PX4_RELEASES)
        for topic in ('image_topic', 'imu_topic', 'cmd_topic', 'ground_truth_topic',
                      'px4_setpoint_topic', 'px4_offboard_topic', 'mavros_topic', 'state_topic'):
            check_topic(name, topic, getattr(self, topic))
        check_range(name, 'state_timeout_s', self.state_timeout_s, 1e-3, 10.0)
        check_range(name, 'offboard_rate_hz', self.offboard_rate_hz, 2.1, 1000.0)
        check_range(name, 'failsafe_hold_s', self.failsafe_hold_s, 0.0, 60.0)
        check_range(name, 'descent_thrust', self.descent_thrust, 0.0,
                    self.hover_thrust - self.thrust_min)
        self.limits()

    def limits(self) -> QuadLimits:
        return QuadLimits(self.max_tilt, self.max_yaw_rate, self.thrust_min, self.thrust_max,
                          self.hover_thrust)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlightConfig:
        return config_from_dict(cls, d)
