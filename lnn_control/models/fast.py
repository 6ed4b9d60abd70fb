"""NumPy step of a trained wired CfC cell, for single-sample control loops.

At batch 1 a CfC tick is a few dozen operations on vectors of 1-50 numbers, so the cost is
per-call overhead, not arithmetic: NumPy's is several times lower than PyTorch's eager dispatch
or the TorchScript interpreter's. ``NumpyCfCStep`` freezes the masked weights once (re-create it
after the weights change) and runs the same equations as ``cfc_step``: the numbers match
``CfCCell.forward`` to float32 rounding (~1e-7). Export with ``CfCCell.export_step`` instead
where a TorchScript module is needed.
"""
from __future__ import annotations

from lnn_control.models.cfc import CfCCell
import numpy as np
import torch


class NumpyCfCStep:
    """``step(x (B, D), h (B, N), ts (B,)) -> (y (B, M), h (B, N))`` in float32 NumPy.

    Args:
        cell: The trained cell; its weights are copied, later changes are not seen.
    """

    def __init__(self, cell: CfCCell) -> None:
        if not isinstance(cell, CfCCell):
            raise TypeError(f'NumpyCfCStep: expected a CfCCell, got {type(cell).__name__}')
        plan = cell.plan
        with torch.no_grad():
            fused = [t.detach().cpu().float().numpy() for t in cell.fused()]
        self.mode = plan.mode
        self.input_size, self.hidden_size = cell.input_size, cell.hidden_size
        self.out_start = cell.hidden_size - cell.output_size
        self.layers = []
        for layer, n in enumerate(plan.sizes):
            wx, b, wf, wh, a, tau = fused[6 * layer:6 * layer + 6]
            self.layers.append((
                np.ascontiguousarray(wx) if plan.has_x[layer] else None, b,
                np.ascontiguousarray(wf) if plan.src[layer] < layer else None,
                plan.src[layer], np.ascontiguousarray(wh) if plan.has_h[layer] else None,
                n, a, tau))

    def __call__(self, x: np.ndarray, h: np.ndarray, ts: np.ndarray | float = 1.0) -> tuple[
            np.ndarray, np.ndarray]:
        """Advance one tick.

        Shape:
            x (B, D), h (B, N), ts (B,) or scalar -> y (B, M), h (B, N).
        """
        x = np.asarray(x, dtype=np.float32)
        h = np.asarray(h, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_size or h.shape != (len(x), self.hidden_size):
            raise ValueError(f'NumpyCfCStep: expected x (B, {self.input_size}) and h '
                             f'(B, {self.hidden_size}), got {x.shape} and {h.shape}')
        ts = np.asarray(ts, dtype=np.float32).reshape(-1, 1)
        outs: list[np.ndarray] = []
        for layer, (wx, b, wf, first, wh, n, a, tau) in enumerate(self.layers):
            z = b
            if wx is not None:
                z = x @ wx
                z += b
            if wf is not None:
                feed = outs[-1] if first == layer - 1 else np.concatenate(outs[first:], 1)
                z = feed @ wf + z
            if wh is not None:
                z = h @ wh + z
            if z is b:  # a layer with no inputs at all
                z = np.tile(b, (len(x), 1))
            outs.append(self._gate(z, ts, n, a, tau))
        state = np.concatenate(outs, 1)
        return state[:, self.out_start:], state

    def _gate(self, z: np.ndarray, ts: np.ndarray, n: int, a: np.ndarray,
              tau: np.ndarray) -> np.ndarray:
        """``cfc_gate`` in NumPy."""
        if self.mode == 'pure':
            return a - a * np.exp(-ts * (tau + np.abs(z))) * z
        ff = np.tanh(z[:, :2 * n])
        ff1, ff2 = ff[:, :n], ff[:, n:]
        t = 1.0 / (1.0 + np.exp(-(z[:, 2 * n:3 * n] * ts + z[:, 3 * n:])))  # sigmoid
        if self.mode == 'default':
            return ff1 + t * (ff2 - ff1)
        return ff1 + t * ff2
