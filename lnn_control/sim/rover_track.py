"""Seedable closed road courses: centre line, curvature and the projection a lap counter needs.

Pure NumPy (no MuJoCo), so the geometry is tested and reused by the expert and the metrics alone.

A course is a star-shaped polar curve ``r(theta) = R0 (1 + sum_k a_k cos(k theta + phi_k))`` with
harmonics k = 2..6. Star-shaped curves never cross themselves; the harmonics give straights,
gentle and tight bends and S-curves (where the curvature changes sign). Each seed draws a target
tightest radius between ``min_radius`` and ``2 * min_radius`` and the amplitudes are scaled until
the course meets it, so every course has at least one bend that is tight for its seed, and no
part of the road comes closer than ``2.5`` road widths to a non-adjacent part.

Track seeds: ``TRAIN_SEEDS`` (0-9999) for training and ``EVAL_SEEDS`` (100000-100999) held out for
evaluation; the split is a convention the env enforces with ``track_split``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
import math

import numpy as np

TRAIN_SEEDS = range(0, 10_000)
EVAL_SEEDS = range(100_000, 101_000)
SPLITS = {'train': TRAIN_SEEDS, 'eval': EVAL_SEEDS}

_HARMONICS = np.arange(2, 7)
_DENSE = 4096
#: Every course fits in the square of half-side ``EXTENT * length / (2 pi)`` around the origin.
EXTENT = 1.45


@dataclass(frozen=True)
class TrackConfig:
    """Course geometry, in metres at the chosen vehicle scale.

    Attributes:
        length: nominal lap length (the base circle's circumference).
        road_width: kerb-to-kerb width; the lane is the whole road (edge lines both sides).
        min_radius: tightest bend any course may have.
        spacing: distance between centre-line samples.
    """

    length: float = 60.0
    road_width: float = 1.0
    min_radius: float = 1.5
    spacing: float = 0.05

    def __post_init__(self) -> None:
        for name in ('length', 'road_width', 'min_radius', 'spacing'):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f'TrackConfig.{name}: expected a positive number, got {value!r}')
        if self.length < 4 * math.pi * self.min_radius:
            bound = 4 * math.pi * self.min_radius
            raise ValueError(f'TrackConfig.length: expected >= {bound:.1f} (4*pi*min_radius), '
                             f'got {self.length}')
        if self.spacing > self.road_width / 4:
            raise ValueError(f'TrackConfig.spacing: expected <= road_width/4 '
                             f'({self.road_width / 4}), got {self.spacing}')

    @classmethod
    def at_scale(cls, scale: float, length: float | None = None) -> TrackConfig:
        """Return the default course for a vehicle at ``scale`` of full size (0.1 = 1/10 rover)."""
        k = scale / 0.1
        return cls(length=60.0 * k if length is None else length, road_width=1.0 * k,
                   min_radius=1.5 * k, spacing=0.05 * k)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrackConfig:
        return cls(**d)


@dataclass(frozen=True)
class Projection:
    """Where a point lies relative to the centre line.

    Attributes:
        index: nearest sample index (use as the next search hint).
        s: arc length of the foot point within the lap, metres.
        lateral: signed distance, positive when the point is left of the driving direction.
        heading: the centre line's heading at the foot point, rad (ENU, from +x).
        curvature: signed curvature there, 1/m (positive = bending left).
    """

    index: int
    s: float
    lateral: float
    heading: float
    curvature: float


class Track:
    """A closed centre line sampled every ``config.spacing`` metres, counter-clockwise or not.

    Attributes:
        points: (N, 2) centre-line samples, metres.
        heading: (N,) tangent heading, rad.
        curvature: (N,) signed curvature, 1/m.
        s: (N,) arc length of each sample from the start line.
        length: lap length, metres.
    """

    def __init__(self, points: np.ndarray, curvature: np.ndarray, config: TrackConfig,
                 seed: int) -> None:
        self.points = points
        self.curvature = curvature
        self.config = config
        self.seed = seed
        seg = np.roll(points, -1, axis=0) - points
        self.heading = np.arctan2(seg[:, 1], seg[:, 0])
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        self.s = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
        self.length = float(seg_len.sum())
        self._seg = seg
        self._seg_len2 = seg_len ** 2

    def __len__(self) -> int:
        return len(self.points)

    def project(self, x: float, y: float, hint: int | None = None, window: int = 40) -> Projection:
        """Project a point on the centre line; ``hint`` (last index) makes it a local search."""
        n = len(self.points)
        if hint is None:
            idx = np.arange(n)
        else:
            idx = np.arange(hint - window, hint + window + 1) % n
        d = self.points[idx] - (x, y)
        i = int(idx[np.argmin(d[:, 0] ** 2 + d[:, 1] ** 2)])
        # Refine on the segment after or before i, whichever holds the foot point.
        best = None
        for j in (i, (i - 1) % n):
            t = ((x - self.points[j, 0]) * self._seg[j, 0]
                 + (y - self.points[j, 1]) * self._seg[j, 1]) / self._seg_len2[j]
            t = min(max(t, 0.0), 1.0)
            fx = self.points[j, 0] + t * self._seg[j, 0]
            fy = self.points[j, 1] + t * self._seg[j, 1]
            d2 = (x - fx) ** 2 + (y - fy) ** 2
            if best is None or d2 < best[0]:
                best = (d2, j, t)
        _, j, t = best
        h = float(self.heading[j])
        cross = math.cos(h) * (y - self.points[j, 1]) - math.sin(h) * (x - self.points[j, 0])
        s = (self.s[j] + t * math.sqrt(self._seg_len2[j])) % self.length
        k = float(self.curvature[j] * (1 - t) + self.curvature[(j + 1) % n] * t)
        return Projection(index=i, s=float(s), lateral=float(cross), heading=h, curvature=k)

    def curvature_ahead(self, index: int, distance: float) -> np.ndarray:
        """Curvature samples from ``index`` over the next ``distance`` metres (for look-ahead)."""
        count = max(1, int(distance / self.config.spacing))
        return self.curvature[(index + np.arange(count)) % len(self.points)]

    def pose_at(self, s: float) -> tuple[float, float, float]:
        """(x, y, heading) of the centre line at arc length ``s`` (wraps around)."""
        i = int(np.searchsorted(self.s, s % self.length, side='right') - 1)
        t = (s % self.length - self.s[i]) / math.sqrt(self._seg_len2[i])
        p = self.points[i] + t * self._seg[i]
        return float(p[0]), float(p[1]), float(self.heading[i])

    def offset_line(self, offset: float) -> np.ndarray:
        """(N, 2) points ``offset`` metres left of the centre line (kerbs, edge markings)."""
        normal = np.stack([-np.sin(self.heading), np.cos(self.heading)], axis=1)
        return self.points + offset * normal

    def distance_to(self, xy: np.ndarray) -> np.ndarray:
        """Distance from each of (M, 2) points to the nearest centre-line sample."""
        d = xy[:, None, :] - self.points[None, ::4, :]
        return np.sqrt((d ** 2).sum(-1).min(axis=1))


def _polar(theta: np.ndarray, r0: float, amp: np.ndarray, phase: np.ndarray):
    """r, r', r'' of the polar curve at ``theta``."""
    arg = _HARMONICS[:, None] * theta[None, :] + phase[:, None]
    a = amp[:, None]
    k = _HARMONICS[:, None]
    r = r0 * (1 + (a * np.cos(arg)).sum(0))
    dr = r0 * (-(a * k * np.sin(arg)).sum(0))
    ddr = r0 * (-(a * k * k * np.cos(arg)).sum(0))
    return r, dr, ddr


def _min_radius(theta: np.ndarray, r0: float, amp: np.ndarray, phase: np.ndarray) -> float:
    r, dr, ddr = _polar(theta, r0, amp, phase)
    if r.min() <= 0.2 * r0:
        return 0.0
    kappa = (r * r + 2 * dr * dr - r * ddr) / (r * r + dr * dr) ** 1.5
    return float(1.0 / np.abs(kappa).max())


def _resample(theta, r0, amp, phase, spacing):
    r, dr, ddr = _polar(theta, r0, amp, phase)
    xy = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    kappa = (r * r + 2 * dr * dr - r * ddr) / (r * r + dr * dr) ** 1.5
    closed = np.vstack([xy, xy[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = int(round(s[-1] / spacing))
    s_new = np.linspace(0.0, s[-1], n, endpoint=False)
    pts = np.stack([np.interp(s_new, s, closed[:, 0]), np.interp(s_new, s, closed[:, 1])], axis=1)
    k_new = np.interp(s_new, s, np.concatenate([kappa, kappa[:1]]))
    return pts, k_new


def _too_close(points: np.ndarray, road_width: float) -> bool:
    """Whether two non-adjacent parts of the road come within 2.5 road widths."""
    sub = points[::8]
    n = len(sub)
    d = np.sqrt(((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1))
    step = np.hypot(*(sub[1] - sub[0]))
    gap = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    arc = np.minimum(gap, n - gap) * step
    far = arc > 4 * road_width
    return bool((d[far] < 2.5 * road_width).any())


def generate_track(seed: int, config: TrackConfig | None = None) -> Track:
    """Build the course for ``seed``: the same seed always gives the same course."""
    config = config or TrackConfig()
    rng = np.random.default_rng(seed)
    r0 = config.length / (2 * math.pi)
    theta = np.linspace(0.0, 2 * math.pi, _DENSE, endpoint=False)
    amp = rng.uniform(0.2, 1.0, len(_HARMONICS)) / _HARMONICS ** 1.2
    amp *= rng.random(len(_HARMONICS)) < 0.8  # some harmonics off: long straights appear
    amp[rng.integers(len(_HARMONICS))] = max(amp.max(), 0.15)
    phase = rng.uniform(0.0, 2 * math.pi, len(_HARMONICS))
    target = min(config.min_radius * rng.uniform(1.0, 2.0), 0.8 * r0)
    # Largest amplitude scale whose tightest bend is still >= target (bisection; monotone enough).
    lo, hi = 0.0, 4.0 / max(amp.sum(), 1e-9)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if _min_radius(theta, r0, amp * mid, phase) >= target:
            lo = mid
        else:
            hi = mid
    amp = amp * lo
    points, kappa = _resample(theta, r0, amp, phase, config.spacing)
    while _too_close(points, config.road_width) or np.abs(points).max() > EXTENT * r0:
        amp = amp * 0.9
        points, kappa = _resample(theta, r0, amp, phase, config.spacing)
    if rng.random() < 0.5:  # drive clockwise: left and right bends are equally common
        points = points[::-1].copy()
        kappa = -kappa[::-1]
    start = int(rng.integers(len(points)))
    points = np.roll(points, -start, axis=0)
    kappa = np.roll(kappa, -start)
    return Track(points, kappa, config, seed)
