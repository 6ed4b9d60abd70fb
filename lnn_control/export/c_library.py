"""Build an exported C policy with the system's C compiler and step it through ctypes.

``lnn-control export --format c`` uses this to check the C against PyTorch before it reports
success, and the tests and the bench use it to step the C as a C caller would.
"""
from __future__ import annotations

import ctypes
from pathlib import Path
import shutil
import subprocess

from lnn_control.export.c_policy import CExport, ExportError
import numpy as np

#: What the exported C must build with, warning-free.
FLAGS = ('-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-pedantic')


def compiler() -> str | None:
    """Return the path of ``cc``, or None where there is no C compiler."""
    return shutil.which('cc')


def build_library(export: CExport, folder: Path | None = None,
                  flags: tuple[str, ...] = FLAGS) -> Path:
    """Compile ``export`` into ``lib<name>.so`` in ``folder`` (default: by its source).

    Raises:
        ExportError: No C compiler, or the source does not build (with the compiler's output).
    """
    cc = compiler()
    if cc is None:
        raise ExportError('no C compiler: `cc` is not on PATH')
    library = (folder or export.source.parent) / f'lib{export.source.stem}.so'
    done = subprocess.run([cc, *flags, '-shared', '-fPIC', str(export.source), '-o',
                           str(library), '-lm'], capture_output=True, text=True)
    if done.returncode != 0:
        raise ExportError(f'cc failed on {export.source}: {done.stderr.strip()}')
    return library


class CPolicy:
    """A compiled export with its own state: ``step(image, imu, elapsed) -> action``.

    Args:
        library: The ``lib<name>.so`` from ``build_library``.
        name: The export's C prefix.
        input_dim: IMU and state inputs the policy takes.
        state_size: Size of its recurrent state.
        action_dim: Actions it returns.
    """

    def __init__(self, library: Path, name: str, *, input_dim: int, state_size: int,
                 action_dim: int) -> None:
        self.lib = ctypes.CDLL(str(library))
        pointer = ctypes.c_void_p
        self.step_fn = getattr(self.lib, f'{name}_step')
        self.step_fn.argtypes = [pointer, pointer, ctypes.c_float, pointer, pointer]
        self.step_ws_fn = getattr(self.lib, f'{name}_step_ws')
        self.step_ws_fn.argtypes = [pointer, *self.step_fn.argtypes]
        self.reset_fn = getattr(self.lib, f'{name}_reset')
        self.reset_fn.argtypes = [pointer]
        self.input_dim = input_dim
        self.state = np.full(state_size, np.nan, np.float32)  # reset must clear it
        self.reset()
        self.action = np.zeros(action_dim, np.float32)

    @classmethod
    def build(cls, export: CExport, policy: object, folder: Path | None = None) -> CPolicy:
        """Compile ``export`` of ``policy`` (into ``folder``, default by its source); load it."""
        return cls(build_library(export, folder), export.source.stem,
                   input_dim=policy.config.input_dim, state_size=policy.state_size,
                   action_dim=policy.config.action_dim)

    def reset(self) -> None:
        """Zero the state through the C's own ``<name>_reset``."""
        self.reset_fn(self.state.ctypes.data)

    def step(self, image: np.ndarray, imu: np.ndarray, elapsed: float,
             workspace: np.ndarray | None = None) -> np.ndarray:
        """One tick through ``_step``, or ``_step_ws`` with ``workspace``; returns the action."""
        image = np.ascontiguousarray(image, np.uint8)
        imu = np.ascontiguousarray(imu, np.float32)
        args = (image.ctypes.data, imu.ctypes.data if self.input_dim else None,
                ctypes.c_float(elapsed), self.state.ctypes.data, self.action.ctypes.data)
        if workspace is None:
            self.step_fn(*args)
        else:
            self.step_ws_fn(workspace.ctypes.data, *args)
        return self.action.copy()
