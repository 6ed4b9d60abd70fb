"""drive_node under launch_pytest, the ROS 2 convention for testing launched processes.

The launch service starts the node the way the launch files do (its parameter file as its own
``--params-file``); the test reads its output while it runs and, after launch has shut it down
(SIGINT, as at the end of every launch), checks that it stopped cleanly.
"""
from pathlib import Path

import pytest

pytest.importorskip('launch_pytest', reason='the ROS 2 launch system is not installed: `make '
                    'test` installs it from ../shared/ros2-launch where that folder exists')
from launch import LaunchDescription  # noqa: E402, I100 (only where launch is installed)
import launch_pytest  # noqa: E402
from launch_pytest.tools import process as process_tools  # noqa: E402
from launch_ros.actions import Node  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def drive_node(ament_prefix, monkeypatch):
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(ament_prefix))
    return Node(package='lnn_control', executable='drive_node', name='drive_node',
                output='screen', cached_output=True,
                ros_arguments=['--params-file', str(ROOT / 'config' / 'drive.yaml')])


@launch_pytest.fixture
def launch_description(drive_node):
    return LaunchDescription([drive_node, launch_pytest.actions.ReadyToTest()])


@pytest.mark.launch(fixture=launch_description)
def test_drive_node_starts_commands_and_stops_cleanly(drive_node, launch_context):
    def started(output):
        assert 'active: commanding' in output
        assert 'safe command: stale input: camera, imu' in output  # no sensors: safe

    # ROS log lines go to stderr.
    process_tools.assert_stderr_sync(launch_context, drive_node, started, timeout=60)
    yield
    # After the launch service has shut down (SIGINT to the node, as every launch ends).
    assert drive_node.return_code == 0
    assert 'SIGINT: stopping' in drive_node.get_stderr()
