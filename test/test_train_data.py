"""Demonstration format, rosbag2 import and sequence sampling: behaviour and clear errors."""
from __future__ import annotations

import contextlib
import json
import logging

from lnn_control.train.augment import augment_images, AugmentConfig
from lnn_control.train.bagdata import BagConfig, import_bag
from lnn_control.train.dataset import SequenceDataset
from lnn_control.train.demos import DatasetError, DemoWriter, Episode, read_manifest
import numpy as np
import pytest


def _episode(steps: int, hw=(8, 12), value: float = 0.0) -> Episode:
    rng = np.random.default_rng(steps)
    return Episode(
        images=rng.integers(0, 255, (steps, *hw, 3), dtype=np.uint8),
        imu=rng.standard_normal((steps, 6)).astype(np.float32),
        actions=np.full((steps, 1), value, np.float32),
        elapsed=np.full(steps, 0.05, np.float32))


def test_demo_round_trip_and_append(tmp_path):
    writer = DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12), action_names=('steering',))
    writer.add(_episode(20, value=0.5), scenario='rain:2', seed=3)
    DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12),
               action_names=('steering',)).add(_episode(30))
    meta = read_manifest(tmp_path)
    assert [e.steps for e in meta.episodes] == [20, 30]
    assert meta.episodes[0].scenario == 'rain:2' and meta.episodes[0].seed == 3
    data = SequenceDataset([tmp_path], seq_len=16)
    batch = data.sample(5, np.random.default_rng(0))
    assert batch.images.shape == (5, 16, 8, 12, 3) and batch.images.dtype == np.uint8
    assert batch.actions.shape == (5, 16, 1) and batch.elapsed.shape == (5, 16)
    assert not batch.cold.any()
    starts = data.sample(3, np.random.default_rng(0), start_fraction=1.0)
    assert starts.cold.all()  # episode starts: the zero state is the true one
    assert any(np.array_equal(starts.images[0], e.images[:16]) for e in data.episodes)
    resized = SequenceDataset([tmp_path], seq_len=16, image_hw=(4, 6))
    assert resized.sample(1, np.random.default_rng(0)).images.shape[2:] == (4, 6, 3)


@contextlib.contextmanager
def _demos_log(caplog):
    """Capture ``lnn_control.train.demos`` at INFO (launch's logger class does not propagate)."""
    log = logging.getLogger('lnn_control.train.demos')
    log.addHandler(caplog.handler)
    try:
        with caplog.at_level('INFO', logger=log.name):
            yield
    finally:
        log.removeHandler(caplog.handler)


_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from lnn_control.train import demos

def stall(*args, **kwargs):  # the kill lands mid-write, after the temporary file exists
    print('writing', flush=True)
    signal.pause()

np.savez_compressed = stall
writer = demos.DemoWriter(sys.argv[1], vehicle='rover', image_hw=(8, 12),
                          action_names=('steering',))
writer.add(demos.Episode(np.zeros((3, 8, 12, 3), np.uint8), np.zeros((3, 6), np.float32),
                         np.zeros((3, 1), np.float32), np.full(3, 0.05, np.float32)))
"""


def test_a_writer_killed_mid_write_leaves_a_temporary_file_that_reopening_removes(
        tmp_path, caplog):
    import signal
    import subprocess
    import sys

    DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12), action_names=('steering',)).add(
        _episode(5))
    child = subprocess.Popen([sys.executable, '-c', _KILLED_WRITER, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == 'writing\n'
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    left = [p.name for p in tmp_path.glob('.episode_*.npz.*.tmp')]
    assert len(left) == 1 and (tmp_path / left[0]).stat().st_size == 0
    (tmp_path / '.manifest.json.x1y2.tmp').write_text('{')  # a killed manifest write
    (tmp_path / 'notes.tmp').write_text('not ours')
    with _demos_log(caplog):
        writer = DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12),
                            action_names=('steering',))
    assert f'{tmp_path}: removed 2 temporary file(s) left by an interrupted write' in \
        caplog.messages
    assert sorted(p.name for p in tmp_path.iterdir()) == ['episode_00000.npz', 'manifest.json',
                                                          'notes.tmp']
    writer.add(_episode(6))
    assert [e.steps for e in read_manifest(tmp_path).episodes] == [5, 6]


def test_a_training_run_removes_the_temporary_files_a_killed_run_left(tmp_path, caplog):
    from lnn_control.train.trainer import ImitationTrainer

    writer = DemoWriter(tmp_path / 'demos', vehicle='rover', image_hw=(8, 12),
                        action_names=('steering',))
    writer.add(_episode(20))
    run = tmp_path / 'run'
    run.mkdir()
    leftovers = ['trainer_state.tmp', '.policy_last.pt.k3j_x0.tmp', 'progress.csv.tmp']
    for name in leftovers:
        (run / name).write_bytes(b'')
    (run / 'keep.tmp').write_bytes(b'')
    data = SequenceDataset([tmp_path / 'demos'], seq_len=8, image_hw=(40, 48))
    with _demos_log(caplog):
        ImitationTrainer({'vehicle': 'rover', 'image_hw': [40, 48], 'core': 'ncp_cfc'}, data,
                         run, tensorboard=False)
    assert f'{run}: removed 3 temporary file(s) left by an interrupted write' in caplog.messages
    assert not any((run / name).exists() for name in leftovers) and (run / 'keep.tmp').exists()


def test_append_with_other_actions_is_refused(tmp_path):
    DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12), action_names=('steering',))
    with pytest.raises(DatasetError, match='action_names'):
        DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12),
                   action_names=('steering', 'throttle'))


def test_bad_datasets_give_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match='no manifest.json'):
        read_manifest(tmp_path)
    with pytest.raises(DatasetError, match='elapsed'):
        Episode(np.zeros((3, 4, 4, 3), np.uint8), np.zeros((3, 6), np.float32),
                np.zeros((3, 1), np.float32), np.zeros(3, np.float32))
    with pytest.raises(DatasetError, match='imu has 2 steps'):
        Episode(np.zeros((3, 4, 4, 3), np.uint8), np.zeros((2, 6), np.float32),
                np.zeros((3, 1), np.float32), np.ones(3, np.float32))
    writer = DemoWriter(tmp_path, vehicle='rover', image_hw=(8, 12), action_names=('steering',))
    writer.add(_episode(10))
    with pytest.raises(DatasetError, match='>= 32 steps'):
        SequenceDataset([tmp_path], seq_len=32)
    (tmp_path / 'episode_00000.npz').write_bytes(b'torn')
    with pytest.raises(DatasetError, match='episode_00000.npz: not a readable'):
        SequenceDataset([tmp_path], seq_len=4)
    doc = json.loads((tmp_path / 'manifest.json').read_text())
    doc['vehicle'] = 'boat'
    (tmp_path / 'manifest.json').write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="vehicle must be one of .* got 'boat'"):
        read_manifest(tmp_path)


def test_augmentation_changes_pixels_not_shape():
    images = np.full((2, 3, 8, 12, 3), 120, np.uint8)
    out = augment_images(images, AugmentConfig(), np.random.default_rng(1))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert not np.array_equal(out, images)
    with pytest.raises(ValueError, match='AugmentConfig.brightness'):
        AugmentConfig(brightness=(1.2, 0.8))


def _write_bag(path, storage: str, *, frames: int = 40, gap_after: int | None = None) -> None:
    """Write a synthetic ``ros2 bag record``: bgr8 camera 20 Hz, IMU 100 Hz, cmd_vel 20 Hz."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import get_typestore, Stores

    store = get_typestore(Stores.ROS2_JAZZY)
    t = store.types
    plugin = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}[storage]

    def header(ns: int):
        return t['std_msgs/msg/Header'](
            stamp=t['builtin_interfaces/msg/Time'](sec=ns // 10**9, nanosec=ns % 10**9),
            frame_id='cam')

    def vec(x=0.0, y=0.0, z=0.0):
        return t['geometry_msgs/msg/Vector3'](x=x, y=y, z=z)

    messages = []
    for k in range(frames * 5 + 300):
        ns = 10**9 + k * 10_000_000
        quat = t['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=0.0, w=1.0)
        imu = t['sensor_msgs/msg/Imu'](
            header=header(ns), orientation=quat, orientation_covariance=np.zeros(9),
            angular_velocity=vec(z=0.1 * k), angular_velocity_covariance=np.zeros(9),
            linear_acceleration=vec(z=9.81), linear_acceleration_covariance=np.zeros(9))
        messages.append(('/imu', ns, imu, 'sensor_msgs/msg/Imu'))
    for k in range(frames):
        ns = 10**9 + k * 50_000_000 + (2 * 10**9 if gap_after and k >= gap_after else 0)
        data = np.zeros((6, 10, 3), np.uint8)
        data[..., 0] = k  # blue channel in bgr8 -> last RGB channel
        image = t['sensor_msgs/msg/Image'](
            header=header(ns), height=6, width=10, encoding='bgr8', is_bigendian=0, step=30,
            data=data.reshape(-1))
        messages.append(('/cam', ns, image, 'sensor_msgs/msg/Image'))
        twist = t['geometry_msgs/msg/Twist'](linear=vec(x=1.0), angular=vec(z=0.02 * k))
        messages.append(('/cmd', ns + 5_000_000, twist, 'geometry_msgs/msg/Twist'))
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        conns = {}
        for topic, ns, msg, msgtype in sorted(messages, key=lambda m: m[1]):
            if topic not in conns:
                conns[topic] = writer.add_connection(topic, msgtype, typestore=store)
            writer.write(conns[topic], ns, store.serialize_cdr(msg, msgtype))


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_rosbag2_import(tmp_path, storage):
    bag = tmp_path / 'bag'
    _write_bag(bag, storage, gap_after=25)
    config = BagConfig(image_topic='/cam', imu_topic='/imu', command_topic='/cmd',
                       image_hw=(6, 10), max_angular_z=2.0, min_episode_steps=10)
    assert import_bag(bag, tmp_path / 'demos', config) == 2  # the 2 s gap splits the bag
    meta = read_manifest(tmp_path / 'demos')
    assert [e.steps for e in meta.episodes] == [25, 15]
    data = SequenceDataset([tmp_path / 'demos'], seq_len=15)
    first = data.episodes[0]
    np.testing.assert_allclose(first.elapsed, 0.05, rtol=1e-4)
    # Each frame is labelled with the command that answered it: angular.z = 0.02 k -> /2.0.
    np.testing.assert_allclose(first.actions[:, 0], 0.01 * np.arange(25), atol=1e-6)
    assert first.images[3, 0, 0, 2] == 3 and first.images[3, 0, 0, 0] == 0  # bgr8 -> RGB
    assert first.imu[0, 2] == pytest.approx(9.81)


def test_rosbag2_wrong_topic_names_the_topics(tmp_path):
    bag = tmp_path / 'bag'
    _write_bag(bag, 'mcap', frames=12)
    with pytest.raises(DatasetError, match=r"topics \['/camera/image_raw'\] not in the bag"):
        import_bag(bag, tmp_path / 'demos', BagConfig(imu_topic='/imu', command_topic='/cmd'))
    with pytest.raises(ValueError, match='BagConfig.imu_topic'):
        BagConfig(imu_topic='imu')


def test_train_from_a_bag_through_the_cli(tmp_path):
    """The user path: ``lnn-control train CONFIG --bag BAG --image-topic ...`` with no sim."""
    from lnn_control.cli import main
    import yaml

    bag = tmp_path / 'bag'
    _write_bag(bag, 'mcap', frames=40)
    config = tmp_path / 'bag.yaml'
    config.write_text(yaml.safe_dump({
        'name': 'from_bag', 'policy': {'image_hw': [40, 48]},
        'data': {'episodes': 0}, 'dagger': {'rounds': 0},
        'train': {'seq_len': 16, 'batch_size': 2, 'epochs': 1, 'steps_per_epoch': 2,
                  'val_fraction': 0.0}}))
    code = main(['train', str(config), '--out', str(tmp_path / 'run'), '--bag', str(bag),
                 '--image-topic', '/cam', '--imu-topic', '/imu', '--command-topic', '/cmd',
                 '--max-angular-z', '2.0', '--no-progress', '--threads', '1'])
    assert code == 0
    meta = read_manifest(tmp_path / 'run' / 'bags')
    assert meta.image_hw == (40, 48) and meta.source.startswith('rosbag2:')
    assert (tmp_path / 'run' / 'policy.pt').is_file()
