"""Steps per second of the quad envs, with and without the forward camera.

Run: ``MUJOCO_GL=osmesa python bench/bench_quad_env.py [--steps N]``. The expert flies, so the
figures include the flight controller at the physics rate (500 Hz, 10 substeps per 50 Hz step).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault('MUJOCO_GL', 'osmesa')

from lnn_control.sim.quad_env import QuadTargetEnv  # noqa: E402
from lnn_control.sim.quad_expert import QuadExpert  # noqa: E402


def steps_per_second(env: QuadTargetEnv, steps: int, seed: int = 0) -> float:
    """Run ``steps`` expert-flown steps (resetting at episode ends); return steps/s."""
    expert = QuadExpert(env)
    _, info = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(expert.act(info))
        if terminated or truncated:
            expert.reset()
            _, info = env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=1000)
    args = parser.parse_args()
    rows = []
    for label, kwargs in (('no camera', {'camera': False}),
                          ('camera 64x128', {'camera': True}),
                          ('camera 64x128 + fog:3', {'camera': True, 'scenario': 'fog:3'}),
                          ('camera 128x256', {'camera': True, 'image_hw': (128, 256)})):
        env = QuadTargetEnv(**kwargs)
        rows.append((label, steps_per_second(env, args.steps)))
        env.close()
    base = rows[0][1]
    print(f'{"QuadTarget-v0 (50 Hz control, 500 Hz physics)":<48} {"steps/s":>9} {"x":>6}')
    for label, rate in rows:
        print(f'{label:<48} {rate:9.0f} {rate / base:6.2f}')


if __name__ == '__main__':
    main()
