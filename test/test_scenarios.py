"""Scenario engine and the shared/rover shifts.

Every scenario changes the image or the dynamics, more at higher severity; physical shifts
change the trajectory; bad scenario files fail clearly.
"""
from lnn_control.sim.rover_env import RoverLaneEnv
from lnn_control.sim.rover_expert import RoverExpert
from lnn_control.sim.scenario import (
    available_scenarios,
    load_scenario_file,
    parse_scenarios,
    registered_shifts,
    ScenarioError,
    SimWorld,
)
import numpy as np
import pytest

SEED = 3
VISUAL = sorted(n for n, s in available_scenarios('rover').items()
                if s.shifts and registered_shifts()[s.shifts[0].name].group == 'visual')
PHYSICS = ['crosswind', 'low_friction', 'steering_bias']


@pytest.fixture(scope='module')
def env():
    env = RoverLaneEnv(track_length=30.0, speed_range=(2.5, 2.5))
    yield env
    env.close()


def _frame(env, scenario, steps=3):
    obs, info = env.reset(seed=SEED, options={'scenario': scenario})
    expert = RoverExpert(env)
    for _ in range(steps):
        obs, *_, info = env.step(expert.act(info))
    return obs['image'].astype(np.float32)


def _trajectory(env, scenario, steps=60):
    _, info = env.reset(seed=SEED, options={'scenario': scenario})
    expert = RoverExpert(env)
    lateral = []
    for _ in range(steps):
        _, _, terminated, _, info = env.step(expert.act(info))
        lateral.append(info['lateral_error'])
        if terminated:
            break
    return np.array(lateral)


def test_rover_catalogue_covers_the_issue_table():
    names = set(available_scenarios('rover'))
    wanted = {'clear', 'fog', 'rain', 'night', 'glare', 'dusk', 'road_surface', 'worn_markings',
              'shadows', 'camera_noise', 'camera_blur', 'jpeg', 'camera_mount', 'crosswind',
              'low_friction', 'steering_bias', 'latency', 'dropped_frames'}
    assert wanted <= names


@pytest.mark.parametrize('name', VISUAL)
def test_visual_scenario_changes_the_image_more_at_higher_severity(env, name):
    clear = _frame(env, 'clear')
    diffs = [np.abs(_frame(env, f'{name}:{s}') - clear).mean() for s in (1, 3, 5)]
    assert diffs[0] > 0.5, f'{name}:1 barely changes the image ({diffs[0]:.2f})'
    assert diffs[0] < diffs[1] < diffs[2], f'{name}: not monotone in severity: {diffs}'


@pytest.mark.parametrize('name', PHYSICS)
def test_physical_scenario_changes_the_trajectory_more_at_higher_severity(env, name):
    clear = _trajectory(env, 'clear')
    diffs = []
    for s in (1, 5):
        shifted = _trajectory(env, f'{name}:{s}')
        n = min(len(clear), len(shifted))
        diffs.append(np.abs(shifted[:n] - clear[:n]).mean())
    assert diffs[0] > 1e-5 and diffs[1] > diffs[0], f'{name}: {diffs}'


def test_latency_delays_frames(env):
    _, _ = env.reset(seed=SEED, options={'scenario': 'latency:2'})
    delayed = [env.step(np.zeros(1, np.float32))[0]['image'] for _ in range(4)]
    _, _ = env.reset(seed=SEED)
    fresh = [env.step(np.zeros(1, np.float32))[0]['image'] for _ in range(4)]
    np.testing.assert_array_equal(delayed[3], fresh[1])


def test_dropped_frames_repeat_frames(env):
    env.reset(seed=SEED, options={'scenario': 'dropped_frames:5'})
    frames = [env.step(np.zeros(1, np.float32))[0]['image'] for _ in range(20)]
    repeats = sum(np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))
    assert 2 <= repeats <= 18


def test_imu_noise_scales_with_severity(env):
    def spread(scenario):
        obs, _ = env.reset(seed=SEED, options={'scenario': scenario})
        samples = [env.step(np.zeros(1, np.float32))[0]['imu'] for _ in range(15)]
        return np.std(np.diff(np.array(samples), axis=0)[:, 2])
    assert spread('clear') < spread('imu_noise:1') < spread('imu_noise:5')


def test_scenarios_are_deterministic_with_the_seed(env):
    a = _frame(env, 'rain:3+crosswind:2+shadows:2', steps=5)
    b = _frame(env, 'rain:3+crosswind:2+shadows:2', steps=5)
    np.testing.assert_array_equal(a, b)


def test_shifts_do_not_leak_into_the_next_episode(env):
    clear = _frame(env, 'clear')
    _frame(env, 'night:5+camera_mount:5+road_surface:5')
    np.testing.assert_array_equal(_frame(env, 'clear'), clear)


def test_visual_shifts_work_on_a_world_without_rover_elements():
    """The quad reuses them: a bare model with no road, no knobs, must still get an image."""
    import mujoco

    model = mujoco.MjModel.from_xml_string('<mujoco><worldbody><camera name="c"/>'
                                           '<light directional="true"/></worldbody></mujoco>')
    world = SimWorld('quad', model, mujoco.MjData(model), {})
    rng = np.random.default_rng(0)
    image = np.full((32, 48, 3), 120, np.uint8)
    for name, scenario in available_scenarios('quad').items():
        if name in ('clear',) or scenario.shifts[0].name.startswith('quad_'):
            continue
        for shift in parse_scenarios(f'{name}:5', vehicle='quad'):
            shift.apply_world(world, rng)
            out = shift.apply_image(image, rng)
            assert out.shape == image.shape and out.dtype == np.uint8


def test_night_lamp_lights_what_is_near_in_front_of_the_camera():
    """``knobs['lamp']`` (the quad's forward lamp) lights by the frame's depth.

    Near and on the axis more than far or off it; without the knob or without depth only
    ambient light is left.
    """
    import mujoco

    model = mujoco.MjModel.from_xml_string('<mujoco><worldbody><camera name="c" fovy="60"/>'
                                           '</worldbody></mujoco>')
    image = np.full((32, 64, 3), 200, np.uint8)

    def night(knobs, depth):
        world = SimWorld('quad', model, mujoco.MjData(model), {'camera': 'c', **knobs})
        shift = parse_scenarios('night:3', vehicle='quad')[0]
        shift.apply_world(world, np.random.default_rng(0))
        world.depth = None if depth is None else np.full((32, 64), depth, np.float32)
        return shift.apply_image(image, np.random.default_rng(1)).astype(float)

    lamp = {'lamp': {'reach': 3.0, 'beam': 0.45}}
    near, far = night(lamp, 2.0), night(lamp, 8.0)
    dark = night({}, 2.0)
    np.testing.assert_array_equal(night(lamp, None), dark)
    centre = (slice(12, 20), slice(28, 36))
    assert near[centre].mean() > 150 > far[centre].mean() > dark[centre].mean() + 15
    assert near[centre].mean() > near[:4, :4].mean() + 40  # the spot's edge


def test_combined_scenario_string(env):
    shifts = parse_scenarios('rain:3+crosswind:2', vehicle='rover')
    assert [(s.name, s.severity) for s in shifts] == [('rain', 3), ('crosswind', 2)]


def test_unknown_shift_in_a_file_names_file_and_shift(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('name: bad\nshifts:\n  - hailstorm\n')
    with pytest.raises(ScenarioError, match=r"bad\.yaml.*unknown shift 'hailstorm'"):
        load_scenario_file(path)


def test_severity_out_of_range_in_a_file(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('name: bad\nshifts:\n  - {name: fog, severity: 7}\n')
    with pytest.raises(ScenarioError, match=r'bad\.yaml.*fog.*severity must be 1-5, got 7'):
        load_scenario_file(path)


@pytest.mark.parametrize('text, message', [
    ('fog:9', 'severity must be 1-5'),
    ('fog:x', 'severity must be an integer'),
    ('sandstorm:2', "unknown scenario 'sandstorm'"),
])
def test_bad_scenario_strings(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenarios(text, vehicle='rover')


def test_rover_only_scenario_refused_for_the_quad():
    with pytest.raises(ScenarioError, match='does not apply to the quad'):
        parse_scenarios('road_surface:2', vehicle='quad')
