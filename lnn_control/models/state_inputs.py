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
    """Return the policy's ``imu`` vector: the IMU entries, then ``state[name]`` for each name.

    Each state value must be one number that is finite *as float32*, the policy's dtype: a
    climb rate of 1e308 is finite as a float64 but ``inf`` once cast.

    Raises:
        ValueError: if a named state input is missing, not one number, or not finite in
            float32.
    """
    values = np.full(len(names), np.nan, np.float32)
    for i, name in enumerate(names):
        value = _float32(state.get(name))
        if not math.isfinite(value):
            raise ValueError(f'state input {name!r} is missing, not one number or not finite '
                             f'as float32 (got {state.get(name)!r})')
        values[i] = value
    return np.concatenate([np.asarray(imu, np.float32).reshape(-1), values])


def _float32(value: object) -> float:
    """``value`` (a number or a one-element array) cast to float32; NaN if it is neither."""
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return math.nan
    if array.size != 1:
        return math.nan
    with np.errstate(over='ignore'):
        return float(array.astype(np.float32)[0])
