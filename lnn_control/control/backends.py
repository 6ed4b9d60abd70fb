"""What executes a policy tick for ``PolicyRunner``: eager PyTorch or ONNX Runtime.

Both take NumPy in and give NumPy out, with the recurrent state as a float32 (1, S) array, so
the runner does not care which one it holds. ONNX Runtime runs the exported ``PolicyTick`` graph
several times faster than eager PyTorch at batch 1 (see ``bench/``); it is built from the loaded
policy at start-up (well under a second) and checked against PyTorch on one tick before use.
"""
from __future__ import annotations

import importlib.util
from typing import Any, Protocol

import numpy as np

#: Backend names a runner accepts; ``auto`` picks ONNX Runtime when it is installed.
BACKENDS = ('auto', 'onnxruntime', 'torch')
#: ONNX Runtime execution providers by their short names.
PROVIDERS = {'cpu': 'CPUExecutionProvider', 'cuda': 'CUDAExecutionProvider',
             'tensorrt': 'TensorrtExecutionProvider'}
#: Largest difference from PyTorch tolerated in the start-up check of an ONNX backend.
PARITY_TOLERANCE = 1e-4


class BackendError(RuntimeError):
    """A backend cannot be built; the message says which and why."""


class Backend(Protocol):
    """One policy tick on NumPy arrays, batch 1."""

    name: str

    def initial_state(self) -> np.ndarray: ...

    def step(self, image: np.ndarray, vector: np.ndarray, elapsed_s: float,
             state: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class TorchBackend:
    """Eager ``Policy.step`` under ``torch.inference_mode``."""

    name = 'torch'

    def __init__(self, policy: Any) -> None:
        import torch  # here, so that configs can name the backends without loading torch

        self._torch = torch
        self.policy = policy.eval()
        self.state_size = int(policy.state_size)

    def initial_state(self) -> np.ndarray:
        return np.zeros((1, self.state_size), np.float32)

    def step(self, image: np.ndarray, vector: np.ndarray, elapsed_s: float,
             state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            action, state = self.policy.step(
                torch.from_numpy(image).unsqueeze(0), torch.from_numpy(vector).unsqueeze(0),
                torch.tensor([elapsed_s], dtype=torch.float32), torch.from_numpy(state))
        return action[0].numpy(), state.numpy()


class OnnxBackend:
    """The exported tick in an ONNX Runtime session.

    Args:
        policy: The loaded policy, exported here.
        threads: Intra-op threads (1 keeps latency steady on small CPUs).
        provider: A key of ``PROVIDERS``.
    """

    name = 'onnxruntime'

    def __init__(self, policy: Any, *, threads: int = 1, provider: str = 'cpu') -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise BackendError('onnxruntime is not installed (pip install onnxruntime)') from exc
        if provider not in PROVIDERS:
            raise BackendError(f'unknown provider {provider!r}; known: {sorted(PROVIDERS)}')
        available = onnxruntime.get_available_providers()
        if PROVIDERS[provider] not in available:
            raise BackendError(f'provider {provider!r} ({PROVIDERS[provider]}) is not available '
                               f'here; this onnxruntime has {available}')
        from lnn_control.export.onnx_policy import onnx_bytes

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are about graph rewrites
        try:
            model = onnx_bytes(policy)
            self.session = onnxruntime.InferenceSession(
                model, options,
                providers=list(dict.fromkeys([PROVIDERS[provider], 'CPUExecutionProvider'])))
        except Exception as exc:  # export or session errors come in many types
            raise BackendError(f'cannot build the ONNX Runtime session: {exc}') from exc
        self.provider = provider
        self.state_size = int(policy.state_size)
        self._elapsed = np.zeros(1, np.float32)
        # Discrete-time cores ignore the elapsed time, and the exporter drops unused inputs.
        self._uses_elapsed = 'elapsed' in {i.name for i in self.session.get_inputs()}

    def initial_state(self) -> np.ndarray:
        return np.zeros((1, self.state_size), np.float32)

    def step(self, image: np.ndarray, vector: np.ndarray, elapsed_s: float,
             state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feed = {'image': image[np.newaxis], 'imu': vector[np.newaxis], 'state': state}
        if self._uses_elapsed:
            self._elapsed[0] = elapsed_s
            feed['elapsed'] = self._elapsed
        action, state = self.session.run(None, feed)
        return action[0], state


def onnxruntime_installed() -> bool:
    """Whether ``onnxruntime`` can be imported (without importing it)."""
    return importlib.util.find_spec('onnxruntime') is not None


def make_backend(policy: Any, name: str = 'auto', *, threads: int = 1,
                 provider: str = 'cpu') -> tuple[Backend, str]:
    """Build the backend ``name``; return it and a note on the choice (for the log).

    ``auto`` takes ONNX Runtime when it is installed and passes the parity check, else PyTorch,
    and says why in the note. An explicit ``onnxruntime`` that cannot be built is an error.

    Raises:
        BackendError: Unknown name, or an explicit ``onnxruntime`` that fails.
    """
    if name not in BACKENDS:
        raise BackendError(f'backend must be one of {BACKENDS}, got {name!r}')
    if name == 'torch':
        return TorchBackend(policy), 'torch (as configured)'
    if name == 'auto' and not onnxruntime_installed():
        return TorchBackend(policy), 'torch (onnxruntime is not installed)'
    try:
        backend = OnnxBackend(policy, threads=threads, provider=provider)
        check_parity(backend, TorchBackend(policy), policy)
    except BackendError as exc:
        if name == 'onnxruntime':
            raise
        return TorchBackend(policy), f'torch (onnxruntime unusable: {exc})'
    return backend, f'onnxruntime ({provider})'


def check_parity(candidate: Backend, reference: Backend, policy: Any) -> None:
    """Step both backends twice on a fixed input; raise ``BackendError`` if they differ."""
    config = policy.config
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*config.image_hw, 3), dtype=np.uint8)
    vector = np.asarray(config.normalization.imu_mean, np.float32)
    state_a, state_b = candidate.initial_state(), reference.initial_state()
    for _ in range(2):
        a, state_a = candidate.step(image, vector, 0.05, state_a)
        b, state_b = reference.step(image, vector, 0.05, state_b)
        gap = float(max(np.abs(a - b).max(initial=0.0),
                        np.abs(state_a - state_b).max(initial=0.0)))
        if not gap <= PARITY_TOLERANCE:
            raise BackendError(f'{candidate.name} differs from torch by {gap:.2e} '
                               f'(> {PARITY_TOLERANCE:g}) on a test tick')
