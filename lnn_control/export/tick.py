"""One control tick of a ``Policy`` as a frozen, check-free module that exporters can trace.

``Policy.step`` validates its inputs and caches the masked weights, and its conv head pools with
``AdaptiveAvgPool2d``, which ONNX cannot express for sizes that do not divide. ``PolicyTick``
computes the same numbers for one fixed image size: the pooling becomes a constant averaging
matrix, the liquid core runs its frozen ``step_module`` on the masked weights, and nothing
depends on the data, so ``torch.onnx.export`` sees one static graph. Inputs are checked once, by
the runtime that feeds it (``control.runner.PolicyRunner``).
"""
from __future__ import annotations

import math

from lnn_control.models.cores import LiquidCore
from lnn_control.models.policy import Policy
import torch
from torch import nn, Tensor

#: Names of the tick's inputs and outputs, in order, as the exported graph has them.
INPUT_NAMES = ('image', 'imu', 'elapsed', 'state')
OUTPUT_NAMES = ('action', 'next_state')


def adaptive_pool_matrix(size_in: tuple[int, int], size_out: tuple[int, int]) -> Tensor:
    """Return P (H*W, h*w) with ``x.flatten(-2) @ P == adaptive_avg_pool2d(x, size_out)``.

    PyTorch's rule: output cell i covers rows ``floor(i*H/h)`` to ``ceil((i+1)*H/h)``.
    """
    (rows, cols), (out_rows, out_cols) = size_in, size_out
    matrix = torch.zeros(rows * cols, out_rows * out_cols, dtype=torch.float64)
    for i in range(out_rows):
        r0, r1 = (i * rows) // out_rows, math.ceil((i + 1) * rows / out_rows)
        for j in range(out_cols):
            c0, c1 = (j * cols) // out_cols, math.ceil((j + 1) * cols / out_cols)
            weight = 1.0 / ((r1 - r0) * (c1 - c0))
            for r in range(r0, r1):
                matrix[r * cols + c0:r * cols + c1, i * out_cols + j] = weight
    return matrix.float()


class PolicyTick(nn.Module):
    """``forward(image, imu, elapsed, state) -> (action, next_state)`` at a fixed image size.

    Args:
        policy: A trained policy; its weights are frozen into this module (later changes to the
            policy are not seen).

    Shape:
        image (B, H, W, 3) uint8, imu (B, I), elapsed (B,), state (B, S) -> (B, A), (B, S).
    """

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        head = policy.head
        self.convs = nn.Sequential(*list(head.convs)[:-2])  # up to the pooling and flatten
        pool = head.convs[-2]
        height, width = policy.config.image_hw
        with torch.no_grad():
            probe = self.convs(torch.zeros(1, 3, height, width))
        self.register_buffer('pool', adaptive_pool_matrix(
            tuple(probe.shape[2:]), tuple(pool.output_size)))
        for name in ('pixel_scale', 'pixel_shift', 'imu_mean', 'imu_std'):
            self.register_buffer(name, getattr(head, name).detach().clone())
        self.fc = head.fc
        self.core = _frozen_core(policy)
        self.register_buffer('action_mid', policy.action_mid.detach().clone())
        self.register_buffer('action_half', policy.action_half.detach().clone())
        self.state_size = policy.state_size

    def initial_state(self) -> Tensor:
        """Return a zero state (1, S)."""
        return torch.zeros(1, self.state_size)

    def forward(self, image: Tensor, imu: Tensor, elapsed: Tensor,
                state: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.addcmul(self.pixel_shift, image.permute(0, 3, 1, 2).float(), self.pixel_scale)
        x = self.convs(x)
        pooled = torch.matmul(x.flatten(2), self.pool).flatten(1)
        feats = self.fc(torch.cat([pooled, (imu - self.imu_mean) / self.imu_std], 1))
        y, state = self.core(feats, elapsed, state)
        return torch.addcmul(self.action_mid, torch.tanh(y), self.action_half), state


class _LiquidStep(nn.Module):
    """A wired cell's frozen step on its masked weights: ``(u, elapsed (B,), h) -> (y, h)``."""

    def __init__(self, core: LiquidCore) -> None:
        super().__init__()
        cell = core.rnn.cell
        with torch.no_grad():
            fused = [t.detach().clone() for t in cell.fused()]
        self.step = cell.step_module(fused)
        for index, tensor in enumerate(fused):  # buffers, so .to() and the exporters see them
            self.register_buffer(f'fused_{index}', tensor)

    def forward(self, u: Tensor, elapsed: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.step(u, h, elapsed.unsqueeze(1))


class _CoreStep(nn.Module):
    """Any other core through its own ``step`` (LSTM, GRU, ESN and the feedforward CNN)."""

    def __init__(self, core: nn.Module) -> None:
        super().__init__()
        self.core = core

    def forward(self, u: Tensor, elapsed: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.core.step(u, elapsed, h)


def _frozen_core(policy: Policy) -> nn.Module:
    core = policy.core
    return _LiquidStep(core) if isinstance(core, LiquidCore) else _CoreStep(core)
