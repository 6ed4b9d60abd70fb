"""The package is what a ROS 2 workspace and pip both expect."""
from pathlib import Path
import xml.etree.ElementTree as ET

from lnn_control import cli
from lnn_control.paths import config_path, share_dir, sim_asset_path
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_package_xml_is_format_3_ament_python_with_required_dependencies():
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.get('format') == '3'
    assert root.findtext('name') == 'lnn_control'
    assert root.find('export/build_type').text == 'ament_python'
    exec_deps = {e.text for e in root.findall('exec_depend')}
    assert {'rclpy', 'sensor_msgs', 'geometry_msgs', 'std_msgs', 'diagnostic_msgs',
            'launch', 'launch_ros'} <= exec_deps
    test_deps = {e.text for e in root.findall('test_depend')}
    assert {'ament_flake8', 'ament_pep257', 'ament_xmllint', 'python3-pytest'} <= test_deps


def test_setup_cfg_puts_scripts_where_ros2_run_looks():
    text = (ROOT / 'setup.cfg').read_text()
    assert 'script_dir=$base/lib/lnn_control' in text
    assert 'install_scripts=$base/lib/lnn_control' in text
    assert (ROOT / 'resource' / 'lnn_control').exists()


def test_share_dir_finds_config_and_sim_from_the_checkout():
    assert share_dir() == ROOT
    assert config_path().is_dir() and sim_asset_path().is_dir()


def test_cli_lists_commands_and_rejects_unknown(capsys):
    assert cli.main(['--help']) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out
    assert cli.main(['no-such-command']) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err


@pytest.mark.parametrize('name', sorted(cli.COMMANDS))
def test_every_cli_command_module_exposes_the_contract(name):
    import importlib

    module = importlib.import_module(cli.COMMANDS[name][0])
    assert callable(module.add_arguments) and callable(module.run)
