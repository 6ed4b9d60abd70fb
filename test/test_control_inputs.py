"""Sensor inputs: stamp rules (future, out of order, clock jumps), float32, cheap rejects."""
from __future__ import annotations

import math
import re

from lnn_control.control import inputs as inputs_module
from lnn_control.control import preprocess as preprocess_module
from lnn_control.control.inputs import SensorInputs
from lnn_control.control.limits import RoverLimits
from lnn_control.control.loop import ControlLoop
from lnn_control.control.timing import LoopStats
from lnn_control.control.vehicles import RoverCommander
import numpy as np
import pytest

HW = (4, 6)
FRAME = np.full((*HW, 3), 90, np.uint8).tobytes()
IMU_VALUES = np.array([0.0, 0.0, 9.81, 0.0, 0.0, 0.0])
STATE_VALUES = {'altitude': 1.2, 'climb_rate': -0.3}
TIMEOUT = 0.2


def make_inputs(**kwargs) -> SensorInputs:
    return SensorInputs(HW, TIMEOUT, TIMEOUT, state_inputs=('altitude', 'climb_rate'),
                        state_timeout_s=TIMEOUT, **kwargs)


def send(inputs: SensorInputs, name: str, stamp: float, now: float) -> str | None:
    """Give ``inputs`` one valid sample of ``name``; return its verdict."""
    if name == 'camera':
        return inputs.on_image(FRAME, 'rgb8', HW[0], HW[1], HW[1] * 3, stamp, now)
    if name == 'imu':
        return inputs.on_imu(IMU_VALUES, stamp, now)
    return inputs.on_state(STATE_VALUES, stamp, now)


def send_all(inputs: SensorInputs, stamp: float, now: float) -> None:
    for name in ('camera', 'imu', 'state'):
        assert send(inputs, name, stamp, now) is None


@pytest.mark.parametrize('name', ['camera', 'imu', 'state'])
def test_a_future_stamp_is_rejected_and_does_not_latch_the_input(name):
    inputs = make_inputs()
    send_all(inputs, 10.0, 10.0)
    error = send(inputs, name, 1010.0, 10.05)
    assert error == (f'{name} sample rejected: stamp 1010.000000 s is 999.950 s ahead of the '
                     'node clock (10.050000 s; tolerance 0.5 s)')
    assert inputs.rejected == 1 and not inputs.check(10.05).ok  # invalidated at once
    assert send(inputs, name, 10.1, 10.1) is None  # the next good sample is taken
    assert inputs.check(10.1).ok
    assert send(inputs, name, 10.45, 10.0) is None  # within the tolerance (clock offset)
    assert inputs.rejected == 1 and inputs.reanchors == 0


@pytest.mark.parametrize('tolerance', [0.0, -1.0, math.nan, math.inf, '0.5', True])
def test_future_tolerance_must_be_positive_and_finite(tolerance):
    with pytest.raises(ValueError, match='SensorInputs: future_tolerance_s must be a positive '
                                         'finite number of seconds, got'):
        make_inputs(future_tolerance_s=tolerance)


def test_future_tolerance_is_a_keyword_argument():
    inputs = make_inputs(future_tolerance_s=2.0)
    assert send(inputs, 'camera', 11.9, 10.0) is None
    assert 'ahead of the node clock' in send(inputs, 'camera', 12.1, 10.0)


@pytest.mark.parametrize('stamp', [math.nan, math.inf, -math.inf])
def test_a_non_finite_stamp_is_rejected(stamp):
    inputs = make_inputs()
    assert send(inputs, 'imu', stamp, 1.0) == f'imu sample rejected: stamp {stamp} s is not finite'
    assert inputs.rejected == 1


@pytest.mark.parametrize('name', ['camera', 'imu', 'state'])
def test_reordering_is_rejected_in_normal_operation(name):
    inputs = make_inputs()
    send_all(inputs, 5.0, 5.0)
    error = send(inputs, name, 4.995, 5.01)
    assert error == (f'{name} sample rejected: stamp 4.995000 s is older than the previous '
                     'sample (5.000000 s)')
    assert inputs.rejected == 1 and inputs.reanchors == 0
    assert not inputs.check(5.01).ok


@pytest.mark.parametrize('name', ['camera', 'imu', 'state'])
def test_node_clock_jumping_back_re_anchors_at_once(name):
    notices = []
    inputs = make_inputs(on_reanchor=notices.append)
    send_all(inputs, 100.0, 100.0)
    # The simulator restarted: /clock and the stamps start again near zero.
    assert not inputs.check(0.02).ok  # samples "from the future": their age is unknown
    assert send(inputs, name, 0.01, 0.02) is None
    expected = f'{name}: node clock jumped back 100 s: re-anchored at stamp 0.010000 s'
    assert inputs.reanchors == 1 and inputs.last_reanchor == expected and notices == [expected]
    assert inputs.rejected == 0
    assert send(inputs, name, 0.03, 0.04) is None and inputs.reanchors == 1  # anchored
    assert 'older than the previous' in send(inputs, name, 0.02, 0.05)


def test_after_a_sim_restart_the_vehicle_drives_again_once_every_input_has_come():
    inputs = make_inputs()
    send_all(inputs, 100.0, 100.0)
    assert inputs.check(100.05).ok
    assert inputs.check(0.02).stale == ('camera', 'imu', 'state')
    send_all(inputs, 0.02, 0.03)
    assert inputs.check(0.04).ok and inputs.reanchors == 3


@pytest.mark.parametrize('name', ['camera', 'imu', 'state'])
def test_sender_clock_jumping_back_re_anchors_once_the_input_is_stale(name):
    inputs = make_inputs()
    send_all(inputs, 50.0, 50.0)
    # A looping bag: the stamps start again at 20 s while the node clock runs on.
    assert 'older than the previous' in send(inputs, name, 20.0, 50.05)
    assert 'older than the previous' in send(inputs, name, 20.1, 50.15)
    assert inputs.rejected == 2 and inputs.reanchors == 0
    assert send(inputs, name, 20.25, 50.25) is None  # 0.25 s without a sample > 0.2 s timeout
    assert inputs.reanchors == 1
    assert inputs.last_reanchor == (f'{name}: sender clock jumped back 29.8 s after 0.25 s '
                                    'without a valid sample: re-anchored at stamp 20.250000 s')
    assert 'older than the previous' in send(inputs, name, 20.2, 50.3)  # anchored again


def test_a_repeated_stamp_is_ignored_and_does_not_keep_the_input_fresh():
    inputs = make_inputs()
    send_all(inputs, 1.0, 1.0)
    image = inputs.image
    for k in range(1, 30):  # a stalled driver re-sends its last frame
        assert send(inputs, 'camera', 1.0, 1.0 + 0.01 * k) is None
    assert inputs.repeated == 29 and inputs.rejected == 0 and inputs.image is image
    assert inputs.check(1.21).stale == ('camera', 'imu', 'state')


def test_a_state_estimate_finite_in_float64_but_not_in_float32_is_rejected():
    inputs = make_inputs()
    send_all(inputs, 1.0, 1.0)
    error = inputs.on_state({'altitude': 1.2, 'climb_rate': 1e308}, 1.01, 1.01)
    assert error == ("state sample rejected: state input 'climb_rate' is missing, not one "
                     'number or not finite as float32 (got 1e+308)')
    assert inputs.rejected == 1 and inputs.state == pytest.approx(STATE_VALUES)
    assert not inputs.check(1.02).ok


def test_an_imu_sample_is_checked_after_the_cast_to_float32():
    inputs = make_inputs()
    error = inputs.on_imu(np.array([0, 0, 1e308, 0, 0, 0]), 1.0, 1.0)
    assert error == ('imu sample rejected: expected 6 values finite as float32, got '
                     '[0.0, 0.0, 1e+308, 0.0, 0.0, 0.0]')
    assert inputs.on_imu(np.zeros(5), 1.0, 1.0) == ('imu sample rejected: expected 6 IMU '
                                                    'values, got 5')
    assert inputs.on_imu(['a'] * 6, 1.0, 1.0) == ('imu sample rejected: expected 6 numeric IMU '
                                                  'values, got a non-numeric list')
    assert inputs.rejected == 3 and inputs.imu is None


@pytest.mark.parametrize('frame, match', [
    ((FRAME, '16UC1', 4, 6, 18), 'unsupported encoding'),
    ((FRAME, 'rgb8', 4, 6, 17), 'step 17 is smaller'),
    ((FRAME[:-1], 'rgb8', 4, 6, 18), 'buffer holds 71 bytes'),
    ((FRAME, 'rgb8', 1_000_000, 6, 18), 'expected height\\*step = 18000000'),
    ((np.zeros(72, np.float32), 'rgb8', 4, 6, 18), 'expected uint8 pixel bytes'),
    ((list(FRAME), 'rgb8', 4, 6, 18), 'expected a bytes-like buffer, got list'),
    ((FRAME, 'rgb8', 4.0, 6, 18), 'expected integer height, width and step'),
])
def test_a_malformed_frame_is_rejected_from_its_header_without_touching_pixels(
        monkeypatch, frame, match):
    def must_not_run(*args, **kwargs):
        raise AssertionError('pixel data touched for a malformed frame')

    monkeypatch.setattr(preprocess_module, 'resize', must_not_run)
    monkeypatch.setattr(np, 'frombuffer', must_not_run)
    monkeypatch.setattr(np, 'ascontiguousarray', must_not_run)
    inputs = make_inputs()
    error = inputs.on_image(*frame, 1.0, 1.0)
    assert error.startswith('camera sample rejected: to_rgb: ') and re.search(match, error)
    assert inputs.rejected == 1 and inputs.image is None


@pytest.mark.parametrize('stamp', [math.nan, 1000.0, 0.5])
def test_a_bad_stamp_is_rejected_before_the_frame_is_decoded(monkeypatch, stamp):
    inputs = make_inputs()
    assert send(inputs, 'camera', 1.0, 1.0) is None
    monkeypatch.setattr(inputs_module, 'preprocess', lambda *a: pytest.fail('decoded'))
    assert 'camera sample rejected: stamp' in send(inputs, 'camera', stamp, 1.01)


def test_a_stalled_camera_gives_the_safe_command_within_timeout_plus_one_tick():
    period, stall = 0.05, 1.0
    for repeat_last_frame in (False, True):  # silent, or a driver re-sending its last frame
        inputs = SensorInputs(HW, TIMEOUT, TIMEOUT)
        loop = ControlLoop(inputs, _Runner(), RoverCommander(RoverLimits(0.4, 100.0), 1.5),
                           LoopStats(1 / period))
        last_frame = first_safe = None
        for k in range(60):
            now = 0.003 + k * period
            if now <= stall:
                send(inputs, 'camera', now, now)
                last_frame = now
            elif repeat_last_frame:
                send(inputs, 'camera', last_frame, now)
            send(inputs, 'imu', now, now)
            safe = loop.tick(now, now).safe
            assert safe == (first_safe is not None or now - last_frame > TIMEOUT)
            if safe and first_safe is None:
                first_safe = now
        assert last_frame + TIMEOUT - 1e-9 <= first_safe <= last_frame + TIMEOUT + period + 1e-9


def test_a_node_clock_jump_back_gives_the_safe_command_at_the_next_tick():
    inputs = SensorInputs(HW, TIMEOUT, TIMEOUT)
    loop = ControlLoop(inputs, _Runner(), RoverCommander(RoverLimits(0.4, 100.0), 1.5),
                       LoopStats(20.0))
    send(inputs, 'camera', 30.0, 30.0)
    send(inputs, 'imu', 30.0, 30.0)
    assert not loop.tick(30.01, 30.01).safe
    result = loop.tick(0.01, 30.06)  # /clock restarted; no sample since
    assert result.safe and result.reason == 'stale input: camera, imu'


class _Runner:
    image_hw = HW
    action_dim = 1
    state_inputs = ()

    def reset(self):
        pass

    def act(self, image, imu, elapsed_s):
        return np.array([0.1], np.float32)
