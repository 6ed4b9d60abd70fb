"""``lnn_control/RoverLane-v0``: keep a camera rover on a generated road course.

Composed of small parts: courses (``rover_track``), vehicle dynamics (``rover_model``), the
MuJoCo world and its painted ground (``rover_scene``), rendering (``render``), scenarios
(``scenario`` and ``shifts``) and metrics (``metrics``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import math
import os
from typing import Any

# Headless by default; must happen before MuJoCo is first imported (see render.py).
os.environ.setdefault('MUJOCO_GL', 'osmesa')

import gymnasium as gym  # noqa: E402
from gymnasium import spaces  # noqa: E402
from lnn_control.sim.metrics import LaneMetrics  # noqa: E402
from lnn_control.sim.render import apply_render_knobs, SceneRenderer  # noqa: E402
from lnn_control.sim.rover_model import (  # noqa: E402
    GRAVITY,
    RoverParams,
    RoverState,
    speed,
    step,
)
from lnn_control.sim.rover_scene import (  # noqa: E402
    build_model,
    GroundPainter,
    place_scenery,
    RoadStyle,
)
from lnn_control.sim.rover_track import generate_track, SPLITS, Track, TrackConfig  # noqa: E402
from lnn_control.sim.scenario import (  # noqa: E402
    ActiveScenario,
    ModelDefaults,
    parse_scenarios,
    Shift,
    SimWorld,
)
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

PHYSICS_DT = 0.0025
#: IMU range (m/s^2 and rad/s): readings saturate here, like a real sensor's full scale.
IMU_LIMIT = np.array([160.0] * 3 + [35.0] * 3, np.float32)


@dataclass(frozen=True)
class ImuNoise:
    """IMU noise model: white noise plus a constant bias drawn per episode.

    Attributes:
        accel_std: accelerometer white noise, m/s^2. accel_bias: bias std, m/s^2.
        gyro_std: gyro white noise, rad/s. gyro_bias: bias std, rad/s.
    """

    accel_std: float = 0.05
    accel_bias: float = 0.02
    gyro_std: float = 0.005
    gyro_bias: float = 0.002

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 <= value <= 10.0:
                raise ValueError(f'ImuNoise.{name}: expected a number in [0, 10], got {value!r}')


def default_knobs(params: RoverParams) -> dict[str, Any]:
    """Return the clear-day values of every knob this env reads (see the class docstring)."""
    k = params.scale / 0.1
    return {
        'camera': 'front',
        'view_distance': 20.0 * k,
        'headlights': {'height': params.camera_height, 'pitch': params.camera_pitch,
                       'fovy': params.camera_fovy, 'reach': 3.0 * k},
        'road_style': RoadStyle(),
        'sky_tint': None,
        'friction_scale': 1.0,
        'wind': (0.0, 0.0),
        'wind_gust': 0.0,
        'imu_noise_scale': 1.0,
    }


class RoverLaneEnv(gym.Env):
    """Lane keeping with a forward camera on a seeded closed road course.

    Each episode draws a course from the train or the held-out eval seed range
    (``rover_track.TRAIN_SEEDS`` / ``EVAL_SEEDS``), a cruise speed from ``speed_range`` and a
    small start offset. The rover starts on the start line and the episode ends (terminated) when
    a wheel leaves the road, or when ``laps`` laps are done. ``TimeLimit`` (``max_episode_steps``
    of the registration) truncates. The env's cruise control holds the episode speed and slows
    for bends it sees ahead (lateral acceleration <= ``corner_accel``) unless ``throttle=True``.

    Observation (``Dict``):

    | key   | dtype   | shape     | units / range                                           |
    |-------|---------|-----------|---------------------------------------------------------|
    | image | uint8   | (H, W, 3) | RGB, row 0 at the top, front camera (66x200 default)    |
    | imu   | float32 | (6,)      | [ax, ay, az] m/s^2 specific force (az ~ +9.81 at rest), |
    |       |         |           | [gx, gy, gz] rad/s; body frame FLU                      |
    | speed | float32 | (1,)      | forward speed, m/s, >= 0                                |

    Action (``Box`` float32, clipped to the bounds; a wrong shape or NaN raises ``ValueError``):

    | index | name     | range   | meaning                                                  |
    |-------|----------|---------|----------------------------------------------------------|
    | 0     | steering | [-1, 1] | fraction of ``max_steer`` (0.40 rad), positive = left     |
    | 1     | throttle | [-1, 1] | only with ``throttle=True``: fraction of ``max_accel``    |
    |       |          |         | (4 m/s^2), negative brakes                               |

    ``reset(options=...)`` accepts ``scenario`` (this episode's scenario string) and
    ``track_seed`` (this episode's course).

    Reward: progress along the course in metres minus ``lateral_error^2`` per step (shaping
    only; imitation learning ignores it).

    ``info`` keys: ``lateral_error`` (m, + = left of centre), ``heading_error`` (rad, + = pointing
    left of the road), ``progress`` (m driven along the course since the start line),
    ``lap_progress`` (0-1 within the current lap), ``laps_completed`` (int), ``lap_length`` (m),
    ``speed`` (m/s), ``departed`` (bool), ``finished`` (bool), ``track_seed``, ``scenario``,
    ``metrics`` (``metrics.LaneMetrics.summary()`` so far) and ``privileged`` (state for the
    expert: ``lateral_error``, ``heading_error``, ``curvature`` (1/m, now), ``curvature_ahead``
    (1/m, at the look-ahead), ``speed``, ``target_speed``, ``yaw_rate``, ``steer`` (rad),
    ``x``, ``y``, ``yaw``, ``wheelbase``, ``max_steer``, ``max_accel``, ``speed_tau``,
    ``steer_tau``, ``throttle``).

    Knobs read from ``SimWorld.knobs`` after the shifts' ``apply_world`` (see ``default_knobs``):
    ``camera`` (the image camera's name), ``view_distance`` (m, what fog scales with),
    ``headlights`` (lamp geometry for the night shift's light pool), ``road_style``
    (``rover_scene.RoadStyle``), ``sky_tint`` (``render.apply_render_knobs``),
    ``friction_scale`` (x tyre friction), ``wind`` ((x, y) world-frame side acceleration,
    m/s^2), ``wind_gust`` (std of its gusts, m/s^2),
    ``imu_noise_scale`` (x the IMU noise).

    Args:
        scenario: default scenario string (``'clear'``, ``'rain:3+crosswind:2'``, a YAML path).
        image_hw: camera image (height, width).
        render_mode: ``None`` or ``'rgb_array'`` (chase view, ``chase_hw``).
        control_hz: control rate; physics runs at 400 Hz underneath.
        throttle: whether the policy also commands throttle.
        speed_range: cruise speed drawn per episode, (low, high) m/s.
        scale: vehicle and course scale, fraction of full size (0.1 = 1/10 rover, 1.0 = car).
        track_length: nominal lap length, m (default 60 m x scale/0.1); short for fast tests.
        laps: laps until the episode finishes (fractions make a short course).
        track_split: ``'train'`` or ``'eval'`` (held-out seeds).
        track_seed: pin one course (overrides ``track_split``).
        terminate_on_departure: if False, a departure is counted and the rover is put back on
            the centre line (a safety driver), so departures per km can exceed one per episode.
        imu_noise: the nominal IMU noise model.
        corner_accel: lateral acceleration the cruise control allows in bends, m/s^2.
    """

    metadata = {'render_modes': ['rgb_array'], 'render_fps': 20}

    def __init__(self, scenario: str = 'clear', image_hw: tuple[int, int] = (66, 200),
                 render_mode: str | None = None, control_hz: float = 20.0,
                 throttle: bool = False, speed_range: tuple[float, float] = (1.0, 4.0),
                 scale: float = 0.1, track_length: float | None = None, laps: float = 1.0,
                 track_split: str = 'train', track_seed: int | None = None,
                 terminate_on_departure: bool = True, imu_noise: ImuNoise | None = None,
                 corner_accel: float = 4.0, chase_hw: tuple[int, int] = (240, 320)) -> None:
        if render_mode not in (None, 'rgb_array'):
            raise ValueError(f"RoverLaneEnv: render_mode must be None or 'rgb_array', "
                             f'got {render_mode!r}')
        if track_split not in SPLITS:
            raise ValueError(f'RoverLaneEnv: track_split must be one of {sorted(SPLITS)}, '
                             f'got {track_split!r}')
        if not (len(image_hw) == 2 and 8 <= image_hw[0] <= 1024 and 8 <= image_hw[1] <= 1024):
            raise ValueError(f'RoverLaneEnv: image_hw must be (H, W) within 8-1024, '
                             f'got {image_hw!r}')
        if not 1.0 <= control_hz <= 200.0:
            raise ValueError(f'RoverLaneEnv: control_hz must be in [1, 200], got {control_hz!r}')
        if not 0.0 < speed_range[0] <= speed_range[1]:
            raise ValueError(f'RoverLaneEnv: speed_range must be 0 < low <= high, '
                             f'got {speed_range!r}')
        if not laps > 0:
            raise ValueError(f'RoverLaneEnv: laps must be > 0, got {laps!r}')
        if not 0.5 <= corner_accel <= 20.0:
            raise ValueError(f'RoverLaneEnv: corner_accel must be in [0.5, 20] m/s^2, '
                             f'got {corner_accel!r}')
        if not (len(chase_hw) == 2 and 8 <= chase_hw[0] <= 2048 and 8 <= chase_hw[1] <= 2048):
            raise ValueError(f'RoverLaneEnv: chase_hw must be (H, W) within 8-2048, '
                             f'got {chase_hw!r}')
        self.params = RoverParams.at_scale(scale)
        if speed_range[1] > self.params.max_speed:
            raise ValueError(f'RoverLaneEnv: speed_range high must be <= max_speed '
                             f'{self.params.max_speed:.1f} m/s at scale {scale}, '
                             f'got {speed_range!r}')
        self.track_config = TrackConfig.at_scale(scale, track_length)
        self.scenario = scenario
        self.image_hw = (int(image_hw[0]), int(image_hw[1]))
        self.chase_hw = (int(chase_hw[0]), int(chase_hw[1]))
        self.render_mode = render_mode
        self.control_dt = 1.0 / control_hz
        self.throttle = throttle
        self.speed_range = (float(speed_range[0]), float(speed_range[1]))
        self.laps = float(laps)
        self.track_split = track_split
        self.track_seed = track_seed
        self.terminate_on_departure = terminate_on_departure
        self.imu_noise = imu_noise or ImuNoise()
        self.corner_accel = float(corner_accel)
        self.metadata = {**self.metadata, 'render_fps': int(round(control_hz))}

        h, w = self.image_hw
        self.observation_space = spaces.Dict({
            'image': spaces.Box(0, 255, (h, w, 3), np.uint8),
            'imu': spaces.Box(-IMU_LIMIT, IMU_LIMIT, (6,), np.float32),
            'speed': spaces.Box(0.0, self.params.max_speed * 2, (1,), np.float32),
        })
        n_act = 2 if throttle else 1
        self.action_space = spaces.Box(-1.0, 1.0, (n_act,), np.float32)

        buffer_hw = (max(h, self.chase_hw[0]), max(w, self.chase_hw[1]))
        self.model = build_model(self.params, self.track_config, buffer_hw)
        self.data = mujoco.MjData(self.model)
        self._defaults = ModelDefaults(self.model)
        self._renderer: SceneRenderer | None = None
        self._painter = GroundPainter(self.track_config)
        self._ground_tex = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_TEXTURE, 'ground')
        self._chase_cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, 'chase')
        self._painted_key: tuple | None = None
        self._tracks: dict[int, Track] = {}
        self._scenario_cache: dict[str, list[Shift]] = {}
        self._active = ActiveScenario()
        self._shift_rng = np.random.default_rng(0)
        self.world = SimWorld('rover', self.model, self.data, default_knobs(self.params))
        self._state = RoverState()
        self._track: Track | None = None

    # -- episode set-up ------------------------------------------------------------------------
    def _shifts(self, text: str) -> list[Shift]:
        if text not in self._scenario_cache:
            self._scenario_cache[text] = parse_scenarios(text, vehicle='rover')
        return self._scenario_cache[text]

    def _get_track(self, seed: int) -> Track:
        if seed not in self._tracks:
            if len(self._tracks) > 64:
                self._tracks.clear()
            self._tracks[seed] = generate_track(seed, self.track_config)
        return self._tracks[seed]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        scenario = options.get('scenario', self.scenario)
        seeds = SPLITS[self.track_split]
        track_seed = self.track_seed
        if track_seed is None:
            track_seed = int(seeds[self.np_random.integers(len(seeds))])
        self._track = self._get_track(int(options.get('track_seed', track_seed)))
        self._cruise = float(self.np_random.uniform(*self.speed_range))
        start_lat = float(self.np_random.uniform(-0.15, 0.15)) * self.track_config.road_width / 2
        start_head = float(self.np_random.uniform(-0.08, 0.08))
        self._shift_rng = np.random.default_rng(int(self.np_random.integers(2 ** 63)))
        paint_rng = np.random.default_rng(int(self._shift_rng.integers(2 ** 63)))
        noise = self.imu_noise
        self._imu_bias = np.concatenate([
            self.np_random.normal(0.0, noise.accel_bias, 3),
            self.np_random.normal(0.0, noise.gyro_bias, 3)]).astype(np.float32)

        self._defaults.restore()
        self.world.knobs = default_knobs(self.params)
        self._active = ActiveScenario(self._shifts(scenario))
        self._active.apply_world(self.world, self._shift_rng)
        self._camera_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA,
                                            self.world.knobs['camera'])
        place_scenery(self.model, self._track)
        if self._renderer is None:
            self._renderer = SceneRenderer(self.model)
        self._paint(self.world.knobs['road_style'], paint_rng)
        apply_render_knobs(self._renderer, self.world.knobs)

        x, y, heading = self._track.pose_at(0.0)
        x -= math.sin(heading) * start_lat
        y += math.cos(heading) * start_lat
        self._state = RoverState(x=x, y=y, yaw=heading + start_head, vx=self._cruise)
        self._hint = None
        proj = self._project()
        self._s_prev = proj.s
        self._progress = 0.0
        self._laps_done = 0
        self._steer_action = 0.0
        self._gust = np.zeros(2)
        self._metrics = LaneMetrics(self.laps * self._track.length)
        self._departed = False
        self._finished = False
        obs = self._observe()
        return obs, self._info(proj)

    def _paint(self, style: RoadStyle, rng: np.random.Generator) -> None:
        random_parts = style.marking_wear > 0 or style.shadows > 0
        key = (self._track.seed, style)
        if random_parts or key != self._painted_key:
            texture = self._painter.paint(self._track, style, rng)
            self._renderer.upload_texture(self._ground_tex, texture)
            self._painted_key = None if random_parts else key

    # -- stepping -----------------------------------------------------------------------------
    def _project(self):
        s = self._state
        proj = self._track.project(s.x, s.y, self._hint)
        self._hint = proj.index
        return proj

    def _validate(self, action: Any) -> np.ndarray:
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != self.action_space.shape:
            raise ValueError(f'RoverLaneEnv: expected an action of shape '
                             f'{self.action_space.shape}, got {np.shape(action)}')
        if not np.all(np.isfinite(a)):
            raise ValueError(f'RoverLaneEnv: action must be finite, got {a}')
        return np.clip(a, -1.0, 1.0)

    def _target_speed(self, index: int) -> float:
        """Cruise speed, slowed for the tightest bend within braking reach."""
        look = self._state.vx * 1.0 + 2 * self.track_config.road_width
        kappa = float(np.abs(self._track.curvature_ahead(index, look)).max())
        return min(self._cruise, math.sqrt(self.corner_accel / max(kappa, 1e-6)))

    def step(self, action):
        if self._track is None:
            raise RuntimeError('RoverLaneEnv: call reset() before step()')
        a = self._validate(action)
        applied = np.clip(self._active.apply_action(a.copy(), self._shift_rng), -1.0, 1.0)
        p, st, knobs = self.params, self._state, self.world.knobs
        steer_cmd = float(applied[0]) * p.max_steer
        mu = p.mu * float(knobs['friction_scale'])
        wind = np.asarray(knobs['wind'], float)
        gust_std = float(knobs['wind_gust'])
        n_sub = max(1, int(round(self.control_dt / PHYSICS_DT)))
        dt = self.control_dt / n_sub
        target = self._target_speed(self._hint)
        for _ in range(n_sub):
            if self.throttle:
                accel = float(applied[1]) * p.max_accel
            else:
                accel = (target - st.vx) / p.speed_tau
            step(st, p, steer_cmd, accel, dt, mu=mu, side_accel=tuple(wind + self._gust))
        if gust_std > 0:  # Ornstein-Uhlenbeck gusts, 1 s correlation time
            decay = math.exp(-self.control_dt)
            self._gust = (decay * self._gust + math.sqrt(1 - decay * decay) * gust_std
                          * self._shift_rng.normal(0.0, 1.0, 2))

        proj = self._project()
        ds = (proj.s - self._s_prev + self._track.length / 2) % self._track.length
        ds -= self._track.length / 2
        self._s_prev = proj.s
        self._progress += ds
        margin = self.track_config.road_width / 2 - p.width / 2
        departed = abs(proj.lateral) > margin
        self._metrics.update(proj.lateral, float(a[0]), self._progress, departed)
        self._steer_action = float(a[0])
        finished = self._progress >= self.laps * self._track.length
        if departed and not self.terminate_on_departure:
            self._recover(proj)
            proj = self._project()
        self._departed, self._finished = departed, finished
        terminated = finished or (departed and self.terminate_on_departure)
        reward = float(ds - proj.lateral ** 2)
        return self._observe(), reward, terminated, False, self._info(proj)

    def _recover(self, proj) -> None:
        """Safety-driver reset: back on the centre line at the same place, same speed."""
        x, y, heading = self._track.pose_at(proj.s)
        self._state = RoverState(x=x, y=y, yaw=heading, vx=max(self._state.vx, 0.5))

    # -- sensors ------------------------------------------------------------------------------
    def _place_rover(self) -> None:
        st = self._state
        self.data.mocap_pos[0] = (st.x, st.y, 0.0)
        self.data.mocap_quat[0] = (math.cos(st.yaw / 2), 0.0, 0.0, math.sin(st.yaw / 2))
        mujoco.mj_forward(self.model, self.data)

    def _imu(self) -> np.ndarray:
        st, noise = self._state, self.imu_noise
        scale = float(self.world.knobs['imu_noise_scale'])
        clean = np.array([st.ax, st.ay, GRAVITY, 0.0, 0.0, st.r], np.float32)
        white = np.concatenate([self.np_random.normal(0.0, noise.accel_std, 3),
                                self.np_random.normal(0.0, noise.gyro_std, 3)])
        imu = clean + scale * (self._imu_bias + white.astype(np.float32))
        imu = self._active.apply_imu(imu, self._shift_rng)
        return np.clip(imu, -IMU_LIMIT, IMU_LIMIT).astype(np.float32)

    def _observe(self) -> dict[str, np.ndarray]:
        self._place_rover()
        h, w = self.image_hw
        if self._active.needs_depth:
            image, self.world.depth = self._renderer.render(self.data, self._camera_id, h, w,
                                                            depth=True)
        else:
            image = self._renderer.render(self.data, self._camera_id, h, w)
        image = self._active.apply_image(image, self._shift_rng)
        return {
            'image': np.ascontiguousarray(image, dtype=np.uint8),
            'imu': self._imu(),
            'speed': np.array([min(max(self._state.vx, 0.0), 2 * self.params.max_speed)],
                              np.float32),
        }

    def _info(self, proj) -> dict[str, Any]:
        st, p, track = self._state, self.params, self._track
        heading_error = (st.yaw - proj.heading + math.pi) % (2 * math.pi) - math.pi
        look = max(st.vx, 0.5) * (p.steer_tau + self.control_dt)
        ahead = track.curvature_ahead(proj.index, look)
        laps_done = int(max(self._progress, 0.0) // track.length)
        privileged = {
            'lateral_error': proj.lateral, 'heading_error': heading_error,
            'curvature': proj.curvature, 'curvature_ahead': float(ahead[-1]),
            'speed': speed(st), 'target_speed': self._target_speed(proj.index),
            'yaw_rate': st.r, 'steer': st.steer, 'x': st.x, 'y': st.y, 'yaw': st.yaw,
            'wheelbase': p.wheelbase, 'max_steer': p.max_steer, 'max_accel': p.max_accel,
            'speed_tau': p.speed_tau, 'steer_tau': p.steer_tau, 'throttle': self.throttle,
        }
        return {
            'lateral_error': proj.lateral,
            'heading_error': heading_error,
            'progress': self._progress,
            'lap_progress': (max(self._progress, 0.0) % track.length) / track.length,
            'laps_completed': laps_done,
            'lap_length': track.length,
            'speed': speed(st),
            'departed': self._departed,
            'finished': self._finished,
            'track_seed': track.seed,
            'scenario': self._active.describe(),
            'metrics': self._metrics.summary(),
            'privileged': privileged,
        }

    # -- rendering ----------------------------------------------------------------------------
    def render(self):
        if self.render_mode != 'rgb_array' or self._renderer is None:
            return None
        self._place_rover()
        return self._renderer.render(self.data, self._chase_cam, *self.chase_hw)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
