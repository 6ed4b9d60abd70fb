"""``lnn-control demo`` runs end to end and prints the wiring and the fit."""
from lnn_control import cli
import torch


def test_demo_prints_wiring_and_fit(capsys):
    threads = torch.get_num_threads()
    try:
        assert cli.main(['demo', '--iterations', '3', '--ticks', '2']) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert 'sensory->inter        192 synapses' in out
    assert 'after 3 iterations' in out and 'test MSE' in out
    assert len(out.split('output\n')[1].strip().splitlines()) == 2
