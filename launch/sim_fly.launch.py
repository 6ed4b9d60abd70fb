"""Simulated drone closed loop: sim_bridge_node + flight_node over ROS 2 topics.

``ros2 launch lnn_control sim_fly.launch.py [scenario:=wind:3] [namespace:=...]``. The launch
ends by itself, with exit code 0, when the bridge has flown its flights; if either node exits,
the other is stopped too. Each node gets its parameter file (``bridge_config:=``, ``config:=``)
as its own ``--params-file`` (a missing file is an error); ``scenario:=``, ``checkpoint:=`` and
``use_sim_time:=`` override those files only when given.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, Shutdown
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, NotEqualsSubstitution, PathJoinSubstitution
from launch_ros.actions import Node, SetParameter
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    config_dir = PathJoinSubstitution([FindPackageShare('lnn_control'), 'config'])
    namespace = LaunchConfiguration('namespace')
    checkpoint = LaunchConfiguration('checkpoint')
    scenario = LaunchConfiguration('scenario')
    use_sim_time = LaunchConfiguration('use_sim_time')
    sim_time_given = IfCondition(NotEqualsSubstitution(use_sim_time, ''))
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('config', description='flight_node parameter file',
                              default_value=PathJoinSubstitution([config_dir, 'fly.yaml'])),
        DeclareLaunchArgument(
            'bridge_config', description='sim_bridge_node parameter file',
            default_value=PathJoinSubstitution([config_dir, 'sim_bridge_quad.yaml'])),
        DeclareLaunchArgument('checkpoint', default_value='',
                              description="policy checkpoint (default: the config file's)"),
        DeclareLaunchArgument('scenario', default_value='',
                              description="e.g. 'wind:3+fog:2' (default: the bridge "
                                          "config's)"),
        DeclareLaunchArgument('use_sim_time', default_value='',
                              description='true: the bridge publishes /clock and the node '
                                          'follows it (default: the config files)'),
        GroupAction(scoped=True, actions=[
            SetParameter('scenario', scenario,
                         condition=IfCondition(NotEqualsSubstitution(scenario, ''))),
            SetParameter('publish_clock', use_sim_time, condition=sim_time_given),
            Node(package='lnn_control', executable='sim_bridge_node', name='sim_bridge_node',
                 namespace=namespace, output='screen', on_exit=Shutdown(reason='bridge done'),
                 ros_arguments=['--params-file', LaunchConfiguration('bridge_config')]),
        ]),
        GroupAction(scoped=True, actions=[
            SetParameter('checkpoint', checkpoint,
                         condition=IfCondition(NotEqualsSubstitution(checkpoint, ''))),
            SetParameter('use_sim_time', use_sim_time, condition=sim_time_given),
            Node(package='lnn_control', executable='flight_node', name='flight_node',
                 namespace=namespace, output='screen', on_exit=Shutdown(reason='node exited'),
                 ros_arguments=['--params-file', LaunchConfiguration('config')]),
        ]),
    ])
