"""The launch files, loaded by the real ROS 2 launch system and resolved with their defaults.

Every node they start is one of our console scripts, its parameter file exists and has a
section for it, the declared arguments are the documented ones, and the node set matches the
one ``lnn-control launch`` starts in-process. Running them for real: test_ros2_launch.py.
"""
import ast
import os
from pathlib import Path

from conftest import requires_ros2_launch
from lnn_control.nodes.launcher import LAUNCH_SETS
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
pytestmark = requires_ros2_launch


def console_scripts() -> set[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == 'console_scripts':
                    return {ast.literal_eval(e).split('=')[0].strip() for e in value.elts}
    raise AssertionError('setup.py declares no console_scripts')


def walk(entities):
    """Yield every entity, descending into groups."""
    for entity in entities:
        yield entity
        yield from walk(entity.get_sub_entities())


def resolve(path, ament_prefix, monkeypatch, **arguments):
    """Return the launch context (defaults applied) and the entities of a launch file."""
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    from launch.launch_description_sources import get_launch_description_from_python_launch_file

    monkeypatch.setenv('AMENT_PREFIX_PATH', str(ament_prefix))
    description = get_launch_description_from_python_launch_file(str(path))
    context = LaunchContext()
    entities = list(walk(description.entities))
    declared = [e for e in entities if isinstance(e, DeclareLaunchArgument)]
    for argument in declared:
        context.launch_configurations[argument.name] = arguments.get(
            argument.name, ''.join(s.perform(context) for s in argument.default_value))
    return context, entities, {a.name for a in declared}


def params_file(node, context):
    """Return the ``--params-file`` a launch_ros Node passes in its own ROS arguments."""
    from launch.substitutions import LocalSubstitution
    from launch.utilities import perform_substitutions

    # Node name and namespace rules are filled in at execution (local substitutions): skip them.
    cmd = [perform_substitutions(context, part) for part in node.cmd
           if not any(isinstance(s, LocalSubstitution) for s in part)]
    return Path(cmd[cmd.index('--params-file') + 1])


def test_all_four_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} == {f'{n}.launch.py' for n in LAUNCH_SETS}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_names_real_executables_and_configs(path, ament_prefix, monkeypatch):
    from launch_ros.actions import Node

    context, entities, declared = resolve(path, ament_prefix, monkeypatch)
    expected = {'namespace', 'use_sim_time', 'config', 'checkpoint'}
    if path.name.startswith('sim_'):
        expected |= {'scenario', 'bridge_config'}
    assert declared == expected
    # Left at their defaults, the overriding arguments are empty: the YAML files decide.
    assert all(context.launch_configurations[a] == ''
               for a in expected - {'namespace', 'config', 'bridge_config'})
    launched = []
    for node in (e for e in entities if isinstance(e, Node)):
        assert node.node_package == 'lnn_control'
        assert node.node_executable in console_scripts()
        yaml_file = params_file(node, context)
        assert yaml_file.is_file(), f'{yaml_file} does not exist'
        assert os.path.realpath(yaml_file).startswith(str(ROOT / 'config'))
        sections = yaml.safe_load(yaml_file.read_text())
        # Our nodes are named like their executables (the name is resolved only at execution).
        assert any(key.split('/')[-1] == node.node_executable for key in sections), \
            f'{yaml_file.name} has no section for {node.node_executable}'
        launched.append((node.node_executable, yaml_file.name))
    in_process = [(s.name, s.config_file) for s in LAUNCH_SETS[path.name.split('.')[0]]]
    assert launched == in_process


def test_a_wrong_executable_is_caught(tmp_path, ament_prefix, monkeypatch):
    from launch_ros.actions import Node

    bad = tmp_path / 'bad.launch.py'
    bad.write_text((ROOT / 'launch' / 'drive.launch.py').read_text()
                   .replace("executable='drive_node'", "executable='drive_nod'"))
    _, entities, _ = resolve(bad, ament_prefix, monkeypatch)
    (node,) = [e for e in entities if isinstance(e, Node)]
    assert node.node_executable not in console_scripts()
