"""Training run configuration: frozen dataclasses read from ``config/train/*.yaml``.

One YAML file describes a whole run: the env, the expert's gains (``expert:``, the fields of the
vehicle's gains dataclass; defaults when left out), the demonstrations to record, the policy
(its ``policy:`` section is ``PolicyConfig.to_dict()``), the regime, BPTT settings and DAgger.
Unknown keys and out-of-range values are errors that name the file, the field and the range.
"""
from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lnn_control.models.state_inputs import check_state_inputs
from lnn_control.train.augment import AugmentConfig
from lnn_control.train.experts import expert_gains
import yaml

REGIMES = ('clean', 'randomized')
VEHICLES = ('rover', 'quad')


class ConfigError(ValueError):
    """A training config is wrong: the message names the file, the field and what was expected."""


def _check(owner: str, name: str, value: Any, low: float, high: float | None = None) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low and (
        high is None or value <= high)
    if not ok:
        expected = f'>= {low}' if high is None else f'in [{low}, {high}]'
        raise ConfigError(f'{owner}.{name}: expected a number {expected}, got {value!r}')


@dataclass(frozen=True)
class EnvSection:
    """Which env to build and with what kwargs (scenario is set per episode)."""

    id: str = 'lnn_control/RoverLane-v0'  # noqa: A003 (the YAML key env.id)
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or '/' not in self.id:
            raise ConfigError(f'env.id: expected a registered id such as '
                              f"'lnn_control/RoverLane-v0', got {self.id!r}")


@dataclass(frozen=True)
class DataSection:
    """Expert demonstrations: how many, how long, and the DART noise injected while recording.

    The executed action is ``expert + noise``, noise drawn ``N(0, noise_std)`` and held for
    ``noise_hold`` steps (a drift a policy must learn to recover from); the label stays the
    expert's clean action. ``extra`` lists dataset folders to train on too (imported bags);
    ``episodes: 0`` trains on those alone.
    """

    episodes: int = 32
    max_steps: int = 600
    noise_std: float = 0.2
    noise_hold: int = 5
    noise_fraction: float = 0.8
    workers: int = 2
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check('data', 'episodes', self.episodes, 0)
        _check('data', 'max_steps', self.max_steps, 1)
        _check('data', 'noise_std', self.noise_std, 0.0, 10.0)
        _check('data', 'noise_hold', self.noise_hold, 1)
        _check('data', 'noise_fraction', self.noise_fraction, 0.0, 1.0)
        _check('data', 'workers', self.workers, 1, 64)


@dataclass(frozen=True)
class RandomizeSection:
    """Domain randomization: scenarios drawn per episode in the ``randomized`` regime.

    These are the shifts the policy *sees* in training; the report judges robustness on the
    others.
    """

    scenarios: tuple[str, ...] = ()
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    clear_fraction: float = 0.3

    def __post_init__(self) -> None:
        bad = [s for s in self.severities if s not in (1, 2, 3, 4, 5)]
        if bad or not self.severities:
            raise ConfigError(f'randomize.severities: expected values in 1-5, '
                              f'got {list(self.severities)}')
        _check('randomize', 'clear_fraction', self.clear_fraction, 0.0, 1.0)


@dataclass(frozen=True)
class OptimSection:
    """BPTT settings (see ``ImitationTrainer``)."""

    seq_len: int = 32
    batch_size: int = 16
    lr: float = 3e-3
    lr_decay: float = 0.9
    lr_min: float = 0.0
    weight_decay: float = 0.0
    epochs: int = 20
    steps_per_epoch: int = 100
    burn_in: int = 4
    start_fraction: float = 0.0
    grad_clip: float = 1.0
    val_fraction: float = 0.1

    def __post_init__(self) -> None:
        _check('train', 'seq_len', self.seq_len, 2, 256)
        _check('train', 'batch_size', self.batch_size, 1)
        _check('train', 'lr', self.lr, 1e-7, 1.0)
        _check('train', 'lr_decay', self.lr_decay, 1e-3, 1.0)
        _check('train', 'lr_min', self.lr_min, 0.0, self.lr)
        _check('train', 'weight_decay', self.weight_decay, 0.0, 1.0)
        _check('train', 'epochs', self.epochs, 1)
        _check('train', 'steps_per_epoch', self.steps_per_epoch, 1)
        _check('train', 'burn_in', self.burn_in, 0, self.seq_len - 1)
        _check('train', 'start_fraction', self.start_fraction, 0.0, 1.0)
        _check('train', 'grad_clip', self.grad_clip, 1e-6)
        _check('train', 'val_fraction', self.val_fraction, 0.0, 0.9)


@dataclass(frozen=True)
class DaggerSection:
    """DAgger: rounds of learner driving and expert labelling after the first training.

    ``rounds`` times: drive with the learner (the expert takes over with probability
    ``beta * beta_decay**round`` per episode), let the expert label every visited state, add
    the episodes, train ``epochs`` more epochs.
    """

    rounds: int = 0
    episodes: int = 8
    epochs: int = 3
    beta: float = 0.5
    beta_decay: float = 0.5

    def __post_init__(self) -> None:
        _check('dagger', 'rounds', self.rounds, 0, 50)
        _check('dagger', 'episodes', self.episodes, 1)
        _check('dagger', 'epochs', self.epochs, 1)
        _check('dagger', 'beta', self.beta, 0.0, 1.0)
        _check('dagger', 'beta_decay', self.beta_decay, 0.0, 1.0)


_SECTIONS: dict[str, type] = {'env': EnvSection, 'data': DataSection,
                              'randomize': RandomizeSection, 'train': OptimSection,
                              'dagger': DaggerSection}


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run. ``policy`` is the ``PolicyConfig`` dict (validated by the model)."""

    name: str = 'rover_ncp_cfc'
    vehicle: str = 'rover'
    regime: str = 'clean'
    seed: int = 0
    threads: int = 2
    env: EnvSection = field(default_factory=EnvSection)
    expert: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)
    data: DataSection = field(default_factory=DataSection)
    randomize: RandomizeSection = field(default_factory=RandomizeSection)
    augment: AugmentConfig | None = None
    train: OptimSection = field(default_factory=OptimSection)
    dagger: DaggerSection = field(default_factory=DaggerSection)

    def __post_init__(self) -> None:
        if self.vehicle not in VEHICLES:
            raise ConfigError(f'vehicle: expected one of {VEHICLES}, got {self.vehicle!r}')
        if self.regime not in REGIMES:
            raise ConfigError(f'regime: expected one of {REGIMES}, got {self.regime!r}')
        if self.regime == 'randomized' and not self.randomize.scenarios:
            raise ConfigError('randomize.scenarios: the randomized regime needs at least one '
                              'scenario to randomize over')
        if self.regime == 'clean' and self.augment is not None:
            raise ConfigError('augment: the clean regime trains without augmentation; set '
                              "regime: randomized or remove 'augment'")
        try:
            expert_gains(self.vehicle, self.expert)
            check_state_inputs(self.policy.get('state_inputs', ()), 'policy')
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        _check('', 'seed', self.seed, 0)
        _check('', 'threads', self.threads, 1, 256)
        if not self.name or '/' in self.name:
            raise ConfigError(f'name: expected a non-empty name without "/", got {self.name!r}')

    @property
    def shifts_seen(self) -> tuple[str, ...]:
        """Scenario names this run trains on (``clear`` always)."""
        return ('clear', *self.randomize.scenarios) if self.regime == 'randomized' \
            else ('clear',)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, where: str = 'config') -> TrainConfig:
        if not isinstance(doc, Mapping):
            raise ConfigError(f'{where}: expected a mapping, got {type(doc).__name__}')
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(doc) - names
        if unknown:
            raise ConfigError(f'{where}: unknown keys {sorted(unknown)}; known: {sorted(names)}')
        kwargs: dict[str, Any] = {}
        try:
            for key, value in doc.items():
                if key in _SECTIONS:
                    kwargs[key] = _section(_SECTIONS[key], key, value or {})
                elif key == 'augment':
                    kwargs[key] = None if value is None else AugmentConfig.from_dict(value)
                elif key in ('policy', 'expert'):
                    if not isinstance(value or {}, Mapping):
                        raise ConfigError(f'{key}: expected a mapping, got {type(value).__name__}')
                    kwargs[key] = dict(value or {})
                else:
                    kwargs[key] = value
            return cls(**kwargs)
        except ConfigError as exc:
            raise ConfigError(f'{where}: {exc}') from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f'{where}: {exc}') from None


def _section(cls: type, key: str, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ConfigError(f'{key}: expected a mapping, got {type(value).__name__}')
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(value) - set(names)
    if unknown:
        raise ConfigError(f'{key}: unknown keys {sorted(unknown)}; known: {sorted(names)}')
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    return cls(**converted)


def _plain(value: Any) -> Any:
    """Tuples to lists and mappings to dicts, so the dict dumps to YAML/JSON as it was read."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config; ``overrides`` maps dotted keys (``train.epochs``) to values."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f'training config not found: {path}') from None
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from None
    if not isinstance(doc, dict):
        raise ConfigError(f'{path}: expected a mapping at the top level, got '
                          f'{type(doc).__name__}')
    for dotted, value in (overrides or {}).items():
        node = doc
        *parents, leaf = dotted.split('.')
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f'{path}: override {dotted!r}: {part} is not a section')
        node[leaf] = value
    return TrainConfig.from_dict(doc, where=str(path))
