"""On-disk format for demonstrations: one compressed ``.npz`` per episode plus a JSON manifest.

Layout of a dataset folder (documented for users in ``docs/training.md``)::

    manifest.json            format, version, vehicle, image_hw, imu_dim, state_inputs,
                             action names, episodes
    episode_00000.npz        images (T,H,W,3) uint8, imu (T,I) float32, actions (T,A) float32,
    episode_00001.npz        elapsed (T,) float32 seconds since the previous frame,
    ...                      executed (T,A) float32 (optional: what the vehicle actually got)

``actions`` are the labels the policy learns (the expert's clean command; for a rosbag the
recorded command). ``imu`` holds the ``imu_dim`` IMU entries, then one column per name in
``state_inputs`` (see ``models.state_inputs``). ``elapsed`` keeps irregular sampling: liquid
policies are fed it. Every write is atomic (temporary file, then ``os.replace``), so a killed
recorder never leaves a torn file; the temporary file it may leave (``.episode_00003.npz.<random>
.tmp``) is removed when the folder is next opened for writing.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
import json
import logging
import os
from pathlib import Path
import tempfile
from typing import Any
import zipfile

from lnn_control.models.state_inputs import check_state_inputs
import numpy as np

_LOG = logging.getLogger(__name__)
FORMAT = 'lnn_control.demos'
VERSION = 1
MANIFEST = 'manifest.json'
VEHICLES = ('rover', 'quad')
#: What ``_atomic_write`` leaves when killed mid-write: ``.<target name>.<random>.tmp``.
TEMPORARY_PATTERNS = ('.episode_*.npz.*.tmp', f'.{MANIFEST}.*.tmp')


class DatasetError(ValueError):
    """A dataset folder or file is wrong: the message names the file and the problem."""


@dataclass(frozen=True, eq=False)
class Episode:
    """One recorded episode, checked for consistent shapes and dtypes.

    Shape:
        images (T, H, W, 3) uint8, imu (T, 6) float32, actions (T, A) float32,
        elapsed (T,) float32 seconds (> 0), executed (T, A) float32 or None.
    """

    images: np.ndarray
    imu: np.ndarray
    actions: np.ndarray
    elapsed: np.ndarray
    executed: np.ndarray | None = None

    def __post_init__(self) -> None:
        steps = len(self.images)
        checks = {
            'images': (self.images, np.uint8, 4),
            'imu': (self.imu, np.float32, 2),
            'actions': (self.actions, np.float32, 2),
            'elapsed': (self.elapsed, np.float32, 1),
        }
        if self.executed is not None:
            checks['executed'] = (self.executed, np.float32, 2)
        for name, (array, dtype, ndim) in checks.items():
            if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != ndim:
                got = (f'{array.dtype} with {array.ndim} dims' if isinstance(array, np.ndarray)
                       else type(array).__name__)
                raise DatasetError(f'Episode: {name} expected {dtype.__name__} with {ndim} dims, '
                                   f'got {got}')
            if len(array) != steps:
                raise DatasetError(f'Episode: {name} has {len(array)} steps, images has {steps}')
        if steps < 1:
            raise DatasetError('Episode: expected at least 1 step, got 0')
        if self.images.shape[-1] != 3:
            raise DatasetError(f'Episode: images expected (T,H,W,3), got {self.images.shape}')
        if self.executed is not None and self.executed.shape != self.actions.shape:
            raise DatasetError(f'Episode: executed shape {self.executed.shape} differs from '
                               f'actions {self.actions.shape}')
        if not np.all(np.isfinite(self.elapsed)) or np.any(self.elapsed <= 0):
            raise DatasetError('Episode: elapsed must be finite seconds > 0 for every step')
        for name in ('imu', 'actions'):
            if not np.all(np.isfinite(getattr(self, name))):
                raise DatasetError(f'Episode: {name} holds NaN or inf')

    @property
    def steps(self) -> int:
        return len(self.images)

    @property
    def image_hw(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])


@dataclass(frozen=True)
class EpisodeInfo:
    """A manifest entry: the file, its length and where it came from."""

    file: str
    steps: int
    scenario: str = 'clear'
    seed: int | None = None
    source: str = ''
    metrics: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetMeta:
    """The manifest: what every episode in the folder shares."""

    vehicle: str
    image_hw: tuple[int, int]
    action_names: tuple[str, ...]
    imu_dim: int = 6
    episodes: tuple[EpisodeInfo, ...] = ()
    source: str = ''
    state_inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.vehicle not in VEHICLES:
            raise DatasetError(f'manifest: vehicle must be one of {VEHICLES}, '
                               f'got {self.vehicle!r}')
        if len(self.image_hw) != 2 or min(self.image_hw) < 1:
            raise DatasetError(f'manifest: image_hw must be two positive ints, '
                               f'got {self.image_hw!r}')
        if not self.action_names:
            raise DatasetError('manifest: action_names must name at least one action')
        if self.imu_dim < 1:
            raise DatasetError(f'manifest: imu_dim must be >= 1, got {self.imu_dim}')
        try:
            object.__setattr__(self, 'state_inputs',
                               check_state_inputs(self.state_inputs, 'manifest'))
        except ValueError as exc:
            raise DatasetError(str(exc)) from None

    @property
    def input_dim(self) -> int:
        """Columns of every episode's ``imu`` array: IMU entries, then state inputs."""
        return self.imu_dim + len(self.state_inputs)

    @property
    def action_dim(self) -> int:
        return len(self.action_names)

    @property
    def total_steps(self) -> int:
        return sum(e.steps for e in self.episodes)

    def to_dict(self) -> dict[str, Any]:
        return {'format': FORMAT, 'version': VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, where: str = 'manifest') -> DatasetMeta:
        if doc.get('format') != FORMAT:
            raise DatasetError(f'{where}: format must be {FORMAT!r}, got {doc.get("format")!r}')
        if doc.get('version') != VERSION:
            raise DatasetError(f'{where}: version {doc.get("version")!r} is not supported '
                               f'(this reader knows {VERSION})')
        try:
            episodes = tuple(EpisodeInfo(**e) for e in doc.get('episodes', ()))
            return cls(vehicle=doc['vehicle'], image_hw=tuple(doc['image_hw']),
                       action_names=tuple(doc['action_names']), imu_dim=int(doc['imu_dim']),
                       episodes=episodes, source=str(doc.get('source', '')),
                       state_inputs=tuple(doc.get('state_inputs', ())))
        except (KeyError, TypeError) as exc:
            raise DatasetError(f'{where}: missing or malformed field: {exc}') from None


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` and move the result into place in one step."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_temporaries(folder: str | Path, patterns: Sequence[str] = TEMPORARY_PATTERNS) -> int:
    """Delete the temporary files that interrupted writes left in ``folder``; return how many.

    Call it only where this process is the folder's one writer (on resume): another writer's
    file in progress would go too.

    Args:
        folder: The folder to clean (not searched recursively).
        patterns: Glob patterns of the temporary files.
    """
    folder = Path(folder)
    removed = 0
    for pattern in patterns:
        for path in folder.glob(pattern):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
    if removed:
        _LOG.info('%s: removed %d temporary file(s) left by an interrupted write', folder,
                  removed)
    return removed


def write_episode(path: str | Path, episode: Episode) -> None:
    """Write one episode as a compressed ``.npz`` (atomically)."""
    arrays = {'images': episode.images, 'imu': episode.imu, 'actions': episode.actions,
              'elapsed': episode.elapsed}
    if episode.executed is not None:
        arrays['executed'] = episode.executed

    def write(tmp: Path) -> None:
        with open(tmp, 'wb') as f:
            np.savez_compressed(f, **arrays)

    _atomic_write(Path(path), write)


def read_episode(path: str | Path) -> Episode:
    """Read one ``.npz`` episode; a missing array or a torn file is a ``DatasetError``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {'images', 'imu', 'actions', 'elapsed'} - set(npz.files)
            if missing:
                raise DatasetError(f'{path}: missing arrays {sorted(missing)}')
            executed = npz['executed'] if 'executed' in npz.files else None
            return Episode(npz['images'], npz['imu'], npz['actions'], npz['elapsed'], executed)
    except FileNotFoundError:
        raise DatasetError(f'{path}: episode file not found') from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise DatasetError(f'{path}: {exc}') from None
        raise DatasetError(f'{path}: not a readable .npz episode ({exc})') from None


def write_manifest(root: str | Path, meta: DatasetMeta) -> None:
    root = Path(root)
    text = json.dumps(meta.to_dict(), indent=1)
    _atomic_write(root / MANIFEST, lambda tmp: tmp.write_text(text))


def read_manifest(root: str | Path) -> DatasetMeta:
    """Read and validate ``root/manifest.json``."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise DatasetError(f'{root}: not a demonstration folder (no {MANIFEST})')
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f'{path}: not valid JSON: {exc}') from None
    if not isinstance(doc, dict):
        raise DatasetError(f'{path}: expected a JSON object, got {type(doc).__name__}')
    return DatasetMeta.from_dict(doc, where=str(path))


def iter_episodes(root: str | Path, meta: DatasetMeta | None = None) -> Iterator[Episode]:
    """Yield every episode of a folder, checked against the manifest."""
    root = Path(root)
    meta = meta or read_manifest(root)
    for info in meta.episodes:
        episode = read_episode(root / info.file)
        where = root / info.file
        if episode.steps != info.steps:
            raise DatasetError(f'{where}: {episode.steps} steps, manifest says {info.steps}')
        if episode.image_hw != tuple(meta.image_hw):
            raise DatasetError(f'{where}: images are {episode.image_hw}, manifest says '
                               f'{tuple(meta.image_hw)}')
        if episode.actions.shape[1] != meta.action_dim:
            raise DatasetError(f'{where}: {episode.actions.shape[1]} actions per step, manifest '
                               f'names {meta.action_dim}')
        if episode.imu.shape[1] != meta.input_dim:
            raise DatasetError(f'{where}: imu has {episode.imu.shape[1]} values, manifest says '
                               f'{meta.imu_dim} IMU entries and state inputs '
                               f'{list(meta.state_inputs)}')
        yield episode


class DemoWriter:
    """Add episodes to a dataset folder; the manifest is rewritten after every episode.

    Opening an existing folder appends to it (DAgger rounds and resumed runs do this), after
    checking that the vehicle, image size and actions agree, and removes the temporary files a
    killed writer left there. One writer per folder at a time.
    """

    def __init__(self, root: str | Path, *, vehicle: str, image_hw: Sequence[int],
                 action_names: Sequence[str], imu_dim: int = 6, source: str = '',
                 state_inputs: Sequence[str] = ()) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        remove_temporaries(self.root)
        wanted = DatasetMeta(vehicle, tuple(int(v) for v in image_hw), tuple(action_names),
                             imu_dim, (), source, tuple(state_inputs))
        if (self.root / MANIFEST).is_file():
            found = read_manifest(self.root)
            for name in ('vehicle', 'image_hw', 'action_names', 'imu_dim', 'state_inputs'):
                if getattr(found, name) != getattr(wanted, name):
                    raise DatasetError(f'{self.root}: cannot append: {name} is '
                                       f'{getattr(found, name)!r}, new data has '
                                       f'{getattr(wanted, name)!r}')
            self.meta = found
        else:
            self.meta = wanted
            write_manifest(self.root, self.meta)

    def add(self, episode: Episode, *, scenario: str = 'clear', seed: int | None = None,
            source: str = '', metrics: Mapping[str, Any] | None = None) -> EpisodeInfo:
        """Store one episode under the next free number and record it in the manifest."""
        if episode.image_hw != self.meta.image_hw:
            raise DatasetError(f'{self.root}: episode images are {episode.image_hw}, dataset '
                               f'is {self.meta.image_hw}')
        if episode.actions.shape[1] != self.meta.action_dim:
            raise DatasetError(f'{self.root}: episode has {episode.actions.shape[1]} actions, '
                               f'dataset has {self.meta.action_dim}')
        if episode.imu.shape[1] != self.meta.input_dim:
            raise DatasetError(f'{self.root}: episode has {episode.imu.shape[1]} IMU and state '
                               f'values per step, dataset has {self.meta.input_dim}')
        name = f'episode_{len(self.meta.episodes):05d}.npz'
        write_episode(self.root / name, episode)
        info = EpisodeInfo(name, episode.steps, scenario, seed, source,
                           {k: _jsonable(v) for k, v in (metrics or {}).items()})
        self.meta = replace(self.meta, episodes=(*self.meta.episodes, info))
        write_manifest(self.root, self.meta)
        return info


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
