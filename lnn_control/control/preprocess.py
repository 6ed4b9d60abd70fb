"""Camera frames to the policy's input: decode a raw buffer to RGB, then resize.

Training, simulation evaluation and the ROS 2 nodes all call these two functions, so a policy sees
exactly the same pixels on the vehicle as it saw in training. Both are pure NumPy.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Encodings handled, with their channel count (sensor_msgs/image_encodings names).
ENCODINGS: dict[str, int] = {'rgb8': 3, 'bgr8': 3, 'mono8': 1}


class PreprocessError(ValueError):
    """An image cannot be turned into the policy's input; the message says why."""


def to_rgb(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str, height: int,
           width: int, step: int) -> np.ndarray:
    """Decode a raw image buffer (as in ``sensor_msgs/Image``) to RGB.

    A malformed frame is refused from its header fields and the buffer's length alone, before
    any pixel is read or copied, so a rejection costs the same for any frame size.

    Args:
        buffer: The pixel bytes, rows of ``step`` bytes each (row 0 at the top): any bytes-like
            object, or a uint8 array.
        encoding: ``'rgb8'``, ``'bgr8'`` or ``'mono8'``; anything else is rejected.
        height: Rows in the image.
        width: Pixels per row.
        step: Bytes per row, at least ``width * channels`` (rows may be padded).

    Returns:
        A new uint8 array of shape (height, width, 3), channels in RGB order.

    Raises:
        PreprocessError: Unsupported encoding, a size that is not positive integers, a step
            too small for the width, or a buffer whose length is not ``height * step``.
    """
    rows = _rows(buffer, encoding, height, width, step)
    if encoding == 'rgb8':
        return rows.copy()
    if encoding == 'bgr8':
        return rows[:, :, ::-1].copy()
    return np.repeat(rows, 3, axis=2)


def _rows(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str, height: int,
          width: int, step: int) -> np.ndarray:
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
def _axis_table(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights for bilinear sampling with half-pixel centres (as OpenCV)."""
    scale = size_in / size_out
    pos = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0.0, size_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, size_in - 1)
    frac = (pos - lo).astype(np.float32)
    return lo, hi, frac


def resize(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Resize an RGB uint8 image to ``hw`` = (height, width), bilinear, half-pixel centres.

    An image already at ``hw`` is returned unchanged (no copy), so the simulator's frames, which
    are rendered at the policy's size, pass through bit-exact.

    Shape:
        image: (H, W, 3) uint8 -> (hw[0], hw[1], 3) uint8.

    Raises:
        PreprocessError: Not an (H, W, 3) uint8 array, or a non-positive target size.
    """
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
    y0, y1, fy = _axis_table(in_h, out_h)
    x0, x1, fx = _axis_table(in_w, out_w)
    src = image.astype(np.float32)
    top = src[y0][:, x0] * (1.0 - fx)[None, :, None] + src[y0][:, x1] * fx[None, :, None]
    bottom = src[y1][:, x0] * (1.0 - fx)[None, :, None] + src[y1][:, x1] * fx[None, :, None]
    out = top * (1.0 - fy)[:, None, None] + bottom * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def preprocess(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str, height: int,
               width: int, step: int, hw: tuple[int, int]) -> np.ndarray:
    """``resize(to_rgb(...), hw)``: a raw camera frame to the policy's (H, W, 3) uint8 input."""
    return resize(to_rgb(buffer, encoding, height, width, step), hw)
