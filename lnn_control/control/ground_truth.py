"""Ground truth over a text topic, and the expert behind the policy runner interface.

The sim bridge publishes the env's ``info['privileged']`` as JSON (``std_msgs/String``); in
``expert`` policy mode the node decodes it and asks the simulator's expert for the action. That
closes the loop over real ROS 2 topics before a trained policy exists, with exactly the runner
interface a policy has.
"""
from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any

import numpy as np


def encode_privileged(privileged: Mapping[str, Any]) -> str:
    """JSON of the privileged state (arrays become lists, numpy scalars plain numbers)."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return json.dumps(plain(privileged))


def decode_privileged(text: str) -> dict[str, Any]:
    """Inverse of :func:`encode_privileged`; numeric lists come back as float arrays.

    Raises:
        ValueError: Not a JSON object.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f'ground truth: expected a JSON object, got {type(data).__name__}')
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
            out[key] = np.asarray(value, dtype=float)
        else:
            out[key] = value
    return out


class ExpertRunner:
    """The simulator's expert with the ``Runner`` interface (image and IMU are ignored).

    Args:
        expert: Object with ``act(info) -> action`` and ``reset()`` (``RoverExpert``,
            ``QuadExpert``).
        image_hw: Image size the node should preprocess to (unused by the expert).
        action_dim: Length of the expert's action.
    """

    def __init__(self, expert: Any, image_hw: tuple[int, int], action_dim: int) -> None:
        self.expert = expert
        self.image_hw = image_hw
        self.action_dim = action_dim
        self.state_inputs: tuple[str, ...] = ()
        self.privileged: dict[str, Any] | None = None

    def update(self, privileged: dict[str, Any]) -> None:
        """Latest ground truth from the bridge."""
        self.privileged = privileged

    def reset(self) -> None:
        self.expert.reset()

    def act(self, image: np.ndarray, imu: np.ndarray, elapsed_s: float) -> np.ndarray:
        if self.privileged is None:
            raise RuntimeError('expert mode: no ground truth received yet')
        return np.asarray(self.expert.act({'privileged': self.privileged}), dtype=np.float32)
