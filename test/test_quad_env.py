"""The quad envs fly like a vehicle behind a flight controller, and keep the Gymnasium contract."""
import math

import gymnasium as gym
from gymnasium.utils.env_checker import check_env
import lnn_control.sim  # noqa: F401  (registers the envs)
from lnn_control.sim.quad_env import QuadEnvBase, QuadHoverEnv, QuadTargetEnv, QuadTaskConfig
from lnn_control.sim.quad_expert import QuadExpert
from lnn_control.sim.quad_metrics import QuadEpisodeSummary
import numpy as np
import pytest


def hover_action(env: QuadEnvBase, roll=0.0, pitch=0.0, yaw_rate=0.0) -> np.ndarray:
    thrust = env.params.hover_thrust / (math.cos(roll) * math.cos(pitch))
    return np.array([roll, pitch, yaw_rate, thrust], dtype=np.float32)


def fly(env, action, steps):
    """Hold one action; return the privileged states after each step."""
    states = []
    for _ in range(steps):
        _, _, terminated, _, info = env.step(action)
        states.append(info['privileged'])
        assert not terminated, info['termination']
    return states


def fly_expert(env, seed, scenario='clear', steps=750):
    expert = QuadExpert(env)
    _, info = env.reset(seed=seed, options={'scenario': scenario})
    for _ in range(steps):
        _, _, terminated, _, info = env.step(expert.act(info))
        if terminated:
            break
    return info


@pytest.fixture(scope='module')
def env():
    env = QuadTargetEnv(camera=False)
    yield env
    env.close()


def body_frame_displacement(start, end):
    """Displacement (forward, left, up) in the start heading frame."""
    yaw = start['euler'][2]
    d = end['position'] - start['position']
    return np.array([math.cos(yaw) * d[0] + math.sin(yaw) * d[1],
                     -math.sin(yaw) * d[0] + math.cos(yaw) * d[1], d[2]])


def test_hover_command_holds_position_in_still_air(env):
    _, info = env.reset(seed=0)
    states = fly(env, hover_action(env), 250)
    drift = np.linalg.norm(states[-1]['position'] - info['privileged']['position'])
    assert drift < 0.05
    # And a hover with the accelerometer reading +g on body z, as the contract says.
    imu = env._observe()['imu']
    assert imu[2] == pytest.approx(9.81, abs=0.3)


def test_expert_holds_position_after_a_push():
    env = QuadHoverEnv(camera=False)
    for seed in (0, 1):
        info = fly_expert(env, seed, steps=400)
        assert info['success'] and not info['crashed']
        assert info['distance_to_goal'] < 0.1


def test_roll_step_settles_with_small_overshoot_and_moves_right(env):
    _, info = env.reset(seed=1)
    states = fly(env, hover_action(env, roll=0.3), 60)
    roll = np.array([s['euler'][0] for s in states])
    assert roll.max() < 0.3 * 1.1  # overshoot under 10 %
    assert np.all(np.abs(roll[25:] - 0.3) < 0.015)  # settled within 0.5 s
    # Positive roll: right side down, the vehicle accelerates to its right (-y in FLU).
    assert body_frame_displacement(info['privileged'], states[-1])[1] < -0.3


def test_positive_pitch_flies_forward(env):
    _, info = env.reset(seed=2)
    states = fly(env, hover_action(env, pitch=0.2), 50)
    assert states[-1]['euler'][1] == pytest.approx(0.2, abs=0.02)
    assert body_frame_displacement(info['privileged'], states[-1])[0] > 0.5


def test_yaw_rate_command_is_tracked(env):
    _, info = env.reset(seed=3)
    states = fly(env, hover_action(env, yaw_rate=1.0), 100)
    rates = np.array([s['body_rates'][2] for s in states[50:]])
    assert rates.mean() == pytest.approx(1.0, abs=0.05)
    yaw_change = (states[-1]['euler'][2] - info['privileged']['euler'][2]) % (2 * math.pi)
    assert yaw_change == pytest.approx(2.0 * 0.98, abs=0.15)  # counter-clockwise, ~2 s at 1 rad/s
    obs, *_ = env.step(hover_action(env, yaw_rate=1.0))
    assert obs['imu'][5] == pytest.approx(1.0, abs=0.05)  # the gyro sees it too


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_expert_reaches_the_target_in_clear_conditions(env, seed):
    info = fly_expert(env, seed)
    summary = QuadEpisodeSummary.from_info(info)
    assert summary.success and not summary.crashed
    assert summary.time_to_target_s < 8.0
    assert info['distance_to_goal'] < 0.1


def test_expert_keeps_the_target_in_view_during_the_approach(env):
    expert = QuadExpert(env)
    _, info = env.reset(seed=4)
    worst = 0.0
    for step in range(300):
        _, _, _, _, info = env.step(expert.act(info))
        state = info['privileged']
        to_target = state['target_position'] - state['position']
        bearing = math.atan2(to_target[1], to_target[0]) - state['euler'][2]
        if step > 25:
            worst = max(worst, abs((bearing + math.pi) % (2 * math.pi) - math.pi))
    assert worst < 0.5  # half the horizontal field of view is ~0.86 rad


def test_wind_pushes_the_vehicle_downwind(env):
    _, info = env.reset(seed=5, options={'scenario': 'wind:4'})
    wind = info['privileged']['wind']
    assert np.linalg.norm(wind[:2]) == pytest.approx(6.5)
    states = fly(env, hover_action(env), 100)
    downwind = (states[-1]['position'] - info['privileged']['position']) @ wind / 6.5
    assert downwind > 0.5
    _, info = env.reset(seed=5)
    states = fly(env, hover_action(env), 100)
    assert np.linalg.norm(states[-1]['position'] - info['privileged']['position']) < 0.05


def test_payload_makes_the_hover_thrust_sink(env):
    _, info = env.reset(seed=6, options={'scenario': 'payload:3'})
    start = info['privileged']['position'][2]
    states = fly(env, hover_action(env), 25)
    assert start - states[-1]['position'][2] > 0.2
    _, _, _, _, info = env.step(hover_action(env))
    assert info['scenario'] == 'quad_payload:3'


def test_payload_vehicle_still_flies_a_pitch_step(env):
    # Regression: MuJoCo's body_subtreemass must follow body_mass, or the vehicle tumbles.
    env.reset(seed=1, options={'scenario': 'payload:5'})
    thrust = 1.6 * env.params.hover_thrust
    states = fly(env, np.array([0.0, 0.27, 0.0, thrust], np.float32), 40)
    assert states[-1]['euler'][1] == pytest.approx(0.27, abs=0.02)
    assert max(np.abs(s['body_rates']).max() for s in states) < 2.0


def test_a_clear_episode_after_a_payload_episode_is_the_clear_episode(env):
    def trajectory():
        env.reset(seed=2)
        return np.array([s['position'] for s in fly(env, hover_action(env, pitch=0.2), 30)])

    fresh = trajectory()
    env.reset(seed=2, options={'scenario': 'payload:5+motor_fault:3+wind:3'})
    np.testing.assert_array_equal(trajectory(), fresh)


def test_wind_and_gusts_degrade_the_expert_measurably():
    env = QuadHoverEnv(camera=False)
    clear = fly_expert(env, 7, steps=300)['rms_position_error']
    windy = fly_expert(env, 7, 'wind:5', steps=300)['rms_position_error']
    gusty = fly_expert(env, 7, 'gusts:5', steps=300)['rms_position_error']
    assert windy > clear + 0.1 and gusty > clear + 0.02


@pytest.mark.parametrize('action, match', [
    ([0.0, 0.0, 0.0, math.nan], 'non-finite'),
    ([0.0, 0.0, math.inf, 0.4], 'yaw_rate'),
    ([0.9, 0.0, 0.0, 0.4], 'roll=0.9'),
    ([0.0, 0.0, 0.0, 1.5], 'thrust=1.5'),
    ([0.0, 0.0, 0.4], r'shape \(4,\)'),
    (np.zeros((1, 4)), r'shape \(4,\)'),
    (['up', 0, 0, 0], '4 numbers'),
])
def test_bad_commands_raise_clear_errors(env, action, match):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_bad_constructor_and_reset_arguments_raise():
    with pytest.raises(ValueError, match='control_hz'):
        QuadTargetEnv(control_hz=30, camera=False)
    with pytest.raises(ValueError, match='image_hw'):
        QuadTargetEnv(image_hw=(64,), camera=False)
    with pytest.raises(ValueError, match='unknown scenario'):
        QuadTargetEnv(scenario='no_such_thing', camera=False)
    env = QuadTargetEnv(camera=False)
    with pytest.raises(ValueError, match='unknown options'):
        env.reset(options={'scenarios': 'wind'})
    with pytest.raises(ValueError, match='does not apply to the quad'):
        env.reset(options={'scenario': 'low_friction:2'})


def test_zero_thrust_falls_and_crashes_on_the_ground(env):
    env.reset(seed=0)
    for _ in range(200):
        _, reward, terminated, _, info = env.step(np.array([0, 0, 0, 0], np.float32))
        if terminated:
            break
    assert terminated and info['termination'] == 'contact' and info['crashed']
    assert reward == -10.0 and not info['success']


def test_tilt_beyond_the_limit_is_a_crash():
    env = QuadTargetEnv(camera=False, task=QuadTaskConfig(tilt_limit=0.4))
    env.reset(seed=0)
    for _ in range(50):
        _, _, terminated, _, info = env.step(np.array([0.6, 0, 0, 0.5], np.float32))
        if terminated:
            break
    assert terminated and info['termination'] == 'tilt'


def test_seeding_is_deterministic_with_the_camera():
    env = QuadTargetEnv(image_hw=(32, 64))
    runs = []
    for _ in range(2):
        obs, info = env.reset(seed=11, options={'scenario': 'gusts:3'})
        frames = [obs['image']]
        for _ in range(5):
            obs, *_ = env.step(hover_action(env, roll=0.1))
            frames.append(obs['image'])
        runs.append((np.stack(frames), obs['imu'], env.data.qpos.copy()))
    for a, b in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(a, b)
    _, other = env.reset(seed=12)
    assert not np.allclose(other['privileged']['goal'], info['privileged']['goal'])
    assert runs[0][0].std() > 5.0  # a real picture, not a blank frame
    env.close()


def test_privileged_goal_is_in_front_of_the_target_panel(env):
    _, info = env.reset(seed=8)
    state = info['privileged']
    offset = state['goal'] - state['target_position']
    assert np.linalg.norm(offset) == pytest.approx(env.task.standoff)
    facing = state['goal_yaw']
    # Standing at the goal with yaw goal_yaw looks straight at the panel.
    assert math.atan2(-offset[1], -offset[0]) == pytest.approx(facing, abs=1e-9)


@pytest.mark.parametrize('env_id', ['lnn_control/QuadTarget-v0', 'lnn_control/QuadHover-v0'])
def test_env_checker_passes(env_id):
    env = gym.make(env_id, image_hw=(32, 64), render_mode='rgb_array', chase_hw=(48, 64))
    check_env(env.unwrapped, skip_render_check=False)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.render().shape == (48, 64, 3)
    env.close()


def test_time_limit_truncates():
    env = gym.make('lnn_control/QuadHover-v0', camera=False, max_episode_steps=3)
    env.reset(seed=0)
    truncated = [env.step(hover_action(env.unwrapped))[3] for _ in range(3)]
    assert truncated == [False, False, True]
