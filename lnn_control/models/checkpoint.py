"""One-file policy checkpoints: weights, full config, format version and free metadata.

The file is a ``torch.save`` of plain data only::

    {'format': 'lnn_control.policy', 'format_version': 1, 'config': PolicyConfig.to_dict(),
     'state_dict': {...}, 'metadata': {...}}

The config carries the wiring and the input normalisation, so ``load_checkpoint`` rebuilds the
policy with nothing else. Loading uses ``torch.load(weights_only=True)``: no code is unpickled,
so a file from elsewhere cannot run anything. A file that is empty, not a zip archive (which
``torch.save`` writes), truncated, or holds objects other than tensors and plain data is refused
with our own explanation and advice (re-export or re-download the policy), never torch's advice
to load it unsafely. Writes go to a temporary file in the same folder, are fsynced, then renamed
over the target: a crash leaves the old file or the new one, never half.
"""
from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path
import pickle
import re
import tempfile
from typing import Any
import zipfile

from lnn_control.models.policy import Policy, PolicyConfig
import torch

FORMAT = 'lnn_control.policy'
FORMAT_VERSION = 1
_KEYS = ('format', 'format_version', 'config', 'state_dict', 'metadata')
#: What to do about a file that is not a usable checkpoint.
ADVICE = 're-export the policy from its training run, or download it again'
#: The first bytes of every zip archive, hence of every file ``torch.save`` writes.
_ZIP_MAGIC = b'PK\x03\x04'


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f'checkpoint {os.fspath(path)}: {problem}')
        self.path = Path(path)
        self.problem = problem


def save_checkpoint(path: str | os.PathLike[str], policy: Policy, *,
                    metadata: Mapping[str, Any] | None = None) -> Path:
    """Write ``policy`` to ``path`` atomically; returns the path.

    Args:
        path: Target file (its folder is created if needed).
        policy: The policy to save.
        metadata: Plain data (str/int/float/bool/None, lists, tuples, dicts with str keys), e.g.
            the training run, dataset and metrics.

    Raises:
        CheckpointError: on metadata that is not plain data, or on a failed write.
    """
    path = Path(path)
    if not isinstance(policy, Policy):
        raise CheckpointError(path, f'expected a Policy, got {type(policy).__name__}')
    metadata = dict(metadata or {})
    bad = _first_non_plain(metadata, 'metadata')
    if bad:
        raise CheckpointError(path, f'{bad} is not plain data (str, number, bool, None, list, '
                                    'tuple or dict with str keys)')
    payload = {
        'format': FORMAT, 'format_version': FORMAT_VERSION, 'config': policy.config.to_dict(),
        'state_dict': {k: v.detach().cpu().clone() for k, v in policy.state_dict().items()},
        'metadata': metadata}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(path, f'cannot write: {exc}') from exc
    _fsync_dir(path.parent)
    return path


def load_checkpoint(path: str | os.PathLike[str], *,
                    expect_vehicle: str | None = None) -> tuple[Policy, dict[str, Any]]:
    """Rebuild the policy saved at ``path`` (in eval mode) and return it with its metadata.

    Args:
        path: A file written by ``save_checkpoint``.
        expect_vehicle: If given, the checkpoint must be for this vehicle.

    Raises:
        CheckpointError: if the file is missing, empty, not a torch file, truncated or damaged,
            holds objects other than tensors and plain data, is of another format or version,
            is for another vehicle, or its weights do not fit its config. The message names the
            file, says what is wrong and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, 'no such file')
    payload = _read(path)
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
        raise CheckpointError(path, f'not an {FORMAT} checkpoint (a torch file of another '
                                    f'kind); {ADVICE}')
    version = payload.get('format_version')
    if version != FORMAT_VERSION:
        raise CheckpointError(path, f'format version {version!r}; this code reads version '
                                    f'{FORMAT_VERSION}')
    missing = [key for key in _KEYS if key not in payload]
    if missing:
        raise CheckpointError(path, f'missing entries {missing}')
    try:
        config = PolicyConfig.from_dict(payload['config'])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f'invalid config: {exc}') from exc
    if expect_vehicle is not None and config.vehicle != expect_vehicle:
        raise CheckpointError(path, f'policy is for vehicle {config.vehicle!r}, expected '
                                    f'{expect_vehicle!r}')
    policy = Policy(config)
    try:
        policy.load_state_dict(payload['state_dict'])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(path, f'weights do not match the config: {exc}') from exc
    return policy.eval(), dict(payload['metadata'])


def _read(path: Path) -> Any:
    """``torch.load(weights_only=True)`` of ``path``, with errors that say what is wrong."""
    try:
        with open(path, 'rb') as stream:
            head = stream.read(len(_ZIP_MAGIC))
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(path, f'cannot read: {exc.strerror or exc}') from None
    if size == 0:
        raise CheckpointError(path, f'empty file (0 bytes): an interrupted copy or download; '
                                    f'{ADVICE}')
    if head != _ZIP_MAGIC:
        raise CheckpointError(path, f'not a torch file (a checkpoint is the zip archive '
                                    f'torch.save writes; this file starts with {head!r}); '
                                    f'{ADVICE}')
    if not zipfile.is_zipfile(path):
        raise CheckpointError(path, f'truncated or damaged: the zip archive has no end '
                                    f'({size} bytes); {ADVICE}')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r'GLOBAL ([\w.]+)', str(exc))
        what = f'a reference to {found.group(1)}' if found else 'objects'
        raise CheckpointError(path, f'not a valid {FORMAT} checkpoint: it holds {what}, not '
                                    f'just tensors and plain data, so it was not loaded '
                                    f'(treat it as untrusted); {ADVICE}') from None
    except Exception:  # torch raises many types for a damaged archive
        raise CheckpointError(path, f'damaged: a zip archive that torch cannot read as a '
                                    f'checkpoint; {ADVICE}') from None


def _first_non_plain(value: Any, where: str) -> str | None:
    """Dotted location of the first value that is not plain data, or ``None``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            bad = _first_non_plain(item, f'{where}[{i}]')
            if bad:
                return bad
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f'{where} key {key!r}'
            bad = _first_non_plain(item, f'{where}.{key}')
            if bad:
                return bad
        return None
    return f'{where} ({type(value).__name__})'


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (best effort: some filesystems refuse fsync on folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
