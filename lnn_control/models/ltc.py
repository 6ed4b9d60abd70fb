"""Liquid time-constant (LTC) cell on a wiring (Hasani et al. 2021, AAAI; ncps' fused solver).

Each neuron is a leaky membrane ``cm dv/dt = gleak (vleak - v) + sum_j w_j s_j (erev_j - v)``
with synaptic activations ``s_j = sigmoid(sigma_j (v_pre - mu_j))``. A tick of length ``dt`` is
``ode_unfolds`` fused semi-implicit Euler steps
``v <- (cm/h v + gleak vleak + sum w s erev) / (cm/h + gleak + sum w s)``, ``h = dt / unfolds``.

Conductances ``w``, ``gleak`` and capacitances ``cm`` are kept positive by a softplus. Reversal
potentials are the wiring's polarities (+1/-1), fixed. An absent synapse has zero conductance and
takes no part in any map (w, mu, sigma), so its gradient is exactly zero. Layers are solved in
order within the tick (inter, then command, then motor): a synapse from an earlier layer reads
its source's new potential, others the previous one, and a layer's own synapses are re-evaluated
at every unfold.
"""
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lnn_control.models.cell_base import WiredCell
from lnn_control.models.wiring import Wiring

#: Initial ranges, as in ncps.
INIT_RANGES: dict[str, tuple[float, float]] = {
    'gleak': (0.001, 1.0), 'vleak': (-0.2, 0.2), 'cm': (0.4, 0.6), 'w': (0.001, 1.0),
    'sigma': (3.0, 8.0), 'mu': (0.3, 0.8)}


def _synaptic(v: Tensor, sigma: Tensor, nsmu: Tensor, w: Tensor, we: Tensor) -> tuple[
        Tensor, Tensor]:
    """Sums of ``w s erev`` and ``w s`` over presynaptic neurons (B, n) with ``s(v)``.

    Shape:
        v (B, S), sigma/nsmu/w/we (S, n) -> (B, n), (B, n).
    """
    s = torch.sigmoid(torch.addcmul(nsmu, v.unsqueeze(2), sigma))
    return (s * we).sum(1), (s * w).sum(1)


def ltc_step(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
             has_own: list[bool], unfolds: int, eps: float) -> Tensor:
    """One LTC tick, layer by layer, from fused tensors (TorchScript-compatible).

    Args:
        x: Input (B, D).
        h: Previous potentials (B, N).
        ts: Elapsed time (B, 1).
        fused: ``LTCCell.fused()`` output.
        sizes: Neurons per layer.
        has_own: Whether each layer has synapses among its own neurons.
        unfolds: Solver steps per tick.
        eps: Added to the denominator.

    Returns:
        New potentials (B, N).

    Shape:
        x (B, D), h (B, N), ts (B, 1) -> (B, N).
    """
    n_global, per_layer = 9, 8  # fused tensors before the layer groups, and per layer group
    in_w, in_b, s_sigma, s_nsmu, s_w, s_we, cm, gleak, gvleak = fused[:n_global]
    num_s, den_s = _synaptic(torch.addcmul(in_b, x, in_w), s_sigma, s_nsmu, s_w, s_we)
    cm_t = cm * (unfolds / ts)
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        g = fused[n_global + per_layer * layer:n_global + per_layer * (layer + 1)]
        stop = start + n
        v_fixed = h if layer == 0 else torch.cat(outs + [h[:, start:]], 1)
        num_f, den_f = _synaptic(v_fixed, g[0], g[1], g[2], g[3])
        cm_l = cm_t[:, start:stop]
        num = num_s[:, start:stop] + num_f + gvleak[start:stop]
        den = den_s[:, start:stop] + den_f + cm_l + gleak[start:stop] + eps
        v = h[:, start:stop]
        for _ in range(unfolds):
            if has_own[layer]:
                num_o, den_o = _synaptic(v, g[4], g[5], g[6], g[7])
                v = torch.addcmul(num + num_o, cm_l, v) / (den + den_o)
            else:
                v = torch.addcmul(num, cm_l, v) / den
        outs.append(v)
        start = stop
    return torch.cat(outs, 1)


class LTCStep(nn.Module):
    """Frozen LTC step for TorchScript export: ``forward(x, h, ts) -> (y, h)``."""

    def __init__(self, fused: list[Tensor], sizes: list[int], has_own: list[bool],
                 unfolds: int, eps: float, out_w: Tensor, out_b: Tensor) -> None:
        super().__init__()
        self.fused = fused
        self.sizes = sizes
        self.has_own = has_own
        self.unfolds = unfolds
        self.eps = eps
        self.out_w = out_w
        self.out_b = out_b

    def forward(self, x: Tensor, h: Tensor, ts: Tensor) -> tuple[Tensor, Tensor]:
        h = ltc_step(x, h, ts, self.fused, self.sizes, self.has_own, self.unfolds, self.eps)
        y = torch.addcmul(self.out_b, h[:, h.shape[1] - self.out_w.shape[0]:], self.out_w)
        return y, h


class LTCCell(WiredCell):
    """A wired LTC cell with affine input and output mappings.

    Args:
        input_size: Sensory inputs D.
        hidden_size: Neuron count N (fully connected) or a ``Wiring``.
        ode_unfolds: Solver steps per tick (>= 1).
        epsilon: Denominator guard (> 0).
        device, dtype: Where and how to allocate the parameters.
    """

    def __init__(self, input_size: int, hidden_size: int | Wiring, ode_unfolds: int = 6,
                 epsilon: float = 1e-8, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__(input_size, hidden_size)
        if not isinstance(ode_unfolds, int) or ode_unfolds < 1:
            raise ValueError(f'LTCCell: ode_unfolds must be an integer >= 1, got {ode_unfolds!r}')
        if not epsilon > 0:
            raise ValueError(f'LTCCell: epsilon must be > 0, got {epsilon!r}')
        self.ode_unfolds = ode_unfolds
        self.epsilon = float(epsilon)
        factory = {'device': device, 'dtype': dtype}
        d, n, m = input_size, self.hidden_size, self.output_size

        def param(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.empty(*shape, **factory))

        self.gleak, self.vleak, self.cm = param(n), param(n), param(n)
        self.w, self.mu, self.sigma = param(n, n), param(n, n), param(n, n)
        self.sensory_w, self.sensory_mu, self.sensory_sigma = param(d, n), param(d, n), param(d, n)
        self.input_w, self.input_b = param(d), param(d)
        self.output_w, self.output_b = param(m), param(m)
        sensory, polarity = self._masks()
        kw = {'device': device, 'dtype': dtype or torch.get_default_dtype()}
        self.register_buffer('sensory_erev', sensory.to(**kw))
        self.register_buffer('erev', polarity.to(**kw))
        self.register_buffer('sensory_mask', (sensory != 0).to(**kw))
        self.register_buffer('mask', (polarity != 0).to(**kw))
        own = torch.zeros(n, n)
        for r in self.wiring.layers:
            own[r.start:r.stop, r.start:r.stop] = 1.0
        self.register_buffer('own_block', own.to(**kw), persistent=False)
        self.has_own = [bool(self.mask[r.start:r.stop, r.start:r.stop].any())
                        for r in self.wiring.layers]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """ncps' uniform ranges; positive quantities are stored through softplus^-1."""
        with torch.no_grad():
            for name, (low, high) in INIT_RANGES.items():
                for prefix in ('', 'sensory_') if name in ('w', 'sigma', 'mu') else ('',):
                    getattr(self, prefix + name).uniform_(low, high)
            for raw in (self.gleak, self.cm, self.w, self.sensory_w):
                raw.copy_(raw + torch.log(-torch.expm1(-raw)))  # softplus^-1
            self.input_w.fill_(1.0)
            self.input_b.zero_()
            self.output_w.fill_(1.0)
            self.output_b.zero_()

    def extra_repr(self) -> str:
        return (f'{self.input_size}, {type(self.wiring).__name__}(N={self.hidden_size}, '
                f'layers={self.layer_sizes}), ode_unfolds={self.ode_unfolds}, '
                f'synapses={self.wiring.synapse_count + self.wiring.sensory_synapse_count}')

    def fused(self) -> list[Tensor]:
        """Positive, masked conductances and per-layer fixed/own synapse groups."""
        s_w = F.softplus(self.sensory_w) * self.sensory_mask
        w = F.softplus(self.w) * self.mask
        nsmu, s_nsmu = -self.sigma * self.mu, -self.sensory_sigma * self.sensory_mu
        gleak = F.softplus(self.gleak)
        out = [self.input_w, self.input_b, self.sensory_sigma, s_nsmu, s_w,
               s_w * self.sensory_erev, F.softplus(self.cm), gleak, gleak * self.vleak]
        for r in self.wiring.layers:
            cols = slice(r.start, r.stop)
            w_fixed = w[:, cols] * (1 - self.own_block[:, cols])
            w_own = w[cols, cols]
            out += [self.sigma[:, cols], nsmu[:, cols], w_fixed, w_fixed * self.erev[:, cols],
                    self.sigma[cols, cols], nsmu[cols, cols], w_own, w_own * self.erev[cols, cols]]
        return out

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        return ltc_step(x, h, ts, fused, self.layer_sizes, self.has_own, self.ode_unfolds,
                        self.epsilon)

    def read_out(self, h: Tensor) -> Tensor:
        """Motor potentials through the affine output mapping."""
        return torch.addcmul(self.output_b, h[..., self.hidden_size - self.output_size:],
                             self.output_w)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        return LTCStep(fused, list(self.layer_sizes), list(self.has_own), self.ode_unfolds,
                       self.epsilon, self.output_w.detach().clone(),
                       self.output_b.detach().clone())
