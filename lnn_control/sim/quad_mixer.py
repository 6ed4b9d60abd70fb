"""The X-quad mixer: motor thrusts <-> (collective thrust, roll, pitch, yaw torque).

Motor order and spin follow PX4's quad-X (1 front-right CCW, 2 rear-left CCW, 3 front-left CW,
4 rear-right CW, spin seen from above), with positions in the FLU body frame. A propeller spinning
counter-clockwise pushes the body clockwise, so its reaction torque about +z is ``-torque_coeff *
thrust``. Without that term the matrix loses rank and the vehicle cannot yaw.
"""
from __future__ import annotations

import numpy as np

from lnn_control.sim.quad_params import QuadParams

#: +1: the propeller spins counter-clockwise seen from above (angular velocity along +z).
MOTOR_SPIN = (1.0, 1.0, -1.0, -1.0)
MOTOR_NAMES = ('front_right', 'rear_left', 'front_left', 'rear_right')


def mixer_matrix(params: QuadParams) -> np.ndarray:
    """Map motor thrusts (4,) in N to the wrench ``[Fz N, tau_x, tau_y, tau_z N m]`` in FLU.

    Returns:
        A (4, 4) float64 matrix ``M`` with ``wrench = M @ thrusts``.
    """
    columns = []
    for (x, y), spin in zip(params.motor_xy, MOTOR_SPIN, strict=True):
        # r x (0, 0, T) = (y T, -x T, 0); reaction torque opposes the spin.
        columns.append((1.0, y, -x, -spin * params.torque_coeff))
    return np.array(columns, dtype=np.float64).T


class Mixer:
    """Allocate a desired wrench to four motor thrusts, saturated to ``[0, max_thrust]``.

    When the motors saturate, roll and pitch keep priority over yaw (as PX4 does): yaw torque is
    scaled down first, then the thrusts are clipped.
    """

    def __init__(self, params: QuadParams) -> None:
        self.params = params
        self.matrix = mixer_matrix(params)
        self.inverse = np.linalg.inv(self.matrix)

    def allocate(self, thrust: float, torque: np.ndarray) -> np.ndarray:
        """Motor thrusts (4,) in N for a collective ``thrust`` (N) and body ``torque`` (3,) N m."""
        wrench = np.array([thrust, torque[0], torque[1], torque[2]])
        motors = self.inverse @ wrench
        high = self.params.max_thrust
        if motors.min() < 0.0 or motors.max() > high:
            wrench[3] = 0.0
            no_yaw = self.inverse @ wrench
            yaw_part = motors - no_yaw
            # Largest fraction of the yaw command that keeps every motor inside its range.
            scale = 1.0
            for base, delta in zip(no_yaw, yaw_part, strict=True):
                if delta > 1e-12:
                    scale = min(scale, max(0.0, (high - base) / delta))
                elif delta < -1e-12:
                    scale = min(scale, max(0.0, base / -delta))
            motors = no_yaw + scale * yaw_part
        return np.clip(motors, 0.0, high)
