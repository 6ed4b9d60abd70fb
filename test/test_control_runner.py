"""PolicyRunner on a real (untrained) Policy checkpoint, and the expert behind its interface."""
from lnn_control.control.ground_truth import decode_privileged, encode_privileged, ExpertRunner
from lnn_control.control.policies import make_runner, trained_rate_hz
from lnn_control.control.runner import PolicyRunner, RunnerError
from lnn_control.models.checkpoint import save_checkpoint
from lnn_control.models.policy import Policy, PolicyConfig
import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def rover_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('ckpt') / 'rover.pt'
    save_checkpoint(path, Policy(PolicyConfig.for_vehicle('rover')))
    return path


def test_runner_steps_and_is_stateful(rover_ckpt):
    runner = PolicyRunner.from_checkpoint(rover_ckpt, expect_vehicle='rover', nominal_dt=0.05)
    assert runner.image_hw == (66, 200) and runner.action_dim == 1
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (66, 200, 3), dtype=np.uint8)
    imu = np.array([0, 0, 9.81, 0, 0, 0], np.float32)
    first = runner.act(image, imu, float('nan'))
    second = runner.act(image, imu, 0.05)
    assert first.shape == (1,) and first.dtype == np.float32 and -1 <= first[0] <= 1
    assert np.isfinite(second).all()
    runner.reset()
    again = runner.act(image, imu, float('nan'))
    np.testing.assert_allclose(again, first, atol=1e-6)  # reset = same state as at start


def test_runner_rejects_bad_inputs(rover_ckpt):
    runner = PolicyRunner.from_checkpoint(rover_ckpt, nominal_dt=0.05)
    with pytest.raises(RunnerError, match='expected a uint8 image'):
        runner.act(np.zeros((10, 10, 3), np.uint8), np.zeros(6), 0.05)
    with pytest.raises(RunnerError, match='finite IMU'):
        runner.act(np.zeros((66, 200, 3), np.uint8), np.full(6, np.nan), 0.05)


def test_checkpoint_errors_are_clear(tmp_path, rover_ckpt):
    with pytest.raises(RunnerError, match='does not exist'):
        PolicyRunner.from_checkpoint(tmp_path / 'missing.pt')
    bad = tmp_path / 'corrupt.pt'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(RunnerError, match='corrupt.pt'):
        PolicyRunner.from_checkpoint(bad)
    with pytest.raises(RunnerError, match="expected 'quad'"):
        make_runner('quad', 'checkpoint', rover_ckpt, 50.0)


def test_expert_runner_acts_on_decoded_ground_truth():
    runner = make_runner('quad', 'expert', None, 50.0)
    assert isinstance(runner, ExpertRunner) and runner.action_dim == 4
    with pytest.raises(RuntimeError, match='no ground truth'):
        runner.act(None, None, 0.02)
    state = {'position': np.array([0.0, 0.0, 1.0]), 'velocity': np.zeros(3),
             'euler': np.zeros(3), 'goal': np.array([5.0, 0.0, 1.0]),
             'target_position': np.array([6.5, 0.0, 1.0]), 'time': 0.0, 'goal_yaw': 0.0}
    runner.update(decode_privileged(encode_privileged(state)))
    action = runner.act(None, None, 0.02)
    assert action.shape == (4,) and action[1] > 0  # pitch nose-down to fly towards the goal


def test_trained_rate_from_checkpoint_metadata():
    assert trained_rate_hz({'env_kwargs': {'control_hz': 25}}) == 25.0
    assert trained_rate_hz({'env_kwargs': {}}) is None
    assert trained_rate_hz({}) is None
