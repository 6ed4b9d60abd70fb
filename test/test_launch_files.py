"""Launch files load (against stub launch/launch_ros modules) and name only real things.

``launch`` and ``launch_ros`` are not installable here, so minimal stand-ins that record what the
launch file builds are injected in ``sys.modules``. The checks: every executable is a console
script of setup.py, every parameter file exists and has a section for the node that loads it,
the declared arguments are the documented ones, and the node set matches what
``lnn-control launch`` starts in-process.
"""
import ast
import importlib.util
from pathlib import Path
import sys
import types

from lnn_control.nodes.launcher import LAUNCH_SETS
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))


class Recorded:
    """Any launch object: remembers its constructor arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs


class LaunchConfiguration(Recorded):
    @property
    def name(self):
        return self.args[0]


def stub_modules(share: Path) -> dict[str, types.ModuleType]:
    mods = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros', 'launch_ros.actions',
        'launch_ros.parameter_descriptions', 'ament_index_python',
        'ament_index_python.packages')}
    mods['launch'].LaunchDescription = type('LaunchDescription', (Recorded,), {})
    mods['launch.actions'].DeclareLaunchArgument = type('DeclareLaunchArgument', (Recorded,), {})
    mods['launch.substitutions'].LaunchConfiguration = LaunchConfiguration
    mods['launch_ros.actions'].Node = type('Node', (Recorded,), {})
    mods['launch_ros.parameter_descriptions'].ParameterValue = type('ParameterValue',
                                                                    (Recorded,), {})

    def get_package_share_directory(package):
        assert package == 'lnn_control'
        return str(share)

    mods['ament_index_python.packages'].get_package_share_directory = get_package_share_directory
    return mods


def console_scripts() -> set[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == 'console_scripts':
                    return {ast.literal_eval(e).split('=')[0].strip() for e in value.elts}
    raise AssertionError('setup.py declares no console_scripts')


def load(path: Path, monkeypatch):
    for name, module in stub_modules(ROOT).items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def entities(description, kind):
    return [e for e in description.args[0] if type(e).__name__ == kind]


def resolve(value, defaults):
    return defaults[value.name] if isinstance(value, LaunchConfiguration) else value


def test_all_four_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} == {f'{n}.launch.py' for n in LAUNCH_SETS}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_names_real_executables_and_configs(path, monkeypatch):
    description = load(path, monkeypatch)
    declared = {a.args[0]: a.kwargs['default_value'] for a in
                entities(description, 'DeclareLaunchArgument')}
    expected = {'namespace', 'use_sim_time', 'config', 'checkpoint'}
    if path.name.startswith('sim_'):
        expected |= {'scenario', 'bridge_config'}
    assert set(declared) == expected
    assert declared['use_sim_time'] == 'false'
    assert Path(declared['checkpoint']).parent == ROOT / 'config' / 'policies'

    scripts = console_scripts()
    nodes = entities(description, 'Node')
    launched = []
    for node in nodes:
        kw = node.kwargs
        assert kw['package'] == 'lnn_control'
        assert kw['executable'] in scripts, f'{kw["executable"]} is not a console script'
        assert kw['namespace'].name == 'namespace'
        param_file = Path(resolve(kw['parameters'][0], declared))
        assert param_file.is_file(), f'{param_file} does not exist'
        sections = yaml.safe_load(param_file.read_text())
        assert any(key.split('/')[-1] == kw['name'] for key in sections), \
            f'{param_file.name} has no section for {kw["name"]}'
        launched.append((kw['executable'], param_file.name))
    in_process = [(s.name, s.config_file) for s in LAUNCH_SETS[path.name.split('.')[0]]]
    assert launched == in_process


def test_stub_catches_a_wrong_executable(monkeypatch, tmp_path):
    bad = tmp_path / 'bad.launch.py'
    bad.write_text((ROOT / 'launch' / 'drive.launch.py').read_text()
                   .replace("executable='drive_node'", "executable='drive_nod'"))
    description = load(bad, monkeypatch)
    node = entities(description, 'Node')[0]
    assert node.kwargs['executable'] not in console_scripts()
