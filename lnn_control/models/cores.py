"""Recurrent cores a ``Policy`` can sit on, behind one interface, chosen from ``CORES``.

Every core maps features (B, T, F) and elapsed times (B, T) to raw outputs (B, T, A), carrying a
single state tensor (B, S) (LSTM packs h and c side by side; the feedforward core has S = 0), so
callers never special-case a core. Continuous-time cores use the elapsed times; discrete ones
ignore them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lnn_control.models.cfc import CFC_MAPS, CfCCell
from lnn_control.models.ltc import LTCCell
from lnn_control.models.sequence import LiquidRNN
from lnn_control.models.wiring import (
    drone_ncp,
    FullyConnected,
    rover_ncp,
    Wiring,
    wiring_from_dict,
)
import numpy as np
import torch
from torch import nn, Tensor


class Core(nn.Module):
    """Interface: ``forward`` over sequences, ``step`` over one tick, one state tensor."""

    state_size: int = 0

    def initial_state(self, batch: int, device: torch.device | None = None) -> Tensor:
        """Return a zero state (B, S)."""
        return torch.zeros(batch, self.state_size, device=device)

    def forward(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        """Raw outputs and the final state for a sequence of features.

        Shape:
            u (B, T, F), elapsed (B, T), hx (B, S) -> y (B, T, A), hx (B, S).
        """
        raise NotImplementedError

    def parameter_count(self) -> int:
        """Trainable numbers that can affect the output."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def step(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        """One tick (the same numbers as ``forward`` over a sequence of length 1).

        Shape:
            u (B, F), elapsed (B,), hx (B, S) -> y (B, A), hx (B, S).
        """
        y, hx = self.forward(u.unsqueeze(1), elapsed.unsqueeze(1), hx)
        return y[:, 0], hx


class LiquidCore(Core):
    """A wired CfC or LTC cell; its motor neurons are the outputs."""

    def __init__(self, cell: CfCCell | LTCCell) -> None:
        super().__init__()
        self.rnn = LiquidRNN(cell)
        self.state_size = cell.hidden_size

    def forward(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        y, hx = self.rnn(u, hx, elapsed)
        return y, hx

    def parameter_count(self) -> int:
        """Only the weights of synapses present in the wiring (masked entries excluded)."""
        return self.rnn.cell.synaptic_parameter_count()

    def step(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        return self.rnn.step(u, hx, elapsed)


class GatedCore(Core):
    """``nn.LSTM`` or ``nn.GRU`` with a linear readout (discrete time: elapsed is ignored)."""

    def __init__(self, kind: str, input_size: int, units: int, outputs: int) -> None:
        super().__init__()
        rnn_cls = {'lstm': nn.LSTM, 'gru': nn.GRU}[kind]
        self.rnn = rnn_cls(input_size, units, batch_first=True)
        self.readout = nn.Linear(units, outputs)
        self.units = units
        self.is_lstm = kind == 'lstm'
        self.state_size = 2 * units if self.is_lstm else units

    def forward(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        if self.is_lstm:
            h, c = hx[:, :self.units], hx[:, self.units:]
            out, (h, c) = self.rnn(u, (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()))
            return self.readout(out), torch.cat([h[0], c[0]], 1)
        out, h = self.rnn(u, hx.unsqueeze(0).contiguous())
        return self.readout(out), h[0]


class FeedforwardCore(Core):
    """The CNN baseline: a memoryless MLP on the features (state size 0)."""

    def __init__(self, input_size: int, units: int, outputs: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(input_size, units), nn.ReLU(), nn.Linear(units, outputs))

    def forward(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        return self.mlp(u), hx


class EchoStateCore(Core):
    """Echo-state reservoir (Jaeger 2001): fixed random recurrence, only the readout learns.

    ``h <- (1 - leak) h + leak tanh(W_in u + W h + b)`` with ``W`` sparse and scaled to the given
    spectral radius. The reservoir lives in buffers (saved, never trained), drawn from ``seed``.
    """

    def __init__(self, input_size: int, units: int, outputs: int, *, spectral_radius: float,
                 density: float, leak: float, input_scale: float, seed: int) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        w = rng.uniform(-1.0, 1.0, (units, units)) * (rng.random((units, units)) < density)
        radius = float(np.max(np.abs(np.linalg.eigvals(w)))) or 1.0
        w_in = rng.uniform(-input_scale, input_scale, (units, input_size))
        bias = rng.uniform(-0.1, 0.1, units)
        w = w * spectral_radius / radius
        self.register_buffer('w', torch.as_tensor(w, dtype=torch.float32))
        self.register_buffer('w_in', torch.as_tensor(w_in, dtype=torch.float32))
        self.register_buffer('bias', torch.as_tensor(bias, dtype=torch.float32))
        self.leak = leak
        self.readout = nn.Linear(units, outputs)
        self.state_size = units

    def forward(self, u: Tensor, elapsed: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        drive = torch.nn.functional.linear(u, self.w_in, self.bias)  # (B, T, R) in one matmul
        states = []
        h = hx
        for t in range(u.shape[1]):
            h = torch.lerp(h, torch.tanh(torch.addmm(drive[:, t], h, self.w.t())), self.leak)
            states.append(h)
        return self.readout(torch.stack(states, 1)), h


def _check_options(core: str, options: Mapping[str, Any], checks: Mapping[str, Callable[
        [Any], bool]], ranges: Mapping[str, str]) -> None:
    """Raise ``ValueError`` naming the core, option, value and expected range."""
    for key, value in options.items():
        if key not in checks:
            raise ValueError(f'PolicyConfig: core {core!r} has no option {key!r}; '
                             f'known: {sorted(checks)}')
        if not checks[key](value):
            raise ValueError(f'PolicyConfig: core_options[{key!r}] for core {core!r} must be '
                             f'{ranges[key]}, got {value!r}')


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _in_open_unit(v: Any) -> bool:
    return isinstance(v, (int, float)) and 0.0 < v <= 1.0


def _is_wiring_dict(v: Any) -> bool:
    return isinstance(v, Mapping) and 'kind' in v


@dataclass(frozen=True)
class CoreSpec:
    """A registry entry: default options, validators, and the builder.

    Attributes:
        defaults: ``(vehicle, features, actions) -> options`` used where the config omits one.
        checks: Per option, a predicate; ``ranges`` says in words what it accepts.
        ranges: Human-readable accepted range per option.
        build: ``(options, features, actions) -> Core``.
        continuous: Whether the core uses elapsed time.
    """

    defaults: Callable[[str, int, int], dict[str, Any]]
    checks: Mapping[str, Callable[[Any], bool]]
    ranges: Mapping[str, str]
    build: Callable[[Mapping[str, Any], int, int], Core]
    continuous: bool

    def resolve(self, name: str, options: Mapping[str, Any], vehicle: str, features: int,
                actions: int) -> dict[str, Any]:
        """Defaults merged with ``options``, validated."""
        resolved = {**self.defaults(vehicle, features, actions), **options}
        _check_options(name, resolved, self.checks, self.ranges)
        return resolved


def default_wiring(vehicle: str, features: int, actions: int) -> dict[str, Any]:
    """Return the 19-neuron preset for the vehicle, as a config dict."""
    if vehicle == 'quad' and actions == 4:
        return drone_ncp(input_dim=features).to_dict()
    return rover_ncp(input_dim=features, motor=actions).to_dict()


def _wired_cell(options: Mapping[str, Any], features: int, actions: int,
                cell: str) -> LiquidCore:
    wiring: Wiring = wiring_from_dict(options['wiring'])
    if wiring.output_dim != actions:
        raise ValueError(f'PolicyConfig: wiring has {wiring.output_dim} motor neurons but '
                         f'action_dim is {actions}')
    if wiring.input_dim not in (None, features):
        raise ValueError(f'PolicyConfig: wiring input_dim {wiring.input_dim} != feature_dim '
                         f'{features}')
    if cell == 'ltc':
        return LiquidCore(LTCCell(features, wiring, ode_unfolds=options['ode_unfolds']))
    return LiquidCore(CfCCell(features, wiring, mode=options['mode']))


_UNITS = {'units': _int_at_least(1)}
_UNITS_RANGE = {'units': 'an integer >= 1'}

CORES: dict[str, CoreSpec] = {
    'ncp_cfc': CoreSpec(
        defaults=lambda v, f, a: {'wiring': default_wiring(v, f, a), 'mode': 'default'},
        checks={'wiring': _is_wiring_dict, 'mode': lambda m: m in CFC_MAPS},
        ranges={'wiring': 'a Wiring.to_dict() mapping', 'mode': f'one of {sorted(CFC_MAPS)}'},
        build=lambda o, f, a: _wired_cell(o, f, a, 'cfc'), continuous=True),
    'ncp_ltc': CoreSpec(
        defaults=lambda v, f, a: {'wiring': default_wiring(v, f, a), 'ode_unfolds': 6},
        checks={'wiring': _is_wiring_dict, 'ode_unfolds': _int_at_least(1)},
        ranges={'wiring': 'a Wiring.to_dict() mapping', 'ode_unfolds': 'an integer >= 1'},
        build=lambda o, f, a: _wired_cell(o, f, a, 'ltc'), continuous=True),
    'cfc_dense': CoreSpec(
        defaults=lambda v, f, a: {'units': 64, 'mode': 'default'},
        checks={**_UNITS, 'mode': lambda m: m in CFC_MAPS},
        ranges={**_UNITS_RANGE, 'mode': f'one of {sorted(CFC_MAPS)}'},
        build=lambda o, f, a: LiquidCore(CfCCell(
            f, FullyConnected(max(o['units'], a), a), mode=o['mode'])),
        continuous=True),
    'lstm': CoreSpec(
        defaults=lambda v, f, a: {'units': 64}, checks=_UNITS, ranges=_UNITS_RANGE,
        build=lambda o, f, a: GatedCore('lstm', f, o['units'], a), continuous=False),
    'gru': CoreSpec(
        defaults=lambda v, f, a: {'units': 64}, checks=_UNITS, ranges=_UNITS_RANGE,
        build=lambda o, f, a: GatedCore('gru', f, o['units'], a), continuous=False),
    'feedforward': CoreSpec(
        defaults=lambda v, f, a: {'units': 64}, checks=_UNITS, ranges=_UNITS_RANGE,
        build=lambda o, f, a: FeedforwardCore(f, o['units'], a), continuous=False),
    'esn': CoreSpec(
        defaults=lambda v, f, a: {'units': 128, 'spectral_radius': 0.9, 'density': 0.1,
                                  'leak': 0.5, 'input_scale': 0.5, 'seed': 0},
        checks={**_UNITS, 'spectral_radius': lambda r: isinstance(r, (int, float)) and 0 < r < 2,
                'density': _in_open_unit, 'leak': _in_open_unit,
                'input_scale': lambda s: isinstance(s, (int, float)) and s > 0,
                'seed': _int_at_least(0)},
        ranges={**_UNITS_RANGE, 'spectral_radius': 'in (0, 2)', 'density': 'in (0, 1]',
                'leak': 'in (0, 1]', 'input_scale': '> 0', 'seed': 'an integer >= 0'},
        build=lambda o, f, a: EchoStateCore(
            f, o['units'], a, spectral_radius=float(o['spectral_radius']),
            density=float(o['density']), leak=float(o['leak']),
            input_scale=float(o['input_scale']), seed=o['seed']),
        continuous=False),
}
