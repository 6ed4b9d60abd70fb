"""Record expert demonstrations (DART noise) and DAgger rollouts into a dataset folder.

Each episode's scenario is drawn here, from the run's seed: ``clear`` in the clean regime, and in
the randomized regime one of the declared ``randomize.scenarios`` at a random severity (or clear,
with probability ``clear_fraction``). The manifest records the scenario and seed of every episode.
"""
from __future__ import annotations

from pathlib import Path

from lnn_control.train.config import TrainConfig
from lnn_control.train.demos import DemoWriter
from lnn_control.train.rollout import RolloutOptions
from lnn_control.train.workers import EpisodeJob, resolve, run_jobs
import numpy as np

ACTION_NAMES = {'rover': ('steering',), 'quad': ('roll', 'pitch', 'yaw_rate', 'thrust')}


def draw_scenarios(config: TrainConfig, count: int, rng: np.random.Generator) -> list[str]:
    """Scenario per episode for the run's regime (see module docstring)."""
    if config.regime == 'clean':
        return ['clear'] * count
    spec = config.randomize
    out = []
    for _ in range(count):
        if rng.random() < spec.clear_fraction:
            out.append('clear')
        else:
            out.append(f'{rng.choice(spec.scenarios)}:{int(rng.choice(spec.severities))}')
    return out


def action_names(config: TrainConfig) -> tuple[str, ...]:
    names = config.policy.get('action_names')
    return tuple(names) if names else ACTION_NAMES[config.vehicle]


def state_inputs(config: TrainConfig) -> tuple[str, ...]:
    """Return the policy's state inputs (``policy.state_inputs``).

    They are recorded after the IMU entries.
    """
    return tuple(config.policy.get('state_inputs', ()))


def record(config: TrainConfig, out: str | Path, *, episodes: int, round_index: int = 0,
           start: int = 0, policy_path: str | Path | None = None, beta: float = 1.0,
           progress: bool = True) -> int:
    """Record episodes ``start..episodes-1`` into ``out`` (appending); returns the steps.

    ``start`` lets a killed recording continue where it stopped, with the same seeds.

    ``round_index`` 0 is the expert's demonstrations (with DART noise); rounds >= 1 are DAgger
    rollouts of ``policy_path`` (expert driving with probability ``beta``), all labelled by the
    expert. Seeds differ per round, so no two episodes share a track and start.
    """
    rng = np.random.default_rng([config.seed, round_index, 7])
    scenarios = draw_scenarios(config, episodes, rng)
    dagger = round_index > 0
    names = state_inputs(config)
    options = RolloutOptions(
        max_steps=config.data.max_steps, beta=beta if dagger else 1.0,
        noise_std=0.0 if dagger else config.data.noise_std,
        noise_hold=config.data.noise_hold, record=True, state_inputs=names)
    base = 1_000_000 * config.seed + 10_000 * round_index
    jobs = []
    for i, scenario in enumerate(scenarios):
        if i < start:
            continue
        # DART: a share of the episodes is recorded without noise, so clean driving is seen too.
        noisy = dagger or i < round(config.data.noise_fraction * episodes)
        job_options = options if noisy else RolloutOptions(
            max_steps=options.max_steps, noise_hold=options.noise_hold, record=True,
            state_inputs=names)
        jobs.append(EpisodeJob(config.env.id, config.vehicle, seed=base + i,
                               env_kwargs=dict(config.env.kwargs),
                               expert=dict(config.expert), scenario=scenario,
                               options=job_options, policy_path=resolve(policy_path),
                               rng_seed=base + i))
    writer = None
    steps = 0
    desc = f'dagger round {round_index}' if dagger else 'demos'
    for job, result in zip(jobs, run_jobs(jobs, config.data.workers,
                                          desc if progress else None), strict=True):
        episode = result.episode
        assert episode is not None
        if writer is None:
            writer = DemoWriter(out, vehicle=config.vehicle, image_hw=episode.image_hw,
                                action_names=action_names(config),
                                imu_dim=episode.imu.shape[1] - len(names),
                                source=f'sim:{config.env.id}', state_inputs=names)
        writer.add(episode, scenario=job.scenario, seed=job.seed,
                   source=f'{"dagger" if dagger else "expert"}:round{round_index}',
                   metrics=result.metrics)
        steps += episode.steps
    return steps
