"""Test session set-up: headless rendering and an isolated ROS 2 domain per run."""
import os

os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')
# Keep DDS traffic on this machine and away from other test runs: one domain per pytest process.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
