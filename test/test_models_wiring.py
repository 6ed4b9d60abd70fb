"""Wirings: preset sizes, determinism per seed, exact config round-trip, graph export."""
from lnn_control.models.wiring import (
    AutoNCP,
    drone_ncp,
    FullyConnected,
    NCP,
    Random,
    rover_ncp,
    Wiring,
    wiring_from_dict,
)
import numpy as np
import pytest

ALL_WIRINGS = [
    lambda: FullyConnected(7, 2, input_dim=5),
    lambda: FullyConnected(4, self_connections=False, seed=3, input_dim=2),
    lambda: Random(9, 3, sparsity=0.6, seed=5, input_dim=4),
    lambda: NCP(5, 4, 2, sensory_fanout=3, inter_fanout=2, recurrent_command_synapses=3,
                motor_fanin=2, seed=9, input_dim=6),
    lambda: AutoNCP(16, 3, sparsity=0.4, seed=1, input_dim=10),
    rover_ncp,
    drone_ncp,
]


def test_rover_preset_matches_the_lane_keeping_network():
    wiring = rover_ncp()
    assert [len(r) for r in wiring.layers] == [12, 6, 1]
    assert wiring.input_dim == 32 and wiring.units == 19 and wiring.output_dim == 1
    counts = wiring.synapses_per_layer()
    assert counts['sensory->inter'] == 32 * 6
    assert counts['inter->command'] == 12 * 4
    assert 1 <= counts['command->command'] <= 6
    assert counts['command->motor'] == 6
    assert set(counts) == {'sensory->inter', 'inter->command', 'command->command',
                           'command->motor'}
    total = wiring.synapse_count + wiring.sensory_synapse_count
    assert 240 <= total <= 252


def test_drone_preset_has_four_motor_neurons():
    wiring = drone_ncp()
    assert wiring.units == 19 and wiring.output_dim == 4
    assert [len(r) for r in wiring.layers] == [11, 4, 4]
    assert wiring.synapses_per_layer()['sensory->inter'] == 32 * 4
    # every motor neuron listens to command neurons only
    motor = wiring.layers[2]
    sources = np.nonzero(wiring.adjacency[:, motor.start:motor.stop].any(1))[0]
    assert set(sources) <= set(wiring.layers[1])


@pytest.mark.parametrize('make', ALL_WIRINGS)
def test_same_seed_gives_same_graph_and_config_round_trips_exactly(make):
    first, second = make(), make()
    np.testing.assert_array_equal(first.adjacency, second.adjacency)
    np.testing.assert_array_equal(first.sensory_adjacency, second.sensory_adjacency)
    rebuilt = wiring_from_dict(first.to_dict())
    assert type(rebuilt) is type(first)
    assert rebuilt.to_dict() == first.to_dict()
    np.testing.assert_array_equal(rebuilt.adjacency, first.adjacency)
    np.testing.assert_array_equal(rebuilt.sensory_adjacency, first.sensory_adjacency)
    assert set(np.unique(first.adjacency)) <= {-1, 0, 1}
    assert set(np.unique(first.sensory_adjacency)) <= {-1, 0, 1}


def test_unbuilt_wiring_round_trips_and_builds_later():
    wiring = NCP(6, 4, 1, 3, 2, 2, 2, seed=4)
    rebuilt = wiring_from_dict(wiring.to_dict())
    assert rebuilt.input_dim is None and not rebuilt.is_built()
    wiring.build(8)
    rebuilt.build(8)
    np.testing.assert_array_equal(wiring.adjacency, rebuilt.adjacency)


def test_other_seed_gives_another_graph():
    assert not np.array_equal(rover_ncp(seed=1).sensory_adjacency,
                              rover_ncp(seed=2).sensory_adjacency)


def test_ncp_only_wires_between_consecutive_layers_and_command_recurrence():
    wiring = rover_ncp(seed=7)
    inter, command, motor = wiring.layers
    allowed = np.zeros_like(wiring.adjacency, dtype=bool)
    allowed[inter.start:inter.stop, command.start:command.stop] = True
    allowed[command.start:command.stop, command.start:command.stop] = True
    allowed[command.start:command.stop, motor.start:motor.stop] = True
    assert not wiring.adjacency[~allowed].any()
    assert not wiring.sensory_adjacency[:, command.start:].any()
    # every inter and command neuron is reachable
    assert wiring.sensory_adjacency[:, inter.start:inter.stop].any(0).all()
    assert wiring.adjacency[:, command.start:command.stop].any(0).all()


def test_graph_export_lists_every_synapse_with_its_polarity():
    wiring = drone_ncp()
    graph = wiring.graph()
    assert len(graph['nodes']) == 32 + 19
    assert len(graph['edges']) == wiring.synapse_count + wiring.sensory_synapse_count
    edge = next(e for e in graph['edges'] if e['src'].startswith('n'))
    src, dest = int(edge['src'][1:]), int(edge['dest'][1:])
    assert edge['polarity'] == wiring.adjacency[src, dest] != 0


def test_draw_wiring_returns_axes():
    matplotlib = pytest.importorskip('matplotlib')
    matplotlib.use('Agg')
    from lnn_control.models.wiring import draw_wiring

    ax = draw_wiring(rover_ncp())
    assert len(ax.get_xticks()) == 4


@pytest.mark.parametrize('kwargs, field', [
    ({'sensory_fanout': 13}, 'sensory_fanout'),
    ({'inter_fanout': 7}, 'inter_fanout'),
    ({'motor_fanin': 0}, 'motor_fanin'),
    ({'inter': 0}, 'inter'),
])
def test_bad_ncp_arguments_name_the_field(kwargs, field):
    args = {'inter': 12, 'command': 6, 'motor': 1, 'sensory_fanout': 6, 'inter_fanout': 4,
            'recurrent_command_synapses': 6, 'motor_fanin': 6, **kwargs}
    with pytest.raises(ValueError, match=field):
        NCP(**args)


def test_rebuild_with_other_input_size_is_refused():
    with pytest.raises(ValueError, match='input_dim=32'):
        rover_ncp().build(16)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match='kind'):
        wiring_from_dict({'kind': 'Spiral', 'units': 3})


def test_summary_names_every_layer():
    text = rover_ncp().summary()
    for word in ('inter', 'command', 'motor', 'sensory->inter', 'total'):
        assert word in text
    assert isinstance(rover_ncp(), Wiring)
