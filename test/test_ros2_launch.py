"""``ros2 launch`` and ``ros2 run`` for real: the commands a robotics engineer types.

The launch files run under the real ROS 2 Jazzy launch system (../shared/ros2-launch) against
an ament prefix laid out like a colcon install; the test process watches over DDS. The
simulated sets end by themselves with exit code 0 once the bridge is done; the vehicle sets
alone send the safe command and stop on Ctrl-C (SIGINT to the process group, as a terminal
sends it).
"""
import json
import re
import signal

from conftest import requires_ros2_launch
from lnn_control.nodes.common import STATE_QOS
import pytest
from ros_processes import (
    BIN,
    COMMANDS,
    CONFIG,
    is_safe,
    NodeProcess,
    Probe,
    ros_env,
    SAFE,
    SensorFeed,
)
from std_msgs.msg import String

pytestmark = requires_ros2_launch
ROS2 = str(BIN / 'ros2')
#: Topics that stay global whatever the namespace (ROS conventions).
GLOBAL_TOPICS = {'/rosout', '/parameter_events', '/diagnostics', '/clock'}


def ros2(ament_prefix, log, *args):
    """Start ``ros2 ARGS`` in a process group of its own, finding lnn_control in the prefix."""
    env = ros_env(AMENT_PREFIX_PATH=str(ament_prefix))
    return NodeProcess([ROS2, *args], log, env=env, group=True)


def short_bridge_yaml(tmp_path, vehicle):
    """Return a copy of the shipped bridge YAML for one short run (a 20 m lap, one flight)."""
    text = (CONFIG / f'sim_bridge_{vehicle}.yaml').read_text()
    text = re.sub(r'laps: \d+', 'laps: 1', text)
    text = re.sub(r'track_length: [\d.]+', 'track_length: 20.0', text)
    path = tmp_path / f'bridge_{vehicle}.yaml'
    path.write_text(text)
    return path


def metrics(probe, namespace=''):
    """Return a list that fills with the bridge's JSON events."""
    events = []
    topic = f'{namespace}/sim/metrics' if namespace else 'sim/metrics'
    probe.node.create_subscription(String, topic, lambda m: events.append(json.loads(m.data)),
                                   STATE_QOS)
    return events


def done(events):
    """Return the bridge's final event, or None."""
    return next((e for e in events if e.get('event') == 'done'), None)


@pytest.mark.parametrize('launch_file, vehicle', [('sim_drive.launch.py', 'rover'),
                                                  ('sim_fly.launch.py', 'quad')])
def test_sim_launch_completes_its_run_and_ends_by_itself(launch_file, vehicle, ament_prefix,
                                                         tmp_path):
    bridge_yaml = short_bridge_yaml(tmp_path, vehicle)
    with Probe() as probe:
        events = metrics(probe)
        launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                      launch_file, f'bridge_config:={bridge_yaml}')
        with launch:
            probe.spin_until(lambda: not launch.running, 150)
            code = launch.wait(timeout_s=1)
            out = launch.output()
    assert code == 0, out
    final = done(events)
    assert final is not None, out
    (episode,) = final['summaries']
    if vehicle == 'rover':
        assert episode['finished'] and not episode['departed'] and episode['laps'] == 1
    else:
        assert episode['success'] and not episode['crashed']
    assert final['commands_received'] > 100  # the policy node drove, not the bridge's fallback
    assert 'process has finished cleanly' in out and 'process has died' not in out
    assert 'Traceback' not in out


def test_namespace_puts_every_topic_under_it(ament_prefix, tmp_path):
    bridge_yaml = short_bridge_yaml(tmp_path, 'quad')
    expected = {'/quad7/camera/image_raw', '/quad7/imu/data', '/quad7/odom', '/quad7/attitude_cmd'}
    with Probe() as probe:
        events = metrics(probe, '/quad7')
        launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                      'sim_fly.launch.py', 'namespace:=quad7', f'bridge_config:={bridge_yaml}')
        with launch:
            assert probe.spin_until(lambda: any(e['event'] == 'progress' for e in events), 60), \
                launch.output()
            # The bridge runs before flight_node has loaded its policy, and the graph reaches the
            # probe node by node: wait until both launched nodes and their topics are seen.
            assert probe.spin_until(lambda: flight_node_configured(probe.node, '/quad7'), 90), \
                node_names_in(probe.node, '/quad7')
            ours = topics_of_nodes_in(probe.node, '/quad7')
            probe.spin_until(lambda: not launch.running, 120)
            code = launch.wait(timeout_s=1)
    assert code == 0
    assert done(events) is not None
    assert expected <= ours
    assert not {t for t in ours - GLOBAL_TOPICS if not t.startswith('/quad7/')}


def flight_node_configured(node, namespace):
    """Tell whether flight_node is in the graph with its command publisher (made at configure)."""
    if ('flight_node', namespace) not in node_names_in(node, namespace):
        return False
    published = node.get_publisher_names_and_types_by_node('flight_node', namespace)
    return f'{namespace}/attitude_cmd' in {topic for topic, _ in published}


def node_names_in(node, namespace):
    """Return the (name, namespace) of every node the graph shows in ``namespace``."""
    return [(n, ns) for n, ns in node.get_node_names_and_namespaces() if ns == namespace]


def topics_of_nodes_in(node, namespace):
    """Return every topic published or subscribed by the nodes in ``namespace``."""
    topics = set()
    for name, ns in node_names_in(node, namespace):
        for query in (node.get_publisher_names_and_types_by_node,
                      node.get_subscriber_names_and_types_by_node):
            topics |= {topic for topic, _ in query(name, ns)}
    return topics


@pytest.mark.parametrize('launch_file, name', [('drive.launch.py', 'drive_node'),
                                               ('fly.launch.py', 'flight_node')])
def test_vehicle_launch_alone_sends_the_safe_command_and_stops_on_ctrl_c(
        launch_file, name, ament_prefix, tmp_path):
    msg_type, topic, values = COMMANDS[name]
    with Probe() as probe:
        commands = probe.record(msg_type, topic)
        launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                      launch_file)
        with launch:
            assert probe.spin_until(
                lambda: len(commands) > 10 and f'/{name}' in probe.diagnostics, 60), \
                launch.output()
            assert all(is_safe(name, values(m)) for _, m in commands)
            assert probe.diagnostics[f'/{name}']['safe_reason'].startswith('stale input')
            code, _ = launch.stop(signal.SIGINT)
            out = launch.output()
    assert code == 0, out
    assert 'SIGINT: stopping' in out and 'process has finished cleanly' in out


def test_checkpoint_of_the_users_config_is_not_overridden_by_the_launch_default(
        ament_prefix, tmp_path):
    user_yaml = tmp_path / 'my_drive.yaml'
    user_yaml.write_text((CONFIG / 'drive.yaml').read_text().replace(
        'checkpoint: policies/rover_ncp_cfc.pt', 'checkpoint: /nonexistent/my_policy.pt'))
    launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                  'drive.launch.py', f'config:={user_yaml}')
    with launch:
        launch.wait(timeout_s=60)
        out = launch.output()
    # The user's checkpoint was the one loaded (and, missing, stops the node with one line).
    assert "error: drive_node: PolicyRunner: checkpoint '/nonexistent/my_policy.pt' does " \
           'not exist' in out
    assert 'process has died' in out and 'exit code 1' in out


def test_checkpoint_argument_overrides_the_config_when_given(ament_prefix, tmp_path):
    given = tmp_path / 'given.pt'
    launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                  'drive.launch.py', f'checkpoint:={given}')
    with launch:
        launch.wait(timeout_s=60)
        out = launch.output()
    assert f"checkpoint '{given}' does not exist" in out


def test_missing_config_file_is_an_error(ament_prefix, tmp_path):
    launch = ros2(ament_prefix, tmp_path / 'launch.log', 'launch', 'lnn_control',
                  'fly.launch.py', 'config:=/nonexistent/fly.yaml')
    with launch:
        launch.wait(timeout_s=60)
        out = launch.output()
    assert "error: flight_node: parameter file '/nonexistent/fly.yaml' does not exist" in out
    assert 'exit code 1' in out


def test_ros2_run_starts_a_node_that_drives(ament_prefix, tmp_path):
    msg_type, topic, values = COMMANDS['drive_node']
    with Probe() as probe:
        SensorFeed(probe)
        commands = probe.record(msg_type, topic)
        run = ros2(ament_prefix, tmp_path / 'run.log', 'run', 'lnn_control', 'drive_node',
                   '--ros-args', '--params-file', str(CONFIG / 'drive.yaml'))
        with run:
            assert probe.spin_until(
                lambda: commands and values(commands[-1][1]) != SAFE['drive_node'], 60), \
                run.output()
            code, _ = run.stop(signal.SIGINT)
            probe.spin_for(0.2)
            out = run.output()
    assert code == 0, out
    assert values(commands[-1][1]) == pytest.approx(SAFE['drive_node'])
