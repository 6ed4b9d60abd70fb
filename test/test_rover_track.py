"""Course generator, bicycle model, metrics and expert: the pure parts, without MuJoCo."""
import math

from lnn_control.sim.metrics import aggregate, LaneMetrics
from lnn_control.sim.rover_expert import RoverExpert, StanleyGains
from lnn_control.sim.rover_model import RoverParams, RoverState, step
from lnn_control.sim.rover_track import EXTENT, generate_track, TrackConfig
import numpy as np
import pytest


@pytest.mark.parametrize('seed', [0, 1, 2, 3, 100_001])
def test_courses_are_closed_varied_and_respect_the_radius(seed):
    config = TrackConfig()
    track = generate_track(seed, config)
    gaps = np.hypot(*np.diff(np.vstack([track.points, track.points[:1]]), axis=0).T)
    assert gaps.max() < 2 * config.spacing  # closed, evenly sampled
    radius = 1 / np.abs(track.curvature).max()
    assert config.min_radius * 0.95 <= radius <= 2.2 * config.min_radius  # a tight bend
    assert np.abs(track.points).max() <= EXTENT * config.length / (2 * math.pi) + 1e-6


def test_courses_have_s_curves_and_differ_by_seed():
    signs = [np.mean(np.sign(generate_track(s).curvature) != np.sign(
        generate_track(s).curvature.mean())) for s in range(6)]
    assert max(signs) > 0.1  # some courses bend both ways (S-curves)
    a, b = generate_track(0), generate_track(1)
    assert a.length != b.length
    np.testing.assert_array_equal(generate_track(0).points, a.points)


def test_projection_signs_and_wraparound():
    track = generate_track(2)
    x, y, heading = track.pose_at(5.0)
    left = track.project(x - 0.2 * math.sin(heading), y + 0.2 * math.cos(heading))
    assert left.lateral == pytest.approx(0.2, abs=1e-3)
    assert left.s == pytest.approx(5.0, abs=0.05)
    x, y, _ = track.pose_at(track.length - 0.01)
    assert track.project(x, y).s == pytest.approx(track.length - 0.01, abs=0.05)


@pytest.mark.parametrize('cls, kwargs, field', [
    (TrackConfig, {'road_width': -1.0}, 'road_width'),
    (TrackConfig, {'length': 5.0}, 'length'),
    (RoverParams, {'max_steer': 2.0}, 'max_steer'),
    (StanleyGains, {'k': -1.0}, 'k'),
])
def test_configs_name_the_bad_field(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)


@pytest.mark.parametrize('config', [TrackConfig(), TrackConfig.at_scale(1.0),
                                    RoverParams(), RoverParams.at_scale(0.5)])
def test_configs_round_trip(config):
    assert type(config).from_dict(config.to_dict()) == config


def _circle(params, steer, speed, mu=None, seconds=4.0):
    state = RoverState(vx=speed)
    for _ in range(int(seconds / 0.0025)):
        step(state, params, steer, 0.0, 0.0025, mu=mu)
    return state


def test_bicycle_turns_left_with_positive_steer_and_matches_kinematics():
    params = RoverParams()
    state = _circle(params, 0.1, 1.5)
    assert state.r > 0 and state.steer == pytest.approx(0.1, abs=1e-6)
    assert state.r == pytest.approx(1.5 * math.tan(0.1) / params.wheelbase, rel=0.1)
    assert state.ay == pytest.approx(state.vx * state.r, rel=0.15)


def test_steering_lag_and_limit():
    params = RoverParams()
    state = RoverState(vx=1.0)
    step(state, params, 1.0, 0.0, 0.0025)
    assert 0 < state.steer < 0.02  # rate-limited, lagging
    state = _circle(params, 5.0, 1.0, seconds=1.0)
    assert state.steer == pytest.approx(params.max_steer, abs=1e-4)
    assert state.steer <= params.max_steer


def test_low_friction_saturates_lateral_acceleration():
    params = RoverParams()
    grippy = _circle(params, 0.3, 3.0)
    slippery = _circle(params, 0.3, 3.0, mu=0.2)
    assert abs(slippery.ay) <= 0.2 * 9.81 * 1.05 < abs(grippy.ay)


def test_metrics_summary():
    m = LaneMetrics(target_distance=100.0)
    for i, lateral in enumerate([0.0, 0.1, -0.1, 0.2]):
        m.update(lateral, steer=0.1 * (i % 2), distance=10.0 * (i + 1), departed=i == 3)
    s = m.summary()
    assert s['completion'] == pytest.approx(0.4)
    assert s['departures_per_km'] == pytest.approx(1 / 0.04)
    assert s['rms_lateral_error'] == pytest.approx(math.sqrt(0.06 / 4))
    assert s['max_lateral_error'] == pytest.approx(0.2)
    assert s['steering_smoothness'] == pytest.approx(0.1)
    assert aggregate([s, s])['success_rate'] == 0.0
    with pytest.raises(ValueError):
        aggregate([])


def _info(lateral=0.0, heading=0.0, throttle=False):
    return {'privileged': {'lateral_error': lateral, 'heading_error': heading, 'speed': 2.0,
                           'curvature': 0.0, 'curvature_ahead': 0.0, 'yaw_rate': 0.0,
                           'wheelbase': 0.33, 'max_steer': 0.4, 'throttle': throttle,
                           'target_speed': 3.0, 'speed_tau': 0.3, 'max_accel': 4.0}}


def test_expert_steers_back_to_the_centre_and_injects_noise():
    expert = RoverExpert()
    assert expert.act(_info(lateral=0.2))[0] < 0 < expert.act(_info(lateral=-0.2))[0]
    assert expert.act(_info(heading=0.2))[0] < 0
    action = expert.act(_info(throttle=True))
    assert action.shape == (2,) and action[1] > 0
    noisy = RoverExpert(noise=0.2, rng=np.random.default_rng(0))
    samples = np.array([noisy.act(_info())[0] for _ in range(200)])
    assert 0.1 < samples.std() < 0.3
    np.testing.assert_array_equal(noisy.clean_action(_info()), expert.clean_action(_info()))
    with pytest.raises(ValueError, match='rng'):
        RoverExpert(noise=0.1)
