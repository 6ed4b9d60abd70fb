"""The console scripts, started as ``ros2 run`` starts them, watched from another process.

Each node runs in a subprocess with the shipped YAML (``--ros-args --params-file``), exactly the
command line ``ros2 run`` and ``ros2 launch`` produce; the test process plays camera, IMU and
odometry over DDS and records commands and /diagnostics. Signals end every node with exit code
0 after it has published its safe command; start-up errors are one line and exit code 1.
"""
import itertools
import signal
import statistics
import time

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from lnn_control.nodes.common import SENSOR_QOS
import pytest
from ros_processes import (
    COMMANDS,
    CONFIG,
    executable,
    is_safe,
    NodeProcess,
    Probe,
    SAFE,
    SensorFeed,
)
from sensor_msgs.msg import Image

YAML = {'drive_node': CONFIG / 'drive.yaml', 'flight_node': CONFIG / 'fly.yaml'}
IMAGE_HW = {'drive_node': (48, 128), 'flight_node': (64, 128)}
#: Shutdowns per node, and how many processes run at once (each in its own namespace).
SHUTDOWNS, PARALLEL = 20, 4
CRASH_MARKS = ('Traceback', 'Segmentation fault', 'FATAL', 'core dumped')


def start(name, log_dir, *ros_args, namespace=''):
    """Start ``name`` with its shipped YAML (and ``ros_args``), as ``ros2 run`` would."""
    argv = [executable(name), '--ros-args', '--params-file', str(YAML[name]), *ros_args]
    if namespace:
        argv += ['-r', f'__ns:={namespace}']
    log = log_dir / f'{name}{namespace.replace("/", "_")}.log'
    return NodeProcess(argv, log)


def driving(probe, namespace, name):
    """Whether the node's last /diagnostics say it is driving."""
    status = probe.diagnostics.get(f'{namespace}/{name}'.replace('//', '/'), {})
    return status.get('safe_reason') == 'none'


@pytest.mark.parametrize('name', ['drive_node', 'flight_node'])
def test_vehicle_node_drives_then_stops_safely_on_every_signal(name, tmp_path):
    msg_type, topic, values = COMMANDS[name]
    signals = itertools.cycle([signal.SIGINT, signal.SIGTERM])
    results = []
    with Probe() as probe:
        for batch in range(SHUTDOWNS // PARALLEL):
            spaces = [f'/v{batch}_{i}' for i in range(PARALLEL)]
            feeds = [SensorFeed(probe, ns, image_hw=IMAGE_HW[name],
                                odometry=name == 'flight_node') for ns in spaces]
            commands = {ns: probe.record(msg_type, f'{ns}/{topic}') for ns in spaces}
            nodes = {ns: start(name, tmp_path, namespace=ns) for ns in spaces}
            try:
                assert probe.spin_until(
                    lambda spaces=spaces: all(driving(probe, ns, name) for ns in spaces), 90.0), \
                    {ns: (probe.diagnostics.get(f'{ns}/{name}'), nodes[ns].output()[-2000:])
                     for ns in spaces}
                for ns in spaces:
                    # Commanding, not safe (a tick may go safe under load: wait for a driving one).
                    assert probe.spin_until(
                        lambda got=commands[ns]: not is_safe(name, values(got[-1][1])), 10.0)
                    sig = next(signals)
                    code, seconds = nodes[ns].stop(sig)
                    probe.spin_for(0.2)
                    out = nodes[ns].output()
                    assert code == 0, out
                    assert not any(mark in out for mark in CRASH_MARKS), out
                    assert f'{signal.Signals(sig).name}: stopping' in out
                    # The last command it sent is the safe one.
                    assert is_safe(name, values(commands[ns][-1][1])), out
                    results.append(seconds)
            finally:
                for node in nodes.values():
                    node.kill()
                for feed in feeds:
                    probe.node.destroy_timer(feed.timer)
    assert len(results) == SHUTDOWNS
    print(f'\n{name}: {len(results)} shutdowns (SIGINT/SIGTERM alternating), exit code 0 each; '
          f'seconds from signal to exit: median {statistics.median(results):.3f}, '
          f'max {max(results):.3f}')


def test_sim_bridge_streams_frames_and_stops_on_every_signal(tmp_path):
    signals = itertools.cycle([signal.SIGINT, signal.SIGTERM])
    results = []
    with Probe() as probe:
        for batch in range(SHUTDOWNS // PARALLEL):
            spaces = [f'/b{batch}_{i}' for i in range(PARALLEL)]
            frames = {ns: probe.record(Image, f'{ns}/camera/image_raw', SENSOR_QOS)
                      for ns in spaces}
            nodes = {}
            for ns in spaces:
                argv = [executable('sim_bridge_node'), '--ros-args', '--params-file',
                        str(CONFIG / 'sim_bridge_rover.yaml'), '-r', f'__ns:={ns}']
                nodes[ns] = NodeProcess(argv, tmp_path / f'bridge{ns.replace("/", "_")}.log')
            try:
                assert probe.spin_until(
                    lambda frames=frames: all(len(f) > 5 for f in frames.values()), 90.0)
                for ns in spaces:
                    sig = next(signals)
                    code, seconds = nodes[ns].stop(sig)
                    out = nodes[ns].output()
                    assert code == 0, out
                    assert not any(mark in out for mark in CRASH_MARKS), out
                    results.append(seconds)
            finally:
                for node in nodes.values():
                    node.kill()
    assert len(results) == SHUTDOWNS
    print(f'\nsim_bridge_node: {len(results)} shutdowns, exit code 0 each; seconds from signal '
          f'to exit: median {statistics.median(results):.3f}, max {max(results):.3f}')


@pytest.mark.parametrize('case, ros_args, expected', [
    ('missing parameter file', ['--params-file', '/nonexistent/drive.yaml'],
     "error: drive_node: parameter file '/nonexistent/drive.yaml' does not exist"),
    ('unknown key', ['-p', 'max_steering_angel:=0.3'],
     "error: drive_node: unknown parameter(s) ['max_steering_angel']; known: ["),
    ('wrong type', ['-p', 'rate_hz:=fast'],
     "error: drive_node: invalid parameter: DriveConfig.rate_hz: expected float, got 'fast'"),
    ('missing checkpoint', ['-p', 'checkpoint:=/nonexistent/policy.pt'],
     "error: drive_node: PolicyRunner: checkpoint '/nonexistent/policy.pt' does not exist"),
])
def test_startup_error_is_one_line_and_exit_code_1(case, ros_args, expected, tmp_path):
    with start('drive_node', tmp_path, *ros_args) as node:
        code = node.wait(timeout_s=60)
        out = node.output()
    assert code == 1, out
    errors = [line for line in out.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and errors[0].startswith(expected), out
    assert 'Traceback' not in out


def call(probe, client, request, timeout_s=10.0):
    """Call a service from the probe and return the response."""
    assert client.wait_for_service(timeout_sec=timeout_s)
    future = client.call_async(request)
    assert probe.spin_until(future.done, timeout_s)
    return future.result()


def test_managed_node_follows_lifecycle_transitions(tmp_path):
    msg_type, topic, values = COMMANDS['drive_node']
    with Probe() as probe, start('drive_node', tmp_path, '-p', 'managed:=true') as node:
        SensorFeed(probe)
        commands = probe.record(msg_type, topic)
        change = probe.node.create_client(ChangeState, '/drive_node/change_state')
        get = probe.node.create_client(GetState, '/drive_node/get_state')

        def state():
            return call(probe, get, GetState.Request()).current_state.label

        def transition(transition_id):
            request = ChangeState.Request()
            request.transition.id = transition_id
            assert call(probe, change, request).success

        assert state() == 'unconfigured'
        probe.spin_for(1.0)
        assert commands == []  # an unconfigured node does not command
        transition(Transition.TRANSITION_CONFIGURE)
        assert state() == 'inactive'
        probe.spin_for(0.5)
        assert commands == []
        transition(Transition.TRANSITION_ACTIVATE)
        assert state() == 'active'
        assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 20.0)
        transition(Transition.TRANSITION_DEACTIVATE)
        assert state() == 'inactive'
        probe.spin_for(0.3)
        assert values(commands[-1][1]) == pytest.approx(SAFE['drive_node'])
        count = len(commands)
        probe.spin_for(0.5)
        assert len(commands) == count  # deactivated: nothing more after the safe command
        transition(Transition.TRANSITION_CLEANUP)
        assert state() == 'unconfigured'
        transition(Transition.TRANSITION_CONFIGURE)
        transition(Transition.TRANSITION_ACTIVATE)
        assert probe.spin_until(lambda: values(commands[-1][1]) != SAFE['drive_node'], 20.0)
        code, _ = node.stop(signal.SIGINT)
        probe.spin_for(0.2)
        assert code == 0, node.output()
        assert values(commands[-1][1]) == pytest.approx(SAFE['drive_node'])


@pytest.fixture(scope='module')
def running_drive_node(tmp_path_factory):
    """Return a drive_node process started from its shipped YAML, and the probe feeding it."""
    with Probe() as probe:
        feed = SensorFeed(probe)
        msg_type, topic, values = COMMANDS['drive_node']
        commands = probe.record(msg_type, topic)
        with start('drive_node', tmp_path_factory.mktemp('drive')) as node:
            assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 60), node.output()
            yield probe, feed, commands, values, node


def diagnostic(probe, key):
    """Return a number of the drive node's last /diagnostics."""
    return float(probe.diagnostics['/drive_node'][key])


def fresh_diagnostics(probe):
    """Wait for the next /diagnostics message and return it."""
    probe.diagnostics.clear()
    assert probe.spin_until(lambda: '/drive_node' in probe.diagnostics, 5)
    return probe.diagnostics['/drive_node']


def test_a_frame_stamped_in_the_future_is_rejected_and_does_not_latch(running_drive_node):
    probe, feed, _, _, _ = running_drive_node
    rejected = float(fresh_diagnostics(probe)['rejected_samples'])
    feed.stamp_offset_s = 1000.0
    feed.publish()  # one frame and IMU sample 1000 s ahead (a driver or clock fault)
    feed.stamp_offset_s = 0.0
    probe.spin_for(0.5)
    status = fresh_diagnostics(probe)
    assert float(status['rejected_samples']) >= rejected + 2  # the frame and the IMU sample
    assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 5)


def test_the_node_reanchors_after_the_senders_clock_jumps_back(running_drive_node):
    probe, feed, commands, values, node = running_drive_node
    reanchors = float(fresh_diagnostics(probe)['reanchors'])
    feed.stamp_offset_s = -1000.0  # a looping bag, or a driver whose clock was reset
    jumped = time.monotonic()
    try:
        # Out-of-order samples first: the inputs go stale and the rover stops ...
        assert probe.spin_until(lambda: any(
            t > jumped and values(m) == SAFE['drive_node'] for t, m in commands), 5)
        # ... then, after the watchdog timeout, the inputs re-anchor and it drives again.
        assert probe.spin_until(lambda: values(commands[-1][1]) != SAFE['drive_node'], 5), \
            node.output()
        assert float(fresh_diagnostics(probe)['reanchors']) >= reanchors + 1
        assert 'clock jumped back' in node.output()
    finally:
        feed.stamp_offset_s = 0.0
    # And back: the stamps jump forward again, which needs no re-anchoring.
    assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 5)


def test_a_stalled_camera_gives_the_safe_command_within_the_timeout_plus_one_tick(
        running_drive_node):
    probe, feed, commands, values, _ = running_drive_node
    assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 5)
    feed.camera_on = False
    last_frame = probe.node.get_clock().now().nanoseconds * 1e-9
    try:
        assert probe.spin_until(lambda: values(commands[-1][1]) == SAFE['drive_node'], 5)
        after = [m for t, m in commands if t > last_frame - 1e-3]
    finally:
        feed.camera_on = True
    driving_after = [m for m in after if values(m) != SAFE['drive_node']]
    # camera_timeout_s 0.3 at 20 Hz: at most 7 ticks drive on the last frame (0.30 s and the
    # tick that finds it stale), plus one for a frame still in flight when it was stopped.
    assert len(driving_after) <= 8, len(driving_after)
    assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 5)


def test_a_burst_of_malformed_frames_costs_no_ticks(running_drive_node):
    from rclpy.qos import qos_profile_sensor_data

    probe, _, _, _, _ = running_drive_node
    bad = Image(height=48, width=128, encoding='yuv422', step=256)
    bad.data = bytes(48 * 256)
    # On the camera topic, between the good frames the feed keeps publishing.
    burst = probe.node.create_publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
    assert probe.spin_until(lambda: driving(probe, '', 'drive_node'), 5)
    status = fresh_diagnostics(probe)
    missed, rejected = float(status['missed_ticks']), float(status['rejected_samples'])
    sent = 0
    end = time.monotonic() + 3.0
    while time.monotonic() < end:  # about 1 kHz of malformed frames for 3 s
        for _ in range(10):
            bad.header.stamp = probe.node.get_clock().now().to_msg()
            burst.publish(bad)
            sent += 1
        probe.executor.spin_once(timeout_sec=0.01)
    probe.node.destroy_publisher(burst)
    status = fresh_diagnostics(probe)
    assert float(status['rejected_samples']) - rejected > sent / 4  # most arrived, all refused
    assert float(status['missed_ticks']) == missed
