"""``drive_node``: camera + IMU in, steering out, for a car-like rover.

Publishes ``geometry_msgs/Twist`` on ``cmd_topic`` (speed and bicycle-model yaw rate), or
``ackermann_msgs/AckermannDriveStamped`` when ``output: ackermann`` (needs ackermann_msgs).
Parameters: ``config/drive.yaml``; conventions: ``lnn_control.control.commands``.
"""
from __future__ import annotations

import sys
from typing import Any

from geometry_msgs.msg import Twist
from lnn_control.control.commands import ackermann_fields, twist_fields
from lnn_control.control.config import DriveConfig
from lnn_control.control.loop import TickResult
from lnn_control.control.vehicles import RoverCommander
from lnn_control.nodes.common import fill, require
from lnn_control.nodes.policy_node import PolicyNode
from lnn_control.nodes.spin import run_node


class DriveNode(PolicyNode):
    """The rover's policy node (see ``PolicyNode`` for inputs, safety and diagnostics)."""

    vehicle = 'rover'
    config_cls = DriveConfig
    live_parameters = frozenset({'enabled', 'cruise_speed', 'max_steering_angle',
                                 'max_steering_rate'})

    def __init__(self, node_name: str = 'drive_node', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)

    def make_commander(self) -> RoverCommander:
        return RoverCommander(self.config.limits(), self.config.cruise_speed)

    def make_outputs(self) -> None:
        cfg = self.config
        if cfg.output == 'ackermann':
            msgs = require('ackermann_msgs.msg', "output 'ackermann'",
                           'Install ros-jazzy-ackermann-msgs, or set output: twist.')
            self._msg_type = msgs.AckermannDriveStamped
        else:
            self._msg_type = Twist
        self.command_pub = self.create_output(self._msg_type, cfg.cmd_topic)

    def publish_command(self, result: TickResult, now_ns: int) -> None:
        cmd, cfg = result.command, self.config
        if cfg.output == 'ackermann':
            values = ackermann_fields(now_ns, cfg.frame_id, cmd.speed, cmd.steering_angle,
                                      cmd.steering_rate)
        else:
            values = twist_fields(cmd.speed, cmd.steering_angle, cfg.wheelbase)
        self.command_pub.publish(fill(self._msg_type(), values))

    def apply_live(self, config: DriveConfig) -> None:
        self.loop.enabled = config.enabled
        commander = self.loop.commander
        commander.cruise_speed = config.cruise_speed
        commander.limiter.limits = config.limits()


def main(args: list[str] | None = None) -> int:
    """Console script ``drive_node``."""
    return run_node(DriveNode, args)


if __name__ == '__main__':
    sys.exit(main())
