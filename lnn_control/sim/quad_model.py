"""MJCF for the quadrotor world, generated from ``QuadParams`` so physics and controller agree.

The world is cheap to render on purpose (one directional light, no shadows, a coarse ground grid):
the trainer renders millions of frames. Names other modules rely on (shifts, the env, tests):

==================  ==========================================================================
name                what it is
==================  ==========================================================================
``quad``            the vehicle body (free joint ``quad_root``), explicit mass and inertia
``motor0..3``       thrust sites, PX4 order (front-right, rear-left, front-left, rear-right)
``imu``             site of the ``accel``/``gyro`` sensors, at the centre of mass
``fpv``             the forward camera (looks along body +x, image up = body +z)
``chase``           a third-person camera that follows the vehicle (for ``render()``)
``sun``             the only light (directional); night/glare shifts change it
``ground``          the ground plane geom; material ``ground`` carries the season colour
``foliage``         material of every tree canopy (season: green, autumn, snow)
``target``          mocap body of the visual target; geoms ``target_panel`` (material
                    ``target``), ``target_mark`` (material ``target_mark``), ``target_pole``
==================  ==========================================================================
"""
from __future__ import annotations

import math

from lnn_control.sim.quad_mixer import MOTOR_SPIN
from lnn_control.sim.quad_params import QuadParams
import mujoco
import numpy as np

PHYSICS_HZ = 500
AIR_DENSITY = 1.2
AIR_VISCOSITY = 1.8e-5
#: Default colours (RGBA); season and appearance shifts start from these.
GROUND_RGBA = (0.42, 0.58, 0.30, 1.0)
FOLIAGE_RGBA = (0.16, 0.45, 0.16, 1.0)
TARGET_RGBA = (0.90, 0.10, 0.10, 1.0)
TARGET_MARK_RGBA = (1.0, 1.0, 1.0, 1.0)
#: Half extents of the target panel (depth, width, height) in m.
TARGET_PANEL_HALF = (0.03, 0.45, 0.45)
#: Height of the panel centre above the target body origin, in m.
TARGET_PANEL_Z = 1.5
TREE_COUNT = 14
TREE_RING = (13.0, 19.0)
_TREE_LAYOUT_SEED = 7


def _tree_layout() -> list[tuple[float, float, float, float]]:
    """Return the (x, y, height, canopy radius) of the background trees.

    The layout is fixed: the same in every build.
    """
    rng = np.random.default_rng(_TREE_LAYOUT_SEED)
    trees = []
    for i in range(TREE_COUNT):
        angle = 2.0 * math.pi * (i + rng.uniform(-0.3, 0.3)) / TREE_COUNT
        radius = rng.uniform(*TREE_RING)
        trees.append((radius * math.cos(angle), radius * math.sin(angle),
                      rng.uniform(2.5, 4.5), rng.uniform(1.0, 1.8)))
    return trees


def _fmt(values: tuple[float, ...] | list[float]) -> str:
    return ' '.join(f'{v:.6g}' for v in values)


def _quad_body(params: QuadParams) -> str:
    arm = params.arm_length
    d = arm / math.sqrt(2.0)
    sites, props = [], []
    for i, ((x, y), spin) in enumerate(zip(params.motor_xy, MOTOR_SPIN, strict=True)):
        sites.append(f'<site name="motor{i}" pos="{x:.5f} {y:.5f} 0.03" size="0.01"/>')
        colour = '0.85 0.2 0.15 1' if x > 0 else '0.15 0.15 0.15 1'
        props.append(f'<geom name="prop{i}" type="cylinder" size="0.11 0.005" '
                     f'pos="{x:.5f} {y:.5f} 0.035" rgba="{colour}" mass="0"/>')
        props.append(f'<geom name="motor_can{i}" type="cylinder" size="0.02 0.018" '
                     f'pos="{x:.5f} {y:.5f} 0.012" rgba="0.3 0.3 0.3 1" mass="0" '
                     f'contype="0" conaffinity="0"/>')
        del spin  # spin enters through the actuator gear (reaction torque), below
    inertia = _fmt(params.inertia)
    return f"""
    <body name="quad" pos="0 0 1.5">
      <freejoint name="quad_root"/>
      <inertial pos="0 0 0" mass="{params.mass}" diaginertia="{inertia}"/>
      <geom name="hull" type="box" size="0.07 0.05 0.03" rgba="0.2 0.25 0.3 1" mass="0"/>
      <geom name="arm_a" type="capsule" fromto="{d:.5f} {-d:.5f} 0 {-d:.5f} {d:.5f} 0"
            size="0.012" rgba="0.25 0.25 0.25 1" mass="0" contype="0" conaffinity="0"/>
      <geom name="arm_b" type="capsule" fromto="{d:.5f} {d:.5f} 0 {-d:.5f} {-d:.5f} 0"
            size="0.012" rgba="0.25 0.25 0.25 1" mass="0" contype="0" conaffinity="0"/>
      {''.join(props)}
      {''.join(sites)}
      <site name="imu" pos="0 0 0" size="0.01"/>
      <camera name="fpv" pos="0.08 0 0.01" xyaxes="0 -1 0 0 0 1" fovy="60"/>
      <camera name="chase" mode="trackcom" pos="-1.3 0 0.5" xyaxes="0 -1 0 0.35 0 1" fovy="60"/>
    </body>"""


def _trees() -> str:
    parts = []
    for i, (x, y, height, canopy) in enumerate(_tree_layout()):
        trunk = height - canopy
        parts.append(
            f'<geom name="trunk{i}" type="cylinder" size="0.18 {trunk / 2:.3f}" '
            f'pos="{x:.3f} {y:.3f} {trunk / 2:.3f}" material="bark"/>'
            f'<geom name="canopy{i}" type="ellipsoid" size="{canopy:.3f} {canopy:.3f} '
            f'{canopy * 1.3:.3f}" pos="{x:.3f} {y:.3f} {trunk + canopy:.3f}" '
            f'material="foliage"/>')
    return '\n      '.join(parts)


def build_quad_mjcf(params: QuadParams, physics_hz: int = PHYSICS_HZ) -> str:
    """Return the MJCF text of the quadrotor world.

    Args:
        params: The airframe; mass, inertia, arm length and torque coefficient go into the model.
        physics_hz: Physics rate in Hz (>= 250; the flight controller runs at this rate too).
    """
    if not (isinstance(physics_hz, int) and 250 <= physics_hz <= 2000):
        raise ValueError(f'build_quad_mjcf: physics_hz must be an int in [250, 2000], '
                         f'got {physics_hz!r}')
    actuators = '\n    '.join(
        f'<motor name="thrust{i}" site="motor{i}" ctrlrange="0 {params.max_thrust}" '
        f'gear="0 0 1 0 0 {-spin * params.torque_coeff:.6g}"/>'
        for i, spin in enumerate(MOTOR_SPIN))
    tx, ty, tz = TARGET_PANEL_HALF
    return f"""<mujoco model="lnn_quad_world">
  <compiler angle="radian"/>
  <option timestep="{1.0 / physics_hz:.6g}" density="{AIR_DENSITY}"
          viscosity="{AIR_VISCOSITY}" integrator="implicitfast"/>
  <visual>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.25 0.25 0.25" specular="0 0 0"/>
    <quality shadowsize="0" numslices="8" numstacks="6" numquads="1"/>
    <map znear="0.02" zfar="60"/>
  </visual>
  <statistic extent="20" center="0 0 1"/>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="0.55 0.7 0.9"
             rgb2="0.9 0.93 0.97" width="64" height="64"/>
    <texture name="ground_tex" type="2d" builtin="checker" rgb1="0.95 0.95 0.95"
             rgb2="0.75 0.75 0.75" width="64" height="64"/>
    <material name="ground" texture="ground_tex" texrepeat="20 20" rgba="{_fmt(GROUND_RGBA)}"/>
    <material name="foliage" rgba="{_fmt(FOLIAGE_RGBA)}"/>
    <material name="bark" rgba="0.35 0.25 0.15 1"/>
    <material name="target" rgba="{_fmt(TARGET_RGBA)}"/>
    <material name="target_mark" rgba="{_fmt(TARGET_MARK_RGBA)}"/>
  </asset>
  <worldbody>
    <light name="sun" directional="true" pos="0 0 20" dir="-0.3 0.2 -1"
           diffuse="0.65 0.65 0.62" specular="0.1 0.1 0.1" castshadow="false"/>
    <geom name="ground" type="plane" size="30 30 10" material="ground"/>
      {_trees()}
    <body name="target" mocap="true" pos="6 0 0">
      <geom name="target_pole" type="cylinder" size="0.03 1.25" pos="0 0 0.25"
            rgba="0.2 0.2 0.2 1"/>
      <geom name="target_panel" type="box" size="{tx} {ty} {tz}" pos="0 0 {TARGET_PANEL_Z}"
            material="target"/>
      <geom name="target_mark" type="box" size="{tx + 0.005} {ty * 0.4:.4f} {tz * 0.4:.4f}"
            pos="0 0 {TARGET_PANEL_Z}" material="target_mark" contype="0" conaffinity="0"/>
    </body>
    {_quad_body(params)}
  </worldbody>
  <actuator>
    {actuators}
  </actuator>
  <sensor>
    <accelerometer name="accel" site="imu"/>
    <gyro name="gyro" site="imu"/>
  </sensor>
</mujoco>
"""


def build_quad_model(params: QuadParams, physics_hz: int = PHYSICS_HZ) -> mujoco.MjModel:
    """Compile the quadrotor world (see ``build_quad_mjcf``)."""
    return mujoco.MjModel.from_xml_string(build_quad_mjcf(params, physics_hz))


def sync_subtree_mass(model: mujoco.MjModel) -> None:
    """Recompute ``body_subtreemass`` from ``body_mass`` after a run-time mass change.

    MuJoCo divides by this compile-time constant when it finds the centre of mass each step; left
    stale after ``body_mass`` changes, the dynamics act about a wrong point and the vehicle
    tumbles (``mj_setConst`` would also do it, but it resets state from ``qpos0``).
    """
    subtree = np.array(model.body_mass, dtype=np.float64)
    for body in range(model.nbody - 1, 0, -1):  # children come after their parents
        subtree[model.body_parentid[body]] += subtree[body]
    model.body_subtreemass[:] = subtree
