"""Visual shifts (weather, light, road look, camera), generic over any ``SimWorld``.

Each shift changes the world at reset where MuJoCo can show it (lights, materials, fog and sky
through the render knobs, the camera mount) and adds what MuJoCo cannot draw in image space
(rain streaks and drops, lens glare, night-time headlight pools, sensor noise, blur, JPEG).
Anything a model lacks is skipped: a world without a ``road`` material gets no wet reflections,
one without ``road_style`` no road repaint, one without ``headlights`` no light pool at night.

Knobs read or set (``SimWorld.knobs``; see ``lnn_control.sim.scenario.SimWorld``):
``view_distance`` (read, m), ``sky_tint`` (set), ``road_style`` (replaced, rover), ``camera``
(read: the image camera's name), ``headlights`` (read: lamp geometry for night's ground pool),
``lamp`` (read: a lamp at the camera for night), ``fog_visibility`` (read, m); fog and rain
read ``SimWorld.depth`` (``needs_depth``) and fall back to a uniform haze without it, night's
``lamp`` lights nothing without it.
Severity tables are in each class; level 3 keeps the road visible to a person, 5 is near the
edge (see docs/simulation_rover.md and the gallery).
"""
from __future__ import annotations

from dataclasses import replace
import math

from lnn_control.sim.scenario import register_shift, Shift
import mujoco
import numpy as np
from PIL import Image, ImageFilter

BOTH = ('rover', 'quad')


# -- model helpers (each skips what the model lacks) --
def _id(model, kind: mujoco.mjtObj, name: str) -> int:
    return mujoco.mj_name2id(model, kind, name)


def _scale_daylight(model, gain: float, rgb=(1.0, 1.0, 1.0)) -> None:
    """Dim the non-headlight lights and MuJoCo's ambient headlight by ``gain``, tinted ``rgb``."""
    tint = np.asarray(rgb) * gain
    for i in range(model.nlight):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_LIGHT, i) or ''
        if not name.startswith('headlight'):
            model.light_diffuse[i] *= tint
            model.light_ambient[i] *= tint
    model.vis.headlight.ambient[:] = np.asarray(model.vis.headlight.ambient) * tint
    model.vis.headlight.diffuse[:] = np.asarray(model.vis.headlight.diffuse) * tint


def _sun_elevation(model, elevation: float, azimuth: float) -> None:
    """Point directional lights down at ``elevation`` rad above the horizon."""
    direction = (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth),
                 -math.sin(elevation))
    for i in range(model.nlight):
        if model.light_type[i] == mujoco.mjtLightType.mjLIGHT_DIRECTIONAL:
            model.light_dir[i] = direction


def _set_road_style(world, **changes) -> None:
    style = world.knobs.get('road_style')
    if style is not None:
        world.knobs['road_style'] = replace(style, **changes)


def _view(world) -> float:
    return float(world.knobs.get('view_distance', 20.0))


# -- image helpers (pure NumPy/Pillow; images are uint8 HxWx3) --
def _blend(image: np.ndarray, layer: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """``image (1 - alpha) + layer alpha``, in float, clipped back to uint8."""
    out = image.astype(np.float32) * (1 - alpha) + layer * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(sigma)))


def _radial(hw: tuple[int, int], cx: float, cy: float, radius: float) -> np.ndarray:
    """exp(-d^2 / r^2) around the pixel (cx, cy); sizes in pixels."""
    yy, xx = np.mgrid[0:hw[0], 0:hw[1]].astype(np.float32)
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (radius * radius))


# -- weather and light --
def _fog(image: np.ndarray, world, visibility: float, rgb) -> np.ndarray:
    """Exponential fog with meteorological visibility ``visibility`` m (5 % contrast left).

    Uses the frame's depth when the env provides it (``SimWorld.depth``), else a uniform haze
    as if everything were a third of ``view_distance`` away.
    """
    depth = world.depth if world.depth is not None else np.float32(_view(world) / 3)
    amount = 1.0 - np.exp(-3.0 * np.asarray(depth, np.float32) / visibility)
    if np.ndim(amount) == 2:
        amount = amount[..., None]
    return _blend(image, np.float32(255) * np.asarray(rgb, np.float32), amount)


@register_shift
class Fog(Shift):
    """Fog: exponential fog over the frame's depth, the sky greyed out.

    Severity -> visibility (x ``fog_visibility``, default ``view_distance``): 1 .55 .3 .17 .1
    (20, 11, 6, 3.4, 2 m for the 1/10 rover: at 3 the road fades out a few metres ahead; 60,
    33, 18, 10, 6 m for the quad: at 3 the target 5-9 m ahead keeps 22-43 % of its contrast).
    """

    name = 'fog'
    group = 'visual'
    vehicles = BOTH
    needs_depth = True
    colour = (0.78, 0.80, 0.82)

    def apply_world(self, world, rng) -> None:
        self._world = world
        self._visibility = self.level((1.0, 0.55, 0.3, 0.17, 0.1)) * float(
            world.knobs.get('fog_visibility', _view(world)))
        _scale_daylight(world.model, 1.0 - 0.06 * self.severity)

    def apply_image(self, image, rng):
        return _fog(image, self._world, self._visibility, self.colour)


@register_shift
class Rain(Shift):
    """Rain: wet dark road, grey sky, haze, streaks per frame and drops on the lens.

    The road gets a sheen where there is a ``road`` material; the drops stay for the episode.

    Severity -> streaks per 10k px 4 8 14 22 32; drops 2 4 6 9 12; light x .85 .72 .6 .5 .42;
    visibility (x view_distance) 3 2 1.3 .9 .65.
    """

    name = 'rain'
    group = 'visual'
    vehicles = BOTH
    needs_depth = True

    def apply_world(self, world, rng) -> None:
        s = self.severity
        model = world.model
        _scale_daylight(model, (0.85, 0.72, 0.6, 0.5, 0.42)[s - 1])
        world.knobs['sky_tint'] = (0.75 - 0.08 * s,) * 2 + (0.62 - 0.06 * s,)
        self._world = world
        self._visibility = _view(world) * (3.0, 2.0, 1.3, 0.9, 0.65)[s - 1]
        _set_road_style(world, wetness=min(1.0, 0.35 + 0.13 * s))
        road = _id(model, mujoco.mjtObj.mjOBJ_MATERIAL, 'road')
        if road >= 0:  # a sheen, not mirror reflectance: that renders the scene twice
            model.mat_specular[road] = 0.2 + 0.1 * s
            model.mat_shininess[road] = 0.6
        n_drops = (2, 4, 6, 9, 12)[s - 1]
        # Drops in normalised image coordinates: (x, y, radius as a fraction of the width).
        self._drops = np.column_stack([rng.uniform(0, 1, n_drops), rng.uniform(0, 1, n_drops),
                                       rng.uniform(0.02, 0.05, n_drops)])
        self._drop_alpha = None

    def _alpha(self, hw: tuple[int, int]) -> np.ndarray:
        if self._drop_alpha is None or self._drop_alpha.shape[:2] != hw:
            alpha = np.zeros(hw, np.float32)
            for x, y, r in self._drops:
                radius = max(r * hw[1], 1.5)
                alpha = np.maximum(alpha, np.clip(
                    2.5 * _radial(hw, x * hw[1], y * hw[0], radius) - 0.6, 0, 1))
            self._drop_alpha = alpha[..., None]
        return self._drop_alpha

    def apply_image(self, image, rng):
        h, w = image.shape[:2]
        s = self.severity
        # Streaks: random seeds smeared along a slanted line (motion blur of falling drops).
        count = int((4, 8, 14, 22, 32)[s - 1] * h * w / 10_000)
        layer = np.zeros((h, w), np.float32)
        length = max(3, h // 8)
        ys = rng.integers(0, h, count)
        xs = rng.integers(0, w, count)
        for t in range(length):
            layer[np.clip(ys + t, 0, h - 1), np.clip(xs + t // 3, 0, w - 1)] = 1.0
        streak_alpha = (0.25 + 0.05 * s) * layer[..., None]
        out = _fog(image, self._world, self._visibility, (0.55, 0.57, 0.6))
        out = _blend(out, np.float32(200), streak_alpha)
        # Drops: a blurred, brightened view of the scene inside each drop.
        drops = _gaussian_blur(out, max(1.0, w / 60)).astype(np.float32) * 1.1 + 12
        return _blend(out, drops, self._alpha((h, w)))


@register_shift
class Night(Shift):
    """Night: dark sky and ambient, the vehicle's own lights, low-light sensor noise.

    Done in image space on the lit frame, because MuJoCo's per-vertex lighting cannot draw a
    spotlight pool on a coarse ground plane. Two kinds of light, each used if its knob is set:
    ``knobs['headlights']`` (``height`` m, ``pitch`` rad, ``fovy`` deg, ``reach`` m) lights a
    pool on the ground from the lamp geometry (rover); ``knobs['lamp']`` (``reach`` m, ``beam``
    rad) is a lamp at the image camera pointing along it (quad), lighting whatever the frame's
    depth puts in its cone: fully within ``reach``, falling as 1/r^2 beyond, with a soft edge
    ``beam`` rad off the axis. Without either only the ambient light remains.
    Severity -> ambient .16 .1 .065 .045 .03; beam 1 .95 .85 .72 .6;
    noise .012 .017 .022 .03 .04.
    """

    name = 'night'
    group = 'visual'
    vehicles = BOTH
    needs_depth = True  # for the lamp; without ``knobs['lamp']`` the depth is not read

    def apply_world(self, world, rng) -> None:
        self._world = world
        self._lamps = world.knobs.get('headlights')
        self._lamp = world.knobs.get('lamp')
        self._fovy = None
        if self._lamp and world.model.ncam > 0:
            cam = _id(world.model, mujoco.mjtObj.mjOBJ_CAMERA, world.knobs.get('camera', ''))
            self._fovy = float(world.model.cam_fovy[max(cam, 0)])
        self._pool = None
        self._cone = None

    def _beam(self, hw: tuple[int, int]) -> np.ndarray:
        if self._pool is not None and self._pool.shape[:2] == hw:
            return self._pool
        h, w = hw
        pool = np.zeros(hw, np.float32)
        if self._lamps:
            lamp = self._lamps
            f = (h / 2) / math.tan(math.radians(lamp['fovy']) / 2)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            xc, yc = (xx - w / 2 + 0.5) / f, -(yy - h / 2 + 0.5) / f
            p = lamp['pitch']
            fwd = math.cos(p) + yc * math.sin(p)
            down = math.sin(p) - yc * math.cos(p)
            ground = down > 1e-3
            t = np.where(ground, lamp['height'] / np.maximum(down, 1e-3), 0.0)
            gx, gy = t * fwd, -t * xc
            dist = np.hypot(gx, gy)
            angle = np.arctan2(np.abs(gy), gx)
            spot = np.exp(-(angle / 0.5) ** 4)
            near = np.clip((0.55 * lamp['reach'] / np.maximum(dist, 1e-3)) ** 2, 0, 1)
            pool = np.where(ground, spot * near, 0.0).astype(np.float32)
        self._pool = pool[..., None]
        return self._pool

    def _lamp_light(self, hw: tuple[int, int]) -> np.ndarray | float:
        """Return the camera lamp's light per pixel from this frame's depth.

        It is 0 without a lamp or without depth.
        """
        depth = self._world.depth
        if self._fovy is None or depth is None or depth.shape != hw:
            return 0.0
        if self._cone is None or self._cone[0].shape != hw:
            h, w = hw
            f = (h / 2) / math.tan(math.radians(self._fovy) / 2)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            off = np.hypot((xx - w / 2 + 0.5) / f, (yy - h / 2 + 0.5) / f)  # tan(off-axis angle)
            spot = np.exp(-(np.arctan(off) / self._lamp['beam']) ** 4)
            self._cone = (spot.astype(np.float32), np.sqrt(1 + off * off).astype(np.float32))
        spot, ray = self._cone  # ray: range / depth along the optical axis
        reach = np.float32(self._lamp['reach'])
        near = np.minimum((reach / np.maximum(depth * ray, 1e-3)) ** 2, 1.0)
        return (spot * near)[..., None]

    def apply_image(self, image, rng):
        s = self.severity
        ambient = (0.16, 0.1, 0.065, 0.045, 0.03)[s - 1]
        beam = (1.0, 0.95, 0.85, 0.72, 0.6)[s - 1]
        lit = self._beam(image.shape[:2]) + self._lamp_light(image.shape[:2])
        light = ambient * np.array([0.75, 0.85, 1.15], np.float32) + beam * lit * np.array(
            [1.0, 0.96, 0.85], np.float32)
        noise = rng.normal(0.0, (0.012, 0.017, 0.022, 0.03, 0.04)[s - 1] * 255, image.shape)
        return np.clip(image * light + noise, 0, 255).astype(np.uint8)


@register_shift
class Glare(Shift):
    """Low sun ahead: a grazing sun dims the ground and glare washes out the image.

    In image space: a bloom, a flare streak and veiling glare that washes out contrast. The
    sun sits near the top of the frame.

    Severity -> bloom .35 .55 .75 .9 1.0; veil .08 .15 .25 .38 .5; elevation 25 18 12 8 5 deg.
    """

    name = 'glare'
    group = 'visual'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        elevation = math.radians((25, 18, 12, 8, 5)[self.severity - 1])
        _sun_elevation(world.model, elevation, rng.uniform(-math.pi, math.pi))
        self._sun = (rng.uniform(0.2, 0.8), rng.uniform(0.0, 0.15))
        self._flare = None

    def _layer(self, hw: tuple[int, int]) -> np.ndarray:
        if self._flare is None or self._flare.shape[:2] != hw:
            h, w = hw
            cx, cy = self._sun[0] * w, self._sun[1] * h
            core = _radial(hw, cx, cy, 0.08 * w)
            halo = _radial(hw, cx, cy, 0.35 * w)
            streak = np.exp(-((np.arange(h, dtype=np.float32)[:, None] - cy) / (0.03 * h)) ** 2)
            streak = streak * np.exp(-np.abs(np.arange(w, dtype=np.float32) - cx) / (0.6 * w))
            self._flare = np.clip(core + 0.6 * halo + 0.5 * streak, 0, 1)[..., None]
        return self._flare

    def apply_image(self, image, rng):
        s = self.severity
        bloom = (0.35, 0.55, 0.75, 0.9, 1.0)[s - 1]
        veil = (0.08, 0.15, 0.25, 0.38, 0.5)[s - 1]
        warm = np.array([255, 240, 205], np.float32)
        out = image.astype(np.float32) * (1 - veil) + warm * veil
        out = out + bloom * self._layer(image.shape[:2]) * warm
        return np.clip(out, 0, 255).astype(np.uint8)


@register_shift
class Dusk(Shift):
    """Dusk: a low, orange sun, dimmer ambient and a darkening orange-grey sky.

    Severity -> light x .9 .8 .7 .58 .46; sun elevation 50 40 30 22 15 deg.
    """

    name = 'dusk'
    group = 'visual'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        s = self.severity
        gain = (0.9, 0.8, 0.7, 0.58, 0.46)[s - 1]
        _scale_daylight(world.model, gain, (1.0, 0.78, 0.58))
        _sun_elevation(world.model, math.radians((50, 40, 30, 22, 15)[s - 1]),
                       rng.uniform(-math.pi, math.pi))
        world.knobs['sky_tint'] = (1.25 * gain + 0.1, 0.8 * gain, 0.55 * gain)

    def apply_image(self, image, rng):
        noise = rng.normal(0.0, 1.5 * self.severity, image.shape)
        return np.clip(image + noise, 0, 255).astype(np.uint8)


# -- road and camera --
_SURFACES = (  # (asphalt RGB, texture amplitude): worn asphalt, patched, concrete, gravel, dirt
    ((112, 110, 106), 0.3), ((128, 122, 112), 0.5), ((150, 148, 140), 0.65),
    ((168, 152, 118), 0.85), ((176, 168, 110), 1.0))


@register_shift
class RoadSurface(Shift):
    """Road colour and texture, further from the training asphalt at each level.

    Worn asphalt, patched, concrete, gravel, rough dirt. Reads/replaces
    ``knobs['road_style']``.
    """

    name = 'road_surface'
    group = 'visual'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        rgb, texture = _SURFACES[self.severity - 1]
        _set_road_style(world, asphalt=rgb, texture=texture)


@register_shift
class WornMarkings(Shift):
    """Lane markings worn away. Severity -> fraction worn .3 .5 .7 .85 .95."""

    name = 'worn_markings'
    group = 'visual'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        _set_road_style(world, marking_wear=self.level((0.3, 0.5, 0.7, 0.85, 0.95)))


@register_shift
class Shadows(Shift):
    """Shadows of trees and poles across the road.

    Severity -> bands per lap 10 20 35 50 70; darkness .3 .42 .55 .66 .75.
    """

    name = 'shadows'
    group = 'visual'
    vehicles = ('rover',)

    def apply_world(self, world, rng) -> None:
        s = self.severity
        _set_road_style(world, shadows=(10, 20, 35, 50, 70)[s - 1],
                        shadow_depth=(0.3, 0.42, 0.55, 0.66, 0.75)[s - 1])


@register_shift
class CameraNoise(Shift):
    """Gaussian pixel noise (ImageNet-C style). Severity -> sigma .04 .08 .13 .2 .3 (of 255)."""

    name = 'camera_noise'
    group = 'visual'
    vehicles = BOTH

    def apply_image(self, image, rng):
        sigma = self.level((0.04, 0.08, 0.13, 0.2, 0.3)) * 255
        return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).astype(np.uint8)


@register_shift
class CameraBlur(Shift):
    """Defocus blur. Severity -> Gaussian sigma .5 .9 1.4 2.0 2.8 px per 100 px of width."""

    name = 'camera_blur'
    group = 'visual'
    vehicles = BOTH

    def apply_image(self, image, rng):
        sigma = self.level((0.5, 0.9, 1.4, 2.0, 2.8)) * image.shape[1] / 100
        return _gaussian_blur(image, sigma)


@register_shift
class Jpeg(Shift):
    """JPEG compression artefacts. Severity -> quality 30 18 12 8 5."""

    name = 'jpeg'
    group = 'visual'
    vehicles = BOTH

    def apply_image(self, image, rng):
        import io

        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format='JPEG',
                                    quality=int(self.level((30, 18, 12, 8, 5))))
        buffer.seek(0)
        return np.asarray(Image.open(buffer).convert('RGB'))


@register_shift
class CameraMount(Shift):
    """Camera mount knocked out of alignment: pitch and roll offsets with random signs.

    Severity -> pitch 2 4 6 9 12 deg, roll 2 4 7 10 14 deg. Rotates ``knobs['camera']``
    (camera 0 without it).
    """

    name = 'camera_mount'
    group = 'visual'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        model = world.model
        if model.ncam == 0:
            return
        cam = _id(model, mujoco.mjtObj.mjOBJ_CAMERA, world.knobs.get('camera', ''))
        cam = max(cam, 0)
        s = self.severity
        pitch = math.radians((2, 4, 6, 9, 12)[s - 1]) * rng.choice((-1.0, 1.0))
        roll = math.radians((2, 4, 7, 10, 14)[s - 1]) * rng.choice((-1.0, 1.0))
        # Camera frame: x right, y up, looking along -z. Pitch about x, roll about z.
        q_pitch = np.array([math.cos(pitch / 2), math.sin(pitch / 2), 0.0, 0.0])
        q_roll = np.array([math.cos(roll / 2), 0.0, 0.0, math.sin(roll / 2)])
        offset = np.zeros(4)
        mujoco.mju_mulQuat(offset, q_pitch, q_roll)
        result = np.zeros(4)
        mujoco.mju_mulQuat(result, np.array(model.cam_quat[cam]), offset)
        model.cam_quat[cam] = result
