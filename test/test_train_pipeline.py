"""Trainer, resume and the tiny end-to-end run: record demos -> train -> evaluate."""
from __future__ import annotations

from lnn_control.train.callbacks import BaseCallback
from lnn_control.train.config import ConfigError, load_config, TrainConfig
from lnn_control.train.dataset import SequenceDataset
from lnn_control.train.demos import DemoWriter, Episode
from lnn_control.train.trainer import ImitationTrainer, TrainerError
import numpy as np
import pytest
import torch

POLICY = {'vehicle': 'rover', 'image_hw': [40, 48], 'core': 'ncp_cfc'}


def _synthetic(root, episodes: int = 4, steps: int = 40) -> SequenceDataset:
    """Frames whose brightness encodes the steering label: learnable in a few steps."""
    rng = np.random.default_rng(0)
    writer = DemoWriter(root, vehicle='rover', image_hw=(40, 48), action_names=('steering',))
    for _ in range(episodes):
        steer = np.sin(np.linspace(0, 3, steps) + rng.uniform(0, 6)).astype(np.float32) * 0.8
        images = np.repeat((128 + 100 * steer)[:, None, None, None], 40 * 48 * 3, 1)
        writer.add(Episode(images.reshape(steps, 40, 48, 3).astype(np.uint8),
                           rng.normal(0, 0.1, (steps, 6)).astype(np.float32),
                           steer[:, None], np.full(steps, 0.05, np.float32)))
    return SequenceDataset([root], seq_len=16)


def _trainer(data, out, **kwargs) -> ImitationTrainer:
    return ImitationTrainer(POLICY, data, out, batch_size=4, steps_per_epoch=3, lr=1e-2,
                            tensorboard=False, **kwargs)


class _KillAt(BaseCallback):
    """Simulates a kill (Ctrl-C) at a given global step."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_step(self, metrics) -> bool:
        if self.trainer.global_step == self.step:
            raise KeyboardInterrupt
        return True


def test_training_reduces_loss_and_writes_checkpoints(tmp_path):
    data = _synthetic(tmp_path / 'demos')
    trainer = _trainer(data, tmp_path / 'run', val_data=data)
    before = trainer.validation_loss()
    trainer.learn(4, progress_bar=False)
    assert trainer.validation_loss() < before
    for name in ('policy_best.pt', 'policy_last.pt', 'trainer_state.pt', 'progress.csv'):
        assert (tmp_path / 'run' / name).is_file()
    from lnn_control.models.checkpoint import load_checkpoint

    policy, meta = load_checkpoint(tmp_path / 'run' / 'policy_last.pt', expect_vehicle='rover')
    assert meta['epoch'] == 4 and policy.config.image_hw == (40, 48)


def test_learning_rate_decays_to_its_floor_and_the_optimizer_uses_it(tmp_path):
    data = _synthetic(tmp_path / 'demos', episodes=2)
    trainer = _trainer(data, tmp_path / 'run', lr_decay=0.5, lr_min=2e-3)
    assert [trainer.learning_rate(e) for e in range(4)] == pytest.approx([1e-2, 5e-3, 2.5e-3,
                                                                          2e-3])
    trainer.learn(4, progress_bar=False)
    assert trainer.optimizer.param_groups[0]['lr'] == pytest.approx(2e-3)
    with pytest.raises(ValueError, match='lr_min'):
        _trainer(data, tmp_path / 'bad', lr_min=0.1)


def test_resume_after_kill_matches_uninterrupted_run(tmp_path):
    data = _synthetic(tmp_path / 'demos')
    straight = _trainer(data, tmp_path / 'a').learn(3, progress_bar=False)
    killed = _trainer(data, tmp_path / 'b')
    with pytest.raises(KeyboardInterrupt):
        killed.learn(3, callbacks=[_KillAt(7)], progress_bar=False)  # mid epoch 3
    assert killed.epoch == 2
    resumed = _trainer(data, tmp_path / 'b')
    assert resumed.epoch == 2 and resumed.global_step == 6  # lost only the current epoch
    resumed.learn(3, progress_bar=False)
    for key, value in straight.policy.state_dict().items():
        torch.testing.assert_close(resumed.policy.state_dict()[key], value, rtol=0, atol=0)
    rows = (tmp_path / 'b' / 'progress.csv').read_text().strip().splitlines()
    assert len(rows) == 1 + 3  # header + one row per epoch, none duplicated


def test_resume_with_another_seed_is_refused(tmp_path):
    data = _synthetic(tmp_path / 'demos')
    _trainer(data, tmp_path / 'run').learn(1, progress_bar=False)
    with pytest.raises(TrainerError, match='seed 0, run asks for 1'):
        _trainer(data, tmp_path / 'run', seed=1)


def test_bad_configs_name_field_and_value(tmp_path):
    with pytest.raises(ConfigError, match=r'train\.seq_len: expected a number in \[2, 256\], '
                                          'got 1'):
        TrainConfig.from_dict({'train': {'seq_len': 1}})
    with pytest.raises(ConfigError, match=r"unknown keys \['epochs'\]"):
        TrainConfig.from_dict({'epochs': 3})
    with pytest.raises(ConfigError, match='randomize.scenarios'):
        TrainConfig.from_dict({'regime': 'randomized'})
    with pytest.raises(ConfigError, match="regime: expected one of .* got 'noisy'"):
        TrainConfig.from_dict({'regime': 'noisy'})
    with pytest.raises(ConfigError, match=r"unknown quad expert gains \['climb'\]; known: "
                                          r"\[.*'climb_gain'"):
        TrainConfig.from_dict({'vehicle': 'quad', 'expert': {'climb': 2.0}})
    with pytest.raises(ConfigError, match=r'ExpertConfig.climb_gain: .* got -1'):
        TrainConfig.from_dict({'vehicle': 'quad', 'expert': {'climb_gain': -1}})
    with pytest.raises(ConfigError, match=r'StanleyGains.k: .* got 99'):
        TrainConfig.from_dict({'expert': {'k': 99}})
    path = tmp_path / 'bad.yaml'
    path.write_text('data: {workers: 0}\n')
    with pytest.raises(ConfigError, match=r'bad.yaml: data.workers: expected .* got 0'):
        load_config(path)
    with pytest.raises(ValueError, match='burn_in'):
        _trainer(_synthetic(tmp_path / 'demos'), tmp_path / 'run', burn_in=16)


def test_config_round_trip(tmp_path):
    config = TrainConfig.from_dict({'regime': 'randomized', 'augment': {'noise_std_max': 5.0},
                                    'expert': {'k': 3.0},
                                    'randomize': {'scenarios': ['rain']},
                                    'env': {'kwargs': {'image_hw': [40, 48]}}})
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.shifts_seen == ('clear', 'rain')


def test_tiny_end_to_end_record_train_evaluate(tmp_path):
    """Record rover demos, train a few steps, evaluate on one held-out scenario."""
    from lnn_control.train.evaluate import EvalConfig, evaluate
    from lnn_control.train.pipeline import train_run

    env_kwargs = {'image_hw': [40, 48], 'track_length': 20.0, 'laps': 0.25}
    config = TrainConfig.from_dict({
        'name': 'tiny', 'env': {'kwargs': env_kwargs}, 'policy': POLICY,
        'data': {'episodes': 2, 'max_steps': 40, 'workers': 1},
        'train': {'seq_len': 16, 'batch_size': 2, 'epochs': 1, 'steps_per_epoch': 2,
                  'val_fraction': 0.0},
        'dagger': {'rounds': 1, 'episodes': 1, 'epochs': 1}})
    policy = train_run(config, tmp_path / 'run', progress=False)
    assert policy.is_file()
    from lnn_control.train.demos import read_manifest

    demos = read_manifest(tmp_path / 'run' / 'demos')
    assert len(demos.episodes) == 2 and demos.episodes[0].steps == 40
    assert len(read_manifest(tmp_path / 'run' / 'dagger_01').episodes) == 1
    results = evaluate({'tiny': str(policy)}, EvalConfig(
        env_kwargs={**env_kwargs, 'track_split': 'eval'}, seeds=2, max_steps=20,
        workers=1, noise_vars=(0.1,), rate_scales=(), frame_drops=()), progress=False)
    clear = results['models']['tiny']['clear']
    assert clear['episodes_run'] == 2 and 0.0 <= clear['success_rate'] <= 1.0
    assert results['conditions'] == ['clear', 'noise:0.1']


def test_time_resolution_and_noise_conditions_build_the_right_jobs():
    from lnn_control.train.evaluate import _job, conditions, EvalConfig

    config = EvalConfig(env_kwargs={'control_hz': 20.0}, scenarios=('fog',), severities=(3,),
                        max_steps=100, noise_vars=(0.2,), rate_scales=(0.5,),
                        frame_drops=(0.3,))
    assert conditions(config) == ['clear', 'rate:0.5', 'drop:0.3', 'noise:0.2', 'fog:3']
    slow = _job(config, 'rate:0.5', seed=1, policy_path='p.pt')
    assert slow.env_kwargs['control_hz'] == 10.0 and slow.options.max_steps == 50
    assert _job(config, 'drop:0.3', 1, 'p.pt').options.frame_drop == 0.3
    assert _job(config, 'noise:0.2', 1, 'p.pt').options.input_noise_var == 0.2
    fog = _job(config, 'fog:3', 1, 'p.pt')
    assert fog.scenario == 'fog:3' and fog.options.beta == 0.0
    with pytest.raises(ValueError, match='EvalConfig.severities'):
        EvalConfig(severities=(7,))


def test_run_without_any_data_says_how_to_get_some(tmp_path):
    from lnn_control.train.demos import DatasetError
    from lnn_control.train.pipeline import train_run

    config = TrainConfig.from_dict({'data': {'episodes': 0}})
    with pytest.raises(DatasetError, match='no data: set data.episodes > 0'):
        train_run(config, tmp_path / 'run', progress=False)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    from lnn_control.train.callbacks import EarlyStopping

    stop = EarlyStopping(patience=2, min_delta=0.01)
    losses = [1.0, 0.5, 0.495, 0.6]  # 0.495 is not better by min_delta
    assert [stop.on_epoch_end(i, {'val/loss': v}) for i, v in enumerate(losses)] == [
        True, True, True, False]
    with pytest.raises(ValueError, match='EarlyStopping.patience'):
        EarlyStopping(patience=0)
