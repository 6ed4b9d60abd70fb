"""Camera frames to the policy's input: decode a raw buffer to RGB, then resize.

Training, simulation evaluation and the ROS 2 nodes all call these functions, so a policy sees
exactly the same pixels on the vehicle as it saw in training. All are pure NumPy.

``preprocess`` returns ``resize(to_rgb(...))`` bit for bit without decoding the whole frame: it
gathers only the source bytes the bilinear filter reads, already in RGB order, straight from the
message's buffer, then does ``resize``'s float32 arithmetic, in the same order, on arrays of the
output's size: about a tenth of a millisecond for a 640x480 frame, instead of 1 to 4 ms.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Encodings handled, with their channel count (sensor_msgs/image_encodings names).
ENCODINGS: dict[str, int] = {'rgb8': 3, 'bgr8': 3, 'mono8': 1}

#: Source channel of each RGB output channel, per encoding.
_RGB_FROM: dict[str, tuple[int, int, int]] = {'rgb8': (0, 1, 2), 'bgr8': (2, 1, 0),
                                              'mono8': (0, 0, 0)}


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
    flat = _flat(buffer, encoding, height, width, step)
    return _decoded(_rows(flat, encoding, height, width, step), encoding)


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
    out_h, out_w = _target_hw(hw)
    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        return image
    flat = np.ascontiguousarray(image).reshape(-1)
    return _resampled(flat, 'rgb8', in_h, in_w, in_w * 3, out_h, out_w)


def preprocess(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str, height: int,
               width: int, step: int, hw: tuple[int, int]) -> np.ndarray:
    """``resize(to_rgb(...), hw)``: a raw camera frame to the policy's (H, W, 3) uint8 input.

    The result is bit-identical to that composition, but only the bytes the filter reads are
    gathered from ``buffer``: the frame is never decoded or converted to float as a whole.
    Rejections are the same, in the same order, and as cheap as ``to_rgb``'s.
    """
    flat = _flat(buffer, encoding, height, width, step)
    out_h, out_w = _target_hw(hw)
    if (height, width) == (out_h, out_w):
        return _decoded(_rows(flat, encoding, height, width, step), encoding)
    return _resampled(flat, encoding, int(height), int(width), int(step), out_h, out_w)


def _flat(buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str, height: int,
          width: int, step: int) -> np.ndarray:
    """Check the header in O(1), then view the buffer as flat uint8 (copied only if strided)."""
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
    return (np.ascontiguousarray(buffer).reshape(-1) if isinstance(buffer, np.ndarray)
            else np.frombuffer(buffer, dtype=np.uint8))


def _rows(flat: np.ndarray, encoding: str, height: int, width: int, step: int) -> np.ndarray:
    """View a checked flat frame as (height, width, channels), row padding left out."""
    channels = ENCODINGS[encoding]
    return flat.reshape(height, step)[:, :width * channels].reshape(height, width, channels)


def _decoded(rows: np.ndarray, encoding: str) -> np.ndarray:
    """Copy (H, W, channels) ``rows`` to a new (H, W, 3) array in RGB order.

    Other encodings are copied one channel at a time: a reversed-stride copy of a BGR frame, or
    ``np.repeat`` of a grey one, is several times slower.
    """
    if encoding == 'rgb8':
        return rows.copy()
    rgb = np.empty((*rows.shape[:2], 3), np.uint8)
    for out_channel, channel in enumerate(_RGB_FROM[encoding]):
        rgb[..., out_channel] = rows[..., channel]
    return rgb


def _target_hw(hw: tuple[int, int]) -> tuple[int, int]:
    """``hw`` as two ints, checked positive."""
    out_h, out_w = int(hw[0]), int(hw[1])
    if out_h <= 0 or out_w <= 0:
        raise PreprocessError(f'resize: expected a positive target size, got {hw!r}')
    return out_h, out_w


def _resampled(flat: np.ndarray, encoding: str, height: int, width: int, step: int,
               out_h: int, out_w: int) -> np.ndarray:
    """``resize(to_rgb(...), (out_h, out_w))`` of a checked flat frame, bit for bit.

    Each float32 product and sum is the one ``resize`` always computed (rows blended along x,
    then along y, tap 0 then tap 1), only on the pixels it reads; no clip is needed since a
    rounded blend of uint8 values with weights summing to 1 stays in [0, 255].
    """
    ys, cols, wx, wy = _plan(encoding, height, width, out_h, out_w)
    rows = np.take(flat.reshape(height, step), ys, axis=0)  # (y taps, out_h, step)
    taps = np.take(rows, cols, axis=2)  # (y taps, out_h, x taps, out_w * channels)
    blend = taps[:, :, 0] if wx is None else _blended(taps[:, :, 0], taps[:, :, 1], wx)
    blend = blend[0] if wy is None else _blended(blend[0], blend[1], wy)
    if blend.dtype != np.uint8:
        blend = np.rint(blend, out=blend).astype(np.uint8)
    image = blend.reshape(out_h, out_w, ENCODINGS[encoding])
    return _decoded(image, encoding) if encoding == 'mono8' else image


def _blended(first: np.ndarray, second: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``first * weights[0] + second * weights[1]`` in float32, into a new array.

    Two half-size products and an in-place sum: one product of both taps, then a sum of its
    interleaved halves, is about twice as slow.
    """
    blend = np.multiply(first, weights[0], dtype=np.float32)
    blend += np.multiply(second, weights[1], dtype=np.float32)
    return blend


@lru_cache(maxsize=16)
def _plan(encoding: str, height: int, width: int, out_h: int,
          out_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Where ``resize`` reads a frame of this size, and with which weights (cached).

    Returns:
        ``ys``, intp (y taps, out_h): the rows read; ``cols``, intp (x taps, out_w * channels):
        the bytes read in a row, channels in RGB order; ``wx``, float32 (x taps,
        out_w * channels), and ``wy``, float32 (y taps, out_h, 1): the weights, or ``None``
        for an axis with a single tap.
    """
    channels = ENCODINGS[encoding]
    ys, wy = _axis_taps(height, out_h)
    xs, wx = _axis_taps(width, out_w)
    cols = (xs[:, :, None] * channels + _RGB_FROM[encoding][:channels]).reshape(len(xs), -1)
    if wx is not None:
        wx = np.repeat(wx, channels, axis=1)
    if wy is not None:
        wy = wy[:, :, None]
    for array in (ys, cols, wx, wy):
        if array is not None:
            array.flags.writeable = False  # shared by every later call
    return ys, cols, wx, wy


def _axis_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Source indices (taps, size_out) and weights for bilinear sampling along one axis.

    Half-pixel centres, as OpenCV. An axis whose second taps all weigh 0 (an odd integer
    scale, or no scaling) keeps only the first: ``a * 1 + b * 0`` is exactly ``a``.
    """
    scale = size_in / size_out
    pos = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0.0, size_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, size_in - 1)
    frac = (pos - lo).astype(np.float32)
    if not frac.any():
        return lo[None], None
    return np.stack([lo, hi]), np.stack([1.0 - frac, frac])
