"""Run our console scripts and ``ros2`` commands the way a user does, and watch them over DDS.

``NodeProcess`` starts an executable in a subprocess of its own session (as ``ros2 run`` or a
shell would), with this test run's ROS domain; ``Probe`` is an rclpy node in the test process
(another process, as far as DDS is concerned) that plays camera, IMU and odometry and records
commands and /diagnostics.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from lnn_control.nodes.common import COMMAND_QOS, SENSOR_QOS
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from sensor_msgs.msg import Image, Imu, JointState

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = ROOT / 'config'


def ros_env(**extra: str) -> dict[str, str]:
    """Return the environment of a child process: this run's ROS domain, headless rendering."""
    env = dict(os.environ)
    env.update({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST', 'MUJOCO_GL': 'osmesa',
                'PYOPENGL_PLATFORM': 'osmesa', 'PYTHONUNBUFFERED': '1',
                'RCUTILS_COLORIZED_OUTPUT': '0'})
    env.update(extra)
    return env


def executable(name: str) -> str:
    """Return the path of a console script installed next to this Python."""
    path = BIN / name
    if not path.is_file():
        pytest.fail(f'{name} is not installed next to {sys.executable} (pip install -e .)')
    return str(path)


class NodeProcess:
    """One child process, its output in a file, signalled and reaped like a terminal would.

    Args:
        argv: The command line.
        log: Where stdout and stderr go.
        env: Environment (default ``ros_env()``).
        group: Signal the whole process group (``ros2 launch`` and its children), as Ctrl-C
            in a terminal does; else only the process.
    """

    def __init__(self, argv: Sequence[str], log: Path, *, env: dict[str, str] | None = None,
                 group: bool = False) -> None:
        self.argv = list(argv)
        self.log = log
        self.group = group
        self._file = open(log, 'wb')  # noqa: SIM115 (closed in wait/kill)
        self.process = subprocess.Popen(self.argv, stdout=self._file, stderr=subprocess.STDOUT,
                                        env=env or ros_env(), start_new_session=True, cwd=ROOT)

    @property
    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.process.poll() is None

    def send(self, sig: int) -> None:
        """Send ``sig`` (to the group when ``group``)."""
        if self.group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)

    def wait(self, timeout_s: float) -> int:
        """Return the exit code; a process still running after ``timeout_s`` fails the test."""
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f'{self.argv[0]} still running after {timeout_s} s:\n{self.output()}')
        self._file.close()
        return code

    def stop(self, sig: int, timeout_s: float = 10.0) -> tuple[int, float]:
        """Send ``sig``; return the exit code and the seconds until the process had exited."""
        start = time.monotonic()
        self.send(sig)
        deadline = start + timeout_s
        while self.running and time.monotonic() < deadline:
            time.sleep(0.005)
        seconds = time.monotonic() - start
        return self.wait(timeout_s=1.0), seconds

    def kill(self) -> None:
        """Kill the process (group) if still running."""
        if self.running:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self._file.close()

    def output(self) -> str:
        """Return everything the process printed so far."""
        return self.log.read_text(errors='replace')

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


class Probe:
    """An rclpy node in its own context: sensor feeds out, commands and diagnostics in."""

    def __init__(self, name: str = 'probe') -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.diagnostics: dict[str, dict[str, str]] = {}
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 50)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            values['message'] = status.message
            self.diagnostics[status.name.split(':')[0]] = values

    def record(self, msg_type: Any, topic: str, qos: Any = COMMAND_QOS) -> list[tuple[float, Any]]:
        """Return a list that fills with ``(monotonic time, message)`` on ``topic``."""
        received: list[tuple[float, Any]] = []
        self.node.create_subscription(msg_type, topic,
                                      lambda m: received.append((time.monotonic(), m)), qos)
        return received

    def spin_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Spin until ``predicate()`` or the timeout; return its last value."""
        deadline = time.monotonic() + timeout_s
        while not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)
        return predicate()

    def spin_for(self, seconds: float) -> None:
        """Spin for ``seconds``."""
        self.spin_until(lambda: False, seconds)

    def close(self) -> None:
        """Destroy the node and its context."""
        import rclpy

        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SensorFeed:
    """Camera, IMU and (optionally) odometry for one vehicle namespace, published by a probe.

    Args:
        probe: The publishing node.
        namespace: Prefix of the vehicle's relative topics ('' for none).
        image_hw: Frame size.
        odometry: Also publish ``odom`` (a drone policy with state inputs needs it).
        rate_hz: Rate of every stream.
    """

    def __init__(self, probe: Probe, namespace: str = '', *, image_hw: tuple[int, int] = (48, 128),
                 odometry: bool = False, rate_hz: float = 20.0) -> None:
        prefix = f'{namespace.rstrip("/")}/' if namespace else ''
        node = probe.node
        self.image_pub = node.create_publisher(Image, prefix + 'camera/image_raw', SENSOR_QOS)
        self.imu_pub = node.create_publisher(Imu, prefix + 'imu/data', SENSOR_QOS)
        self.odom_pub = (node.create_publisher(Odometry, prefix + 'odom', SENSOR_QOS)
                         if odometry else None)
        h, w = image_hw
        self.frame = Image(height=h, width=w, encoding='rgb8', step=3 * w)
        self.frame.data = np.full(h * w * 3, 110, np.uint8).tobytes()
        self.clock = node.get_clock()
        self.camera_on = True
        self.frames = 0
        self.stamp_offset_s = 0.0
        self.timer = node.create_timer(1.0 / rate_hz, self.publish)

    def publish(self) -> None:
        """Publish one sample of each stream, stamped now (plus ``stamp_offset_s``)."""
        stamp = self.clock.now().nanoseconds + round(self.stamp_offset_s * 1e9)
        stamp_msg = _stamp(stamp)
        if self.camera_on:
            self.frame.header.stamp = stamp_msg
            self.image_pub.publish(self.frame)
            self.frames += 1
        imu = Imu()
        imu.header.stamp = stamp_msg
        imu.linear_acceleration.z = 9.81
        imu.orientation.w = 1.0
        self.imu_pub.publish(imu)
        if self.odom_pub is not None:
            odom = Odometry()
            odom.header.stamp = stamp_msg
            odom.pose.pose.position.z = 1.5
            odom.pose.pose.orientation.w = 1.0
            self.odom_pub.publish(odom)


def _stamp(t_ns: int) -> Any:
    from builtin_interfaces.msg import Time

    return Time(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000)


#: The command each vehicle node publishes, and how to read it as numbers.
COMMANDS = {
    'drive_node': (Twist, 'cmd_vel', lambda m: (m.linear.x, m.angular.z)),
    'flight_node': (JointState, 'attitude_cmd', lambda m: tuple(m.position)),
}
#: The safe command of the shipped YAML files: stop (rover); level at hover thrust (drone).
SAFE = {'drive_node': (0.0, 0.0), 'flight_node': (0.0, 0.0, 0.0, 0.42)}
#: The drone's safe command after ``failsafe_hold_s``: level, sinking at hover - descent thrust.
DESCENT = (0.0, 0.0, 0.0, 0.38)


def is_safe(name: str, command: Sequence[float]) -> bool:
    """Whether ``command`` (numbers, as ``COMMANDS`` reads them) is one of the safe commands."""
    safe = [SAFE[name], DESCENT] if name == 'flight_node' else [SAFE[name]]
    return any(len(command) == len(s)
               and all(abs(a - b) < 1e-6 for a, b in zip(command, s, strict=True)) for s in safe)
