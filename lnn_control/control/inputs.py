"""Latest-sample sensor inputs with validation, feeding the watchdog.

The node hands every incoming message's raw fields to ``SensorInputs``; it keeps only the latest
*valid* sample per input: camera, IMU, and the state estimate when the policy takes one
(latest-sample semantics: the control tick never queues). A malformed sample (unsupported
encoding, wrong size, non-finite value, a bad stamp) is dropped and *invalidates* that input, so
the next tick sends the safe command at once instead of acting on stale data until the timeout.

Every input's stamp goes through the same rules, in this order (``_check_stamp``):

- a stamp that is not finite, or more than ``future_tolerance_s`` ahead of the node's clock, is
  rejected (accepting it would make every later sample look out of order);
- a stamp older than the previous accepted one is rejected as out of order, unless the clock
  jumped: when the node's clock now reads earlier than when the previous sample arrived (a
  simulator restart under ``/clock``), or when the input has had no accepted sample for longer
  than its watchdog timeout (a sender whose clock jumped back, a looping bag), the sample is
  accepted and becomes the new anchor. Re-anchors are counted and announced once each;
- a stamp equal to the previous one carries no new data: the sample is ignored (not an error)
  and does not feed the watchdog, so a driver that repeats its last frame goes stale on time.

The stamp is checked before the payload, and the payload's header before its data, so a
rejection costs a few comparisons whatever the message holds.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import math

from lnn_control.control.preprocess import preprocess
from lnn_control.control.watchdog import Watchdog, WatchdogStatus
from lnn_control.models.state_inputs import check_state_inputs, input_vector
import numpy as np

CAMERA = 'camera'
IMU = 'imu'
STATE = 'state'

#: Input -> (attribute of its latest value, attribute of that value's stamp).
_SLOTS: dict[str, tuple[str, str]] = {CAMERA: ('image', 'image_stamp'),
                                      IMU: ('imu', 'imu_stamp'),
                                      STATE: ('state_values', 'state_stamp')}


class SensorInputs:
    """The latest camera frame (preprocessed), IMU vector and state estimate, and their watchdog.

    Args:
        image_hw: The policy's input size (frames are resized to it on arrival).
        camera_timeout_s: Stale-camera timeout.
        imu_timeout_s: Stale-IMU timeout.
        extra_timeouts: More watched inputs (e.g. ``ground_truth`` in expert mode).
        state_inputs: The policy's state inputs (``models.state_inputs``); when given, the
            state estimate is a watched input too.
        state_timeout_s: Stale-state timeout.
        future_tolerance_s: How far a stamp may be ahead of the node's clock (clock offset
            between sender and node), seconds; positive and finite.
        on_reanchor: Called with a one-line message (e.g. ``'camera: node clock jumped back
            12.3 s: re-anchored at stamp 0.020000 s'``) each time an input re-anchors.

    Attributes:
        rejected: Samples rejected so far (malformed, non-finite, bad stamp).
        reanchors: Times an input accepted an older stamp after a clock jump.
        last_reanchor: The latest re-anchor's message (``''`` before any).
        repeated: Samples ignored because they repeat the previous sample's stamp.
    """

    def __init__(self, image_hw: tuple[int, int], camera_timeout_s: float,
                 imu_timeout_s: float, extra_timeouts: Mapping[str, float] | None = None, *,
                 state_inputs: Sequence[str] = (), state_timeout_s: float = 0.2,
                 future_tolerance_s: float = 0.5,
                 on_reanchor: Callable[[str], object] | None = None) -> None:
        if isinstance(future_tolerance_s, bool) or not isinstance(future_tolerance_s,
                                                                  (int, float)) \
                or not math.isfinite(future_tolerance_s) or future_tolerance_s <= 0:
            raise ValueError('SensorInputs: future_tolerance_s must be a positive finite number '
                             f'of seconds, got {future_tolerance_s!r}')
        self.image_hw = image_hw
        self.state_inputs = check_state_inputs(state_inputs, 'SensorInputs')
        self.future_tolerance_s = float(future_tolerance_s)
        self.on_reanchor = on_reanchor
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
        self.reanchors = 0
        self.last_reanchor = ''
        self.repeated = 0
        self._arrived = dict.fromkeys(_SLOTS, math.nan)  # node time of the last accepted sample

    def on_image(self, buffer: bytes | bytearray | memoryview | np.ndarray, encoding: str,
                 height: int, width: int, step: int, stamp_s: float, now: float) -> str | None:
        """Take a camera frame; return ``None``, or the reason it was rejected."""
        return self._take(CAMERA, stamp_s, now, lambda: preprocess(
            buffer, encoding, height, width, step, self.image_hw))

    def on_imu(self, values: np.ndarray, stamp_s: float, now: float) -> str | None:
        """Take ``[ax, ay, az, gx, gy, gz]``; return ``None``, or the reason it was rejected."""
        return self._take(IMU, stamp_s, now, lambda: _imu_vector(values))

    def on_state(self, values: Mapping[str, float], stamp_s: float, now: float) -> str | None:
        """Take a state estimate (name -> value); return ``None``, or why it was rejected."""
        return self._take(STATE, stamp_s, now, lambda: input_vector(
            np.zeros(0, np.float32), values, self.state_inputs))

    @property
    def state(self) -> dict[str, float]:
        """The latest valid state estimate, by name (empty before the first one)."""
        return dict(zip(self.state_inputs, self.state_values.tolist(), strict=False))

    def vector(self) -> np.ndarray:
        """Return the policy's ``imu`` input: the latest IMU entries, then the state inputs.

        Both are validated on arrival; the watchdog keeps ticks safe until each has come.
        """
        if self.imu is None:
            raise ValueError('SensorInputs: no IMU sample yet')
        return np.concatenate([self.imu, self.state_values])

    def on_extra(self, name: str, value: object, now: float) -> None:
        """Take a sample of another watched input (already validated by the caller)."""
        self.extra[name] = value
        self.watchdog.feed(name, now)

    def check(self, now: float) -> WatchdogStatus:
        return self.watchdog.check(now)

    # ----------------------------------------------------------------- one rule for all
    def _take(self, name: str, stamp_s: float, now: float,
              decode: Callable[[], np.ndarray]) -> str | None:
        """Check the stamp, then decode the payload; keep it and feed the watchdog if valid."""
        value_attr, stamp_attr = _SLOTS[name]
        previous = getattr(self, stamp_attr)
        reason, reanchor = self._check_stamp(name, stamp_s, previous, now)
        if reason is not None:
            return self._reject(name, reason)
        if stamp_s == previous:
            self.repeated += 1
            return None
        try:
            value = decode()
        except (ValueError, TypeError) as exc:  # PreprocessError is a ValueError
            return self._reject(name, str(exc))
        setattr(self, value_attr, value)
        setattr(self, stamp_attr, stamp_s)
        self._arrived[name] = now
        self.watchdog.feed(name, now)
        if reanchor:
            self.reanchors += 1
            self.last_reanchor = reanchor
            if self.on_reanchor is not None:
                self.on_reanchor(reanchor)
        return None

    def _check_stamp(self, name: str, stamp_s: float, previous: float,
                     now: float) -> tuple[str | None, str]:
        """Return (why the stamp is rejected or ``None``, the re-anchor message or ``''``)."""
        if not math.isfinite(stamp_s):
            return f'stamp {stamp_s} s is not finite', ''
        ahead = stamp_s - now
        if ahead > self.future_tolerance_s:
            return (f'stamp {stamp_s:.6f} s is {ahead:.3f} s ahead of the node clock '
                    f'({now:.6f} s; tolerance {self.future_tolerance_s:g} s)'), ''
        if not stamp_s < previous:  # the first sample, a newer one, or a repeat
            return None, ''
        arrived = self._arrived[name]
        if now < arrived:
            return None, (f'{name}: node clock jumped back {arrived - now:.3g} s: re-anchored '
                          f'at stamp {stamp_s:.6f} s')
        silent = now - arrived
        if silent > self.watchdog.timeouts[name]:
            return None, (f'{name}: sender clock jumped back {previous - stamp_s:.3g} s after '
                          f'{silent:.3g} s without a valid sample: re-anchored at stamp '
                          f'{stamp_s:.6f} s')
        return (f'stamp {stamp_s:.6f} s is older than the previous sample '
                f'({previous:.6f} s)'), ''

    def _reject(self, name: str, reason: str) -> str:
        self.watchdog.invalidate(name)
        self.rejected += 1
        return f'{name} sample rejected: {reason}'


def _imu_vector(values: np.ndarray) -> np.ndarray:
    """``values`` as 6 float32 numbers, checked finite after the cast (1e308 becomes inf)."""
    try:
        with np.errstate(over='ignore', invalid='ignore'):
            vector = np.asarray(values, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f'expected 6 numeric IMU values, got a non-numeric '
                         f'{type(values).__name__}') from None
    if vector.shape != (6,):
        raise ValueError(f'expected 6 IMU values, got {vector.size}')
    if not np.all(np.isfinite(vector)):
        raise ValueError(f'expected 6 values finite as float32, got '
                         f'{np.asarray(values).reshape(-1).tolist()}')
    return vector
