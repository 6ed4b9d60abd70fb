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
