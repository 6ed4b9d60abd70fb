"""Simulated drone closed loop: sim_bridge_node + flight_node over ROS 2 topics."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    config_dir = os.path.join(get_package_share_directory('lnn_control'), 'config')
    namespace = LaunchConfiguration('namespace')
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='fly on the bridge-published /clock'),
        DeclareLaunchArgument('config', default_value=os.path.join(config_dir, 'fly.yaml'),
                              description='flight_node parameter file'),
        DeclareLaunchArgument('bridge_config',
                              default_value=os.path.join(config_dir, 'sim_bridge_quad.yaml'),
                              description='sim_bridge_node parameter file'),
        DeclareLaunchArgument('checkpoint',
                              default_value=os.path.join(config_dir, 'policies',
                                                         'quad_ncp_cfc.pt'),
                              description='policy checkpoint'),
        DeclareLaunchArgument('scenario', default_value='clear',
                              description="scenario, e.g. 'wind:3+fog:2'"),
        Node(package='lnn_control', executable='sim_bridge_node', name='sim_bridge_node',
             namespace=namespace, output='screen',
             parameters=[LaunchConfiguration('bridge_config'), {
                 'scenario': LaunchConfiguration('scenario'),
                 'publish_clock': use_sim_time}]),
        Node(package='lnn_control', executable='flight_node', name='flight_node',
             namespace=namespace, output='screen',
             parameters=[LaunchConfiguration('config'), {
                 'use_sim_time': use_sim_time,
                 'checkpoint': LaunchConfiguration('checkpoint')}]),
    ])
