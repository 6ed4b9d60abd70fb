"""The teacher per vehicle, and its gains from a training config's ``expert:`` section.

A student copies what it can observe. A camera-and-IMU drone sees its climb rate only through
the image, a few frames late, and cannot follow a teacher whose stiff vertical loop needs the
true climb rate; so the gains are part of the recipe, set per training run in YAML.
"""
from __future__ import annotations

from collections.abc import Mapping
import dataclasses
import importlib
from typing import Any

import numpy as np

#: Per vehicle: the expert class, the keyword that takes its gains, and the gains dataclass.
EXPERTS: dict[str, tuple[str, str, str]] = {
    'rover': ('lnn_control.sim.rover_expert:RoverExpert', 'gains',
              'lnn_control.sim.rover_expert:StanleyGains'),
    'quad': ('lnn_control.sim.quad_expert:QuadExpert', 'config',
             'lnn_control.sim.quad_expert:ExpertConfig'),
}


def _load(entry: str) -> Any:
    module, _, name = entry.partition(':')
    return getattr(importlib.import_module(module), name)


def expert_gains(vehicle: str, values: Mapping[str, Any]) -> Any:
    """Build the vehicle's gains dataclass from ``values`` (defaults for the fields left out).

    Raises:
        ValueError: on an unknown vehicle, unknown fields, or values the dataclass rejects.
    """
    if vehicle not in EXPERTS:
        raise ValueError(f'expert: no expert for vehicle {vehicle!r}; known: {sorted(EXPERTS)}')
    gains_class = _load(EXPERTS[vehicle][2])
    known = sorted(f.name for f in dataclasses.fields(gains_class))
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f'expert: unknown {vehicle} expert gains {unknown}; known: {known}')
    return gains_class(**values)


def make_expert(vehicle: str, env: Any, rng: np.random.Generator,
                gains: Mapping[str, Any] | None = None) -> Any:
    """Build the vehicle's expert for ``env``, noise-free, with ``gains`` over its defaults."""
    expert_entry, keyword, _ = EXPERTS[vehicle]
    kwargs = {keyword: expert_gains(vehicle, gains)} if gains else {}
    return _load(expert_entry)(env.unwrapped, noise=0.0, rng=rng, **kwargs)
