"""Style gates: ruff on the whole tree, and ament's linters where a ROS 2 install has them."""
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes_on_the_whole_tree():
    ruff = shutil.which('ruff') or str(Path(sys.executable).with_name('ruff'))
    if not Path(ruff).exists():
        pytest.skip('ruff is not installed (pip install ruff)')
    result = subprocess.run([ruff, 'check', '--no-cache', str(ROOT)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.linter
def test_ament_flake8():
    main = pytest.importorskip('ament_flake8.main').main_with_errors
    rc, errors = main(argv=[])
    assert rc == 0, f'{len(errors)} flake8 errors:\n' + '\n'.join(errors)


@pytest.mark.linter
def test_ament_pep257():
    main = pytest.importorskip('ament_pep257.main').main
    assert main(argv=['.', 'test']) == 0


@pytest.mark.linter
def test_ament_xmllint():
    main = pytest.importorskip('ament_xmllint.main').main
    assert main(argv=[]) == 0
