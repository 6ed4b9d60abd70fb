"""The end-to-end policy: camera frame + IMU (+ state inputs) -> conv head -> core -> action.

``Policy`` is what training, simulation, the ROS 2 node and the HIL harness all run. It takes raw
uint8 frames (already resized to ``config.image_hw``) and normalises inside, so every caller
feeds the same thing. The conv head is PilotNet-like but small (four strided convolutions, ~45 k
parameters) so a tick costs a few milliseconds on one CPU core and training runs on CPU.
"""
from __future__ import annotations

from collections.abc import Mapping
import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from lnn_control.models.cores import Core, CORES
from lnn_control.models.state_inputs import check_state_inputs
import torch
from torch import nn, Tensor

VEHICLES = ('rover', 'quad')
#: Per vehicle: image size, action names and bounds (env units; see the env docstrings).
VEHICLE_DEFAULTS: dict[str, dict[str, Any]] = {
    'rover': {'image_hw': (66, 200), 'action_names': ('steering',),
              'action_low': (-1.0,), 'action_high': (1.0,)},
    'quad': {'image_hw': (64, 128), 'action_names': ('roll', 'pitch', 'yaw_rate', 'thrust'),
             'action_low': (-0.6, -0.6, -2.0, 0.0), 'action_high': (0.6, 0.6, 2.0, 1.0)},
}
MIN_IMAGE_SIDE = 37  # the smallest side the four convolutions accept
MAX_IMAGE_SIDE = 1024


@dataclass(frozen=True)
class Normalization:
    """Input statistics: ``(pixel/255 - image_mean) / image_std``, ``(imu - imu_mean) / imu_std``.

    Attributes:
        image_mean: Per RGB channel, in [0, 1] units.
        image_std: Per RGB channel, > 0.
        imu_mean: Per entry of the IMU vector ``[ax, ay, az, gx, gy, gz]`` (m/s^2, rad/s),
            then per state input (``PolicyConfig.state_inputs``).
        imu_std: Per entry, > 0.
    """

    image_mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    image_std: tuple[float, ...] = (0.25, 0.25, 0.25)
    imu_mean: tuple[float, ...] = (0.0, 0.0, 9.81, 0.0, 0.0, 0.0)
    imu_std: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        for name in ('image_mean', 'image_std', 'imu_mean', 'imu_std'):
            value = tuple(float(v) for v in getattr(self, name))
            object.__setattr__(self, name, value)
        for name in ('image_mean', 'image_std'):
            if len(getattr(self, name)) != 3:
                raise ValueError(f'Normalization: {name} needs 3 values (RGB), got '
                                 f'{getattr(self, name)!r}')
        if len(self.imu_mean) != len(self.imu_std):
            raise ValueError(f'Normalization: imu_mean has {len(self.imu_mean)} values but '
                             f'imu_std has {len(self.imu_std)}')
        for name in ('image_std', 'imu_std'):
            if min(getattr(self, name), default=1.0) <= 0:
                raise ValueError(f'Normalization: {name} must be > 0, got {getattr(self, name)!r}')


@dataclass(frozen=True)
class PolicyConfig:
    """Everything needed to rebuild a ``Policy`` (wiring included), as plain data.

    Attributes:
        vehicle: ``rover`` or ``quad``.
        image_hw: Input frame (height, width) in pixels, each in [37, 1024].
        imu_dim: IMU entries (6, or 0 for camera only).
        state_inputs: Names from ``state_inputs.STATE_INPUTS``, appended in order to the IMU
            entries of the ``imu`` vector the policy takes (which holds ``input_dim`` values).
        action_dim: Actions A (1 rover steering, 2 with throttle, 4 quad).
        action_names: One name per action.
        action_low: Lower bound per action, in env units.
        action_high: Upper bound per action, > action_low.
        core: A name from ``CORES``.
        core_options: Core options; defaults are filled in, so the config is complete.
        feature_dim: Features from the head into the core (the NCP's sensory neurons).
        normalization: Input statistics; defaults fit a fresh model, training sets real ones.
    """

    vehicle: str = 'rover'
    image_hw: tuple[int, int] = (66, 200)
    imu_dim: int = 6
    state_inputs: tuple[str, ...] = ()
    action_dim: int = 1
    action_names: tuple[str, ...] = ('steering',)
    action_low: tuple[float, ...] = (-1.0,)
    action_high: tuple[float, ...] = (1.0,)
    core: str = 'ncp_cfc'
    core_options: dict[str, Any] = field(default_factory=dict)
    feature_dim: int = 32
    normalization: Normalization | None = None

    def __post_init__(self) -> None:
        if self.vehicle not in VEHICLES:
            raise ValueError(f'PolicyConfig: vehicle must be one of {VEHICLES}, got '
                             f'{self.vehicle!r}')
        hw = tuple(self.image_hw)
        if len(hw) != 2 or not all(isinstance(s, int) and MIN_IMAGE_SIDE <= s <= MAX_IMAGE_SIDE
                                   for s in hw):
            raise ValueError(f'PolicyConfig: image_hw must be two integers in '
                             f'[{MIN_IMAGE_SIDE}, {MAX_IMAGE_SIDE}], got {self.image_hw!r}')
        object.__setattr__(self, 'image_hw', hw)
        for name, low in (('imu_dim', 0), ('action_dim', 1), ('feature_dim', 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f'PolicyConfig: {name} must be an integer >= {low}, got '
                                 f'{value!r}')
        self._check_actions()
        self._check_state_inputs()
        if self.core not in CORES:
            raise ValueError(f'PolicyConfig: core must be one of {sorted(CORES)}, got '
                             f'{self.core!r}')
        options = CORES[self.core].resolve(self.core, copy.deepcopy(dict(self.core_options)),
                                           self.vehicle, self.feature_dim, self.action_dim)
        object.__setattr__(self, 'core_options', options)
        norm = self.normalization
        if norm is None:
            imu = Normalization() if self.imu_dim == 6 else Normalization(
                imu_mean=(0.0,) * self.imu_dim, imu_std=(1.0,) * self.imu_dim)
            extra = len(self.state_inputs)
            norm = Normalization(imu_mean=imu.imu_mean + (0.0,) * extra,
                                 imu_std=imu.imu_std + (1.0,) * extra)
        elif isinstance(norm, Mapping):
            norm = Normalization(**norm)
        if len(norm.imu_mean) != self.input_dim:
            raise ValueError(f'PolicyConfig: normalization has {len(norm.imu_mean)} IMU and '
                             f'state entries but imu_dim + len(state_inputs) is '
                             f'{self.input_dim}')
        object.__setattr__(self, 'normalization', norm)

    @property
    def input_dim(self) -> int:
        """Length of the ``imu`` vector the policy takes: IMU entries, then state inputs."""
        return self.imu_dim + len(self.state_inputs)

    def _check_state_inputs(self) -> None:
        names = check_state_inputs(self.state_inputs, 'PolicyConfig')
        object.__setattr__(self, 'state_inputs', names)

    def _check_actions(self) -> None:
        for name in ('action_names', 'action_low', 'action_high'):
            value = tuple(getattr(self, name))
            if len(value) != self.action_dim:
                raise ValueError(f'PolicyConfig: {name} needs action_dim={self.action_dim} '
                                 f'values, got {getattr(self, name)!r}')
            if name != 'action_names':
                value = tuple(float(v) for v in value)
            object.__setattr__(self, name, value)
        for i, (low, high) in enumerate(zip(self.action_low, self.action_high, strict=True)):
            if not low < high:
                raise ValueError(f'PolicyConfig: action_low[{i}]={low} must be < '
                                 f'action_high[{i}]={high}')

    @classmethod
    def for_vehicle(cls, vehicle: str, **overrides: Any) -> PolicyConfig:
        """Build the vehicle's defaults (image size, actions and bounds), then ``overrides``."""
        if vehicle not in VEHICLE_DEFAULTS:
            raise ValueError(f'PolicyConfig: vehicle must be one of {VEHICLES}, got {vehicle!r}')
        defaults = VEHICLE_DEFAULTS[vehicle]
        base = {'vehicle': vehicle, **defaults, 'action_dim': len(defaults['action_names'])}
        return cls(**{**base, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dicts, lists, tuples, numbers, strings) for checkpoints and YAML."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyConfig:
        """Inverse of ``to_dict`` (lists from YAML/JSON are accepted where tuples are expected).

        Raises:
            ValueError: on unknown keys or invalid values.
        """
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f'PolicyConfig: unknown keys {sorted(unknown)}')
        values = dict(copy.deepcopy(dict(data)))
        for name in ('image_hw', 'state_inputs', 'action_names', 'action_low', 'action_high'):
            if name in values:
                values[name] = tuple(values[name])
        if isinstance(values.get('normalization'), Mapping):
            values['normalization'] = Normalization(**values['normalization'])
        return cls(**values)


class ConvHead(nn.Module):
    """Image encoder: uint8 frames + IMU (+ state inputs) -> ``feature_dim`` features.

    Four strided convs, pooled, then one linear.

    Shape:
        images (B, H, W, 3) uint8, imu (B, I) -> (B, F).
    """

    def __init__(self, config: PolicyConfig) -> None:
        super().__init__()
        norm = config.normalization
        assert norm is not None  # filled in by PolicyConfig.__post_init__
        mean = torch.tensor(norm.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(norm.image_std).view(1, 3, 1, 1)
        self.register_buffer('pixel_scale', 1.0 / (255.0 * std), persistent=False)
        self.register_buffer('pixel_shift', -mean / std, persistent=False)
        self.register_buffer('imu_mean', torch.tensor(norm.imu_mean), persistent=False)
        self.register_buffer('imu_std', torch.tensor(norm.imu_std), persistent=False)
        self.convs = nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=2), nn.ELU(),
            nn.Conv2d(16, 24, 5, stride=2), nn.ELU(),
            nn.Conv2d(24, 32, 3, stride=2), nn.ELU(),
            nn.Conv2d(32, 32, 3), nn.ELU(),
            nn.AdaptiveAvgPool2d((2, 8)), nn.Flatten())
        self.fc = nn.Linear(32 * 2 * 8 + config.input_dim, config.feature_dim)

    def forward(self, images: Tensor, imu: Tensor) -> Tensor:
        x = images.permute(0, 3, 1, 2).to(self.pixel_scale.dtype)
        x = torch.addcmul(self.pixel_shift, x, self.pixel_scale)
        imu = (imu - self.imu_mean) / self.imu_std
        return self.fc(torch.cat([self.convs(x), imu], 1))


class Policy(nn.Module):
    """Conv head + core + squash to the action bounds; see ``docs/INTERFACES.md``.

    Args:
        config: The complete description; ``Policy(config)`` is all a checkpoint needs.
    """

    def __init__(self, config: PolicyConfig) -> None:
        super().__init__()
        if not isinstance(config, PolicyConfig):
            raise TypeError(f'Policy: expected a PolicyConfig, got {type(config).__name__}')
        self.config = config
        self.head = ConvHead(config)
        spec = CORES[config.core]
        self.core: Core = spec.build(config.core_options, config.feature_dim, config.action_dim)
        low = torch.tensor(config.action_low)
        high = torch.tensor(config.action_high)
        self.register_buffer('action_mid', (high + low) / 2, persistent=False)
        self.register_buffer('action_half', (high - low) / 2, persistent=False)

    @property
    def state_size(self) -> int:
        """Size S of the recurrent state (0 for the feedforward core)."""
        return self.core.state_size

    def initial_state(self, batch: int) -> Tensor:
        """Return a zero state (B, S) on the policy's device."""
        return self.core.initial_state(batch, device=self.action_mid.device)

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of the head, the core and in total.

        A wired core counts only the weights of synapses present in its wiring; its dense
        storage (``core_stored``) also holds the masked-out, always-zero-gradient entries.
        """
        head = sum(p.numel() for p in self.head.parameters() if p.requires_grad)
        core = self.core.parameter_count()
        stored = sum(p.numel() for p in self.core.parameters() if p.requires_grad)
        return {'head': head, 'core': core, 'total': head + core, 'core_stored': stored}

    def forward(self, images: Tensor, imu: Tensor, elapsed: Tensor | None = None,
                hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Actions over a sequence.

        Args:
            images: Raw frames (B, T, H, W, 3) uint8, H x W = ``config.image_hw``.
            imu: IMU samples, then state inputs (B, T, I) float32, I = ``config.input_dim``.
            elapsed: Seconds since the previous tick (B, T), > 0; 1.0 when ``None``.
            hx: State (B, S); zeros when ``None``.

        Returns:
            ``(actions, hx)``: (B, T, A) in env units within the bounds, and the final state.

        Shape:
            images (B, T, H, W, 3), imu (B, T, I), elapsed (B, T), hx (B, S) -> (B, T, A), (B, S).
        """
        batch, steps = self._check(images, imu, 5)
        elapsed = self._elapsed(elapsed, (batch, steps), imu)
        feats = self.head(images.flatten(0, 1), imu.flatten(0, 1)).view(batch, steps, -1)
        hx = self._state(hx, batch, imu)
        y, hx = self.core(feats, elapsed, hx)
        return self.squash(y), hx

    def step(self, image: Tensor, imu: Tensor, elapsed: Tensor | float | None = None,
             hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One control tick.

        Shape:
            image (B, H, W, 3) uint8, imu (B, I), elapsed (B,), hx (B, S) -> (B, A), (B, S).
        """
        batch, _ = self._check(image, imu, 4)
        elapsed = self._elapsed(elapsed, (batch,), imu)
        feats = self.head(image, imu)
        hx = self._state(hx, batch, imu)
        y, hx = self.core.step(feats, elapsed, hx)
        return self.squash(y), hx

    def squash(self, y: Tensor) -> Tensor:
        """Raw core outputs -> actions strictly inside [action_low, action_high]."""
        return torch.addcmul(self.action_mid, torch.tanh(y), self.action_half)

    # -- input checks ----------------------------------------------------------------------------
    def _check(self, images: Tensor, imu: Tensor, ndim: int) -> tuple[int, int]:
        lead = images.shape[:ndim - 3]
        expected = (*self.config.image_hw, 3)
        if images.dtype != torch.uint8:
            raise TypeError(f'Policy: expected uint8 images, got {images.dtype}')
        if images.dim() != ndim or tuple(images.shape[ndim - 3:]) != expected:
            dims = '(B, T, H, W, 3)' if ndim == 5 else '(B, H, W, 3)'
            raise ValueError(f'Policy: expected images {dims} with H, W = '
                             f'{self.config.image_hw}, got {tuple(images.shape)}')
        width = self.config.input_dim
        if not imu.is_floating_point() or tuple(imu.shape) != (*lead, width):
            raise ValueError(f'Policy: expected float imu {(*lead, width)} (IMU entries, then '
                             f'state inputs {list(self.config.state_inputs)}), got '
                             f'{imu.dtype} {tuple(imu.shape)}')
        return lead[0], (lead[1] if ndim == 5 else 1)

    @staticmethod
    def _elapsed(elapsed: Tensor | float | None, shape: tuple[int, ...], ref: Tensor) -> Tensor:
        if elapsed is None:
            return ref.new_ones(shape)
        ts = torch.as_tensor(elapsed, dtype=ref.dtype, device=ref.device)
        if ts.dim() == 0:
            ts = ts.expand(shape)
        if tuple(ts.shape) != shape:
            raise ValueError(f'Policy: expected elapsed {shape}, got {tuple(ts.shape)}')
        return ts

    def _state(self, hx: Tensor | None, batch: int, ref: Tensor) -> Tensor:
        if hx is None:
            return self.core.initial_state(batch, device=ref.device).to(ref.dtype)
        if tuple(hx.shape) != (batch, self.state_size):
            raise ValueError(f'Policy: expected hx ({batch}, {self.state_size}), got '
                             f'{tuple(hx.shape)}')
        return hx
