"""Stateful, batch-1 policy execution: the one runtime every closed loop steps a policy through.

The ROS 2 nodes, HIL, simulation evaluation and DAgger rollouts all hold a ``PolicyRunner``. It
owns the policy's hidden state between ticks, feeds the *measured* elapsed time (a liquid network
integrates over real time, so a late tick must not look like an on-time one), checks the inputs
once, and hands the tick to a backend (``control.backends``: ONNX Runtime or eager PyTorch).
``reset()`` is called when the watchdog recovers.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

from lnn_control.control.backends import Backend, BackendError, make_backend
import numpy as np


class RunnerError(RuntimeError):
    """A policy cannot be loaded or run; the message names the file or the input at fault."""


class Runner(Protocol):
    """What the control loop needs from a policy: an action per tick and a state reset."""

    image_hw: tuple[int, int]
    action_dim: int
    state_inputs: tuple[str, ...]

    def act(self, image: np.ndarray, imu: np.ndarray, elapsed_s: float) -> np.ndarray: ...

    def reset(self) -> None: ...


class PolicyRunner:
    """Runs a ``lnn_control.models.policy.Policy`` one step at a time.

    Args:
        policy: The policy module (put in eval mode here).
        nominal_dt: Elapsed time fed on the first tick after a reset and whenever the measured
            value is not usable (non-finite or not positive), in seconds.
        max_dt: Measured elapsed times are clipped to this, so a long stall does not push the
            ODE far outside what it saw in training.
        backend: ``torch``, ``onnxruntime`` or ``auto`` (see ``control.backends.make_backend``).
        threads: Intra-op threads of the backend.
        provider: ONNX Runtime execution provider (``cpu``, ``cuda``, ``tensorrt``).

    Raises:
        RunnerError: Bad timing arguments, or a backend that cannot be built.
    """

    def __init__(self, policy: Any, *, nominal_dt: float, max_dt: float = 1.0,
                 backend: str = 'torch', threads: int = 1, provider: str = 'cpu') -> None:
        if not (math.isfinite(nominal_dt) and 0 < nominal_dt <= max_dt):
            raise RunnerError(f'PolicyRunner: nominal_dt must be in (0, max_dt={max_dt}], '
                              f'got {nominal_dt!r}')
        self.policy = policy.eval()
        cfg = policy.config
        self.image_hw = (int(cfg.image_hw[0]), int(cfg.image_hw[1]))
        self.action_dim = int(cfg.action_dim)
        self.state_inputs = tuple(cfg.state_inputs)
        self.input_dim = int(cfg.input_dim)  # IMU entries, then the state inputs
        self.vehicle = str(cfg.vehicle)
        self.nominal_dt = float(nominal_dt)
        self.max_dt = float(max_dt)
        self.metadata: dict[str, Any] = {}
        try:
            self.backend: Backend
            self.backend, self.backend_note = make_backend(policy, backend, threads=threads,
                                                           provider=provider)
        except BackendError as exc:
            raise RunnerError(f'PolicyRunner: backend {backend!r}: {exc}') from exc
        self._state = self.backend.initial_state()
        self.reset()

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, expect_vehicle: str | None = None,
                        nominal_dt: float = 0.05, max_dt: float = 1.0, backend: str = 'torch',
                        threads: int = 1, provider: str = 'cpu') -> PolicyRunner:
        """Load a checkpoint written by ``lnn_control.models.checkpoint.save_checkpoint``.

        Raises:
            RunnerError: The file is missing, unreadable, or for another vehicle, or the backend
                cannot be built.
        """
        path = Path(path)
        if not path.is_file():
            raise RunnerError(f'PolicyRunner: checkpoint {str(path)!r} does not exist')
        from lnn_control.models.checkpoint import load_checkpoint

        try:
            policy, metadata = load_checkpoint(path, expect_vehicle=expect_vehicle)
        except Exception as exc:  # CheckpointError, or torch failing on a corrupt file
            raise RunnerError(f'PolicyRunner: cannot load {str(path)!r}: {exc}') from exc
        runner = cls(policy, nominal_dt=nominal_dt, max_dt=max_dt, backend=backend,
                     threads=threads, provider=provider)
        runner.metadata = dict(metadata or {})
        return runner

    def reset(self) -> None:
        """Zero the hidden state; the next tick uses ``nominal_dt``."""
        self._state = self.backend.initial_state()
        self._fresh = True

    def state_vector(self) -> np.ndarray:
        """Return a copy of the hidden state (S,): every neuron's value after the last tick."""
        return self._state.reshape(-1).copy()

    def act(self, image: np.ndarray, imu: np.ndarray, elapsed_s: float) -> np.ndarray:
        """One control step.

        Args:
            image: uint8 (H, W, 3) at ``image_hw`` (see ``control.preprocess``).
            imu: float (6,) ``[ax, ay, az, gx, gy, gz]`` in the body FLU frame, then the
                policy's ``state_inputs`` (``SensorInputs.vector``).
            elapsed_s: Measured seconds since the previous tick.

        Returns:
            float32 (A,) action in the env's units.

        Raises:
            RunnerError: Wrong image shape/dtype or IMU size, or a non-finite IMU value.
        """
        if image.shape != (*self.image_hw, 3) or image.dtype != np.uint8:
            raise RunnerError(f'PolicyRunner: expected a uint8 image {(*self.image_hw, 3)}, '
                              f'got {image.dtype} {image.shape}')
        imu = np.asarray(imu, dtype=np.float32).reshape(-1)
        if imu.shape != (self.input_dim,) or not np.all(np.isfinite(imu)):
            raise RunnerError(f'PolicyRunner: expected {self.input_dim} finite IMU and state '
                              f'values, got {imu.tolist()}')
        dt = elapsed_s if (not self._fresh and math.isfinite(elapsed_s) and elapsed_s > 0) \
            else self.nominal_dt
        self._fresh = False
        action, self._state = self.backend.step(np.ascontiguousarray(image), imu,
                                                min(dt, self.max_dt), self._state)
        return np.asarray(action, np.float32).reshape(-1)
