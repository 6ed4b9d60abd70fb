"""Lay out an ament prefix for this checkout, so ``ros2 launch`` and ``ros2 run`` find lnn_control.

``colcon build`` does this on a ROS 2 install; a pip or editable install does not (PEP 660
editable installs skip ``data_files``). What ``ros2 launch PKG FILE`` and ``ros2 run PKG EXE``
look for under each prefix of ``AMENT_PREFIX_PATH``:

* ``share/ament_index/resource_index/packages/lnn_control``: an empty marker;
* ``share/lnn_control/``: package.xml, launch/, config/, sim/ (files linked one by one, as
  ``colcon build --symlink-install`` does: ``ros2 launch`` does not walk into a linked folder);
* ``lib/lnn_control/``: the executables (links to the console scripts of the venv).

Usage::

    python scripts/ament_prefix.py PREFIX [--bin VENV_BIN]
    AMENT_PREFIX_PATH=PREFIX ros2 launch lnn_control sim_drive.launch.py
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

PACKAGE = 'lnn_control'
ROOT = Path(__file__).resolve().parent.parent
EXECUTABLES = ('drive_node', 'flight_node', 'sim_bridge_node')
SHARED = ('package.xml', 'launch', 'config', 'sim')


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def make_prefix(prefix: Path, bin_dir: Path) -> Path:
    """Create (or refresh) the prefix; return it.

    Raises:
        FileNotFoundError: A console script is missing from ``bin_dir`` (not installed).
    """
    prefix = prefix.resolve()
    for exe in EXECUTABLES:
        if not (bin_dir / exe).is_file():
            raise FileNotFoundError(f'{bin_dir / exe} not found: install the package first '
                                    '(pip install -e .)')
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / PACKAGE
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    share = prefix / 'share' / PACKAGE
    for name in SHARED:
        source = ROOT / name
        files = [source] if source.is_file() else sorted(
            p for p in source.rglob('*') if p.is_file() and '__pycache__' not in p.parts)
        for path in files:
            _link(path, share / path.relative_to(ROOT))
    for exe in EXECUTABLES:
        _link((bin_dir / exe).resolve(), prefix / 'lib' / PACKAGE / exe)
    return prefix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('prefix', type=Path)
    parser.add_argument('--bin', type=Path, default=Path(sys.executable).parent,
                        help="folder with the console scripts (default: this Python's)")
    args = parser.parse_args(argv)
    try:
        prefix = make_prefix(args.prefix, args.bin)
    except FileNotFoundError as exc:
        print(f'ament_prefix: error: {exc}', file=sys.stderr)
        return 1
    print(f'ament prefix for {PACKAGE}: {prefix} (AMENT_PREFIX_PATH={prefix})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
