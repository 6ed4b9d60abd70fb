"""IMU model: true specific force and body rates plus a per-episode bias and white noise.

Defaults are those of a consumer MEMS IMU (MPU-6000 class) after the flight controller's
low-pass filter. Scenario shifts add larger biases or noise on top (``shifts/quad.py``,
``shifts/sensor.py``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import math
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ImuConfig:
    """Noise and bias of the IMU the policy reads.

    Attributes:
        accel_noise: White noise std of each accelerometer axis, m/s^2.
        gyro_noise: White noise std of each gyro axis, rad/s.
        accel_bias: Std of the per-episode constant accelerometer bias, m/s^2.
        gyro_bias: Std of the per-episode constant gyro bias, rad/s.
    """

    accel_noise: float = 0.05
    gyro_noise: float = 0.005
    accel_bias: float = 0.03
    gyro_bias: float = 0.002

    def __post_init__(self) -> None:
        for name, high in (('accel_noise', 10.0), ('gyro_noise', 1.0), ('accel_bias', 5.0),
                           ('gyro_bias', 1.0)):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and 0.0 <= value <= high):
                raise ValueError(f'ImuConfig.{name}: expected a number in [0, {high}], '
                                 f'got {value!r}')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImuConfig:
        return cls(**d)


class ImuModel:
    """``sample = true + bias + noise`` as float32 ``[ax, ay, az, gx, gy, gz]`` (body FLU)."""

    def __init__(self, config: ImuConfig | None = None) -> None:
        self.config = config or ImuConfig()
        self._noise_std = np.array([self.config.accel_noise] * 3 + [self.config.gyro_noise] * 3)
        self.bias = np.zeros(6)
        self._scaled_std = self._noise_std

    def reset(self, rng: np.random.Generator, noise_scale: float = 1.0) -> None:
        """Draw this episode's bias from ``rng``; scale the white noise by ``noise_scale``."""
        if not (math.isfinite(noise_scale) and noise_scale >= 0.0):
            raise ValueError(f'ImuModel: noise_scale must be >= 0, got {noise_scale!r}')
        std = np.array([self.config.accel_bias] * 3 + [self.config.gyro_bias] * 3)
        self.bias = rng.normal(0.0, 1.0, 6) * std
        self._scaled_std = self._noise_std * noise_scale

    def sample(self, true_imu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return one noisy reading of ``true_imu`` (6,)."""
        noisy = true_imu + self.bias + rng.normal(0.0, 1.0, 6) * self._scaled_std
        return noisy.astype(np.float32)
