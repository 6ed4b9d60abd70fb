"""The pure control tick: watchdog, malformed input, policy failures, state reset, failsafe."""
import math

from lnn_control.control.config import DriveConfig, FlightConfig
from lnn_control.control.inputs import SensorInputs
from lnn_control.control.limits import QuadLimits, RoverLimits
from lnn_control.control.loop import ControlLoop
from lnn_control.control.timing import LoopStats, PhaseLock
from lnn_control.control.vehicles import QuadCommander, RoverCommander
import numpy as np
import pytest


class FakeRunner:
    """Returns a fixed action and records calls, like PolicyRunner."""

    image_hw = (4, 6)

    def __init__(self, action):
        self.action = np.asarray(action, dtype=np.float32)
        self.action_dim = self.action.size
        self.resets = 0
        self.elapsed = []
        self.fail = False

    def reset(self):
        self.resets += 1

    def act(self, image, imu, elapsed_s):
        if self.fail:
            raise RuntimeError('boom')
        assert image.shape == (4, 6, 3)
        self.elapsed.append(elapsed_s)
        return self.action


def rover_loop(action=(0.5,)):
    runner = FakeRunner(action)
    inputs = SensorInputs(runner.image_hw, camera_timeout_s=0.2, imu_timeout_s=0.2)
    commander = RoverCommander(RoverLimits(0.4, 100.0), cruise_speed=1.5)
    return ControlLoop(inputs, runner, commander, LoopStats(20.0)), runner, inputs


def feed(inputs, t, imu=(0, 0, 9.81, 0, 0, 0), encoding='rgb8', shape=(8, 12)):
    h, w = shape
    img = np.full((h, w, 3), 100, np.uint8)
    err_img = inputs.on_image(img.tobytes(), encoding, h, w, w * 3, t, t)
    err_imu = inputs.on_imu(np.asarray(imu, float), t, t)
    return err_img, err_imu


def test_drives_when_fresh_and_feeds_measured_elapsed():
    loop, runner, inputs = rover_loop()
    assert loop.tick(0.0, 0.0).safe  # nothing received yet
    feed(inputs, 0.01)
    r = loop.tick(0.05, 0.05)
    assert not r.safe and r.command.speed == 1.5
    assert r.command.steering_angle == pytest.approx(0.2)  # 0.5 * 0.4 rad
    assert r.image_stamp == pytest.approx(0.01)
    feed(inputs, 0.06)
    loop.tick(0.12, 0.12)
    assert runner.elapsed[-1] == pytest.approx(0.07)  # the measured, late tick
    assert runner.resets == 1


def test_camera_stall_trips_and_recovery_resets_state():
    loop, runner, inputs = rover_loop()
    feed(inputs, 0.0)
    assert not loop.tick(0.05, 0.05).safe
    inputs.on_imu(np.array([0, 0, 9.81, 0, 0, 0.0]), 0.3, 0.3)  # IMU alive, camera stalled
    r = loop.tick(0.3, 0.3)
    assert r.safe and 'camera' in r.reason
    assert r.command.speed == 0.0 and r.command.steering_angle == 0.0
    feed(inputs, 0.35)
    assert not loop.tick(0.36, 0.36).safe
    assert runner.resets == 2


@pytest.mark.parametrize('kind', ['encoding', 'size', 'nan_imu', 'stamp_backwards'])
def test_malformed_input_gives_safe_command_at_once(kind):
    loop, _, inputs = rover_loop()
    feed(inputs, 1.0)
    assert not loop.tick(1.01, 1.01).safe
    if kind == 'encoding':
        err = inputs.on_image(bytes(8 * 12 * 2), '16UC1', 8, 12, 24, 1.02, 1.02)
    elif kind == 'size':
        err = inputs.on_image(bytes(10), 'rgb8', 8, 12, 36, 1.02, 1.02)
    elif kind == 'nan_imu':
        err = inputs.on_imu(np.array([0, 0, math.nan, 0, 0, 0]), 1.02, 1.02)
    else:
        err = inputs.on_image(bytes(8 * 12 * 3), 'rgb8', 8, 12, 36, 0.5, 1.02)
    assert err and 'rejected' in err
    r = loop.tick(1.03, 1.03)
    assert r.safe and r.command.speed == 0.0


def test_policy_error_and_nan_output_are_safe():
    loop, runner, inputs = rover_loop()
    feed(inputs, 0.0)
    runner.fail = True
    r = loop.tick(0.01, 0.01)
    assert r.safe and 'policy error: boom' in r.reason
    runner.fail = False
    runner.action = np.array([math.nan], np.float32)
    r = loop.tick(0.02, 0.02)
    assert r.safe and 'not usable' in r.reason


def test_disable_gives_safe_command():
    loop, _, inputs = rover_loop()
    feed(inputs, 0.0)
    loop.enabled = False
    assert loop.tick(0.01, 0.01).reason == 'disabled'


def test_quad_failsafe_holds_level_then_descends():
    runner = FakeRunner([0.1, 0.0, 0.0, 0.6])
    inputs = SensorInputs(runner.image_hw, 0.1, 0.1)
    commander = QuadCommander(QuadLimits(hover_thrust=0.5), failsafe_hold_s=1.0,
                              descent_thrust=0.1)
    loop = ControlLoop(inputs, runner, commander, LoopStats(50.0))
    feed(inputs, 0.0)
    assert loop.tick(0.02, 0.02).command.thrust == pytest.approx(0.6)
    r = loop.tick(0.5, 0.5)  # stale from 0.1 s on
    assert r.safe and (r.command.roll, r.command.pitch, r.command.thrust) == (0.0, 0.0, 0.5)
    assert loop.tick(1.2, 1.2).command.thrust == pytest.approx(0.5)
    assert loop.tick(1.6, 1.6).command.thrust == pytest.approx(0.4)


def locked(offset, frames=10, **tolerances):
    """Return a 20 Hz lock that has seen ``frames`` frames arriving at .013 s modulo 50 ms."""
    lock = PhaseLock(0.05, offset, frames=frames, **tolerances)
    for k in range(frames):
        lock.on_frame(1.013 + 0.05 * k)
    return lock


def ticks_at(lock, phase, count, work=0.005, start=2.0):
    """Feed ticks starting at ``phase`` modulo the period until one is moved, at most ``count``.

    Returns that tick's delay (0.0 if none was moved).
    """
    for k in range(count):
        t = start + phase + 0.05 * k
        delay = lock.delay(t, t + work)
        if delay:
            return delay
    return 0.0


def test_phase_lock_places_tick_at_frames():
    lock = locked(0.004)
    # Frames at .013 mod .05, ticks wanted at .017; ticks started at .000 and their work took
    # 5 ms, so the timer must restart 12 ms from now.
    assert ticks_at(lock, 0.0, 10) == pytest.approx(0.012, abs=1e-9)
    assert lock.corrections == 1
    assert ticks_at(lock, 0.017, 30, work=0.03) == 0.0  # in phase, however long the work took
    assert PhaseLock(0.05, 0.004, frames=10).delay(0.0, 0.0) == 0.0  # not enough frames yet
    assert not lock.frame_overdue(1.463 + 0.02)  # last frame at 1.463: this period's
    assert lock.frame_overdue(1.463 + 0.03)  # more than half a period: the next one is late


def test_phase_lock_judges_the_mean_tick_phase_not_one_late_tick():
    lock = locked(-0.002, early_tolerance=0.006)
    ticks_at(lock, 0.011, 9)
    assert lock.delay(2.45 + 0.024, 2.45 + 0.025) == 0.0  # one executor wake-up 13 ms late
    # Camera and timer drift apart: once the ticks start 2 ms after their frames on average,
    # the lock moves them back to 2 ms before (the tick may wait that long for its frame).
    assert ticks_at(lock, 0.015, 10, start=3.0) == pytest.approx(0.041, abs=1e-9)
    assert lock.corrections == 1


def test_phase_lock_negative_offset_waits_for_the_frame():
    lock = locked(-0.002, early_tolerance=0.006)
    assert ticks_at(lock, 0.008, 30) == 0.0  # 5 ms early: it will wait for the frame
    too_early = locked(-0.002, early_tolerance=0.006)
    assert ticks_at(too_early, 0.0, 10) == pytest.approx(0.006, abs=1e-9)
    with pytest.raises(ValueError, match='offset'):
        PhaseLock(0.05, 0.03)


def test_configs_round_trip_and_name_errors():
    for cfg in (DriveConfig(), FlightConfig(output='px4', px4_release='1.14')):
        assert type(cfg).from_dict(cfg.to_dict()) == cfg
    assert DriveConfig.from_dict({'rate_hz': 30}).rate_hz == 30.0
    with pytest.raises(ValueError, match="DriveConfig: unknown parameter\\(s\\) \\['rate'\\]"):
        DriveConfig.from_dict({'rate': 20.0})
    with pytest.raises(ValueError, match='DriveConfig.output'):
        DriveConfig(output='tank')
    with pytest.raises(ValueError, match='FlightConfig.px4_release'):
        FlightConfig(px4_release='1.13')
    with pytest.raises(ValueError, match='FlightConfig.offboard_rate_hz'):
        FlightConfig(offboard_rate_hz=1.0)
    with pytest.raises(ValueError, match='DriveConfig.rate_hz: expected float'):
        DriveConfig.from_dict({'rate_hz': 'fast'})
