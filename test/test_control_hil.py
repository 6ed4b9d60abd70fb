"""HIL pieces without ROS: fault injection, command conversion in the bridge, the judge."""
import math

from lnn_control.control.bridge_config import BridgeConfig
from lnn_control.control.commands import twist_fields
from lnn_control.control.faults import FaultConfig, FaultInjector
from lnn_control.control.hil_judge import judge, load_thresholds, Thresholds
from lnn_control.control.sim_session import (
    quad_action,
    rover_action,
    rover_action_from_angle,
)
from lnn_control.paths import config_path
import numpy as np
import pytest


def test_faults_drop_about_the_asked_fraction_and_keep_order():
    inj = FaultInjector(FaultConfig(drop_rate=0.3, delay_s=0.01, jitter_s=0.02),
                        np.random.default_rng(0))
    for k in range(1000):
        inj.submit(k, k * 0.001)
    assert inj.release(0.0) == []  # nothing before the delay
    out = inj.release(10.0)
    assert 250 < inj.dropped < 350 and len(out) == 1000 - inj.dropped
    assert out == sorted(out)  # jitter delays, never reorders


def test_fault_delay_holds_messages_back():
    inj = FaultInjector(FaultConfig(delay_s=0.05), np.random.default_rng(0))
    inj.submit('a', 1.0)
    assert inj.release(1.049) == [] and inj.release(1.05) == ['a']
    with pytest.raises(ValueError, match='FaultConfig.drop_rate'):
        FaultConfig(drop_rate=1.5)


PRIV = {'wheelbase': 0.33, 'max_steer': 0.4, 'target_speed': 3.0, 'speed': 3.0,
        'speed_tau': 0.3, 'max_accel': 4.0}


def test_rover_action_inverts_the_twist_form():
    tw = twist_fields(3.0, 0.2, 0.33)
    steer, throttle = rover_action(tw['linear']['x'], tw['angular']['z'], PRIV)
    assert steer == pytest.approx(0.2 / 0.4) and throttle == pytest.approx(0.0)
    steer, throttle = rover_action(0.0, 0.0, PRIV)  # safe command: straight, brake
    assert steer == 0.0 and throttle < 0
    steer, _ = rover_action_from_angle(3.0, -0.8, PRIV)  # Ackermann angle beyond full lock
    assert steer == -1.0


def test_quad_action_by_name_and_clipped():
    low, high = np.array([-0.6, -0.6, -2, 0]), np.array([0.6, 0.6, 2, 1])
    named = {'thrust': 1.5, 'yaw_rate': 0.1, 'pitch': 0.2, 'roll': -0.1}
    np.testing.assert_allclose(quad_action(named, low, high), [-0.1, 0.2, 0.1, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match='missing'):
        quad_action({'roll': 0.0}, low, high)
    with pytest.raises(ValueError, match='non-finite'):
        quad_action({**named, 'roll': math.nan}, low, high)


def test_bridge_config_validation_and_round_trip():
    cfg = BridgeConfig(vehicle='quad', scenario='wind:3')
    assert BridgeConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.rate_hz == 25 and cfg.command_topic == 'attitude_cmd'
    with pytest.raises(ValueError, match='BridgeConfig.vehicle'):
        BridgeConfig(vehicle='boat')
    with pytest.raises(ValueError, match='BridgeConfig.track_length'):
        BridgeConfig(track_length=2.0)


def test_judge_flags_each_failed_figure():
    t = Thresholds(max_latency_p99_ms=10.0, max_missed_ticks=0)
    episodes = [{'departures_per_km': 0.0, 'rms_lateral_error': 0.05}]
    good = judge(t, laps_asked=2, laps_done=2, episodes=episodes, rate_hz=20.0,
                 achieved_hz=19.5, latency_p99_ms=8.0, deadline_misses=0, missed_ticks=0)
    assert all(c.passed for c in good)
    bad = judge(t, laps_asked=2, laps_done=1, episodes=episodes, rate_hz=20.0,
                achieved_hz=18.0, latency_p99_ms=math.nan, deadline_misses=0, missed_ticks=3)
    failed = {c.name for c in bad if not c.passed}
    assert failed == {'laps done / asked', 'achieved rate (Hz)', 'latency p99 (ms)',
                      'missed ticks'}


def test_shipped_thresholds_load_for_both_vehicles():
    rover = load_thresholds(config_path('hil.yaml'), 'rover')
    quad = load_thresholds(config_path('hil.yaml'), 'quad')
    assert rover.rate_tolerance == 0.05 and math.isinf(quad.max_departures_per_km)
    with pytest.raises(ValueError, match="no 'boat' block"):
        load_thresholds(config_path('hil.yaml'), 'boat')


def test_fault_and_threshold_configs_round_trip():
    faults = FaultConfig(drop_rate=0.1, delay_s=0.02, jitter_s=0.01)
    assert FaultConfig.from_dict(faults.to_dict()) == faults and faults.delays
    assert not FaultConfig().delays
    t = Thresholds(max_latency_p99_ms=12.0, max_missed_ticks=2)
    assert Thresholds.from_dict(t.to_dict()) == t
    with pytest.raises(ValueError, match="Thresholds: unknown parameter\\(s\\) \\['max_lag'\\]"):
        Thresholds.from_dict({'max_lag': 1.0})
