"""Start-up errors are clear and stop the node before it drives; YAML typos are not ignored."""
from lnn_control.nodes.common import StartupError
from lnn_control.nodes.launcher import LaunchOptions, LaunchSession
import pytest


def start(set_name, **overrides):
    return LaunchSession(set_name, LaunchOptions(overrides=overrides))


def test_missing_checkpoint_names_the_file(tmp_path):
    missing = tmp_path / 'nope.pt'
    with pytest.raises(StartupError, match='nope.pt.*does not exist'):
        LaunchSession('drive', LaunchOptions(checkpoint=str(missing)))


def test_corrupt_checkpoint_is_a_startup_error(tmp_path):
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'\x00' * 64)
    with pytest.raises(StartupError, match='cannot load.*bad.pt'):
        LaunchSession('fly', LaunchOptions(checkpoint=str(bad)))


def test_a_rover_policy_with_state_inputs_is_refused_at_start(tmp_path):
    from lnn_control.models.checkpoint import save_checkpoint
    from lnn_control.models.policy import Policy, PolicyConfig

    path = tmp_path / 'rover_state.pt'
    save_checkpoint(path, Policy(PolicyConfig.for_vehicle('rover', state_inputs=['altitude'])))
    with pytest.raises(StartupError, match=r"state inputs \['altitude'\].*rover node cannot"):
        LaunchSession('drive', LaunchOptions(checkpoint=str(path)))


def test_ackermann_selected_but_missing_says_how_to_fix():
    with pytest.raises(StartupError, match="output 'ackermann' needs the ackermann_msgs"):
        start('drive', drive_node={'output': 'ackermann', 'policy_mode': 'expert'})


@pytest.mark.parametrize('output, package', [('px4', 'px4_msgs'), ('mavros', 'mavros_msgs')])
def test_autopilot_output_selected_but_missing(output, package):
    with pytest.raises(StartupError, match=f"output '{output}' needs the {package}"):
        start('fly', flight_node={'output': output, 'policy_mode': 'expert'})


def test_bridge_ackermann_commands_need_the_package():
    with pytest.raises(StartupError, match="rover_command 'ackermann' needs the ackermann_msgs"):
        start('sim_drive', sim_bridge_node={'rover_command': 'ackermann'},
              drive_node={'policy_mode': 'expert'})


def test_bridge_unknown_scenario_is_a_startup_error():
    with pytest.raises(StartupError, match='sim_bridge_node: .*volcano'):
        LaunchSession('sim_fly', LaunchOptions(scenario='volcano:3', overrides={
            'flight_node': {'policy_mode': 'expert'}}))


def test_invalid_parameter_value_is_named():
    with pytest.raises(StartupError, match='DriveConfig.rate_hz'):
        start('drive', drive_node={'rate_hz': 0.0, 'policy_mode': 'expert'})


def test_unknown_parameter_in_yaml_is_rejected(tmp_path):
    yaml_file = tmp_path / 'drive.yaml'
    yaml_file.write_text('/**/drive_node:\n  ros__parameters:\n    rate_hz: 20.0\n'
                         '    max_steering_angel: 0.3\n')
    with pytest.raises(StartupError, match=r"drive_node: unknown parameter\(s\) \['max_steering_"
                                           r"angel'\]; known: \[.*'max_steering_angle'"):
        LaunchSession('drive', LaunchOptions(config=yaml_file))


def test_bridge_rejects_an_unknown_parameter():
    with pytest.raises(StartupError, match=r"sim_bridge_node: unknown parameter\(s\) \['lapz'\]"):
        start('sim_drive', sim_bridge_node={'lapz': 3}, drive_node={'policy_mode': 'expert'})


def test_an_integer_for_a_float_parameter_is_taken_and_stays_a_float():
    from rclpy.parameter import Parameter

    with start('drive', drive_node={'policy_mode': 'expert', 'cruise_speed': 2}) as session:
        node = session.vehicle_node
        assert node.config.cruise_speed == 2.0
        assert node.get_parameter('cruise_speed').type_ == Parameter.Type.DOUBLE
        assert node.set_parameters([Parameter('cruise_speed', value=2.5)])[0].successful


def test_parameters_change_at_run_time_only_when_valid_and_live():
    from rclpy.parameter import Parameter

    with start('drive', drive_node={'policy_mode': 'expert'}) as session:
        node = session.vehicle_node
        ok = node.set_parameters([Parameter('max_steering_angle', value=0.3)])[0]
        assert ok.successful and node.loop.commander.limiter.limits.max_steering_angle == 0.3
        bad = node.set_parameters([Parameter('max_steering_angle', value=5.0)])[0]
        assert not bad.successful and 'max_steering_angle' in bad.reason
        fixed = node.set_parameters([Parameter('rate_hz', value=30.0)])[0]
        assert not fixed.successful and 'start-up' in fixed.reason


def test_bridge_refuses_run_time_parameter_changes():
    from rclpy.parameter import Parameter

    with start('sim_fly', flight_node={'policy_mode': 'expert'}) as session:
        bridge = session.nodes['sim_bridge_node']
        result = bridge.set_parameters([Parameter('scenario', value='fog:3')])[0]
        assert not result.successful and 'start-up' in result.reason
        assert bridge.config.scenario == 'clear'
