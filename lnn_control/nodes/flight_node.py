"""``flight_node``: camera + IMU in, attitude setpoint out, for a quadrotor.

Outputs (parameter ``output``):
    * ``px4``: ``px4_msgs/VehicleAttitudeSetpoint`` (NED/FRD) plus an ``OffboardControlMode``
      heartbeat at ``offboard_rate_hz`` from its own thread (it keeps its rate while a tick
      is slow); ``px4_release`` picks the message layout.
    * ``mavros``: ``mavros_msgs/AttitudeTarget`` (ENU/FLU).
    * ``generic``: ``sensor_msgs/JointState`` named ``roll, pitch, yaw_rate, thrust`` (standard
      messages only; the sim bridge consumes it).
Parameters: ``config/fly.yaml``; conventions: ``lnn_control.control.commands``.
"""
from __future__ import annotations

import sys
from typing import Any

from lnn_control.control.commands import (
    generic_attitude_fields,
    mavros_attitude_target_fields,
    px4_attitude_setpoint_fields,
    px4_offboard_mode_fields,
)
from lnn_control.control.config import FlightConfig
from lnn_control.control.frames import euler_from_quat
from lnn_control.control.loop import TickResult
from lnn_control.control.vehicles import QuadCommander, YawReference
from lnn_control.nodes.common import fill, require
from lnn_control.nodes.heartbeat import Heartbeat
from lnn_control.nodes.policy_node import PolicyNode
from lnn_control.nodes.spin import run_node
from sensor_msgs.msg import Imu, JointState


class FlightNode(PolicyNode):
    """The drone's policy node (see ``PolicyNode`` for inputs, safety and diagnostics)."""

    vehicle = 'quad'
    config_cls = FlightConfig
    live_parameters = frozenset({'enabled', 'max_tilt', 'max_yaw_rate', 'thrust_min',
                                 'thrust_max', 'hover_thrust', 'failsafe_hold_s',
                                 'descent_thrust'})

    def __init__(self, node_name: str = 'flight_node', **kwargs: Any) -> None:
        self.yaw = YawReference()
        self.heartbeat: Heartbeat | None = None  # PX4 output only
        super().__init__(node_name, **kwargs)

    def make_commander(self) -> QuadCommander:
        cfg = self.config
        return QuadCommander(cfg.limits(), cfg.failsafe_hold_s, cfg.descent_thrust)

    def make_outputs(self) -> None:
        cfg = self.config
        if cfg.output == 'px4':
            msgs = require('px4_msgs.msg', "output 'px4'",
                           'Build px4_msgs (matching your PX4 release) in your workspace, or set '
                           'output: generic.')
            self._setpoint_type = msgs.VehicleAttitudeSetpoint
            self._offboard_type = msgs.OffboardControlMode
            self.command_pub = self.create_output(self._setpoint_type, cfg.px4_setpoint_topic)
            self.offboard_pub = self.create_output(self._offboard_type, cfg.px4_offboard_topic)
            self.heartbeat = Heartbeat(self._heartbeat, cfg.offboard_rate_hz,
                                       self._heartbeat_failed)
        elif cfg.output == 'mavros':
            msgs = require('mavros_msgs.msg', "output 'mavros'",
                           'Install ros-jazzy-mavros-msgs, or set output: generic.')
            self._setpoint_type = msgs.AttitudeTarget
            self.command_pub = self.create_output(self._setpoint_type, cfg.mavros_topic)
        else:
            self._setpoint_type = JointState
            self.command_pub = self.create_output(JointState, cfg.cmd_topic)

    def on_imu_message(self, msg: Imu) -> None:
        if msg.orientation_covariance[0] >= 0.0:  # -1 marks "no orientation" (REP 145)
            q = msg.orientation
            self.yaw.measure(euler_from_quat([q.w, q.x, q.y, q.z])[2])

    def on_activated(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.start()

    def on_deactivated(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()

    def _heartbeat(self) -> None:
        """Publish one ``OffboardControlMode`` (the heartbeat thread's beat)."""
        now_us = self.get_clock().now().nanoseconds // 1000
        self.offboard_pub.publish(fill(self._offboard_type(), px4_offboard_mode_fields(now_us)))

    def _heartbeat_failed(self, exc: Exception) -> None:
        self.get_logger().error(f'offboard heartbeat stopped: {exc}')

    def publish_command(self, result: TickResult, now_ns: int) -> None:
        cmd, cfg = result.command, self.config
        if cfg.output == 'generic':
            values = generic_attitude_fields(now_ns, cfg.frame_id, cmd.roll, cmd.pitch,
                                             cmd.yaw_rate, cmd.thrust)
        else:
            yaw = self.yaw.setpoint(cmd.yaw_rate, 1.0 / cfg.rate_hz)
            if cfg.output == 'px4':
                values = px4_attitude_setpoint_fields(now_ns // 1000, cmd.roll, cmd.pitch, yaw,
                                                      cmd.yaw_rate, cmd.thrust, cfg.px4_release)
            else:
                values = mavros_attitude_target_fields(now_ns, cfg.frame_id, cmd.roll,
                                                       cmd.pitch, yaw, cmd.yaw_rate, cmd.thrust)
        self.command_pub.publish(fill(self._setpoint_type(), values))

    def apply_live(self, config: FlightConfig) -> None:
        self.loop.enabled = config.enabled
        commander = self.loop.commander
        commander.limits = config.limits()
        commander.failsafe_hold_s = config.failsafe_hold_s
        commander.descent_thrust = config.descent_thrust


def main(args: list[str] | None = None) -> int:
    """Console script ``flight_node``."""
    return run_node(FlightNode, args)


if __name__ == '__main__':
    sys.exit(main())
