"""Wind for the quad env: a mean wind plus turbulence, fed to MuJoCo's fluid model."""
from __future__ import annotations

import math

import numpy as np


class WindField:
    """Mean wind plus Ornstein-Uhlenbeck turbulence, written to ``model.opt.wind`` (m/s, ENU).

    MuJoCo turns it into drag on the vehicle through ``model.opt.density`` (air, 1.2 kg/m^3).
    Vertical turbulence is a third of the horizontal, as near the ground.
    """

    def __init__(self, mean: np.ndarray, gust_std: float, gust_tau: float) -> None:
        self.mean = np.asarray(mean, dtype=np.float64).reshape(3)
        if not np.all(np.isfinite(self.mean)):
            raise ValueError(f'WindField: mean wind must be finite, got {self.mean!r}')
        if not (math.isfinite(gust_std) and gust_std >= 0.0):
            raise ValueError(f'WindField: gust_std must be >= 0 m/s, got {gust_std!r}')
        if not (math.isfinite(gust_tau) and gust_tau > 0.0):
            raise ValueError(f'WindField: gust_tau must be > 0 s, got {gust_tau!r}')
        self.gust_std = np.array([gust_std, gust_std, gust_std / 3.0])
        self.gust_tau = gust_tau
        self.gust = np.zeros(3)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Start the turbulence from its stationary distribution; return the wind (3,)."""
        self.gust = rng.normal(0.0, 1.0, 3) * self.gust_std
        return self.mean + self.gust

    def step(self, dt: float, rng: np.random.Generator) -> np.ndarray:
        """Advance the turbulence by ``dt`` s (exact OU discretisation); return the wind (3,)."""
        if np.any(self.gust_std > 0.0):
            decay = math.exp(-dt / self.gust_tau)
            shock = rng.normal(0.0, 1.0, 3) * self.gust_std * math.sqrt(1.0 - decay * decay)
            self.gust = decay * self.gust + shock
        return self.mean + self.gust
