"""Per-episode world state of the quad env: restoring model defaults and the wind field.

Shifts edit the MuJoCo model in place at reset; ``ModelDefaults`` puts every field they may touch
back first, so each episode starts from the in-distribution world without recompiling.
"""
from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np

#: Model fields that shifts may change (MuJoCo applies them at run time without recompiling).
_MODEL_FIELDS = (
    'body_mass', 'body_inertia', 'body_ipos', 'body_pos', 'body_quat',
    'geom_rgba', 'geom_size', 'geom_pos', 'geom_matid',
    'mat_rgba', 'mat_emission', 'mat_specular', 'mat_shininess', 'mat_reflectance',
    'light_diffuse', 'light_ambient', 'light_specular', 'light_pos', 'light_dir', 'light_active',
    'cam_fovy', 'cam_pos', 'cam_quat',
)
_OPT_FIELDS = ('wind', 'density', 'viscosity', 'gravity')
_HEADLIGHT_FIELDS = ('ambient', 'diffuse', 'specular', 'active')
_MAP_FIELDS = ('fogstart', 'fogend', 'haze', 'znear', 'zfar')
_RGBA_FIELDS = ('fog', 'haze')


class ModelDefaults:
    """The shiftable fields of ``model`` as built; ``restore`` writes them back."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        groups = ((model, _MODEL_FIELDS), (model.opt, _OPT_FIELDS),
                  (model.vis.headlight, _HEADLIGHT_FIELDS), (model.vis.map, _MAP_FIELDS),
                  (model.vis.rgba, _RGBA_FIELDS))
        for owner, names in groups:
            for name in names:
                if hasattr(owner, name):
                    self._saved.append((owner, name, np.copy(getattr(owner, name))))

    def restore(self) -> None:
        for owner, name, value in self._saved:
            current = getattr(owner, name)
            if isinstance(current, np.ndarray):
                current[...] = value
            else:
                setattr(owner, name, type(current)(value))


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
