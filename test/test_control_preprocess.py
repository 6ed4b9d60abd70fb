"""Image decoding and resizing: the same pixels in training and on the vehicle."""
from lnn_control.control.preprocess import preprocess, PreprocessError, resize, to_rgb
import numpy as np
import pytest


def _image(h: int = 4, w: int = 5) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_rgb8_round_trip_with_row_padding():
    img = _image()
    step = img.shape[1] * 3 + 7
    padded = np.zeros((img.shape[0], step), np.uint8)
    padded[:, :img.shape[1] * 3] = img.reshape(img.shape[0], -1)
    out = to_rgb(padded.tobytes(), 'rgb8', img.shape[0], img.shape[1], step)
    np.testing.assert_array_equal(out, img)


def test_bgr8_swaps_channels():
    img = _image()
    out = to_rgb(img[:, :, ::-1].tobytes(), 'bgr8', 4, 5, 15)
    np.testing.assert_array_equal(out, img)
    assert out.flags.writeable


def test_mono8_replicates_grey():
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5)
    out = to_rgb(grey.tobytes(), 'mono8', 4, 5, 5)
    assert out.shape == (4, 5, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)


@pytest.mark.parametrize('encoding', ['rgba8', '16UC1', 'yuv422', ''])
def test_unsupported_encoding_is_named(encoding):
    with pytest.raises(PreprocessError, match='unsupported encoding'):
        to_rgb(bytes(60), encoding, 4, 5, 15)


def test_wrong_buffer_size_is_rejected():
    with pytest.raises(PreprocessError, match='expected height\\*step = 60'):
        to_rgb(bytes(59), 'rgb8', 4, 5, 15)
    with pytest.raises(PreprocessError, match='step 10 is smaller'):
        to_rgb(bytes(40), 'rgb8', 4, 5, 10)
    with pytest.raises(PreprocessError, match='positive size'):
        to_rgb(b'', 'rgb8', 0, 5, 15)


@pytest.mark.parametrize('args, match', [
    ((np.zeros(60, np.float32), 'rgb8', 4, 5, 15), 'expected uint8 pixel bytes, got a float32'),
    ((list(range(60)), 'rgb8', 4, 5, 15), 'expected a bytes-like buffer, got list'),
    ((bytes(60), 'rgb8', 4.0, 5, 15), 'expected integer height, width and step, got 4.0, 5, 15'),
    ((bytes(60), None, 4, 5, 15), 'unsupported encoding None'),
])
def test_buffers_and_sizes_of_the_wrong_kind_are_rejected(args, match):
    with pytest.raises(PreprocessError, match=match):
        to_rgb(*args)


def test_a_malformed_frame_is_rejected_before_any_pixel_is_read(monkeypatch):
    import lnn_control.control.preprocess as module

    def must_not_run(*args, **kwargs):
        raise AssertionError('pixel data touched for a malformed frame')

    monkeypatch.setattr(module, 'resize', must_not_run)
    monkeypatch.setattr(np, 'frombuffer', must_not_run)
    monkeypatch.setattr(np, 'ascontiguousarray', must_not_run)
    big = bytes(480 * 640 * 3)
    for args in ((big, 'yuv422', 480, 640, 1280), (big, 'rgb8', 480, 640, 1919),
                 (big[:-1], 'rgb8', 480, 640, 1920), (np.zeros(7, np.int16), 'mono8', 1, 7, 7)):
        with pytest.raises(PreprocessError):
            preprocess(*args, (48, 128))


def test_array_and_array_module_buffers_decode_like_bytes():
    import array

    img = _image()
    for buffer in (img.reshape(-1), img, array.array('B', img.tobytes()),
                   memoryview(img.tobytes())):
        np.testing.assert_array_equal(to_rgb(buffer, 'rgb8', 4, 5, 15), img)


def test_resize_identity_is_exact_and_no_copy():
    img = _image(66, 200)
    assert resize(img, (66, 200)) is img


def test_resize_constant_image_stays_constant_and_shape():
    img = np.full((132, 400, 3), 77, np.uint8)
    out = resize(img, (66, 200))
    assert out.shape == (66, 200, 3) and out.dtype == np.uint8
    assert np.all(out == 77)


def test_resize_halving_averages_pixel_pairs():
    # Half-pixel centres: halving samples midway between source pixels 2i and 2i+1.
    row = np.array([0, 100, 200, 250], np.uint8)
    img = np.repeat(np.repeat(row[None, :, None], 2, axis=0), 3, axis=2)
    out = resize(img, (1, 2))
    np.testing.assert_array_equal(out[0, :, 0], [50, 225])


def test_resize_rejects_bad_input():
    with pytest.raises(PreprocessError, match='uint8 \\(H, W, 3\\)'):
        resize(np.zeros((4, 5), np.uint8), (2, 2))
    with pytest.raises(PreprocessError, match='positive target size'):
        resize(_image(), (0, 3))


def test_preprocess_composes_both():
    img = np.full((10, 20, 3), 9, np.uint8)
    out = preprocess(img[:, :, ::-1].tobytes(), 'bgr8', 10, 20, 60, (5, 10))
    assert out.shape == (5, 10, 3) and np.all(out == 9)
