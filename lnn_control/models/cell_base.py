"""What CfC and LTC cells share: the wiring, input checks, elapsed-time handling and export.

A wired cell splits its work in two. ``fused()`` turns the parameters into masked, layer-ordered
tensors (differentiable, computed once per sequence or once for deployment), and
``step_fused(fused, x, h, ts)`` advances one tick from them. ``forward`` is the two together;
``LiquidRNN`` calls ``fused()`` once per sequence (and may schedule the whole sequence through
``sequence_fused``), ``forward`` caches it while gradients are off, and ``export_step()`` freezes
it into a TorchScript module.
"""
from __future__ import annotations

from typing import Any
import warnings

from lnn_control.models.wiring import FullyConnected, Wiring
import numpy as np
import torch
from torch import nn, Tensor


class WiredCell(nn.Module):
    """Base of the wired cells (not used on its own).

    Args:
        input_size: Sensory inputs D.
        hidden_size: Neuron count N (a fully connected wiring) or a ``Wiring``.
    """

    def __init__(self, input_size: int, hidden_size: int | Wiring) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(input_size, int) or input_size < 1:
            raise ValueError(f'{name}: input_size must be an integer >= 1, got {input_size!r}')
        if isinstance(hidden_size, Wiring):
            wiring = hidden_size
        elif isinstance(hidden_size, int) and hidden_size >= 1:
            wiring = FullyConnected(hidden_size)
        else:
            raise ValueError(f'{name}: hidden_size must be an int >= 1 or a Wiring, '
                             f'got {hidden_size!r}')
        wiring.build(input_size)
        self.wiring = wiring
        self.input_size = input_size
        self.hidden_size = wiring.units
        self.output_size = wiring.output_dim
        self.layer_sizes = [len(r) for r in wiring.layers]
        self._fused_cache: tuple[tuple[tuple[int, int, int], ...], list[Tensor]] | None = None

    def _masks(self) -> tuple[Tensor, Tensor]:
        """Sensory (D, N) and neuron (N, N) polarity matrices as float tensors."""
        sensory = self.wiring.sensory_adjacency
        assert sensory is not None  # built in __init__
        return (torch.as_tensor(sensory.astype(np.float32)),
                torch.as_tensor(self.wiring.adjacency.astype(np.float32)))

    def _layer_of_neuron(self) -> np.ndarray:
        """Layer index of each neuron, shape (N,)."""
        layer = np.empty(self.hidden_size, dtype=np.int64)
        for index, neurons in enumerate(self.wiring.layers):
            layer[neurons.start:neurons.stop] = index
        return layer

    # -- public API ------------------------------------------------------------------------------
    def initial_state(self, batch: int, *, device: Any = None,
                      dtype: torch.dtype | None = None) -> Tensor:
        """Return a zero state (B, N)."""
        ref = next(self.parameters())
        return torch.zeros(batch, self.hidden_size, device=device or ref.device,
                           dtype=dtype or ref.dtype)

    def forward(self, x: Tensor, hx: Tensor | None = None,
                elapsed: Tensor | float | None = None) -> tuple[Tensor, Tensor]:
        """Advance one tick.

        Args:
            x: Input (B, D).
            hx: State (B, N); zeros when ``None``.
            elapsed: Seconds since the previous tick, a float or (B,); 1.0 when ``None``.

        Returns:
            ``(y, hx)``: the motor neurons (B, M) and the new state (B, N).

        Shape:
            x (B, D), hx (B, N), elapsed (B,) -> y (B, M), hx (B, N).
        """
        x = self.check_input(x, 2)
        hx = self.check_state(hx, x)
        ts = elapsed_column(type(self).__name__, elapsed, x)
        h = self.step_fused(self._fused_for_step(), x, hx, ts)
        return self.read_out(h), h

    def _fused_for_step(self) -> list[Tensor]:
        """``fused()``, cached while gradients are off and no parameter has changed.

        A control loop stepping under ``torch.inference_mode()`` thus pays the masking once;
        any in-place update (optimizer step, ``load_state_dict``) bumps a parameter's version
        counter and invalidates the cache.
        """
        if torch.is_grad_enabled():
            return self.fused()
        key = tuple((id(p), p.data_ptr(), p._version) for p in self.parameters())
        if self._fused_cache is None or self._fused_cache[0] != key:
            self._fused_cache = (key, self.fused())
        return self._fused_cache[1]

    def check_input(self, x: Tensor, ndim: int) -> Tensor:
        """Raise a clear error unless ``x`` is floating point (..., D) with ``ndim`` dims."""
        name = type(self).__name__
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f'{name}: expected a floating point tensor, got '
                            f'{getattr(x, "dtype", type(x).__name__)}')
        if x.dim() != ndim or x.shape[-1] != self.input_size:
            dims = '(B, D)' if ndim == 2 else '(B, T, D)'
            raise ValueError(f'{name}: expected input {dims} with D={self.input_size}, '
                             f'got {tuple(x.shape)}')
        return x

    def check_state(self, hx: Tensor | None, x: Tensor) -> Tensor:
        """Return a zero state when ``hx`` is None, else ``hx`` after a shape check."""
        if hx is None:
            return x.new_zeros(x.shape[0], self.hidden_size)
        if hx.shape != (x.shape[0], self.hidden_size):
            raise ValueError(f'{type(self).__name__}: expected hx ({x.shape[0]}, '
                             f'{self.hidden_size}), got {tuple(hx.shape)}')
        return hx

    def read_out(self, h: Tensor) -> Tensor:
        """Motor neurons (the last M) of state ``h`` (..., N), mapped to outputs (..., M)."""
        return h.narrow(-1, self.hidden_size - self.output_size, self.output_size)

    def synaptic_parameter_count(self) -> int:
        """Trainable numbers that can affect the output: masked-out entries are not counted."""
        raise NotImplementedError

    def export_step(self) -> torch.jit.ScriptModule:
        """Export a TorchScript step with the masked weights frozen in, for the control loop.

        Its ``forward(x (B, D), h (B, N), ts (B, 1)) -> (y (B, M), h (B, N))`` gives the same
        numbers as ``forward``; re-export after the weights change.
        """
        with torch.no_grad():
            module = self.step_module([t.detach().clone() for t in self.fused()])
        with warnings.catch_warnings():
            # TorchScript is deprecated upstream, but it is what C++ and Python-free runtimes
            # load; torch.export's programs cannot hold the per-layer loop as compactly.
            warnings.simplefilter('ignore', DeprecationWarning)
            return torch.jit.freeze(torch.jit.script(module.eval()))

    # -- subclass hooks --------------------------------------------------------------------------
    def fused(self) -> list[Tensor]:
        """Masked, layer-ordered weights for ``step_fused`` (differentiable)."""
        raise NotImplementedError

    def step_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        """Return the new state (B, N) from input (B, D), state (B, N) and elapsed (B, 1)."""
        raise NotImplementedError

    def sequence_fused(self, fused: list[Tensor], x: Tensor, h: Tensor, ts: Tensor) -> Tensor:
        """States (B, T, N) over a sequence x (B, T, D), from h (B, N) and ts (B, T, 1).

        The default runs ``step_fused`` tick by tick; cells override it with a faster,
        numerically equivalent schedule.
        """
        states = []
        for t in range(x.shape[1]):
            h = self.step_fused(fused, x[:, t], h, ts[:, t])
            states.append(h)
        return torch.stack(states, 1)

    def step_module(self, fused: list[Tensor]) -> nn.Module:
        """Build an ``nn.Module`` (scriptable) that runs ``step_fused`` on frozen ``fused``."""
        raise NotImplementedError


def elapsed_column(owner: str, elapsed: Tensor | float | None, x: Tensor) -> Tensor:
    """Elapsed time as a (B, 1) tensor on ``x``'s device and dtype, checked positive.

    Shape:
        elapsed: None, a float, (B,) or (B, 1) -> (B, 1).
    """
    batch = x.shape[0]
    if elapsed is None:
        return x.new_ones(batch, 1)
    ts = torch.as_tensor(elapsed, device=x.device, dtype=x.dtype)
    if ts.dim() == 0:
        ts = ts.expand(batch)
    ts = ts.reshape(-1, 1) if ts.dim() == 1 else ts
    if ts.shape != (batch, 1):
        raise ValueError(f'{owner}: expected elapsed (B,)=({batch},), got '
                         f'{tuple(torch.as_tensor(elapsed).shape)}')
    if not bool((ts > 0).all()):
        raise ValueError(f'{owner}: elapsed times must be > 0 seconds')
    return ts
