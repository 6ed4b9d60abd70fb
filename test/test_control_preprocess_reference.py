"""The fast preprocessing path gives exactly the pixels of the implementation policies trained on.

``_reference_*`` below is ``control.preprocess`` as it was before the gather-first rewrite
(decode the whole frame, convert it to float32, then blend), kept here verbatim as the oracle.
"""
from __future__ import annotations

import array

from lnn_control.control.preprocess import preprocess, resize, to_rgb
import numpy as np
import pytest

CHANNELS = {'rgb8': 3, 'bgr8': 3, 'mono8': 1}

#: (input height, width) -> policy sizes: cameras, the simulators' renders, odd and tiny frames.
CAMERA_CASES = [((480, 640), (48, 128)), ((480, 640), (64, 128)), ((720, 1280), (48, 128)),
                ((720, 1280), (64, 128)), ((66, 200), (48, 128)), ((48, 128), (48, 128)),
                ((64, 128), (64, 128)), ((64, 128), (48, 128)), ((15, 15), (5, 5)),
                ((9, 20), (3, 10)), ((1, 1), (4, 6)), ((1, 9), (3, 4)), ((7, 1), (2, 5)),
                ((3, 5), (48, 128)), ((37, 91), (64, 128)), ((121, 333), (17, 29)),
                ((5, 3), (1, 1)), ((100, 2), (7, 300))]


# ----------------------------------------------------------------- the reference (old code)
def _reference_to_rgb(buffer: bytes, encoding: str, height: int, width: int,
                      step: int) -> np.ndarray:
    channels = CHANNELS[encoding]
    flat = np.frombuffer(buffer, dtype=np.uint8)
    rows = flat.reshape(height, step)[:, :width * channels].reshape(height, width, channels)
    if encoding == 'rgb8':
        return rows.copy()
    if encoding == 'bgr8':
        return rows[:, :, ::-1].copy()
    return np.repeat(rows, 3, axis=2)


def _reference_axis_table(size_in: int,
                          size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scale = size_in / size_out
    pos = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0.0, size_in - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, size_in - 1)
    frac = (pos - lo).astype(np.float32)
    return lo, hi, frac


def _reference_resize(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    out_h, out_w = int(hw[0]), int(hw[1])
    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        return image
    y0, y1, fy = _reference_axis_table(in_h, out_h)
    x0, x1, fx = _reference_axis_table(in_w, out_w)
    src = image.astype(np.float32)
    top = src[y0][:, x0] * (1.0 - fx)[None, :, None] + src[y0][:, x1] * fx[None, :, None]
    bottom = src[y1][:, x0] * (1.0 - fx)[None, :, None] + src[y1][:, x1] * fx[None, :, None]
    out = top * (1.0 - fy)[:, None, None] + bottom * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------- frames
def _frame(rng: np.random.Generator, encoding: str, height: int, width: int, pad: int,
           content: str) -> tuple[bytes, int]:
    """Return a frame's bytes and step: random, 255 or 0/255 checkerboard pixels, padded rows."""
    step = width * CHANNELS[encoding] + pad
    if content == 'random':
        data = rng.integers(0, 256, (height, step), dtype=np.uint8)
    elif content == 'white':
        data = np.full((height, step), 255, np.uint8)
    else:
        data = (np.indices((height, step)).sum(axis=0) % 2 * 255).astype(np.uint8)
    return data.tobytes(), step


def _check(buffer: bytes, encoding: str, height: int, width: int, step: int,
           hw: tuple[int, int]) -> None:
    expected = _reference_resize(_reference_to_rgb(buffer, encoding, height, width, step), hw)
    got = preprocess(buffer, encoding, height, width, step, hw)
    label = f'{encoding} {height}x{width} step {step} -> {hw}'
    assert got.dtype == np.uint8 and got.shape == (*hw, 3), label
    assert got.flags.c_contiguous and got.flags.writeable, label
    np.testing.assert_array_equal(got, expected, err_msg=label)


@pytest.mark.parametrize('encoding', sorted(CHANNELS))
@pytest.mark.parametrize('size, hw', CAMERA_CASES)
def test_preprocess_matches_the_reference_on_camera_and_odd_sizes(encoding, size, hw):
    rng = np.random.default_rng([*size, *hw, sorted(CHANNELS).index(encoding)])
    for pad, content in ((0, 'random'), (13, 'random'), (64, 'white'), (1, 'checker')):
        buffer, step = _frame(rng, encoding, *size, pad, content)
        _check(buffer, encoding, *size, step, hw)


def test_preprocess_matches_the_reference_on_random_geometries():
    rng = np.random.default_rng(14)
    for _ in range(300):
        encoding = str(rng.choice(sorted(CHANNELS)))
        height, width, out_h, out_w = (int(v) for v in rng.integers(1, 90, 4))
        if rng.random() < 0.3:  # integer scale factors: single-tap axes
            out_h, out_w = max(1, height // int(rng.integers(1, 6))), max(1, width // 3)
        buffer, step = _frame(rng, encoding, height, width, int(rng.integers(0, 9)), 'random')
        _check(buffer, encoding, height, width, step, (out_h, out_w))


def test_to_rgb_and_resize_match_the_reference():
    rng = np.random.default_rng(4)
    for encoding in sorted(CHANNELS):
        buffer, step = _frame(rng, encoding, 31, 47, 5, 'random')
        rgb = to_rgb(buffer, encoding, 31, 47, step)
        np.testing.assert_array_equal(rgb, _reference_to_rgb(buffer, encoding, 31, 47, step))
        for hw in ((31, 47), (8, 12), (62, 94), (31, 10)):
            np.testing.assert_array_equal(resize(rgb, hw), _reference_resize(rgb, hw))
    strided = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)[::2, ::-3]
    np.testing.assert_array_equal(resize(strided, (9, 11)), _reference_resize(strided, (9, 11)))


def test_every_buffer_type_gives_the_same_pixels():
    rng = np.random.default_rng(5)
    buffer, step = _frame(rng, 'bgr8', 30, 40, 8, 'random')
    expected = _reference_resize(_reference_to_rgb(buffer, 'bgr8', 30, 40, step), (12, 16))
    data = np.frombuffer(buffer, np.uint8)
    for variant in (bytearray(buffer), memoryview(buffer), array.array('B', buffer), data,
                    data.reshape(30, step), np.repeat(data, 2)[::2]):
        np.testing.assert_array_equal(preprocess(variant, 'bgr8', 30, 40, step, (12, 16)),
                                      expected)


def test_the_output_does_not_alias_the_message_buffer():
    buffer = bytearray(np.full(48 * 128 * 3, 7, np.uint8).tobytes())
    for hw in ((48, 128), (24, 64)):
        out = preprocess(buffer, 'rgb8', 48, 128, 384, hw)
        buffer[:] = bytes(len(buffer))
        assert np.all(out == 7)
        buffer[:] = bytes([7]) * len(buffer)
