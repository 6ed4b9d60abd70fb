"""Quadrotor envs: a MuJoCo X-quad behind a flight controller's attitude-setpoint interface.

The policy sends what it would send to PX4 or ArduPilot in attitude mode; the emulated flight
controller (``quad_controller``) turns it into motor thrusts at the physics rate, the motors lag
and saturate (``quad_motors``), and MuJoCo flies the airframe with drag and wind.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
import math
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from lnn_control.sim.quad_controller import FlightController, FlightControllerConfig, quat_to_euler
from lnn_control.sim.quad_imu import ImuConfig, ImuModel
from lnn_control.sim.quad_metrics import QuadTaskMonitor, SuccessCriteria
from lnn_control.sim.quad_model import (
    build_quad_model,
    PHYSICS_HZ,
    sync_subtree_mass,
    TARGET_PANEL_Z,
)
from lnn_control.sim.quad_motors import MotorBank
from lnn_control.sim.quad_params import QuadParams
from lnn_control.sim.quad_wind import WindField
from lnn_control.sim.render import apply_render_knobs, SceneRenderer
from lnn_control.sim.scenario import (
    ActiveScenario,
    ModelDefaults,
    parse_scenarios,
    Shift,
    SimWorld,
)
import mujoco
import numpy as np

ACTION_NAMES = ('roll', 'pitch', 'yaw_rate', 'thrust')
ACTION_UNITS = ('rad', 'rad', 'rad/s', '0..1')
#: Sensor full scale: accelerometer +-16 g, gyro +-2000 deg/s (readings saturate there).
IMU_RANGE = np.array([156.9] * 3 + [34.9] * 3, dtype=np.float32)
#: Altimeter range in m.
ALTITUDE_RANGE = (-1.0, 50.0)
CLIMB_RATE_RANGE = (-20.0, 20.0)
#: Tolerance on the action bounds, so float32 round-off of a bound is not an error.
_BOUND_TOL = 1e-5


def default_knobs() -> dict[str, Any]:
    """Return the env knobs shifts may set at reset (see ``QuadEnvBase`` for their meaning)."""
    return {'wind_velocity': np.zeros(3), 'wind_gust': 0.0, 'gust_tau': 1.0,
            'motor_efficiency': np.ones(4), 'imu_noise_scale': 1.0, 'camera': 'fpv',
            'view_distance': 20.0, 'fog_visibility': 60.0, 'sky_tint': None,
            'lamp': {'reach': 3.0, 'beam': 0.45}}


@dataclass(frozen=True)
class QuadTaskConfig:
    """Episode layout, crash limits and success criteria of a quad task.

    Attributes:
        target_distance: Range of the start-to-target distance, m.
        target_bearing: Largest angle between the start heading and the target, rad.
        facing_spread: Largest angle between the target's facing and the start direction, rad.
        standoff: Distance of the goal point in front of the target panel, m.
        panel_height: Range of the height of the panel centre, m.
        start_altitude: Range of the start altitude, m (the vehicle starts hovering).
        start_speed: Std of the start velocity per axis, m/s (a push to recover from).
        tilt_limit: Tilt from level that ends the episode as a crash, rad.
        arena_half: Half width of the flyable square, m; leaving it ends the episode.
        ceiling: Highest altitude allowed, m.
        hold_start: Goal is the start position (hover task) instead of the target standoff point.
        criteria: What counts as reaching and holding the goal.
    """

    target_distance: tuple[float, float] = (4.0, 9.0)
    target_bearing: float = 0.35
    facing_spread: float = 0.5
    standoff: float = 1.5
    panel_height: tuple[float, float] = (1.0, 2.0)
    start_altitude: tuple[float, float] = (1.0, 2.0)
    start_speed: float = 0.0
    tilt_limit: float = 1.0
    arena_half: float = 25.0
    ceiling: float = 15.0
    hold_start: bool = False
    criteria: SuccessCriteria = field(default_factory=SuccessCriteria)

    def __post_init__(self) -> None:
        for name, low, high in (('target_distance', 2.0, 20.0), ('panel_height', 0.5, 5.0),
                                ('start_altitude', 0.5, 10.0)):
            lo, hi = getattr(self, name)
            if not (low <= lo <= hi <= high):
                raise ValueError(f'QuadTaskConfig.{name}: expected low <= high within '
                                 f'[{low}, {high}], got {(lo, hi)!r}')
        for name, low, high in (('target_bearing', 0.0, 1.0), ('facing_spread', 0.0, math.pi),
                                ('standoff', 0.5, 5.0), ('start_speed', 0.0, 3.0),
                                ('tilt_limit', 0.3, 1.5), ('arena_half', 5.0, 29.0),
                                ('ceiling', 3.0, 50.0)):
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f'QuadTaskConfig.{name}: expected a number in [{low}, {high}], '
                                 f'got {value!r}')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuadTaskConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f'QuadTaskConfig: unknown fields {sorted(unknown)}')
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        if isinstance(values.get('criteria'), dict):
            values['criteria'] = SuccessCriteria(**values['criteria'])
        return cls(**values)


@dataclass(frozen=True)
class _Layout:
    start: np.ndarray
    start_yaw: float
    target_base: np.ndarray
    target_yaw: float
    goal: np.ndarray


class QuadEnvBase(gym.Env):
    """A quadrotor in attitude mode with a forward camera, an IMU and a vertical state estimate.

    Observation space (``Dict``):

    ==============  =======================  ===================================================
    key             space                    meaning
    ==============  =======================  ===================================================
    ``image``       uint8 (H, W, 3), 0..255  forward camera, RGB, row 0 at the top (absent when
                                             ``camera=False``)
    ``imu``         float32 (6,)             ``[ax, ay, az]`` specific force in m/s^2 (+9.81 on
                                             z when level and still, saturates at +-156.9) and
                                             ``[gx, gy, gz]`` body rates in rad/s (+-34.9), body
                                             FLU, with noise and bias
    ``altitude``    float32 (1,)             height of the centre of mass above ground, m, in
                                             [-1, 50] (the autopilot's estimate; true here)
    ``climb_rate``  float32 (1,)             vertical velocity, up positive, m/s, in [-20, 20]
                                             (the autopilot's estimate; true here)
    ==============  =======================  ===================================================

    Action space (float32 ``Box`` (4,)), the attitude setpoint of a flight controller:

    ===  ============  ==========  =========================================================
    idx  name          range       meaning (FLU body, right-hand rule)
    ===  ============  ==========  =========================================================
    0    roll          +-0.6 rad   > 0: right side down, the vehicle moves right (-y)
    1    pitch         +-0.6 rad   > 0: nose down, the vehicle accelerates forward (+x)
    2    yaw_rate      +-2 rad/s   > 0: counter-clockwise seen from above (nose turns left)
    3    thrust        0..1        collective thrust / full thrust of the 4 motors (hover
                                   ~0.42 at the nominal 1.2 kg)
    ===  ============  ==========  =========================================================

    Actions outside the box, non-finite values or a wrong shape raise ``ValueError``.

    ``info`` holds ``privileged`` (position, velocity (world ENU, m, m/s), quaternion (w, x, y,
    z), euler (roll, pitch, yaw rad), body_rates (rad/s), goal, goal_yaw, target_position
    (panel centre), motor_thrust (N), wind (m/s), time (s)), the metrics of ``QuadTaskMonitor``
    (distance_to_goal, hold_time_s, success, time_to_target_s, crashed, rms_position_error,
    elapsed_s), ``termination`` (None, 'contact', 'tilt' or 'out_of_bounds') and ``scenario``.

    Reward: ``1 / (1 + distance_to_goal)`` per step, ``-10`` on a crash. Episodes end on ground
    or obstacle contact, tilt beyond ``tilt_limit`` or leaving the arena; ``TimeLimit`` truncates.

    Knobs (``SimWorld.knobs``) that shifts may set at reset (defaults in ``default_knobs``):
    ``wind_velocity`` (3,) mean wind m/s ENU, ``wind_gust`` turbulence std m/s, ``gust_tau`` its
    correlation time s, ``motor_efficiency`` (4,) thrust fraction per motor, ``imu_noise_scale``
    (x the IMU white noise); read by the shared visual shifts: ``camera`` (``'fpv'``),
    ``view_distance`` (20 m: the trees' ring; rain's haze), ``fog_visibility`` (60 m: fog's
    visibility at severity 1, 6 m at 5, so the target 4-9 m ahead fades but stays findable at
    3) and ``lamp`` (the drone's forward lamp for ``night``, at the camera: full light within
    ``reach`` 3 m, 1/r^2 beyond, soft edge ``beam`` 0.45 rad off the axis); applied by
    ``render.apply_render_knobs``: ``sky_tint``. Frames carry depth (``SimWorld.depth``) while a
    shift needs it (fog, rain, night). Model names shifts may use are listed in ``quad_model``.

    Args:
        scenario: Default scenario string (``'clear'``, ``'wind:3+fog:2'``, a YAML path);
            ``reset(options={'scenario': ...})`` overrides it for one episode.
        image_hw: Forward camera (height, width).
        render_mode: ``None`` or ``'rgb_array'`` (``render()`` gives the chase camera).
        chase_hw: Size of the chase view.
        control_hz: Policy rate; must divide ``physics_hz``.
        physics_hz: Physics and flight-controller rate (>= 250).
        camera: False drops ``image`` from the observation (no rendering, ~3x faster).
        params: Airframe (``QuadParams``).
        controller: Flight-controller gains and limits; ``max_tilt`` and ``max_rate[2]`` set
            the action bounds.
        imu: IMU noise and bias.
        task: Layout, crash limits and success criteria (defaults per env class).
    """

    metadata = {'render_modes': ['rgb_array'], 'render_fps': 50}
    task_config = QuadTaskConfig()

    def __init__(self, *, scenario: str = 'clear', image_hw: tuple[int, int] = (64, 128),
                 render_mode: str | None = None, chase_hw: tuple[int, int] = (240, 320),
                 control_hz: int = 50,
                 physics_hz: int = PHYSICS_HZ, camera: bool = True,
                 params: QuadParams | None = None,
                 controller: FlightControllerConfig | None = None,
                 imu: ImuConfig | None = None, task: QuadTaskConfig | None = None) -> None:
        name = type(self).__name__
        if render_mode not in (None, 'rgb_array'):
            raise ValueError(f"{name}: render_mode must be None or 'rgb_array', "
                             f'got {render_mode!r}')
        if not (isinstance(control_hz, int) and 10 <= control_hz <= 100
                and isinstance(physics_hz, int) and physics_hz % control_hz == 0):
            raise ValueError(f'{name}: control_hz must be an int in [10, 100] that divides '
                             f'physics_hz={physics_hz}, got {control_hz!r}')
        for label, value in (('image_hw', image_hw), ('chase_hw', chase_hw)):
            if len(tuple(value)) != 2 or not all(isinstance(v, int) and 8 <= v <= 480
                                                 for v in value):
                raise ValueError(f'{name}: {label} must be (height, width) ints in [8, 480], '
                                 f'got {value!r}')
        if not isinstance(camera, bool):
            raise ValueError(f'{name}: camera must be True or False, got {camera!r}')
        hw = tuple(image_hw)
        self.render_mode = render_mode
        self.image_hw = hw
        self.chase_hw = tuple(chase_hw)
        self.control_hz = control_hz
        self.camera = camera
        self.params = params or QuadParams()
        self.task = task or self.task_config
        self.metadata = {**self.metadata, 'render_fps': control_hz}

        self.model = build_quad_model(self.params, physics_hz)
        self.data = mujoco.MjData(self.model)
        self._defaults = ModelDefaults(self.model)
        self._substeps = physics_hz // control_hz
        self._physics_dt = 1.0 / physics_hz
        self._control_dt = 1.0 / control_hz
        self.controller = FlightController(self.params, controller)
        self.motors = MotorBank(self.params)
        self.imu = ImuModel(imu)
        self.monitor = QuadTaskMonitor(self.task.criteria)
        self._quad_id = self.model.body('quad').id
        self._target_mocap = self.model.body('target').mocapid[0]
        self._renderer: SceneRenderer | None = None
        self._fpv = self.model.camera('fpv').id
        self._chase = self.model.camera('chase').id

        cfg = self.controller.config
        high = np.array([cfg.max_tilt, cfg.max_tilt, cfg.max_rate[2], 1.0], dtype=np.float32)
        low = np.array([-cfg.max_tilt, -cfg.max_tilt, -cfg.max_rate[2], 0.0], dtype=np.float32)
        self.action_space = spaces.Box(low, high, dtype=np.float32)
        obs = {'imu': spaces.Box(-IMU_RANGE, IMU_RANGE, dtype=np.float32),
               'altitude': spaces.Box(*ALTITUDE_RANGE, (1,), np.float32),
               'climb_rate': spaces.Box(*CLIMB_RATE_RANGE, (1,), np.float32)}
        if camera:
            obs = {'image': spaces.Box(0, 255, (*hw, 3), np.uint8), **obs}
        self.observation_space = spaces.Dict(obs)

        self.scenario_name = scenario
        self._parsed: dict[str, list[Shift]] = {}
        self._scenario = self._parse(scenario)
        self._knobs = default_knobs()
        self._world = SimWorld('quad', self.model, self.data, self._knobs)
        self._wind = WindField(np.zeros(3), 0.0, 1.0)
        self._layout: _Layout | None = None

    # ------------------------------------------------------------------ episode
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        super().reset(seed=seed)
        options = dict(options or {})
        scenario = options.pop('scenario', self.scenario_name)
        if options:
            raise ValueError(f'{type(self).__name__}.reset: unknown options {sorted(options)}; '
                             "known: ['scenario']")
        self._scenario = self._parse(scenario)
        rng = self.np_random
        self._defaults.restore()
        mujoco.mj_resetData(self.model, self.data)
        layout = self._sample_layout(rng)
        self._layout = layout
        self._place(layout, rng)

        self._knobs = default_knobs()
        self._world = SimWorld('quad', self.model, self.data, self._knobs)
        self._scenario.apply_world(self._world, rng)
        sync_subtree_mass(self.model)  # after a payload shift, and after restoring from one
        self._wind = WindField(self._knobs['wind_velocity'], float(self._knobs['wind_gust']),
                               float(self._knobs['gust_tau']))
        self.model.opt.wind[:] = self._wind.reset(rng)
        if self.camera or self.render_mode == 'rgb_array':
            apply_render_knobs(self._ensure_renderer(), self._knobs)
        hover = np.full(4, self.params.hover_thrust * self.params.max_thrust)
        self.motors.reset(hover, self._knobs['motor_efficiency'])
        self.controller.reset()
        self.imu.reset(rng, float(self._knobs['imu_noise_scale']))
        mujoco.mj_forward(self.model, self.data)
        self.monitor.reset()
        self.monitor.update(self.data.qpos[:3], layout.goal, 0.0)
        return self._observe(), self._info(None)

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        if self._layout is None:
            raise RuntimeError(f'{type(self).__name__}: call reset() before step()')
        setpoint = self._validate_action(action)
        # Shifts may bias the command; the flight controller clamps it to its limits as PX4 does.
        shifted = self._scenario.apply_action(setpoint, self.np_random)
        setpoint = np.clip(shifted, self.action_space.low, self.action_space.high)
        model, data = self.model, self.data
        model.opt.wind[:] = self._wind.step(self._control_dt, self.np_random)
        contact = False
        for _ in range(self._substeps):
            euler = quat_to_euler(data.qpos[3:7])
            command = self.controller.update(setpoint, euler, data.qvel[3:6], self._physics_dt)
            data.ctrl[:] = self.motors.step(command, self._physics_dt)
            self._apply_rotor_drag()
            mujoco.mj_step(model, data)
            if data.ncon > 0:
                contact = True
                break
        termination = self._termination(contact)
        crashed = termination is not None
        self.monitor.update(data.qpos[:3], self._layout.goal, self._control_dt, crashed)
        reward = -10.0 if crashed else 1.0 / (1.0 + self.monitor.distance)
        return self._observe(), reward, crashed, False, self._info(termination)

    def render(self) -> np.ndarray | None:
        """Return the chase view at ``chase_hw`` (``render_mode='rgb_array'``), else None."""
        if self.render_mode != 'rgb_array' or self._renderer is None:
            return None
        return self._renderer.render(self.data, self._chase, *self.chase_hw)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ------------------------------------------------------------------ helpers
    def _parse(self, scenario: str) -> ActiveScenario:
        """Fresh shift objects for one episode (shifts keep per-episode state such as delays).

        Parsing reads every scenario file, so each distinct string is parsed once and its
        unused shifts are deep-copied per episode.
        """
        if not isinstance(scenario, str):
            raise ValueError(f'{type(self).__name__}: scenario must be a string such as '
                             f"'wind:3+fog:2', got {scenario!r}")
        if scenario.strip() in ('', 'clear'):
            return ActiveScenario()
        if scenario not in self._parsed:
            self._parsed[scenario] = parse_scenarios(scenario, vehicle='quad')
        return ActiveScenario(copy.deepcopy(self._parsed[scenario]))

    def _validate_action(self, action: Any) -> np.ndarray:
        name = type(self).__name__
        try:
            values = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f'{name}: action must be 4 numbers {list(ACTION_NAMES)}, '
                             f'got {action!r}') from None
        if values.shape != (4,):
            raise ValueError(f'{name}: action must have shape (4,) {list(ACTION_NAMES)}, '
                             f'got shape {values.shape}')
        if not np.all(np.isfinite(values)):
            bad = [n for n, v in zip(ACTION_NAMES, values, strict=True) if not math.isfinite(v)]
            raise ValueError(f'{name}: action has non-finite {bad}: {values.tolist()}')
        low, high = self.action_space.low, self.action_space.high
        outside = (values < low - _BOUND_TOL) | (values > high + _BOUND_TOL)
        if outside.any():
            parts = [f'{n}={v:.4g} {u} not in [{lo:.4g}, {hi:.4g}]'
                     for n, u, v, lo, hi, o in zip(ACTION_NAMES, ACTION_UNITS, values, low, high,
                                                   outside, strict=True) if o]
            raise ValueError(f'{name}: action out of range: ' + '; '.join(parts))
        return np.clip(values, low, high)

    def _sample_layout(self, rng: np.random.Generator) -> _Layout:
        task = self.task
        heading = rng.uniform(-math.pi, math.pi)
        start = np.array([rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0),
                          rng.uniform(*task.start_altitude)])
        bearing = heading + rng.uniform(-task.target_bearing, task.target_bearing)
        distance = rng.uniform(*task.target_distance)
        panel_z = rng.uniform(*task.panel_height)
        target_base = np.array([start[0] + distance * math.cos(bearing),
                                start[1] + distance * math.sin(bearing), panel_z - TARGET_PANEL_Z])
        # The panel faces back towards the start, give or take facing_spread.
        target_yaw = bearing + math.pi + rng.uniform(-task.facing_spread, task.facing_spread)
        if task.hold_start:
            goal = start.copy()
        else:
            goal = np.array([target_base[0] + task.standoff * math.cos(target_yaw),
                             target_base[1] + task.standoff * math.sin(target_yaw), panel_z])
        # Start roughly facing the target, so it is in view from the first frame.
        start_yaw = bearing + rng.uniform(-task.target_bearing, task.target_bearing)
        return _Layout(start, start_yaw, target_base, target_yaw, goal)

    def _place(self, layout: _Layout, rng: np.random.Generator) -> None:
        data = self.data
        data.mocap_pos[self._target_mocap] = layout.target_base
        data.mocap_quat[self._target_mocap] = _yaw_quat(layout.target_yaw)
        data.qpos[:3] = layout.start
        data.qpos[3:7] = _yaw_quat(layout.start_yaw)
        data.qvel[:] = 0.0
        if self.task.start_speed > 0.0:
            data.qvel[:3] = rng.normal(0.0, self.task.start_speed, 3)

    def _apply_rotor_drag(self) -> None:
        """Rotor drag ``-rotor_drag * v_air`` in the rotor plane (body x, y), as a force."""
        rotation = self.data.xmat[self._quad_id].reshape(3, 3)
        air = rotation.T @ (self.data.qvel[:3] - self.model.opt.wind)
        air[2] = 0.0
        self.data.xfrc_applied[self._quad_id, :3] = rotation @ (-self.params.rotor_drag * air)

    def _termination(self, contact: bool) -> str | None:
        if contact:
            return 'contact'
        w, x, y, z = self.data.qpos[3:7]
        cos_tilt = 1.0 - 2.0 * (x * x + y * y)
        if cos_tilt < math.cos(self.task.tilt_limit):
            return 'tilt'
        px, py, pz = self.data.qpos[:3]
        if max(abs(px), abs(py)) > self.task.arena_half or pz > self.task.ceiling:
            return 'out_of_bounds'
        return None

    def _observe(self) -> dict[str, np.ndarray]:
        true_imu = np.array(self.data.sensordata[:6])
        imu = self._scenario.apply_imu(self.imu.sample(true_imu, self.np_random), self.np_random)
        altitude = np.clip(self.data.qpos[2], *ALTITUDE_RANGE)
        climb_rate = np.clip(self.data.qvel[2], *CLIMB_RATE_RANGE)
        obs = {'imu': np.clip(imu, -IMU_RANGE, IMU_RANGE).astype(np.float32),
               'altitude': np.array([altitude], dtype=np.float32),
               'climb_rate': np.array([climb_rate], dtype=np.float32)}
        if self.camera:
            renderer = self._ensure_renderer()
            if self._scenario.needs_depth:
                frame, self._world.depth = renderer.render(self.data, self._fpv, *self.image_hw,
                                                           depth=True)
            else:
                frame = renderer.render(self.data, self._fpv, *self.image_hw)
            image = self._scenario.apply_image(frame, self.np_random)
            obs = {'image': np.ascontiguousarray(image, dtype=np.uint8), **obs}
        return obs

    def _ensure_renderer(self) -> SceneRenderer:
        # One GL context per env, made on first use (a state-only env never needs one).
        if self._renderer is None:
            self._renderer = SceneRenderer(self.model)
        return self._renderer

    def _info(self, termination: str | None) -> dict[str, Any]:
        data, layout = self.data, self._layout
        quat = np.array(data.qpos[3:7])
        privileged = {
            'position': np.array(data.qpos[:3]), 'velocity': np.array(data.qvel[:3]),
            'quaternion': quat, 'euler': quat_to_euler(quat),
            'body_rates': np.array(data.qvel[3:6]), 'goal': layout.goal.copy(),
            'goal_yaw': _wrap(layout.target_yaw + math.pi),
            'target_position': layout.target_base + np.array([0.0, 0.0, TARGET_PANEL_Z]),
            'motor_thrust': self.motors.thrust.copy(), 'wind': np.array(self.model.opt.wind),
            'time': float(data.time),
        }
        return {'privileged': privileged, **self.monitor.as_info(),
                'termination': termination, 'scenario': self._scenario.describe()}


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0)])


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class QuadTargetEnv(QuadEnvBase):
    """Fly to a visual target (a red panel with a white mark on a pole) and hold in front of it.

    The fly-to-target task of the liquid-network drone papers (Chahine et al. 2023): the target
    stands 4-9 m away, roughly ahead of the start heading, its panel facing back within +-0.5
    rad; the goal is the point 1.5 m in front of the panel centre, facing it. Success: within
    0.5 m of the goal, held for 2 s. Spaces, info and conventions: see ``QuadEnvBase``.
    """

    task_config = QuadTaskConfig()


class QuadHoverEnv(QuadEnvBase):
    """Hold the start position after a random push (0.5 m/s std per axis).

    The same world and target as ``QuadTargetEnv`` (the target is a landmark only); the goal is
    the start point. Spaces, info and conventions: see ``QuadEnvBase``.
    """

    task_config = QuadTaskConfig(start_speed=0.5, hold_start=True)
