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
    """Sums over presynaptic neurons of ``w s erev`` and ``w s``, ``s = sigmoid(sigma (v - mu))``.

    Shape:
        v (..., S), sigma/nsmu/w/we (S, n) -> (..., n), (..., n).
    """
    s = torch.sigmoid(torch.addcmul(nsmu, v.unsqueeze(-1), sigma))
    return (s * we).sum(-2), (s * w).sum(-2)


def _solve(v: Tensor, num: Tensor, den: Tensor, cm: Tensor, group: list[Tensor], n: int,
           unfolds: int, has_own: bool) -> Tensor:
    """``unfolds`` fused semi-implicit steps of one layer over one tick.

    ``v <- (cm v + num + sum_own w s erev) / (cm + den + sum_own w s)``. ``num``/``den`` hold the
    leak and the synapses from outside the layer, fixed during the tick. Without synapses inside
    the layer the recurrence is affine, and its ``unfolds``-fold composition is taken in closed
    form: ``v* + a^K (v - v*)`` with ``v* = num / den``, ``a = cm / (cm + den)``.

    Shape:
        v, num, den, cm (B, n) -> (B, n).
    """
    if not has_own:
        v_star = num / den
        return torch.addcmul(v_star, torch.pow(cm / (cm + den), unfolds), v - v_star)
    src, sigma, nsmu, w2 = group[7], group[8], group[9], group[10]
    base = torch.cat([num, den + cm], -1)
    for _ in range(unfolds):
        s = torch.sigmoid(torch.addcmul(nsmu, v.index_select(-1, src), sigma))
        num_t, den_t = F.linear(s, w2, base).split(n, -1)
        v = torch.addcmul(num_t, cm, v) / den_t
    return v


def _group(fused: list[Tensor], layer: int) -> list[Tensor]:
    """The 11 fused tensors of ``layer`` (they follow 6 sensory tensors)."""
    return fused[6 + 11 * layer:6 + 11 * (layer + 1)]


def _sensory(x: Tensor, fused: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Sensory synaptic sums (..., N) after the affine input mapping."""
    u = torch.addcmul(fused[1], x, fused[0])
    return _synaptic(u, fused[2], fused[3], fused[4], fused[5])


def ltc_step(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
             has_fixed: list[bool], has_own: list[bool], unfolds: int) -> Tensor:
    """One LTC tick, layer by layer, from fused tensors (TorchScript-compatible).

    Args:
        x: Input (B, D).
        h: Previous potentials (B, N).
        ts: Elapsed time (B, 1).
        fused: ``LTCCell.fused()`` output.
        sizes: Neurons per layer.
        has_fixed: Whether each layer has synapses from other layers.
        has_own: Whether each layer has synapses among its own neurons.
        unfolds: Solver steps per tick.

    Returns:
        New potentials (B, N).

    Shape:
        x (B, D), h (B, N), ts (B, 1) -> (B, N).
    """
    num_s, den_s = _sensory(x, fused)
    steps_per_second = unfolds / ts
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        g = _group(fused, layer)
        num = num_s.narrow(-1, start, n) + g[6]
        den = den_s.narrow(-1, start, n) + g[5]
        if has_fixed[layer]:
            rest = h.narrow(-1, start, h.shape[-1] - start)
            v_fixed = h if layer == 0 else torch.cat(outs + [rest], -1)
            num_f, den_f = _synaptic(v_fixed, g[0], g[1], g[2], g[3])
            num, den = num + num_f, den + den_f
        outs.append(_solve(h.narrow(-1, start, n), num, den, g[4] * steps_per_second, g, n,
                           unfolds, has_own[layer]))
        start += n
    return torch.cat(outs, -1)


def ltc_sequence(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
                 has_fixed: list[bool], has_own: list[bool], unfolds: int) -> Tensor:
    """All ticks of a sequence, one layer at a time (needs no synapse back to an earlier layer).

    Everything that does not depend on a layer's own state (sensory and earlier-layer synapses,
    the closed-form factors) is computed for all T at once; only the solve loops over time.

    Shape:
        x (B, T, D), h (B, N), ts (B, T, 1) -> states (B, T, N).
    """
    num_s, den_s = _sensory(x, fused)
    steps_per_second = unfolds / ts
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        g = _group(fused, layer)
        num = num_s.narrow(-1, start, n) + g[6]
        den = den_s.narrow(-1, start, n) + g[5]
        if has_fixed[layer] and layer > 0:
            num_f, den_f = _synaptic(torch.cat(outs, -1), g[0][:start], g[1][:start],
                                     g[2][:start], g[3][:start])
            num, den = num + num_f, den + den_f
        cm = g[4] * steps_per_second
        v = h.narrow(-1, start, n)
        states: list[Tensor] = []
        if has_own[layer]:  # unbind: one backward node per sequence, not one per step
            for num_t, den_t, cm_t in zip(num.unbind(1), den.unbind(1), cm.unbind(1),
                                           strict=True):
                v = _solve(v, num_t, den_t, cm_t, g, n, unfolds, True)
                states.append(v)
        else:
            v_star = num / den
            decay = torch.pow(cm / (cm + den), unfolds)
            for v_star_t, decay_t in zip(v_star.unbind(1), decay.unbind(1), strict=True):
                v = torch.addcmul(v_star_t, decay_t, v - v_star_t)
                states.append(v)
        outs.append(torch.stack(states, 1))
        start += n
    return torch.cat(outs, -1)


class LTCStep(nn.Module):
    """Frozen LTC step for TorchScript export: ``forward(x, h, ts) -> (y, h)``."""

    def __init__(self, fused: list[Tensor], sizes: list[int], has_fixed: list[bool],
                 has_own: list[bool], unfolds: int, out_w: Tensor, out_b: Tensor) -> None:
        super().__init__()
        self.fused = fused
        self.sizes = sizes
        self.has_fixed = has_fixed
        self.has_own = has_own
        self.unfolds = unfolds
        self.out_w = out_w
        self.out_b = out_b
        self.out_start = sum(sizes) - out_w.shape[0]

    def forward(self, x: Tensor, h: Tensor, ts: Tensor) -> tuple[Tensor, Tensor]:
        h = ltc_step(x, h, ts, self.fused, self.sizes, self.has_fixed, self.has_own,
                     self.unfolds)
        y = torch.addcmul(self.out_b, h.narrow(1, self.out_start, self.out_w.shape[0]),
                          self.out_w)
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
        mask = self.mask.cpu()
        self.has_own = [bool(mask[r.start:r.stop, r.start:r.stop].any())
                        for r in self.wiring.layers]
        self.has_fixed = [bool((mask * (1 - own))[:, r.start:r.stop].any())
                          for r in self.wiring.layers]
        for index, r in enumerate(self.wiring.layers):  # each layer's own synapses, local ids
            src, dst = torch.nonzero(mask[r.start:r.stop, r.start:r.stop]).t()
            self.register_buffer(f'own_src{index}', src.to(device), persistent=False)
            self.register_buffer(f'own_dst{index}', dst.to(device), persistent=False)
        later = torch.as_tensor(self._layer_of_neuron())
        #: Whether sequences can run layer by layer: no synapse from a later to an earlier layer.
        self.layer_major = bool((mask[later[:, None] > later[None, :]] == 0).all())
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
        """Positive masked conductances: sensory tensors, then one group of 11 per layer.

        Group: from-other-layers ``sigma, -sigma mu, w, w erev`` (N, n), ``cm`` (n),
        ``gleak + eps`` (n), ``gleak vleak`` (n), and the layer's own synapses as an edge list:
        source index (E,), ``sigma``, ``-sigma mu`` (E,), and ``[w erev | w]`` scattered onto
        destinations (2n, E).
        """
        s_w = F.softplus(self.sensory_w) * self.sensory_mask
        w = F.softplus(self.w) * self.mask
        nsmu = -self.sigma * self.mu
        gleak, cm = F.softplus(self.gleak), F.softplus(self.cm)
        out = [self.input_w, self.input_b, self.sensory_sigma,
               -self.sensory_sigma * self.sensory_mu, s_w, s_w * self.sensory_erev]
        for index, r in enumerate(self.wiring.layers):
            cols = slice(r.start, r.stop)
            w_fixed = w[:, cols] * (1 - self.own_block[:, cols])
            src, dst = getattr(self, f'own_src{index}'), getattr(self, f'own_dst{index}')
            w_e = w[src + r.start, dst + r.start]
            onehot = F.one_hot(dst, len(r)).to(w_e.dtype).t()  # (n, E)
            w2 = torch.cat([onehot * (w_e * self.erev[src + r.start, dst + r.start]),
                            onehot * w_e])
            out += [self.sigma[:, cols], nsmu[:, cols], w_fixed, w_fixed * self.erev[:, cols],
                    cm[cols], gleak[cols] + self.epsilon, gleak[cols] * self.vleak[cols],
                    src, self.sigma[src + r.start, dst + r.start],
                    nsmu[src + r.start, dst + r.start], w2]
        return out

    def synaptic_parameter_count(self) -> int:
        synapses = int(self.sensory_mask.sum() + self.mask.sum())  # w, mu, sigma each
        return (3 * synapses + 3 * self.hidden_size + 2 * self.input_size
                + 2 * self.output_size)

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        return ltc_step(x, h, ts, fused, self.layer_sizes, self.has_fixed, self.has_own,
                        self.ode_unfolds)

    def sequence_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        if not self.layer_major:
            return super().sequence_fused(fused, x, h, ts)
        return ltc_sequence(x, h, ts, fused, self.layer_sizes, self.has_fixed, self.has_own,
                            self.ode_unfolds)

    def read_out(self, h: Tensor) -> Tensor:
        """Motor potentials through the affine output mapping."""
        return torch.addcmul(self.output_b, h[..., self.hidden_size - self.output_size:],
                             self.output_w)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        return LTCStep(fused, list(self.layer_sizes), list(self.has_fixed), list(self.has_own),
                       self.ode_unfolds, self.output_w.detach().clone(),
                       self.output_b.detach().clone())
