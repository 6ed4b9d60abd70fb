"""Watchdog and output limits: the parts that stand between the policy and the actuators."""
import math

from lnn_control.control.limits import QuadLimits, RoverLimits, SteeringLimiter
from lnn_control.control.watchdog import Transition, Watchdog
import numpy as np
import pytest


def test_watchdog_starts_tripped_then_recovers_trips_and_recovers():
    wd = Watchdog({'camera': 0.2, 'imu': 0.1})
    status = wd.check(0.0)
    assert not status.ok and set(status.stale) == {'camera', 'imu'}
    wd.feed('camera', 0.0)
    wd.feed('imu', 0.0)
    assert wd.check(0.05).transition is Transition.RECOVERED
    wd.feed('imu', 0.2)
    status = wd.check(0.25)  # camera 0.25 s old > 0.2
    assert status.transition is Transition.TRIPPED and status.stale == ('camera',)
    assert wd.check(0.26).transition is Transition.NONE and wd.tripped
    wd.feed('camera', 0.3)
    wd.feed('imu', 0.3)
    assert wd.check(0.31).transition is Transition.RECOVERED
    assert wd.trips == 1


@pytest.mark.parametrize('bad', [0.0, -1.0, math.nan, math.inf, 'x'])
def test_watchdog_rejects_bad_timeouts(bad):
    with pytest.raises(ValueError, match="timeout for 'camera'"):
        Watchdog({'camera': bad})


def test_watchdog_unknown_input_is_named():
    with pytest.raises(KeyError, match='lidar'):
        Watchdog({'camera': 1.0}).feed('lidar', 0.0)


def test_watchdog_ages_by_the_node_clock_and_a_clock_jump_back_is_stale():
    wd = Watchdog({'camera': 0.2})
    wd.feed('camera', 100.0)
    assert wd.age('camera', 100.15) == pytest.approx(0.15) and wd.check(100.15).ok
    # The clock jumped back (simulator restart): the sample's age is unknown, not negative.
    assert wd.age('camera', 0.05) == math.inf
    status = wd.check(0.05)
    assert status.stale == ('camera',) and status.transition is Transition.TRIPPED
    wd.feed('camera', 0.06)
    assert wd.check(0.07).transition is Transition.RECOVERED


def test_watchdog_trips_within_timeout_plus_one_tick_of_the_last_sample():
    period, timeout = 0.05, 0.2
    for last in (1.0, 1.013, 1.049):
        wd = Watchdog({'camera': timeout})
        wd.feed('camera', last)
        ticks = [1.05 + k * period for k in range(20)]  # the first tick after the sample
        tripped = next(t for t in ticks if not wd.check(t).ok)
        assert last + timeout - 1e-9 <= tripped <= last + timeout + period + 1e-9


def test_watchdog_invalidate_makes_the_input_stale_at_once():
    wd = Watchdog({'camera': 1.0})
    wd.feed('camera', 0.0)
    wd.invalidate('camera')
    assert wd.age('camera', 0.0) == math.inf and not wd.check(0.0).ok
    with pytest.raises(KeyError, match='lidar'):
        wd.invalidate('lidar')


def test_steering_limiter_clamps_angle_and_rate():
    lim = SteeringLimiter(RoverLimits(max_steering_angle=0.5, max_steering_rate=1.0))
    assert lim(1.0, 0.1) == pytest.approx(0.1)  # rate-limited
    for _ in range(20):
        angle = lim(5.0, 0.1)
    assert angle == pytest.approx(0.5)  # angle-limited
    assert lim(math.nan, 0.1) == pytest.approx(0.5)  # NaN holds
    assert lim(-1.0, math.nan) == pytest.approx(0.5)
    lim.reset()
    assert lim(0.0, 0.1) == 0.0


def test_quad_limits_clamp_tilt_yaw_rate_thrust_and_nan():
    lim = QuadLimits(max_tilt=0.4, max_yaw_rate=1.0, thrust_min=0.1, thrust_max=0.8,
                     hover_thrust=0.5)
    out = lim.clamp([0.6, 0.8, -3.0, 2.0])
    assert math.hypot(out[0], out[1]) == pytest.approx(0.4)
    assert out[0] / out[1] == pytest.approx(0.75)  # direction of tilt preserved
    assert out[2] == -1.0 and out[3] == 0.8
    np.testing.assert_allclose(lim.clamp([math.nan, 0.1, math.inf, math.nan]),
                               [0.0, 0.1, 0.0, 0.5])
    assert lim.clamp([0, 0, 0, 0.0])[3] == 0.1


@pytest.mark.parametrize('kwargs, field', [
    ({'max_tilt': 2.0}, 'max_tilt'),
    ({'thrust_min': 0.5, 'thrust_max': 0.4}, 'thrust_max'),
    ({'hover_thrust': 0.95}, 'hover_thrust'),
    ({'max_yaw_rate': math.nan}, 'max_yaw_rate'),
])
def test_quad_limits_errors_name_field(kwargs, field):
    with pytest.raises(ValueError, match=f'QuadLimits.{field}'):
        QuadLimits(**kwargs)


def test_limits_round_trip():
    for cfg in (RoverLimits(0.4, 3.0), QuadLimits(max_tilt=0.3)):
        assert type(cfg).from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match='RoverLimits.max_steering_angle'):
        RoverLimits(max_steering_angle=-0.1)
