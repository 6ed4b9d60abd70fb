"""Wirings: which neuron talks to which, with what sign (after ncps' ``wirings.py``).

A wiring is a directed graph over ``units`` neurons plus ``input_dim`` sensory inputs. Synapses are
stored as polarity matrices: ``adjacency[src, dest]`` and ``sensory_adjacency[src, dest]`` hold
+1 (excitatory), -1 (inhibitory) or 0 (no synapse).

Neurons are numbered layer by layer in processing order (for an NCP: inter, command, motor), so
each layer is a contiguous slice of the state, and the output (motor) neurons are always the last
``output_dim`` neurons. The cells use the layers to chain within one tick.

Every random draw comes from the wiring's own ``np.random.default_rng(seed)``, so the same
config gives the same graph, and ``wiring_from_dict(w.to_dict())`` rebuilds it exactly.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np


class Wiring:
    """Base class: a polarity graph over neurons, built once the input size is known.

    Args:
        units: Number of neurons N (the state size).
        output_dim: Number of output (motor) neurons, the last ``output_dim`` neurons.
        input_dim: Number of sensory inputs D; ``None`` builds later, via ``build``.
        seed: Seed of the wiring's own generator.
    """

    kind: ClassVar[str] = ''

    def __init__(self, units: int, output_dim: int, input_dim: int | None = None,
                 seed: int = 0) -> None:
        _check_int(type(self).__name__, 'units', units, 1)
        _check_int(type(self).__name__, 'output_dim', output_dim, 1, units)
        self.seed = _check_int(type(self).__name__, 'seed', seed, 0)
        self.units = units
        self.output_dim = output_dim
        self.input_dim: int | None = None
        self.adjacency = np.zeros((units, units), dtype=np.int8)
        self.sensory_adjacency: np.ndarray | None = None
        if input_dim is not None:
            self.build(input_dim)

    # -- structure -------------------------------------------------------------------------------
    @property
    def layers(self) -> tuple[range, ...]:
        """Neuron index ranges per layer, in processing order (one layer unless overridden)."""
        return (range(self.units),)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """One name per layer, used in summaries and graphs."""
        return ('hidden',)

    def layer_of(self, neuron: int) -> int:
        """Index of the layer that holds ``neuron``."""
        for index, layer in enumerate(self.layers):
            if neuron in layer:
                return index
        raise ValueError(f'{type(self).__name__}: neuron {neuron} outside 0..{self.units - 1}')

    def is_built(self) -> bool:
        """Return True once the sensory adjacency exists."""
        return self.sensory_adjacency is not None

    def build(self, input_dim: int) -> Wiring:
        """Draw the synapses for ``input_dim`` sensory inputs (idempotent for the same size).

        Raises:
            ValueError: if the wiring was already built for a different input size.
        """
        _check_int(type(self).__name__, 'input_dim', input_dim, 1)
        if self.input_dim is not None:
            if input_dim != self.input_dim:
                raise ValueError(
                    f'{type(self).__name__}: built for input_dim={self.input_dim}, '
                    f'cannot rebuild for input_dim={input_dim}')
            return self
        self.input_dim = input_dim
        self.adjacency = np.zeros((self.units, self.units), dtype=np.int8)
        self.sensory_adjacency = np.zeros((input_dim, self.units), dtype=np.int8)
        self._draw(np.random.default_rng(self.seed))
        return self

    def _draw(self, rng: np.random.Generator) -> None:
        """Fill ``adjacency`` and ``sensory_adjacency``; subclasses implement it."""
        raise NotImplementedError

    def _require_built(self) -> np.ndarray:
        if self.sensory_adjacency is None:
            raise RuntimeError(
                f'{type(self).__name__}: not built yet; call build(input_dim) or pass input_dim')
        return self.sensory_adjacency

    # -- counts ----------------------------------------------------------------------------------
    @property
    def synapse_count(self) -> int:
        """Neuron-to-neuron synapses."""
        return int(np.count_nonzero(self.adjacency))

    @property
    def sensory_synapse_count(self) -> int:
        """Sensory-to-neuron synapses."""
        return int(np.count_nonzero(self._require_built()))

    def synapses_per_layer(self) -> dict[str, int]:
        """Synapse counts per (source layer -> destination layer) pair, sensory first."""
        sensory = self._require_built()
        names = self.layer_names
        counts: dict[str, int] = {}
        for dst, dst_layer in enumerate(self.layers):
            cols = slice(dst_layer.start, dst_layer.stop)
            n = int(np.count_nonzero(sensory[:, cols]))
            if n:
                counts[f'sensory->{names[dst]}'] = n
        for src, src_layer in enumerate(self.layers):
            for dst, dst_layer in enumerate(self.layers):
                block = self.adjacency[src_layer.start:src_layer.stop,
                                       dst_layer.start:dst_layer.stop]
                n = int(np.count_nonzero(block))
                if n:
                    counts[f'{names[src]}->{names[dst]}'] = n
        return counts

    def summary(self) -> str:
        """Human-readable one-screen description: layer sizes and synapse counts."""
        pairs = zip(self.layer_names, self.layers, strict=True)
        sizes = ', '.join(f'{len(r)} {n}' for n, r in pairs)
        lines = [f'{type(self).__name__}: {self.input_dim} sensory -> {sizes} '
                 f'({self.units} neurons, {self.output_dim} outputs)']
        lines += [f'  {pair:<20} {count:4d} synapses' for pair, count in
                  self.synapses_per_layer().items()]
        lines.append(f'  {"total":<20} {self.synapse_count + self.sensory_synapse_count:4d} '
                     'synapses')
        return '\n'.join(lines)

    # -- config ----------------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """Return the constructor arguments (without ``input_dim``); subclasses extend."""
        return {'units': self.units, 'output_dim': self.output_dim}

    def to_dict(self) -> dict[str, Any]:
        """Plain-data config that ``wiring_from_dict`` turns back into the same wiring."""
        return {'kind': self.kind, **self.params(), 'input_dim': self.input_dim}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Wiring):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items())))

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in {**self.params(),
                                                   'input_dim': self.input_dim}.items())
        return f'{type(self).__name__}({args})'

    # -- drawing ---------------------------------------------------------------------------------
    def graph(self) -> dict[str, list[dict[str, Any]]]:
        """Nodes and edges for drawing (no plotting dependency).

        Nodes: ``{'id': 's3' or 'n7', 'layer': 'sensory'|layer name, 'index': int}``.
        Edges: ``{'src': id, 'dest': id, 'polarity': +1|-1}``.
        """
        sensory = self._require_built()
        nodes = [{'id': f's{i}', 'layer': 'sensory', 'index': i} for i in range(len(sensory))]
        for name, layer in zip(self.layer_names, self.layers, strict=True):
            nodes += [{'id': f'n{i}', 'layer': name, 'index': i} for i in layer]
        edges = [{'src': f's{s}', 'dest': f'n{d}', 'polarity': int(sensory[s, d])}
                 for s, d in zip(*np.nonzero(sensory), strict=True)]
        edges += [{'src': f'n{s}', 'dest': f'n{d}', 'polarity': int(self.adjacency[s, d])}
                  for s, d in zip(*np.nonzero(self.adjacency), strict=True)]
        return {'nodes': nodes, 'edges': edges}


def draw_wiring(wiring: Wiring, ax: Any = None) -> Any:
    """Draw ``wiring`` in columns (sensory, then each layer); returns the matplotlib axes.

    Excitatory synapses are green, inhibitory ones red. matplotlib is imported lazily.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # optional dependency
        raise ImportError("draw_wiring needs matplotlib: pip install 'lnn_control[viz]'") from exc
    graph = wiring.graph()
    columns = ['sensory', *wiring.layer_names]
    members: dict[str, list[str]] = {c: [] for c in columns}
    for node in graph['nodes']:
        members[node['layer']].append(node['id'])
    pos = {}
    for x, column in enumerate(columns):
        ids = members[column]
        for k, node_id in enumerate(ids):
            pos[node_id] = (x, (k + 0.5) / len(ids))
    if ax is None:
        _, ax = plt.subplots(figsize=(2.5 * len(columns), 6))
    for edge in graph['edges']:
        (x0, y0), (x1, y1) = pos[edge['src']], pos[edge['dest']]
        color = 'tab:green' if edge['polarity'] > 0 else 'tab:red'
        ax.plot([x0, x1], [y0, y1], color=color, alpha=0.3, linewidth=0.6)
    for x, column in enumerate(columns):
        ys = [pos[i][1] for i in members[column]]
        ax.scatter([x] * len(ys), ys, s=30, zorder=3, label=column)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks([])
    return ax


class FullyConnected(Wiring):
    """Every neuron to every neuron (self-connections optional) and every input to every neuron.

    Polarities are drawn at random with a 2:1 bias towards excitatory, as in ncps.
    """

    kind = 'FullyConnected'

    def __init__(self, units: int, output_dim: int | None = None, *,
                 self_connections: bool = True, seed: int = 1111,
                 input_dim: int | None = None) -> None:
        self.self_connections = bool(self_connections)
        super().__init__(units, units if output_dim is None else output_dim, input_dim, seed)

    def _draw(self, rng: np.random.Generator) -> None:
        polarity = rng.choice(np.array([-1, 1, 1], dtype=np.int8), size=self.adjacency.shape)
        if not self.self_connections:
            np.fill_diagonal(polarity, 0)
        self.adjacency[:] = polarity
        self.sensory_adjacency[:] = rng.choice(  # type: ignore[index]
            np.array([-1, 1, 1], dtype=np.int8), size=self.sensory_adjacency.shape)

    def params(self) -> dict[str, Any]:
        return {**super().params(), 'self_connections': self.self_connections,
                'seed': self.seed}


class Random(Wiring):
    """A random fraction ``1 - sparsity`` of all possible synapses (inputs included)."""

    kind = 'Random'

    def __init__(self, units: int, output_dim: int | None = None, sparsity: float = 0.5, *,
                 seed: int = 1111, input_dim: int | None = None) -> None:
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f'Random: sparsity must be in [0, 1), got {sparsity!r}')
        self.sparsity = float(sparsity)
        super().__init__(units, units if output_dim is None else output_dim, input_dim, seed)

    def _draw(self, rng: np.random.Generator) -> None:
        for matrix in (self.adjacency, self.sensory_adjacency):
            keep = rng.random(matrix.shape) >= self.sparsity  # type: ignore[union-attr]
            sign = rng.choice(np.array([-1, 1, 1], dtype=np.int8), size=keep.shape)
            matrix[:] = np.where(keep, sign, 0)  # type: ignore[index]

    def params(self) -> dict[str, Any]:
        return {**super().params(), 'sparsity': self.sparsity, 'seed': self.seed}


class NCP(Wiring):
    """Neural circuit policy: sensory -> inter -> command (recurrent) -> motor.

    Args:
        inter: Inter neurons (layer 1).
        command: Command neurons (layer 2).
        motor: Motor neurons (layer 3, the outputs).
        sensory_fanout: Inter neurons each sensory input projects to.
        inter_fanout: Command neurons each inter neuron projects to.
        recurrent_command_synapses: Command->command synapses drawn (duplicates merge).
        motor_fanin: Command neurons each motor neuron listens to.
        seed: Seed of the wiring's generator.
        input_dim: Sensory inputs; ``None`` builds later.
    """

    kind = 'NCP'

    def __init__(self, inter: int, command: int, motor: int, sensory_fanout: int,
                 inter_fanout: int, recurrent_command_synapses: int, motor_fanin: int,
                 seed: int = 22222, *, input_dim: int | None = None) -> None:
        _check_int('NCP', 'inter', inter, 1)
        _check_int('NCP', 'command', command, 1)
        _check_int('NCP', 'motor', motor, 1)
        _check_int('NCP', 'sensory_fanout', sensory_fanout, 1, inter)
        _check_int('NCP', 'inter_fanout', inter_fanout, 1, command)
        _check_int('NCP', 'recurrent_command_synapses', recurrent_command_synapses, 0)
        _check_int('NCP', 'motor_fanin', motor_fanin, 1, command)
        self.inter, self.command, self.motor = inter, command, motor
        self.sensory_fanout = sensory_fanout
        self.inter_fanout = inter_fanout
        self.recurrent_command_synapses = recurrent_command_synapses
        self.motor_fanin = motor_fanin
        super().__init__(inter + command + motor, motor, input_dim, seed)

    @property
    def layers(self) -> tuple[range, ...]:
        a, b = self.inter, self.inter + self.command
        return (range(0, a), range(a, b), range(b, self.units))

    @property
    def layer_names(self) -> tuple[str, ...]:
        return ('inter', 'command', 'motor')

    def _draw(self, rng: np.random.Generator) -> None:
        inter, command, motor = (np.array(r) for r in self.layers)
        sensory = np.arange(self.input_dim)  # type: ignore[arg-type]
        sign = np.array([-1, 1], dtype=np.int8)
        self._fan(rng, self.sensory_adjacency, sensory, inter, self.sensory_fanout, sign)
        self._fan(rng, self.adjacency, inter, command, self.inter_fanout, sign)
        for _ in range(self.recurrent_command_synapses):
            src, dest = rng.choice(command), rng.choice(command)
            self.adjacency[src, dest] = rng.choice(sign)
        self._fan(rng, self.adjacency.T, motor, command, self.motor_fanin, sign)

    @staticmethod
    def _fan(rng: np.random.Generator, matrix: np.ndarray, sources: np.ndarray,
             targets: np.ndarray, fanout: int, sign: np.ndarray) -> None:
        """Connect each source to ``fanout`` distinct targets, then give orphans a few sources.

        ``matrix`` is indexed [source, target] (pass a transposed view to build fan-in).
        """
        for src in sources:
            for dest in rng.choice(targets, size=fanout, replace=False):
                matrix[src, dest] = rng.choice(sign)
        fanin = int(np.clip(len(sources) * fanout // len(targets), 1, len(sources)))
        for dest in targets:
            if not matrix[sources, dest].any():
                for src in rng.choice(sources, size=fanin, replace=False):
                    matrix[src, dest] = rng.choice(sign)

    def params(self) -> dict[str, Any]:
        return {'inter': self.inter, 'command': self.command, 'motor': self.motor,
                'sensory_fanout': self.sensory_fanout, 'inter_fanout': self.inter_fanout,
                'recurrent_command_synapses': self.recurrent_command_synapses,
                'motor_fanin': self.motor_fanin, 'seed': self.seed}


class AutoNCP(NCP):
    """An NCP sized from the neuron count, output count and sparsity (ncps' rule of thumb).

    40 % of the non-motor neurons are command neurons; fan-outs scale with ``1 - sparsity``.
    """

    kind = 'AutoNCP'

    def __init__(self, units: int, outputs: int, sparsity: float = 0.5, seed: int = 22222, *,
                 input_dim: int | None = None) -> None:
        _check_int('AutoNCP', 'units', units, 4)
        _check_int('AutoNCP', 'outputs', outputs, 1, units - 3)
        if not 0.1 <= sparsity <= 0.9:
            raise ValueError(f'AutoNCP: sparsity must be in [0.1, 0.9], got {sparsity!r}')
        self.sparsity = float(sparsity)
        density = 1.0 - sparsity
        command = max(int(0.4 * (units - outputs)), 1)
        inter = units - outputs - command
        super().__init__(
            inter, command, outputs,
            sensory_fanout=max(int(inter * density), 1),
            inter_fanout=max(int(command * density), 1),
            recurrent_command_synapses=max(int(command * density * 2), 1),
            motor_fanin=max(int(command * density), 1),
            seed=seed, input_dim=input_dim)

    def params(self) -> dict[str, Any]:
        return {'units': self.units, 'outputs': self.motor, 'sparsity': self.sparsity,
                'seed': self.seed}


WIRINGS: dict[str, type[Wiring]] = {
    cls.kind: cls for cls in (FullyConnected, Random, NCP, AutoNCP)}


def wiring_from_dict(config: Mapping[str, Any]) -> Wiring:
    """Rebuild a wiring from ``Wiring.to_dict()`` output.

    Raises:
        ValueError: on an unknown ``kind`` or bad parameters.
    """
    params = dict(config)
    kind = params.pop('kind', None)
    if kind not in WIRINGS:
        raise ValueError(f'wiring_from_dict: kind must be one of {sorted(WIRINGS)}, got {kind!r}')
    try:
        return WIRINGS[kind](**params)
    except TypeError as exc:
        raise ValueError(f'wiring_from_dict: bad parameters for {kind}: {exc}') from exc


def rover_ncp(seed: int = 22222, *, input_dim: int = 32, motor: int = 1) -> NCP:
    """Build the 19-neuron lane-keeping NCP (Lechner et al. 2020).

    32 sensory -> 12/6/1 neurons, 252 synapses.
    """
    return NCP(12, 6, motor, sensory_fanout=6, inter_fanout=4, recurrent_command_synapses=6,
               motor_fanin=6, seed=seed, input_dim=input_dim)


def drone_ncp(seed: int = 22222, *, input_dim: int = 32) -> NCP:
    """Build a 19-neuron flight NCP: 11 inter, 4 command, 4 motor.

    The motor neurons are roll, pitch, yaw rate and thrust.
    """
    return NCP(11, 4, 4, sensory_fanout=4, inter_fanout=2, recurrent_command_synapses=4,
               motor_fanin=3, seed=seed, input_dim=input_dim)


def _check_int(owner: str, name: str, value: Any, low: int, high: int | None = None) -> int:
    """Validate an integer argument, naming it and the range in the error."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        expected = f'[{low}, {high}]' if high is not None else f'>= {low}'
        raise ValueError(f'{owner}: {name} must be an integer {expected}, got {value!r}')
    return int(value)
