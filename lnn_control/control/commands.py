"""Command builders: a vehicle command as the field values of each output message.

Builders return nested dicts named exactly like the message fields, so they stay free of rclpy
and of optional message packages (ackermann_msgs, px4_msgs, mavros_msgs), and tests can check
every field name and type against the upstream ``.msg`` definitions. ``nodes.messages.fill``
copies a dict onto a real message instance.

Outputs:
    * ``twist``: ``geometry_msgs/Twist`` (REP 103 unicycle form): ``linear.x`` speed in m/s,
      ``angular.z`` yaw rate ``v * tan(delta) / L`` in rad/s (positive = left).
    * ``ackermann``: ``ackermann_msgs/AckermannDriveStamped`` with the steering angle in rad.
    * ``px4``: ``px4_msgs/VehicleAttitudeSetpoint`` (NED/FRD, ``q_d``, ``thrust_body[2] < 0``
      up) plus an ``OffboardControlMode`` heartbeat with ``attitude=True``.
    * ``mavros``: ``mavros_msgs/AttitudeTarget`` (ENU/FLU orientation, yaw body rate, thrust).
    * ``generic``: ``sensor_msgs/JointState`` with ``name = GENERIC_NAMES`` and ``position`` the
      action ``[roll rad, pitch rad, yaw_rate rad/s, thrust 0..1]`` in FLU (the quad env's
      action), stamped: standard messages only, consumed by the sim bridge.
"""
from __future__ import annotations

import math
from typing import Any

from lnn_control.control.frames import (
    euler_flu_to_frd,
    px4_thrust_body,
    quat_enu_flu_to_ned_frd,
    quat_from_euler,
)

#: PX4 releases whose VehicleAttitudeSetpoint layout is known, oldest first.
PX4_RELEASES = ('1.14', '1.15', '1.16')
#: Joint names of the generic attitude output, in action order.
GENERIC_NAMES = ('roll', 'pitch', 'yaw_rate', 'thrust')
#: mavros_msgs/AttitudeTarget.type_mask bits.
MAVROS_IGNORE_ROLL_RATE = 1
MAVROS_IGNORE_PITCH_RATE = 2


def stamp_fields(t_ns: int) -> dict[str, int]:
    """``builtin_interfaces/Time`` fields from integer nanoseconds."""
    return {'sec': int(t_ns // 1_000_000_000), 'nanosec': int(t_ns % 1_000_000_000)}


def yaw_rate_from_steering(speed: float, steering_angle: float, wheelbase: float) -> float:
    """Bicycle-model yaw rate ``v tan(delta) / L`` in rad/s."""
    return speed * math.tan(steering_angle) / wheelbase


def steering_from_yaw_rate(speed: float, yaw_rate: float, wheelbase: float) -> float:
    """Inverse of :func:`yaw_rate_from_steering`; straight (0) when the speed is ~zero."""
    if abs(speed) < 1e-6:
        return 0.0
    return math.atan(yaw_rate * wheelbase / speed)


def twist_fields(speed: float, steering_angle: float, wheelbase: float) -> dict[str, Any]:
    """``geometry_msgs/Twist`` for a car-like rover."""
    return {
        'linear': {'x': float(speed), 'y': 0.0, 'z': 0.0},
        'angular': {'x': 0.0, 'y': 0.0,
                    'z': float(yaw_rate_from_steering(speed, steering_angle, wheelbase))},
    }


def ackermann_fields(t_ns: int, frame_id: str, speed: float, steering_angle: float,
                     steering_rate: float) -> dict[str, Any]:
    """``ackermann_msgs/AckermannDriveStamped`` (angle in rad, rates in rad/s, speed in m/s)."""
    return {
        'header': {'stamp': stamp_fields(t_ns), 'frame_id': frame_id},
        'drive': {'steering_angle': float(steering_angle),
                  'steering_angle_velocity': float(abs(steering_rate)),
                  'speed': float(speed), 'acceleration': 0.0, 'jerk': 0.0},
    }


def px4_attitude_setpoint_fields(timestamp_us: int, roll: float, pitch: float, yaw: float,
                                 yaw_rate: float, thrust: float, release: str) -> dict[str, Any]:
    """``px4_msgs/VehicleAttitudeSetpoint`` from an ENU/FLU attitude command.

    Args:
        timestamp_us: PX4 time in microseconds (the node's clock; PX4 re-stamps on receipt).
        roll, pitch, yaw: Desired attitude, FLU body in ENU world, rad.
        yaw_rate: Desired yaw rate in FLU (positive = left), rad/s.
        thrust: Normalized collective thrust 0..1.
        release: One of ``PX4_RELEASES``; 1.14 and 1.15 carry ``roll_body``/``pitch_body``/
            ``yaw_body``, which 1.16 removed.

    Raises:
        ValueError: Unknown release.
    """
    if release not in PX4_RELEASES:
        raise ValueError(f'px4_release: expected one of {PX4_RELEASES}, got {release!r}')
    q = quat_enu_flu_to_ned_frd(quat_from_euler(roll, pitch, yaw))
    fields: dict[str, Any] = {
        'timestamp': int(timestamp_us),
        'yaw_sp_move_rate': float(-yaw_rate),
        'q_d': [float(c) for c in q],
        'thrust_body': px4_thrust_body(thrust),
        'reset_integral': False,
        'fw_control_yaw_wheel': False,
    }
    if release in ('1.14', '1.15'):
        r, p, y = euler_flu_to_frd(roll, pitch, yaw)
        fields.update(roll_body=float(r), pitch_body=float(p), yaw_body=float(y))
    return fields


def px4_offboard_mode_fields(timestamp_us: int) -> dict[str, Any]:
    """``px4_msgs/OffboardControlMode`` heartbeat selecting attitude control."""
    return {'timestamp': int(timestamp_us), 'position': False, 'velocity': False,
            'acceleration': False, 'attitude': True, 'body_rate': False,
            'thrust_and_torque': False, 'direct_actuator': False}


def mavros_attitude_target_fields(t_ns: int, frame_id: str, roll: float, pitch: float,
                                  yaw: float, yaw_rate: float, thrust: float) -> dict[str, Any]:
    """``mavros_msgs/AttitudeTarget``: ENU/FLU orientation, body yaw rate, thrust 0..1."""
    w, x, y, z = quat_from_euler(roll, pitch, yaw)
    return {
        'header': {'stamp': stamp_fields(t_ns), 'frame_id': frame_id},
        'type_mask': MAVROS_IGNORE_ROLL_RATE | MAVROS_IGNORE_PITCH_RATE,
        'orientation': {'x': float(x), 'y': float(y), 'z': float(z), 'w': float(w)},
        'body_rate': {'x': 0.0, 'y': 0.0, 'z': float(yaw_rate)},
        'thrust': float(thrust),
    }


def generic_attitude_fields(t_ns: int, frame_id: str, roll: float, pitch: float,
                            yaw_rate: float, thrust: float) -> dict[str, Any]:
    """``sensor_msgs/JointState`` carrying the quad action by name (see module docstring)."""
    return {
        'header': {'stamp': stamp_fields(t_ns), 'frame_id': frame_id},
        'name': list(GENERIC_NAMES),
        'position': [float(roll), float(pitch), float(yaw_rate), float(thrust)],
        'velocity': [], 'effort': [],
    }
