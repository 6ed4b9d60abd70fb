"""A ``Policy``'s whole control tick as dependency-free C99: ``<name>.h`` and ``<name>.c``.

This is the path onto a microcontroller and the "C floor" of the speed claim. The C needs only
``<math.h>`` and ``<stdint.h>``, holds every weight as a ``static const`` array of exact float32
hex literals, never allocates and has no mutable global. Its scratch memory is one statically
sized ``<name>_workspace`` struct: ``<name>_step`` keeps it on its stack, ``<name>_step_ws``
takes the caller's (on a microcontroller, a buffer placed in a chosen RAM section).

Each operation follows its PyTorch counterpart formula for formula (the pixel normalisation is
``ConvHead``'s own ``addcmul``, tabulated per byte value; pooling sums, then divides by rows and
columns; the CfC gate interpolates as ``torch.lerp`` does), so the two differ only in the order
of sums, by about 1e-6. Activations are kept HWC, so the innermost loop of every convolution
runs over output channels, contiguous in both the weights and the accumulator, and vectorises.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import math
from pathlib import Path
import re
from string import Template
import textwrap

from lnn_control.models.cfc import CfCCell
from lnn_control.models.cores import LiquidCore
from lnn_control.models.ltc import LTCCell
from lnn_control.models.policy import Policy
from lnn_control.models.state_inputs import STATE_INPUTS
import numpy as np
import torch
from torch import nn, Tensor

#: Cores ``export_c`` can write: the wired CfC (every mode and wiring) and the wired LTC.
SUPPORTED_CORES = ('ncp_cfc', 'cfc_dense', 'ncp_ltc')
#: Bytes of one LTC synapse in flash: two uint16 indices and four floats.
_EDGE_BYTES = 20
_IMU_FIELDS = 'ax, ay, az (m/s^2), gx, gy, gz (rad/s)'
#: A workspace field: name, floats, what it holds.
_Field = tuple[str, int, str]


class ExportError(ValueError):
    """The policy cannot be written as C; the message says why and what can be."""


@dataclass(frozen=True)
class CExport:
    """What ``export_c`` wrote, and what it needs on the target.

    Attributes:
        header: The ``<name>.h`` path.
        source: The ``<name>.c`` path.
        flash_bytes: Constant data (weights and tables); the code itself is extra.
        ram_bytes: The state plus the ``<name>_workspace`` one step needs; the stack frames
            add one accumulator per output channel (at most a few hundred bytes).
        parameters: The policy's parameter count (``Policy.parameter_counts()['total']``).
    """

    header: Path
    source: Path
    flash_bytes: int
    ram_bytes: int
    parameters: int


def export_c(policy: Policy, out_dir: Path, name: str = 'lnn_policy', *,
             origin: str = 'an in-memory Policy') -> CExport:
    """Write ``policy.step`` at batch 1 as ``<out_dir>/<name>.h`` and ``<out_dir>/<name>.c``.

    Args:
        policy: The policy; its weights are copied, later changes are not seen.
        out_dir: Folder for the two files (created if needed).
        name: Prefix of the files, functions, types and macros; a C identifier.
        origin: Where the policy came from (e.g. the checkpoint path), for the header comment.

    Returns:
        The paths written and the footprint.

    Raises:
        ExportError: on a core other than ``SUPPORTED_CORES``, a conv head the C does not
            implement, or a name that is not a C identifier.
    """
    if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', name):
        raise ExportError(f'export_c: name must be a C identifier, got {name!r}')
    core = policy.core
    cell = core.rnn.cell if isinstance(core, LiquidCore) else None
    if policy.config.core not in SUPPORTED_CORES or type(cell) not in _CORES:
        raise ExportError(f'export_c: core {policy.config.core!r} cannot be exported to C; '
                          f'supported: {", ".join(SUPPORTED_CORES)} (the wired CfC in every '
                          f'mode and the wired LTC)')
    src = _Source()
    with torch.no_grad():
        head, head_fields = _head(policy, src)
        body, core_fields = _CORES[type(cell)](cell, src)
        src.floats('action_mid', policy.action_mid)
        src.floats('action_half', policy.action_half)
    workspace = head_fields + core_fields
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    header, source = out_dir / f'{name}.h', out_dir / f'{name}.c'
    header.write_text(_header_text(policy, name, origin, workspace, src.flash))
    source.write_text(_source_text(policy, name, src, head + body))
    ram = 4 * (policy.state_size + sum(size for _, size, _ in workspace))
    return CExport(header, source, src.flash, ram, policy.parameter_counts()['total'])


class _Source:
    """The ``.c`` file's constant data and static functions, counting the flash they take."""

    def __init__(self) -> None:
        self.data: list[str] = []
        self.functions: list[str] = []
        self.flash = 0

    def floats(self, name: str, values: Tensor | np.ndarray) -> str:
        """Add ``static const float name[]`` (flattened); returns ``name``."""
        flat = _numpy(values).reshape(-1)
        self.flash += 4 * flat.size
        self.data.append(f'static const float {name}[{flat.size}] = {{\n'
                         f'{_rows([_c_float(v) for v in flat], 6)}\n}};')
        return name

    def edges(self, name: str, rows: list[str]) -> str:
        """Add an array of ``struct ltc_edge`` initialisers; returns ``name``."""
        self.flash += _EDGE_BYTES * len(rows)
        self.data.append(f'static const struct ltc_edge {name}[{len(rows)}] = {{\n'
                         f'{_rows(rows, 1)}\n}};')
        return name

    def function(self, code: str) -> None:
        """Add a static function once, when a caller needs it: the C has no unused one."""
        if code not in self.functions:
            self.functions.append(code)


def _numpy(values: Tensor | np.ndarray) -> np.ndarray:
    """Return ``values`` as a float32 array."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().float().numpy()
    return np.asarray(values, dtype=np.float32)


def _c_float(value: float) -> str:
    """Return the exact C literal of a float32: hex mantissa and exponent, ``f`` suffix."""
    value = float(value)
    if not math.isfinite(value):
        raise ExportError(f'export_c: the policy holds a non-finite weight ({value})')
    if value == 0.0:
        return '-0.0f' if math.copysign(1.0, value) < 0 else '0.0f'
    mantissa, exponent = value.hex().split('p')
    return f'{mantissa.rstrip("0").rstrip(".")}p{exponent}f'


def _plus(name: str, offset: int) -> str:
    """Return C for ``name + offset``, without a ``+ 0``."""
    return f'{name} + {offset}' if offset else name


def _rows(items: list[str], per_row: int) -> str:
    """Return ``items`` comma-separated, ``per_row`` to an indented line."""
    return ',\n'.join('    ' + ', '.join(items[i:i + per_row])
                      for i in range(0, len(items), per_row))


# -- the conv head ----------------------------------------------------------------------------
_CONV = Template("""\
/* conv$index: $cin x $ih x $iw -> $cout x $oh x $ow (HWC), ${k}x$k stride $s, then ELU */
static void conv$index(const $in_type *in, float *out)
{
    int oy, ox, ky, j, o;
    for (oy = 0; oy < $oh; ++oy) {
        for (ox = 0; ox < $ow; ++ox) {
            float acc[$cout];
            float *y = out + (oy * $ow + ox) * $cout;
            for (o = 0; o < $cout; ++o) {
                acc[o] = conv${index}_b[o];
            }
            for (ky = 0; ky < $k; ++ky) {
                /* a kernel row of HWC input is $span contiguous values; take $u per pass */
                const $in_type *x = in + (($s * oy + ky) * $iw + $s * ox) * $cin;
                const float *w = conv${index}_w + ky * $row;
                for (j = 0; j < $span; j += $u, w += $step) {
                    const float $loads;
                    for (o = 0; o < $cout; ++o) {
                        acc[o] += $terms;
                    }
                }
            }
            for (o = 0; o < $cout; ++o) {
                y[o] = acc[o] > 0.0f ? acc[o] : $negative;
            }
        }
    }
}""")

_POOL = Template("""\
/* AdaptiveAvgPool2d(($ph, $pw)) of HWC $c x $ih x $iw, flattened as torch does: (C, H, W).
 * Output cell (i, j) covers rows floor(i*H/h) .. ceil((i+1)*H/h), columns likewise. */
static void pool(const float *in, float *out)
{
    int i, j, c, r, q;
    for (i = 0; i < $ph; ++i) {
        const int r0 = i * $ih / $ph, r1 = ((i + 1) * $ih + $ph - 1) / $ph;
        for (j = 0; j < $pw; ++j) {
            const int c0 = j * $iw / $pw, c1 = ((j + 1) * $iw + $pw - 1) / $pw;
            for (c = 0; c < $c; ++c) {
                float sum = 0.0f;
                for (r = r0; r < r1; ++r) {
                    for (q = c0; q < c1; ++q) {
                        sum += in[(r * $iw + q) * $c + c];
                    }
                }
                out[(c * $ph + i) * $pw + j] = sum / (float)(r1 - r0) / (float)(c1 - c0);
            }
        }
    }
}""")

_LINEAR = Template("""\
/* fc: $k inputs (pooled features, then normalised IMU) -> $f features; weights (in, out) */
static void linear(const float *in, float *out)
{
    int i, o;
    for (o = 0; o < $f; ++o) {
        out[o] = fc_b[o];
    }
    for (i = 0; i < $k; ++i) {
        const float v = in[i];
        const float *w = fc_w + i * $f;
        for (o = 0; o < $f; ++o) {
            out[o] += v * w[o];
        }
    }
}""")


def _buffer(index: int) -> str:
    """Return the workspace buffer that conv ``index`` (from 0) writes: they alternate."""
    return 'ws->conv_a' if index % 2 == 0 else 'ws->conv_b'


def _conv(index: int, conv: nn.Conv2d, act: nn.ELU, shape: tuple[int, int, int],
          src: _Source) -> tuple[int, int, int]:
    """Emit conv ``index`` + ELU (the first reads uint8 pixels); return its output (C, H, W)."""
    k, s = conv.kernel_size[0], conv.stride[0]
    if (conv.kernel_size != (k, k) or conv.stride != (s, s) or conv.padding != (0, 0)
            or conv.dilation != (1, 1) or conv.groups != 1 or conv.bias is None):
        raise ExportError(f'export_c: conv {index + 1} must be square and unpadded, with a '
                          f'bias; got {conv}')
    cin, height, width = shape
    cout, first = conv.out_channels, index == 0
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    src.floats(f'conv{index + 1}_w', conv.weight.permute(2, 3, 1, 0))  # (ky, kx, c, o)
    src.floats(f'conv{index + 1}_b', conv.bias)
    # u inputs per pass over the accumulators (a pixel's 3 bytes, each through its channel's
    # table, else 4 floats), so each load and store of acc[o] carries u products
    u = 3 if first else next(n for n in (4, 2, 1) if k * cin % n == 0)
    loads = [f'x[{_plus("j", i)}]' for i in range(u)]
    if first:
        loads = [f'pixel_lut[{_plus(load, 256 * i)}]' for i, load in enumerate(loads)]
    scale = '' if act.alpha == 1.0 else f'{_c_float(act.alpha)} * '
    src.function(_CONV.substitute(
        index=index + 1, cin=cin, ih=height, iw=width, cout=cout, oh=out_h, ow=out_w, k=k, s=s,
        row=k * cin * cout, span=k * cin, u=u, step=u * cout,
        in_type='uint8_t' if first else 'float', negative=f'{scale}expm1f(acc[o])',
        loads=', '.join(f'v{i} = {load}' for i, load in enumerate(loads)),
        terms=' + '.join(f'v{i} * w[{_plus("o", i * cout)}]' for i in range(u))))
    return cout, out_h, out_w


def _head(policy: Policy, src: _Source) -> tuple[list[str], list[_Field]]:
    """Emit the conv head; return the step's statements and the workspace fields they use."""
    head, modules = policy.head, list(policy.head.convs)
    expected = [nn.Conv2d, nn.ELU] * ((len(modules) - 2) // 2)
    expected += [nn.AdaptiveAvgPool2d, nn.Flatten]
    if [type(m) for m in modules] != expected:
        raise ExportError(f'export_c: expected (Conv2d, ELU) pairs, AdaptiveAvgPool2d and '
                          f'Flatten in the conv head, got {head.convs}')
    pairs = list(zip(modules[:-2:2], modules[1:-2:2], strict=True))
    lut = torch.addcmul(head.pixel_shift.cpu().view(3, 1), torch.arange(256.0).view(1, 256),
                        head.pixel_scale.cpu().view(3, 1))  # ConvHead's own normalisation
    src.floats('pixel_lut', lut)
    shape, calls, sizes = (3, *policy.config.image_hw), [], [0, 0]
    for index, (conv, act) in enumerate(pairs):
        shape = _conv(index, conv, act, shape, src)
        calls.append(f'conv{index + 1}({_buffer(index - 1) if index else "image"}, '
                     f'{_buffer(index)});')
        sizes[index % 2] = max(sizes[index % 2], math.prod(shape))
    channels, height, width = shape
    pool_size = modules[-2].output_size
    pool_size = pool_size if isinstance(pool_size, tuple) else (pool_size, pool_size)
    pool_h, pool_w = (size or full for size, full in zip(  # None keeps the input's size
        pool_size, (height, width), strict=True))
    src.function(_POOL.substitute(ph=pool_h, pw=pool_w, c=channels, ih=height, iw=width))
    fc, pooled, inputs = head.fc, channels * pool_h * pool_w, policy.config.input_dim
    src.floats('fc_w', fc.weight.t())
    src.floats('fc_b', fc.bias)
    src.function(_LINEAR.substitute(k=fc.in_features, f=fc.out_features))
    calls.append(f'pool({_buffer(len(pairs) - 1)}, ws->fc_in);')
    if inputs:
        src.floats('imu_mean', head.imu_mean)
        src.floats('imu_std', head.imu_std)
        calls += [f'for (i = 0; i < {inputs}; ++i) {{',
                  f'    ws->fc_in[{pooled} + i] = (imu[i] - imu_mean[i]) / imu_std[i];', '}']
    calls.append('linear(ws->fc_in, ws->feat);')
    return calls, [('conv_a', sizes[0], 'outputs of convs 1, 3, ... (HWC)'),
                   ('conv_b', sizes[1], 'outputs of convs 2, 4, ... (HWC)'),
                   ('fc_in', fc.in_features, 'pooled features (C, H, W), then normalised IMU'),
                   ('feat', fc.out_features, "the head's features: the core's input")]


# -- the cores --------------------------------------------------------------------------------
_COPY = """\
static void copy(float *dst, const float *src, int n)
{
    int i;
    for (i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}"""

_ADD_ROWS = """\
/* z (cols) += v (rows) times w (rows, cols), row-major */
static void add_rows(float *z, const float *v, const float *w, int rows, int cols)
{
    int i, j;
    for (i = 0; i < rows; ++i, w += cols) {
        const float vi = v[i];
        for (j = 0; j < cols; ++j) {
            z[j] += vi * w[j];
        }
    }
}"""

#: Per CfC mode: the closed form over one layer (cfc.py's ``cfc_gate``), and its call.
_CFC_GATES: dict[str, tuple[str, str]] = {
    'default': ("""\
/* CfC, default mode: h = lerp(tanh ff1, tanh ff2, sigmoid(time_a ts + time_b)) */
static void cfc_gate(const float *z, float ts, int n, float *h)
{
    int j;
    for (j = 0; j < n; ++j) {
        const float ff1 = tanhf(z[j]), ff2 = tanhf(z[n + j]);
        const float t = 1.0f / (1.0f + expf(-(z[3 * n + j] + z[2 * n + j] * ts)));
        h[j] = t < 0.5f ? ff1 + t * (ff2 - ff1) : ff2 - (ff2 - ff1) * (1.0f - t);
    }
}""", 'cfc_gate(ws->z, elapsed_s, {n}, {h});'),
    'no_gate': ("""\
/* CfC, no_gate mode: h = tanh ff1 + sigmoid(time_a ts + time_b) tanh ff2 */
static void cfc_gate(const float *z, float ts, int n, float *h)
{
    int j;
    for (j = 0; j < n; ++j) {
        const float t = 1.0f / (1.0f + expf(-(z[3 * n + j] + z[2 * n + j] * ts)));
        h[j] = tanhf(z[j]) + t * tanhf(z[n + j]);
    }
}""", 'cfc_gate(ws->z, elapsed_s, {n}, {h});'),
    'pure': ("""\
/* CfC, pure mode: h = A - A exp(-ts (|w_tau| + |ff1|)) ff1 */
static void cfc_gate(const float *z, float ts, int n, const float *a, const float *tau,
                     float *h)
{
    int j;
    for (j = 0; j < n; ++j) {
        h[j] = a[j] - a[j] * expf(-ts * (tau[j] + fabsf(z[j]))) * z[j];
    }
}""", 'cfc_gate(ws->z, elapsed_s, {n}, cfc{layer}_a, cfc{layer}_tau, {h});'),
}


def _row_span(matrix: np.ndarray) -> tuple[int, int]:
    """First and one-past-last row with a nonzero entry (masked-out synapses are exact zeros)."""
    rows = np.flatnonzero((matrix != 0).any(1))
    return (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)


def _cfc(cell: CfCCell, src: _Source) -> tuple[list[str], list[_Field]]:
    """Emit ``cfc_step``: per layer, bias plus sensory, new-state and old-state synapses."""
    plan, layers = cell.plan, cell.wiring.layers
    fused = [_numpy(t) for t in cell.fused()]
    gate, call = _CFC_GATES[plan.mode]
    src.function(_COPY)
    lines = []
    for layer, n in enumerate(plan.sizes):
        wx, b, wf, wh, a, tau = fused[6 * layer:6 * layer + 6]
        start, first = layers[layer].start, layers[plan.src[layer]].start
        lines += [f'/* layer {layer}: neurons {start}..{start + n - 1} */',
                  f'copy(ws->z, {src.floats(f"cfc{layer}_b", b)}, {b.size});']
        for kind, matrix, vector, offset in (('x', wx, 'ws->feat', 0), ('f', wf, 'ws->h', first),
                                             ('h', wh, 'state', 0)):
            low, high = _row_span(matrix)
            if high > low:  # only the rows that hold synapses
                src.function(_ADD_ROWS)
                weights = src.floats(f'cfc{layer}_w{kind}', matrix[low:high])
                lines.append(f'add_rows(ws->z, {_plus(vector, offset + low)}, {weights}, '
                             f'{high - low}, {b.size});')
        if plan.mode == 'pure':
            src.floats(f'cfc{layer}_a', a)
            src.floats(f'cfc{layer}_tau', tau)
        src.function(gate)
        lines.append(call.format(n=n, h=_plus('ws->h', start), layer=layer))
    hidden, motor = cell.hidden_size, cell.output_size
    lines += [f'copy(state, ws->h, {hidden});', f'copy(y, state + {hidden - motor}, {motor});']
    width = max(b.size for b in fused[1::6])
    return lines, [('h', hidden, 'the new state, layer by layer'),
                   ('z', width, "a layer's map pre-activations [ff1 | ff2 | time_a | time_b]")]


_EDGE_STRUCT = """\
/* one synapse: s = sigmoid(sigma v[src] - sigma mu) adds s w erev, s w to num, den[dst] */
struct ltc_edge {
    uint16_t src;
    uint16_t dst;
    float sigma;
    float nsmu;
    float w_erev;
    float w;
};"""

_SYNAPSES = """\
static void ltc_synapses(const struct ltc_edge *e, int count, const float *v, float *num,
                         float *den)
{
    int k;
    for (k = 0; k < count; ++k, ++e) {
        const float s = 1.0f / (1.0f + expf(-(e->nsmu + v[e->src] * e->sigma)));
        num[e->dst] += s * e->w_erev;
        den[e->dst] += s * e->w;
    }
}"""

_SETTLE = """\
/* a layer without synapses of its own: the unfolds' affine recurrence in closed form */
static void ltc_settle(const float *num, const float *den, const float *cm, float sps, int n,
                       float *v)
{
    int j;
    for (j = 0; j < n; ++j) {
        const float c = cm[j] * sps, v_star = num[j] / den[j];
        v[j] = v_star + powf(c / (c + den[j]), (float)LTC_UNFOLDS) * (v[j] - v_star);
    }
}"""

_UNFOLD = """\
/* LTC_UNFOLDS fused semi-implicit Euler steps, re-evaluating the layer's own synapses */
static void ltc_unfold(const float *num, const float *den, const float *cm, float sps, int n,
                       const struct ltc_edge *own, int count, float *t_num, float *t_den,
                       float *v)
{
    int k, j;
    for (k = 0; k < LTC_UNFOLDS; ++k) {
        for (j = 0; j < n; ++j) {
            t_num[j] = num[j];
            t_den[j] = den[j] + cm[j] * sps;
        }
        ltc_synapses(own, count, v, t_num, t_den);
        for (j = 0; j < n; ++j) {
            v[j] = (t_num[j] + cm[j] * sps * v[j]) / t_den[j];
        }
    }
}"""


def _ltc_edges(cell: LTCCell, layer: int, kind: str, group: list[Tensor]) -> list[str]:
    """Return the initialisers ``{src, dst, sigma, -sigma mu, w erev, w}`` of one edge list."""
    n = len(cell.wiring.layers[layer])
    src, sigma, nsmu, w2 = (_numpy(t) for t in group)
    dst = getattr(cell, f'{kind}_dst{layer}').cpu().numpy()
    rows = []
    for e, d in enumerate(dst):
        values = (sigma[e], nsmu[e], w2[e, d], w2[e, n + d])
        rows.append(f'{{{int(src[e])}, {int(d)}, {", ".join(_c_float(v) for v in values)}}}')
    return rows


def _ltc(cell: LTCCell, src: _Source) -> tuple[list[str], list[_Field]]:
    """Emit ``ltc_step``: input map, then per layer leak, synapses and the unfolded solve."""
    if max(cell.input_size, cell.hidden_size) > 65535:
        raise ExportError('export_c: LTC synapse indices are uint16; too many neurons/inputs')
    fused = cell.fused()
    hidden, motor, d = cell.hidden_size, cell.output_size, cell.input_size
    src.data[:0] = [f'#define LTC_UNFOLDS {cell.ode_unfolds}', _EDGE_STRUCT]
    src.function(_COPY)
    src.function(_SYNAPSES)
    in_w, in_b = src.floats('ltc_in_w', fused[0]), src.floats('ltc_in_b', fused[1])
    lines = [f'const float sps = {cell.ode_unfolds}.0f / elapsed_s;  /* steps per second */',
             f'for (i = 0; i < {d}; ++i) {{',
             f'    ws->u[i] = {in_b}[i] + ws->feat[i] * {in_w}[i];', '}',
             f'copy(ws->v, state, {hidden});']
    for layer, r in enumerate(cell.wiring.layers):
        n, group, v = len(r), fused[2 + 14 * layer:2 + 14 * (layer + 1)], _plus('ws->v', r.start)
        cm = src.floats(f'ltc{layer}_cm', group[0])
        leak = src.floats(f'ltc{layer}_leak', group[1])
        lines += [f'/* layer {layer}: neurons {r.start}..{r.stop - 1} */',
                  f'copy(ws->num, {leak}, {n});', f'copy(ws->den, {leak} + {n}, {n});']
        edges = {kind: _ltc_edges(cell, layer, kind, group[first:first + 4])
                 for kind, first in (('s', 2), ('f', 6), ('o', 10))}
        for kind, vector in (('s', 'ws->u'), ('f', 'ws->v')):
            if edges[kind]:
                name = src.edges(f'ltc{layer}_{kind}', edges[kind])
                lines.append(f'ltc_synapses({name}, {len(edges[kind])}, {vector}, ws->num, '
                             f'ws->den);')
        if edges['o']:
            src.function(_UNFOLD)
            own = src.edges(f'ltc{layer}_o', edges['o'])
            lines.append(f'ltc_unfold(ws->num, ws->den, {cm}, sps, {n}, {own}, '
                         f'{len(edges["o"])}, ws->t_num, ws->t_den, {v});')
        else:
            src.function(_SETTLE)
            lines.append(f'ltc_settle(ws->num, ws->den, {cm}, sps, {n}, {v});')
    out_w, out_b = src.floats('ltc_out_w', cell.output_w), src.floats('ltc_out_b', cell.output_b)
    lines += [f'copy(state, ws->v, {hidden});', f'for (i = 0; i < {motor}; ++i) {{',
              f'    y[i] = {out_b}[i] + state[{hidden - motor} + i] * {out_w}[i];', '}']
    width = max(cell.layer_sizes)
    return lines, [('u', d, 'sensory inputs after the affine input map'),
                   ('v', hidden, 'potentials: new for solved layers, previous for the rest'),
                   ('num', width, "a layer's fixed numerator: leak and outside synapses"),
                   ('den', width, "a layer's fixed denominator"),
                   ('t_num', width, 'numerator of one unfold, with own synapses'),
                   ('t_den', width, 'denominator of one unfold')]


#: Cell type -> emitter of its core step.
_CORES = {CfCCell: _cfc, LTCCell: _ltc}


# -- the two files ----------------------------------------------------------------------------
def _comment(entries: list[tuple[str, str]]) -> str:
    """Return a C block comment of ``(label, text)`` entries, text wrapped under its label."""
    lines = []
    for label, text in entries:
        lines += textwrap.wrap(text, 95 - len(label), initial_indent=label,
                               subsequent_indent=' ' * len(label),
                               break_on_hyphens=False) or ['']
    return '/*\n' + '\n'.join(f' * {line}'.rstrip() for line in lines) + '\n */'


def _prototype(head: str, params: list[str], end: str) -> str:
    """Return ``head(params)end``, wrapped at 99 columns under the opening parenthesis."""
    lines, line = [], head + '('
    for index, param in enumerate(params):
        piece = param + (', ' if index < len(params) - 1 else ')' + end)
        if len(line + piece.rstrip()) > 99 and line != head + '(':
            lines.append(line.rstrip())
            line = ' ' * (len(head) + 1)
        line += piece
    return '\n'.join([*lines, line.rstrip()])


def _step_params(policy: Policy, upper: str) -> list[str]:
    """Return the step's parameters as C declarations."""
    imu = f'const float imu[{upper}_INPUT_DIM]' if policy.config.input_dim else 'const float *imu'
    return [f'const uint8_t image[{upper}_IMAGE_H * {upper}_IMAGE_W * 3]', imu, 'float elapsed_s',
            f'float state[{upper}_STATE_SIZE]', f'float action[{upper}_ACTION_DIM]']


def _header_text(policy: Policy, name: str, origin: str, workspace: list[_Field],
                 flash: int) -> str:
    """Return ``<name>.h``: what it came from, the inputs and units, sizes and the API."""
    config, upper = policy.config, name.upper()
    height, width = config.image_hw
    imu = [_IMU_FIELDS] if config.imu_dim == 6 else [f'{config.imu_dim} IMU entries']
    imu += [f'{n}: {STATE_INPUTS[n]}' for n in config.state_inputs]
    bounds = ', '.join(f'{n} in [{low:g}, {high:g}]' for n, low, high in zip(
        config.action_names, config.action_low, config.action_high, strict=True))
    ws_bytes = 4 * sum(size for _, size, _ in workspace)
    comment = _comment([
        ('', f'{name}.h: one control tick of an lnn_control policy (Policy.step at batch 1) in '
             'dependency-free C99. Generated by lnn_control.export.c_policy.export_c; '
             'regenerate rather than edit.'), ('', ''),
        ('From: ', f'{origin}.'),
        ('Policy: ', f'{config.vehicle}, core {config.core}, image {height}x{width}, '
                     f'{policy.parameter_counts()["total"]} parameters.'),
        ('Config: ', json.dumps(config.to_dict()).replace('*/', '* /')), ('', ''),
        ('image      ', f'{height} x {width} x 3 uint8 RGB, row-major HWC: the frame resized '
                        'to the policy size (control.preprocess.resize), as Policy.step takes '
                        'it.'),
        ('imu        ', f'{config.input_dim} floats, raw (normalised inside): '
                        + ('; '.join(imu) if config.input_dim else 'none; pass NULL') + '.'),
        ('elapsed_s  ', 'seconds since the previous tick, > 0; not checked here: the caller '
                        'validates and clamps it, as control.runner.PolicyRunner does.'),
        ('state      ', f'{policy.state_size} floats, in: the previous state, out: the new '
                        f'one; {name}_reset zeroes it.'),
        ('action     ', f'{config.action_dim} floats out, in env units, inside the bounds: '
                        f'{bounds}.'), ('', ''),
        ('', f'Memory: {flash} bytes of static const data (flash). No allocation and no mutable '
             'global: calls on separate states and workspaces are independent (reentrant). '
             f'{name}_step keeps a {name}_workspace ({ws_bytes} bytes) on its stack; where the '
             f"stack is smaller, call {name}_step_ws with the caller's, e.g. a static buffer in "
             'a chosen RAM section.')])
    fields = '\n'.join(f'    float {field}[{size}];  /* {about} */'
                       for field, size, about in workspace)
    params = _step_params(policy, upper)
    return f"""{comment}
#ifndef {upper}_H
#define {upper}_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

#define {upper}_IMAGE_H {height}
#define {upper}_IMAGE_W {width}
#define {upper}_INPUT_DIM {config.input_dim}
#define {upper}_STATE_SIZE {policy.state_size}
#define {upper}_ACTION_DIM {config.action_dim}

/* Scratch memory of one step; nothing in it carries over to the next step. */
typedef struct {{
{fields}
}} {name}_workspace;

/* Zero the recurrent state: the start of an episode. */
{_prototype(f'void {name}_reset', [f'float state[{upper}_STATE_SIZE]'], ';')}

/* One tick: reads image, imu and elapsed_s, updates state in place, writes action. */
{_prototype(f'void {name}_step', params, ';')}

/* The same tick, with the caller's scratch memory. */
{_prototype(f'void {name}_step_ws', [f'{name}_workspace *ws', *params], ';')}

#ifdef __cplusplus
}}
#endif

#endif /* {upper}_H */
"""


def _source_text(policy: Policy, name: str, src: _Source, body: list[str]) -> str:
    """Return ``<name>.c``: the constant data, static functions and the three entry points."""
    upper = name.upper()
    unused = [] if policy.config.input_dim else ['(void)imu;']
    statements = '\n'.join('    ' + line for line in [
        'int i;', f'float y[{upper}_ACTION_DIM];', *unused, *body,
        f'for (i = 0; i < {upper}_ACTION_DIM; ++i) {{',
        '    action[i] = action_mid[i] + tanhf(y[i]) * action_half[i];', '}'])
    data, functions = '\n\n'.join(src.data), '\n\n'.join(src.functions)
    params = _step_params(policy, upper)
    return f"""/* {name}.c: generated by lnn_control.export.c_policy.export_c; see {name}.h. */
#include "{name}.h"

#include <math.h>

{data}

{functions}

{_prototype(f'void {name}_reset', [f'float state[{upper}_STATE_SIZE]'], '')}
{{
    int i;
    for (i = 0; i < {upper}_STATE_SIZE; ++i) {{
        state[i] = 0.0f;
    }}
}}

{_prototype(f'void {name}_step_ws', [f'{name}_workspace *ws', *params], '')}
{{
{statements}
}}

{_prototype(f'void {name}_step', params, '')}
{{
    {name}_workspace ws;
    {name}_step_ws(&ws, image, imu, elapsed_s, state, action);
}}
"""
