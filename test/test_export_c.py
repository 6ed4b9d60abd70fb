"""export_c: the C99 computes ``Policy.step``'s numbers, builds warning-free, refuses the rest.

Each export is compiled with ``cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic`` and stepped
through ctypes next to eager torch, each side carrying its own state.
"""
from pathlib import Path
import shutil
import subprocess

from lnn_control.control.preprocess import resize
from lnn_control.export.c_library import CPolicy, FLAGS
from lnn_control.export.c_policy import export_c, ExportError, SUPPORTED_CORES
from lnn_control.models.checkpoint import load_checkpoint
from lnn_control.models.policy import Policy, PolicyConfig
import numpy as np
import pytest
import torch

CC = shutil.which('cc')
pytestmark = pytest.mark.skipif(
    CC is None, reason='no C compiler: `cc` is not on PATH, so the exported C cannot be built')

ROOT = Path(__file__).resolve().parent.parent
#: Largest |C - torch| allowed on actions and state, over a whole episode.
TOLERANCE = 1e-4


def _compile(args: list[str]) -> None:
    done = subprocess.run([CC, *FLAGS, *args], capture_output=True, text=True)
    assert done.returncode == 0, f'cc {" ".join(args)} failed:\n{done.stderr}'


def _torch_step(policy: Policy, image: np.ndarray, imu: np.ndarray, elapsed: float,
                hx: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    with torch.inference_mode():
        action, hx = policy.step(torch.from_numpy(np.ascontiguousarray(image)).unsqueeze(0),
                                 torch.from_numpy(np.asarray(imu, np.float32)).unsqueeze(0),
                                 torch.tensor([elapsed], dtype=torch.float32), hx)
    return action[0].numpy(), hx


def _recorded_episode(policy: Policy, metadata: dict, steps: int):
    """Frames, IMU and elapsed times from the expert driving the policy's own env."""
    from lnn_control.train.experts import make_expert
    from lnn_control.train.rollout import make_env, RolloutOptions, run_episode

    env = make_env(metadata['env_id'], dict(metadata['env_kwargs']))
    try:
        rng = np.random.default_rng(0)
        result = run_episode(env, make_expert(policy.config.vehicle, env, rng), seed=0, rng=rng,
                             options=RolloutOptions(max_steps=steps, record=True,
                                                    state_inputs=policy.config.state_inputs))
    finally:
        env.close()
    return result.episode


@pytest.mark.parametrize('vehicle', ['rover', 'quad'])
def test_shipped_policy_matches_torch_over_a_recorded_episode(vehicle, tmp_path):
    path = ROOT / 'config' / 'policies' / f'{vehicle}_ncp_cfc.pt'
    policy, metadata = load_checkpoint(path)
    export = export_c(policy, tmp_path, origin=f'{path.name} (run {metadata["run"]})')
    assert export.parameters == policy.parameter_counts()['total']
    assert export.flash_bytes > 4 * export.parameters  # + pixel table; CfC rows keep zeros
    assert export.ram_bytes > 4 * policy.state_size
    assert f'{path.name} (run {metadata["run"]})' in export.header.read_text()
    c_policy = CPolicy.build(export, policy)
    episode = _recorded_episode(policy, metadata, steps=100)
    assert len(episode.elapsed) >= 50, 'the episode ended too early to compare much'
    hw = tuple(policy.config.image_hw)
    hx = policy.initial_state(1)
    action_diff = state_diff = 0.0
    for image, imu, elapsed in zip(episode.images, episode.imu, episode.elapsed, strict=True):
        frame = resize(image, hw)
        action, hx = _torch_step(policy, frame, imu, float(elapsed), hx)
        c_action = c_policy.step(frame, imu, float(elapsed))
        action_diff = max(action_diff, float(np.abs(c_action - action).max()))
        state_diff = max(state_diff, float(np.abs(c_policy.state - hx[0].numpy()).max()))
    assert np.abs(hx.numpy()).max() > 1e-2, 'the state never moved: nothing was compared'
    assert action_diff <= TOLERANCE and state_diff <= TOLERANCE, (action_diff, state_diff)


def _random_policy(seed: int, vehicle: str, **overrides) -> Policy:
    """Build a policy with every parameter jittered, so no init symmetry hides a bug."""
    torch.manual_seed(seed)
    policy = Policy(PolicyConfig.for_vehicle(vehicle, **overrides)).eval()
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter))
    return policy


@pytest.mark.parametrize('vehicle, overrides', [
    ('rover', {'core': 'ncp_ltc', 'image_hw': (48, 64)}),
    ('rover', {'core': 'cfc_dense', 'core_options': {'mode': 'pure', 'units': 8}}),
    ('quad', {'core': 'ncp_cfc', 'core_options': {'mode': 'no_gate'}, 'imu_dim': 0,
              'image_hw': (37, 37)}),
    ('quad', {'core': 'ncp_ltc', 'core_options': {'ode_unfolds': 3, 'wiring': {
        'kind': 'FullyConnected', 'units': 6, 'output_dim': 4}}, 'image_hw': (40, 90)}),
], ids=['ncp_ltc', 'cfc_dense_pure', 'ncp_cfc_no_gate_camera_only', 'dense_ltc'])
def test_random_policies_match_torch_on_random_inputs(vehicle, overrides, tmp_path):
    policy = _random_policy(1, vehicle, **overrides)
    export = export_c(policy, tmp_path, name='random_policy')
    c_policy, c_with_workspace = CPolicy.build(export, policy), CPolicy.build(export, policy)
    workspace = np.empty((export.ram_bytes - 4 * policy.state_size) // 4, np.float32)
    rng = np.random.default_rng(2)
    hx = policy.initial_state(1)
    for _ in range(12):
        image = rng.integers(0, 256, (*policy.config.image_hw, 3), dtype=np.uint8)
        imu = rng.normal(size=policy.config.input_dim).astype(np.float32)
        elapsed = float(rng.uniform(0.01, 0.5))
        action, hx = _torch_step(policy, image, imu, elapsed, hx)
        c_action = c_policy.step(image, imu, elapsed)
        workspace.fill(np.nan)  # nothing may carry over in the workspace
        np.testing.assert_array_equal(c_with_workspace.step(image, imu, elapsed, workspace),
                                      c_action)
        np.testing.assert_allclose(c_action, action, rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(c_policy.state, hx[0].numpy(), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize('core', ['lstm', 'gru', 'feedforward', 'esn'])
def test_unsupported_core_raises_export_error_naming_it(core, tmp_path):
    policy = Policy(PolicyConfig.for_vehicle('rover', core=core))
    with pytest.raises(ExportError, match=rf"core '{core}'.*supported: ") as raised:
        export_c(policy, tmp_path)
    assert isinstance(raised.value, ValueError)
    assert all(name in str(raised.value) for name in SUPPORTED_CORES)
    assert not list(tmp_path.iterdir()), 'nothing is written for a refused policy'


def test_name_must_be_a_c_identifier(tmp_path):
    with pytest.raises(ExportError, match='C identifier'):
        export_c(_random_policy(0, 'rover'), tmp_path, name='rover-policy')


def test_header_compiles_standalone_and_states_the_footprint(tmp_path):
    policy = _random_policy(0, 'quad', image_hw=(48, 96), state_inputs=('altitude',))
    export = export_c(policy, tmp_path, name='quad_tick')
    config = policy.config
    check = tmp_path / 'uses_header.c'
    check.write_text(f"""#include "quad_tick.h"
typedef char sizes_match[(QUAD_TICK_IMAGE_H == 48 && QUAD_TICK_IMAGE_W == 96
                          && QUAD_TICK_INPUT_DIM == {config.input_dim}
                          && QUAD_TICK_STATE_SIZE == {policy.state_size}
                          && QUAD_TICK_ACTION_DIM == {config.action_dim}) ? 1 : -1];
typedef char ram_matches[(sizeof(quad_tick_workspace) + 4 * QUAD_TICK_STATE_SIZE
                          == {export.ram_bytes}) ? 1 : -1];
""")
    _compile(['-c', str(check), '-o', str(tmp_path / 'uses_header.o')])
    header = export.header.read_text()
    assert 'altitude' in header and 'm/s^2' in header and 'HWC' in header
