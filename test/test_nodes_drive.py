"""drive_node over real rclpy topics: control rate, watchdog trip and recovery, malformed input.

The node runs an untrained policy checkpoint (plumbing only: what is tested is the loop around
the policy, not its driving). A harness node in the same context plays camera and IMU, and
listens to the commands and /diagnostics.
"""
import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from lnn_control.models.checkpoint import save_checkpoint
from lnn_control.models.policy import Policy, PolicyConfig
from lnn_control.nodes.common import COMMAND_QOS, SENSOR_QOS
from lnn_control.nodes.launcher import LaunchOptions, LaunchSession
import numpy as np
import pytest
from sensor_msgs.msg import Image, Imu
import torch

RATE_HZ = 20.0
CRUISE = 2.0


class Harness:
    """Publishes camera + IMU at the control rate; records commands with arrival times."""

    def __init__(self, session):
        import rclpy

        self.node = rclpy.create_node('harness', context=session.context)
        self.image_pub = self.node.create_publisher(Image, 'camera/image_raw', SENSOR_QOS)
        self.imu_pub = self.node.create_publisher(Imu, 'imu/data', SENSOR_QOS)
        self.commands = []
        self.node.create_subscription(Twist, 'cmd_vel', self._on_cmd, COMMAND_QOS)
        self.diagnostics = {}
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diag, 10)
        self.camera_on = True
        self.encoding = 'rgb8'
        self.truncate = False
        self.imu_value = 9.81
        self.stamp_offset = 0.0
        self.node.create_timer(1.0 / RATE_HZ, self._publish)
        session.executor.add_node(self.node)

    def _on_cmd(self, msg):
        self.commands.append((time.monotonic(), msg.linear.x, msg.angular.z))

    def _on_diag(self, msg):
        for status in msg.status:
            self.diagnostics = {kv.key: kv.value for kv in status.values}

    def _publish(self):
        stamp = (self.node.get_clock().now() - rclpy_duration(self.stamp_offset)).to_msg()
        if self.camera_on:
            img = Image(height=66, width=200, encoding=self.encoding, step=600)
            img.header.stamp = stamp
            data = np.full(66 * 600, 90, np.uint8)
            img.data = data[:100].tobytes() if self.truncate else data.tobytes()
            self.image_pub.publish(img)
        imu = Imu()
        imu.header.stamp = stamp
        imu.linear_acceleration.z = self.imu_value
        self.imu_pub.publish(imu)

    def last(self):
        return self.commands[-1]


def rclpy_duration(seconds):
    from rclpy.duration import Duration

    return Duration(nanoseconds=int(seconds * 1e9))


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    torch.manual_seed(0)
    ckpt = tmp_path_factory.mktemp('policy') / 'rover.pt'
    save_checkpoint(ckpt, Policy(PolicyConfig.for_vehicle('rover')))
    options = LaunchOptions(checkpoint=str(ckpt), overrides={'drive_node': {
        'cruise_speed': CRUISE, 'camera_timeout_s': 0.3, 'imu_timeout_s': 0.3}})
    with LaunchSession('drive', options) as s:
        s.harness = Harness(s)
        s.spin_until(lambda: len(s.harness.commands) > 20, 20.0)
        yield s


def spin(session, seconds):
    session.spin_until(lambda: False, seconds)


def driving(session):
    return session.harness.last()[1] == pytest.approx(CRUISE)


def safe(session):
    _, speed, yaw_rate = session.harness.last()
    return speed == 0.0 and yaw_rate == 0.0


def test_achieved_rate_within_5_percent(session):
    spin(session, 1.0)  # past start-up and the one-off phase shift
    start = time.monotonic()
    spin(session, 4.0)
    stamps = [t for t, _, _ in session.harness.commands if t >= start]
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert rate == pytest.approx(RATE_HZ, rel=0.05)
    assert session.vehicle_node.stats.rate() == pytest.approx(RATE_HZ, rel=0.05)
    assert driving(session)


def test_watchdog_trips_on_camera_stall_and_recovers(session):
    node = session.vehicle_node
    trips, safe_ticks = node.inputs.watchdog.trips, node.loop.safe_ticks
    session.harness.camera_on = False
    assert session.spin_until(lambda: safe(session), 5.0)
    assert node.inputs.watchdog.trips == trips + 1
    assert 'camera' in node.last_result.reason
    harness = session.harness
    assert session.spin_until(
        lambda: 'camera' in harness.diagnostics.get('stale_inputs', ''), 3.0)
    for key in ('achieved_rate_hz', 'deadline_misses', 'latency_p99_ms', 'inference_p99_ms'):
        assert key in harness.diagnostics
    session.harness.camera_on = True
    assert session.spin_until(lambda: driving(session), 5.0)
    assert node.loop.safe_ticks > safe_ticks


@pytest.mark.parametrize('fault', ['encoding', 'size', 'nan_imu', 'stamp_backwards'])
def test_malformed_input_gives_safe_command_without_crash(session, fault):
    harness, node = session.harness, session.vehicle_node
    assert session.spin_until(lambda: driving(session), 5.0)
    rejected = node.inputs.rejected
    if fault == 'encoding':
        harness.encoding = 'yuv422'
    elif fault == 'size':
        harness.truncate = True
    elif fault == 'nan_imu':
        harness.imu_value = math.nan
    else:
        harness.stamp_offset = 5.0  # every new stamp is 5 s older than the last good one
    assert session.spin_until(lambda: safe(session), 5.0)
    assert node.inputs.rejected > rejected
    assert session.vehicle_node.last_result.safe  # the loop is alive, sending safe commands
    harness.encoding, harness.truncate, harness.imu_value = 'rgb8', False, 9.81
    harness.stamp_offset = 0.0
    assert session.spin_until(lambda: driving(session), 8.0)


def test_enable_service_disables_and_enables(session):
    from std_srvs.srv import SetBool

    client = session.harness.node.create_client(SetBool, 'enable')
    assert client.wait_for_service(timeout_sec=5.0)
    future = client.call_async(SetBool.Request(data=False))
    session.spin_until(future.done, 5.0)
    assert future.result().success
    assert session.spin_until(lambda: safe(session), 5.0)
    assert session.vehicle_node.last_result.reason == 'disabled'
    future = client.call_async(SetBool.Request(data=True))
    session.spin_until(future.done, 5.0)
    assert session.spin_until(lambda: driving(session), 5.0)
