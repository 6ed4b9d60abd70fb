"""Closed loops over real ROS 2 topics: sim bridge + vehicle node, through the launch sets.

The rover drives one lap of a short (20 m) course with the shipped policy when it exists in
config/policies/, otherwise with the simulator's expert behind the same runner interface (fed
with the bridge's ground truth). The drone flies to its target with the expert, and with the
shipped drone policy, which reads the bridge's odometry for its altitude and climb rate.
"""
from lnn_control.nodes.launcher import LaunchOptions, LaunchSession
from lnn_control.paths import config_path
import pytest


def policy_mode(filename):
    return 'checkpoint' if config_path('policies', filename).is_file() else 'expert'


def run(set_name, vehicle_node, mode, bridge, timeout_s, **vehicle):
    options = LaunchOptions(overrides={vehicle_node: {'policy_mode': mode, **vehicle},
                                       'sim_bridge_node': bridge})
    events = []
    with LaunchSession(set_name, options, on_event=events.append) as session:
        finished = session.spin_until(lambda: session.monitor.done, timeout_s)
        stats = session.vehicle_node.stats.summary()
        return finished, session.monitor.final, events, stats


def test_rover_bridge_and_drive_node_complete_a_lap():
    finished, final, events, stats = run(
        'sim_drive', 'drive_node', policy_mode('rover_ncp_cfc.pt'),
        {'laps': 1, 'max_episodes': 1, 'track_length': 20.0, 'seed': 3}, timeout_s=90)
    assert finished, f'no lap within the timeout; last events {events[-3:]}'
    (episode,) = final['summaries']
    assert episode['finished'] and not episode['departed'] and episode['laps'] == 1
    assert episode['completion'] == pytest.approx(1.0)
    assert final['commands_received'] > 100  # the node, not the bridge's fallback, drove
    assert any(e['event'] == 'progress' for e in events)
    assert stats.ticks > 100


@pytest.mark.parametrize('phase_lock', [True, False])
def test_drone_bridge_and_flight_node_reach_the_target(phase_lock):
    # Phase-locked, a tick that comes just before its frame is deferred to the frame's callback.
    finished, final, events, _ = run(
        'sim_fly', 'flight_node', 'expert',
        {'laps': 1, 'max_episodes': 1, 'seed': 0, 'max_episode_s': 25.0}, timeout_s=60,
        phase_lock=phase_lock)
    assert finished, f'no flight within the timeout; last events {events[-3:]}'
    (episode,) = final['summaries']
    assert episode['success'] and not episode['crashed']
    assert episode['distance_to_goal'] < 0.5
    assert final['commands_received'] > 100


@pytest.mark.skipif(policy_mode('quad_ncp_cfc.pt') != 'checkpoint',
                    reason='no shipped drone policy')
def test_shipped_drone_policy_reaches_the_target_over_ros():
    finished, final, events, stats = run(
        'sim_fly', 'flight_node', 'checkpoint',
        {'laps': 1, 'max_episodes': 1, 'seed': 0, 'max_episode_s': 25.0}, timeout_s=60)
    assert finished, f'no flight within the timeout; last events {events[-3:]}'
    (episode,) = final['summaries']
    assert episode['success'] and not episode['crashed']
    assert final['commands_received'] > 100
    assert stats.ticks > 100


def test_launch_command_prints_progress_and_a_summary(capsys):
    import argparse

    from lnn_control.nodes import launcher

    parser = argparse.ArgumentParser()
    launcher.add_arguments(parser)
    args = parser.parse_args(['sim_fly', '--policy-mode', 'expert', '--laps', '1',
                              '--timeout', '60'])
    assert launcher.run(args) == 0
    out = capsys.readouterr().out
    assert 'to goal' in out  # progress lines
    assert 'run finished: 1 lap(s)' in out
    assert '=== summary ===' in out and 'control loop: rate' in out
    assert 'policy: the expert' in out and 'are not the vehicle' in out
