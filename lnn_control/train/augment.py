"""Image augmentation for the randomized regime (photometric only: geometry carries the label).

One set of parameters per window, held over its T frames, as a real lighting change would be:
brightness, contrast, per-channel colour gain, a soft shadow band, and sensor noise.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the photometric augmentation; ``(1, 1)`` or ``0`` switches a part off."""

    brightness: tuple[float, float] = (0.6, 1.4)
    contrast: tuple[float, float] = (0.7, 1.3)
    color_gain: float = 0.15
    shadow_probability: float = 0.3
    noise_std_max: float = 12.0

    def __post_init__(self) -> None:
        for name in ('brightness', 'contrast'):
            low, high = getattr(self, name)
            if not 0.0 < low <= high:
                raise ValueError(f'AugmentConfig.{name}: expected 0 < low <= high, '
                                 f'got {(low, high)}')
        if not 0.0 <= self.color_gain < 1.0:
            raise ValueError(f'AugmentConfig.color_gain: expected [0, 1), got {self.color_gain}')
        if not 0.0 <= self.shadow_probability <= 1.0:
            raise ValueError('AugmentConfig.shadow_probability: expected [0, 1], '
                             f'got {self.shadow_probability}')
        if not 0.0 <= self.noise_std_max <= 128.0:
            raise ValueError('AugmentConfig.noise_std_max: expected [0, 128] (uint8 units), '
                             f'got {self.noise_std_max}')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> AugmentConfig:
        doc = dict(doc)
        for name in ('brightness', 'contrast'):
            if name in doc:
                doc[name] = tuple(doc[name])
        return cls(**doc)


def augment_images(images: np.ndarray, config: AugmentConfig,
                   rng: np.random.Generator) -> np.ndarray:
    """Return an augmented copy of a batch of windows.

    Shape:
        images (B, T, H, W, 3) uint8 -> (B, T, H, W, 3) uint8.
    """
    if images.dtype != np.uint8 or images.ndim != 5 or images.shape[-1] != 3:
        raise ValueError(f'augment_images: expected uint8 (B,T,H,W,3), '
                         f'got {images.dtype} {images.shape}')
    b, _, h, w, _ = images.shape
    x = images.astype(np.float32)
    gain = rng.uniform(*config.brightness, size=(b, 1, 1, 1, 1))
    gain = gain * rng.uniform(1 - config.color_gain, 1 + config.color_gain, size=(b, 1, 1, 1, 3))
    contrast = rng.uniform(*config.contrast, size=(b, 1, 1, 1, 1))
    mean = x.mean(axis=(2, 3, 4), keepdims=True)
    x = (x - mean) * contrast + mean
    x = x * gain
    # A soft vertical shadow band (a tree, a building) at a random place in each window.
    columns = np.arange(w, dtype=np.float32)
    for i in np.flatnonzero(rng.random(b) < config.shadow_probability):
        centre, half = rng.uniform(0, w), rng.uniform(0.1, 0.3) * w
        depth = rng.uniform(0.3, 0.7)
        band = 1.0 - depth * np.clip(1.0 - np.abs(columns - centre) / half, 0.0, 1.0)
        x[i] *= band[None, None, :, None]
    if config.noise_std_max > 0:
        sigma = rng.uniform(0.0, config.noise_std_max, size=(b, 1, 1, 1, 1)).astype(np.float32)
        x += rng.standard_normal(x.shape, dtype=np.float32) * sigma
    return np.clip(x, 0, 255).astype(np.uint8)
