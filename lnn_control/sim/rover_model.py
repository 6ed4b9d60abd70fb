"""Dynamic bicycle model of a rover (1/10 scale by default), with steering lag and limits.

Pure Python maths (no MuJoCo): MuJoCo only draws the rover where this model puts it, which keeps
the physics deterministic, cheap (a few microseconds per sub-step) and independent of rendering.

Model: planar single-track vehicle, state ``(x, y, yaw, vx, vy, r, steer)`` in the ENU world frame
(``vx``/``vy`` in the body frame). Tyre lateral force ``F = -mu Fz tanh(C alpha / (mu Fz))``
(linear for small slip ``alpha``, saturating at the friction limit ``mu Fz``). The steering
actuator is a first-order lag with a rate limit and a hard angle limit. Below ``kinematic_speed``
the kinematic bicycle is used, where the slip model is stiff and meaningless.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
import math

GRAVITY = 9.81


@dataclass(frozen=True)
class RoverParams:
    """Vehicle constants. Defaults: a 1/10-scale research rover (F1TENTH-like).

    Attributes:
        scale: fraction of full size (0.1 = 1/10); set by ``at_scale``, informative otherwise.
        wheelbase: axle-to-axle distance, m.
        cg_front: fraction of the wheelbase from the centre of mass to the front axle.
        mass: kg. yaw_inertia: kg m^2.
        stiffness: cornering stiffness per unit axle load, 1/rad.
        mu: tyre-road friction coefficient.
        max_steer: steering angle limit, rad. steer_tau: steering lag time constant, s.
        steer_rate: steering slew-rate limit, rad/s.
        max_accel: longitudinal acceleration limit, m/s^2. speed_tau: cruise-control lag, s.
        max_speed: m/s. width: track width (for drawing and lane-departure margin), m.
        camera_height: camera above the ground, m. camera_pitch: downward tilt, rad.
        camera_fovy: vertical field of view, degrees.
    """

    scale: float = 0.1
    wheelbase: float = 0.33
    cg_front: float = 0.45
    mass: float = 3.0
    yaw_inertia: float = 0.05
    stiffness: float = 12.0
    mu: float = 0.9
    max_steer: float = 0.40
    steer_tau: float = 0.08
    steer_rate: float = 4.0
    max_accel: float = 4.0
    speed_tau: float = 0.3
    max_speed: float = 6.0
    width: float = 0.22
    camera_height: float = 0.16
    camera_pitch: float = 0.21
    camera_fovy: float = 45.0
    kinematic_speed: float = 0.3

    def __post_init__(self) -> None:
        ranges = {
            'scale': (0.01, 1.0), 'wheelbase': (0.01, 10.0), 'cg_front': (0.05, 0.95),
            'mass': (0.01, 1e5), 'yaw_inertia': (1e-5, 1e6), 'stiffness': (0.5, 100.0),
            'mu': (0.01, 2.0), 'max_steer': (0.01, 1.2), 'steer_tau': (0.0, 2.0),
            'steer_rate': (0.01, 100.0), 'max_accel': (0.01, 50.0), 'speed_tau': (0.01, 10.0),
            'max_speed': (0.01, 100.0), 'width': (0.01, 5.0), 'camera_height': (0.01, 5.0),
            'camera_pitch': (-0.5, 1.2), 'camera_fovy': (10.0, 150.0),
            'kinematic_speed': (0.0, 5.0),
        }
        for name, (lo, hi) in ranges.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and lo <= value <= hi):
                raise ValueError(f'RoverParams.{name}: expected a number in [{lo}, {hi}], '
                                 f'got {value!r}')

    @classmethod
    def at_scale(cls, scale: float, **overrides) -> RoverParams:
        """Geometry scaled linearly from the 1/10 rover; mass with the cube of the scale."""
        if not 0.01 <= scale <= 1.0:
            raise ValueError(f'RoverParams.scale: expected a number in [0.01, 1.0], got {scale!r}')
        k = scale / 0.1
        base = cls()
        return replace(base, scale=scale, wheelbase=base.wheelbase * k, mass=base.mass * k ** 3,
                       yaw_inertia=base.yaw_inertia * k ** 5, width=base.width * k,
                       camera_height=base.camera_height * k, kinematic_speed=0.3 * math.sqrt(k),
                       max_speed=base.max_speed * math.sqrt(k), **overrides)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RoverParams:
        return cls(**d)


@dataclass
class RoverState:
    """Pose in the world (x, y m; yaw rad), body-frame velocity (vx, vy m/s; r rad/s), steer rad.

    ``ax``/``ay`` hold the last body-frame acceleration (m/s^2), for the IMU.
    """

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    r: float = 0.0
    steer: float = 0.0
    ax: float = 0.0
    ay: float = 0.0


def step(state: RoverState, params: RoverParams, steer_cmd: float, accel_cmd: float, dt: float,
         *, mu: float | None = None, side_accel: tuple[float, float] = (0.0, 0.0)) -> None:
    """Advance ``state`` in place by ``dt`` seconds (call with dt <= 5 ms).

    Args:
        state: the rover state, advanced in place.
        params: vehicle constants (geometry, tyres, limits).
        steer_cmd: commanded steering angle, rad (clipped to the limit).
        accel_cmd: commanded longitudinal acceleration, m/s^2 (clipped to the limit).
        dt: time step, s (at most 5 ms).
        mu: friction override (low-friction shifts); default ``params.mu``.
        side_accel: external acceleration in the world frame (crosswind), m/s^2.
    """
    p = params
    mu = p.mu if mu is None else mu
    target = min(max(steer_cmd, -p.max_steer), p.max_steer)
    rate = (target - state.steer) / p.steer_tau if p.steer_tau > 0 else (target - state.steer) / dt
    rate = min(max(rate, -p.steer_rate), p.steer_rate)
    state.steer = min(max(state.steer + rate * dt, -p.max_steer), p.max_steer)
    accel = min(max(accel_cmd, -p.max_accel), p.max_accel)
    cos_y, sin_y = math.cos(state.yaw), math.sin(state.yaw)
    # External force, rotated into the body frame.
    ex = cos_y * side_accel[0] + sin_y * side_accel[1]
    ey = -sin_y * side_accel[0] + cos_y * side_accel[1]
    lf = p.cg_front * p.wheelbase
    lr = p.wheelbase - lf
    if state.vx < p.kinematic_speed:
        beta = math.atan(lr / p.wheelbase * math.tan(state.steer))
        v = max(state.vx + (accel + ex) * dt, 0.0)
        state.vy = v * math.tan(beta)
        state.r = v * math.cos(beta) * math.tan(state.steer) / p.wheelbase
        state.ax, state.ay = accel + ex, v * state.r
        state.vx = v
    else:
        fz_f = p.mass * GRAVITY * lr / p.wheelbase
        fz_r = p.mass * GRAVITY * lf / p.wheelbase
        alpha_f = math.atan2(state.vy + lf * state.r, state.vx) - state.steer
        alpha_r = math.atan2(state.vy - lr * state.r, state.vx)
        fy_f = -mu * fz_f * math.tanh(p.stiffness * fz_f * alpha_f / (mu * fz_f))
        fy_r = -mu * fz_r * math.tanh(p.stiffness * fz_r * alpha_r / (mu * fz_r))
        # Longitudinal force limited by what friction leaves (friction circle, rear drive).
        fx = p.mass * accel
        fx_max = math.sqrt(max((mu * fz_r) ** 2 - fy_r ** 2, 0.0)) + 1e-9
        fx = min(max(fx, -fx_max), fx_max)
        ax = (fx - fy_f * math.sin(state.steer)) / p.mass + ex
        ay = (fy_r + fy_f * math.cos(state.steer)) / p.mass + ey
        r_dot = (lf * fy_f * math.cos(state.steer) - lr * fy_r) / p.yaw_inertia
        state.ax, state.ay = ax, ay
        state.vx = max(state.vx + (ax + state.vy * state.r) * dt, 0.0)
        state.vy += (ay - state.vx * state.r) * dt
        state.r += r_dot * dt
    state.x += (cos_y * state.vx - sin_y * state.vy) * dt
    state.y += (sin_y * state.vx + cos_y * state.vy) * dt
    state.yaw = (state.yaw + state.r * dt + math.pi) % (2 * math.pi) - math.pi


def speed(state: RoverState) -> float:
    """Ground speed, m/s."""
    return math.hypot(state.vx, state.vy)
