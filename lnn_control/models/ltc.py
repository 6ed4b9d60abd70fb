"""Liquid time-constant (LTC) cell on a wiring (Hasani et al. 2021, AAAI; ncps' fused solver).

Each neuron is a leaky membrane ``cm dv/dt = gleak (vleak - v) + sum_j w_j s_j (erev_j - v)``
with synaptic activations ``s_j = sigmoid(sigma_j (v_pre - mu_j))``. A tick of length ``dt`` is
``ode_unfolds`` fused semi-implicit Euler steps
``v <- (cm/h v + gleak vleak + sum w s erev) / (cm/h + gleak + sum w s)``, ``h = dt / unfolds``.

Conductances ``w``, ``gleak`` and capacitances ``cm`` are kept positive by a softplus. Reversal
potentials are the wiring's polarities (+1/-1), fixed. Synapses are computed as edge lists
gathered from the dense parameters, so an absent synapse takes no part in any map (w, mu, sigma)
and its gradient is exactly zero; the work scales with the synapse count, not N^2. Layers are
solved in order within the tick (inter, then command, then motor): a synapse from an earlier
layer reads its source's new potential, others the previous one, and a layer's own synapses are
re-evaluated at every unfold.
"""
from lnn_control.models.cell_base import WiredCell
from lnn_control.models.wiring import Wiring
import torch
from torch import nn, Tensor
from torch.nn import functional as F

#: Initial ranges, as in ncps.
INIT_RANGES: dict[str, tuple[float, float]] = {
    'gleak': (0.001, 1.0), 'vleak': (-0.2, 0.2), 'cm': (0.4, 0.6), 'w': (0.001, 1.0),
    'sigma': (3.0, 8.0), 'mu': (0.3, 0.8)}


def _group(fused: list[Tensor], layer: int) -> list[Tensor]:
    """Return the 14 fused tensors of ``layer``.

    They are cm, leak, then (src, sigma, -sigma mu, w2) x 3 kinds.
    """
    return fused[2 + 14 * layer:2 + 14 * (layer + 1)]


def _edges(z: Tensor, v: Tensor, group: list[Tensor], first: int) -> Tensor:
    """Add the synaptic sums ``[sum w s erev | sum w s]`` of one edge list to ``z``.

    The edges are ``group[first:first + 4]``: source index (E,), ``sigma`` and ``-sigma mu``
    (E,), and ``[w erev | w]`` scattered onto the destinations (E, 2n).

    Shape:
        z (..., 2n), v (..., S) -> (..., 2n).
    """
    src, sigma, nsmu, w2 = group[first], group[first + 1], group[first + 2], group[first + 3]
    s = torch.sigmoid(torch.addcmul(nsmu, v.index_select(-1, src), sigma))
    return z + s.matmul(w2)


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
    base = torch.cat([num, den + cm], -1)
    for _ in range(unfolds):
        num_t, den_t = _edges(base, v, group, 10).split(n, -1)
        v = torch.addcmul(num_t, cm, v) / den_t
    return v


def _inputs(u: Tensor, v: Tensor, group: list[Tensor], has_s: bool, has_f: bool) -> Tensor:
    """Leak plus sensory and other-layer synapses of one layer: ``[num | den]`` (..., 2n)."""
    z = group[1]
    if has_s:
        z = _edges(z, u, group, 2)
    if has_f:
        z = _edges(z, v, group, 6)
    if not (has_s or has_f):
        z = z.expand(u.shape[:-1] + z.shape)
    return z


def ltc_step(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
             flags: list[list[bool]], unfolds: int) -> Tensor:
    """One LTC tick, layer by layer, from fused tensors (TorchScript-compatible).

    Args:
        x: Input (B, D).
        h: Previous potentials (B, N).
        ts: Elapsed time (B, 1).
        fused: ``LTCCell.fused()`` output.
        sizes: Neurons per layer.
        flags: Per layer, whether it has sensory, other-layer and own synapses.
        unfolds: Solver steps per tick.

    Returns:
        New potentials (B, N).

    Shape:
        x (B, D), h (B, N), ts (B, 1) -> (B, N).
    """
    u = torch.addcmul(fused[1], x, fused[0])
    steps_per_second = unfolds / ts
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        g = _group(fused, layer)
        has_s, has_f, has_o = flags[layer][0], flags[layer][1], flags[layer][2]
        v_fixed = h
        if has_f and layer > 0:
            v_fixed = torch.cat(outs + [h.narrow(-1, start, h.shape[-1] - start)], -1)
        num, den = _inputs(u, v_fixed, g, has_s, has_f).split(n, -1)
        outs.append(_solve(h.narrow(-1, start, n), num, den, g[0] * steps_per_second, g, n,
                           unfolds, has_o))
        start += n
    return torch.cat(outs, -1)


def ltc_sequence(x: Tensor, h: Tensor, ts: Tensor, fused: list[Tensor], sizes: list[int],
                 flags: list[list[bool]], unfolds: int) -> Tensor:
    """All ticks of a sequence, one layer at a time (needs no synapse back to an earlier layer).

    Everything that does not depend on a layer's own state (sensory and earlier-layer synapses,
    the closed-form factors) is computed for all T at once; only the solve loops over time.

    Shape:
        x (B, T, D), h (B, N), ts (B, T, 1) -> states (B, T, N).
    """
    u = torch.addcmul(fused[1], x, fused[0])
    steps_per_second = unfolds / ts
    outs: list[Tensor] = []
    start = 0
    for layer, n in enumerate(sizes):
        g = _group(fused, layer)
        has_s, has_f, has_o = flags[layer][0], flags[layer][1], flags[layer][2]
        v_fixed = torch.cat(outs, -1) if has_f else u  # earlier layers only (layer-major)
        num, den = _inputs(u, v_fixed, g, has_s, has_f).split(n, -1)
        cm = g[0] * steps_per_second
        v = h.narrow(-1, start, n)
        states: list[Tensor] = []
        if has_o:  # unbind: one backward node per sequence, not one per step
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

    def __init__(self, fused: list[Tensor], sizes: list[int], flags: list[list[bool]],
                 unfolds: int, out_w: Tensor, out_b: Tensor) -> None:
        super().__init__()
        self.fused = fused
        self.sizes = sizes
        self.flags = flags
        self.unfolds = unfolds
        self.out_w = out_w
        self.out_b = out_b
        self.out_start = sum(sizes) - out_w.shape[0]

    def forward(self, x: Tensor, h: Tensor, ts: Tensor) -> tuple[Tensor, Tensor]:
        h = ltc_step(x, h, ts, self.fused, self.sizes, self.flags, self.unfolds)
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
        sensory_mask, mask = self.sensory_mask.cpu(), self.mask.cpu()
        layer_of = torch.as_tensor(self._layer_of_neuron())
        self.flags: list[list[bool]] = []
        for index, r in enumerate(self.wiring.layers):  # edge lists into each layer
            cols = slice(r.start, r.stop)
            other = mask[:, cols] * (layer_of != index)[:, None]
            own = mask[cols, cols]
            for kind, block in (('s', sensory_mask[:, cols]), ('f', other), ('o', own)):
                src, dst = torch.nonzero(block).t()
                self.register_buffer(f'{kind}_src{index}', src.to(device), persistent=False)
                self.register_buffer(f'{kind}_dst{index}', dst.to(device), persistent=False)
            self.flags.append([bool(sensory_mask[:, cols].any()), bool(other.any()),
                               bool(own.any())])
        #: Whether sequences can run layer by layer: no synapse from a later to an earlier layer.
        self.layer_major = bool((mask[layer_of[:, None] > layer_of[None, :]] == 0).all())
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw ncps' uniform ranges; positive quantities are stored through softplus^-1."""
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
        """Return the input affine map, then the 14 fused tensors of each layer.

        ``input_w, input_b``, then per layer 14 tensors: ``cm`` (n), the leak ``[gleak vleak |
        gleak + eps]`` (2n), and for its sensory, other-layer and own synapses an edge list each:
        source index (E,), ``sigma``, ``-sigma mu`` (E,), ``[w erev | w]`` on destinations (E, 2n).
        """
        s_w, w = F.softplus(self.sensory_w), F.softplus(self.w)
        gleak, cm = F.softplus(self.gleak), F.softplus(self.cm)
        out = [self.input_w, self.input_b]
        for index, r in enumerate(self.wiring.layers):
            cols = slice(r.start, r.stop)
            out += [cm[cols], torch.cat([gleak[cols] * self.vleak[cols],
                                         gleak[cols] + self.epsilon])]
            for kind, weight, sigma, mu, erev, offset in (
                    ('s', s_w, self.sensory_sigma, self.sensory_mu, self.sensory_erev, 0),
                    ('f', w, self.sigma, self.mu, self.erev, 0),
                    ('o', w, self.sigma, self.mu, self.erev, r.start)):
                src, dst = getattr(self, f'{kind}_src{index}'), getattr(self, f'{kind}_dst{index}')
                rows, dest = src + offset, dst + r.start
                w_e, sigma_e = weight[rows, dest], sigma[rows, dest]
                onehot = F.one_hot(dst, len(r)).to(w_e.dtype)  # (E, n)
                out += [src, sigma_e, -sigma_e * mu[rows, dest],
                        torch.cat([onehot * (w_e * erev[rows, dest])[:, None],
                                   onehot * w_e[:, None]], 1)]
        return out

    def synaptic_parameter_count(self) -> int:
        synapses = int(self.sensory_mask.sum() + self.mask.sum())  # w, mu, sigma each
        return (3 * synapses + 3 * self.hidden_size + 2 * self.input_size
                + 2 * self.output_size)

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        return ltc_step(x, h, ts, fused, self.layer_sizes, self.flags, self.ode_unfolds)

    def sequence_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        if not self.layer_major:
            return super().sequence_fused(fused, x, h, ts)
        return ltc_sequence(x, h, ts, fused, self.layer_sizes, self.flags, self.ode_unfolds)

    def read_out(self, h: Tensor) -> Tensor:
        """Motor potentials through the affine output mapping."""
        return torch.addcmul(self.output_b, h[..., self.hidden_size - self.output_size:],
                             self.output_w)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        return LTCStep(fused, list(self.layer_sizes), [list(f) for f in self.flags],
                       self.ode_unfolds, self.output_w.detach().clone(),
                       self.output_b.detach().clone())
