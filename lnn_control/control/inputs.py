"""Latest-sample sensor inputs with validation, feeding the watchdog.

The node hands every incoming message's raw fields to ``SensorInputs``; it keeps only the latest
*valid* sample per input: camera, IMU, and the state estimate when the policy takes one
(latest-sample semantics: the control tick never queues). A malformed sample (unsupported
encoding, wrong size, non-finite value, a stamp older than the previous sample's) is dropped
and *invalidates* that input, so the next tick sends the safe command at once instead of acting
on stale data until the timeout.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
import math

from lnn_control.control.preprocess import preprocess, PreprocessError
from lnn_control.control.watchdog import Watchdog, WatchdogStatus
from lnn_control.models.state_inputs import check_state_inputs, input_vector
import numpy as np

CAMERA = 'camera'
IMU = 'imu'
STATE = 'state'


class SensorInputs:
    """Holds the latest camera frame (preprocessed), IMU vector and state estimate, and their
    watchdog.

    Args:
        image_hw: The policy's input size (frames are resized to it on arrival).
        camera_timeout_s: Stale-camera timeout.
        imu_timeout_s: Stale-IMU timeout.
        extra_timeouts: More watched inputs (e.g. ``ground_truth`` in expert mode).
        state_inputs: The policy's state inputs (``models.state_inputs``); when given, the
            state estimate is a watched input too.
        state_timeout_s: Stale-state timeout.
    """

    def __init__(self, image_hw: tuple[int, int], camera_timeout_s: float,
                 imu_timeout_s: float, extra_timeouts: Mapping[str, float] | None = None, *,
                 state_inputs: Sequence[str] = (), state_timeout_s: float = 0.2) -> None:
        self.image_hw = image_hw
        self.state_inputs = check_state_inputs(state_inputs, 'SensorInputs')
        watched = {CAMERA: camera_timeout_s, IMU: imu_timeout_s, **(extra_timeouts or {})}
        if self.state_inputs:
            watched[STATE] = state_timeout_s
        self.watchdog = Watchdog(watched)
        self.image: np.ndarray | None = None
        self.image_stamp = math.nan
        self.imu: np.ndarray | None = None
        self.imu_stamp = math.nan
        self.state_values = np.zeros(0, np.float32)  # validated, in ``state_inputs`` order
        self.state_stamp = math.nan
        self.extra: dict[str, object] = {}
        self.rejected = 0

    def _reject(self, name: str, reason: str) -> str:
        self.watchdog.invalidate(name)
        self.rejected += 1
        return f'{name} sample rejected: {reason}'

    def on_image(self, buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str,
                 height: int, width: int, step: int, stamp_s: float, now: float) -> str | None:
        """Take a camera frame; return ``None``, or the reason it was rejected."""
        if not math.isfinite(stamp_s) or stamp_s < self.image_stamp:
            return self._reject(CAMERA, f'stamp {stamp_s:.6f} s is older than the previous '
                                        f'frame ({self.image_stamp:.6f} s)')
        try:
            image = preprocess(buffer, encoding, height, width, step, self.image_hw)
        except PreprocessError as exc:
            return self._reject(CAMERA, str(exc))
        self.image, self.image_stamp = image, stamp_s
        self.watchdog.feed(CAMERA, now)
        return None

    def on_imu(self, values: np.ndarray, stamp_s: float, now: float) -> str | None:
        """Take ``[ax, ay, az, gx, gy, gz]``; return ``None``, or the reason it was rejected."""
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if values.shape != (6,) or not np.all(np.isfinite(values)):
            return self._reject(IMU, f'expected 6 finite values, got {values.tolist()}')
        if not math.isfinite(stamp_s) or stamp_s < self.imu_stamp:
            return self._reject(IMU, f'stamp {stamp_s:.6f} s is older than the previous '
                                     f'sample ({self.imu_stamp:.6f} s)')
        self.imu, self.imu_stamp = values, stamp_s
        self.watchdog.feed(IMU, now)
        return None

    def on_state(self, values: Mapping[str, float], stamp_s: float, now: float) -> str | None:
        """Take a state estimate (name -> value); return ``None``, or why it was rejected."""
        try:
            state_values = input_vector(np.zeros(0), values, self.state_inputs)
        except ValueError as exc:
            return self._reject(STATE, str(exc))
        if not math.isfinite(stamp_s) or stamp_s < self.state_stamp:
            return self._reject(STATE, f'stamp {stamp_s:.6f} s is older than the previous '
                                       f'estimate ({self.state_stamp:.6f} s)')
        self.state_values, self.state_stamp = state_values, stamp_s
        self.watchdog.feed(STATE, now)
        return None

    @property
    def state(self) -> dict[str, float]:
        """The latest valid state estimate, by name (empty before the first one)."""
        return dict(zip(self.state_inputs, self.state_values.tolist(), strict=False))

    def vector(self) -> np.ndarray:
        """The policy's ``imu`` input: the latest IMU entries, then the state inputs (both
        validated on arrival; the watchdog keeps ticks safe until each has come)."""
        if self.imu is None:
            raise ValueError('SensorInputs: no IMU sample yet')
        return np.concatenate([self.imu, self.state_values])

    def on_extra(self, name: str, value: object, now: float) -> None:
        """Take a sample of another watched input (already validated by the caller)."""
        self.extra[name] = value
        self.watchdog.feed(name, now)

    def check(self, now: float) -> WatchdogStatus:
        return self.watchdog.check(now)
