"""RoverLane-v0: the Gymnasium contract, determinism, lap counting and the expert."""
import gymnasium as gym
from gymnasium.utils.env_checker import check_env
import lnn_control.sim  # noqa: F401  (registers the envs)
from lnn_control.sim.rover_env import RoverLaneEnv
from lnn_control.sim.rover_expert import RoverExpert
from lnn_control.sim.rover_track import EVAL_SEEDS, TRAIN_SEEDS
import numpy as np
import pytest


@pytest.fixture(scope='module')
def env():
    env = RoverLaneEnv(track_length=30.0, laps=0.3)
    yield env
    env.close()


def _drive(env, seed, steps=40, options=None):
    obs, info = env.reset(seed=seed, options=options)
    expert = RoverExpert(env)
    frames, lateral = [obs['image']], [info['lateral_error']]
    for _ in range(steps):
        obs, _, terminated, _, info = env.step(expert.act(info))
        frames.append(obs['image'])
        lateral.append(info['lateral_error'])
        if terminated:
            break
    return np.stack(frames), np.array(lateral), info


def test_env_checker_passes():
    env = gym.make('lnn_control/RoverLane-v0', track_length=30.0, render_mode='rgb_array')
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_spaces_match_the_interface(env):
    obs, info = env.reset(seed=0)
    assert obs['image'].shape == (66, 200, 3) and obs['image'].dtype == np.uint8
    assert obs['imu'].shape == (6,) and obs['imu'].dtype == np.float32
    assert abs(obs['imu'][2] - 9.81) < 0.5
    assert obs['speed'].shape == (1,) and obs['speed'].dtype == np.float32
    assert env.action_space.shape == (1,) and env.action_space.dtype == np.float32
    for key in ('lateral_error', 'heading_error', 'progress', 'laps_completed', 'privileged',
                'metrics', 'lap_progress'):
        assert key in info


def test_same_seed_same_episode(env):
    frames_a, lat_a, _ = _drive(env, seed=3, steps=15)
    frames_b, lat_b, _ = _drive(env, seed=3, steps=15)
    frames_c, _, _ = _drive(env, seed=4, steps=15)
    np.testing.assert_array_equal(frames_a, frames_b)
    np.testing.assert_array_equal(lat_a, lat_b)
    assert frames_a.shape != frames_c.shape or not np.array_equal(frames_a, frames_c)


def test_expert_finishes_the_short_course_and_counts_progress(env):
    _, lateral, info = _drive(env, seed=1, steps=400)
    assert info['finished'] and not info['departed']
    assert info['metrics']['completion'] == 1.0
    assert info['progress'] >= 0.3 * info['lap_length']
    assert np.abs(lateral).max() < 0.2


def test_lap_counter_counts_full_laps():
    env = RoverLaneEnv(track_length=20.0, laps=1.2, image_hw=(16, 32), speed_range=(3.0, 3.0))
    _, _, info = _drive(env, seed=2, steps=400)
    env.close()
    assert info['finished'] and info['laps_completed'] == 1
    assert 0.15 < info['lap_progress'] < 0.3


def test_no_steering_leaves_the_road(env):
    env.reset(seed=5)
    for _ in range(400):
        _, _, terminated, _, info = env.step(np.array([0.6], np.float32))
        if terminated:
            break
    assert info['departed'] and not info['finished']


def test_bad_actions_raise(env):
    env.reset(seed=0)
    with pytest.raises(ValueError, match='shape'):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match='finite'):
        env.step(np.array([np.nan], np.float32))


def test_eval_split_uses_held_out_seeds():
    assert not set(TRAIN_SEEDS) & set(EVAL_SEEDS)
    env = RoverLaneEnv(track_length=30.0, track_split='eval', image_hw=(16, 32))
    _, info = env.reset(seed=0)
    env.close()
    assert info['track_seed'] in EVAL_SEEDS


def test_throttle_action_changes_speed():
    env = RoverLaneEnv(track_length=30.0, throttle=True, image_hw=(16, 32))
    env.reset(seed=0)
    assert env.action_space.shape == (2,)
    for _ in range(10):
        obs, *_ = env.step(np.array([0.0, -1.0], np.float32))
    env.close()
    assert obs['speed'][0] < 1.0


def test_safety_driver_mode_counts_departures_per_km():
    env = RoverLaneEnv(track_length=30.0, image_hw=(16, 32), terminate_on_departure=False)
    env.reset(seed=0)
    for _ in range(120):
        _, _, terminated, _, info = env.step(np.array([0.8], np.float32))
    env.close()
    assert not terminated
    assert info['metrics']['departures_per_km'] > 1000 / info['metrics']['distance']


def test_missing_gl_backend_says_how_to_fix(monkeypatch):
    from lnn_control.sim import render
    from mujoco.rendering.classic import gl_context

    def broken(*args):
        raise OSError('libOSMesa.so: cannot open shared object file')

    monkeypatch.setattr(gl_context, 'GLContext', broken)
    with pytest.raises(render.RenderError, match='apt-get install libosmesa6.*MUJOCO_GL=osmesa'):
        render._make_gl_context(64, 64)


def test_sim_cli_lists_rover_scenarios(capsys):
    from lnn_control.cli import main

    assert main(['sim', 'scenarios', '--vehicle', 'rover']) == 0
    out = capsys.readouterr().out
    assert 'night' in out and 'steering_bias' in out
