"""Style gates: ruff, and what ``colcon test`` runs on ROS 2 (ament_flake8, ament_pep257).

The ament linters and the flake8 plugins they use are installed by the set-up (setup.py's
``test`` extra), so these tests run everywhere; only ament_xmllint has no wheel.
"""
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: ament_pep257's own list of docstrings it does not require (its 'ament' convention), with the
#: Google convention we write in (STYLE.md: Args/Returns/Raises/Shape sections), which its
#: default convention would reject as numpy sections without dashed underlines.
PEP257_ARGS = ['--convention', 'google',
               '--add-ignore', 'D100', 'D101', 'D102', 'D103', 'D104', 'D105', 'D106', 'D107']


def test_ruff_passes_on_the_whole_tree():
    ruff = shutil.which('ruff') or str(Path(sys.executable).with_name('ruff'))
    if not Path(ruff).exists():
        pytest.skip('ruff is not installed (pip install ruff)')
    result = subprocess.run([ruff, 'check', '--no-cache', str(ROOT)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.linter
def test_ament_flake8(monkeypatch):
    from ament_flake8.main import main_with_errors

    monkeypatch.chdir(ROOT)
    rc, errors = main_with_errors(argv=[])
    assert rc == 0, f'{len(errors)} flake8 errors:\n' + '\n'.join(errors)


@pytest.mark.linter
def test_ament_pep257(monkeypatch):
    from ament_pep257.main import main

    monkeypatch.chdir(ROOT)
    assert main(argv=[*PEP257_ARGS, '--', '.']) == 0


@pytest.mark.linter
def test_ament_xmllint(monkeypatch):
    main = pytest.importorskip('ament_xmllint.main', reason='ament_xmllint has no PyPI wheel; '
                               'colcon test runs it on a ROS 2 install').main
    monkeypatch.chdir(ROOT)
    assert main(argv=[]) == 0
