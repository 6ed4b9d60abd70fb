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
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lnn_control.models.cell_base import WiredCell
from lnn_control.models.wiring import Wiring

#: Number of linear maps per mode: ff1, ff2, time_a, time_b (``pure`` only has ff1).
CFC_MAPS: dict[str, int] = {'default': 4, 'no_gate': 4, 'pure': 1}


def cfc_step(x: Tensor, h: Tensor, ts: Tensor, wx: Tensor, wh: Tensor, b: Tensor, a: Tensor,
             tau: Tensor, wf: list[Tensor], sizes: list[int], src: list[int], n_maps: int,
             mode: str) -> Tensor:
    """One CfC tick over all layers, from fused weights (TorchScript-compatible).

    Args:
        x: Input (B, D).
        h: Previous state (B, N).
        ts: Elapsed time (B, 1).
        wx, wh, b: Masked input/old-state weights (K*N, D), (K*N, N) and bias (K*N), rows
            grouped by layer then by map (``F.linear`` layout).
        a, tau: ``pure`` mode's A and w_tau (N); empty otherwise.
        wf: Per layer l >= 1, masked weights from the new state of layers ``src[l]..l-1``.
        sizes: Neurons per layer.
        src: First layer feeding each layer with its new state (``l`` when none).
        n_maps: K, maps per neuron.
        mode: ``default``, ``no_gate`` or ``pure``.

    Returns:
        The new state (B, N).

    Shape:
        x (B, D), h (B, N), ts (B, 1) -> (B, N).
    """
    pre = F.linear(h, wh, F.linear(x, wx, b))
    outs: list[Tensor] = []
    col = 0
    row = 0
    for layer, n in enumerate(sizes):
        z = pre[:, col:col + n_maps * n]
        if layer > 0 and src[layer] < layer:
            feed = outs[layer - 1] if src[layer] == layer - 1 else torch.cat(
                outs[src[layer]:layer], 1)
            z = F.linear(feed, wf[layer - 1], z)
        if mode == 'pure':
            a_l = a[row:row + n]
            decay = torch.exp(-ts * (tau[row:row + n].abs() + z.abs()))
            h_l = a_l - a_l * decay * z
        else:
            ff = torch.tanh(z[:, :2 * n])
            t = torch.sigmoid(torch.addcmul(z[:, 3 * n:], z[:, 2 * n:3 * n], ts))
            if mode == 'default':
                h_l = torch.lerp(ff[:, :n], ff[:, n:], t)
            else:
                h_l = torch.addcmul(ff[:, :n], t, ff[:, n:])
        outs.append(h_l)
        col += n_maps * n
        row += n
    return torch.cat(outs, 1)


class CfCStep(nn.Module):
    """Frozen CfC step for TorchScript export: ``forward(x, h, ts) -> (y, h)``."""

    def __init__(self, fused: list[Tensor], sizes: list[int], src: list[int], n_maps: int,
                 mode: str, n_out: int) -> None:
        super().__init__()
        self.wx, self.wh, self.b, self.a, self.tau = fused[:5]
        self.wf = fused[5:]
        self.sizes = sizes
        self.src = src
        self.n_maps = n_maps
        self.mode = mode
        self.n_out = n_out

    def forward(self, x: Tensor, h: Tensor, ts: Tensor) -> tuple[Tensor, Tensor]:
        h = cfc_step(x, h, ts, self.wx, self.wh, self.b, self.a, self.tau, self.wf, self.sizes,
                     self.src, self.n_maps, self.mode)
        return h[:, h.shape[1] - self.n_out:], h


class CfCCell(WiredCell):
    """A wired CfC cell.

    Args:
        input_size: Sensory inputs D.
        hidden_size: Neuron count N (fully connected) or a ``Wiring``.
        mode: ``default``, ``no_gate`` or ``pure``.
        self_state: Let each neuron read its own previous state.
        device, dtype: Where and how to allocate the parameters.
    """

    def __init__(self, input_size: int, hidden_size: int | Wiring, mode: str = 'default', *,
                 self_state: bool = True, device: torch.device | str | None = None,
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
        n = self.hidden_size
        order = [k * n + j for r in self.wiring.layers for k in range(self.n_maps) for j in r]
        self.register_buffer('col_order', torch.tensor(order, device=device), persistent=False)
        self.src = self._feed_sources(earlier)

    def _feed_sources(self, earlier: Tensor) -> list[int]:
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
        """``[wx, wh, b, A, w_tau, *wf]``: masked weights grouped by layer, then by map."""
        k, n, d = self.n_maps, self.hidden_size, self.input_size
        w_in = (self.weight_in * self.mask_in).permute(0, 2, 1).reshape(k * n, d)
        w_old = (self.weight_rec * self.mask_old).permute(0, 2, 1).reshape(k * n, n)
        wx, wh = w_in[self.col_order], w_old[self.col_order]
        b = self.bias.reshape(k * n)[self.col_order]
        empty = self.bias.new_zeros(0)
        a, tau = (self.A, self.w_tau) if self.mode == 'pure' else (empty, empty)
        w_new = self.weight_rec * self.mask_new
        wf = []
        layers = self.wiring.layers
        for index in range(1, len(layers)):
            r, first = layers[index], layers[self.src[index]].start
            block = w_new[:, first:r.start, r.start:r.stop]
            wf.append(block.permute(0, 2, 1).reshape(k * len(r), r.start - first))
        return [wx, wh, b, a, tau, *wf]

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        wx, wh, b, a, tau = fused[:5]
        return cfc_step(x, h, ts, wx, wh, b, a, tau, fused[5:], self.layer_sizes, self.src,
                        self.n_maps, self.mode)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        return CfCStep(fused, list(self.layer_sizes), list(self.src), self.n_maps, self.mode,
                       self.output_size)

