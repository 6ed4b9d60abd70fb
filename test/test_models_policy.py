"""Policy: every core through the same interface, config round-trip, bounds, input checks."""
import dataclasses

from lnn_control.models.checkpoint import load_checkpoint, save_checkpoint
from lnn_control.models.cores import CORES
from lnn_control.models.policy import Normalization, Policy, PolicyConfig
from lnn_control.models.wiring import wiring_from_dict
import pytest
import torch

CONTINUOUS = {'ncp_cfc', 'ncp_ltc', 'cfc_dense'}


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def _inputs(config, batch=2, steps=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    h, w = config.image_hw
    images = torch.randint(0, 256, (batch, steps, h, w, 3), dtype=torch.uint8,
                           generator=generator)
    imu = torch.randn(batch, steps, config.imu_dim, generator=generator)
    elapsed = 0.02 + 0.1 * torch.rand(batch, steps, generator=generator)
    return images, imu, elapsed


@pytest.mark.parametrize('vehicle', ['rover', 'quad'])
@pytest.mark.parametrize('core', sorted(CORES))
def test_every_core_steps_like_it_runs_sequences_and_round_trips(vehicle, core, tmp_path):
    config = PolicyConfig.for_vehicle(vehicle, core=core)
    policy = Policy(config)
    images, imu, elapsed = _inputs(config)
    actions, hx = policy(images, imu, elapsed)
    assert actions.shape == (2, 3, config.action_dim)
    assert hx.shape == (2, policy.state_size)
    low, high = torch.tensor(config.action_low), torch.tensor(config.action_high)
    assert ((actions >= low) & (actions <= high)).all()

    state, steps = policy.initial_state(2), []
    for t in range(3):
        action, state = policy.step(images[:, t], imu[:, t], elapsed[:, t], state)
        steps.append(action)
    torch.testing.assert_close(torch.stack(steps, 1), actions, rtol=0, atol=1e-5)
    torch.testing.assert_close(state, hx, rtol=0, atol=1e-5)

    counts = policy.parameter_counts()
    assert counts['head'] > 0 and counts['core'] > 0
    assert counts['total'] == counts['head'] + counts['core']

    path = save_checkpoint(tmp_path / 'policy.pt', policy, metadata={'core': core})
    loaded, metadata = load_checkpoint(path, expect_vehicle=vehicle)
    assert metadata == {'core': core} and loaded.config == config
    with torch.no_grad():
        expected, _ = policy.eval()(images, imu, elapsed)
        torch.testing.assert_close(loaded(images, imu, elapsed)[0], expected, rtol=0, atol=0)


@pytest.mark.parametrize('core', sorted(CORES))
def test_only_continuous_cores_depend_on_elapsed_time(core):
    config = PolicyConfig.for_vehicle('quad', core=core)
    policy = Policy(config)
    images, imu, elapsed = _inputs(config)
    with torch.no_grad():
        slow, _ = policy(images, imu, elapsed * 5.0)
        fast, _ = policy(images, imu, elapsed)
    assert torch.allclose(slow, fast) == (core not in CONTINUOUS)


def test_memory_matters_except_for_the_feedforward_core():
    for core in ('ncp_cfc', 'lstm', 'esn', 'feedforward'):
        policy = Policy(PolicyConfig.for_vehicle('rover', core=core))
        images, imu, elapsed = _inputs(policy.config, batch=1, steps=4)
        with torch.no_grad():
            whole, _ = policy(images, imu, elapsed)
            last, _ = policy(images[:, -1:], imu[:, -1:], elapsed[:, -1:])
        assert torch.allclose(whole[:, -1], last[:, 0], atol=1e-6) == (core == 'feedforward')


def test_echo_state_reservoir_is_fixed_only_the_readout_learns():
    policy = Policy(PolicyConfig.for_vehicle('rover', core='esn'))
    trainable = {n for n, p in policy.core.named_parameters() if p.requires_grad}
    assert trainable == {'readout.weight', 'readout.bias'}
    assert 'core.w' in policy.state_dict()  # the reservoir travels with checkpoints
    same = Policy(PolicyConfig.for_vehicle('rover', core='esn'))
    assert torch.equal(same.core.w, policy.core.w)  # drawn from the configured seed


def test_ncp_cores_use_the_vehicle_preset_and_keep_it_in_the_config():
    rover = PolicyConfig.for_vehicle('rover')
    quad = PolicyConfig.for_vehicle('quad', core='ncp_ltc')
    assert rover.core == 'ncp_cfc'
    assert wiring_from_dict(rover.core_options['wiring']).layers[2] == range(18, 19)
    assert wiring_from_dict(quad.core_options['wiring']).output_dim == 4
    assert rover.image_hw == (66, 200) and quad.image_hw == (64, 128)
    assert quad.action_names == ('roll', 'pitch', 'yaw_rate', 'thrust')


@pytest.mark.parametrize('core', sorted(CORES))
def test_config_round_trips_through_plain_data(core):
    config = PolicyConfig.for_vehicle('quad', core=core, normalization=Normalization(
        imu_mean=(0.1, 0.0, 9.8, 0.0, 0.0, 0.0), imu_std=(2.0,) * 6))
    data = config.to_dict()
    assert PolicyConfig.from_dict(data) == config
    as_lists = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
    assert PolicyConfig.from_dict(as_lists) == config


@pytest.mark.parametrize('change, message', [
    ({'vehicle': 'boat'}, 'vehicle'),
    ({'image_hw': (20, 200)}, 'image_hw'),
    ({'core': 'transformer'}, 'core'),
    ({'core_options': {'units': 0}, 'core': 'lstm'}, 'units'),
    ({'core_options': {'depth': 3}, 'core': 'gru'}, 'depth'),
    ({'action_low': (1.0,)}, 'action_low'),
    ({'action_dim': 2}, 'action_names'),
    ({'imu_dim': 3, 'normalization': Normalization()}, r'imu_dim \+ len\(state_inputs\) is 3'),
])
def test_bad_config_names_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        PolicyConfig(**change)


def test_wiring_must_match_the_action_count():
    wiring = PolicyConfig.for_vehicle('quad').core_options['wiring']
    config = PolicyConfig(core_options={'wiring': wiring})  # rover: one action, four motors
    with pytest.raises(ValueError, match='motor neurons'):
        Policy(config)


def test_bad_inputs_raise_clear_errors():
    policy = Policy(PolicyConfig())
    images, imu, elapsed = _inputs(policy.config)
    with pytest.raises(TypeError, match='uint8'):
        policy(images.float(), imu, elapsed)
    with pytest.raises(ValueError, match='H, W'):
        policy(images[:, :, :60], imu, elapsed)
    with pytest.raises(ValueError, match='imu'):
        policy(images, imu[..., :5], elapsed)
    with pytest.raises(ValueError, match='elapsed'):
        policy(images, imu, elapsed[:, :2])
    with pytest.raises(ValueError, match='hx'):
        policy.step(images[:, 0], imu[:, 0], elapsed[:, 0], torch.zeros(2, 3))


def test_images_are_normalised_inside_with_the_configured_statistics():
    config = PolicyConfig()
    shifted = dataclasses.replace(config, normalization=Normalization(image_mean=(0.2,) * 3))
    a, b = Policy(config), Policy(shifted)
    b.load_state_dict(a.state_dict())
    images, imu, elapsed = _inputs(config, batch=1, steps=1)
    with torch.no_grad():
        assert not torch.allclose(a(images, imu, elapsed)[0], b(images, imu, elapsed)[0])


def test_a_control_tick_of_the_default_policy_has_finite_output_at_batch_one():
    policy = Policy(PolicyConfig()).eval()
    images, imu, elapsed = _inputs(policy.config, batch=1, steps=1)
    with torch.inference_mode():
        action, hx = policy.step(images[:, 0], imu[:, 0], elapsed[:, 0])
    assert action.shape == (1, 1) and torch.isfinite(action).all() and hx.shape == (1, 19)


def test_wired_cores_count_only_the_synapses_of_their_wiring():
    cfc = Policy(PolicyConfig(core='ncp_cfc')).parameter_counts()
    ltc = Policy(PolicyConfig(core='ncp_ltc')).parameter_counts()
    assert cfc['core'] == 4 * (252 + 19)  # ff1, ff2, time_a, time_b: weights + biases
    assert ltc['core'] == 3 * 252 + 3 * 19 + 2 * 32 + 2 * 1  # w, mu, sigma; leak, cm; mappings
    assert cfc['core_stored'] > cfc['core']
    lstm = Policy(PolicyConfig(core='lstm')).parameter_counts()
    assert lstm['core'] == lstm['core_stored'] == 4 * 64 * (32 + 64 + 2) + 64 + 1
