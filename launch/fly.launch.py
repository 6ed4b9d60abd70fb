"""flight_node on a drone: ``ros2 launch lnn_control fly.launch.py [namespace:=...]``.

The parameter file (``config:=``, default the package's ``config/fly.yaml``) is passed to the
node as its own ``--params-file``: a missing file stops the node with an error. ``checkpoint:=``
and ``use_sim_time:=`` override that file only when given.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, NotEqualsSubstitution, PathJoinSubstitution
from launch_ros.actions import Node, SetParameter
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    checkpoint = LaunchConfiguration('checkpoint')
    use_sim_time = LaunchConfiguration('use_sim_time')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument(
            'config', description='flight_node parameter file',
            default_value=PathJoinSubstitution([FindPackageShare('lnn_control'), 'config',
                                                'fly.yaml'])),
        DeclareLaunchArgument('checkpoint', default_value='',
                              description="policy checkpoint (default: the config file's)"),
        DeclareLaunchArgument('use_sim_time', default_value='',
                              description='true: follow /clock (default: the config file)'),
        GroupAction(scoped=True, actions=[
            SetParameter('checkpoint', checkpoint,
                         condition=IfCondition(NotEqualsSubstitution(checkpoint, ''))),
            SetParameter('use_sim_time', use_sim_time,
                         condition=IfCondition(NotEqualsSubstitution(use_sim_time, ''))),
            Node(package='lnn_control', executable='flight_node', name='flight_node',
                 namespace=LaunchConfiguration('namespace'), output='screen',
                 ros_arguments=['--params-file', LaunchConfiguration('config')]),
        ]),
    ])
