"""Physical parameters of our X-quadrotor, shared by the MJCF builder, controller and expert.

Pure data: no MuJoCo here, so the controller and the expert can be tested and reused on hardware.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
import math
from typing import Any

GRAVITY = 9.81


@dataclass(frozen=True)
class QuadParams:
    """A 1.2 kg X-quadrotor with 0.17 m arms (motor to centre), about a 450 mm class frame.

    Attributes:
        mass: Total mass of the airframe in kg.
        inertia: Diagonal body inertia (Ixx, Iyy, Izz) in kg m^2.
        arm_length: Distance from the centre to each motor in m.
        max_thrust: Thrust of one motor at full command in N (thrust-to-weight ~2.4).
        torque_coeff: Reaction torque per unit thrust (km/kf) in m: the yaw authority.
        motor_tau: First-order time constant of a motor's thrust response in s.
        rotor_drag: Rotor (induced) drag per m/s of air-relative velocity in the rotor plane, in
            N s/m. It dominates a multirotor's drag at low speed (Faessler et al. 2018) and is
            what wind mostly acts through; MuJoCo's fluid model adds the airframe's own drag.
    """

    mass: float = 1.2
    inertia: tuple[float, float, float] = (0.010, 0.010, 0.018)
    arm_length: float = 0.17
    max_thrust: float = 7.0
    torque_coeff: float = 0.016
    motor_tau: float = 0.03
    rotor_drag: float = 0.3

    def __post_init__(self) -> None:
        _check_range('mass', self.mass, 0.2, 10.0)
        if len(self.inertia) != 3:
            raise ValueError(f'QuadParams.inertia: expected 3 values, got {self.inertia!r}')
        for axis, value in zip('xyz', self.inertia, strict=True):
            _check_range(f'inertia[{axis}]', value, 1e-5, 1.0)
        _check_range('arm_length', self.arm_length, 0.05, 1.0)
        _check_range('max_thrust', self.max_thrust, 0.5, 100.0)
        _check_range('torque_coeff', self.torque_coeff, 1e-4, 0.1)
        _check_range('motor_tau', self.motor_tau, 1e-3, 0.5)
        _check_range('rotor_drag', self.rotor_drag, 0.0, 5.0)
        if 4 * self.max_thrust <= self.mass * GRAVITY:
            raise ValueError(f'QuadParams: 4 * max_thrust={4 * self.max_thrust:.2f} N cannot lift '
                             f'mass={self.mass} kg')

    @property
    def total_thrust(self) -> float:
        """Collective thrust at full command (normalised thrust 1.0), in N."""
        return 4.0 * self.max_thrust

    @property
    def hover_thrust(self) -> float:
        """Normalised collective thrust that balances gravity when level."""
        return self.mass * GRAVITY / self.total_thrust

    @property
    def motor_xy(self) -> tuple[tuple[float, float], ...]:
        """Motor positions in the body frame (FLU), in the order of the mixer columns."""
        d = self.arm_length / math.sqrt(2.0)
        return ((d, -d), (-d, d), (d, d), (-d, -d))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuadParams:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f'QuadParams: unknown fields {sorted(unknown)}')
        values = dict(d)
        if 'inertia' in values:
            values['inertia'] = tuple(values['inertia'])
        return cls(**values)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
        raise ValueError(f'QuadParams.{name}: expected a number in [{low}, {high}], got {value!r}')
