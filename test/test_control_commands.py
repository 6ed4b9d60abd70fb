"""Command builders checked against the upstream message definitions.

The ``.msg`` texts below are copied from PX4/px4_msgs (release branches), mavlink/mavros and
ros-drivers/ackermann_msgs; rosbags builds types from them, and every builder must fill every
field with a value that the CDR serializer accepts for the declared type.
"""
import math

from lnn_control.control import commands, frames
import numpy as np
import pytest
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from rosbags.typesys.store import Nodetype

PX4_ATTITUDE_SETPOINT_1_14 = """
uint64 timestamp\t\t# time since system start (microseconds)
float32 roll_body\t\t# body angle in NED frame (can be NaN for FW)
float32 pitch_body\t\t# body angle in NED frame (can be NaN for FW)
float32 yaw_body\t\t# body angle in NED frame (can be NaN for FW)
float32 yaw_sp_move_rate\t# rad/s (commanded by user)
# For quaternion-based attitude control
float32[4] q_d\t\t\t# Desired quaternion for quaternion control
float32[3] thrust_body\t\t# Normalized thrust command in body NED frame [-1,1]
bool reset_integral\t# Reset roll/pitch/yaw integrals (navigation logic change)
bool fw_control_yaw_wheel\t# control heading with steering wheel
"""
PX4_ATTITUDE_SETPOINT_1_16 = """
uint32 MESSAGE_VERSION = 0
uint64 timestamp\t\t# time since system start (microseconds)
float32 yaw_sp_move_rate\t# rad/s (commanded by user)
float32[4] q_d\t\t\t# Desired quaternion for quaternion control
float32[3] thrust_body\t\t# Normalized thrust command in body FRD frame [-1,1]
bool reset_integral\t# Reset roll/pitch/yaw integrals (navigation logic change)
bool fw_control_yaw_wheel\t# control heading with steering wheel
"""
PX4_OFFBOARD_CONTROL_MODE = """
uint64 timestamp\t\t# time since system start (microseconds)
bool position
bool velocity
bool acceleration
bool attitude
bool body_rate
bool thrust_and_torque
bool direct_actuator
"""
MAVROS_ATTITUDE_TARGET = """
std_msgs/Header header
uint8 type_mask
uint8 IGNORE_ROLL_RATE = 1\t# body_rate.x
uint8 IGNORE_PITCH_RATE = 2\t# body_rate.y
uint8 IGNORE_YAW_RATE = 4\t# body_rate.z
uint8 IGNORE_THRUST = 64
uint8 IGNORE_ATTITUDE = 128\t# orientation field
geometry_msgs/Quaternion orientation
geometry_msgs/Vector3 body_rate
float32 thrust
"""
ACKERMANN_DRIVE = """
float32 steering_angle          # desired virtual angle (radians)
float32 steering_angle_velocity # desired rate of change (radians/s)
float32 speed                   # desired forward speed (m/s)
float32 acceleration            # desired acceleration (m/s^2)
float32 jerk                    # desired jerk (m/s^3)
"""
ACKERMANN_DRIVE_STAMPED = """
std_msgs/Header          header
AckermannDrive  drive
"""

_NUMPY = {'float32': np.float32, 'float64': np.float64, 'uint8': np.uint8, 'uint64': np.uint64,
          'int32': np.int32, 'uint32': np.uint32}


@pytest.fixture(scope='module')
def store():
    ts = get_typestore(Stores.ROS2_JAZZY)
    for text, name in [(PX4_ATTITUDE_SETPOINT_1_14, 'px4_1_14/msg/VehicleAttitudeSetpoint'),
                       (PX4_ATTITUDE_SETPOINT_1_16, 'px4_msgs/msg/VehicleAttitudeSetpoint'),
                       (PX4_OFFBOARD_CONTROL_MODE, 'px4_msgs/msg/OffboardControlMode'),
                       (MAVROS_ATTITUDE_TARGET, 'mavros_msgs/msg/AttitudeTarget'),
                       (ACKERMANN_DRIVE, 'ackermann_msgs/msg/AckermannDrive'),
                       (ACKERMANN_DRIVE_STAMPED, 'ackermann_msgs/msg/AckermannDriveStamped')]:
        ts.register(get_types_from_msg(text, name))
    return ts


def build(ts, typename, fields):
    """Instantiate ``typename`` from ``fields``; every declared field must be given, none extra."""
    _consts, defs = ts.fielddefs[typename]
    names = [n for n, _ in defs]
    assert sorted(fields) == sorted(names), f'{typename}: fields {sorted(fields)} vs {names}'
    values = {}
    for name, (kind, spec) in defs:
        value = fields[name]
        if kind == Nodetype.NAME:
            values[name] = build(ts, spec, value)
        elif kind == Nodetype.BASE:
            base = spec[0]
            if base == 'bool':
                assert isinstance(value, bool), f'{typename}.{name} must be bool'
            elif base == 'string':
                assert isinstance(value, str), f'{typename}.{name} must be str'
            else:
                is_int = base.startswith(('int', 'uint'))
                assert isinstance(value, int if is_int else float), f'{typename}.{name}'
                value = _NUMPY[base](value) if is_int else value
            values[name] = value
        else:  # ARRAY (fixed length) or SEQUENCE
            (_, (base, _)), length = spec
            if kind == Nodetype.ARRAY:
                assert len(value) == length, f'{typename}.{name} needs {length} values'
            values[name] = (np.asarray(value, dtype=_NUMPY[base]) if base in _NUMPY
                            else list(value))
    msg = ts.types[typename](**values)
    ts.serialize_cdr(msg, typename)  # raises on a type the wire format does not accept
    return msg


def test_px4_1_16_setpoint_matches_definition_and_conventions(store):
    f = commands.px4_attitude_setpoint_fields(123, 0.1, 0.2, 0.0, 0.5, 0.6, '1.16')
    msg = build(store, 'px4_msgs/msg/VehicleAttitudeSetpoint', f)
    assert msg.thrust_body[2] == pytest.approx(-0.6)
    assert msg.yaw_sp_move_rate == pytest.approx(-0.5)  # FLU left turn = FRD negative yaw
    roll, pitch, yaw = frames.euler_from_quat(f['q_d'])
    assert (roll, pitch, yaw) == pytest.approx((0.1, -0.2, math.pi / 2))


@pytest.mark.parametrize('release', ['1.14', '1.15'])
def test_px4_1_14_setpoint_carries_euler_fields(store, release):
    f = commands.px4_attitude_setpoint_fields(7, -0.1, 0.05, math.pi / 2, 0.0, 0.4, release)
    msg = build(store, 'px4_1_14/msg/VehicleAttitudeSetpoint', f)
    assert msg.roll_body == pytest.approx(-0.1)
    assert msg.pitch_body == pytest.approx(-0.05)
    assert msg.yaw_body == pytest.approx(0.0, abs=1e-6)  # facing north in both frames


def test_px4_unknown_release_is_named():
    with pytest.raises(ValueError, match="px4_release.*'1.9'"):
        commands.px4_attitude_setpoint_fields(0, 0, 0, 0, 0, 0.5, '1.9')


def test_offboard_heartbeat_selects_attitude_only(store):
    msg = build(store, 'px4_msgs/msg/OffboardControlMode', commands.px4_offboard_mode_fields(5))
    assert msg.attitude and not (msg.position or msg.velocity or msg.body_rate)


def test_mavros_attitude_target(store):
    f = commands.mavros_attitude_target_fields(1_500_000_000, 'base_link', 0.1, -0.1, 0.3,
                                               0.2, 0.55)
    msg = build(store, 'mavros_msgs/msg/AttitudeTarget', f)
    assert msg.type_mask == 3 and msg.header.stamp.sec == 1 and msg.header.stamp.nanosec == 5e8
    q = [msg.orientation.w, msg.orientation.x, msg.orientation.y, msg.orientation.z]
    assert frames.euler_from_quat(q) == pytest.approx((0.1, -0.1, 0.3))
    assert msg.body_rate.z == pytest.approx(0.2)


def test_ackermann_and_twist(store):
    f = commands.ackermann_fields(10, 'base_link', 1.5, 0.2, -0.7)
    msg = build(store, 'ackermann_msgs/msg/AckermannDriveStamped', f)
    assert msg.drive.steering_angle == pytest.approx(0.2)
    assert msg.drive.steering_angle_velocity == pytest.approx(0.7)
    tw = build(store, 'geometry_msgs/msg/Twist', commands.twist_fields(2.0, 0.3, 0.5))
    assert tw.angular.z == pytest.approx(2.0 * math.tan(0.3) / 0.5)
    assert commands.steering_from_yaw_rate(2.0, tw.angular.z, 0.5) == pytest.approx(0.3)
    assert commands.steering_from_yaw_rate(0.0, 1.0, 0.5) == 0.0


def test_generic_output_is_a_joint_state(store):
    f = commands.generic_attitude_fields(0, 'base_link', 0.1, 0.2, 0.3, 0.4)
    msg = build(store, 'sensor_msgs/msg/JointState', f)
    assert list(msg.name) == ['roll', 'pitch', 'yaw_rate', 'thrust']
    np.testing.assert_allclose(msg.position, [0.1, 0.2, 0.3, 0.4])


def test_stamp_fields_split_whole_nanoseconds():
    assert commands.stamp_fields(round(4.9999999997 * 1e9)) == {'sec': 5, 'nanosec': 0}
    assert commands.stamp_fields(1_500_000_001) == {'sec': 1, 'nanosec': 500_000_001}
