"""One control tick, free of ROS: inputs -> (watchdog) -> policy -> limits -> command.

The node calls ``tick`` from its fixed-rate timer and publishes the returned command. Whatever
happens inside (stale or malformed input, a policy error, a non-finite output) the tick returns a
command: the vehicle loop never raises. The policy's hidden state is reset whenever driving
resumes after a safe period, because the state integrated before the gap no longer fits.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import time
from typing import Any

from lnn_control.control.inputs import SensorInputs
from lnn_control.control.runner import Runner
from lnn_control.control.timing import LoopStats
import numpy as np


@dataclass(frozen=True)
class TickResult:
    """What one tick decided.

    Attributes:
        command: The vehicle command to publish (RoverCommand or QuadCommand).
        safe: True when ``command`` is the safe command.
        reason: Why it is safe (``''`` when driving).
        image_stamp: Stamp of the camera frame the policy used (NaN when none).
        inference_s: Wall time of the policy step (NaN when not run).
        elapsed_s: Measured time since the previous tick, fed to the policy.
    """

    command: Any
    safe: bool
    reason: str
    image_stamp: float
    inference_s: float
    elapsed_s: float


class ControlLoop:
    """Glue of the pure control core.

    Args:
        inputs: Latest-sample inputs and watchdog.
        runner: The policy (or expert) behind the ``Runner`` interface.
        commander: ``RoverCommander`` or ``QuadCommander``.
        stats: Loop statistics (ticks are timed on the wall clock).
        enabled: Start driving as soon as the inputs are fresh.
    """

    def __init__(self, inputs: SensorInputs, runner: Runner, commander: Any, stats: LoopStats,
                 *, enabled: bool = True) -> None:
        self.inputs = inputs
        self.runner = runner
        self.commander = commander
        self.stats = stats
        self.enabled = enabled
        self._last_now = math.nan
        self._safe_since = math.nan
        self._driving = False
        self.safe_ticks = 0

    def tick(self, now: float, wall: float) -> TickResult:
        """Decide this tick's command at node time ``now`` (wall time ``wall`` for the stats)."""
        self.stats.tick(wall)
        elapsed = now - self._last_now
        self._last_now = now
        status = self.inputs.check(now)
        if not self.enabled:
            return self._safe(now, elapsed, 'disabled')
        if not status.ok:
            return self._safe(now, elapsed, 'stale input: ' + ', '.join(status.stale))
        if not self._driving:
            self.runner.reset()
            self.commander.reset()
        image, stamp = self.inputs.image, self.inputs.image_stamp
        start = time.perf_counter()
        try:
            action = np.asarray(self.runner.act(image, self.inputs.vector(), elapsed),
                                dtype=float)
        except Exception as exc:  # a policy failure must not stop the vehicle loop
            return self._safe(now, elapsed, f'policy error: {exc}')
        inference = time.perf_counter() - start
        if action.shape != (self.commander.action_dim,) or not np.all(np.isfinite(action)):
            return self._safe(now, elapsed, f'policy output not usable: {action.tolist()}')
        dt = elapsed if math.isfinite(elapsed) and elapsed > 0 else self.stats.period
        self._driving = True
        self._safe_since = math.nan
        return TickResult(self.commander.command(action, dt), False, '', stamp, inference,
                          elapsed)

    def safe_command(self, now: float, reason: str) -> TickResult:
        """Return the safe command outside a tick (a node stopping or deactivating)."""
        return self._safe(now, math.nan, reason)

    def _safe(self, now: float, elapsed: float, reason: str) -> TickResult:
        if self._driving or math.isnan(self._safe_since):
            self._safe_since = now
        self._driving = False
        self.safe_ticks += 1
        command = self.commander.safe(now - self._safe_since)
        return TickResult(command, True, reason, math.nan, math.nan, elapsed)
