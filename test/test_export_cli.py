"""``lnn-control export``, run as a user runs it: the console script in a subprocess."""
from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess
import sys

from lnn_control.control.runner import PolicyRunner
from lnn_control.paths import config_path
import numpy as np
import pytest

LNN_CONTROL = Path(sys.executable).with_name('lnn-control')
POLICIES = config_path('policies')


def export(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LNN_CONTROL), 'export', *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_onnx_export_writes_a_described_graph_that_drives_like_the_policy(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    onnx = pytest.importorskip('onnx')
    done = export(str(POLICIES / 'quad_ncp_cfc.pt'), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / 'quad_ncp_cfc.onnx'
    assert f'wrote {path.name}' in done.stdout and 'checked: ONNX Runtime matches' in done.stdout
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta['vehicle'] == 'quad' and json.loads(meta['image_hw']) == [64, 128]
    assert json.loads(meta['state_inputs']) == ['altitude', 'climb_rate']
    assert json.loads(meta['action_names']) == ['roll', 'pitch', 'yaw_rate', 'thrust']

    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    runner = PolicyRunner.from_checkpoint(POLICIES / 'quad_ncp_cfc.pt', backend='torch',
                                          nominal_dt=0.04)
    rng = np.random.default_rng(3)
    state = np.zeros((1, int(meta['state_size'])), np.float32)
    for _ in range(10):
        image = rng.integers(0, 256, (64, 128, 3), dtype=np.uint8)
        vector = rng.normal(size=8).astype(np.float32)
        action, state = session.run(None, {'image': image[None], 'imu': vector[None],
                                           'elapsed': np.full(1, 0.04, np.float32),
                                           'state': state})
        np.testing.assert_allclose(action[0], runner.act(image, vector, 0.04), atol=1e-5)


def test_c_export_writes_a_header_and_a_source(tmp_path):
    done = export(str(POLICIES / 'rover_ncp_cfc.pt'), '--format', 'c', '--out', 'edge',
                  '--name', 'rover', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / 'edge').iterdir()) == ['rover.c', 'rover.h']
    assert 'flash' in done.stdout and 'RAM' in done.stdout
    if shutil.which('cc'):
        assert 'checked: C matches torch' in done.stdout


@pytest.mark.parametrize('args, message', [
    (['missing.pt'], 'missing.pt does not exist'),
    (['corrupt.pt'], 'corrupt.pt'),
])
def test_export_errors_are_one_line(tmp_path, args, message):
    (tmp_path / 'corrupt.pt').write_bytes(b'not a checkpoint')
    done = export(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith('lnn-control export: ') and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and 'Traceback' not in done.stderr
