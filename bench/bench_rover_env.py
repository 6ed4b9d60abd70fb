"""RoverLane-v0 speed: env steps per second with the camera at 66x200, 20 Hz control.

Prints steps/s in one process (target >= 80), then a Gymnasium ``AsyncVectorEnv`` of 2 envs on
2 cores and its speed-up over one process. The expert drives; episodes (400 steps) reset inside
the timing, as in training. Timings on a shared machine vary: run it on idle cores.

    MUJOCO_GL=osmesa python bench/bench_rover_env.py [--steps 600] [--scenario clear]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault('MUJOCO_GL', 'osmesa')

import gymnasium as gym  # noqa: E402
import lnn_control.sim  # noqa: E402,F401  (registers the env)
from lnn_control.sim.rover_expert import RoverExpert  # noqa: E402
import numpy as np  # noqa: E402

ENV_ID = 'lnn_control/RoverLane-v0'


def _make(scenario: str):
    return lambda: gym.make(ENV_ID, scenario=scenario, max_episode_steps=400)


def single(steps: int, scenario: str) -> float:
    env = _make(scenario)()
    expert = RoverExpert(env)
    _, info = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(expert.act(info))
        if terminated or truncated:
            _, info = env.reset()
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def vector(steps: int, scenario: str, n_envs: int) -> float:
    envs = gym.vector.AsyncVectorEnv([_make(scenario)] * n_envs, context='spawn')
    expert = RoverExpert()
    _, info = envs.reset(seed=0)

    def act(info):
        return np.stack([expert.act({'privileged': {k: v[i] for k, v in
                                                    info['privileged'].items()}})
                         for i in range(n_envs)])

    start = time.perf_counter()
    for _ in range(steps // n_envs):
        _, _, _, _, info = envs.step(act(info))
    rate = (steps // n_envs) * n_envs / (time.perf_counter() - start)
    envs.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=600)
    parser.add_argument('--scenario', default='clear')
    parser.add_argument('--envs', type=int, default=2)
    args = parser.parse_args()
    one = single(args.steps, args.scenario)
    print(f'single process ({args.scenario}, 66x200): {one:7.1f} steps/s  (target >= 80)')
    many = vector(args.steps, args.scenario, args.envs)
    print(f'AsyncVectorEnv x{args.envs}:               {many:7.1f} steps/s  '
          f'speed-up {many / one:.2f}x')


if __name__ == '__main__':
    main()
