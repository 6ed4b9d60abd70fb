"""``lnn-control export POLICY.pt --format onnx|c``: a trained policy for other runtimes.

``onnx`` writes one ``.onnx`` graph of the whole control tick (ONNX Runtime, TensorRT, ...);
``c`` writes a dependency-free C99 source and header for microcontrollers and flight-controller
modules. Either is checked against the PyTorch policy before the command reports success (the
C where a C compiler is installed).
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys
import tempfile

import numpy as np

FORMATS = ('onnx', 'c')
#: Random ticks on which an export is compared with PyTorch, and the largest gap accepted.
CHECK_TICKS = 20
C_TOLERANCE = 1e-4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('checkpoint', help='policy checkpoint (.pt) from lnn-control train')
    parser.add_argument('--format', choices=FORMATS, default='onnx')
    parser.add_argument('--out', help='onnx: the .onnx file (default ./<checkpoint stem>.onnx); '
                                      'c: the folder (default ./<checkpoint stem>_c)')
    parser.add_argument('--name', default='lnn_policy',
                        help='c: file names and the prefix of every C symbol')


def run(args: argparse.Namespace) -> int:
    from lnn_control.models.checkpoint import load_checkpoint

    checkpoint = Path(args.checkpoint)
    try:
        if not checkpoint.is_file():
            raise ValueError(f'{checkpoint} does not exist')
        policy, _ = load_checkpoint(checkpoint)
        if args.format == 'onnx':
            return _onnx(policy, checkpoint, Path(args.out or f'{checkpoint.stem}.onnx'))
        return _c(policy, Path(args.out or f'{checkpoint.stem}_c'), args.name,
                  str(checkpoint))
    except Exception as exc:  # one line for the user, whatever failed: file, export or check
        print(f'lnn-control export: {exc}', file=sys.stderr)
        return 1


def _onnx(policy: object, checkpoint: Path, out: Path) -> int:
    from lnn_control.control.backends import (
        check_parity,
        OnnxBackend,
        onnxruntime_installed,
        TorchBackend,
    )
    from lnn_control.export.onnx_policy import export_onnx

    path = export_onnx(policy, out, {'checkpoint': checkpoint.name})
    print(f'wrote {path} ({path.stat().st_size / 1024:.0f} KiB): inputs image (1, '
          f'{policy.config.image_hw[0]}, {policy.config.image_hw[1]}, 3) uint8, imu (1, '
          f'{policy.config.input_dim}), elapsed (1,), state (1, {policy.state_size}); outputs '
          f'action (1, {policy.config.action_dim}), next_state')
    if not onnxruntime_installed():
        print('not checked against torch: onnxruntime is not installed')
        return 0
    check_parity(OnnxBackend(policy), TorchBackend(policy), policy)
    print('checked: ONNX Runtime matches torch on a test tick')
    return 0


def _c(policy: object, out: Path, name: str, origin: str) -> int:
    from lnn_control.control.backends import TorchBackend
    from lnn_control.export.c_library import compiler, CPolicy
    from lnn_control.export.c_policy import export_c

    result = export_c(policy, out, name, origin=origin)
    print(f'wrote {result.header} and {result.source}: {result.parameters} parameters, '
          f'flash {result.flash_bytes / 1024:.1f} KiB, RAM {result.ram_bytes / 1024:.1f} KiB')
    if compiler() is None:
        print('not checked against torch: no C compiler (cc) here')
        return 0
    with tempfile.TemporaryDirectory() as build:  # the library is for the check only
        gap = _c_gap(CPolicy.build(result, policy, Path(build)), TorchBackend(policy), policy)
    if not gap <= C_TOLERANCE:
        raise ValueError(f'the C differs from torch by {gap:.2e} (> {C_TOLERANCE:g})')
    print(f'checked: C matches torch (max difference {gap:.1e} over {CHECK_TICKS} ticks)')
    return 0


def _c_gap(c_policy: object, reference: object, policy: object) -> float:
    """Largest |C - torch| of actions and state over random ticks."""
    config = policy.config
    rng = np.random.default_rng(0)
    state = reference.initial_state()
    gap = 0.0
    for _ in range(CHECK_TICKS):
        image = rng.integers(0, 256, (*config.image_hw, 3), dtype=np.uint8)
        vector = (np.asarray(config.normalization.imu_mean, np.float32)
                  + rng.normal(0.0, 0.1, config.input_dim).astype(np.float32))
        elapsed = float(rng.uniform(0.02, 0.1))
        action, state = reference.step(image, vector, elapsed, state)
        gap = max(gap, float(np.abs(c_policy.step(image, vector, elapsed) - action).max()),
                  float(np.abs(c_policy.state - state.reshape(-1)).max(initial=0.0)))
    return gap
