"""Sensor shifts: latency, dropped frames and IMU noise, for any vehicle.

They keep per-episode state (frame buffers, biases), cleared in ``apply_world`` at every reset.
Knobs set: ``imu_noise_scale`` (x the env's nominal IMU noise, where the env reads it).
"""
from __future__ import annotations

from collections import deque

from lnn_control.sim.scenario import register_shift, Shift
import numpy as np

BOTH = ('rover', 'quad')


@register_shift
class Latency(Shift):
    """Images and IMU samples arrive late by a whole number of control steps.

    Severity -> delay 1 2 3 4 6 steps (50-300 ms at 20 Hz). The first frames of an episode
    repeat the first sample, as a camera that has not delivered yet would.
    """

    name = 'latency'
    group = 'sensor'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        delay = int(self.level((1, 2, 3, 4, 6)))
        self._images: deque = deque(maxlen=delay + 1)
        self._imu: deque = deque(maxlen=delay + 1)

    def _delayed(self, buffer: deque, value: np.ndarray) -> np.ndarray:
        if not buffer:
            buffer.extend([value] * (buffer.maxlen - 1))
        buffer.append(value)
        return buffer[0]

    def apply_image(self, image, rng):
        return self._delayed(self._images, image)

    def apply_imu(self, imu, rng):
        return self._delayed(self._imu, imu)


@register_shift
class DroppedFrames(Shift):
    """Frames lost in transport: with probability p the previous frame is delivered again.

    Severity -> p .05 .1 .2 .3 .45.
    """

    name = 'dropped_frames'
    group = 'sensor'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        self._last: np.ndarray | None = None

    def apply_image(self, image, rng):
        drop = rng.random() < self.level((0.05, 0.1, 0.2, 0.3, 0.45))
        if drop and self._last is not None:
            return self._last
        self._last = image
        return image


@register_shift
class NoisyImu(Shift):
    """A worse IMU: more white noise (``imu_noise_scale``) and a bias drawn per episode.

    Severity -> noise x 2 4 8 15 25; bias std .05 .1 .2 .35 .5 m/s^2 and 1/10 of it in rad/s.
    """

    name = 'imu_noise'
    group = 'sensor'
    vehicles = BOTH

    def apply_world(self, world, rng) -> None:
        world.knobs['imu_noise_scale'] = self.level((2, 4, 8, 15, 25))
        std = (0.05, 0.1, 0.2, 0.35, 0.5)[self.severity - 1]
        self._bias = np.concatenate([rng.normal(0, std, 3), rng.normal(0, std / 10, 3)])
        self._white = std / 2

    def apply_imu(self, imu, rng):
        noise = rng.normal(0.0, self._white, imu.shape) * np.array([1, 1, 1, .1, .1, .1])
        return (imu + self._bias + noise).astype(np.float32)
