"""Helpers shared by the nodes: QoS profiles, message <-> array conversions, parameters, logging.

No Node subclass lives here (one per file); these are the small conversions every adapter needs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
import contextlib
from dataclasses import fields
import math
import sys
import time
from typing import Any

from lnn_control.control.frames import vertical_velocity
import numpy as np
import rclpy
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    qos_profile_sensor_data,
    QoSProfile,
    ReliabilityPolicy,
)

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
    """``nav_msgs/Odometry`` (pose in the world frame, twist in the body frame, as REP 105 and
    mavros' ``local_position/odom`` have them) to the policy's state inputs."""
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


def declare_config(node: Node, config_cls: type) -> dict[str, Any]:
    """Declare one typed parameter per dataclass field (default = the field's default).

    Returns the values after YAML/launch overrides, ready for ``config_cls.from_dict``.
    """
    values = {}
    for f in fields(config_cls):
        values[f.name] = node.declare_parameter(f.name, f.default).value
    return values


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


def make_executor(kind: str = 'events', *, context: Any = None,
                  num_threads: int = 3) -> Executor:
    """The executor named by a node's ``executor`` parameter.

    ``events`` is rclpy's C++ ``EventsExecutor`` (rclpy.experimental, Jazzy and later): one
    thread, no Python wait-set rebuild per callback. On the 2-core bench machine the Python
    ``MultiThreadedExecutor`` kept a core busy in its wait loop and starved the control tick of
    the GIL (docs/ros2.md). ``multi_threaded`` keeps the callback groups on ``num_threads``
    threads. An rclpy without the events executor falls back to ``multi_threaded``, saying so.
    """
    if kind == 'events':
        try:
            from rclpy.experimental.events_executor import EventsExecutor
        except ImportError as exc:
            print(f'warning: executor events unavailable ({exc}); using multi_threaded',
                  file=sys.stderr)
        else:
            # It enables faulthandler on sys.stderr, which needs a real file descriptor; a
            # captured stderr (pytest, an IDE console) has none.
            with contextlib.redirect_stderr(sys.stderr if _has_fileno(sys.stderr)
                                            else sys.__stderr__):
                return EventsExecutor(context=context)
    elif kind != 'multi_threaded':
        raise ValueError(f"executor: expected 'events' or 'multi_threaded', got {kind!r}")
    return MultiThreadedExecutor(num_threads=num_threads, context=context)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return True


def spin_node(node: Node) -> None:
    """Spin until shutdown on the executor the node's config names (``events`` if none)."""
    executor = make_executor(getattr(getattr(node, 'config', None), 'executor', 'events'))
    executor.add_node(node)
    executor.spin()


def run_node(node_cls: type, args: list[str] | None,
             spin: Callable[[Any], None] = spin_node) -> int:
    """Init rclpy, build ``node_cls`` and ``spin`` it, shut down cleanly.

    Start-up errors print one line and return 1; Ctrl-C and external shutdown return 0.
    """
    rclpy.init(args=args)
    node = None
    try:
        node = node_cls()
        spin(node)
    except StartupError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
