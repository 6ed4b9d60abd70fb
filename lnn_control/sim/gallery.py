"""The scenario gallery: what a vehicle's camera sees in every scenario at chosen severities.

One grid row per scenario, one column per severity, the clear view first in every row. Every cell
comes from the same seed after the expert has driven (or flown) the same number of steps, so the
only difference between cells is the shift. Physics and sensor rows show the frame the policy
gets after the shifted run (off-centre, delayed or repeated), not a new look.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lnn_control.sim.scenario import available_scenarios, registered_shifts
import numpy as np
from PIL import Image, ImageDraw

LABEL_W = 120
HEADER_H = 16


@dataclass(frozen=True)
class GallerySetup:
    """How to stage one vehicle's gallery: its env, its expert and where on the run to look."""

    make_env: Callable[[], Any]
    make_expert: Callable[[Any], Any]
    seed: int
    steps: int


def _rover() -> GallerySetup:
    from lnn_control.sim.rover_env import RoverLaneEnv
    from lnn_control.sim.rover_expert import RoverExpert

    return GallerySetup(lambda: RoverLaneEnv(speed_range=(2.5, 2.5)), RoverExpert,
                        seed=3, steps=30)


def _quad() -> GallerySetup:
    from lnn_control.sim.quad_env import QuadTargetEnv
    from lnn_control.sim.quad_expert import QuadExpert

    return GallerySetup(QuadTargetEnv, QuadExpert, seed=1, steps=60)


SETUPS: dict[str, Callable[[], GallerySetup]] = {'rover': _rover, 'quad': _quad}


def scenario_groups(vehicle: str = 'rover') -> dict[str, str]:
    """Scenario name -> group of its first shift ('visual', 'physics', 'sensor')."""
    shifts = registered_shifts()
    return {name: shifts[scenario.shifts[0].name].group
            for name, scenario in available_scenarios(vehicle).items() if scenario.shifts}


def camera_view(env: Any, make_expert: Callable[[Any], Any], scenario: str, seed: int,
                steps: int) -> np.ndarray:
    """Return the camera image after the expert has run ``steps`` steps in ``scenario``."""
    obs, info = env.reset(seed=seed, options={'scenario': scenario})
    expert = make_expert(env)
    for _ in range(steps):
        obs, _, terminated, _, info = env.step(expert.act(info))
        if terminated:
            break
    return obs['image']


def make_gallery(out: str | Path, vehicle: str = 'rover', severities: Sequence[int] = (1, 3, 5),
                 seed: int | None = None, zoom: int = 2,
                 groups: Sequence[str] = ('visual', 'sensor', 'physics')) -> Path:
    """Write the PNG grid of ``vehicle``'s scenarios to ``out`` and return its path."""
    if vehicle not in SETUPS:
        raise ValueError(f'make_gallery: vehicle must be one of {sorted(SETUPS)}, got {vehicle!r}')
    setup = SETUPS[vehicle]()
    seed = setup.seed if seed is None else seed
    env = setup.make_env()
    try:
        group_of = scenario_groups(vehicle)
        names = sorted((n for n, g in group_of.items() if g in groups),
                       key=lambda n: (groups.index(group_of[n]), n))

        def view(scenario: str) -> np.ndarray:
            return camera_view(env, setup.make_expert, scenario, seed, setup.steps)

        clear = view('clear')
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
            images = [clear] + [view(f'{name}:{s}') for s in severities]
            for c, image in enumerate(images):
                tile = Image.fromarray(image).resize((w, h), Image.NEAREST)
                grid.paste(tile, (LABEL_W + c * (w + 2), y))
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        grid.save(out)
        return out
    finally:
        env.close()
