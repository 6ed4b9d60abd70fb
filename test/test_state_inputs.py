"""State inputs (the autopilot's altitude and climb rate) from env to dataset to policy to tick."""
from __future__ import annotations

import math

from lnn_control.control.frames import quat_from_euler, vertical_velocity
from lnn_control.control.inputs import SensorInputs
from lnn_control.control.limits import QuadLimits
from lnn_control.control.loop import ControlLoop
from lnn_control.control.timing import LoopStats
from lnn_control.control.vehicles import QuadCommander
from lnn_control.models.policy import Policy, PolicyConfig
from lnn_control.models.state_inputs import input_vector
from lnn_control.train.config import ConfigError, TrainConfig
from lnn_control.train.dataset import SequenceDataset
from lnn_control.train.demos import DatasetError, DemoWriter, Episode, read_manifest
from lnn_control.train.pipeline import resolve_policy_config
import numpy as np
import pytest
import torch

STATE = ('altitude', 'climb_rate')
QUAD = ('roll', 'pitch', 'yaw_rate', 'thrust')


def test_input_vector_appends_named_state_in_order_and_refuses_gaps():
    imu = np.arange(6, dtype=np.float32)
    vector = input_vector(imu, {'climb_rate': -0.5, 'altitude': np.array([1.5])}, STATE)
    assert vector.dtype == np.float32 and vector.tolist() == [0, 1, 2, 3, 4, 5, 1.5, -0.5]
    assert input_vector(imu, {}, ()).tolist() == imu.tolist()
    with pytest.raises(ValueError, match='climb_rate'):
        input_vector(imu, {'altitude': 1.0}, STATE)
    with pytest.raises(ValueError, match='altitude'):
        input_vector(imu, {'altitude': math.nan, 'climb_rate': 0.0}, STATE)


@pytest.mark.parametrize('value', [1e308, -1e39, math.inf, None, 'high', [], [1.0, 2.0]])
def test_input_vector_refuses_values_not_finite_as_float32_or_not_one_number(value):
    with pytest.raises(ValueError, match="state input 'climb_rate' is missing, not one number "
                                         'or not finite as float32'):
        input_vector(np.zeros(6, np.float32), {'altitude': 1.0, 'climb_rate': value}, STATE)
    largest = float(np.finfo(np.float32).max)
    vector = input_vector(np.zeros(0), {'altitude': largest, 'climb_rate': 0.0}, STATE)
    assert vector.dtype == np.float32 and np.all(np.isfinite(vector))


def test_policy_takes_imu_then_state_and_names_them_when_the_width_is_wrong():
    config = PolicyConfig.for_vehicle('quad', state_inputs=list(STATE))
    assert config.state_inputs == STATE and config.input_dim == 8
    assert len(config.normalization.imu_mean) == 8
    assert PolicyConfig.from_dict(config.to_dict()) == config
    torch.manual_seed(0)
    policy = Policy(config).eval()
    image = torch.full((1, 64, 128, 3), 100, dtype=torch.uint8)
    low, high = torch.zeros(1, 8), torch.zeros(1, 8)
    high[0, 6] = 5.0  # only the altitude differs: the policy must see it
    with torch.no_grad():
        assert not torch.equal(policy.step(image, low)[0], policy.step(image, high)[0])
        with pytest.raises(ValueError, match='altitude'):
            policy.step(image, torch.zeros(1, 6))


@pytest.mark.parametrize('names, match', [(['heading'], 'heading'),
                                          (['altitude', 'altitude'], 'distinct'),
                                          ('altitude', 'list of names')])
def test_unknown_or_repeated_state_inputs_are_refused(names, match):
    with pytest.raises(ValueError, match=match):
        PolicyConfig.for_vehicle('quad', state_inputs=names)
    with pytest.raises(ConfigError, match=match):
        TrainConfig(vehicle='quad', policy={'state_inputs': names})


def _quad_episode(steps: int, width: int) -> Episode:
    rng = np.random.default_rng(steps)
    return Episode(rng.integers(0, 255, (steps, 8, 12, 3), dtype=np.uint8),
                   rng.standard_normal((steps, width)).astype(np.float32),
                   np.zeros((steps, 4), np.float32), np.full(steps, 0.04, np.float32))


def test_datasets_record_their_state_inputs_and_refuse_mixing(tmp_path):
    with_state, without = tmp_path / 'state', tmp_path / 'plain'
    DemoWriter(with_state, vehicle='quad', image_hw=(8, 12), action_names=QUAD,
               state_inputs=STATE).add(_quad_episode(20, 8))
    DemoWriter(without, vehicle='quad', image_hw=(8, 12), action_names=QUAD).add(
        _quad_episode(20, 6))
    meta = read_manifest(with_state)
    assert meta.state_inputs == STATE and meta.input_dim == 8
    with pytest.raises(DatasetError, match='state'):
        DemoWriter(with_state, vehicle='quad', image_hw=(8, 12), action_names=QUAD,
                   state_inputs=STATE).add(_quad_episode(20, 6))
    with pytest.raises(DatasetError, match='state_inputs'):
        DemoWriter(with_state, vehicle='quad', image_hw=(8, 12), action_names=QUAD)
    with pytest.raises(DatasetError, match='state inputs'):
        SequenceDataset([with_state, without], seq_len=8)
    data = SequenceDataset([with_state], seq_len=8)
    assert len(resolve_policy_config(TrainConfig(vehicle='quad', policy={
        'state_inputs': list(STATE)}), data)['normalization']['imu_mean']) == 8
    with pytest.raises(ConfigError, match='record the data with the same state inputs'):
        resolve_policy_config(TrainConfig(vehicle='quad'), data)


class _WidthRunner:
    image_hw = (4, 6)
    action_dim = 4
    state_inputs = STATE

    def __init__(self):
        self.seen = []

    def reset(self):
        pass

    def act(self, image, imu, elapsed_s):
        self.seen.append(np.asarray(imu))
        return np.array([0.0, 0.0, 0.0, 0.5], np.float32)


def test_tick_waits_for_the_state_estimate_and_feeds_it_after_the_imu():
    runner = _WidthRunner()
    inputs = SensorInputs(runner.image_hw, 0.2, 0.2, state_inputs=STATE, state_timeout_s=0.2)
    commander = QuadCommander(QuadLimits(0.5, 1.5, 0.05, 0.9, 0.42), 1.0, 0.04)
    loop = ControlLoop(inputs, runner, commander, LoopStats(25.0))
    image = np.full((4, 6, 3), 90, np.uint8)
    inputs.on_image(image.tobytes(), 'rgb8', 4, 6, 18, 0.0, 0.0)
    inputs.on_imu(np.array([0, 0, 9.81, 0, 0, 0.1]), 0.0, 0.0)
    result = loop.tick(0.01, 0.01)
    assert result.safe and 'state' in result.reason and not runner.seen
    assert inputs.on_state({'altitude': 1.2, 'climb_rate': -0.3}, 0.0, 0.0) is None
    assert not loop.tick(0.05, 0.05).safe
    assert runner.seen[-1].tolist() == pytest.approx([0, 0, 9.81, 0, 0, 0.1, 1.2, -0.3])
    # A non-finite estimate is dropped and invalidates the input: the next tick is safe.
    assert 'climb_rate' in inputs.on_state({'altitude': 1.2, 'climb_rate': math.nan}, 0.06, 0.06)
    assert loop.tick(0.09, 0.09).safe
    # And a stale one times out.
    inputs.on_state({'altitude': 1.2, 'climb_rate': 0.0}, 0.1, 0.1)
    assert not loop.tick(0.12, 0.12).safe
    inputs.on_image(image.tobytes(), 'rgb8', 4, 6, 18, 0.45, 0.45)
    inputs.on_imu(np.array([0, 0, 9.81, 0, 0, 0]), 0.45, 0.45)
    assert 'state' in loop.tick(0.5, 0.5).reason


def test_vertical_velocity_rotates_the_body_twist_into_the_world():
    assert vertical_velocity(np.array([1.0, 0, 0, 0]), np.array([0.3, 0.2, -0.4])) == \
        pytest.approx(-0.4)
    pitched = quat_from_euler(0.0, 0.3, 0.0)  # nose down (FLU pitch > 0)
    assert vertical_velocity(pitched, np.array([1.0, 0.0, 0.0])) == pytest.approx(-math.sin(0.3))


def test_quad_env_observes_altitude_and_climb_rate():
    from lnn_control.sim.quad_env import QuadTargetEnv

    env = QuadTargetEnv(camera=False)
    try:
        obs, info = env.reset(seed=0)
        assert obs['altitude'][0] == pytest.approx(info['privileged']['position'][2], abs=1e-5)
        climb = np.array([0.0, 0.0, 0.0, 0.8], np.float32)
        for _ in range(10):
            obs, _, _, _, info = env.step(climb)
        assert obs['climb_rate'][0] > 0.2
        assert obs['climb_rate'][0] == pytest.approx(info['privileged']['velocity'][2],
                                                     abs=1e-5)
    finally:
        env.close()


def test_activity_and_saliency_plots_feed_a_state_input_policy_its_state(tmp_path):
    from lnn_control.models.checkpoint import save_checkpoint
    from lnn_control.train.evaluate import EvalConfig
    from lnn_control.train.evaluate_cli import plot_policy

    torch.manual_seed(0)
    path = tmp_path / 'quad.pt'
    save_checkpoint(path, Policy(PolicyConfig.for_vehicle('quad', state_inputs=list(STATE))))
    config = EvalConfig(vehicle='quad', env_id='lnn_control/QuadTarget-v0',
                        env_kwargs={'image_hw': [64, 128], 'control_hz': 25}, max_steps=20)
    plot_policy(str(path), config, tmp_path, 'quad', shifted=('fog:3',))
    assert (tmp_path / 'activity.png').stat().st_size > 0
    assert (tmp_path / 'saliency.png').stat().st_size > 0
