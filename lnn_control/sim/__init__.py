"""Simulation: MuJoCo worlds behind Gymnasium envs, OOD scenarios, experts and metrics.

Importing this package registers the environments (entry points are imported lazily):
``lnn_control/RoverLane-v0``, ``lnn_control/QuadTarget-v0`` and ``lnn_control/QuadHover-v0``.
"""
import gymnasium

_ENVS = {
    'lnn_control/RoverLane-v0': 'lnn_control.sim.rover_env:RoverLaneEnv',
    'lnn_control/QuadTarget-v0': 'lnn_control.sim.quad_env:QuadTargetEnv',
    'lnn_control/QuadHover-v0': 'lnn_control.sim.quad_env:QuadHoverEnv',
}
for _env_id, _entry_point in _ENVS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point=_entry_point)
