"""``LiquidRNN``: a wired cell run over batch-first sequences, or one tick at a time."""
from __future__ import annotations

from lnn_control.models.cell_base import elapsed_column, WiredCell
import torch
from torch import nn, Tensor


class LiquidRNN(nn.Module):
    """Sequence wrapper around a ``CfCCell`` or ``LTCCell``.

    The masked weights are fused once per call and shared by all T steps, so training pays
    the masking once per sequence, not once per step; the cell may schedule the sequence layer
    by layer (see ``CfCCell``), which gives the same numbers as stepping.

    Args:
        cell: The wired cell to unroll.
    """

    def __init__(self, cell: WiredCell) -> None:
        super().__init__()
        if not isinstance(cell, WiredCell):
            raise TypeError(f'LiquidRNN: expected a CfCCell or LTCCell, got {type(cell).__name__}')
        self.cell = cell
        self.input_size = cell.input_size
        self.hidden_size = cell.hidden_size
        self.output_size = cell.output_size

    def initial_state(self, batch: int) -> Tensor:
        """Return a zero state (B, N)."""
        return self.cell.initial_state(batch)

    def forward(self, x: Tensor, hx: Tensor | None = None, elapsed: Tensor | None = None,
                return_traces: bool = False) -> tuple[Tensor, ...]:
        """Run the cell over a sequence.

        Args:
            x: Inputs (B, T, D).
            hx: Initial state (B, N); zeros when ``None``.
            elapsed: Seconds per step (B, T), each > 0; 1.0 everywhere when ``None``.
            return_traces: Also return every neuron's state at every step.

        Returns:
            ``(y, hx)`` or ``(y, hx, traces)``: outputs (B, T, M), final state (B, N), traces
            (B, T, N).

        Shape:
            x (B, T, D), hx (B, N), elapsed (B, T) -> y (B, T, M), hx (B, N), traces (B, T, N).
        """
        x = self.cell.check_input(x, 3)
        batch, steps = x.shape[:2]
        h = self.cell.check_state(hx, x[:, 0])
        ts = self._elapsed(elapsed, x)
        if steps == 0:
            traces = x.new_zeros(batch, 0, self.hidden_size)
        else:
            traces = self.cell.sequence_fused(self.cell.fused(), x, h, ts)
            h = traces[:, -1]
        y = self.cell.read_out(traces)
        return (y, h, traces) if return_traces else (y, h)

    def step(self, x: Tensor, hx: Tensor | None = None,
             elapsed: Tensor | float | None = None) -> tuple[Tensor, Tensor]:
        """Advance one tick (streaming): ``(y (B, M), hx (B, N))``.

        Shape:
            x (B, D), hx (B, N), elapsed (B,) -> y (B, M), hx (B, N).
        """
        return self.cell(x, hx, elapsed)

    def _elapsed(self, elapsed: Tensor | None, x: Tensor) -> Tensor:
        """Elapsed times (B, T, 1) checked positive; ones when ``None``."""
        batch, steps = x.shape[:2]
        if elapsed is None:
            return x.new_ones(batch, steps, 1)
        ts = torch.as_tensor(elapsed, device=x.device, dtype=x.dtype)
        if ts.shape != (batch, steps):
            raise ValueError(f'LiquidRNN: expected elapsed (B, T)=({batch}, {steps}), got '
                             f'{tuple(ts.shape)}')
        elapsed_column('LiquidRNN', ts.reshape(-1), ts.reshape(-1, 1))  # positivity check
        return ts.unsqueeze(-1)
