"""A whole training run, resumable at every stage: demos, BPTT, then DAgger rounds.

Run folder layout (``runs/<name>/``)::

    config.yaml        the resolved config of the run
    demos/             expert demonstrations (round 0)
    dagger_01/ ...     learner rollouts labelled by the expert, one folder per round
    train/             trainer_state.pt, policy_last.pt, policy_best.pt, progress.csv
    policy.pt          the final policy (a copy of the best checkpoint of the last round)

Rerunning the same command after a kill picks up where it stopped: a partial recording continues
with the same seeds, and training resumes from the last finished epoch. Training for round ``k``
ends at epoch ``train.epochs + k * dagger.epochs``, so the trainer's epoch counter says which
round it is in.
"""
from __future__ import annotations

from collections.abc import Sequence
import logging
from pathlib import Path
import shutil
from typing import Any

from lnn_control.train.callbacks import BaseCallback
from lnn_control.train.config import ConfigError, TrainConfig
from lnn_control.train.dataset import SequenceDataset
from lnn_control.train.demos import DatasetError, read_manifest
from lnn_control.train.record import record
from lnn_control.train.trainer import ImitationTrainer
import numpy as np
import yaml

_LOG = logging.getLogger(__name__)


def _recorded(folder: Path) -> int:
    try:
        return len(read_manifest(folder).episodes)
    except DatasetError:
        return 0


def _ensure_recorded(config: TrainConfig, folder: Path, episodes: int, round_index: int,
                     policy_path: Path | None, beta: float, progress: bool) -> None:
    done = _recorded(folder)
    if done < episodes:
        _LOG.info('recording %s: episodes %d..%d', folder.name, done, episodes - 1)
        record(config, folder, episodes=episodes, round_index=round_index, start=done,
               policy_path=policy_path, beta=beta, progress=progress)


def _datasets(config: TrainConfig, folders: Sequence[Path], round_index: int,
              image_hw: Sequence[int] | None) -> tuple[SequenceDataset, SequenceDataset | None]:
    data = SequenceDataset(folders, seq_len=config.train.seq_len, image_hw=image_hw)
    return data.split(config.train.val_fraction,
                      np.random.default_rng([config.seed, 11, round_index]))


def resolve_policy_config(config: TrainConfig, data: SequenceDataset) -> dict[str, Any]:
    """Return the full ``PolicyConfig`` dict of the run.

    It holds the vehicle defaults, the YAML ``policy:`` section, and input statistics from the
    first round's data (fixed for the run, so a resume rebuilds the same config).
    """
    from lnn_control.models.policy import PolicyConfig

    options = {k: v for k, v in config.policy.items() if k != 'vehicle'}
    wanted = tuple(options.get('state_inputs', ()))
    if data.meta.state_inputs != wanted:
        raise ConfigError(f'policy.state_inputs {list(wanted)} but the data carries '
                          f'{list(data.meta.state_inputs)} after its IMU entries: record the '
                          'data with the same state inputs')
    if 'normalization' not in options:
        options['normalization'] = data.normalization()
    try:
        policy = PolicyConfig.for_vehicle(config.vehicle, **options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f'policy: {exc}') from None
    return policy.to_dict()


def metadata(config: TrainConfig, folders: Sequence[Path]) -> dict[str, Any]:
    """Return what a shipped checkpoint says about its training (the report reads it)."""
    return {'run': config.name, 'regime': config.regime,
            'shifts_seen': list(config.shifts_seen),
            'augmented': config.augment is not None, 'dagger_rounds': config.dagger.rounds,
            'seed': config.seed, 'env_id': config.env.id,
            'env_kwargs': dict(config.env.kwargs),
            'datasets': [f.name for f in folders]}


def train_run(config: TrainConfig, run_dir: str | Path, *, extra: Sequence[str | Path] = (),
              callbacks: Sequence[BaseCallback] = (), progress: bool = True,
              device: str = 'cpu', record_only: bool = False) -> Path:
    """Record, train and run DAgger as ``config`` says.

    Returns:
        The final ``policy.pt`` (or, with ``record_only``, the demonstration folder, so
        several models share one).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'config.yaml').write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    folders = [Path(p) for p in (*config.data.extra, *extra)]
    if config.data.episodes > 0:
        demos = run_dir / 'demos'
        _ensure_recorded(config, demos, config.data.episodes, 0, None, 1.0, progress)
        folders.insert(0, demos)
        if record_only:
            return demos
    if not folders:
        raise DatasetError(f'{config.name}: no data: set data.episodes > 0 (simulator demos) '
                           'or give dataset folders (data.extra or --data)')
    if config.dagger.rounds and config.data.episodes == 0:
        raise DatasetError(f'{config.name}: DAgger needs the simulator expert: set '
                           'data.episodes > 0 or dagger.rounds: 0')
    image_hw = config.policy.get('image_hw')
    train_dir = run_dir / 'train'
    trainer: ImitationTrainer | None = None
    opt = config.train
    for round_index in range(config.dagger.rounds + 1):
        target = opt.epochs + round_index * config.dagger.epochs
        if round_index > 0:
            folder = run_dir / f'dagger_{round_index:02d}'
            beta = config.dagger.beta * config.dagger.beta_decay ** (round_index - 1)
            _ensure_recorded(config, folder, config.dagger.episodes, round_index,
                             train_dir / 'policy_best.pt', beta, progress)
            folders.append(folder)
        if trainer is not None and trainer.epoch >= target:
            continue
        train, val = _datasets(config, folders, round_index, image_hw)
        if trainer is None:
            trainer = ImitationTrainer(
                resolve_policy_config(config, train), train, train_dir, val_data=val, lr=opt.lr,
                lr_decay=opt.lr_decay, lr_min=opt.lr_min,
                weight_decay=opt.weight_decay,
                batch_size=opt.batch_size, steps_per_epoch=opt.steps_per_epoch,
                burn_in=opt.burn_in, start_fraction=opt.start_fraction,
                grad_clip=opt.grad_clip, augment=config.augment,
                seed=config.seed, metadata=metadata(config, folders), device=device)
        else:
            trainer.train_data, trainer.val_data = train, val
            trainer.metadata = metadata(config, folders)
            if trainer.epoch == target - config.dagger.epochs:
                # New data changes what "best" means: compare on the new validation set.
                trainer.best_val = float('inf')
        _LOG.info('round %d: %d training steps of data, to epoch %d', round_index,
                  train.num_steps, target)
        trainer.learn(target, callbacks=callbacks, progress_bar=progress)
    final = run_dir / 'policy.pt'
    shutil.copyfile(train_dir / 'policy_best.pt', final)
    return final
