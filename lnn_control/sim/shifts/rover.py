"""Physical shifts of the rover: crosswind, low friction, steering bias.

Knobs set (read by ``RoverLaneEnv``): ``wind`` ((x, y) world-frame side acceleration, m/s^2),
``wind_gust`` (gust std, m/s^2), ``friction_scale`` (x tyre friction). Steering bias acts on
the action itself. Lateral accelerations are scale-free, so the tables hold at any rover scale.
"""
from __future__ import annotations

import math

from lnn_control.sim.scenario import register_shift, Shift
import numpy as np


@register_shift
class Crosswind(Shift):
    """Steady wind from a random direction plus gusts (1 s correlation).

    Severity -> mean side acceleration .3 .6 1.0 1.5 2.2 m/s^2; gust std half of it.
    """

    name = 'crosswind'
    group = 'physics'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        accel = self.level((0.3, 0.6, 1.0, 1.5, 2.2))
        direction = rng.uniform(-math.pi, math.pi)
        world.knobs['wind'] = (accel * math.cos(direction), accel * math.sin(direction))
        world.knobs['wind_gust'] = 0.5 * accel


@register_shift
class LowFriction(Shift):
    """Slippery road (wet leaves, gravel, ice). Severity -> friction x .8 .62 .48 .38 .3."""

    name = 'low_friction'
    group = 'physics'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        world.knobs['friction_scale'] = self.level((0.8, 0.62, 0.48, 0.38, 0.3))


@register_shift
class SteeringBias(Shift):
    """Mis-trimmed steering: a constant offset with a random sign on the steering action.

    Severity -> bias .03 .06 .1 .15 .22 (fraction of full lock).
    """

    name = 'steering_bias'
    group = 'physics'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        self._bias = self.level((0.03, 0.06, 0.1, 0.15, 0.22)) * rng.choice((-1.0, 1.0))

    def apply_action(self, action, rng):
        out = np.array(action, np.float32, copy=True)
        out[0] += self._bias
        return out
