"""flight_node over rclpy: generic attitude output, failsafe hover then descent, recovery.

Also the state estimate (nav_msgs/Odometry) a policy with state inputs waits for, and the PX4
and MAVROS outputs (over stand-in message packages: px4_msgs and mavros_msgs have no wheels).
"""
from pathlib import Path
import sys
import time
import types

from lnn_control.models.checkpoint import save_checkpoint
from lnn_control.models.policy import Policy, PolicyConfig
from lnn_control.nodes.common import COMMAND_QOS, SENSOR_QOS
from lnn_control.nodes.launcher import LaunchOptions, LaunchSession
import numpy as np
import pytest
from sensor_msgs.msg import Image, Imu, JointState
import torch

HOVER, DESCENT, HOLD_S = 0.42, 0.04, 0.5
ROOT = Path(__file__).resolve().parent.parent


def publish_sensors(image_pub, imu_pub, stamp):
    """Publish a grey 128x64 frame (when ``image_pub`` is given) and a level, still IMU."""
    if image_pub is not None:
        img = Image(height=64, width=128, encoding='bgr8', step=384)
        img.header.stamp = stamp
        img.data = np.full(64 * 384, 120, np.uint8).tobytes()
        image_pub.publish(img)
    imu = Imu()
    imu.header.stamp = stamp
    imu.linear_acceleration.z = 9.81
    imu_pub.publish(imu)


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    import rclpy

    torch.manual_seed(0)
    ckpt = tmp_path_factory.mktemp('policy') / 'quad.pt'
    save_checkpoint(ckpt, Policy(PolicyConfig.for_vehicle('quad')))
    options = LaunchOptions(checkpoint=str(ckpt), overrides={'flight_node': {
        'hover_thrust': HOVER, 'descent_thrust': DESCENT, 'failsafe_hold_s': HOLD_S}})
    with LaunchSession('fly', options) as s:
        node = rclpy.create_node('harness', context=s.context)
        image_pub = node.create_publisher(Image, 'camera/image_raw', SENSOR_QOS)
        imu_pub = node.create_publisher(Imu, 'imu/data', SENSOR_QOS)
        s.commands = []
        s.camera_on = True
        node.create_subscription(JointState, 'attitude_cmd', s.commands.append, COMMAND_QOS)

        def publish():
            stamp = node.get_clock().now().to_msg()
            publish_sensors(image_pub if s.camera_on else None, imu_pub, stamp)

        node.create_timer(0.02, publish)
        s.executor.add_node(node)
        s.spin_until(lambda: len(s.commands) > 20, 20.0)
        yield s


def last(session):
    msg = session.commands[-1]
    return dict(zip(msg.name, msg.position, strict=True))


def test_generic_output_names_and_limits(session):
    session.spin_until(lambda: not session.vehicle_node.last_result.safe, 3.0)
    cmd = last(session)
    assert list(cmd) == ['roll', 'pitch', 'yaw_rate', 'thrust']
    assert np.hypot(cmd['roll'], cmd['pitch']) <= 0.5 + 1e-6
    assert 0.05 <= cmd['thrust'] <= 0.9


def test_camera_stall_levels_then_descends_then_recovers(session):
    session.camera_on = False

    def level_at(thrust):
        cmd = last(session)
        return ((cmd['roll'], cmd['pitch'], cmd['yaw_rate']) == (0.0, 0.0, 0.0)
                and cmd['thrust'] == pytest.approx(thrust))

    assert session.spin_until(lambda: level_at(HOVER), 5.0)
    assert session.spin_until(lambda: level_at(HOVER - DESCENT), HOLD_S + 2.0)
    session.camera_on = True
    assert session.spin_until(lambda: not session.vehicle_node.last_result.safe, 5.0)


def test_a_policy_with_state_inputs_flies_only_on_a_fresh_state_estimate(tmp_path):
    from lnn_control.control.frames import quat_from_euler
    from nav_msgs.msg import Odometry
    import rclpy

    ckpt = tmp_path / 'quad_state.pt'
    save_checkpoint(ckpt, Policy(PolicyConfig.for_vehicle(
        'quad', state_inputs=['altitude', 'climb_rate'])))
    options = LaunchOptions(checkpoint=str(ckpt), overrides={'flight_node': {
        'state_topic': 'autopilot/odom'}})
    with LaunchSession('fly', options) as s:
        node = rclpy.create_node('harness', context=s.context)
        image_pub = node.create_publisher(Image, 'camera/image_raw', SENSOR_QOS)
        imu_pub = node.create_publisher(Imu, 'imu/data', SENSOR_QOS)
        odom_pub = node.create_publisher(Odometry, 'autopilot/odom', SENSOR_QOS)
        s.odom_on = False
        pitch = quat_from_euler(0.0, 0.3, 0.0)

        def publish():
            stamp = node.get_clock().now().to_msg()
            publish_sensors(image_pub, imu_pub, stamp)
            if s.odom_on:
                odom = Odometry()
                odom.header.stamp = stamp
                odom.pose.pose.position.z = 1.7
                o = odom.pose.pose.orientation
                o.w, o.x, o.y, o.z = (float(v) for v in pitch)
                odom.twist.twist.linear.x = 1.0  # body forward, nose down: sinking
                odom_pub.publish(odom)

        node.create_timer(0.02, publish)
        s.executor.add_node(node)
        flight = s.vehicle_node
        assert s.spin_until(lambda: flight.last_result is not None
                            and 'state' in flight.last_result.reason, 10.0)
        s.odom_on = True
        assert s.spin_until(lambda: not flight.last_result.safe, 5.0)
        assert flight.inputs.state == pytest.approx({'altitude': 1.7,
                                                     'climb_rate': -np.sin(0.3)})


class Recorder:
    """A publisher of a message package that is not installed (px4_msgs, mavros_msgs).

    It records what would go out, and where.
    """

    def __init__(self, topic):
        self.topic = topic
        self.sent = []

    def publish(self, msg):
        self.sent.append((time.monotonic(), msg))

    def wait_for_all_acked(self, timeout):
        return True


def fake_messages(module, *names):
    """Make a stand-in ``<package>.msg`` module: classes whose fields ``fill`` can set."""
    package = types.ModuleType(module)
    for name in names:
        def init(self):
            self.header = types.SimpleNamespace(stamp=types.SimpleNamespace())
            self.orientation = types.SimpleNamespace()
            self.body_rate = types.SimpleNamespace()

        setattr(package, name, type(name, (), {'__init__': init}))
    return package


@pytest.fixture
def autopilot_node(monkeypatch, tmp_path):
    """Build a FlightNode with an autopilot output over stand-in message packages."""
    from lnn_control.nodes.flight_node import FlightNode
    import rclpy
    from rclpy.context import Context

    monkeypatch.setitem(sys.modules, 'px4_msgs.msg', fake_messages(
        'px4_msgs.msg', 'VehicleAttitudeSetpoint', 'OffboardControlMode'))
    monkeypatch.setitem(sys.modules, 'mavros_msgs.msg', fake_messages(
        'mavros_msgs.msg', 'AttitudeTarget'))
    torch.manual_seed(0)
    ckpt = tmp_path / 'quad.pt'
    save_checkpoint(ckpt, Policy(PolicyConfig.for_vehicle('quad')))
    fake_types = (sys.modules['px4_msgs.msg'].VehicleAttitudeSetpoint,
                  sys.modules['px4_msgs.msg'].OffboardControlMode,
                  sys.modules['mavros_msgs.msg'].AttitudeTarget)

    class AutopilotFlightNode(FlightNode):

        def create_output(self, msg_type, topic):
            if msg_type in fake_types:
                return Recorder(self.resolve_topic_name(topic))
            return super().create_output(msg_type, topic)

    context = Context()
    rclpy.init(context=context)
    built = []

    def build(output, namespace=''):
        args = ['--ros-args', '--params-file', str(ROOT / 'config' / 'fly.yaml'),
                '-p', f'output:={output}', '-p', f'checkpoint:={ckpt}']
        if namespace:
            args += ['-r', f'__ns:={namespace}']
        node = AutopilotFlightNode(context=context, cli_args=args, use_global_arguments=False)
        built.append(node)
        return node

    yield context, build
    for node in built:
        node.stop()
        node.destroy_node()
    rclpy.try_shutdown(context=context)


@pytest.mark.parametrize('namespace, prefix', [('', ''), ('/uav3', '/uav3')])
def test_autopilot_topics_follow_the_namespace(autopilot_node, namespace, prefix):
    _, build = autopilot_node
    px4 = build('px4', namespace)
    assert px4.command_pub.topic == f'{prefix}/fmu/in/vehicle_attitude_setpoint'
    assert px4.offboard_pub.topic == f'{prefix}/fmu/in/offboard_control_mode'
    mavros = build('mavros', namespace)
    assert mavros.command_pub.topic == f'{prefix}/mavros/setpoint_raw/attitude'


def test_px4_heartbeat_keeps_its_rate_while_the_policy_stalls(autopilot_node):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context, build = autopilot_node
    node = build('px4')
    harness = rclpy.create_node('harness', context=context)
    image_pub = harness.create_publisher(Image, 'camera/image_raw', SENSOR_QOS)
    imu_pub = harness.create_publisher(Imu, 'imu/data', SENSOR_QOS)
    harness.create_timer(0.02, lambda: publish_sensors(
        image_pub, imu_pub, harness.get_clock().now().to_msg()))
    executor = SingleThreadedExecutor(context=context)
    for n in (node, harness):
        executor.add_node(n)

    def spin_until(predicate, timeout_s):
        deadline = time.monotonic() + timeout_s
        while not predicate() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.01)
        return predicate()

    try:
        assert spin_until(lambda: len(node.command_pub.sent) > 10, 20.0)
        stall_s, act = 1.0, node.runner.act
        stalls = []

        def stalled_act(*args):  # one tick stalls for a second, holding the executor
            if not stalls:
                stalls.append(time.monotonic())
                time.sleep(stall_s)
            return act(*args)

        node.runner.act = stalled_act
        assert spin_until(lambda: stalls and time.monotonic() > stalls[0] + stall_s + 0.2, 10.0)
        beats = [t for t, _ in node.offboard_pub.sent if stalls[0] <= t <= stalls[0] + stall_s]
        # 10 Hz configured; PX4 leaves offboard below 2 Hz. The executor ran nothing else.
        assert len(beats) >= 5, len(beats)
        assert all(msg.attitude for _, msg in node.offboard_pub.sent)
        node.trigger_deactivate()
        count = len(node.offboard_pub.sent)
        time.sleep(0.5)
        assert len(node.offboard_pub.sent) == count  # inactive: no heartbeat, PX4 fails safe
    finally:
        executor.shutdown(timeout_sec=1.0)
        harness.destroy_node()
