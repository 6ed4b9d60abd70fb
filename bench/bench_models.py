"""Speed of our liquid networks against ncps 1.0.1, measured side by side in one run.

Run: ``.venv/bin/python bench/bench_models.py [--quick]``. One thread, the 19-neuron rover NCP
(32 sensory -> 12 inter, 6 command, 1 motor), random inputs. Candidates are timed in interleaved
rounds (each round times every candidate once), so load from other processes hits all of them
alike; we print each candidate's median over rounds and the median over rounds of the per-round
ratio ``ncps / ours``:

1. streaming single-step latency at batch 1: ours as the ONNX Runtime graph of the frozen step
   (the node's default backend runs this, inside the whole tick), NumPy step, TorchScript
   export and eager ``forward``; ncps' ``WiredCfCCell`` step;
2. training forward + backward, batch 64 x 32 steps;
3. LTC (6 unfolds) against CfC on the same wiring;
4. the whole policy tick of the shipped policies (``PolicyRunner.act``: conv head, core and
   squash) on each backend, p50 and p99.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
import importlib.metadata
import io
import os
from pathlib import Path
import statistics
import sys
import time
import warnings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lnn_control.control.runner import PolicyRunner  # noqa: E402
from lnn_control.models.cfc import CfCCell  # noqa: E402
from lnn_control.models.fast import NumpyCfCStep  # noqa: E402
from lnn_control.models.ltc import LTCCell  # noqa: E402
from lnn_control.models.sequence import LiquidRNN  # noqa: E402
from lnn_control.models.wiring import rover_ncp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

INPUTS = 32


def interleaved(candidates: dict[str, Callable[[], object]], rounds: int, calls: int,
                per_call: bool = False) -> dict[str, list[float]]:
    """Seconds per call of each candidate, rounds interleaved.

    One sample per round (the mean over its ``calls``), or with ``per_call`` one per call, for
    percentiles.
    """
    for fn in candidates.values():  # warm-up (allocator, TorchScript profiling runs)
        for _ in range(max(3, calls // 4)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            if per_call:
                for _ in range(calls):
                    start = time.perf_counter()
                    fn()
                    samples[name].append(time.perf_counter() - start)
                continue
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return samples


def ratio(samples: dict[str, list[float]], slow: str, fast: str) -> float:
    """Median over rounds of ``slow / fast``."""
    return statistics.median(a / b for a, b in zip(samples[slow], samples[fast], strict=True))


def ncps_models() -> dict[str, torch.nn.Module]:
    """Build ncps' wired CfC and LTC on an NCP of the same shape (their own random draw)."""
    from ncps.torch import CfC, LTC
    from ncps.wirings import NCP

    def wiring() -> NCP:
        return NCP(12, 6, 1, sensory_fanout=6, inter_fanout=4, recurrent_command_synapses=6,
                   motor_fanin=6, seed=22222)

    return {'cfc': CfC(INPUTS, wiring(), batch_first=True),
            'ltc': LTC(INPUTS, wiring(), batch_first=True)}


def onnx_step(cell: CfCCell | LTCCell) -> Callable[[np.ndarray, np.ndarray, np.ndarray], object]:
    """Return the cell's frozen step in an ONNX Runtime session: ``(x, h, ts) -> (y, h)``."""
    import onnxruntime

    step = cell.step_module([t.detach() for t in cell.fused()])
    example = (torch.randn(1, INPUTS), torch.zeros(1, cell.hidden_size), torch.ones(1, 1))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(step, example, buffer, input_names=['x', 'h', 'ts'], dynamo=False,
                          opset_version=18)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(buffer.getvalue(), options,
                                           providers=['CPUExecutionProvider'])
    return lambda x, h, ts: session.run(None, {'x': x, 'h': h, 'ts': ts})


def streaming(rounds: int, calls: int) -> dict[str, list[float]]:
    """Single steps at batch 1."""
    x, ts, h = torch.randn(1, INPUTS), torch.ones(1, 1), torch.zeros(1, 19)
    cfc, ltc = CfCCell(INPUTS, rover_ncp()), LTCCell(INPUTS, rover_ncp())
    cfc_script, ltc_script = cfc.export_step(), ltc.export_step()
    cfc_numpy = NumpyCfCStep(cfc)
    cfc_onnx, ltc_onnx = onnx_step(cfc), onnx_step(ltc)
    x_np, h_np, ts_np = x.numpy(), h.numpy(), np.ones(1, np.float32)
    ncps = ncps_models()
    ncps_cfc, ncps_ltc = ncps['cfc'].rnn_cell, ncps['ltc'].rnn_cell
    candidates = {
        'ncps cfc (WiredCfCCell)': lambda: ncps_cfc(x, h, 1.0),
        'ours cfc onnxruntime step': lambda: cfc_onnx(x_np, h_np, ts.numpy()),
        'ours cfc numpy step': lambda: cfc_numpy(x_np, h_np, ts_np),
        'ours cfc torchscript step': lambda: cfc_script(x, h, ts),
        'ours cfc eager forward': lambda: cfc(x, h, ts[:, 0]),
        'ours ltc torchscript step': lambda: ltc_script(x, h, ts),
        'ours ltc onnxruntime step': lambda: ltc_onnx(x_np, h_np, ts.numpy()),
        'ncps ltc (LTCCell)': lambda: ncps_ltc(x, h, 1.0),
    }
    with torch.inference_mode():
        return interleaved(candidates, rounds, calls)


def training(rounds: int) -> dict[str, list[float]]:
    """Forward + backward of a 64 x 32 batch."""
    x, elapsed = torch.randn(64, 32, INPUTS), torch.ones(64, 32)
    ours = {'cfc': LiquidRNN(CfCCell(INPUTS, rover_ncp())),
            'ltc': LiquidRNN(LTCCell(INPUTS, rover_ncp()))}
    theirs = ncps_models()

    def ours_step(model: LiquidRNN) -> None:
        y, _ = model(x, None, elapsed)
        y.square().mean().backward()

    def ncps_step(model: torch.nn.Module) -> None:
        y, _ = model(x)
        y.square().mean().backward()

    candidates = {
        'ncps cfc': lambda: ncps_step(theirs['cfc']),
        'ours cfc': lambda: ours_step(ours['cfc']),
        'ncps ltc': lambda: ncps_step(theirs['ltc']),
        'ours ltc': lambda: ours_step(ours['ltc']),
    }
    return interleaved(candidates, rounds, 1)


def policy_ticks(rounds: int, calls: int) -> dict[str, list[float]]:
    """``PolicyRunner.act`` of each shipped policy on each backend, one sample per call."""
    policies = Path(__file__).resolve().parent.parent / 'config' / 'policies'
    candidates = {}
    rng = np.random.default_rng(0)
    for vehicle in ('rover', 'quad'):
        for backend in ('torch', 'onnxruntime'):
            runner = PolicyRunner.from_checkpoint(policies / f'{vehicle}_ncp_cfc.pt',
                                                  backend=backend)
            image = rng.integers(0, 256, (*runner.image_hw, 3), dtype=np.uint8)
            vector = np.zeros(runner.input_dim, np.float32)
            vector[2] = 9.81
            candidates[f'{vehicle} {backend}'] = (
                lambda r=runner, i=image, v=vector: r.act(i, v, 0.05))
    return interleaved(candidates, rounds, calls, per_call=True)


def report(title: str, samples: dict[str, list[float]], unit: str, scale: float) -> None:
    """Print each candidate's median."""
    print(f'\n{title}')
    for name, values in samples.items():
        print(f'   {name:<28} {statistics.median(values) * scale:9.1f} {unit}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='fewer rounds (smoke run)')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f'{time.strftime("%Y-%m-%d %H:%M %Z")}, load average '
          f'{", ".join(f"{v:.2f}" for v in os.getloadavg())}, {os.cpu_count()} CPUs')
    print(f'torch {torch.__version__}, ncps {importlib.metadata.version("ncps")}, onnxruntime '
          f'{importlib.metadata.version("onnxruntime")}, 1 thread, rover NCP 32 -> 12 inter, '
          '6 command, 1 motor')

    step = streaming(*((7, 100) if args.quick else (31, 300)))
    report('1. streaming single step, batch 1 (median per call)', step, 'us', 1e6)
    ref = 'ncps cfc (WiredCfCCell)'
    for ours in ('ours cfc onnxruntime step', 'ours cfc numpy step', 'ours cfc torchscript step',
                 'ours cfc eager forward'):
        print(f'   speed-up vs ncps, {ours[9:]:<18} {ratio(step, ref, ours):5.1f}x')
    print(f'   speed-up vs ncps, ltc onnxruntime  '
          f'{ratio(step, "ncps ltc (LTCCell)", "ours ltc onnxruntime step"):5.1f}x')

    train = training(3 if args.quick else 11)
    report('2. training forward+backward, batch 64 x 32 steps (median)', train, 'ms', 1e3)
    print(f'   speed-up vs ncps, cfc {ratio(train, "ncps cfc", "ours cfc"):5.1f}x, '
          f'ltc {ratio(train, "ncps ltc", "ours ltc"):5.1f}x')

    print('\n3. LTC (6 unfolds) / CfC on the same wiring (cost ratio)')
    print(f'   streaming step (torchscript) '
          f'{ratio(step, "ours ltc torchscript step", "ours cfc torchscript step"):5.1f}x, '
          f'training {ratio(train, "ours ltc", "ours cfc"):5.1f}x')

    ticks = policy_ticks(*((3, 100) if args.quick else (15, 200)))
    print('\n4. whole policy tick, PolicyRunner.act (checks, conv head, core, squash), batch 1')
    for name, values in ticks.items():
        p50, p99 = np.percentile(values, [50, 99]) * 1e6
        print(f'   {name:<22} p50 {p50:7.1f} us   p99 {p99:7.1f} us')
    for vehicle in ('rover', 'quad'):
        speedup = statistics.median(ticks[f'{vehicle} torch']) / statistics.median(
            ticks[f'{vehicle} onnxruntime'])
        print(f'   {vehicle}: onnxruntime {speedup:.1f}x faster than torch (p50)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
