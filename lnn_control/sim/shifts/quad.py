"""Drone-only shifts: wind, turbulence, payload, a degraded motor, IMU bias, target look, season.

Physical shifts set env knobs read by ``quad_env.QuadEnvBase`` (``wind_velocity``, ``wind_gust``,
``gust_tau``, ``motor_efficiency``) or edit the MuJoCo model by the names listed in
``quad_model``; the env restores both before every reset. Severity tables follow the ImageNet-C
habit of five levels, from barely noticeable to near the vehicle's limits.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

from lnn_control.sim.scenario import register_shift, ScenarioError, Shift
import numpy as np

_QUAD = ('quad',)


def _blend(model_rgba: np.ndarray, rgba: tuple[float, ...], amount: float) -> None:
    model_rgba[:3] = (1.0 - amount) * model_rgba[:3] + amount * np.asarray(rgba[:3])


@register_shift
class QuadWind(Shift):
    """Steady horizontal wind (2-8 m/s) from a random direction (or ``direction_deg``).

    The env turns ``model.opt.wind`` into rotor drag, and MuJoCo into airframe drag through the
    air density; at 8 m/s the vehicle must lean about 17 degrees into the wind to hold position.
    """

    name = 'quad_wind'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'physics'
    SPEEDS = (2.0, 3.5, 5.0, 6.5, 8.0)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        speed = self.level(self.SPEEDS)
        if 'direction_deg' in self.params:
            direction = math.radians(float(self.params['direction_deg']))
        else:
            direction = rng.uniform(-math.pi, math.pi)
        mean = np.asarray(world.knobs['wind_velocity'], dtype=float)
        world.knobs['wind_velocity'] = mean + speed * np.array(
            [math.cos(direction), math.sin(direction), 0.0])


@register_shift
class QuadGusts(Shift):
    """Turbulence: Ornstein-Uhlenbeck wind of 0.5-3 m/s std per axis, 0.8 s correlation time."""

    name = 'quad_gusts'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'physics'
    STD = (0.5, 1.0, 1.5, 2.2, 3.0)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        world.knobs['wind_gust'] = self.level(self.STD)
        world.knobs['gust_tau'] = float(self.params.get('tau_s', 0.8))


@register_shift
class QuadPayload(Shift):
    """An unmodelled payload: +10 % to +60 % mass, compact at the centre of mass.

    A point mass at the centre of mass adds no inertia about it, so only ``body_mass`` changes.
    """

    name = 'quad_payload'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'physics'
    FRACTION = (0.1, 0.2, 0.3, 0.45, 0.6)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        fraction = self.level(self.FRACTION)
        body = world.model.body('quad').id
        world.model.body_mass[body] *= 1.0 + fraction


@register_shift
class QuadMotorDegraded(Shift):
    """One motor (random, or ``motor`` 0-3 in mixer order) gives only 90 % down to 50 % thrust."""

    name = 'quad_motor_degraded'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'physics'
    EFFICIENCY = (0.9, 0.8, 0.7, 0.6, 0.5)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        motor = self.params.get('motor')
        if motor is None:
            motor = int(rng.integers(4))
        elif motor not in (0, 1, 2, 3):
            raise ScenarioError(f'{self.name}: motor must be 0-3, got {motor!r}')
        efficiency = np.array(world.knobs['motor_efficiency'], dtype=float)
        efficiency[motor] *= self.level(self.EFFICIENCY)
        world.knobs['motor_efficiency'] = efficiency


@register_shift
class QuadImuBias(Shift):
    """A constant IMU bias in a random direction: 0.1-1 m/s^2 (accel) and 0.01-0.1 rad/s (gyro)."""

    name = 'quad_imu_bias'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'sensor'
    ACCEL = (0.1, 0.2, 0.4, 0.7, 1.0)
    GYRO = (0.01, 0.02, 0.04, 0.07, 0.1)

    def __init__(self, severity: int, **params: Any) -> None:
        super().__init__(severity, **params)
        self.bias = np.zeros(6)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        accel_dir = rng.normal(size=3)
        gyro_dir = rng.normal(size=3)
        self.bias = np.concatenate([
            self.ACCEL[self.severity - 1] * accel_dir / np.linalg.norm(accel_dir),
            self.GYRO[self.severity - 1] * gyro_dir / np.linalg.norm(gyro_dir)])

    def apply_imu(self, imu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (imu + self.bias).astype(imu.dtype)


@register_shift
class QuadTargetAppearance(Shift):
    """The target looks different: orange, yellow, blue, purple, then ground-green; and smaller."""

    name = 'quad_target_appearance'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'visual'
    COLOURS = ((0.95, 0.45, 0.1), (0.9, 0.8, 0.1), (0.15, 0.35, 0.9), (0.55, 0.2, 0.75),
               (0.35, 0.55, 0.25))
    SCALE = (1.0, 1.0, 0.9, 0.8, 0.7)

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        model = world.model
        _blend(model.mat_rgba[model.material('target').id], self.COLOURS[self.severity - 1], 1.0)
        scale = self.SCALE[self.severity - 1]
        for geom in ('target_panel', 'target_mark'):
            model.geom_size[model.geom(geom).id, 1:] *= scale


@register_shift
class QuadSeason(Shift):
    """Green summer fades to ``season`` (``autumn`` or ``snow``): ground, canopies and sky.

    Severity is how far the change has gone (20 % to 100 % of the season's colours).
    """

    name = 'quad_season'
    vehicles: ClassVar[tuple[str, ...]] = _QUAD
    group = 'visual'
    SEASONS = {
        'autumn': {'ground': (0.55, 0.45, 0.25), 'foliage': (0.85, 0.4, 0.08),
                   'sky_tint': (0.95, 0.9, 0.85)},
        'snow': {'ground': (0.95, 0.95, 0.97), 'foliage': (0.9, 0.92, 0.95),
                 'sky_tint': (0.85, 0.85, 0.88)},
    }
    AMOUNT = (0.2, 0.4, 0.6, 0.8, 1.0)

    def __init__(self, severity: int, **params: Any) -> None:
        super().__init__(severity, **params)
        self.season = params.get('season', 'autumn')
        if self.season not in self.SEASONS:
            raise ScenarioError(f'{self.name}: season must be one of {sorted(self.SEASONS)}, '
                                f'got {self.season!r}')

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        model, colours = world.model, self.SEASONS[self.season]
        amount = self.level(self.AMOUNT)
        for material in ('ground', 'foliage'):
            _blend(model.mat_rgba[model.material(material).id], colours[material], amount)
        tint = np.asarray(colours['sky_tint'])
        world.knobs['sky_tint'] = tuple(1.0 - amount * (1.0 - tint))
