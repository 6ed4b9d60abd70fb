"""The rover's MuJoCo world: MJCF built in code, the painted ground texture and the scenery.

The model is compiled once per env. A new course is a new ground texture (road, kerb and lane
markings painted with Pillow, uploaded with ``mjr_uploadTexture``) and new scenery positions
(``geom_pos`` of static geoms): nothing is recompiled between episodes. The rover is a mocap
body placed where the bicycle model says.

Named elements shifts may use: material ``road`` (the painted ground), texture ``ground``, the
directional light ``sun``, cameras ``front`` and ``chase``, and the rover body ``rover``.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from lnn_control.sim.rover_model import RoverParams
from lnn_control.sim.rover_track import EXTENT, Track, TrackConfig
import mujoco
import numpy as np
from PIL import Image, ImageDraw

TEXTURE_SIZE = 2048
N_TREES, N_POSTS, N_BUILDINGS = 24, 40, 8
GRASS_RGB = (78, 110, 52)
ASPHALT_RGB = (92, 92, 96)
MARKING_RGB = (235, 235, 228)


@dataclass(frozen=True)
class RoadStyle:
    """How the painted ground looks; shifts change it through ``SimWorld.knobs['road_style']``.

    Attributes:
        asphalt: road base colour, RGB 0-255.
        texture: amplitude of the road's grain and patches, 0 (smooth) to 1 (rough, patched).
        marking_wear: fraction of the lane markings worn away, 0-1.
        shadows: number of shadow bands across the road. shadow_depth: their darkness, 0-1.
        wetness: 0 (dry) to 1 (soaked): darker road and markings.
    """

    asphalt: tuple[int, int, int] = ASPHALT_RGB
    texture: float = 0.15
    marking_wear: float = 0.0
    shadows: int = 0
    shadow_depth: float = 0.0
    wetness: float = 0.0

    def __post_init__(self) -> None:
        for name in ('texture', 'marking_wear', 'shadow_depth', 'wetness'):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'RoadStyle.{name}: expected a number in [0, 1], got {value!r}')
        if self.shadows < 0:
            raise ValueError(f'RoadStyle.shadows: expected >= 0, got {self.shadows!r}')


def plane_half_size(track_config: TrackConfig) -> float:
    """Half-side of the painted square that holds every course of this length."""
    return EXTENT * track_config.length / (2 * math.pi) + 3 * track_config.road_width


def build_model(params: RoverParams, track_config: TrackConfig,
                buffer_hw: tuple[int, int]) -> mujoco.MjModel:
    """Compile the world for this vehicle and course size; ``buffer_hw`` bounds render sizes."""
    k = params.scale / 0.1
    half = plane_half_size(track_config)
    lf = params.cg_front * params.wheelbase
    wheel_r = 0.05 * k
    body_h = 0.05 * k
    w2 = params.width / 2
    cam_x = lf + 0.03 * k
    pitch = params.camera_pitch
    cam_axes = f'0 -1 0 {math.sin(pitch):.5f} 0 {math.cos(pitch):.5f}'
    chase_pitch = 0.35
    chase_axes = f'0 -1 0 {math.sin(chase_pitch):.5f} 0 {math.cos(chase_pitch):.5f}'
    scenery = []
    for i in range(N_TREES):
        scenery.append(f'<geom name="trunk{i}" type="cylinder" size="{0.06 * k} {0.4 * k}" '
                       f'pos="0 0 {-5 * k}" rgba=".35 .25 .15 1" contype="0" conaffinity="0"/>')
        scenery.append(f'<geom name="crown{i}" type="ellipsoid" '
                       f'size="{0.45 * k} {0.45 * k} {0.6 * k}" pos="0 0 {-5 * k}" '
                       f'rgba=".16 .38 .14 1" contype="0" conaffinity="0"/>')
    for i in range(N_POSTS):
        scenery.append(f'<geom name="post{i}" type="box" size="{0.02 * k} {0.02 * k} {0.15 * k}"'
                       f' pos="0 0 {-5 * k}" rgba=".95 .95 .9 1" contype="0" conaffinity="0"/>')
    for i in range(N_BUILDINGS):
        scenery.append(f'<geom name="building{i}" type="box" size="{1.0 * k} {1.0 * k} {1.0 * k}"'
                       f' pos="0 0 {-5 * k}" rgba=".7 .6 .5 1" contype="0" conaffinity="0"/>')
    wheels = []
    for name, x, y in (('fl', lf, w2), ('fr', lf, -w2), ('rl', lf - params.wheelbase, w2),
                       ('rr', lf - params.wheelbase, -w2)):
        wheels.append(f'<geom name="wheel_{name}" type="cylinder" size="{wheel_r} {0.02 * k}" '
                      f'pos="{x} {y} {wheel_r}" euler="1.5708 0 0" rgba=".1 .1 .1 1"/>')
    xml = f"""
<mujoco model="rover_lane">
  <statistic extent="{half}" center="0 0 0"/>
  <visual>
    <global offwidth="{buffer_hw[1]}" offheight="{buffer_hw[0]}" fovy="{params.camera_fovy}"/>
    <quality shadowsize="0" offsamples="0" numslices="10" numstacks="5" numquads="1"/>
    <map znear="{0.01 * k / half:.6f}" zfar="{6.0}" fogstart="3" fogend="5"/>
    <headlight ambient=".35 .35 .35" diffuse=".35 .35 .35" specular="0 0 0"/>
    <rgba fog=".75 .78 .8 1"/>
  </visual>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1=".45 .62 .85" rgb2=".85 .9 .95"
             width="128" height="128"/>
    <texture name="ground" type="2d" builtin="flat" rgb1=".3 .4 .2"
             width="{TEXTURE_SIZE}" height="{TEXTURE_SIZE}"/>
    <material name="road" texture="ground" texrepeat="1 1" specular="0" shininess="0"
              reflectance="0"/>
    <material name="grass" rgba="{GRASS_RGB[0] / 255:.3f} {GRASS_RGB[1] / 255:.3f}
              {GRASS_RGB[2] / 255:.3f} 1" specular="0"/>
  </asset>
  <worldbody>
    <light name="sun" directional="true" pos="0 0 {20 * k}" dir="0.3 0.2 -1" diffuse=".7 .7 .7"
           specular="0 0 0" castshadow="false"/>
    <geom name="ground" type="plane" size="{half} {half} {2.0 * k}" material="road"/>
    <geom name="grass" type="plane" size="{40 * half} {40 * half} {40 * half}"
          pos="0 0 {-0.002 * k}" material="grass"/>
    {''.join(scenery)}
    <body name="rover" mocap="true">
      <geom name="chassis" type="box" size="{params.wheelbase * 0.7} {w2 * 0.8} {body_h / 2}"
            pos="{lf - params.wheelbase / 2} 0 {wheel_r + body_h / 2}" rgba=".8 .15 .1 1"/>
      {''.join(wheels)}
      <camera name="front" pos="{cam_x} 0 {params.camera_height}" xyaxes="{cam_axes}"
              fovy="{params.camera_fovy}"/>
      <camera name="chase" pos="{-1.6 * k} 0 {0.75 * k}" xyaxes="{chase_axes}" fovy="60"/>
    </body>
  </worldbody>
</mujoco>"""
    return mujoco.MjModel.from_xml_string(xml)


class GroundPainter:
    """Paints a course onto the ground texture; the grain images are made once per env."""

    def __init__(self, track_config: TrackConfig, size: int = TEXTURE_SIZE, seed: int = 0) -> None:
        self.size = size
        self.half = plane_half_size(track_config)
        self.config = track_config
        rng = np.random.default_rng(seed)
        self._grass = self._grain(rng, GRASS_RGB, 14.0, 64)
        self._grain_fine = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
        self._grain_coarse = _smooth_noise(rng, size, 48)

    def _grain(self, rng: np.random.Generator, rgb, amplitude: float, cells: int) -> np.ndarray:
        noise = (_smooth_noise(rng, self.size, cells) * amplitude
                 + rng.normal(0, amplitude * 0.5, (self.size, self.size)))
        return np.clip(np.asarray(rgb, np.float32) + noise[..., None], 0, 255).astype(np.uint8)

    def _to_px(self, xy: np.ndarray) -> list[tuple[float, float]]:
        u = (xy[:, 0] + self.half) / (2 * self.half) * self.size
        v = (self.half - xy[:, 1]) / (2 * self.half) * self.size
        return list(zip(u.tolist(), v.tolist(), strict=True))

    def _band(self, track: Track, centre: float, width_m: float) -> Image.Image:
        """Mask of the closed band ``centre +- width_m/2`` metres left of the centre line."""
        inner = Image.new('L', (self.size, self.size), 0)
        outer = Image.new('L', (self.size, self.size), 0)
        for img, offset in ((inner, centre - width_m / 2), (outer, centre + width_m / 2)):
            ImageDraw.Draw(img).polygon(self._to_px(track.offset_line(offset)), fill=255)
        a, b = np.asarray(inner, np.int16), np.asarray(outer, np.int16)
        return Image.fromarray(np.abs(a - b).astype(np.uint8))

    def paint(self, track: Track, style: RoadStyle, rng: np.random.Generator) -> np.ndarray:
        """Return the (size, size, 3) uint8 ground texture for ``track`` in ``style``.

        ``rng`` draws the wear pattern and the shadow bands (the scenario's generator).
        """
        cfg = self.config
        road = self._band(track, 0.0, cfg.road_width)
        edge = cfg.road_width / 2 - 0.06 * cfg.road_width
        marks = np.maximum(np.asarray(self._band(track, edge, 0.05 * cfg.road_width)),
                           np.asarray(self._band(track, -edge, 0.05 * cfg.road_width)))
        marks = Image.fromarray(marks)
        draw = ImageDraw.Draw(marks)
        dash = 0.3 * cfg.road_width
        on = (track.s // dash) % 2 == 0
        px = max(1, round(0.04 * cfg.road_width / (2 * self.half) * self.size))
        starts = np.flatnonzero(on & ~np.roll(on, 1))
        ends = np.flatnonzero(on & ~np.roll(on, -1))
        if len(ends) and len(starts) and ends[0] < starts[0]:
            ends = np.roll(ends, -1)  # the first dash wraps over the start line: pair it last
        for a, b in zip(starts, ends, strict=False):
            if b > a:
                draw.line(self._to_px(track.points[a:b + 1]), fill=255, width=px)
        # Blend only where the road is (a few percent of the texture): resets stay fast.
        on_road = np.flatnonzero(np.asarray(road).reshape(-1))
        road_a = np.asarray(road).reshape(-1)[on_road, None] / np.float32(255.0)
        mark_a = np.asarray(marks).reshape(-1)[on_road, None] / np.float32(255.0)
        if style.marking_wear > 0:
            wear = (_smooth_noise(rng, self.size, 256).reshape(-1)[on_road]
                    + 0.6 * rng.normal(0, 1, len(on_road)).astype(np.float32))
            cut = np.quantile(wear, style.marking_wear)
            mark_a *= np.clip((wear - cut) * 3.0, 0.0, 1.0)[:, None]
        grain = style.texture * (18.0 * self._grain_fine.reshape(-1)[on_road]
                                 + 40.0 * self._grain_coarse.reshape(-1)[on_road])
        asphalt = np.asarray(style.asphalt, np.float32) + grain[:, None]
        road_rgb = asphalt * (1 - mark_a) + np.asarray(MARKING_RGB, np.float32) * mark_a
        road_rgb *= 1.0 - 0.45 * style.wetness
        img = self._grass.reshape(-1, 3).copy()
        blend = img[on_road] * (1 - road_a) + road_rgb * road_a
        img[on_road] = np.clip(blend, 0, 255).astype(np.uint8)
        img = img.reshape(self.size, self.size, 3)
        if style.shadows:
            shade = self._shadow_mask(track, style, rng)
            dark = shade < 1.0
            img[dark] = (img[dark] * shade[dark, None]).astype(np.uint8)
        return img

    def _shadow_mask(self, track: Track, style: RoadStyle, rng: np.random.Generator):
        mask = Image.new('L', (self.size, self.size), 0)
        draw = ImageDraw.Draw(mask)
        w = self.config.road_width
        start = rng.uniform(0, 1)
        for i in range(style.shadows):
            # Golden-ratio sequence: any first n bands spread evenly and more bands add to them.
            arc = (start + i * 0.6180339887) % 1.0 * track.length
            x, y, heading = track.pose_at(arc)
            angle = heading + math.pi / 2 + rng.uniform(-0.6, 0.6)
            half_len, half_w = 1.2 * w, rng.uniform(0.08, 0.4) * w
            c, s = math.cos(angle), math.sin(angle)
            corners = np.array([[x + c * a - s * b, y + s * a + c * b]
                                for a, b in ((-half_len, -half_w), (half_len, -half_w),
                                             (half_len, half_w), (-half_len, half_w))])
            draw.polygon(self._to_px(corners), fill=255)
        return 1.0 - style.shadow_depth * np.asarray(mask, np.float32) / 255.0


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise: a coarse random grid, bicubically upsampled."""
    coarse = rng.normal(0, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode='F').resize((size, size), Image.BICUBIC))


def place_scenery(model: mujoco.MjModel, track: Track) -> None:
    """Put the trees, posts and buildings beside ``track`` (drawn from the track's seed)."""
    rng = np.random.default_rng(track.seed + 7_919)
    w = track.config.road_width
    k = w / 1.0
    half = plane_half_size(track.config)
    kinds = ([('trunk', 'crown', i, (1.5, 4.0), 1.4) for i in range(N_TREES)]
             + [('post', None, i, (0.2, 0.35), 0.25) for i in range(N_POSTS)]
             + [('building', None, i, (3.0, 6.0), 3.0) for i in range(N_BUILDINGS)])
    for name, extra, i, (near, far), clearance in kinds:
        for _ in range(50):
            x, y, heading = track.pose_at(rng.uniform(0, track.length))
            side = rng.choice((-1.0, 1.0))
            offset = side * (w / 2 + rng.uniform(near, far) * k)
            px, py = x - math.sin(heading) * offset, y + math.cos(heading) * offset
            far_enough = track.distance_to(np.array([[px, py]]))[0] >= w / 2 + clearance * k * 0.5
            if far_enough and max(abs(px), abs(py)) < 4 * half:
                break
        gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f'{name}{i}')
        size = model.geom_size[gid]
        if name == 'building':
            size[:] = rng.uniform(0.6, 1.5, 3) * k
            model.geom_rgba[gid, :3] = rng.uniform(0.35, 0.85, 3)
            model.geom_quat[gid] = (math.cos(heading / 2), 0, 0, math.sin(heading / 2))
        model.geom_pos[gid] = (px, py, size[2] if name != 'trunk' else size[1])
        if extra is not None:
            cid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f'{extra}{i}')
            model.geom_pos[cid] = (px, py, 2 * size[1] + model.geom_size[cid, 2] * 0.8)
