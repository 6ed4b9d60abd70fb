"""One policy runtime everywhere: evaluation steps the node's runner, on torch or ONNX Runtime."""
from __future__ import annotations

from lnn_control.control.backends import (
    BackendError,
    make_backend,
    OnnxBackend,
    TorchBackend,
)
from lnn_control.control.inputs import SensorInputs
from lnn_control.control.runner import PolicyRunner, RunnerError
from lnn_control.models.checkpoint import load_checkpoint
from lnn_control.models.policy import Policy, PolicyConfig
from lnn_control.paths import config_path
from lnn_control.train.experts import make_expert
from lnn_control.train.rollout import control_period, make_env, RolloutOptions, run_episode
import numpy as np
import pytest

pytest.importorskip('onnxruntime', reason='the ONNX backend needs onnxruntime')

ENVS = {'rover': ('lnn_control/RoverLane-v0',
                  {'image_hw': [48, 128], 'track_split': 'eval', 'control_hz': 20.0}),
        'quad': ('lnn_control/QuadTarget-v0', {'image_hw': [64, 128], 'control_hz': 25})}
STEPS = 120


def shipped(vehicle):
    policy, _ = load_checkpoint(config_path() / 'policies' / f'{vehicle}_ncp_cfc.pt')
    return policy


@pytest.fixture(scope='module', params=['rover', 'quad'])
def evaluated(request):
    """Return a shipped policy and one evaluation episode it drove, inputs and commands kept."""
    vehicle = request.param
    policy = shipped(vehicle)
    env_id, kwargs = ENVS[vehicle]
    env = make_env(env_id, kwargs)
    rng = np.random.default_rng(0)
    options = RolloutOptions(max_steps=STEPS, beta=0.0, record=True,
                             state_inputs=policy.config.state_inputs)
    result = run_episode(env, make_expert(vehicle, env, rng), seed=500_000, policy=policy,
                         rng=rng, options=options)
    dt = control_period(env)
    env.close()
    return policy, result.episode, dt


def test_the_nodes_input_path_gives_the_commands_evaluation_gave(evaluated):
    """Raw frames and IMU through SensorInputs and the runner, as the node feeds them."""
    policy, episode, dt = evaluated
    runner = PolicyRunner(policy, nominal_dt=dt)
    names = policy.config.state_inputs
    inputs = SensorInputs(runner.image_hw, 1.0, 1.0, state_inputs=names)
    height, width = episode.images.shape[1:3]
    commands = []
    for k, (frame, vector) in enumerate(zip(episode.images, episode.imu, strict=True)):
        now = k * dt
        assert inputs.on_image(frame.tobytes(), 'rgb8', height, width, 3 * width, now, now) \
            is None
        assert inputs.on_imu(vector[:6], now, now) is None
        if names:
            assert inputs.on_state(dict(zip(names, vector[6:].tolist(), strict=True)), now,
                                   now) is None
        commands.append(runner.act(inputs.image, inputs.vector(), dt))
    assert len(commands) > 50
    np.testing.assert_array_equal(np.stack(commands), episode.executed)


def test_onnx_runtime_matches_torch_over_the_episode(evaluated):
    policy, episode, dt = evaluated
    torch_run = PolicyRunner(policy, nominal_dt=dt, backend='torch')
    onnx_run = PolicyRunner(policy, nominal_dt=dt, backend='onnxruntime')
    assert onnx_run.backend.name == 'onnxruntime'
    from lnn_control.control.preprocess import resize

    worst_action = worst_state = 0.0
    for frame, vector in zip(episode.images, episode.imu, strict=True):
        image = resize(frame, torch_run.image_hw)
        a = torch_run.act(image, vector, dt)
        b = onnx_run.act(image, vector, dt)
        worst_action = max(worst_action, float(np.abs(a - b).max()))
        worst_state = max(worst_state, float(np.abs(
            torch_run.state_vector() - onnx_run.state_vector()).max()))
    assert worst_action <= 1e-5 and worst_state <= 1e-5, (worst_action, worst_state)


@pytest.mark.parametrize('core, options', [
    ('ncp_cfc', {'mode': 'pure'}), ('ncp_cfc', {'mode': 'no_gate'}), ('ncp_ltc', {}),
    ('cfc_dense', {'units': 16}), ('lstm', {'units': 8}), ('gru', {'units': 8}),
    ('esn', {'units': 16}), ('feedforward', {'units': 8})])
def test_every_core_runs_on_onnx_runtime_as_on_torch(core, options):
    policy = Policy(PolicyConfig.for_vehicle('quad', core=core, core_options=options,
                                             state_inputs=('altitude',)))
    rng = np.random.default_rng(1)
    onnx, reference = OnnxBackend(policy), TorchBackend(policy)
    state_a, state_b = onnx.initial_state(), reference.initial_state()
    for _ in range(5):
        image = rng.integers(0, 256, (64, 128, 3), dtype=np.uint8)
        vector = rng.normal(size=7).astype(np.float32)
        elapsed = float(rng.uniform(0.01, 0.2))
        a, state_a = onnx.step(image, vector, elapsed, state_a)
        b, state_b = reference.step(image, vector, elapsed, state_b)
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(state_a, state_b, atol=1e-5)


def test_auto_takes_onnx_runtime_and_says_so():
    backend, note = make_backend(shipped('rover'), 'auto')
    assert backend.name == 'onnxruntime' and note == 'onnxruntime (cpu)'


def test_auto_falls_back_to_torch_without_onnx_runtime(monkeypatch):
    import lnn_control.control.backends as backends

    monkeypatch.setattr(backends, 'onnxruntime_installed', lambda: False)
    backend, note = make_backend(shipped('rover'), 'auto')
    assert backend.name == 'torch' and 'not installed' in note


def test_a_backend_that_fails_its_parity_check_is_refused(monkeypatch):
    import lnn_control.control.backends as backends

    real_step = OnnxBackend.step

    def off_by_a_bit(self, image, vector, elapsed_s, state):
        action, state = real_step(self, image, vector, elapsed_s, state)
        return action + 1e-3, state

    monkeypatch.setattr(backends.OnnxBackend, 'step', off_by_a_bit)
    backend, note = make_backend(shipped('rover'), 'auto')
    assert backend.name == 'torch' and 'differs from torch' in note
    with pytest.raises(BackendError, match='differs from torch by 1.0.e-03'):
        make_backend(shipped('rover'), 'onnxruntime')


def test_backend_errors_name_the_choice():
    policy = shipped('rover')
    with pytest.raises(RunnerError, match="backend 'tflite'.*one of"):
        PolicyRunner(policy, nominal_dt=0.05, backend='tflite')
    with pytest.raises(BackendError, match="unknown provider 'npu'"):
        make_backend(policy, 'onnxruntime', provider='npu')
    with pytest.raises(BackendError, match="provider 'tensorrt'.*not available here"):
        make_backend(policy, 'onnxruntime', provider='tensorrt')
