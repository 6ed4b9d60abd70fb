"""Imitation learning by BPTT over demonstration windows (SB3's shape: typed kwargs, ``_setup``).

Each gradient step samples ``batch_size`` windows of ``seq_len`` steps, runs the policy over them
from a zero state with the real elapsed times, and regresses the expert's actions. The first
``burn_in`` steps of a window are left out of the loss: the state is still warming up there, and
on the vehicle it never starts cold mid-lap. Windows that start at an episode's first step
(``start_fraction`` of them) count from step 0: the vehicle does start cold there.

After every epoch the trainer writes ``trainer_state.pt`` (weights, optimizer, counters, the data
sampler's RNG) atomically, plus the policy as a normal checkpoint (``policy_last.pt``, and
``policy_best.pt`` when the validation loss improves). A run killed at any point resumes from the
last finished epoch and ends bit-identical to one that was never interrupted.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
import logging
import math
import os
from pathlib import Path
from typing import Any

from lnn_control.train.augment import augment_images, AugmentConfig
from lnn_control.train.callbacks import BaseCallback, CallbackList, ProgressBarCallback
from lnn_control.train.dataset import Batch, SequenceDataset
from lnn_control.train.demos import remove_temporaries
from lnn_control.train.logger import Logger
import numpy as np
import torch

_LOG = logging.getLogger(__name__)
STATE_FILE = 'trainer_state.pt'
STATE_VERSION = 1
#: Temporary files of interrupted writes in a run folder (trainer state, checkpoints, CSV log),
#: removed when a run opens the folder.
TEMPORARY_PATTERNS = ('trainer_state.tmp', '.*.pt.*.tmp', 'progress.csv.tmp')


class TrainerError(RuntimeError):
    """The trainer cannot start or resume; the message names the file and the mismatch."""


def build_policy(policy_config: Mapping[str, Any] | Any, seed: int) -> torch.nn.Module:
    """Build a ``Policy`` from its config (dict or ``PolicyConfig``) with seeded initial weights.

    The torch RNG is forked, so building a policy never disturbs the caller's random stream.
    """
    from lnn_control.models.policy import Policy, PolicyConfig

    if isinstance(policy_config, PolicyConfig):
        config = policy_config
    else:
        options = dict(policy_config)
        config = PolicyConfig.for_vehicle(options.pop('vehicle', 'rover'), **options)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Policy(config)


def _action_scale(policy: torch.nn.Module, action_dim: int) -> torch.Tensor:
    """Half the action range per dimension, so every action weighs the same in the loss."""
    config = policy.config
    low = getattr(config, 'action_low', None)
    high = getattr(config, 'action_high', None)
    if low is None or high is None:
        return torch.ones(action_dim)
    scale = (torch.as_tensor(high, dtype=torch.float32)
             - torch.as_tensor(low, dtype=torch.float32)) / 2
    return scale.clamp_min(1e-6).expand(action_dim).clone()


class ImitationTrainer:
    """Behaviour cloning with truncated BPTT on fixed-length windows.

    Args:
        policy_config: ``PolicyConfig`` or its dict (the YAML ``policy:`` section).
        train_data: Windows to learn from.
        out_dir: Run folder: state, checkpoints, ``progress.csv``.
        val_data: Held-out episodes for ``val/loss`` and best-checkpoint selection.
        lr: Adam learning rate at epoch 0.
        lr_decay: Learning rate multiplier per epoch (a deterministic function of the epoch).
        lr_min: Floor of the decayed learning rate, so late DAgger rounds still learn from
            their new data.
        weight_decay: AdamW weight decay.
        batch_size: Windows per gradient step.
        steps_per_epoch: Gradient steps between checkpoints.
        burn_in: Leading steps of each window left out of the loss (not for episode starts).
        start_fraction: Share of windows aligned to episode starts (cold-start behaviour).
        grad_clip: Global gradient-norm clip (BPTT through ODE cells can spike).
        augment: Photometric augmentation (randomized regime); ``None`` trains on clean frames.
        seed: Seeds the initial weights and the window sampler.
        metadata: Stored in every policy checkpoint (regime, shifts seen, dataset...).
        tensorboard: Also log to TensorBoard when it is installed.
        device: Torch device for training (``'cpu'``, ``'cuda'``); checkpoints are CPU.
    """

    def __init__(self, policy_config: Mapping[str, Any] | Any, train_data: SequenceDataset,
                 out_dir: str | Path, *, val_data: SequenceDataset | None = None,
                 lr: float = 3e-3, lr_decay: float = 1.0, lr_min: float = 0.0,
                 weight_decay: float = 0.0,
                 batch_size: int = 16, steps_per_epoch: int = 100, burn_in: int = 4,
                 start_fraction: float = 0.0,
                 grad_clip: float = 1.0, augment: AugmentConfig | None = None, seed: int = 0,
                 metadata: Mapping[str, Any] | None = None, tensorboard: bool = True,
                 device: str = 'cpu') -> None:
        checks = {'lr': (lr, 0.0, 1.0), 'lr_decay': (lr_decay, 0.0, 1.0),
                  'grad_clip': (grad_clip, 0.0, math.inf)}
        for name, (value, low, high) in checks.items():
            if not low < value <= high:
                raise ValueError(f'ImitationTrainer.{name}: expected ({low}, {high}], '
                                 f'got {value!r}')
        for name, value in (('batch_size', batch_size), ('steps_per_epoch', steps_per_epoch)):
            if value < 1:
                raise ValueError(f'ImitationTrainer.{name}: expected >= 1, got {value!r}')
        if not 0 <= burn_in < train_data.seq_len:
            raise ValueError(f'ImitationTrainer.burn_in: expected 0 <= burn_in < seq_len '
                             f'({train_data.seq_len}), got {burn_in}')
        self.policy_config = policy_config
        self.train_data, self.val_data = train_data, val_data
        self.out_dir = Path(out_dir)
        if not 0.0 <= lr_min <= lr:
            raise ValueError(f'ImitationTrainer.lr_min: expected [0, lr={lr}], got {lr_min!r}')
        self.lr, self.lr_decay, self.weight_decay = lr, lr_decay, weight_decay
        self.lr_min = lr_min
        self.batch_size, self.steps_per_epoch = batch_size, steps_per_epoch
        if not 0.0 <= start_fraction <= 1.0:
            raise ValueError(f'ImitationTrainer.start_fraction: expected [0, 1], '
                             f'got {start_fraction!r}')
        self.burn_in, self.grad_clip, self.augment = burn_in, grad_clip, augment
        self.start_fraction = start_fraction
        self.seed = seed
        self.metadata = dict(metadata or {})
        self.tensorboard = tensorboard
        self.device = torch.device(device)
        self._setup()

    def _setup(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        remove_temporaries(self.out_dir, TEMPORARY_PATTERNS)  # a killed run's half writes
        self.policy = build_policy(self.policy_config, self.seed).to(self.device)
        self.policy.train()
        self.scale = _action_scale(self.policy, self.train_data.action_dim).to(self.device)
        self.optimizer = torch.optim.AdamW(self.policy.parameters(), lr=self.lr,
                                           weight_decay=self.weight_decay)
        self.rng = np.random.default_rng(self.seed)
        self.epoch = 0
        self.global_step = 0
        self.best_val = math.inf
        self.logger = Logger(self.out_dir, tensorboard=self.tensorboard)
        if (self.out_dir / STATE_FILE).is_file():
            self._load_state()
            self.logger.truncate(self.global_step)
            _LOG.info('resumed %s at epoch %d', self.out_dir, self.epoch)

    # -- one step ----------------------------------------------------------------------------
    def loss(self, batch: Batch) -> torch.Tensor:
        """Return the mean squared error in half-range units over the steps after burn-in.

        A window that starts its episode counts all its steps.
        """
        images, imu, elapsed, target = (
            torch.from_numpy(a).to(self.device, non_blocking=True)
            for a in (batch.images, batch.imu, batch.elapsed, batch.actions))
        predicted, _ = self.policy(images, imu, elapsed)
        error = (predicted - target) / self.scale
        mask = torch.ones(error.shape[:2], device=self.device)
        mask[~torch.from_numpy(batch.cold).to(self.device), :self.burn_in] = 0.0
        squared = error.pow(2).mean(-1) * mask
        return squared.sum() / mask.sum()

    def learning_rate(self, epoch: int) -> float:
        """Return ``max(lr * lr_decay**epoch, lr_min)``, the learning rate of ``epoch``.

        It is a function of the epoch alone, so a resumed run continues on the same schedule.
        """
        return max(self.lr * self.lr_decay ** epoch, self.lr_min)

    def _train_step(self) -> float:
        batch = self.train_data.sample(self.batch_size, self.rng, self.start_fraction)
        if self.augment is not None:
            batch = Batch(augment_images(batch.images, self.augment, self.rng), batch.imu,
                          batch.actions, batch.elapsed, batch.cold)
        loss = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.grad_clip)
        self.optimizer.step()
        self.global_step += 1
        return float(loss.detach())

    @torch.no_grad()
    def validation_loss(self, max_windows: int = 256) -> float | None:
        if self.val_data is None:
            return None
        self.policy.eval()
        batches = self.val_data.fixed_windows(max_windows)
        losses = [float(self.loss(b)) * len(b.actions) for b in batches]
        self.policy.train()
        return sum(losses) / sum(len(b.actions) for b in batches)

    # -- the loop ----------------------------------------------------------------------------
    def learn(self, epochs: int, callbacks: Sequence[BaseCallback] = (),
              progress_bar: bool = True) -> ImitationTrainer:
        """Train until ``epochs`` epochs are done in total (a resumed run continues)."""
        callback = CallbackList([*callbacks, *([ProgressBarCallback()] if progress_bar else [])])
        callback.init_callback(self)
        callback.on_training_start(epochs)
        try:
            while self.epoch < epochs:
                for group in self.optimizer.param_groups:
                    group['lr'] = self.learning_rate(self.epoch)
                losses = []
                for _ in range(self.steps_per_epoch):
                    losses.append(self._train_step())
                    if not callback.on_step({'train/loss': losses[-1]}):
                        return self
                self.epoch += 1
                metrics = self._end_epoch(losses)
                if not callback.on_epoch_end(self.epoch, metrics):
                    break
        finally:
            callback.on_training_end()
        return self

    def _end_epoch(self, losses: list[float]) -> dict[str, float]:
        self.logger.record('train/loss', float(np.mean(losses)))
        self.logger.record('train/epoch', self.epoch)
        self.logger.record('train/lr', self.optimizer.param_groups[0]['lr'])
        val = self.validation_loss()
        improved = val is None or val < self.best_val
        if val is not None:
            self.logger.record('val/loss', val)
            self.best_val = min(self.best_val, val)
        self.save_policy(self.out_dir / 'policy_last.pt')
        if improved:
            self.save_policy(self.out_dir / 'policy_best.pt')
        self._save_state()
        return self.logger.dump(self.global_step)

    # -- persistence -------------------------------------------------------------------------
    def save_policy(self, path: str | Path) -> None:
        from lnn_control.models.checkpoint import save_checkpoint

        meta = {**self.metadata, 'epoch': self.epoch, 'global_step': self.global_step,
                'best_val_loss': None if math.isinf(self.best_val) else self.best_val}
        self.policy.eval()
        save_checkpoint(path, self.policy, metadata=meta)
        self.policy.train()

    def _state(self) -> dict[str, Any]:
        return {'version': STATE_VERSION, 'policy': self.policy.state_dict(),
                'policy_config': self.policy.config.to_dict(),
                'optimizer': self.optimizer.state_dict(), 'epoch': self.epoch,
                'global_step': self.global_step, 'best_val': self.best_val,
                'rng': self.rng.bit_generator.state, 'seed': self.seed}

    def _save_state(self) -> None:
        path = self.out_dir / STATE_FILE
        tmp = path.with_suffix('.tmp')
        torch.save(self._state(), tmp)
        os.replace(tmp, path)

    def _load_state(self) -> None:
        path = self.out_dir / STATE_FILE
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as exc:  # torch raises many types for torn/foreign files
            raise TrainerError(f'{path}: cannot read trainer state ({exc}); delete it to '
                               'start over') from None
        if state.get('version') != STATE_VERSION:
            raise TrainerError(f'{path}: state version {state.get("version")!r}, '
                               f'expected {STATE_VERSION}')
        if state['policy_config'] != self.policy.config.to_dict():
            raise TrainerError(f'{path}: saved for a different policy config; use another '
                               'output folder or delete the state to start over')
        if state['seed'] != self.seed:
            raise TrainerError(f'{path}: saved with seed {state["seed"]}, run asks for '
                               f'{self.seed}')
        self.policy.load_state_dict(state['policy'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.epoch, self.global_step = int(state['epoch']), int(state['global_step'])
        self.best_val = float(state['best_val'])
        self.rng.bit_generator.state = state['rng']
