"""Closed-form continuous-time (CfC) cell on a wiring (Hasani et al. 2022, Nat. Mach. Intell.).

Each neuron computes ``h = ff1 * (1 - t) + t * ff2`` with ``t = sigmoid(time_a * dt + time_b)``
(``default``), ``h = ff1 + t * ff2`` (``no_gate``), or ``h = A - A * exp(-dt * (|w_tau| + |ff1|))
* ff1`` (``pure``), where every map (ff1, ff2, time_a, time_b) is a linear function of the
neuron's synaptic inputs only. Stricter than ncps: an absent synapse has no weight in any map,
time gates included; command->command synapses are used; layers chain inside one tick (synapses
from an earlier layer read its new state, the others read the previous state). Each neuron also
reads its own previous state (its membrane, not a synapse; ``self_state=False`` drops it).
Polarity sets the initial sign of the ff1/ff2 weights; it is not a hard constraint, because the
gate mixes ff1 and ff2 and a sign on either map does not fix the sign of the synapse's effect.
"""
from dataclasses import dataclass

from lnn_control.models.cell_base import WiredCell
from lnn_control.models.wiring import Wiring
import torch
from torch import nn, Tensor

#: Number of linear maps per mode: ff1, ff2, time_a, time_b (``pure`` only has ff1).
CFC_MAPS: dict[str, int] = {'default': 4, 'no_gate': 4, 'pure': 1}


def cfc_gate(z: Tensor, ts: Tensor, n: int, a: Tensor, tau: Tensor, mode: str) -> Tensor:
    """Compute the CfC closed form for one layer from its map pre-activations.

    Args:
        z: Pre-activations ``[ff1 | ff2 | time_a | time_b]`` (..., K*n); ``[ff1]`` if pure.
        ts: Elapsed time (..., 1).
        n: Neurons in the layer.
        a: ``pure`` mode's A (n); unused otherwise.
        tau: ``pure`` mode's |w_tau| (n); unused otherwise.
        mode: ``default``, ``no_gate`` or ``pure``.

    Shape:
        z (..., K*n), ts (..., 1) -> (..., n).
    """
    if mode == 'pure':
        return torch.addcmul(a, a * torch.exp(-ts * (tau + z.abs())), z, value=-1.0)
    ff1, ff2, time_a, time_b = z.split(n, -1)  # one split: slicing costs more than a tanh
    t = torch.sigmoid(torch.addcmul(time_b, time_a, ts))
    if mode == 'default':
        return torch.lerp(torch.tanh(ff1), torch.tanh(ff2), t)
    return torch.addcmul(torch.tanh(ff1), t, torch.tanh(ff2))


def _feed(outs: list[Tensor], first: int, layer: int) -> Tensor:
    """Join the new states of layers ``first..layer-1`` on the last dimension."""
    return outs[layer - 1] if first == layer - 1 else torch.cat(outs[first:layer], -1)


@dataclass(frozen=True)
class Plan:
    """Static structure of a wired CfC: what feeds each layer (plain lists, for TorchScript).

    Attributes:
        sizes: Neurons per layer.
        src: First layer feeding each layer with its new state (the layer itself when none).
        has_x: Whether each layer has sensory synapses.
        has_h: Whether each layer reads previous states (recurrent synapses).
        mode: ``default``, ``no_gate`` or ``pure``.
    """

    sizes: list[int]
    src: list[int]
    has_x: list[bool]
    has_h: list[bool]
    mode: str


def cfc_step(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
             src: list[int], has_x: list[bool], has_h: list[bool], mode: str) -> Tensor:
    """One CfC tick over all layers, from fused weights (TorchScript-compatible).

    Each layer adds its sensory, earlier-layer (new state) and recurrent (previous state)
    synapses to its bias with one ``mm`` each, skipping the kinds it has none of, then applies
    the gate. (``mm`` + add: TorchScript splits ``addmm`` that way anyway, and it is cheaper than
    ``linear`` at batch 1.)

    Args:
        x: Input (B, D).
        h: Previous state (B, N).
        ts: Elapsed time (B, 1).
        fused: ``CfCCell.fused()``: per layer ``wx, b, wf, wh, A, |w_tau|``.
        sizes, src, has_x, has_h, mode: the ``Plan`` fields.

    Returns:
        The new state (B, N).

    Shape:
        x (B, D), h (B, N), ts (B, 1) -> (B, N).
    """
    outs: list[Tensor] = []
    for layer, n in enumerate(sizes):
        wx, b, wf, wh, a, tau = fused[6 * layer:6 * layer + 6]
        z = b
        if has_x[layer]:
            z = z + x.mm(wx)
        if src[layer] < layer:
            z = z + _feed(outs, src[layer], layer).mm(wf)
        if has_h[layer]:
            z = z + h.mm(wh)
        if not (has_x[layer] or src[layer] < layer or has_h[layer]):  # a layer with no inputs
            z = z.expand(x.shape[0], z.shape[0])
        outs.append(cfc_gate(z, ts, n, a, tau, mode))
    return torch.cat(outs, 1)


def cfc_sequence(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
                 src: list[int], has_x: list[bool], has_h: list[bool], mode: str) -> Tensor:
    """All ticks of a sequence, one layer at a time (needs no synapse back to an earlier layer).

    A layer without recurrent synapses is computed for all T at once; only recurrent layers
    (the NCP's command layer) loop over time. Same numbers as ``cfc_step`` tick by tick, up to
    float rounding.

    Shape:
        x (B, T, D), h (B, N), ts (B, T, 1) -> states (B, T, N).
    """
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        wx, b, wf, wh, a, tau = fused[6 * layer:6 * layer + 6]
        z = b + x.matmul(wx) if has_x[layer] else b.expand(x.shape[0], x.shape[1], b.shape[0])
        if src[layer] < layer:
            z = z + _feed(outs, src[layer], layer).matmul(wf)
        if has_h[layer]:
            w_own = wh.narrow(0, start, n)
            h_l = h.narrow(1, start, n)
            states: list[Tensor] = []
            # unbind: one backward node per sequence instead of one select per step
            for z_t, ts_t in zip(z.unbind(1), ts.unbind(1), strict=True):
                h_l = cfc_gate(z_t + h_l.mm(w_own), ts_t, n, a, tau, mode)
                states.append(h_l)
            outs.append(torch.stack(states, 1))
        else:
            outs.append(cfc_gate(z, ts, n, a, tau, mode))
        start += n
    return torch.cat(outs, -1)


class CfCStep(nn.Module):
    """Frozen CfC step for TorchScript export: ``forward(x, h, ts) -> (y, h)``."""

    def __init__(self, fused: list[Tensor], plan: Plan, n_out: int) -> None:
        super().__init__()
        self.fused = fused
        self.sizes, self.src = plan.sizes, plan.src
        self.has_x, self.has_h, self.mode = plan.has_x, plan.has_h, plan.mode
        self.n_out = n_out
        self.out_start = sum(plan.sizes) - n_out

    def forward(self, x: Tensor, h: Tensor, ts: Tensor) -> tuple[Tensor, Tensor]:
        h = cfc_step(x, h, ts, self.fused, self.sizes, self.src, self.has_x, self.has_h,
                     self.mode)
        return h.narrow(1, self.out_start, self.n_out), h


class CfCCell(WiredCell):
    """A wired CfC cell.

    Args:
        input_size: Sensory inputs D.
        hidden_size: Neuron count N (fully connected) or a ``Wiring``.
        mode: ``default``, ``no_gate`` or ``pure``.
        self_state: Also let each neuron read its own previous state (off: only the wiring's
            synapses carry state, so memory lives in recurrent synapses such as the NCP's
            command->command ones).
        device, dtype: Where and how to allocate the parameters.
    """

    def __init__(self, input_size: int, hidden_size: int | Wiring, mode: str = 'default', *,
                 self_state: bool = False, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__(input_size, hidden_size)
        if mode not in CFC_MAPS:
            raise ValueError(f'CfCCell: mode must be one of {sorted(CFC_MAPS)}, got {mode!r}')
        self.mode = mode
        self.self_state = bool(self_state)
        self.n_maps = CFC_MAPS[mode]
        factory = {'device': device, 'dtype': dtype}
        k, d, n = self.n_maps, input_size, self.hidden_size
        self.weight_in = nn.Parameter(torch.empty(k, d, n, **factory))
        self.weight_rec = nn.Parameter(torch.empty(k, n, n, **factory))
        self.bias = nn.Parameter(torch.empty(k, n, **factory))
        if mode == 'pure':
            self.A = nn.Parameter(torch.empty(n, **factory))
            self.w_tau = nn.Parameter(torch.empty(n, **factory))
        self._register_masks(device, dtype)
        self.reset_parameters()

    def _register_masks(self, device: torch.device | str | None,
                        dtype: torch.dtype | None) -> None:
        """Sensory/recurrent masks, polarities, and the old/new-state split by layer."""
        sensory, polarity = self._masks()
        rec = (polarity != 0).float()
        if self.self_state:
            rec = torch.maximum(rec, torch.eye(self.hidden_size))
        layer = torch.as_tensor(self._layer_of_neuron())
        earlier = (layer[:, None] < layer[None, :]).float()  # [src, dest]
        kw = {'device': device, 'dtype': dtype or torch.get_default_dtype()}
        self.register_buffer('mask_in', (sensory != 0).to(**kw))
        self.register_buffer('mask_old', (rec * (1 - earlier)).to(**kw))
        self.register_buffer('mask_new', (rec * earlier).to(**kw))
        self.register_buffer('polarity_in', sensory.to(**kw))
        self.register_buffer('polarity_rec', polarity.to(**kw))
        old, inputs = self.mask_old.cpu(), self.mask_in.cpu()
        same = layer[:, None] == layer[None, :]
        layers = self.wiring.layers
        self.plan = Plan(
            sizes=list(self.layer_sizes), src=self._feed_sources(),
            has_x=[bool(inputs[:, r.start:r.stop].any()) for r in layers],
            has_h=[bool(old[:, r.start:r.stop].any()) for r in layers], mode=self.mode)
        #: Whether sequences can run layer by layer: no synapse reads a later layer's state.
        self.layer_major = bool((old[~same] == 0).all())

    def _feed_sources(self) -> list[int]:
        """First layer that feeds each layer with its new state (the layer itself if none)."""
        mask = self.mask_new.cpu()
        src = []
        for index, r in enumerate(self.wiring.layers):
            rows = torch.nonzero(mask[:, r.start:r.stop].any(1)).flatten().tolist()
            src.append(self.wiring.layer_of(rows[0]) if rows else index)
        return src

    def reset_parameters(self) -> None:
        """Uniform(+-1/sqrt(fan-in)) on present synapses; ff maps take the synapse's polarity."""
        with torch.no_grad():
            fan_in = (self.mask_in.sum(0) + self.mask_old.sum(0) + self.mask_new.sum(0))
            bound = fan_in.clamp(min=1).rsqrt()
            for weight in (self.weight_in, self.weight_rec):
                weight.uniform_(-1.0, 1.0).mul_(bound)
            n_ff = min(self.n_maps, 2)
            for weight, polarity in ((self.weight_in, self.polarity_in),
                                     (self.weight_rec, self.polarity_rec)):
                ff = weight[:n_ff]
                ff.copy_(torch.where(polarity != 0, ff.abs() * polarity, ff))
            self.bias.uniform_(-1.0, 1.0).mul_(bound)
            if self.mode == 'pure':
                self.A.fill_(1.0)
                self.w_tau.zero_()

    def extra_repr(self) -> str:
        return (f'{self.input_size}, {type(self.wiring).__name__}(N={self.hidden_size}, '
                f'layers={self.layer_sizes}), mode={self.mode!r}, '
                f'synapses={self.wiring.synapse_count + self.wiring.sensory_synapse_count}')

    def fused(self) -> list[Tensor]:
        """Per layer ``wx (D, K n), b (K n), wf (S, K n), wh (N, K n), A (n), |w_tau| (n)``.

        Weights are masked by the wiring (absent synapses are exact zeros) and their columns are
        grouped by map (``[ff1 | ff2 | time_a | time_b]``), ready for ``input.mm(w)``; ``wf``
        reads the new states of layers ``src..l-1``, ``wh`` the previous state of all neurons.
        """
        k, d, n_all = self.n_maps, self.input_size, self.hidden_size
        w_in = self.weight_in * self.mask_in
        w_old = self.weight_rec * self.mask_old
        w_new = self.weight_rec * self.mask_new
        empty = self.bias.new_zeros(0)
        out: list[Tensor] = []
        layers = self.wiring.layers
        for index, r in enumerate(layers):
            n, cols, first = len(r), slice(r.start, r.stop), layers[self.plan.src[index]].start
            out += [w_in[:, :, cols].permute(1, 0, 2).reshape(d, k * n),
                    self.bias[:, cols].reshape(k * n),
                    w_new[:, first:r.start, cols].permute(1, 0, 2).reshape(r.start - first, k * n),
                    w_old[:, :, cols].permute(1, 0, 2).reshape(n_all, k * n)]
            out += ([self.A[cols], self.w_tau[cols].abs()] if self.mode == 'pure'
                    else [empty, empty])
        return out

    def synaptic_parameter_count(self) -> int:
        synapses = int(self.mask_in.sum() + self.mask_old.sum() + self.mask_new.sum())
        extra = 2 * self.hidden_size if self.mode == 'pure' else 0
        return self.n_maps * (synapses + self.hidden_size) + extra

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        p = self.plan
        return cfc_step(x, h, ts, fused, p.sizes, p.src, p.has_x, p.has_h, p.mode)

    def sequence_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        if not self.layer_major:
            return super().sequence_fused(fused, x, h, ts)
        p = self.plan
        return cfc_sequence(x, h, ts, fused, p.sizes, p.src, p.has_x, p.has_h, p.mode)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        return CfCStep(fused, self.plan, self.output_size)
