"""The X-quad mixer: motor thrusts <-> (collective thrust, roll, pitch, yaw torque).

Motor order and spin follow PX4's quad-X (1 front-right CCW, 2 rear-left CCW, 3 front-left CW,
4 rear-right CW, spin seen from above), with positions in the FLU body frame. A propeller spinning
counter-clockwise pushes the body clockwise, so its reaction torque about +z is ``-torque_coeff *
thrust``. Without that term the matrix loses rank and the vehicle cannot yaw.
"""
from __future__ import annotations

from lnn_control.sim.quad_params import QuadParams
import numpy as np

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
        # Rows of the inverse as floats: allocate() runs at the physics rate on 4-vectors.
        self._rows = tuple(tuple(float(v) for v in row) for row in self.inverse)

    def allocate(self, thrust: float, torque: tuple[float, float, float]) -> np.ndarray:
        """Motor thrusts (4,) in N for a collective ``thrust`` (N) and body ``torque`` (3,) N m."""
        tx, ty, tz = torque
        base = [r[0] * thrust + r[1] * tx + r[2] * ty for r in self._rows]
        yaw = [r[3] * tz for r in self._rows]
        high = self.params.max_thrust
        scale = 1.0
        for b, y in zip(base, yaw, strict=True):
            if b + y > high and y > 1e-12:
                scale = min(scale, max(0.0, (high - b) / y))
            elif b + y < 0.0 and y < -1e-12:
                scale = min(scale, max(0.0, b / -y))
        return np.array([max(0.0, min(high, b + scale * y))
                         for b, y in zip(base, yaw, strict=True)])
