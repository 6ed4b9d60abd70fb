"""Drone scenarios change the world they claim to, deterministically, and reset cleanly."""
from lnn_control.sim.quad_env import QuadHoverEnv, QuadTargetEnv
from lnn_control.sim.quad_model import FOLIAGE_RGBA, GROUND_RGBA, TARGET_RGBA
from lnn_control.sim.scenario import available_scenarios, parse_scenarios
import numpy as np
import pytest

QUAD_SCENARIOS = ('wind', 'gusts', 'payload', 'motor_fault', 'imu_bias', 'target_look', 'autumn',
                  'snow')


@pytest.fixture(scope='module')
def env():
    env = QuadTargetEnv(camera=False)
    yield env
    env.close()


def material_rgba(env, name):
    return env.model.mat_rgba[env.model.material(name).id].copy()


def test_drone_scenarios_are_shipped_for_the_quad_only():
    catalogue = available_scenarios('quad')
    for name in QUAD_SCENARIOS:
        assert 'quad' in catalogue[name].vehicles and 'rover' not in catalogue[name].vehicles
        assert len(parse_scenarios(f'{name}:5', vehicle='quad')) >= 1


def test_every_quad_scenario_runs_at_every_severity(env):
    for name in QUAD_SCENARIOS:
        for severity in (1, 5):
            obs, info = env.reset(seed=0, options={'scenario': f'{name}:{severity}'})
            obs, *_ = env.step(np.array([0, 0, 0, env.params.hover_thrust], np.float32))
            assert env.observation_space.contains(obs), name


def test_payload_changes_mass_and_the_next_reset_restores_it(env):
    env.reset(seed=0)
    mass = env.model.body_mass[env.model.body('quad').id]
    env.reset(seed=0, options={'scenario': 'payload:5'})
    assert env.model.body_mass[env.model.body('quad').id] == pytest.approx(1.6 * mass)
    env.reset(seed=0)
    assert env.model.body_mass[env.model.body('quad').id] == pytest.approx(mass)


def test_motor_fault_weakens_exactly_one_motor(env):
    env.reset(seed=3, options={'scenario': 'motor_fault:5'})
    efficiency = env.motors.efficiency
    assert sorted(efficiency) == pytest.approx([0.5, 1.0, 1.0, 1.0])


def test_gusts_vary_the_wind_over_time(env):
    _, info = env.reset(seed=0, options={'scenario': 'gusts:5'})
    winds = []
    for _ in range(50):
        *_, info = env.step(np.array([0, 0, 0, env.params.hover_thrust], np.float32))
        winds.append(info['privileged']['wind'])
    winds = np.array(winds)
    assert winds[:, :2].std(axis=0).min() > 0.3


def test_imu_bias_shifts_the_mean_reading(env):
    def mean_imu(scenario):
        obs, _ = env.reset(seed=4, options={'scenario': scenario})
        samples = [obs['imu']]
        for _ in range(20):
            obs, *_ = env.step(np.array([0, 0, 0, env.params.hover_thrust], np.float32))
            samples.append(obs['imu'])
        return np.mean(samples, axis=0)

    clear, biased = mean_imu('clear'), mean_imu('imu_bias:5')
    assert np.linalg.norm(biased[:3] - clear[:3]) == pytest.approx(1.0, abs=0.1)
    assert np.linalg.norm(biased[3:] - clear[3:]) == pytest.approx(0.1, abs=0.02)


def test_season_and_target_look_recolour_the_scene(env):
    env.reset(seed=0, options={'scenario': 'snow:5'})
    assert material_rgba(env, 'ground')[:3].min() > 0.9
    assert material_rgba(env, 'foliage')[:3].min() > 0.85
    env.reset(seed=0, options={'scenario': 'autumn:3'})
    ground = material_rgba(env, 'ground')
    assert not np.allclose(ground, GROUND_RGBA) and ground[0] > GROUND_RGBA[0]
    env.reset(seed=0, options={'scenario': 'target_look:3'})
    assert material_rgba(env, 'target')[2] > 0.8  # blue
    env.reset(seed=0)
    np.testing.assert_allclose(material_rgba(env, 'foliage'), FOLIAGE_RGBA)
    np.testing.assert_allclose(material_rgba(env, 'target'), TARGET_RGBA)


def test_visual_shifts_change_the_camera_image():
    env = QuadHoverEnv(image_hw=(32, 64))
    clear, _ = env.reset(seed=0)
    for scenario in ('snow:5', 'fog:4', 'night:3', 'autumn:2'):
        shifted, _ = env.reset(seed=0, options={'scenario': scenario})
        diff = np.abs(shifted['image'].astype(int) - clear['image'].astype(int)).mean()
        assert diff > 3.0, scenario
    again, _ = env.reset(seed=0)
    np.testing.assert_array_equal(again['image'], clear['image'])
    env.close()


def test_target_look_changes_the_target_in_the_image():
    env = QuadTargetEnv()

    def red_pixels(image):
        rgb = image.astype(int)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        return int(((r > 80) & (r > 2 * g) & (r > 2 * b)).sum())

    clear, _ = env.reset(seed=1)
    recoloured, _ = env.reset(seed=1, options={'scenario': 'target_look:3'})
    assert red_pixels(clear['image']) >= 6 and red_pixels(recoloured['image']) == 0
    env.close()


def test_fog_and_night_fade_the_target_but_leave_it_findable():
    """Fog and night use the drone's calibration (``fog_visibility``, the forward ``lamp``).

    At severity 3 the red target 6 m ahead keeps a clear share of its contrast, less than in
    clear air; at 5 less again. The rover's calibration hid it completely at fog:3 and left
    night nearly black.
    """
    env = QuadTargetEnv()

    def redness_contrast(image, mask):
        rgb = image.astype(float)
        redness = rgb[..., 0] - rgb[..., 1:].mean(axis=-1)
        ys, xs = np.nonzero(mask)
        ring = np.zeros_like(mask)
        ring[ys.min() - 4:ys.max() + 5, xs.min() - 4:xs.max() + 5] = True
        ring[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = False
        return redness[mask].mean() - redness[ring].mean()

    clear, info = env.reset(seed=1)
    distance = np.linalg.norm(info['privileged']['target_position']
                              - info['privileged']['position'])
    assert 5.5 < distance < 7.0
    rgb = clear['image'].astype(int)
    mask = (rgb[..., 0] > 80) & (rgb[..., 0] > 2 * rgb[..., 1]) & (rgb[..., 0] > 2 * rgb[..., 2])
    assert mask.sum() >= 20
    reference = redness_contrast(clear['image'], mask)
    for name in ('fog', 'night'):
        contrast = {s: redness_contrast(env.reset(seed=1, options={'scenario': f'{name}:{s}'})[0]
                                        ['image'], mask) / reference for s in (1, 3, 5)}
        assert 0.15 < contrast[3] < 0.6, (name, contrast)
        assert contrast[1] > contrast[3] > contrast[5] > 0.02, (name, contrast)
    fog1 = env.reset(seed=1, options={'scenario': 'fog:1'})[0]['image']
    assert redness_contrast(fog1, mask) > 0.5 * reference  # fog:1 only mildly changed
    env.close()
