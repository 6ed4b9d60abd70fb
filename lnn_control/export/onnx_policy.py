"""A policy's control tick as an ONNX graph, for ONNX Runtime on the vehicle or at the edge.

The graph is ``PolicyTick``: raw uint8 frame (1, H, W, 3), IMU and state inputs (1, I), elapsed
seconds (1,), recurrent state (1, S) -> action (1, A) in env units, next state (1, S). The
policy's description (vehicle, image size, input and action names, bounds) travels in the
model's metadata, so a consumer needs nothing else.

We use PyTorch's TorchScript-based exporter: on these policies it exports in 0.1-0.4 s (the
torch.export-based one takes 3-6 s, which a node would pay at every start) and its graph runs
about a third faster in ONNX Runtime; both give the same numbers. It is deprecated, so where a
future PyTorch no longer has it we fall back to the new exporter.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
import warnings

from lnn_control.export.tick import INPUT_NAMES, OUTPUT_NAMES, PolicyTick
from lnn_control.models.policy import Policy
import torch

OPSET = 18


def onnx_bytes(policy: Policy) -> bytes:
    """Export ``policy``'s tick to a serialized ONNX model (batch 1), without metadata."""
    tick = PolicyTick(policy).eval()
    config = policy.config
    height, width = config.image_hw
    example = (torch.zeros(1, height, width, 3, dtype=torch.uint8),
               torch.zeros(1, config.input_dim), torch.full((1,), 0.05),
               tick.initial_state())
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The exporter's deprecation notice and its tracer remarks about other batch sizes:
        # the graph is batch 1 by design, and every export is checked against torch.
        warnings.simplefilter('ignore')
        try:
            torch.onnx.export(tick, example, buffer, input_names=list(INPUT_NAMES),
                              output_names=list(OUTPUT_NAMES), opset_version=OPSET,
                              dynamo=False)
        except TypeError:  # a PyTorch without the TorchScript-based exporter
            torch.onnx.export(tick, example, buffer, input_names=list(INPUT_NAMES),
                              output_names=list(OUTPUT_NAMES), opset_version=OPSET)
    return buffer.getvalue()


def export_onnx(policy: Policy, path: str | Path,
                metadata: dict[str, Any] | None = None) -> Path:
    """Write ``policy``'s tick to ``path`` (an ``.onnx`` file), described; return the path.

    Args:
        policy: The trained policy.
        path: Where to write.
        metadata: Extra entries for the model's metadata (e.g. the source checkpoint).
    """
    model = _with_metadata(onnx_bytes(policy), {**describe(policy), **(metadata or {})})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_bytes(model)
    tmp.replace(path)
    return path


def describe(policy: Policy) -> dict[str, Any]:
    """Return what a consumer of the graph needs to know about its inputs and outputs."""
    config = policy.config
    return {'vehicle': config.vehicle, 'image_hw': list(config.image_hw),
            'imu_dim': config.imu_dim, 'state_inputs': list(config.state_inputs),
            'action_names': list(config.action_names), 'action_low': list(config.action_low),
            'action_high': list(config.action_high), 'core': config.core,
            'state_size': policy.state_size, 'inputs': list(INPUT_NAMES),
            'outputs': list(OUTPUT_NAMES)}


def _with_metadata(model_bytes: bytes, entries: dict[str, Any]) -> bytes:
    import onnx

    model = onnx.load_from_string(model_bytes)
    model.producer_name = 'lnn_control'
    for key, value in entries.items():
        prop = model.metadata_props.add()
        prop.key = key
        prop.value = value if isinstance(value, str) else json.dumps(value)
    return model.SerializeToString()
