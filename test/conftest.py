"""Test session set-up: headless rendering, an isolated ROS 2 domain, the ament prefix."""
import importlib.util
import os
from pathlib import Path
import subprocess
import sys

import pytest

os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')
# Keep DDS traffic on this machine and away from other test runs: one domain per pytest process.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))

ROOT = Path(__file__).resolve().parent.parent

#: Tests of the real ROS 2 launch system and ``ros2`` CLI: installed from ../shared/ros2-launch
#: by the set-up where that folder exists (CI has it); elsewhere these tests skip.
requires_ros2_launch = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ('launch', 'launch_ros', 'ros2launch')),
    reason='the ROS 2 launch system is not installed: `make test` installs it from '
           '../shared/ros2-launch where that folder exists')


@pytest.fixture(scope='session')
def ament_prefix(tmp_path_factory):
    """Return an ament prefix with lnn_control in it (what ``colcon build`` would make)."""
    prefix = tmp_path_factory.mktemp('ament_prefix')
    subprocess.run([sys.executable, str(ROOT / 'scripts' / 'ament_prefix.py'), str(prefix)],
                   check=True, capture_output=True)
    return prefix
