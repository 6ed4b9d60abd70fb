"""Sequence windows for BPTT: demonstrations held in memory, sampled as (B, T) batches.

Episodes from one or more dataset folders are loaded once (uint8 images stay uint8: a 64x128
frame is 24 KB), resized to the policy's input size with the nodes' own ``preprocess.resize``
when they differ, and cut into random windows of ``seq_len`` steps.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lnn_control.train.demos import (
    DatasetError,
    DatasetMeta,
    Episode,
    iter_episodes,
    read_manifest,
)
import numpy as np


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of windows; ``cold`` marks windows that start at their episode's first step.

    Shape:
        images (B, T, H, W, 3) uint8, imu (B, T, 6) float32, actions (B, T, A) float32,
        elapsed (B, T) float32 seconds, cold (B,) bool.
    """

    images: np.ndarray
    imu: np.ndarray
    actions: np.ndarray
    elapsed: np.ndarray
    cold: np.ndarray


def _resized(episode: Episode, image_hw: tuple[int, int]) -> Episode:
    if episode.image_hw == image_hw:
        return episode
    from lnn_control.control.preprocess import resize

    images = np.stack([resize(frame, image_hw) for frame in episode.images])
    return Episode(images, episode.imu, episode.actions, episode.elapsed, episode.executed)


class SequenceDataset:
    """All episodes of some dataset folders, ready to sample training windows from.

    Args:
        roots: dataset folders (see ``demos.py``); they must agree on vehicle and actions.
        seq_len: window length in steps (BPTT horizon).
        image_hw: resize frames to this (the policy's ``image_hw``); ``None`` keeps them.
        episodes: already loaded episodes (used by ``split``), instead of reading ``roots``.
    """

    def __init__(self, roots: Sequence[str | Path], *, seq_len: int = 32,
                 image_hw: Sequence[int] | None = None,
                 episodes: tuple[DatasetMeta, list[Episode]] | None = None) -> None:
        if seq_len < 1:
            raise DatasetError(f'SequenceDataset: seq_len must be >= 1, got {seq_len}')
        self.seq_len = seq_len
        if episodes is not None:
            self.meta, self.episodes = episodes
        else:
            self.meta, self.episodes = self._load(roots, image_hw)
        self.episodes = [e for e in self.episodes if e.steps >= seq_len]
        if not self.episodes:
            raise DatasetError(f'SequenceDataset: no episode of {roots} has >= {seq_len} steps '
                               '(record longer episodes or lower seq_len)')
        counts = np.array([e.steps - seq_len + 1 for e in self.episodes], dtype=np.float64)
        self._weights = counts / counts.sum()

    @staticmethod
    def _load(roots: Sequence[str | Path],
              image_hw: Sequence[int] | None) -> tuple[DatasetMeta, list[Episode]]:
        if not roots:
            raise DatasetError('SequenceDataset: no dataset folders given')
        first: DatasetMeta | None = None
        episodes: list[Episode] = []
        for root in roots:
            meta = read_manifest(root)
            if first is not None and (meta.vehicle, meta.action_names) != (
                    first.vehicle, first.action_names):
                raise DatasetError(f'{root}: {meta.vehicle} {meta.action_names} does not match '
                                   f'{first.vehicle} {first.action_names} of {roots[0]}')
            if first is not None and (meta.imu_dim, meta.state_inputs) != (
                    first.imu_dim, first.state_inputs):
                raise DatasetError(f'{root}: {meta.imu_dim} IMU entries and state inputs '
                                   f'{list(meta.state_inputs)} do not match {first.imu_dim} and '
                                   f'{list(first.state_inputs)} of {roots[0]}')
            first = first or meta
            hw = tuple(int(v) for v in image_hw) if image_hw else tuple(first.image_hw)
            episodes.extend(_resized(e, hw) for e in iter_episodes(root, meta))
        assert first is not None
        return first, episodes

    @property
    def num_steps(self) -> int:
        return sum(e.steps for e in self.episodes)

    @property
    def action_dim(self) -> int:
        return self.meta.action_dim

    def normalization(self, imu_floor: Sequence[float] = (0.5, 0.5, 0.5, 0.05, 0.05, 0.05),
                      max_frames: int = 2000) -> dict[str, list[float]]:
        """Input statistics for ``PolicyConfig.normalization`` (every 7th frame, capped).

        IMU standard deviations are floored (m/s^2, rad/s): an axis that only carries sensor
        noise in the demonstrations must not be blown up to unit variance.
        """
        frames = np.concatenate([e.images[::7] for e in self.episodes])[:max_frames]
        pixels = frames.reshape(-1, 3).astype(np.float64) / 255.0
        imu = np.concatenate([e.imu for e in self.episodes]).astype(np.float64)
        floor = np.resize(np.asarray(imu_floor, np.float64), imu.shape[1])
        return {'image_mean': pixels.mean(0).round(4).tolist(),
                'image_std': np.maximum(pixels.std(0), 0.02).round(4).tolist(),
                'imu_mean': imu.mean(0).round(4).tolist(),
                'imu_std': np.maximum(imu.std(0), floor).round(4).tolist()}

    def split(self, val_fraction: float,
              rng: np.random.Generator) -> tuple[SequenceDataset, SequenceDataset | None]:
        """Hold whole episodes out for validation (windows of one episode are correlated)."""
        if not 0.0 <= val_fraction < 1.0:
            raise DatasetError(f'split: val_fraction must be in [0, 1), got {val_fraction}')
        n_val = int(round(val_fraction * len(self.episodes)))
        if n_val == 0 or n_val >= len(self.episodes):
            return self, None
        order = rng.permutation(len(self.episodes))
        pick = [self.episodes[i] for i in order]
        val = SequenceDataset((), seq_len=self.seq_len, episodes=(self.meta, pick[:n_val]))
        train = SequenceDataset((), seq_len=self.seq_len, episodes=(self.meta, pick[n_val:]))
        return train, val

    def sample(self, batch_size: int, rng: np.random.Generator,
               start_fraction: float = 0.0) -> Batch:
        """``batch_size`` random windows, episodes weighted by how many windows they hold.

        A share ``start_fraction`` of the windows starts at the episode's first step: there the
        zero initial state is the true one, as on the vehicle at start-up.
        """
        which = rng.choice(len(self.episodes), size=batch_size, p=self._weights)
        cold = rng.random(batch_size) < start_fraction if start_fraction > 0 \
            else np.zeros(batch_size, bool)
        parts = []
        for i, at_start in zip(which, cold, strict=True):
            episode = self.episodes[i]
            start = 0 if at_start else int(rng.integers(0, episode.steps - self.seq_len + 1))
            parts.append((episode, slice(start, start + self.seq_len)))
        return self._stack(parts)

    def fixed_windows(self, max_windows: int) -> list[Batch]:
        """Deterministic, non-overlapping windows (for validation), in batches of up to 32."""
        parts = []
        for episode in self.episodes:
            for start in range(0, episode.steps - self.seq_len + 1, self.seq_len):
                parts.append((episode, slice(start, start + self.seq_len)))
        parts = parts[:max_windows]
        return [self._stack(parts[i:i + 32]) for i in range(0, len(parts), 32)]

    @staticmethod
    def _stack(parts: list[tuple[Episode, slice]]) -> Batch:
        return Batch(np.stack([e.images[s] for e, s in parts]),
                     np.stack([e.imu[s] for e, s in parts]),
                     np.stack([e.actions[s] for e, s in parts]),
                     np.stack([e.elapsed[s] for e, s in parts]),
                     np.array([s.start == 0 for _, s in parts]))
