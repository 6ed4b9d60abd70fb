"""Helpers shared by the nodes: QoS profiles, message <-> array conversions, parameters, logging.

No Node subclass lives here (one per file); these are the small conversions every adapter needs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
import math
import time
from typing import Any, TypeVar

from lnn_control.control.frames import vertical_velocity
import numpy as np
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    qos_profile_sensor_data,
    QoSProfile,
    ReliabilityPolicy,
)

C = TypeVar('C')

#: Camera and IMU: best effort, keep the last few (latest-sample semantics in the node).
SENSOR_QOS = qos_profile_sensor_data
#: Commands: reliable, only the newest matters.
COMMAND_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)
#: Ground truth and episode metrics: reliable, a short queue so none is lost at episode ends.
STATE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                       reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)


class StartupError(RuntimeError):
    """The node cannot start (bad parameter, missing checkpoint or message package)."""


def stamp_to_s(stamp: Any) -> float:
    """``builtin_interfaces/Time`` to float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def imu_to_array(msg: Any) -> np.ndarray:
    """``sensor_msgs/Imu`` to ``[ax, ay, az, gx, gy, gz]`` float32 (body FLU, as in training)."""
    a, g = msg.linear_acceleration, msg.angular_velocity
    return np.array([a.x, a.y, a.z, g.x, g.y, g.z], dtype=np.float32)


def odometry_to_state(msg: Any) -> dict[str, float]:
    """Convert ``nav_msgs/Odometry`` to the policy's state inputs.

    The pose is in the world frame and the twist in the body frame, as REP 105 and mavros'
    ``local_position/odom`` have them.
    """
    o, v = msg.pose.pose.orientation, msg.twist.twist.linear
    quat = np.array([o.w, o.x, o.y, o.z], dtype=float)
    if not np.all(np.isfinite(quat)) or not np.linalg.norm(quat) > 0:
        return {'altitude': float(msg.pose.pose.position.z), 'climb_rate': math.nan}
    return {'altitude': float(msg.pose.pose.position.z),
            'climb_rate': vertical_velocity(quat, np.array([v.x, v.y, v.z], dtype=float))}


def fill(msg: Any, values: Mapping[str, Any]) -> Any:
    """Copy nested field values (as built by ``control.commands``) onto a message; return it."""
    for name, value in values.items():
        if isinstance(value, Mapping):
            fill(getattr(msg, name), value)
        else:
            setattr(msg, name, value)
    return msg


#: Parameters every rclpy node has, whatever its config says.
ROS_PARAMETERS = frozenset({'use_sim_time', 'start_type_description_service'})


def read_config(node: Node, config_cls: type[C]) -> C:
    """Build the node's config from its parameters, declaring one typed parameter per field.

    The node must be built with ``automatically_declare_parameters_from_overrides=True``: every
    name given in its YAML or on the command line is then declared, so a name the config does
    not know (a typo) is an error that names it, instead of being silently ignored. Values are
    checked by ``config_cls.from_dict`` (types, ranges). Fields not given are declared with
    their defaults; a float field given as an integer (YAML ``20``) is re-declared as a float,
    so ``ros2 param set`` accepts floats later.

    Raises:
        StartupError: An unknown parameter name or an invalid value (one line).
    """
    owner = node.get_name()
    known = {f.name for f in fields(config_cls)}
    given = {name: node.get_parameter(name).value
             for name in node.get_parameters_by_prefix('')}
    unknown = sorted(n for n in given if n not in known and n not in ROS_PARAMETERS
                     and not n.startswith('qos_overrides.'))
    if unknown:
        raise StartupError(f'{owner}: unknown parameter(s) {unknown}; known: {sorted(known)}')
    try:
        config = config_cls.from_dict({n: v for n, v in given.items() if n in known})
    except ValueError as exc:
        raise StartupError(f'{owner}: invalid parameter: {exc}') from exc
    for name in sorted(known):
        value = getattr(config, name)
        if name not in given:
            node.declare_parameter(name, value)
        elif type(given[name]) is not type(value):
            node.undeclare_parameter(name)
            node.declare_parameter(name, value, ignore_override=True)
    return config


def require(module: str, what: str, hint: str) -> Any:
    """Import an optional message package, or raise ``StartupError`` saying how to fix it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise StartupError(f'{what} needs the {module.split(".")[0]} package, which is not '
                           f'installed ({exc}). {hint}') from exc


class Throttled:
    """Log a message at most once per ``period_s`` per key, counting the ones suppressed."""

    def __init__(self, log: Callable[[str], Any], period_s: float = 5.0) -> None:
        self._log = log
        self.period_s = period_s
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, key: str, message: str) -> None:
        now = time.monotonic()
        last = self._last.get(key, -math.inf)
        if now - last >= self.period_s:
            extra = self._suppressed.pop(key, 0)
            self._last[key] = now
            self._log(message + (f' ({extra} similar messages suppressed)' if extra else ''))
        else:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
