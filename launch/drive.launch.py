"""drive_node on a rover: ``ros2 launch lnn_control drive.launch.py [namespace:=...]``."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    config_dir = os.path.join(get_package_share_directory('lnn_control'), 'config')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='follow /clock'),
        DeclareLaunchArgument('config', default_value=os.path.join(config_dir, 'drive.yaml'),
                              description='drive_node parameter file'),
        DeclareLaunchArgument('checkpoint',
                              default_value=os.path.join(config_dir, 'policies',
                                                         'rover_ncp_cfc.pt'),
                              description='policy checkpoint'),
        Node(package='lnn_control', executable='drive_node', name='drive_node',
             namespace=LaunchConfiguration('namespace'), output='screen',
             parameters=[LaunchConfiguration('config'), {
                 'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'),
                                                value_type=bool),
                 'checkpoint': LaunchConfiguration('checkpoint')}]),
    ])
