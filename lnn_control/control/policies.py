"""Build the runner a node uses: the trained policy from its checkpoint, or the sim's expert."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import NamedTuple

from lnn_control.control.ground_truth import ExpertRunner
from lnn_control.control.runner import PolicyRunner, Runner, RunnerError


class VehicleSpec(NamedTuple):
    """Where a vehicle's expert lives, its action size and default camera size."""

    expert_module: str
    expert_class: str
    action_dim: int
    image_hw: tuple[int, int]


VEHICLES: dict[str, VehicleSpec] = {
    'rover': VehicleSpec('lnn_control.sim.rover_expert', 'RoverExpert', 1, (66, 200)),
    'quad': VehicleSpec('lnn_control.sim.quad_expert', 'QuadExpert', 4, (64, 128)),
}


def make_runner(vehicle: str, policy_mode: str, checkpoint: Path, rate_hz: float, *,
                backend: str = 'torch', threads: int = 1, provider: str = 'cpu') -> Runner:
    """Build the runner for ``policy_mode`` (``checkpoint`` or ``expert``).

    ``backend``, ``threads`` and ``provider`` choose what runs a checkpoint's policy (see
    ``PolicyRunner``).

    Raises:
        RunnerError: Unknown vehicle or mode, a missing or bad checkpoint (the message names the
            file), or a checkpoint for another vehicle.
    """
    spec = VEHICLES.get(vehicle)
    if spec is None:
        raise RunnerError(f'make_runner: unknown vehicle {vehicle!r}; known: {sorted(VEHICLES)}')
    if policy_mode == 'checkpoint':
        runner = PolicyRunner.from_checkpoint(checkpoint, expect_vehicle=vehicle,
                                              nominal_dt=1.0 / rate_hz, backend=backend,
                                              threads=threads, provider=provider)
        if runner.action_dim != spec.action_dim:
            raise RunnerError(f'{checkpoint}: policy has {runner.action_dim} actions, a {vehicle} '
                              f'needs {spec.action_dim}')
        return runner
    if policy_mode == 'expert':
        try:
            expert_cls = getattr(importlib.import_module(spec.expert_module), spec.expert_class)
        except (ImportError, AttributeError) as exc:
            raise RunnerError(f'expert mode: cannot import {spec.expert_module}.'
                              f'{spec.expert_class}: {exc}') from exc
        return ExpertRunner(expert_cls(), spec.image_hw, spec.action_dim)
    raise RunnerError(f"policy_mode: expected 'checkpoint' or 'expert', got {policy_mode!r}")


def trained_rate_hz(metadata: dict) -> float | None:
    """Return the control rate a checkpoint was trained at (its env kwargs), if recorded."""
    kwargs = metadata.get('env_kwargs') if isinstance(metadata, dict) else None
    rate = kwargs.get('control_hz') if isinstance(kwargs, dict) else None
    return float(rate) if isinstance(rate, (int, float)) else None
