"""Find the package data (config/, sim/) from a source checkout, pip or colcon install."""
from __future__ import annotations

from functools import lru_cache
import os
from pathlib import Path
import sys

PACKAGE = 'lnn_control'


@lru_cache(maxsize=1)
def share_dir() -> Path:
    """Root that holds ``config/`` and ``sim/``.

    Order: ``$LNN_CONTROL_SHARE``, the source checkout next to this package, the ament index
    (colcon install), then ``<prefix>/share/lnn_control`` (pip install).
    """
    override = os.environ.get('LNN_CONTROL_SHARE')
    if override:
        return Path(override)
    source_root = Path(__file__).resolve().parent.parent
    if (source_root / 'config').is_dir() and (source_root / 'sim').is_dir():
        return source_root
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE))
    except Exception:  # not a colcon install, or ament_index missing: fall through to pip layout
        pass
    for prefix in (sys.prefix, sys.base_prefix):
        candidate = Path(prefix) / 'share' / PACKAGE
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f'{PACKAGE}: cannot find the package data (config/, sim/). Set LNN_CONTROL_SHARE to the '
        'folder that holds them.')


def config_path(*parts: str) -> Path:
    """Path under the installed ``config/`` folder."""
    return share_dir().joinpath('config', *parts)


def sim_asset_path(*parts: str) -> Path:
    """Path under the installed ``sim/`` folder (MJCF assets, scenario YAML)."""
    return share_dir().joinpath('sim', *parts)
