"""Closed-loop evaluation over scenario x severity x seeds, plus input-pipeline shifts.

Conditions (each run for every policy, over the same seeds, so the comparison is paired):

- ``clear`` and ``<scenario>:<severity>``: world shifts from the scenario engine;
- ``noise:<var>``: Gaussian noise on the input image (Lechner et al. 2020: var 0.1/0.2/0.3,
  relative to the image's variance), clear weather;
- ``rate:<x>``: the control loop runs at ``x`` times the training rate (0.5x, 1.5x), so every
  step's elapsed time differs from training. Liquid policies are fed it; LSTM/GRU/CNN cannot use
  it;
- ``drop:<p>``: each frame is lost with probability ``p``; the vehicle holds its last command and
  the policy sees the next frame after a longer, irregular gap.

Rover success is a completed lap (``completion >= 1``), quad success the env's ``success``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
import math
from typing import Any

from lnn_control.control.backends import BACKENDS
from lnn_control.train.rollout import RolloutOptions
from lnn_control.train.workers import EpisodeJob, resolve, run_jobs
import numpy as np

SUCCESS_KEY = {'rover': 'completion', 'quad': 'success'}


@dataclass(frozen=True)
class EvalConfig:
    """The grid to run. ``env_kwargs`` must select held-out layouts (rover: track_split eval).

    ``backend`` is what steps the policies (``control.backends``: ``torch``, ``onnxruntime`` or
    ``auto``), through the vehicle's own runtime either way.
    """

    vehicle: str = 'rover'
    env_id: str = 'lnn_control/RoverLane-v0'
    env_kwargs: Mapping[str, Any] = field(default_factory=lambda: {'track_split': 'eval'})
    scenarios: tuple[str, ...] = ()
    severities: tuple[int, ...] = (1, 3, 5)
    seeds: int = 10
    seed_base: int = 500_000
    max_steps: int = 1200
    workers: int = 2
    noise_vars: tuple[float, ...] = (0.1, 0.2, 0.3)
    rate_scales: tuple[float, ...] = (0.5, 1.5)
    frame_drops: tuple[float, ...] = (0.3,)
    backend: str = 'torch'

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f'EvalConfig.backend: expected one of {BACKENDS}, got '
                             f'{self.backend!r}')
        if self.vehicle not in SUCCESS_KEY:
            raise ValueError(f'EvalConfig.vehicle: expected one of {sorted(SUCCESS_KEY)}, '
                             f'got {self.vehicle!r}')
        if self.seeds < 1 or self.max_steps < 1 or self.workers < 1:
            raise ValueError(f'EvalConfig: seeds, max_steps and workers must be >= 1, got '
                             f'{self.seeds}, {self.max_steps}, {self.workers}')
        bad = [s for s in self.severities if s not in (1, 2, 3, 4, 5)]
        if bad:
            raise ValueError(f'EvalConfig.severities: expected values in 1-5, got {bad}')
        if any(not 0 < v <= 10 for v in self.noise_vars):
            raise ValueError(f'EvalConfig.noise_vars: expected (0, 10], got {self.noise_vars}')
        if any(not 0.1 <= r <= 10 for r in self.rate_scales):
            raise ValueError(f'EvalConfig.rate_scales: expected [0.1, 10], '
                             f'got {self.rate_scales}')
        if any(not 0 < p <= 0.95 for p in self.frame_drops):
            raise ValueError(f'EvalConfig.frame_drops: expected (0, 0.95], '
                             f'got {self.frame_drops}')

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> EvalConfig:
        names = set(cls.__dataclass_fields__)
        unknown = set(doc) - names
        if unknown:
            raise ValueError(f'EvalConfig: unknown keys {sorted(unknown)}; known: {sorted(names)}')
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in doc.items()})


def conditions(config: EvalConfig) -> list[str]:
    """Every condition name of the grid, in report order."""
    out = ['clear']
    out += [f'rate:{r:g}' for r in config.rate_scales]
    out += [f'drop:{p:g}' for p in config.frame_drops]
    out += [f'noise:{v:g}' for v in config.noise_vars]
    out += [f'{s}:{v}' for s in config.scenarios for v in config.severities]
    return out


def _job(config: EvalConfig, condition: str, seed: int, policy_path: str) -> EpisodeJob:
    kind, _, value = condition.partition(':')
    env_kwargs = dict(config.env_kwargs)
    scenario = 'clear'
    options: dict[str, Any] = {'max_steps': config.max_steps, 'beta': 0.0,
                               'backend': config.backend}
    max_steps = config.max_steps
    if kind == 'noise':
        options['input_noise_var'] = float(value)
    elif kind == 'drop':
        options['frame_drop'] = float(value)
    elif kind == 'rate':
        base_hz = float(env_kwargs.get('control_hz', 20.0 if config.vehicle == 'rover' else 50))
        hz = base_hz * float(value)
        env_kwargs['control_hz'] = int(round(hz)) if config.vehicle == 'quad' else hz
        # The same drive in seconds: more (or fewer) steps at the new rate.
        options['max_steps'] = int(math.ceil(max_steps * float(value)))
    elif condition != 'clear':
        scenario = condition
    return EpisodeJob(config.env_id, config.vehicle, seed=seed, env_kwargs=env_kwargs,
                      scenario=scenario, options=RolloutOptions(**options),
                      policy_path=policy_path, rng_seed=seed + 17)


def evaluate(policies: Mapping[str, str], config: EvalConfig, progress: bool = True,
             partial: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run every policy over every condition and seed; returns the JSON-able results.

    Layout: ``{'config': ..., 'conditions': [...], 'models': {name: {condition: summary}}}``
    where a summary holds ``success_rate``, ``mean_completion`` (rover) and each metric's mean,
    plus the per-episode values under ``episodes``. ``partial`` is called with the results of
    every finished condition so far (all models, all seeds) as each condition completes, so a
    run stopped by a time limit still leaves complete rows.
    """
    names = list(policies)
    grid = conditions(config)
    keys: list[tuple[str, str]] = []
    jobs: list[EpisodeJob] = []
    # Condition-major order: consecutive jobs share env settings, so workers reuse their env.
    for condition in grid:
        for name in names:
            for i in range(config.seeds):
                keys.append((name, condition))
                jobs.append(_job(config, condition, config.seed_base + i,
                                 resolve(policies[name])))
    per: dict[tuple[str, str], list[dict[str, float]]] = {}
    per_condition = len(names) * config.seeds
    for done, (key, result) in enumerate(zip(
            keys, run_jobs(jobs, config.workers, 'evaluate' if progress else None),
            strict=True), start=1):
        per.setdefault(key, []).append(result.metrics)
        if partial is not None and done % per_condition == 0 and done < len(jobs):
            partial(_results(policies, config, grid[:done // per_condition], per))
    return _results(policies, config, grid, per)


def _results(policies: Mapping[str, str], config: EvalConfig, grid: Sequence[str],
             per: Mapping[tuple[str, str], list[dict[str, float]]]) -> dict[str, Any]:
    models = {name: {c: summarize(per[(name, c)], config.vehicle) for c in grid}
              for name in policies}
    return {'config': config.to_dict(), 'conditions': list(grid), 'models': models,
            'policies': {n: str(p) for n, p in policies.items()}}


def summarize(episodes: Sequence[Mapping[str, float]], vehicle: str) -> dict[str, Any]:
    """Mean of every metric, the success rate, and the raw episodes."""
    keys = sorted(set().union(*episodes))
    means = {k: float(np.nanmean([e.get(k, np.nan) for e in episodes])) for k in keys}
    key = SUCCESS_KEY[vehicle]
    success = [float(e.get(key, 0.0) >= 1.0) for e in episodes]
    out = {'success_rate': float(np.mean(success)), 'episodes_run': len(episodes), **means}
    if vehicle == 'rover':
        out['mean_completion'] = means.get('completion', 0.0)
    out['episodes'] = [dict(e) for e in episodes]
    return out
