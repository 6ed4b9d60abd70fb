"""Wired CfC and LTC cells: wiring semantics, irregular time, streaming, export, learning."""
from lnn_control.models.cfc import CfCCell
from lnn_control.models.fast import NumpyCfCStep
from lnn_control.models.ltc import LTCCell
from lnn_control.models.sequence import LiquidRNN
from lnn_control.models.wiring import drone_ncp, FullyConnected, NCP, Random, rover_ncp
import numpy as np
import pytest
import torch
from torch.nn import functional as F

CELLS = {
    'cfc': lambda w: CfCCell(32, w),
    'cfc_no_gate': lambda w: CfCCell(32, w, 'no_gate'),
    'cfc_pure': lambda w: CfCCell(32, w, 'pure'),
    'cfc_self_state': lambda w: CfCCell(32, w, self_state=True),
    'ltc': lambda w: LTCCell(32, w, ode_unfolds=4),
}


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    """Seeded, and single-threaded: tiny tensors only lose from intra-op threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def _batch(batch=5, steps=9, inputs=32):
    return torch.randn(batch, steps, inputs), 0.05 + 2.0 * torch.rand(batch, steps)


# -- wired semantics --------------------------------------------------------------------------
def _absent(cell):
    """Per parameter name, the boolean mask of entries that belong to absent synapses."""
    sensory = torch.as_tensor(cell.wiring.sensory_adjacency) == 0
    neurons = torch.as_tensor(cell.wiring.adjacency) == 0
    if isinstance(cell, LTCCell):
        return {'sensory_w': sensory, 'sensory_mu': sensory, 'sensory_sigma': sensory,
                'w': neurons, 'mu': neurons, 'sigma': neurons}
    if cell.self_state:
        neurons = neurons & ~torch.eye(cell.hidden_size, dtype=torch.bool)
    k = cell.n_maps
    return {'weight_in': sensory.expand(k, -1, -1), 'weight_rec': neurons.expand(k, -1, -1)}


@pytest.mark.parametrize('name', sorted(CELLS))
def test_absent_synapses_get_exactly_zero_gradient_in_every_map(name):
    cell = CELLS[name](rover_ncp())
    before = {n: p.detach().clone() for n, p in cell.named_parameters()}
    optimizer = torch.optim.Adam(cell.parameters(), lr=0.1)
    x, elapsed = _batch()
    y, _ = LiquidRNN(cell)(x, None, elapsed)
    (y - 1.0).square().mean().backward()
    optimizer.step()
    params = dict(cell.named_parameters())
    for pname, absent in _absent(cell).items():
        grad = params[pname].grad
        assert torch.count_nonzero(grad[absent]) == 0, pname
        assert torch.equal(params[pname][absent], before[pname][absent]), pname
        assert torch.count_nonzero(grad[~absent]) > 0, f'{pname}: present synapses must learn'


def test_cfc_weight_masks_are_the_wiring_itself():
    wiring = drone_ncp()
    cell = CfCCell(32, wiring)
    assert torch.equal(cell.mask_in.bool(), torch.as_tensor(wiring.sensory_adjacency) != 0)
    assert torch.equal((cell.mask_old + cell.mask_new).bool(),
                       torch.as_tensor(wiring.adjacency) != 0)


def _state_jacobian(cell, h):
    x = torch.randn(1, 32)
    return torch.autograd.functional.jacobian(
        lambda hh: cell(x, hh, torch.ones(1))[1], h)[0, :, 0, :]  # [dest, src]


@pytest.mark.parametrize('make', [lambda w: CfCCell(32, w), lambda w: LTCCell(32, w)])
def test_command_to_command_synapses_carry_state_and_nothing_else_does(make):
    wiring = rover_ncp(seed=3)
    cell = make(wiring)
    command = wiring.layers[1]
    jac = _state_jacobian(cell, torch.rand(1, 19))
    block = jac[command.start:command.stop, command.start:command.stop].T  # [src, dest]
    synapse = torch.as_tensor(wiring.adjacency[command.start:command.stop,
                                               command.start:command.stop]) != 0
    off_diagonal = ~torch.eye(len(command), dtype=torch.bool)
    assert synapse.any()
    assert (block[synapse & off_diagonal] != 0).all()
    assert (block[~synapse & off_diagonal] == 0).all()
    # inter neurons hear no neuron's previous state except (LTC) their own membrane
    inter = wiring.layers[0]
    inter_rows = jac[inter.start:inter.stop]
    inter_rows = inter_rows * ~torch.eye(19, dtype=torch.bool)[inter.start:inter.stop]
    assert torch.count_nonzero(inter_rows) == 0


@pytest.mark.parametrize('name', sorted(CELLS))
def test_input_reaches_the_motor_neuron_within_one_tick(name):
    cell = CELLS[name](rover_ncp())
    x = torch.randn(1, 32, requires_grad=True)
    y, _ = cell(x, None, torch.ones(1))
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert grad.abs().sum() > 0


def test_ltc_reversal_potentials_are_the_polarities_and_conductances_positive():
    wiring = rover_ncp()
    cell = LTCCell(32, wiring)
    assert torch.equal(cell.erev, torch.as_tensor(wiring.adjacency, dtype=torch.float32))
    assert torch.equal(cell.sensory_erev,
                       torch.as_tensor(wiring.sensory_adjacency, dtype=torch.float32))
    with torch.no_grad():
        for p in (cell.w, cell.sensory_w, cell.gleak, cell.cm):
            p.fill_(-30.0)
    fused = cell.fused()
    for layer in range(3):
        group = fused[2 + 14 * layer:2 + 14 * (layer + 1)]
        n = len(wiring.layers[layer])
        assert (group[0] > 0).all() and (group[1][n:] > 0).all()  # cm, gleak
        for w2 in (group[5], group[9], group[13]):  # [w erev | w] per edge kind
            assert (w2[:, n:] >= 0).all() and torch.equal(w2[:, :n].abs(), w2[:, n:])


# -- numerics against naive references ---------------------------------------------------------
def _reference_cfc(cell, x, h, ts):
    """Layer by layer, dense masked maps: what the wired CfC means, written plainly."""
    layer = torch.as_tensor(cell._layer_of_neuron())
    mask = torch.as_tensor(cell.wiring.adjacency != 0, dtype=x.dtype)
    if cell.self_state:
        mask = torch.maximum(mask, torch.eye(cell.hidden_size, dtype=x.dtype))
    w_in = cell.weight_in * cell.mask_in
    w_rec = cell.weight_rec * mask
    new = h.clone()
    for index, r in enumerate(cell.wiring.layers):
        src = torch.where((layer < index)[None, :], new, h)  # earlier layers: new state
        z = [x @ w_in[k][:, r.start:r.stop] + src @ w_rec[k][:, r.start:r.stop]
             + cell.bias[k][r.start:r.stop] for k in range(cell.n_maps)]
        if cell.mode == 'pure':
            a, tau = cell.A[r.start:r.stop], cell.w_tau[r.start:r.stop]
            out = -a * torch.exp(-ts * (tau.abs() + z[0].abs())) * z[0] + a
        else:
            ff1, ff2 = torch.tanh(z[0]), torch.tanh(z[1])
            t = torch.sigmoid(z[2] * ts + z[3])
            out = ff1 * (1 - t) + t * ff2 if cell.mode == 'default' else ff1 + t * ff2
        new = new.clone()
        new[:, r.start:r.stop] = out
    return new


def _reference_ltc(cell, x, h, ts):
    """Layer by layer, dense, with every unfold explicit (ncps' solver, chained by layer)."""
    u = x * cell.input_w + cell.input_b
    s_w = F.softplus(cell.sensory_w) * cell.sensory_mask
    s_act = s_w * torch.sigmoid(cell.sensory_sigma * (u[:, :, None] - cell.sensory_mu))
    num_s, den_s = (s_act * cell.sensory_erev).sum(1), s_act.sum(1)
    w = F.softplus(cell.w) * cell.mask
    cm = F.softplus(cell.cm) * cell.ode_unfolds / ts
    gleak = F.softplus(cell.gleak)
    v = h.clone()
    for r in cell.wiring.layers:
        for _ in range(cell.ode_unfolds):
            act = w * torch.sigmoid(cell.sigma * (v[:, :, None] - cell.mu))
            num = (act * cell.erev).sum(1) + num_s
            den = act.sum(1) + den_s
            update = (cm * v + gleak * cell.vleak + num) / (cm + gleak + den + cell.epsilon)
            v = v.clone()
            v[:, r.start:r.stop] = update[:, r.start:r.stop]
    return v


WIRINGS = [rover_ncp, drone_ncp, lambda: FullyConnected(6, 2, input_dim=32),
           lambda: Random(8, 2, 0.5, seed=2, input_dim=32)]


@pytest.mark.parametrize('make_wiring', WIRINGS)
@pytest.mark.parametrize('name', sorted(CELLS))
def test_fast_cells_equal_the_plain_reference_in_float64(name, make_wiring):
    cell = CELLS[name](make_wiring()).double()
    x, elapsed = _batch(3, 6)
    x, elapsed = x.double(), elapsed.double()
    h = torch.rand(3, cell.hidden_size, dtype=torch.float64)
    reference = _reference_ltc if isinstance(cell, LTCCell) else _reference_cfc
    expected = h
    for t in range(6):
        expected = reference(cell, x[:, t], expected, elapsed[:, t:t + 1])
    _, final = LiquidRNN(cell)(x, h, elapsed)
    torch.testing.assert_close(final, expected, rtol=1e-10, atol=1e-10)


# -- sequences, streaming and irregular time ---------------------------------------------------
@pytest.mark.parametrize('name', sorted(CELLS))
def test_streaming_equals_sequence_forward(name):
    rnn = LiquidRNN(CELLS[name](drone_ncp()))
    x, elapsed = _batch()
    h0 = torch.rand(5, 19)
    y, h, traces = rnn(x, h0, elapsed, return_traces=True)
    assert y.shape == (5, 9, 4) and h.shape == (5, 19) and traces.shape == (5, 9, 19)
    state, outputs = h0, []
    for t in range(x.shape[1]):
        out, state = rnn.step(x[:, t], state, elapsed[:, t])
        outputs.append(out)
        torch.testing.assert_close(state, traces[:, t], rtol=0, atol=1e-6)
    torch.testing.assert_close(torch.stack(outputs, 1), y, rtol=0, atol=1e-6)
    torch.testing.assert_close(state, h, rtol=0, atol=1e-6)


@pytest.mark.parametrize('name', sorted(CELLS))
def test_per_sample_elapsed_times_match_each_sample_alone(name):
    rnn = LiquidRNN(CELLS[name](rover_ncp()))
    x, elapsed = _batch()
    y, h = rnn(x, None, elapsed)
    for b in range(x.shape[0]):
        y_b, h_b = rnn(x[b:b + 1], None, elapsed[b:b + 1])
        torch.testing.assert_close(y_b, y[b:b + 1], rtol=0, atol=1e-6)
        torch.testing.assert_close(h_b, h[b:b + 1], rtol=0, atol=1e-6)
    # and elapsed time matters
    y_other, _ = rnn(x, None, elapsed * 3.0)
    assert not torch.allclose(y_other, y, atol=1e-4)


def test_default_elapsed_is_one_second():
    rnn = LiquidRNN(CfCCell(32, rover_ncp()))
    x, _ = _batch()
    torch.testing.assert_close(rnn(x)[0], rnn(x, None, torch.ones(5, 9))[0], rtol=0, atol=0)


def test_ltc_converges_as_ode_unfolds_grows():
    wiring = rover_ncp()
    x, elapsed = _batch(4, 5)
    reference = LTCCell(32, wiring, ode_unfolds=2048)
    state = reference.state_dict()
    _, expected = LiquidRNN(reference)(x, None, elapsed)
    errors = []
    for unfolds in (1, 2, 4, 8, 16, 32, 64):
        cell = LTCCell(32, wiring, ode_unfolds=unfolds)
        cell.load_state_dict(state)
        _, h = LiquidRNN(cell)(x, None, elapsed)
        errors.append((h - expected).abs().max().item())
    assert all(later < earlier for earlier, later in zip(errors, errors[1:], strict=False))
    assert errors[-1] < errors[0] / 20


# -- fast inference path -----------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(CELLS))
def test_torchscript_step_equals_eager(name):
    cell = CELLS[name](drone_ncp())
    step = cell.export_step()
    assert isinstance(step, torch.jit.ScriptModule)
    x, elapsed = _batch(3, 4)
    h_eager = h_script = torch.rand(3, 19)
    with torch.no_grad():
        for t in range(4):
            y_eager, h_eager = cell(x[:, t], h_eager, elapsed[:, t])
            y_script, h_script = step(x[:, t], h_script, elapsed[:, t:t + 1])
            torch.testing.assert_close(y_script, y_eager, rtol=0, atol=1e-6)
            torch.testing.assert_close(h_script, h_eager, rtol=0, atol=1e-6)


def test_cached_weights_follow_parameter_updates():
    cell = CfCCell(32, rover_ncp())
    x = torch.randn(2, 32)
    with torch.inference_mode():
        before, _ = cell(x)
    with torch.no_grad():
        cell.weight_in.mul_(2.0)
    with torch.inference_mode():
        after, _ = cell(x)
    fresh = cell.step_fused(cell.fused(), x, torch.zeros(2, 19), torch.ones(2, 1))
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, cell.read_out(fresh), rtol=0, atol=0)


# -- input checks ------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    cell = CfCCell(32, rover_ncp())
    rnn = LiquidRNN(cell)
    with pytest.raises(ValueError, match=r'CfCCell: expected input \(B, D\) with D=32'):
        cell(torch.zeros(2, 31))
    with pytest.raises(TypeError, match='floating point'):
        cell(torch.zeros(2, 32, dtype=torch.long))
    with pytest.raises(ValueError, match='expected hx'):
        cell(torch.zeros(2, 32), torch.zeros(2, 18))
    with pytest.raises(ValueError, match='> 0'):
        rnn(torch.zeros(2, 3, 32), None, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r'elapsed \(B, T\)'):
        rnn(torch.zeros(2, 3, 32), None, torch.ones(2))
    with pytest.raises(ValueError, match='mode'):
        CfCCell(32, rover_ncp(), 'fast')
    with pytest.raises(ValueError, match='ode_unfolds'):
        LTCCell(32, rover_ncp(), ode_unfolds=0)


def test_cells_follow_the_pytorch_cell_contract():
    cell = CfCCell(3, 5, dtype=torch.float64)
    assert cell.weight_in.dtype == torch.float64 and cell.hidden_size == 5
    y, h = cell(torch.zeros(2, 3, dtype=torch.float64))
    assert y.dtype == torch.float64 and h.shape == (2, 5)
    assert 'mode' in repr(cell) and 'ode_unfolds' in repr(LTCCell(3, 4))


# -- learning ----------------------------------------------------------------------------------
def _sine_batch(generator, batch=32, steps=24):
    """Return x = sin(t) at random times and target cos(t), which needs memory (the sign)."""
    elapsed = 0.1 + 0.3 * torch.rand(batch, steps, generator=generator)
    t = torch.cumsum(elapsed, 1) + 6.28 * torch.rand(batch, 1, generator=generator)
    return torch.sin(t).unsqueeze(-1), torch.cos(t).unsqueeze(-1), elapsed


@pytest.mark.parametrize('make, iterations, threshold', [
    (lambda w: CfCCell(1, w), 100, 0.05),
    (lambda w: LTCCell(1, w, ode_unfolds=3), 80, 0.1),
])
def test_cells_learn_an_irregularly_sampled_sine(make, iterations, threshold):
    """Predicting 0 scores 0.5; a memoryless model cannot beat that (cos's sign is unknown)."""
    wiring = NCP(6, 4, 1, sensory_fanout=1, inter_fanout=2, recurrent_command_synapses=4,
                 motor_fanin=3, seed=1)
    rnn = LiquidRNN(make(wiring))
    optimizer = torch.optim.Adam(rnn.parameters(), lr=0.03)
    generator = torch.Generator().manual_seed(0)
    for _ in range(iterations):
        x, target, elapsed = _sine_batch(generator)
        y, _ = rnn(x, None, elapsed)
        loss = (y[:, 4:] - target[:, 4:]).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, target, elapsed = _sine_batch(torch.Generator().manual_seed(99), batch=256)
    with torch.no_grad():
        y, _ = rnn(x, None, elapsed)
    assert (y[:, 4:] - target[:, 4:]).square().mean().item() < threshold


@pytest.mark.parametrize('mode', ['default', 'no_gate', 'pure'])
@pytest.mark.parametrize('make_wiring', WIRINGS)
def test_numpy_step_equals_eager(mode, make_wiring):
    cell = CfCCell(32, make_wiring(), mode)
    fast = NumpyCfCStep(cell)
    x, elapsed = _batch(3, 4)
    h_eager = torch.rand(3, cell.hidden_size)
    h_fast = h_eager.numpy()
    with torch.no_grad():
        for t in range(4):
            y_eager, h_eager = cell(x[:, t], h_eager, elapsed[:, t])
            y_fast, h_fast = fast(x[:, t].numpy(), h_fast, elapsed[:, t].numpy())
            np.testing.assert_allclose(y_fast, y_eager.numpy(), rtol=0, atol=1e-6)
            np.testing.assert_allclose(h_fast, h_eager.numpy(), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='NumpyCfCStep: expected x'):
        fast(np.zeros((1, 31), np.float32), h_fast[:1])
    with pytest.raises(TypeError, match='CfCCell'):
        NumpyCfCStep(LTCCell(32, make_wiring()))
