"""Pure flight-control logic: mixer, motors, attitude/rate loops, IMU model, configs."""
import math

from lnn_control.sim.quad_controller import (
    euler_rates_to_body,
    FlightController,
    FlightControllerConfig,
    quat_to_euler,
)
from lnn_control.sim.quad_env import QuadTaskConfig
from lnn_control.sim.quad_expert import ExpertConfig
from lnn_control.sim.quad_imu import ImuConfig, ImuModel
from lnn_control.sim.quad_mixer import Mixer, mixer_matrix
from lnn_control.sim.quad_motors import MotorBank
from lnn_control.sim.quad_params import QuadParams
import numpy as np
import pytest

PARAMS = QuadParams()


def test_mixer_has_full_rank_so_the_vehicle_can_yaw():
    matrix = mixer_matrix(PARAMS)
    assert matrix.shape == (4, 4)
    assert np.linalg.matrix_rank(matrix) == 4
    # Without the reaction torque the yaw row vanishes: the check above is not vacuous.
    assert np.linalg.matrix_rank(matrix[:3]) == 3 and np.allclose(
        mixer_matrix(QuadParams(torque_coeff=1e-4))[3], 0.0, atol=1e-3)


def test_mixer_signs_follow_flu():
    matrix = mixer_matrix(PARAMS)
    left = [i for i, (_, y) in enumerate(PARAMS.motor_xy) if y > 0]
    front = [i for i, (x, _) in enumerate(PARAMS.motor_xy) if x > 0]
    thrusts = np.zeros(4)
    thrusts[left] = 1.0
    assert matrix[1] @ thrusts > 0.0  # more thrust on the left rolls right side down (+x)
    thrusts = np.zeros(4)
    thrusts[front] = 1.0
    assert matrix[2] @ thrusts < 0.0  # more thrust in front pitches nose up (-y torque)


def test_mixer_allocation_reproduces_the_wrench_when_unsaturated():
    mixer = Mixer(PARAMS)
    wrench = np.array([12.0, 0.2, -0.1, 0.05])
    motors = mixer.allocate(wrench[0], tuple(wrench[1:]))
    np.testing.assert_allclose(mixer.matrix @ motors, wrench, atol=1e-9)


def test_mixer_gives_up_yaw_before_roll_when_saturated():
    mixer = Mixer(PARAMS)
    motors = mixer.allocate(24.0, (0.3, 0.0, 0.5))
    assert motors.max() <= PARAMS.max_thrust + 1e-9 and motors.min() >= 0.0
    wrench = mixer.matrix @ motors
    assert wrench[1] == pytest.approx(0.3, abs=1e-6)
    assert 0.0 <= wrench[3] < 0.5


def test_motor_lag_and_saturation():
    motors = MotorBank(PARAMS)
    motors.reset(np.zeros(4))
    out = motors.step(np.full(4, 100.0), PARAMS.motor_tau / 10)
    assert np.all(out < PARAMS.max_thrust * 0.2)  # a motor cannot jump to full thrust
    for _ in range(2000):
        out = motors.step(np.full(4, 100.0), 0.002)
    np.testing.assert_allclose(out, PARAMS.max_thrust)  # and saturates there
    motors.reset(np.zeros(4), efficiency=np.array([1.0, 0.5, 1.0, 1.0]))
    for _ in range(2000):
        out = motors.step(np.full(4, 100.0), 0.002)
    assert out[1] == pytest.approx(0.5 * PARAMS.max_thrust)
    with pytest.raises(ValueError, match='efficiency'):
        motors.reset(np.zeros(4), efficiency=np.array([1.0, 1.5, 1.0, 1.0]))


def test_attitude_error_commands_a_body_rate_of_the_right_sign():
    controller = FlightController(PARAMS)
    controller.update(np.array([0.3, -0.2, 0.5, 0.4]), np.zeros(3), np.zeros(3), 0.002)
    p, q, r = controller.rate_setpoint
    assert p > 0.0 and q < 0.0 and r == pytest.approx(0.5)


def test_euler_kinematics_round_trip_with_quaternion():
    roll, pitch, yaw = 0.2, -0.3, 1.0
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    quat = np.array([cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
                     cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy])
    np.testing.assert_allclose(quat_to_euler(quat), [roll, pitch, yaw], atol=1e-12)
    # Level: Euler rates are body rates.
    np.testing.assert_allclose(euler_rates_to_body((0.0, 0.0, 0.0), (1.0, 2.0, 3.0)), [1, 2, 3])


def test_imu_model_adds_bias_and_noise_from_the_given_generator():
    imu = ImuModel(ImuConfig(accel_noise=0.0, gyro_noise=0.0, accel_bias=0.5, gyro_bias=0.1))
    imu.reset(np.random.default_rng(0))
    truth = np.array([0.0, 0.0, 9.81, 0.0, 0.0, 0.0])
    first = imu.sample(truth, np.random.default_rng(1))
    np.testing.assert_allclose(first, truth + imu.bias, rtol=1e-6)
    assert first.dtype == np.float32 and np.abs(imu.bias).max() > 0.0
    imu.reset(np.random.default_rng(0))
    np.testing.assert_allclose(imu.sample(truth, np.random.default_rng(1)), first)


@pytest.mark.parametrize('config', [PARAMS, FlightControllerConfig(), ImuConfig(),
                                    ExpertConfig(), QuadTaskConfig(start_speed=0.5)])
def test_configs_round_trip(config):
    assert type(config).from_dict(config.to_dict()) == config


@pytest.mark.parametrize('factory, field', [
    (lambda: QuadParams(mass=-1.0), 'mass'),
    (lambda: QuadParams(max_thrust=2.0), 'cannot lift'),
    (lambda: QuadParams(inertia=(0.01, 0.01)), 'inertia'),
    (lambda: FlightControllerConfig(rate_p=(1.0, 2.0)), 'rate_p'),
    (lambda: FlightControllerConfig(max_tilt=math.nan), 'max_tilt'),
    (lambda: ImuConfig(gyro_noise=-1.0), 'gyro_noise'),
    (lambda: ExpertConfig(max_tilt=1.2), 'max_tilt'),
    (lambda: QuadTaskConfig(target_distance=(9.0, 4.0)), 'target_distance'),
    (lambda: QuadTaskConfig(tilt_limit=2.0), 'tilt_limit'),
])
def test_bad_config_values_name_the_field(factory, field):
    with pytest.raises(ValueError, match=field):
        factory()
