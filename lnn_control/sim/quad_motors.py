"""Motor dynamics: a first-order lag on thrust, saturation, and per-motor efficiency.

Real ESC/propeller pairs need tens of milliseconds to change thrust; that lag is what limits the
attitude loop's bandwidth, so the simulator must have it for a learnt policy to transfer.
"""
from __future__ import annotations

from lnn_control.sim.quad_params import QuadParams
import numpy as np


class MotorBank:
    """Four motors: ``thrust += dt / tau * (command - thrust)``, then saturation.

    ``efficiency`` (4,) scales each motor's achievable thrust (1.0 healthy, 0.6 a damaged
    propeller); the degraded-motor shift sets it through the env knob ``motor_efficiency``.
    """

    def __init__(self, params: QuadParams) -> None:
        self.params = params
        self.thrust = np.zeros(4)
        self.efficiency = np.ones(4)

    def reset(self, thrust: np.ndarray, efficiency: np.ndarray | None = None) -> None:
        """Start from ``thrust`` (4,) N, e.g. the hover thrust for a start in the air."""
        self.efficiency = np.ones(4) if efficiency is None else np.asarray(efficiency, float)
        if self.efficiency.shape != (4,) or not np.all((self.efficiency >= 0.0)
                                                       & (self.efficiency <= 1.0)):
            raise ValueError(f'MotorBank: efficiency must be 4 values in [0, 1], '
                             f'got {self.efficiency!r}')
        self.thrust = np.clip(np.asarray(thrust, float), 0.0, self.params.max_thrust)
        self.thrust = self.thrust * self.efficiency

    def step(self, command: np.ndarray, dt: float) -> np.ndarray:
        """Advance by ``dt`` s towards ``command`` (4,) N; return the thrusts produced (4,) N."""
        target = np.minimum(np.maximum(command, 0.0), self.params.max_thrust) * self.efficiency
        alpha = min(1.0, dt / self.params.motor_tau)
        self.thrust = self.thrust + alpha * (target - self.thrust)
        return self.thrust
