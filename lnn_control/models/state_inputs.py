"""State inputs: the autopilot's own estimates that a policy may take after its IMU entries.

A real vehicle has them (PX4 ``vehicle_local_position``, mavros ``local_position/odom``), while
the camera shows them only frames late: a drone that sees its climb rate only through the image
copies a vertical loop with a lag and oscillates. The policy's ``imu`` vector is the IMU entries,
then one entry per name in ``PolicyConfig.state_inputs``, in order. Torch-free, so datasets and
nodes import it cheaply.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
import math

import numpy as np

#: Name -> meaning, in the units the vector carries.
STATE_INPUTS: dict[str, str] = {
    'altitude': 'height of the body above the ground plane, m',
    'climb_rate': 'vertical velocity, up positive, m/s',
}


def check_state_inputs(names: Sequence[str], owner: str) -> tuple[str, ...]:
    """``names`` as a tuple, or a ValueError naming ``owner`` if one is unknown or repeated."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f'{owner}: state_inputs must be a list of names, got {names!r}')
    names = tuple(names)
    if any(n not in STATE_INPUTS for n in names) or len(set(names)) != len(names):
        raise ValueError(f'{owner}: state_inputs must be distinct names from '
                         f'{sorted(STATE_INPUTS)}, got {list(names)!r}')
    return names


def input_vector(imu: np.ndarray, state: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The policy's ``imu`` vector: the IMU entries, then ``state[name]`` for each name.

    Raises:
        ValueError: if a named state input is missing or not finite.
    """
    values = []
    for name in names:
        value = state.get(name)
        value = float(np.asarray(value).reshape(-1)[0]) if value is not None else math.nan
        if not math.isfinite(value):
            raise ValueError(f'state input {name!r} is missing or not finite '
                             f'(got {state.get(name)!r})')
        values.append(value)
    return np.concatenate([np.asarray(imu, np.float32).reshape(-1),
                           np.asarray(values, np.float32)])
