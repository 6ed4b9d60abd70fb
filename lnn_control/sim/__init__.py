"""Simulation: MuJoCo worlds behind Gymnasium envs, OOD scenarios, experts and metrics.

Importing this package registers the environments (entry points are imported lazily):
``lnn_control/RoverLane-v0``, ``lnn_control/QuadTarget-v0`` and ``lnn_control/QuadHover-v0``.
"""
import os

# Headless software GL unless the user chose a backend: must be set before MuJoCo is imported.
os.environ.setdefault('MUJOCO_GL', 'osmesa')
if os.environ['MUJOCO_GL'] in ('osmesa', 'egl'):
    os.environ.setdefault('PYOPENGL_PLATFORM', os.environ['MUJOCO_GL'])

import gymnasium  # noqa: E402

# id -> (entry point, max_episode_steps for the TimeLimit wrapper)
_ENVS = {
    # 2000 steps at 20 Hz = 100 s: enough for the slowest clear lap.
    'lnn_control/RoverLane-v0': ('lnn_control.sim.rover_env:RoverLaneEnv', 2000),
    # 1000 and 500 steps at 50 Hz: 20 s to reach and hold the target, 10 s of hover.
    'lnn_control/QuadTarget-v0': ('lnn_control.sim.quad_env:QuadTargetEnv', 1000),
    'lnn_control/QuadHover-v0': ('lnn_control.sim.quad_env:QuadHoverEnv', 500),
}
for _env_id, (_entry_point, _max_steps) in _ENVS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point=_entry_point, max_episode_steps=_max_steps)
