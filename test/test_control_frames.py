"""ENU/FLU <-> NED/FRD conversions: checked against physical meaning, not just round trips."""
import math

from lnn_control.control import frames
import numpy as np
import pytest


def test_vector_frames_swap_axes():
    np.testing.assert_allclose(frames.enu_to_ned([1.0, 2.0, 3.0]), [2.0, 1.0, -3.0])
    np.testing.assert_allclose(frames.flu_to_frd([1.0, 2.0, 3.0]), [1.0, -2.0, -3.0])
    np.testing.assert_allclose(frames.ned_to_enu(frames.enu_to_ned([4.0, -5.0, 6.0])),
                               [4.0, -5.0, 6.0])


def test_euler_quat_round_trip():
    for rpy in [(0.1, -0.2, 0.3), (-0.4, 0.3, -2.5), (0.0, 0.0, math.pi / 2)]:
        q = frames.quat_from_euler(*rpy)
        assert np.linalg.norm(q) == pytest.approx(1.0)
        np.testing.assert_allclose(frames.euler_from_quat(q), rpy, atol=1e-12)


def test_level_facing_east_in_enu_is_yaw_90_in_ned():
    q_ned = frames.quat_enu_flu_to_ned_frd(frames.quat_from_euler(0.0, 0.0, 0.0))
    roll, pitch, yaw = frames.euler_from_quat(q_ned)
    assert roll == pytest.approx(0.0, abs=1e-12)
    assert pitch == pytest.approx(0.0, abs=1e-12)
    assert yaw == pytest.approx(math.pi / 2)


@pytest.mark.parametrize('rpy', [(0.2, 0.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.0, 0.7),
                                 (0.1, -0.25, 1.2)])
def test_quaternion_conversion_matches_euler_rule_and_physics(rpy):
    roll, pitch, yaw = rpy
    q_enu = frames.quat_from_euler(roll, pitch, yaw)
    q_ned = frames.quat_enu_flu_to_ned_frd(q_enu)
    np.testing.assert_allclose(frames.euler_from_quat(q_ned),
                               frames.euler_flu_to_frd(roll, pitch, yaw), atol=1e-12)
    # The body's nose, expressed in each convention, must be the same physical direction.
    nose_enu = frames.quat_rotate(q_enu, [1.0, 0.0, 0.0])
    nose_ned = frames.quat_rotate(q_ned, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(frames.enu_to_ned(nose_enu), nose_ned, atol=1e-12)
    # The body's left (FLU +y) is FRD -y.
    left_enu = frames.quat_rotate(q_enu, [0.0, 1.0, 0.0])
    right_ned = frames.quat_rotate(q_ned, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(frames.enu_to_ned(left_enu), -right_ned, atol=1e-12)
    np.testing.assert_allclose(frames.quat_ned_frd_to_enu_flu(q_ned), q_enu, atol=1e-12)


def test_positive_flu_roll_lowers_right_side_in_both_conventions():
    q_enu = frames.quat_from_euler(0.3, 0.0, 0.0)
    right_enu = frames.quat_rotate(q_enu, [0.0, -1.0, 0.0])
    assert right_enu[2] < 0  # right side down
    roll_frd, _, _ = frames.euler_from_quat(frames.quat_enu_flu_to_ned_frd(q_enu))
    assert roll_frd == pytest.approx(0.3)


def test_px4_thrust_points_up_as_negative_z():
    assert frames.px4_thrust_body(0.6) == [0.0, 0.0, -0.6]
