"""``lnn-control demo``: the 19-neuron rover NCP on an irregularly sampled sine, in seconds.

Prints the wiring (synapse counts per layer), then fits the wired CfC to recover cos(t) from
sin(t) observed at random times (the sign of cos needs memory), and prints the fit and a few
streamed control ticks through the TorchScript step.
"""
from __future__ import annotations

import argparse
import time

from lnn_control.models.cfc import CfCCell
from lnn_control.models.sequence import LiquidRNN
from lnn_control.models.wiring import rover_ncp
import torch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the demo command."""
    parser.add_argument('--seed', type=int, default=0, help='seed for weights and data')
    parser.add_argument('--iterations', type=int, default=120, help='training iterations')
    parser.add_argument('--ticks', type=int, default=6, help='streamed ticks to print')


def sine_batch(generator: torch.Generator, batch: int, steps: int, inputs: int) -> tuple[
        torch.Tensor, torch.Tensor, torch.Tensor]:
    """sin(t) at random times (copied to every input), target cos(t), elapsed (B, T).

    Shape:
        -> x (B, T, D), target (B, T, 1), elapsed (B, T).
    """
    elapsed = 0.05 + 0.35 * torch.rand(batch, steps, generator=generator)
    t = torch.cumsum(elapsed, 1) + 6.283 * torch.rand(batch, 1, generator=generator)
    x = torch.sin(t).unsqueeze(-1).expand(batch, steps, inputs)
    return x, torch.cos(t).unsqueeze(-1), elapsed


def run(args: argparse.Namespace) -> int:
    """Build, print, fit and stream; returns 0."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    wiring = rover_ncp(seed=22222)
    print(wiring.summary())
    rnn = LiquidRNN(CfCCell(wiring.input_dim, wiring))
    print(f'\n{rnn.cell}')
    generator = torch.Generator().manual_seed(args.seed)
    test = sine_batch(torch.Generator().manual_seed(args.seed + 1), 128, 32, wiring.input_dim)

    def test_mse() -> float:
        with torch.no_grad():
            y, _ = rnn(test[0], None, test[2])
        return float((y[:, 4:] - test[1][:, 4:]).square().mean())

    print('\ntask: cos(t) from sin(t) sampled every 0.05-0.40 s; MSE of predicting 0 = 0.5')
    print(f'before training: test MSE {test_mse():.4f}')
    optimizer = torch.optim.Adam(rnn.parameters(), lr=0.02)
    start = time.perf_counter()
    for _ in range(args.iterations):
        x, target, elapsed = sine_batch(generator, 16, 32, wiring.input_dim)
        y, _ = rnn(x, None, elapsed)
        loss = (y[:, 4:] - target[:, 4:]).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'after {args.iterations} iterations ({time.perf_counter() - start:.1f} s): '
          f'test MSE {test_mse():.4f}')

    step = rnn.cell.export_step()
    x, target, elapsed = test[0][:1], test[1][:1], test[2][:1]
    h = torch.zeros(1, wiring.units)
    print('\nstreamed ticks (TorchScript step, batch 1):')
    print('   dt [s]   sin(t)   cos(t)   output')
    with torch.inference_mode():
        for t in range(x.shape[1]):
            y, h = step(x[:, t], h, elapsed[:, t:t + 1])
            if t >= x.shape[1] - args.ticks:
                print(f'   {elapsed[0, t]:.3f}  {x[0, t, 0]:+.3f}  {target[0, t, 0]:+.3f}  '
                      f'{y[0, 0]:+.3f}')
    return 0
