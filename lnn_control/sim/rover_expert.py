"""The rover's teacher: Stanley steering with curvature feed-forward, on privileged state.

``delta = atan(L kappa_ahead) - psi_e - atan(k e / (v + v_soft)) - k_r (r - v kappa)``: the
feed-forward term follows the bend the steering lag will meet, the Stanley terms (Hoffmann et
al. 2007) remove heading and lateral error, and the yaw-rate term damps the tyres' slip modes.
Noise injection (Gaussian, optionally correlated) gives the perturbed roll-outs of DART and the
off-distribution states of DAgger; the returned action is always the clean one plus noise, and
:meth:`RoverExpert.clean_action` gives the label.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StanleyGains:
    """Gains. k: lateral gain, 1/s. v_soft: low-speed softening, m/s. k_yaw: yaw-rate damping, s.

    ``noise_corr`` is the step-to-step correlation of the injected noise (0 = white).
    """

    k: float = 2.5
    v_soft: float = 0.5
    k_yaw: float = 0.05
    noise_corr: float = 0.0

    def __post_init__(self) -> None:
        for name, lo, hi in (('k', 0.0, 50.0), ('v_soft', 0.01, 20.0), ('k_yaw', 0.0, 5.0),
                             ('noise_corr', 0.0, 0.999)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f'StanleyGains.{name}: expected a number in [{lo}, {hi}], '
                                 f'got {value!r}')


class RoverExpert:
    """Drives ``RoverLane-v0`` from ``info['privileged']``.

    Args:
        env_or_params: unused for the maths (everything comes in ``info``); accepted so callers
            can pass the env, as the interface reads, or None.
        noise: std of the noise added to the steering action (action units, 0-1).
        rng: generator for the noise; required when ``noise > 0`` (library code owns no RNG).
        gains: controller gains.
    """

    def __init__(self, env_or_params: Any = None, noise: float = 0.0,
                 rng: np.random.Generator | None = None,
                 gains: StanleyGains | None = None) -> None:
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f'RoverExpert: noise must be in [0, 1], got {noise!r}')
        if noise > 0 and rng is None:
            raise ValueError('RoverExpert: noise > 0 needs rng=np.random.default_rng(seed)')
        self.env = env_or_params
        self.noise = noise
        self.rng = rng
        self.gains = gains or StanleyGains()
        self._noise_state = 0.0

    def reset(self) -> None:
        """Forget the correlated noise (call at episode start)."""
        self._noise_state = 0.0

    def clean_action(self, info: dict[str, Any]) -> np.ndarray:
        """Return the noise-free action for this state: the imitation label."""
        p, g = info['privileged'], self.gains
        v = max(p['speed'], 0.0)
        e, psi = p['lateral_error'], p['heading_error']
        kappa = p['curvature_ahead']
        delta = (math.atan(p['wheelbase'] * kappa) - psi - math.atan(g.k * e / (v + g.v_soft))
                 - g.k_yaw * (p['yaw_rate'] - v * p['curvature']))
        steer = float(np.clip(delta / p['max_steer'], -1.0, 1.0))
        if not p['throttle']:
            return np.array([steer], np.float32)
        accel = (p['target_speed'] - v) / p['speed_tau']
        throttle = float(np.clip(accel / p['max_accel'], -1.0, 1.0))
        return np.array([steer, throttle], np.float32)

    def act(self, info: dict[str, Any]) -> np.ndarray:
        """Return the action to execute: the clean action plus the injected steering noise."""
        action = self.clean_action(info)
        if self.noise > 0:
            c = self.gains.noise_corr
            self._noise_state = (c * self._noise_state
                                 + math.sqrt(1 - c * c) * self.noise * self.rng.normal())
            action[0] = np.clip(action[0] + self._noise_state, -1.0, 1.0)
        return action
