"""The quad scenario gallery: what the drone's camera sees in every scenario at chosen severities.

One row per scenario, one column per severity, the clear view first; every cell comes from the
same seed after the expert has flown the same number of steps, so the only difference is the
shift. Physics and sensor rows show where the shifted flight has taken the camera.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lnn_control.sim.quad_env import QuadTargetEnv
from lnn_control.sim.quad_expert import QuadExpert
from lnn_control.sim.rover_gallery import HEADER_H, LABEL_W, scenario_groups


def camera_view(env: QuadTargetEnv, scenario: str, seed: int, steps: int) -> np.ndarray:
    """The camera image after the expert has flown ``steps`` steps in ``scenario``."""
    obs, info = env.reset(seed=seed, options={'scenario': scenario})
    expert = QuadExpert(env)
    for _ in range(steps):
        obs, _, terminated, _, info = env.step(expert.act(info))
        if terminated:
            break
    return obs['image']


def make_gallery(out: str | Path, severities: Sequence[int] = (1, 3, 5), seed: int = 1,
                 steps: int = 60, zoom: int = 2,
                 groups: Sequence[str] = ('visual', 'sensor', 'physics'),
                 env: QuadTargetEnv | None = None) -> Path:
    """Write the PNG grid to ``out`` and return its path."""
    own_env = env is None
    env = env or QuadTargetEnv()
    try:
        group_of = scenario_groups('quad')
        names = sorted((n for n, g in group_of.items() if g in groups),
                       key=lambda n: (groups.index(group_of[n]), n))
        clear = camera_view(env, 'clear', seed, steps)
        h, w = clear.shape[0] * zoom, clear.shape[1] * zoom
        cols = 1 + len(severities)
        grid = Image.new('RGB', (LABEL_W + cols * (w + 2), HEADER_H + len(names) * (h + 2)),
                         (255, 255, 255))
        draw = ImageDraw.Draw(grid)
        for c, title in enumerate(['clear'] + [f'severity {s}' for s in severities]):
            draw.text((LABEL_W + c * (w + 2) + 4, 2), title, fill=(0, 0, 0))
        for r, name in enumerate(names):
            y = HEADER_H + r * (h + 2)
            draw.text((4, y + h // 2 - 12), name, fill=(0, 0, 0))
            draw.text((4, y + h // 2 + 2), f'({group_of[name]})', fill=(90, 90, 90))
            images = [clear] + [camera_view(env, f'{name}:{s}', seed, steps) for s in severities]
            for c, image in enumerate(images):
                tile = Image.fromarray(image).resize((w, h), Image.NEAREST)
                grid.paste(tile, (LABEL_W + c * (w + 2), y))
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        grid.save(out)
        return out
    finally:
        if own_env:
            env.close()
