"""``sim_bridge_node``: the simulator on ROS 2 topics, for closed-loop and HIL runs.

Publishes, per env step (the camera and IMU rate): ``sensor_msgs/Image`` (rgb8), ``sensor_msgs/
Imu`` (with the true orientation), ground truth as ``nav_msgs/Odometry`` and as JSON
(``std_msgs/String``, for the nodes' expert mode), ``/clock`` when ``publish_clock``, and JSON
progress, episode and ``done`` events on ``metrics_topic``. Consumes ``geometry_msgs/Twist``
(rover) or the generic ``sensor_msgs/JointState`` attitude command (quad).

Faults (``drop_rate``, ``delay_s``, ``jitter_s``) are applied to the camera and IMU messages.
Standalone, the node exits once the run is finished; parameters: ``config/sim_bridge*.yaml``.
"""
from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Twist
from lnn_control.control.bridge_config import BridgeConfig
from lnn_control.control.commands import stamp_fields
from lnn_control.control.faults import FaultInjector
from lnn_control.control.frames import quat_rotate
from lnn_control.control.ground_truth import encode_privileged
from lnn_control.control.sim_session import SimSession, SimStep
from lnn_control.nodes.common import (
    COMMAND_QOS,
    read_config,
    require,
    SENSOR_QOS,
    StartupError,
    STATE_QOS,
    Throttled,
)
from lnn_control.nodes.spin import run_node
from nav_msgs.msg import Odometry
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, Imu, JointState
from std_msgs.msg import String

#: Release timer period for delayed messages (fault injection only).
RELEASE_PERIOD_S = 0.001


def _time_msg(t: float) -> Time:
    """Seconds to a Time, through whole nanoseconds (4.9999999997 s must not become 4 s)."""
    return Time(**stamp_fields(round(t * 1e9)))


class SimBridgeNode(Node):
    """Steps the env at ``control_hz`` (scaled by ``real_time_factor``) on a wall timer.

    Raises:
        StartupError: Invalid parameters or a scenario the env rejects.
    """

    def __init__(self, node_name: str = 'sim_bridge_node', **kwargs: Any) -> None:
        super().__init__(node_name, automatically_declare_parameters_from_overrides=True,
                         **kwargs)
        self.config = read_config(self, BridgeConfig)
        cfg = self.config
        ackermann = None
        if cfg.vehicle == 'rover' and cfg.rover_command == 'ackermann':
            ackermann = require('ackermann_msgs.msg', "rover_command 'ackermann'",
                                'Install ros-jazzy-ackermann-msgs, or set rover_command: twist.')
        try:
            self.session = SimSession(cfg)
        except ValueError as exc:  # e.g. an unknown scenario
            raise StartupError(f'{self.get_name()}: {exc}') from exc
        self.warn = Throttled(self.get_logger().warning)
        self.image_pub = self.create_publisher(Image, cfg.image_topic, SENSOR_QOS)
        self.imu_pub = self.create_publisher(Imu, cfg.imu_topic, SENSOR_QOS)
        self.truth_pub = self.create_publisher(String, cfg.ground_truth_topic, STATE_QOS)
        self.odom_pub = self.create_publisher(Odometry, cfg.odom_topic, STATE_QOS)
        self.metrics_pub = self.create_publisher(String, cfg.metrics_topic, STATE_QOS)
        self.clock_pub = self.create_publisher(Clock, '/clock', 10) if cfg.publish_clock else None
        if ackermann is not None:
            self.create_subscription(ackermann.AckermannDriveStamped, cfg.command_topic,
                                     self._on_ackermann, COMMAND_QOS)
        elif cfg.vehicle == 'rover':
            self.create_subscription(Twist, cfg.command_topic, self._on_twist, COMMAND_QOS)
        else:
            self.create_subscription(JointState, cfg.command_topic, self._on_joint_state,
                                     COMMAND_QOS)
        self.faults = FaultInjector(cfg.faults(), np.random.default_rng(cfg.fault_seed))
        self._action: np.ndarray | None = None
        self._action_time = -math.inf
        self.commands_received = 0
        self.done = False
        self._last_progress = -math.inf
        period = 1.0 / (cfg.rate_hz * cfg.real_time_factor)
        self.timer = self.create_timer(period, self._on_step)
        if cfg.faults().delays:
            self.create_timer(RELEASE_PERIOD_S, self._release)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._publish(self.session.current())
        self.get_logger().info(
            f'{cfg.vehicle} sim, scenario {cfg.scenario!r}, {cfg.rate_hz} Hz x'
            f'{cfg.real_time_factor:g}, {cfg.laps} lap(s); commands on {cfg.command_topic}')

    def stop(self) -> None:
        """Log where the run stands (the vehicle is simulated: nothing to make safe)."""
        self.get_logger().info(f'stopped after {self.session.laps_done}/{self.config.laps} '
                               f'lap(s), {self.session.episodes} episode(s)')

    def _on_set_parameters(self, params: list[Any]) -> SetParametersResult:
        """Refuse parameter changes rather than ignore them: the simulator is configured once."""
        names = sorted(p.name for p in params)
        return SetParametersResult(successful=False,
                                   reason=f'{names}: sim_bridge_node reads its parameters at '
                                          'start-up; restart it to change them')

    # ----------------------------------------------------------------- commands
    def _on_twist(self, msg: Twist) -> None:
        self._take(lambda: self.session.action_from_twist(msg.linear.x, msg.angular.z))

    def _on_ackermann(self, msg: Any) -> None:
        drive = msg.drive
        self._take(lambda: self.session.action_from_ackermann(drive.speed, drive.steering_angle))

    def _on_joint_state(self, msg: JointState) -> None:
        named = dict(zip(msg.name, msg.position, strict=False))
        self._take(lambda: self.session.action_from_named(named))

    def _take(self, convert: Any) -> None:
        try:
            action = convert()
        except (ValueError, KeyError) as exc:
            self.warn('command', f'command ignored: {exc}')
            return
        if not np.all(np.isfinite(action)):
            self.warn('command', f'command ignored: non-finite {action.tolist()}')
            return
        self._action, self._action_time = action, time.monotonic()
        self.commands_received += 1

    # ----------------------------------------------------------------- stepping
    def _on_step(self) -> None:
        if self.done or not self.context.ok():  # shutting down (SIGINT/SIGTERM)
            return
        fresh = time.monotonic() - self._action_time <= self.config.command_timeout_s
        try:
            step = self.session.step(self._action if fresh else None)
        except ValueError as exc:  # an action the env rejects: log it, hold the safe action
            self.warn('step', f'env step failed: {exc}')
            step = self.session.step(None)
        self._publish(step)

    def _stamp(self) -> Any:
        if self.config.publish_clock:
            return _time_msg(self.session.sim_time)
        return self.get_clock().now().to_msg()

    def _publish(self, step: SimStep) -> None:
        cfg = self.config
        stamp = self._stamp()
        if self.clock_pub is not None:
            self.clock_pub.publish(Clock(clock=stamp))
        now = time.monotonic()
        self.faults.submit((self.image_pub, self._image_msg(step, stamp)), now)
        self.faults.submit((self.imu_pub, self._imu_msg(step, stamp)), now)
        if not cfg.faults().delays:
            self._release()
        self.truth_pub.publish(String(data=encode_privileged(step.privileged)))
        self.odom_pub.publish(self._odom_msg(step, stamp))
        if step.episode_summary is not None:
            self._event('episode', step.episode_summary)
            s = step.episode_summary
            self.get_logger().info(f'episode {s["episode"]} ended: laps {s["laps"]}, '
                                   f'total {self.session.laps_done}/{cfg.laps}')
        if now - self._last_progress >= cfg.progress_period_s and not self.session.finished:
            self._last_progress = now
            self._event('progress', step.progress)
        if self.session.finished and not self.done:
            self.done = True
            self._event('done', {'laps_done': self.session.laps_done,
                                 'episodes': self.session.episodes,
                                 'summaries': self.session.summaries,
                                 'dropped_messages': self.faults.dropped,
                                 'commands_received': self.commands_received})

    def _release(self) -> None:
        for publisher, msg in self.faults.release(time.monotonic()):
            publisher.publish(msg)

    def _event(self, kind: str, payload: dict[str, Any]) -> None:
        self.metrics_pub.publish(String(data=json.dumps({'event': kind, **payload})))

    def _image_msg(self, step: SimStep, stamp: Any) -> Image:
        image = step.obs['image']
        msg = Image(height=image.shape[0], width=image.shape[1], encoding='rgb8',
                    is_bigendian=0, step=image.shape[1] * 3)
        msg.header.stamp = stamp
        msg.header.frame_id = self.config.frame_id
        msg.data = image.tobytes()
        return msg

    def _imu_msg(self, step: SimStep, stamp: Any) -> Imu:
        imu = step.obs['imu']
        msg = Imu()
        msg.header.stamp = stamp
        msg.header.frame_id = self.config.frame_id
        w, x, y, z = step.pose[1]
        msg.orientation.w, msg.orientation.x = float(w), float(x)
        msg.orientation.y, msg.orientation.z = float(y), float(z)
        a, g = msg.linear_acceleration, msg.angular_velocity
        a.x, a.y, a.z = (float(v) for v in imu[:3])
        g.x, g.y, g.z = (float(v) for v in imu[3:6])
        return msg

    def _odom_msg(self, step: SimStep, stamp: Any) -> Odometry:
        msg = Odometry()
        msg.header.stamp = stamp
        msg.header.frame_id = self.config.world_frame_id
        msg.child_frame_id = self.config.frame_id
        position, quat = step.pose
        pose = msg.pose.pose
        pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
        pose.orientation.w, pose.orientation.x = float(quat[0]), float(quat[1])
        pose.orientation.y, pose.orientation.z = float(quat[2]), float(quat[3])
        velocity = step.privileged.get('velocity')
        if velocity is not None:  # the twist is in the body frame (child_frame_id), as REP 105
            inverse = np.array([quat[0], -quat[1], -quat[2], -quat[3]], dtype=float)
            body = quat_rotate(inverse / np.linalg.norm(inverse), velocity)
            linear = msg.twist.twist.linear
            linear.x, linear.y, linear.z = (float(v) for v in body)
        return msg

    def destroy_node(self) -> None:
        self.session.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Console script ``sim_bridge_node``: runs until the laps are done (or a signal)."""
    return run_node(SimBridgeNode, args, finished=lambda node: node.done)


if __name__ == '__main__':
    sys.exit(main())
