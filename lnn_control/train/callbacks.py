"""Training callbacks (SB3's shape): progress bars, early stopping and periodic closed-loop checks.

A callback sees the trainer and may stop the run by returning ``False`` from ``on_step`` or
``on_epoch_end``. Checkpointing is not a callback that can be forgotten: the trainer writes its
resumable state after every epoch itself, and callbacks only add to that.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import logging
from typing import Any, TYPE_CHECKING

if TYPE_CHECKING:
    from lnn_control.train.trainer import ImitationTrainer

_LOG = logging.getLogger(__name__)


class BaseCallback:
    """Hooks called by ``ImitationTrainer.learn``; override the ones you need."""

    def __init__(self) -> None:
        self.trainer: ImitationTrainer | None = None

    def init_callback(self, trainer: ImitationTrainer) -> None:
        self.trainer = trainer

    def on_training_start(self, total_epochs: int) -> None:
        """Before the first epoch of this call to ``learn``."""

    def on_step(self, metrics: Mapping[str, float]) -> bool:
        """After each gradient step; return False to stop."""
        return True

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        """After each epoch (state already saved); return False to stop."""
        return True

    def on_training_end(self) -> None:
        """After the last epoch, also when stopped early or interrupted."""


class CallbackList(BaseCallback):
    """Several callbacks as one; stops when any of them asks to."""

    def __init__(self, callbacks: Sequence[BaseCallback]) -> None:
        super().__init__()
        self.callbacks = list(callbacks)

    def init_callback(self, trainer: ImitationTrainer) -> None:
        super().init_callback(trainer)
        for cb in self.callbacks:
            cb.init_callback(trainer)

    def on_training_start(self, total_epochs: int) -> None:
        for cb in self.callbacks:
            cb.on_training_start(total_epochs)

    def on_step(self, metrics: Mapping[str, float]) -> bool:
        results = [cb.on_step(metrics) for cb in self.callbacks]  # every callback runs
        return all(results)

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        results = [cb.on_epoch_end(epoch, metrics) for cb in self.callbacks]  # every callback runs
        return all(results)

    def on_training_end(self) -> None:
        for cb in self.callbacks:
            cb.on_training_end()


class ProgressBarCallback(BaseCallback):
    """A tqdm bar over gradient steps, showing the running loss."""

    def __init__(self, desc: str = 'train') -> None:
        super().__init__()
        self.desc = desc
        self._bar: Any = None

    def on_training_start(self, total_epochs: int) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError('progress bars need tqdm: pip install tqdm') from exc
        assert self.trainer is not None
        total = total_epochs * self.trainer.steps_per_epoch
        done = self.trainer.epoch * self.trainer.steps_per_epoch
        self._bar = tqdm(total=total, initial=min(done, total), desc=self.desc,
                         unit='step', dynamic_ncols=True)

    def on_step(self, metrics: Mapping[str, float]) -> bool:
        self._bar.update(1)
        if 'train/loss' in metrics:
            self._bar.set_postfix(loss=f'{metrics["train/loss"]:.4f}', refresh=False)
        return True

    def on_training_end(self) -> None:
        if self._bar is not None:
            self._bar.close()


class EarlyStopping(BaseCallback):
    """Stop when ``key`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, key: str = 'val/loss', patience: int = 5, min_delta: float = 0.0) -> None:
        super().__init__()
        if patience < 1:
            raise ValueError(f'EarlyStopping.patience: expected >= 1, got {patience}')
        self.key, self.patience, self.min_delta = key, patience, min_delta
        self.best = float('inf')
        self.waited = 0

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        if self.key not in metrics:
            return True
        if metrics[self.key] < self.best - self.min_delta:
            self.best, self.waited = metrics[self.key], 0
            return True
        self.waited += 1
        if self.waited >= self.patience:
            _LOG.info('early stop: %s did not improve for %d epochs', self.key, self.patience)
            return False
        return True


class EvalCallback(BaseCallback):
    """Every ``every`` epochs, run ``evaluate(policy) -> {name: value}``; log it as ``eval/``."""

    def __init__(self, evaluate: Callable[[Any], Mapping[str, float]], every: int = 1) -> None:
        super().__init__()
        if every < 1:
            raise ValueError(f'EvalCallback.every: expected >= 1, got {every}')
        self.evaluate, self.every = evaluate, every

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        if epoch % self.every == 0:
            assert self.trainer is not None
            for key, value in self.evaluate(self.trainer.policy).items():
                self.trainer.logger.record(f'eval/{key}', value)
            self.trainer.logger.dump(self.trainer.global_step)
        return True
