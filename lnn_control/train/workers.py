"""Episodes in parallel over the CPU cores: one env per worker process, reused across jobs.

Recording, DAgger and evaluation all describe their episodes as ``EpisodeJob`` values and hand
them to ``run_jobs``. A worker keeps its env (and the loaded policy) while consecutive jobs share
the same env settings: building a MuJoCo renderer costs more than a short episode. Scenarios are
switched per episode through ``reset(options={'scenario': ...})``. Results come back in job
order, so the datasets and reports do not depend on scheduling.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

from lnn_control.train.experts import make_expert
from lnn_control.train.rollout import make_env, RolloutOptions, RolloutResult, run_episode
import numpy as np


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run: env, scenario, seeds, options, gains and a policy checkpoint.

    The expert gains are the defaults when empty; the policy checkpoint is optional.
    """

    env_id: str
    vehicle: str
    seed: int
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    expert: Mapping[str, Any] = field(default_factory=dict)
    scenario: str = 'clear'
    options: RolloutOptions = field(default_factory=RolloutOptions)
    policy_path: str | None = None
    rng_seed: int = 0


class _WorkerCache:
    """The env and policy a worker reuses; a different env key closes the old env first."""

    def __init__(self) -> None:
        self.env_key: str | None = None
        self.env: Any = None
        self.expert: Any = None
        self.policy_key: tuple[str, float] | None = None
        self.policy: Any = None

    def env_for(self, job: EpisodeJob) -> Any:
        key = json.dumps([job.env_id, dict(job.env_kwargs)], sort_keys=True, default=str)
        if key != self.env_key:
            if self.env is not None:
                self.env.close()
            self.env = make_env(job.env_id, dict(job.env_kwargs))
            self.env_key = key
        return self.env

    def policy_for(self, path: str | None) -> Any:
        if path is None:
            return None
        key = (path, os.path.getmtime(path))
        if key != self.policy_key:
            from lnn_control.models.checkpoint import load_checkpoint

            self.policy, _ = load_checkpoint(path)
            self.policy.eval()
            self.policy_key = key
        return self.policy


_CACHE = _WorkerCache()


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def run_job(job: EpisodeJob) -> RolloutResult:
    """Run one job in this process (also used directly when ``workers == 1``)."""
    env = _CACHE.env_for(job)
    rng = np.random.default_rng(job.rng_seed)
    expert = make_expert(job.vehicle, env, rng, job.expert)
    return run_episode(env, expert, seed=job.seed, options=job.options,
                       policy=_CACHE.policy_for(job.policy_path), rng=rng,
                       scenario=job.scenario)


def run_jobs(jobs: Sequence[EpisodeJob], workers: int = 2,
             desc: str | None = None) -> Iterator[RolloutResult]:
    """Yield each job's result, in job order, from ``workers`` processes.

    The processes are spawned, so each gets a fresh OpenGL context.
    """
    bar = _progress(len(jobs), desc)
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield run_job(job)
                bar.update(1)
            return
        context = multiprocessing.get_context('spawn')
        with context.Pool(min(workers, len(jobs)), initializer=_init_worker) as pool:
            for result in pool.imap(run_job, jobs):
                yield result
                bar.update(1)
    finally:
        bar.close()


class _NoBar:
    """A progress bar that shows nothing."""

    def update(self, n: int) -> None:
        """No progress bar requested."""

    def close(self) -> None:
        """Nothing to close."""


def _progress(total: int, desc: str | None) -> Any:
    if desc is None:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit='ep', dynamic_ncols=True)


def resolve(path: str | Path | None) -> str | None:
    return None if path is None else str(Path(path).resolve())
