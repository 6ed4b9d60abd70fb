"""Checkpoints: exact round-trip, atomic writes, and clear errors for every kind of bad file."""
import os
import zipfile

from lnn_control.models.checkpoint import (
    CheckpointError,
    FORMAT,
    FORMAT_VERSION,
    load_checkpoint,
    save_checkpoint,
)
from lnn_control.models.policy import Normalization, Policy, PolicyConfig
import numpy as np
import pytest
import torch


@pytest.fixture
def policy():
    torch.manual_seed(0)
    config = PolicyConfig.for_vehicle('quad', core='ncp_ltc', normalization=Normalization(
        imu_mean=(0.0, 0.1, 9.7, 0.0, 0.0, 0.0), imu_std=(3.0,) * 6))
    return Policy(config)


@pytest.fixture
def saved(policy, tmp_path):
    return save_checkpoint(tmp_path / 'runs' / 'quad.pt', policy,
                           metadata={'run': 'r1', 'val_mse': 0.02, 'epochs': [1, 2]})


def test_round_trip_restores_config_weights_normalisation_and_metadata(policy, saved):
    loaded, metadata = load_checkpoint(saved, expect_vehicle='quad')
    assert metadata == {'run': 'r1', 'val_mse': 0.02, 'epochs': [1, 2]}
    assert loaded.config == policy.config
    assert loaded.config.normalization.imu_std == (3.0,) * 6
    assert not loaded.training
    for name, value in policy.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name


def test_file_holds_plain_data_only(saved):
    payload = torch.load(saved, weights_only=True)
    assert payload['format'] == FORMAT and payload['format_version'] == FORMAT_VERSION
    assert payload['config']['core_options']['wiring']['kind'] == 'NCP'


def test_write_is_atomic_and_leaves_no_temporary_files(policy, saved):
    before = saved.read_bytes()
    with pytest.raises(CheckpointError, match='metadata.bad'):
        save_checkpoint(saved, policy, metadata={'bad': object()})
    assert saved.read_bytes() == before
    save_checkpoint(saved, policy, metadata={'run': 'r2'})
    assert load_checkpoint(saved)[1] == {'run': 'r2'}
    assert os.listdir(saved.parent) == [saved.name]


def test_missing_file(tmp_path):
    path = tmp_path / 'nope.pt'
    with pytest.raises(CheckpointError, match='no such file') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


ADVICE = 're-export the policy from its training run, or download it again'


def _refused(path, problem):
    """Load ``path``; check the error names the file, the problem and the advice, in our words."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message == f'checkpoint {path}: {problem}; {ADVICE}'
    assert 'weights_only' not in message and info.value.__cause__ is None
    return info.value


def test_random_bytes(tmp_path):
    path = tmp_path / 'random.pt'
    path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8)))
    head = path.read_bytes()[:4]
    _refused(path, 'not a torch file (a checkpoint is the zip archive torch.save writes; this '
                   f'file starts with {head!r})')


def test_truncated_checkpoint(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[:len(data) // 2])
    _refused(saved, f'truncated or damaged: the zip archive has no end ({len(data) // 2} bytes)')


def test_zero_byte_file(saved):
    saved.write_bytes(b'')
    _refused(saved, 'empty file (0 bytes): an interrupted copy or download')


class _Payload:
    """Pickled by reference: a global that ``weights_only=True`` does not allow."""


def test_pickle_with_a_disallowed_global_is_not_loaded(tmp_path):
    path = tmp_path / 'hostile.pt'
    torch.save({'format': FORMAT, 'config': _Payload()}, path)
    _refused(path, f'not a valid {FORMAT} checkpoint: it holds a reference to '
                   f'{__name__}._Payload, not just tensors and plain data, so it was not loaded '
                   '(treat it as untrusted)')


def test_damaged_archive(tmp_path):
    path = tmp_path / 'other.pt'
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('notes.txt', 'not a checkpoint')
    _refused(path, 'damaged: a zip archive that torch cannot read as a checkpoint')


def test_file_of_another_kind(policy, tmp_path):
    path = tmp_path / 'state_dict.pt'
    torch.save(policy.state_dict(), path)
    _refused(path, f'not an {FORMAT} checkpoint (a torch file of another kind)')


def _rewrite(path, **changes):
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)


def test_other_format_version(saved):
    _rewrite(saved, format_version=FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match=f'format version {FORMAT_VERSION + 1}'):
        load_checkpoint(saved)


def test_wrong_vehicle(saved):
    with pytest.raises(CheckpointError, match="for vehicle 'quad', expected 'rover'"):
        load_checkpoint(saved, expect_vehicle='rover')


def test_weights_that_do_not_fit_the_config(saved):
    payload = torch.load(saved, weights_only=True)
    config = dict(payload['config'], core='lstm', core_options={})
    _rewrite(saved, config=config)
    with pytest.raises(CheckpointError, match='weights do not match the config'):
        load_checkpoint(saved)


def test_invalid_config(saved):
    payload = torch.load(saved, weights_only=True)
    _rewrite(saved, config=dict(payload['config'], vehicle='boat'))
    with pytest.raises(CheckpointError, match='invalid config: .*vehicle'):
        load_checkpoint(saved)


def test_missing_entries(saved):
    payload = torch.load(saved, weights_only=True)
    del payload['metadata']
    torch.save(payload, saved)
    with pytest.raises(CheckpointError, match='missing entries'):
        load_checkpoint(saved)
