"""The scenario gallery: what the rover's camera sees in every scenario at chosen severities.

One grid row per scenario, one column per severity, clear day in the first column of every row,
all from the same course, seed and place on the course (the expert drives there first), so the
only difference between cells is the shift. Physics and sensor rows show the frame the policy
gets after the shifted drive (off-centre, delayed or repeated), not a new look.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lnn_control.sim.rover_env import RoverLaneEnv
from lnn_control.sim.rover_expert import RoverExpert
from lnn_control.sim.scenario import available_scenarios, registered_shifts

LABEL_W = 120
HEADER_H = 16


def scenario_groups(vehicle: str = 'rover') -> dict[str, str]:
    """Scenario name -> group of its first shift ('visual', 'physics', 'sensor')."""
    shifts = registered_shifts()
    out = {}
    for name, scenario in available_scenarios(vehicle).items():
        if scenario.shifts:
            out[name] = shifts[scenario.shifts[0].name].group
    return out


def camera_view(env: RoverLaneEnv, scenario: str, seed: int, steps: int) -> np.ndarray:
    """The camera image after the expert has driven ``steps`` steps in ``scenario``."""
    obs, info = env.reset(seed=seed, options={'scenario': scenario})
    expert = RoverExpert(env)
    for _ in range(steps):
        obs, _, terminated, _, info = env.step(expert.act(info))
        if terminated:
            break
    return obs['image']


def make_gallery(out: str | Path, severities: Sequence[int] = (1, 3, 5), seed: int = 3,
                 steps: int = 30, zoom: int = 2,
                 groups: Sequence[str] = ('visual', 'sensor', 'physics'),
                 env: RoverLaneEnv | None = None) -> Path:
    """Write the PNG grid to ``out`` and return its path."""
    own_env = env is None
    env = env or RoverLaneEnv(speed_range=(2.5, 2.5))
    try:
        group_of = scenario_groups()
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
