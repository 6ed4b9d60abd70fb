"""The expert pilot's contract: valid, reproducible commands and clear errors."""
from types import SimpleNamespace

import gymnasium as gym
import lnn_control.sim  # noqa: F401  (registers the envs)
from lnn_control.sim.quad_expert import QuadExpert
from lnn_control.sim.quad_params import QuadParams
import numpy as np
import pytest


@pytest.fixture(scope='module')
def env():
    env = gym.make('lnn_control/QuadTarget-v0', camera=False, max_episode_steps=50)
    yield env
    env.close()


def rollout(env, expert, seed=0, steps=30):
    _, info = env.reset(seed=seed)
    expert.reset()
    actions = []
    for _ in range(steps):
        action = expert.act(info)
        actions.append(action)
        _, _, terminated, truncated, info = env.step(action)
        assert not (terminated or truncated)
    return np.array(actions)


def test_expert_takes_params_from_a_wrapped_env_and_stays_in_the_action_space(env):
    expert = QuadExpert(env)
    assert expert.params == env.unwrapped.params
    actions = rollout(env, expert)
    assert actions.dtype == np.float32
    assert all(env.action_space.contains(a) for a in actions)


def test_expert_noise_is_reproducible_from_its_generator(env):
    noisy = [rollout(env, QuadExpert(env, noise=0.05, rng=np.random.default_rng(3)))
             for _ in range(2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])
    clean = rollout(env, QuadExpert(env))
    assert np.abs(noisy[0][:, :3] - clean[:, :3]).max() > 0.01


def test_expert_errors_are_clear():
    with pytest.raises(ValueError, match='needs rng'):
        QuadExpert(noise=0.1)
    with pytest.raises(ValueError, match='QuadParams or a quad env'):
        QuadExpert(params='heavy')
    with pytest.raises(ValueError, match="'privileged'"):
        QuadExpert(QuadParams()).act({'position': [0, 0, 1]})


def test_gains_from_a_training_config_make_a_gentler_climb():
    """``expert:`` gains reach the expert: a softer climb loop asks less thrust when sinking."""
    from lnn_control.train.experts import make_expert

    sinking = {'privileged': {'position': np.array([0.0, 0.0, 1.5]),
                              'velocity': np.array([0.0, 0.0, -1.0]),
                              'euler': np.zeros(3), 'goal': np.array([3.0, 0.0, 1.5]),
                              'target_position': np.array([4.5, 0.0, 1.5]), 'time': 0.0}}
    host = SimpleNamespace(unwrapped=QuadParams())
    rng = np.random.default_rng(0)
    stiff = make_expert('quad', host, rng).act(sinking)
    gentle = make_expert('quad', host, rng, {'climb_gain': 2.0}).act(sinking)
    assert 0.0 < gentle[3] < stiff[3]
    rover = make_expert('rover', host, rng, {'k': 4.0})
    assert rover.gains.k == 4.0
