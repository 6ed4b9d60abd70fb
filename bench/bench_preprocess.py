"""Camera preprocessing timed against the policy step it feeds (issue 14).

Times, per frame and on one thread, what the node does between the camera callback and the
policy's tensor (``SensorInputs.on_image`` -> ``control.preprocess``) for camera frames of common
sizes and encodings and for the simulator's own renders, resized to the shipped rover (48x128)
and quad (64x128) policies' input:

- *before*: a verbatim copy of ``control.preprocess`` as it was before the gather-first
  rewrite (``_before_*`` below: decode the whole frame, then resize it in float32), timed as its
  two steps, decode and resize;
- *after*: today's ``preprocess`` (one step), run on the same frames in interleaved rounds.

Next to them, timed in the same rounds: ``Policy.step`` (torch) for both shipped policies,
``PolicyRunner.act`` on torch (adds the per tick array->tensor conversion) and as the nodes run
it (``backend: auto``: ONNX Runtime where installed; 1 thread), and, when rclpy is installed,
rclpy's deserialization of the ``sensor_msgs/Image``, which happens before the callback. Prints
p50/p99 in microseconds per frame and the ratios before/after and after/policy.

    .venv/bin/python bench/bench_preprocess.py [--rounds 5] [--frames 40]
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import datetime
from functools import lru_cache
import os
import time

from lnn_control.control.preprocess import ENCODINGS, preprocess, PreprocessError
from lnn_control.control.runner import PolicyRunner
from lnn_control.paths import config_path
import numpy as np
import torch

POLICIES = {'rover': 'rover_ncp_cfc.pt', 'quad': 'quad_ncp_cfc.pt'}
#: (label, height, width, encoding, row padding in bytes).
FRAMES = [('640x480', 480, 640, 'rgb8', 0), ('640x480', 480, 640, 'bgr8', 0),
          ('640x480', 480, 640, 'mono8', 0), ('640x480 step+64', 480, 640, 'rgb8', 64),
          ('1280x720', 720, 1280, 'rgb8', 0), ('1280x720', 720, 1280, 'bgr8', 0),
          ('1280x720', 720, 1280, 'mono8', 0),
          ('sim rover env default 200x66', 66, 200, 'rgb8', 0),
          ('sim bridge rover 128x48', 48, 128, 'rgb8', 0),
          ('sim quad 128x64', 64, 128, 'rgb8', 0)]


# ----------------------------------------------------------------- before: reference copy
# REFERENCE COPY of control.preprocess as it was before the gather-first rewrite: code
# verbatim, names prefixed with _before and docstrings cut to one line.
def _before_to_rgb(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str,
                   height: int, width: int, step: int) -> np.ndarray:
    """Decode a raw image buffer to RGB (whole frame, then a copy)."""
    rows = _before_rows(buffer, encoding, height, width, step)
    if encoding == 'rgb8':
        return rows.copy()
    if encoding == 'bgr8':
        return rows[:, :, ::-1].copy()
    return np.repeat(rows, 3, axis=2)


def _before_rows(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str,
                 height: int, width: int, step: int) -> np.ndarray:
    """Check the header in O(1), then view the buffer as (height, width, channels) uint8."""
    channels = ENCODINGS.get(encoding) if isinstance(encoding, str) else None
    if channels is None:
        raise PreprocessError(
            f'to_rgb: unsupported encoding {encoding!r}; expected one of {sorted(ENCODINGS)}')
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (height, width, step)):
        raise PreprocessError(f'to_rgb: expected integer height, width and step, got '
                              f'{height!r}, {width!r}, {step!r}')
    if height <= 0 or width <= 0:
        raise PreprocessError(f'to_rgb: expected a positive size, got {height}x{width}')
    if step < width * channels:
        raise PreprocessError(
            f'to_rgb: step {step} is smaller than width*channels = {width * channels}')
    if isinstance(buffer, np.ndarray):
        if buffer.dtype != np.uint8:
            raise PreprocessError(f'to_rgb: expected uint8 pixel bytes, got a {buffer.dtype} '
                                  'array')
        size = buffer.size
    else:
        try:
            size = memoryview(buffer).nbytes
        except TypeError:
            raise PreprocessError(f'to_rgb: expected a bytes-like buffer, got '
                                  f'{type(buffer).__name__}') from None
    if size != height * step:
        raise PreprocessError(
            f'to_rgb: buffer holds {size} bytes, expected height*step = {height * step}')
    flat = (np.ascontiguousarray(buffer).reshape(-1) if isinstance(buffer, np.ndarray)
            else np.frombuffer(buffer, dtype=np.uint8))
    return flat.reshape(height, step)[:, :width * channels].reshape(height, width, channels)


@lru_cache(maxsize=16)
def _before_axis_table(size_in: int,
                       size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights for bilinear sampling with half-pixel centres (as OpenCV)."""
    scale = size_in / size_out
    pos = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0.0, size_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, size_in - 1)
    frac = (pos - lo).astype(np.float32)
    return lo, hi, frac


def _before_resize(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Resize an RGB uint8 image to ``hw``: bilinear in float32 on the whole frame."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        got = (f'{image.dtype} {image.shape}' if isinstance(image, np.ndarray)
               else type(image).__name__)
        raise PreprocessError(f'resize: expected a uint8 (H, W, 3) array, got {got}')
    out_h, out_w = int(hw[0]), int(hw[1])
    if out_h <= 0 or out_w <= 0:
        raise PreprocessError(f'resize: expected a positive target size, got {hw!r}')
    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        return image
    y0, y1, fy = _before_axis_table(in_h, out_h)
    x0, x1, fx = _before_axis_table(in_w, out_w)
    src = image.astype(np.float32)
    top = src[y0][:, x0] * (1.0 - fx)[None, :, None] + src[y0][:, x1] * fx[None, :, None]
    bottom = src[y1][:, x0] * (1.0 - fx)[None, :, None] + src[y1][:, x1] * fx[None, :, None]
    out = top * (1.0 - fy)[:, None, None] + bottom * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------- timing
def _time(samples: list[float], call: Callable[[], object], frames: int) -> None:
    for _ in range(frames):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)


def _us(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q)) * 1e6


@dataclass
class _Vehicle:
    """A shipped policy, its timed calls and their samples over the whole run."""

    runner: PolicyRunner
    node_runner: PolicyRunner
    step: Callable[[], object]
    act: Callable[[], object]
    node_act: Callable[[], object]
    samples: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ('step', 'act', 'node_act')})


def _vehicle(name: str) -> _Vehicle:
    """Load a shipped policy on torch, and as the nodes run it (``backend: auto``, 1 thread)."""
    path = config_path('policies', name)
    runner = PolicyRunner.from_checkpoint(path, backend='torch', threads=1)
    node_runner = PolicyRunner.from_checkpoint(path, backend='auto', threads=1)
    image = np.zeros((*runner.image_hw, 3), np.uint8)
    imu = np.zeros(runner.input_dim, np.float32)
    tensors = (torch.from_numpy(image).unsqueeze(0), torch.from_numpy(imu).unsqueeze(0),
               torch.tensor([0.05]))
    state = runner.policy.initial_state(1)

    def step() -> None:
        with torch.inference_mode():
            runner.policy.step(*tensors, state)

    vehicle = _Vehicle(runner, node_runner, step, lambda: runner.act(image, imu, 0.05),
                       lambda: node_runner.act(image, imu, 0.05))
    for call in (vehicle.act, vehicle.node_act):
        _time([], call, 20)  # warm-up
    return vehicle


def _deserialize_us(height: int, width: int, encoding: str, step: int,
                    frames: int) -> float | None:
    """Return rclpy's deserialization of the Image message, p50 µs (``None`` without rclpy)."""
    try:
        from rclpy.serialization import deserialize_message, serialize_message
        from sensor_msgs.msg import Image
    except ImportError:
        return None
    msg = Image(height=height, width=width, encoding=encoding, step=step)
    msg.data = bytes(height * step)
    raw = serialize_message(msg)
    samples: list[float] = []
    _time(samples, lambda: deserialize_message(raw, Image), frames)
    return _us(samples, 50)


@dataclass
class _Case:
    """One frame to one policy's size, and its samples."""

    label: str
    encoding: str
    height: int
    width: int
    step: int
    buffer: bytes
    vehicle: str
    hw: tuple[int, int]
    samples: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ('decode', 'resize', 'before', 'after')})


def _run(case: _Case, frames: int) -> None:
    """Time the old decode and resize, both together, and today's ``preprocess``, once each."""
    frame = (case.buffer, case.encoding, case.height, case.width, case.step)
    decoded = _before_to_rgb(*frame)
    _time(case.samples['decode'], lambda: _before_to_rgb(*frame), frames)
    _time(case.samples['resize'], lambda: _before_resize(decoded, case.hw), frames)
    _time(case.samples['before'],
          lambda: _before_resize(_before_to_rgb(*frame), case.hw), frames)
    _time(case.samples['after'], lambda: preprocess(*frame, case.hw), frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds')
    parser.add_argument('--frames', type=int, default=40, help='frames per case and round')
    args = parser.parse_args()

    node_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    load = ', '.join(f'{v:.2f}' for v in os.getloadavg())
    print(f'# bench_preprocess  {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  '
          f'loadavg {load}  cpus {os.cpu_count()}  numpy {np.__version__}  '
          f'torch {torch.__version__}')
    print(f'# one thread (torch too; a node would use {node_threads}), {args.rounds} '
          f'interleaved rounds x {args.frames} frames per case; µs per frame')
    vehicles = {v: _vehicle(name) for v, name in POLICIES.items()}
    rng = np.random.default_rng(0)
    cases = []
    for label, height, width, encoding, pad in FRAMES:
        step = width * ENCODINGS[encoding] + pad
        buffer = rng.integers(0, 256, height * step, dtype=np.uint8).tobytes()
        for vehicle, policy in vehicles.items():
            hw = policy.runner.image_hw
            expected = _before_resize(_before_to_rgb(buffer, encoding, height, width, step), hw)
            if not np.array_equal(preprocess(buffer, encoding, height, width, step, hw),
                                  expected):
                raise SystemExit(f'{label} {encoding} -> {hw}: pixels differ from before')
            cases.append(_Case(label, encoding, height, width, step, buffer, vehicle, hw))
    for _ in range(args.rounds):
        for case in cases:
            _run(case, args.frames)
            policy = vehicles[case.vehicle]
            for key in policy.samples:
                _time(policy.samples[key], getattr(policy, key), args.frames)

    for vehicle, policy in vehicles.items():
        hw, p50 = policy.runner.image_hw, {k: _us(v, 50) for k, v in policy.samples.items()}
        print(f'{vehicle} policy {hw[1]}x{hw[0]}: Policy.step (torch) p50 {p50["step"]:5.0f} '
              f'p99 {_us(policy.samples["step"], 99):5.0f}; PolicyRunner.act: torch p50 '
              f'{p50["act"]:5.0f} (array->tensor conversion and checks '
              f'{p50["act"] - p50["step"]:+.0f}), as the node runs it '
              f'[{policy.node_runner.backend_note}] p50 {p50["node_act"]:5.0f} p99 '
              f'{_us(policy.samples["node_act"], 99):5.0f}')
    head = (f'{"frame":29} {"enc":5} {"->":>6} | {"before: decode":>14} {"resize":>6} '
            f'{"p50":>6} {"p99":>6} | {"after p50":>9} {"p99":>5} | {"before/after":>12} '
            f'{"after/step":>10} {"after/node":>10} | {"rclpy deser.":>12}')
    print(head)
    print('-' * len(head))
    deserialize = {}
    for case in cases:
        key = case.height, case.width, case.encoding, case.step
        if key not in deserialize:
            deserialize[key] = _deserialize_us(*key, args.frames * args.rounds)
        s, deser = case.samples, deserialize[key]
        before, after = _us(s['before'], 50), _us(s['after'], 50)
        policy = vehicles[case.vehicle].samples
        step_us, node_us = _us(policy['step'], 50), _us(policy['node_act'], 50)
        print(f'{case.label:29} {case.encoding:5} {case.hw[1]:>3}x{case.hw[0]:<2} | '
              f'{_us(s["decode"], 50):14.0f} {_us(s["resize"], 50):6.0f} {before:6.0f} '
              f'{_us(s["before"], 99):6.0f} | {after:9.0f} {_us(s["after"], 99):5.0f} | '
              f'{before / after:11.1f}x {after / step_us:10.3f} {after / node_us:10.3f} | '
              + (f'{deser:12.0f}' if deser is not None else f'{"n/a":>12}'))
    print("# ratios of p50s; after/step: to that vehicle's torch Policy.step, after/node: to "
          'its PolicyRunner.act as the node runs it; rclpy deser.: deserialize_message(Image), '
          'before the callback')


if __name__ == '__main__':
    main()
